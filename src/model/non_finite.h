// Finding NaN and Inf in stored weights: one such value silently turns every output into NaN, so
// the loader refuses the tensor that holds it, by name.
#pragma once
#include <cstdint>

#include "slimformer/tensor.h"

namespace slimformer::model {

// Index of the first NaN or Inf in `t` (F32, F16 or BF16), or -1 when every value is finite or the
// dtype is not floating. Reads exponent bits only, in one pass, unaligned data included.
int64_t first_non_finite(const Tensor& t);

}  // namespace slimformer::model
