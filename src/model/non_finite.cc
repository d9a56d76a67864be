#include "model/non_finite.h"

#include <algorithm>
#include <cstring>

namespace slimformer::model {
namespace {

// A value is NaN or Inf exactly when its exponent bits are all ones. Blocks are scanned without
// branches (so the loop vectorizes); only a block that has one is searched for its index.
template <class Bits>
int64_t scan(const void* data, int64_t n, Bits exponent) {
  constexpr int64_t kBlock = 4096;
  const auto* bytes = static_cast<const unsigned char*>(data);
  for (int64_t start = 0; start < n; start += kBlock) {
    const int64_t end = std::min(n, start + kBlock);
    bool any = false;
    for (int64_t i = start; i < end; ++i) {
      Bits v;
      std::memcpy(&v, bytes + i * sizeof(Bits), sizeof(Bits));   // mmapped tensors may be unaligned
      any |= (v & exponent) == exponent;
    }
    if (!any) continue;
    for (int64_t i = start; i < end; ++i) {
      Bits v;
      std::memcpy(&v, bytes + i * sizeof(Bits), sizeof(Bits));
      if ((v & exponent) == exponent) return i;
    }
  }
  return -1;
}

}  // namespace

int64_t first_non_finite(const Tensor& t) {
  switch (t.dtype()) {
    case DType::F32: return scan<uint32_t>(t.raw(), t.numel(), 0x7f800000u);
    case DType::F16: return scan<uint16_t>(t.raw(), t.numel(), static_cast<uint16_t>(0x7c00u));
    case DType::BF16: return scan<uint16_t>(t.raw(), t.numel(), static_cast<uint16_t>(0x7f80u));
    default: return -1;
  }
}

}  // namespace slimformer::model
