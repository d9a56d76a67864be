// CPU feature detection and the SLIMFORMER_ISA override (isa.h).
#include "kernels/cpu/isa.h"

#include <dnnl.h>

#include <cstdlib>
#include <string>

#include "slimformer/error.h"

namespace slimformer::kernels {
namespace {

constexpr Isa kLadder[] = {Isa::Portable, Isa::Avx2, Isa::Avx512, Isa::Avx512Vnni, Isa::Avx512Bf16};

Isa detect() {
  __builtin_cpu_init();
  if (!(__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))) return Isa::Portable;
  if (!(__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
        __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq")))
    return Isa::Avx2;
  if (!__builtin_cpu_supports("avx512vnni")) return Isa::Avx512;
  if (!__builtin_cpu_supports("avx512bf16")) return Isa::Avx512Vnni;
  return Isa::Avx512Bf16;
}

std::string ladder_names(Isa up_to) {
  std::string s;
  for (Isa i : kLadder) {
    if (static_cast<int>(i) > static_cast<int>(up_to)) break;
    s += (s.empty() ? "" : ", ") + std::string(isa_name(i));
  }
  return s;
}

// oneDNN's nearest level at or below `isa`. The status is ignored on purpose: oneDNN refuses
// the call once it has dispatched (it then keeps what it chose), and builds without
// DNNL_ENABLE_MAX_CPU_ISA refuse it always; neither is an error of the caller's.
void cap_onednn(Isa isa) {
  dnnl_cpu_isa_t cap = dnnl_cpu_isa_all;
  switch (isa) {
    case Isa::Portable: cap = dnnl_cpu_isa_sse41; break;
    case Isa::Avx2: cap = dnnl_cpu_isa_avx2; break;
    case Isa::Avx512: cap = dnnl_cpu_isa_avx512_core; break;
    case Isa::Avx512Vnni: cap = dnnl_cpu_isa_avx512_core_vnni; break;
    case Isa::Avx512Bf16: cap = dnnl_cpu_isa_avx512_core_bf16; break;
  }
  (void)dnnl_set_max_cpu_isa(cap);
}

// The environment's choice, checked once, with oneDNN capped to match.
Isa from_environment() {
  const char* env = std::getenv("SLIMFORMER_ISA");
  const Isa isa = isa_override(env == nullptr ? std::string() : std::string(env));
  cap_onednn(isa);
  return isa;
}

int g_scoped = -1;   // a ScopedIsa's target, or -1

}  // namespace

const char* isa_name(Isa isa) {
  switch (isa) {
    case Isa::Portable: return "portable";
    case Isa::Avx2: return "avx2";
    case Isa::Avx512: return "avx512";
    case Isa::Avx512Vnni: return "avx512-vnni";
    case Isa::Avx512Bf16: return "avx512-bf16";
  }
  return "?";
}

Isa isa_from_name(const std::string& name) {
  for (Isa i : kLadder)
    if (name == isa_name(i)) return i;
  throw InputError("SLIMFORMER_ISA='" + name + "' is not a known target (expected one of: " +
                   ladder_names(Isa::Avx512Bf16) + ")");
}

Isa isa_override(const std::string& value) {
  if (value.empty()) return cpu_isa();
  const Isa isa = isa_from_name(value);
  if (static_cast<int>(isa) > static_cast<int>(cpu_isa()))
    throw InputError("SLIMFORMER_ISA=" + value + " asks for more than this CPU runs (available: " +
                     ladder_names(cpu_isa()) + ")");
  return isa;
}

Isa cpu_isa() {
  static const Isa isa = detect();
  return isa;
}

std::vector<Isa> available_isas() {
  std::vector<Isa> v;
  for (Isa i : kLadder)
    if (static_cast<int>(i) <= static_cast<int>(cpu_isa())) v.push_back(i);
  return v;
}

Isa active_isa() {
  // Read before the ScopedIsa check, so the environment is validated and oneDNN capped even
  // when the first caller runs under a ScopedIsa.
  static const Isa isa = from_environment();
  if (g_scoped >= 0) return static_cast<Isa>(g_scoped);
  return isa;
}

ScopedIsa::ScopedIsa(Isa isa) : previous_(g_scoped) {
  (void)active_isa();   // oneDNN is capped from the environment, never from a scope
  if (static_cast<int>(isa) > static_cast<int>(cpu_isa()))
    throw InputError(std::string("ScopedIsa: this CPU does not run ") + isa_name(isa));
  g_scoped = static_cast<int>(isa);
}

ScopedIsa::~ScopedIsa() { g_scoped = previous_; }

}  // namespace slimformer::kernels
