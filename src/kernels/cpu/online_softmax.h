// The online softmax step of one score row (FlashAttention's running maximum and sum), shared by
// the kernels that see a row's scores a chunk at a time.
#pragma once
#include <cstdint>

namespace slimformer::kernels {

// s (cnt) holds a chunk of one row's scores, -inf where an entry does not count. With m and l
// the row's running maximum and sum so far (-inf and 0 before the first chunk):
//   m' = max(m, max_j s[j]); s[j] = exp(s[j] - m'); l = exp(m - m') l + sum_j s[j]; m = m'
// and returns exp(m - m'), the factor the row's accumulated output must be scaled by. While
// nothing counts yet (m' = -inf) s becomes zeros and 1 is returned. The best of AVX-512, AVX2 and
// portable that isa.h allows.
float online_softmax_step(float* s, int64_t cnt, float& m, float& l);

namespace ref {
float online_softmax_step(float* s, int64_t cnt, float& m, float& l);   // portable loops
}

}  // namespace slimformer::kernels
