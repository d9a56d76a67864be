// Sparse storage of a 2-D tensor in safetensors (docs/formats.md, "Sparse weights"): a bitmask
// of its nonzero entries and the nonzeros in row-major order, under `<name>.mask` and
// `<name>.values`, with "sparse N,K" recorded in the file's metadata under `<name>`. Readers see
// the dense tensor; only the file is smaller.
#pragma once
#include <cstdint>
#include <string>

#include "slimformer/tensor.h"

namespace slimformer::io {

inline constexpr const char* kSparseMaskSuffix = ".mask";
inline constexpr const char* kSparseValuesSuffix = ".values";

// The metadata value for an (N,K) sparse tensor: "sparse N,K".
std::string sparse_marker(int64_t N, int64_t K);
// Whether `value` marks a sparse tensor (starts with "sparse "); when it does, its N and K, or
// false with *error set when they are malformed.
bool is_sparse_marker(const std::string& value);
bool parse_sparse_marker(const std::string& value, int64_t* N, int64_t* K, std::string* error);

// Exact zeros of t (+0 and -0 for floats, 0 for integers); t of any dtype.
int64_t count_zeros(const Tensor& t);

struct SparseParts {
  Tensor mask;     // U8 [ceil(N*K/8)]
  Tensor values;   // t's dtype [nonzeros]
};
// dense (N,K) of F32, F16, BF16 or I8 -> its parts (zeros, -0 included, left out).
SparseParts sparse_encode(const Tensor& dense);
// The parts' problem, or "" when they form a valid (N,K) tensor: the mask's dtype and size,
// padding bits, the values' dtype and count against the mask's set bits.
std::string sparse_parts_problem(const Tensor& mask, const Tensor& values, int64_t N, int64_t K);
// parts (already checked) -> the dense (N,K) tensor in the values' dtype.
Tensor sparse_decode(const Tensor& mask, const Tensor& values, int64_t N, int64_t K);

}  // namespace slimformer::io
