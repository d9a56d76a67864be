// Bitmask + packed-values storage of sparse tensors; works on raw element bytes so F32, F16,
// BF16 and I8 share one implementation.
#include "io/sparse_tensors.h"

#include <algorithm>
#include <bit>
#include <cstring>
#include <limits>

#include "io/json_text.h"
#include "slimformer/error.h"

namespace slimformer::io {
namespace {

bool storable(DType d) { return d == DType::F32 || d == DType::F16 || d == DType::BF16 || d == DType::I8; }

// Whether the float or int8 element at p (of `size` bytes) is zero: floats ignore the sign bit.
bool is_zero(const unsigned char* p, size_t size) {
  if (size == 4) {
    uint32_t v;
    std::memcpy(&v, p, 4);
    return (v & 0x7fffffffu) == 0;
  }
  if (size == 2) {
    uint16_t v;
    std::memcpy(&v, p, 2);
    return (v & 0x7fffu) == 0;
  }
  return *p == 0;
}

}  // namespace

std::string sparse_marker(int64_t N, int64_t K) { return "sparse " + std::to_string(N) + "," + std::to_string(K); }

bool is_sparse_marker(const std::string& value) { return value.rfind("sparse ", 0) == 0; }

bool parse_sparse_marker(const std::string& value, int64_t* N, int64_t* K, std::string* error) {
  if (!is_sparse_marker(value)) return false;
  const std::string dims = value.substr(7);
  const size_t comma = dims.find(',');
  auto number = [](const std::string& s, int64_t* out) {
    if (s.empty() || s.size() > 12 || s.find_first_not_of("0123456789") != std::string::npos) return false;
    *out = std::stoll(s);
    return true;
  };
  if (comma == std::string::npos || !number(dims.substr(0, comma), N) || !number(dims.substr(comma + 1), K)) {
    *error = "'" + text_excerpt(value, 64) + "' must be 'sparse N,K' with N and K whole numbers";
    return false;
  }
  if (*N > 0 && *K > std::numeric_limits<int64_t>::max() / 8 / *N) {
    *error = "'" + value + "' is too large";
    return false;
  }
  return true;
}

int64_t count_zeros(const Tensor& t) {
  const size_t size = dtype_size(t.dtype());
  const auto* p = static_cast<const unsigned char*>(t.raw());
  const bool floating = t.dtype() == DType::F32 || t.dtype() == DType::F16 || t.dtype() == DType::BF16;
  int64_t zeros = 0;
  for (int64_t i = 0; i < t.numel(); ++i) {
    const unsigned char* e = p + i * size;
    if (floating) zeros += is_zero(e, size);
    else zeros += std::all_of(e, e + size, [](unsigned char b) { return b == 0; });
  }
  return zeros;
}

SparseParts sparse_encode(const Tensor& dense) {
  if (dense.shape().size() != 2 || !storable(dense.dtype())) {
    throw InputError(std::string("sparse_encode: expected a 2-D F32, F16, BF16 or I8 tensor, got ") +
                     dtype_name(dense.dtype()) + " " + shape_str(dense.shape()));
  }
  const int64_t n = dense.numel();
  const size_t size = dtype_size(dense.dtype());
  const int64_t nonzeros = n - count_zeros(dense);
  SparseParts parts{Tensor::zeros({(n + 7) / 8}, DType::U8), Tensor::empty({nonzeros}, dense.dtype())};
  auto* mask = parts.mask.data<uint8_t>();
  auto* out = static_cast<unsigned char*>(parts.values.raw());
  const auto* in = static_cast<const unsigned char*>(dense.raw());
  for (int64_t i = 0; i < n; ++i) {
    const unsigned char* e = in + i * size;
    if (is_zero(e, size)) continue;
    mask[i / 8] = static_cast<uint8_t>(mask[i / 8] | (1u << (i % 8)));
    std::memcpy(out, e, size);
    out += size;
  }
  return parts;
}

std::string sparse_parts_problem(const Tensor& mask, const Tensor& values, int64_t N, int64_t K) {
  const int64_t n = N * K, bytes = (n + 7) / 8;
  if (mask.dtype() != DType::U8 || mask.shape() != Shape{bytes}) {
    return "mask must be U8 [" + std::to_string(bytes) + "] for " + std::to_string(N) + "x" + std::to_string(K) +
           " entries, got " + dtype_name(mask.dtype()) + " " + shape_str(mask.shape());
  }
  if (!storable(values.dtype()) || values.shape().size() != 1) {
    return std::string("values must be a 1-D F32, F16, BF16 or I8 tensor, got ") + dtype_name(values.dtype()) + " " +
           shape_str(values.shape());
  }
  const auto* m = mask.data<uint8_t>();
  int64_t set = 0;
  for (int64_t i = 0; i < bytes; ++i) set += std::popcount(static_cast<unsigned>(m[i]));
  if (n % 8 != 0 && (m[bytes - 1] >> (n % 8)) != 0) return "mask has bits set past its " + std::to_string(n) + " entries";
  if (set != values.numel()) {
    return "mask marks " + std::to_string(set) + " nonzeros but " + std::to_string(values.numel()) + " values are stored";
  }
  return "";
}

Tensor sparse_decode(const Tensor& mask, const Tensor& values, int64_t N, int64_t K) {
  Tensor dense = Tensor::zeros({N, K}, values.dtype());
  const size_t size = dtype_size(values.dtype());
  const auto* m = mask.data<uint8_t>();
  const auto* in = static_cast<const unsigned char*>(values.raw());
  auto* out = static_cast<unsigned char*>(dense.raw());
  const int64_t n = N * K;
  for (int64_t byte = 0; byte * 8 < n; ++byte) {
    for (unsigned bits = m[byte]; bits != 0; bits &= bits - 1) {
      const int64_t i = byte * 8 + std::countr_zero(bits);
      std::memcpy(out + i * size, in, size);
      in += size;
    }
  }
  return dense;
}

}  // namespace slimformer::io
