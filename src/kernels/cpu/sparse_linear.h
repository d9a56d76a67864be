// Linear layers with unstructured-sparse weights (magnitude pruning leaves 50-95% zeros at
// random positions). docs/sparse.md has the layout and the measurements behind it.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "kernels/cpu/gemm.h"

namespace slimformer::kernels {

// The storage form of an (N,K) weight: which entries are nonzero and their values.
// mask: ceil(N*K/8) bytes; entry i = n*K + k (row-major) is nonzero when bit i%8 (LSB first) of
// byte i/8 is set; bits past N*K are zero. values: the nonzeros in row-major order.
struct SparseEncoding {
  std::vector<uint8_t> mask;
  std::vector<float> values;
};

// weight (N,K) -> its encoding (exact zeros, -0.0 included, are left out).
SparseEncoding encode_sparse(const float* w, int64_t N, int64_t K);
// encoding -> w (N,K), zeros filled in. The encoding must pass check_sparse_encoding.
void decode_sparse(float* w, const SparseEncoding& enc, int64_t N, int64_t K);
// InputError naming `what` when the mask is not ceil(N*K/8) bytes, its padding bits are set, or
// it marks a different number of nonzeros than values holds.
void check_sparse_encoding(const SparseEncoding& enc, int64_t N, int64_t K, const std::string& what);

// out (M,N) = epilogue(in (M,K) . W^T + bias) for a sparse W, stored as compressed rows (values
// and column indices per output feature). Copyable (copies share the immutable weight); forward
// may be called from several threads at once.
class SparseLinear {
 public:
  SparseLinear();
  // weight (N,K) dense row-major as nn.Linear stores it; its zeros are dropped. bias (N) or null.
  // Both are copied. InputError if N or K is negative or weight is null for a non-empty layer.
  SparseLinear(const float* weight, const float* bias, int64_t N, int64_t K,
               Epilogue epilogue = Epilogue::None);
  // From the storage form (checked with check_sparse_encoding).
  static SparseLinear from_encoding(const SparseEncoding& enc, const float* bias, int64_t N,
                                    int64_t K, Epilogue epilogue = Epilogue::None);

  // Same contract as PackedLinear::forward: out (M,N) = epilogue(in (M,K) . W^T + bias), plus
  // the previous contents of out when accumulate is true. in and out must not overlap.
  void forward(float* out, const float* in, int64_t M, bool accumulate = false) const;

  bool empty() const { return impl_ == nullptr; }
  int64_t out_features() const;   // N
  int64_t in_features() const;    // K
  int64_t nonzeros() const;
  size_t bytes() const;           // values + indices + row offsets + bias as held

  struct Impl;

 private:
  std::shared_ptr<const Impl> impl_;
};

}  // namespace slimformer::kernels
