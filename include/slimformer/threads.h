// How many threads the kernels use (OpenMP and the GEMM library together).
#pragma once

namespace slimformer {
void set_num_threads(int n);   // n <= 0: one per available core
int num_threads();
}  // namespace slimformer
