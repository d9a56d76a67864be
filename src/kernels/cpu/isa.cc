// CPU feature detection and the SLIMFORMER_ISA override (isa.h).
#include "kernels/cpu/isa.h"

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

// The environment's choice, checked once: an unknown name or a target the CPU lacks is refused.
Isa from_environment() {
  const char* env = std::getenv("SLIMFORMER_ISA");
  if (env == nullptr || *env == '\0') return cpu_isa();
  for (Isa i : kLadder) {
    if (env == std::string(isa_name(i))) {
      if (static_cast<int>(i) > static_cast<int>(cpu_isa()))
        throw InputError("SLIMFORMER_ISA=" + std::string(env) + " asks for more than this CPU runs (available: " +
                         ladder_names(cpu_isa()) + ")");
      return i;
    }
  }
  throw InputError("SLIMFORMER_ISA='" + std::string(env) + "' is not a known target (expected one of: " +
                   ladder_names(Isa::Avx512Bf16) + ")");
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
  if (g_scoped >= 0) return static_cast<Isa>(g_scoped);
  static const Isa isa = from_environment();
  return isa;
}

ScopedIsa::ScopedIsa(Isa isa) : previous_(g_scoped) {
  if (static_cast<int>(isa) > static_cast<int>(cpu_isa()))
    throw InputError(std::string("ScopedIsa: this CPU does not run ") + isa_name(isa));
  g_scoped = static_cast<int>(isa);
}

ScopedIsa::~ScopedIsa() { g_scoped = previous_; }

}  // namespace slimformer::kernels
