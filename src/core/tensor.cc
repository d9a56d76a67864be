#include "slimformer/tensor.h"

#include <cstring>

#include "slimformer/error.h"
#include "slimformer/memory.h"

namespace slimformer {

size_t dtype_size(DType t) {
  switch (t) {
    case DType::F32: case DType::I32: return 4;
    case DType::F16: case DType::BF16: return 2;
    case DType::I8: case DType::U8: return 1;
    case DType::I64: return 8;
  }
  return 0;
}

const char* dtype_name(DType t) {
  switch (t) {
    case DType::F32: return "F32";
    case DType::F16: return "F16";
    case DType::BF16: return "BF16";
    case DType::I8: return "I8";
    case DType::I32: return "I32";
    case DType::I64: return "I64";
    case DType::U8: return "U8";
  }
  return "?";
}

bool dtype_from_name(const std::string& name, DType* out) {
  static const std::pair<const char*, DType> table[] = {
      {"F32", DType::F32}, {"F16", DType::F16}, {"BF16", DType::BF16},
      {"I8", DType::I8},   {"I32", DType::I32}, {"I64", DType::I64},
      {"U8", DType::U8}};
  for (const auto& [n, t] : table) {
    if (name == n) { *out = t; return true; }
  }
  return false;
}

int64_t shape_numel(const Shape& s) {
  int64_t n = 1;
  for (int64_t d : s) n *= d;
  return n;
}

std::string shape_str(const Shape& s) {
  std::string out = "[";
  for (size_t i = 0; i < s.size(); ++i) {
    if (i) out += ", ";
    out += std::to_string(s[i]);
  }
  return out + "]";
}

namespace {
// Owns one counted allocation; shared by every Tensor viewing it.
struct CountedBuffer {
  CountedBuffer(size_t n) : p(counted_alloc(n)), bytes(n) {}
  CountedBuffer(const CountedBuffer&) = delete;
  CountedBuffer& operator=(const CountedBuffer&) = delete;
  ~CountedBuffer() { counted_free(p, bytes); }
  void* p;
  size_t bytes;
};
}  // namespace

Tensor Tensor::empty(const Shape& shape, DType dtype) {
  for (int64_t d : shape) {
    if (d < 0) throw Error("tensor shape " + shape_str(shape) + " has a negative dimension");
  }
  Tensor t;
  t.dtype_ = dtype;
  t.shape_ = shape;
  const size_t bytes = t.nbytes();
  auto buf = std::make_shared<CountedBuffer>(bytes);
  t.data_ = buf->p;
  t.owner_ = std::move(buf);
  return t;
}

Tensor Tensor::zeros(const Shape& shape, DType dtype) {
  Tensor t = empty(shape, dtype);
  std::memset(t.data_, 0, t.nbytes());
  return t;
}

Tensor Tensor::view(void* data, const Shape& shape, DType dtype, std::shared_ptr<const void> owner) {
  Tensor t;
  t.dtype_ = dtype;
  t.shape_ = shape;
  t.data_ = data;
  t.owner_ = std::move(owner);
  return t;
}

Tensor Tensor::reshaped(const Shape& shape) const {
  if (shape_numel(shape) != numel()) {
    throw Error("cannot reshape " + shape_str(shape_) + " to " + shape_str(shape));
  }
  Tensor t = *this;
  t.shape_ = shape;
  return t;
}

namespace {

// Element i of an array of T that may sit at any address (an mmapped tensor's offset in its
// file need not be aligned), read without an unaligned typed load.
template <typename T>
T load_at(const void* base, int64_t i) {
  T v;
  std::memcpy(&v, static_cast<const unsigned char*>(base) + i * static_cast<int64_t>(sizeof(T)), sizeof(T));
  return v;
}

}  // namespace

Tensor Tensor::to_f32() const {
  Tensor out = empty(shape_, DType::F32);
  float* dst = out.data<float>();
  const int64_t n = numel();
  switch (dtype_) {
    case DType::F32: std::memcpy(dst, data_, n * 4); break;
    case DType::F16: for (int64_t i = 0; i < n; ++i) dst[i] = f16_to_f32(load_at<uint16_t>(data_, i)); break;
    case DType::BF16: for (int64_t i = 0; i < n; ++i) dst[i] = bf16_to_f32(load_at<uint16_t>(data_, i)); break;
    case DType::I8: for (int64_t i = 0; i < n; ++i) dst[i] = load_at<int8_t>(data_, i); break;
    case DType::I32: for (int64_t i = 0; i < n; ++i) dst[i] = static_cast<float>(load_at<int32_t>(data_, i)); break;
    case DType::I64: for (int64_t i = 0; i < n; ++i) dst[i] = static_cast<float>(load_at<int64_t>(data_, i)); break;
    case DType::U8: for (int64_t i = 0; i < n; ++i) dst[i] = load_at<uint8_t>(data_, i); break;
  }
  return out;
}

Tensor Tensor::to_float(DType dtype) const {
  if (dtype == DType::F32) return to_f32();
  if (dtype != DType::F16 && dtype != DType::BF16) {
    throw InputError(std::string("Tensor::to_float: target dtype ") + dtype_name(dtype) + " is not F32, F16 or BF16");
  }
  const Tensor f = to_f32();
  Tensor out = empty(shape_, dtype);
  uint16_t* dst = out.data<uint16_t>();
  const float* src = f.data<float>();
  const int64_t n = numel();
  for (int64_t i = 0; i < n; ++i) dst[i] = dtype == DType::F16 ? f32_to_f16(src[i]) : f32_to_bf16(src[i]);
  return out;
}

float f16_to_f32(uint16_t h) {
  const uint32_t sign = (h & 0x8000u) << 16;
  uint32_t exp = (h >> 10) & 0x1f;
  uint32_t mant = h & 0x3ffu;
  uint32_t bits;
  if (exp == 0) {
    if (mant == 0) {
      bits = sign;
    } else {  // subnormal: renormalise
      exp = 127 - 15 + 1;
      while ((mant & 0x400u) == 0) { mant <<= 1; --exp; }
      mant &= 0x3ffu;
      bits = sign | (exp << 23) | (mant << 13);
    }
  } else if (exp == 0x1f) {
    bits = sign | 0x7f800000u | (mant << 13);
  } else {
    bits = sign | ((exp + 127 - 15) << 23) | (mant << 13);
  }
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

uint16_t f32_to_f16(float f) {
  uint32_t x;
  std::memcpy(&x, &f, 4);
  const uint32_t sign = (x >> 16) & 0x8000u;
  const uint32_t abs = x & 0x7fffffffu;
  if (abs >= 0x7f800000u) return static_cast<uint16_t>(sign | 0x7c00u | (abs > 0x7f800000u ? 0x200u : 0));
  if (abs >= 0x477ff000u) return static_cast<uint16_t>(sign | 0x7c00u);   // overflow -> inf
  if (abs < 0x38800000u) {                                                 // subnormal or zero
    if (abs < 0x33000000u) return static_cast<uint16_t>(sign);
    const uint32_t e = abs >> 23;
    const uint32_t m = (abs & 0x7fffffu) | 0x800000u;
    const uint32_t shift = 126 - e;                                        // 14 + (113 - e)
    uint32_t r = m >> shift;
    const uint32_t rem = m & ((1u << shift) - 1);
    const uint32_t half = 1u << (shift - 1);
    if (rem > half || (rem == half && (r & 1))) ++r;
    return static_cast<uint16_t>(sign | r);
  }
  uint32_t r = abs - 0x38000000u;                                          // rebias 127 -> 15
  const uint32_t rem = r & 0x1fffu;
  r >>= 13;
  if (rem > 0x1000u || (rem == 0x1000u && (r & 1))) ++r;
  return static_cast<uint16_t>(sign | r);
}

float bf16_to_f32(uint16_t h) {
  const uint32_t bits = static_cast<uint32_t>(h) << 16;
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

uint16_t f32_to_bf16(float f) {
  uint32_t x;
  std::memcpy(&x, &f, 4);
  if ((x & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((x >> 16) | 0x40);  // quiet NaN
  x += 0x7fffu + ((x >> 16) & 1);
  return static_cast<uint16_t>(x >> 16);
}

}  // namespace slimformer
