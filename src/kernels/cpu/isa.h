// The one instruction-set dispatch point for own kernels. Targets form a ladder, each implying
// the ones below it on every CPU that has it: portable (baseline x86-64) < avx2 (AVX2 + FMA) <
// avx512 (AVX-512 F/BW/VL/DQ) < avx512-vnni (+ VNNI int8 dot products) < avx512-bf16 (+ BF16
// dot products). A kernel asks isa_at_least(target) and runs the best version it has.
//
// oneDNN (the GEMMs) follows the same choice: the first active_isa() call caps it with
// dnnl_set_max_cpu_isa, and every oneDNN entry point (onednn_engine(), gemm()) calls
// active_isa() first, so the cap lands before oneDNN dispatches anything. oneDNN takes that cap
// once per process: a ScopedIsa lowers the own kernels only, never oneDNN (docs/isa.md).
#pragma once
#include <string>
#include <vector>

namespace slimformer::kernels {

enum class Isa : int { Portable = 0, Avx2 = 1, Avx512 = 2, Avx512Vnni = 3, Avx512Bf16 = 4 };

const char* isa_name(Isa isa);      // "portable", "avx2", "avx512", "avx512-vnni", "avx512-bf16"
// The target a name stands for (isa_name's inverse); InputError naming the known ones otherwise.
Isa isa_from_name(const std::string& name);
Isa cpu_isa();                      // the highest target this CPU runs
// The targets the CPU runs, lowest first (tests run every kernel on each).
std::vector<Isa> available_isas();
// The target kernels use: cpu_isa(), lowered by the SLIMFORMER_ISA environment variable or a
// ScopedIsa. InputError for an unknown name or a target above the CPU's.
Isa active_isa();
// What a SLIMFORMER_ISA value selects: cpu_isa() when empty, else isa_from_name(value), refused
// (InputError) when above cpu_isa(). active_isa() applies it to the environment once.
Isa isa_override(const std::string& value);
inline bool isa_at_least(Isa isa) { return static_cast<int>(active_isa()) >= static_cast<int>(isa); }

// Runs kernels at `isa` while alive (tests). Not for use while kernels run on other threads.
class ScopedIsa {
 public:
  explicit ScopedIsa(Isa isa);
  ~ScopedIsa();
  ScopedIsa(const ScopedIsa&) = delete;
  ScopedIsa& operator=(const ScopedIsa&) = delete;

 private:
  int previous_;
};

}  // namespace slimformer::kernels
