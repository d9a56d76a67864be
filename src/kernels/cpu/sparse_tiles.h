// The inner loops of SparseLinear (sparse_linear.cc): one token tile against a range of
// compressed weight rows. Each nonzero w[n,k] broadcasts once and multiply-adds a whole row of
// the transposed input tile T (K, MB), so a nonzero costs MB/lanes vector FMAs and no gather.
#pragma once
#include <cstdint>

namespace slimformer::kernels::sparse {

// Columns per block: the tile's block of T (kKBlock x MB floats, 16 KiB at MB = 32) stays in L1
// while a chunk of rows runs over it, whatever K is (all of T is 384 KiB at K = 3072).
constexpr int64_t kKBlock = 128;

// Compressed rows, cut into column blocks: the nonzeros of row n in column block b are
// val[seg[n*nkb + b] .. seg[n*nkb + b + 1]) (nkb = ceil(K / kKBlock); a row's blocks are
// consecutive, so this is CSR with extra offsets), at columns col16 (when K <= 65536, two bytes
// an index) or col32.
struct Rows {
  const int64_t* seg = nullptr;
  int64_t nkb = 1;
  const uint16_t* col16 = nullptr;
  const uint32_t* col32 = nullptr;
  const float* val = nullptr;
};

// acc (n1-n0, MB) += W[n0:n1, block b] . T (K, MB); MB is in the name.
using TileFn = void (*)(float* acc, const float* T, const Rows& w, int64_t n0, int64_t n1, int64_t b);
void tile8_portable(float* acc, const float* T, const Rows& w, int64_t n0, int64_t n1, int64_t b);
void tile8_avx2(float* acc, const float* T, const Rows& w, int64_t n0, int64_t n1, int64_t b);
void tile16_avx2(float* acc, const float* T, const Rows& w, int64_t n0, int64_t n1, int64_t b);
void tile16_avx512(float* acc, const float* T, const Rows& w, int64_t n0, int64_t n1, int64_t b);
void tile32_avx512(float* acc, const float* T, const Rows& w, int64_t n0, int64_t n1, int64_t b);

}  // namespace slimformer::kernels::sparse
