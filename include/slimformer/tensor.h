// Tensor: a typed, shaped view of memory. It either borrows memory kept alive by an owner
// (an mmapped safetensors file: weights are never copied at load) or owns a buffer taken from
// the counting allocator (activations), so peak activation memory is known exactly.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace slimformer {

enum class DType { F32, F16, BF16, I8, I32, I64, U8 /* bytes: sparse weights' bitmasks */ };

size_t dtype_size(DType t);
const char* dtype_name(DType t);          // safetensors spelling: "F32", "BF16", ...
bool dtype_from_name(const std::string& name, DType* out);

using Shape = std::vector<int64_t>;
int64_t shape_numel(const Shape& s);
std::string shape_str(const Shape& s);    // "[3, 16, 64]"

class Tensor {
 public:
  Tensor() = default;
  // A fresh buffer from the counting allocator, 64-byte aligned, zero-filled.
  static Tensor zeros(const Shape& shape, DType dtype = DType::F32);
  // Uninitialised buffer from the counting allocator (for outputs that are fully written).
  static Tensor empty(const Shape& shape, DType dtype = DType::F32);
  // A view of memory owned by `owner` (e.g. an mmapped file); nothing is copied.
  static Tensor view(void* data, const Shape& shape, DType dtype, std::shared_ptr<const void> owner);

  DType dtype() const { return dtype_; }
  const Shape& shape() const { return shape_; }
  int64_t dim(int i) const { return shape_.at(i < 0 ? shape_.size() + i : i); }
  int rank() const { return static_cast<int>(shape_.size()); }
  int64_t numel() const { return shape_numel(shape_); }
  size_t nbytes() const { return static_cast<size_t>(numel()) * dtype_size(dtype_); }
  bool defined() const { return data_ != nullptr || (numel() == 0 && !shape_.empty()); }

  void* raw() { return data_; }
  const void* raw() const { return data_; }
  template <class T> T* data() { return static_cast<T*>(data_); }
  template <class T> const T* data() const { return static_cast<const T*>(data_); }

  // Same bytes, another shape with the same element count.
  Tensor reshaped(const Shape& shape) const;
  // A copy converted to F32 (F32, F16, BF16, I8, I32, I64, U8 sources; integers by value), in
  // allocator memory.
  Tensor to_f32() const;
  // A copy in F32, F16 or BF16 (rounded to nearest even) from any floating dtype; InputError for
  // another target.
  Tensor to_float(DType dtype) const;

 private:
  DType dtype_ = DType::F32;
  Shape shape_;
  void* data_ = nullptr;
  std::shared_ptr<const void> owner_;
};

// IEEE half / bfloat16 conversions (round to nearest even on the way down).
float f16_to_f32(uint16_t h);
uint16_t f32_to_f16(float f);
float bf16_to_f32(uint16_t h);
uint16_t f32_to_bf16(float f);

}  // namespace slimformer
