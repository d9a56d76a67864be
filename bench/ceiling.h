// The machine's measured f32 ceiling (see ceiling.cc).
#pragma once

namespace slimbench {

struct Ceiling {
  double clock_ghz = 0;          // from a dependent add chain (1 add per cycle)
  double fma512_gflops[2] = {};  // register-only AVX-512 FMA loop, 1 and 2 threads
  double fma256_gflops[2] = {};  // the same at 256 bits
};

Ceiling measure_ceiling();

}  // namespace slimbench
