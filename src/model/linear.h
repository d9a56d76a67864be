// The Linear layers of the forward, each owning its weights in the form the checkpoint stores
// them. A Linear is built once, at load, from the checkpoint's tensors (several that share an
// input, such as Q, K and V, stacked into one product) and the checkpoint's pages it was built
// from are then no longer read.
#pragma once
#include <string>
#include <vector>

#include "kernels/cpu/bf16_linear.h"
#include "kernels/cpu/gemm.h"
#include "kernels/cpu/int8_linear.h"
#include "kernels/cpu/sparse_linear.h"
#include "slimformer/tensor.h"

namespace slimformer::model {

// One nn.Linear weight (out, in) as stored: F32, F16 or BF16 values, or I8 codes with one f32
// scale per output row.
struct StoredWeight {
  std::string name;   // for messages
  Tensor values;      // (out, in)
  int64_t out = 0, in = 0;
  Tensor scales;      // (out) when values are I8
};

// The share of exact zeros from which an f32 weight runs as SparseLinear: at 128+ tokens the
// sparse kernel overtakes the packed dense one between 70% and 80% zeros, at one token between
// 80% and 90% (docs/sparse.md).
constexpr double kSparseMinZeroFraction = 0.8;

class Linear {
 public:
  // How the layer computes, chosen by build from the stored weights.
  enum class Kind {
    DenseF32,   // F32 (or F16 widened, or a mix of dtypes) through the packed f32 GEMM
    Int8,       // every part I8: int8 weights, activations quantized per row at run time
    Bf16,       // every part BF16: bf16 compute where the CPU has AVX512-BF16, else widened
    Sparse,     // f32 with at least kSparseMinZeroFraction exact zeros
  };

  Linear() = default;
  // parts[i] (out_i, in) stacked along out with biases[i] (out_i) (undefined: no bias; all or
  // none), then `epilogue` (the activation) fused into the product.
  static Linear build(const std::vector<StoredWeight>& parts, const std::vector<Tensor>& biases,
                      kernels::Epilogue epilogue = kernels::Epilogue::None);

  // out (M, out) = epilogue(in (M, in) . W^T + b), plus out's previous contents when accumulate.
  void forward(float* out, const float* in, int64_t M, bool accumulate = false) const;
  bool empty() const { return out_ == 0 && in_ == 0; }
  int64_t out_features() const { return out_; }
  int64_t in_features() const { return in_; }
  size_t bytes() const;   // what the layer holds
  Kind kind() const { return kind_; }
  // "dense f32", "int8", "bf16" (or "bf16 (f32 compute)" without AVX512-BF16), "sparse f32".
  const char* kind_name() const;

 private:
  Kind kind_ = Kind::DenseF32;
  int64_t out_ = 0, in_ = 0;
  kernels::PackedLinear dense_;
  kernels::Int8Linear int8_;
  kernels::Bf16Linear bf16_;
  kernels::SparseLinear sparse_;
};

}  // namespace slimformer::model
