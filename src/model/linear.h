// The Linear layers of the forward, each owning its weights in the form the checkpoint stores
// them. A Linear is built once, at load, from the checkpoint's tensors (several that share an
// input, such as Q, K and V, stacked into one product) and the checkpoint's pages it was built
// from are then no longer read.
#pragma once
#include <string>
#include <vector>

#include "kernels/cpu/gemm.h"
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

class Linear {
 public:
  Linear() = default;
  // parts[i] (out_i, in) stacked along out with biases[i] (out_i) (undefined: no bias; all or
  // none), then `epilogue` (the activation) fused into the product.
  static Linear build(const std::vector<StoredWeight>& parts, const std::vector<Tensor>& biases,
                      kernels::Epilogue epilogue = kernels::Epilogue::None);

  // out (M, out) = epilogue(in (M, in) . W^T + b), plus out's previous contents when accumulate.
  void forward(float* out, const float* in, int64_t M, bool accumulate = false) const {
    dense_.forward(out, in, M, accumulate);
  }
  bool empty() const { return dense_.empty(); }
  int64_t out_features() const { return dense_.out_features(); }
  int64_t in_features() const { return dense_.in_features(); }
  size_t bytes() const { return dense_.packed_bytes(); }   // what the layer holds
  const char* kind() const { return kind_; }

 private:
  kernels::PackedLinear dense_;
  const char* kind_ = "dense f32";
};

}  // namespace slimformer::model
