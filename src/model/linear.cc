// Building a Linear from stored weights: F32 values are packed as they are, F16/BF16 widened to
// f32 first (the packed GEMM is f32).
#include "model/linear.h"

#include <algorithm>

#include "slimformer/error.h"

namespace slimformer::model {
namespace {

// codes (out, in) * scales (out) -> f32 (out, in).
Tensor dequantized(const StoredWeight& p) {
  Tensor f = Tensor::empty({p.out, p.in});
  const int8_t* q = p.values.data<int8_t>();
  const float* s = p.scales.data<float>();
  float* o = f.data<float>();
  for (int64_t r = 0; r < p.out; ++r)
    for (int64_t c = 0; c < p.in; ++c) o[r * p.in + c] = static_cast<float>(q[r * p.in + c]) * s[r];
  return f;
}

}  // namespace

Linear Linear::build(const std::vector<StoredWeight>& parts, const std::vector<Tensor>& biases,
                     kernels::Epilogue epilogue) {
  if (parts.empty()) throw ModelError("Linear::build: no weights");
  std::vector<Tensor> f32;   // keeps widened copies alive until packed
  std::vector<const float*> w, b;
  std::vector<int64_t> outs;
  for (size_t i = 0; i < parts.size(); ++i) {
    const StoredWeight& p = parts[i];
    if (p.in != parts[0].in) {
      throw ModelError("tensor '" + p.name + "' has " + std::to_string(p.in) + " inputs, expected " +
                       std::to_string(parts[0].in) + " as '" + parts[0].name + "'");
    }
    const bool in_place = p.values.dtype() == DType::F32 &&
                          reinterpret_cast<uintptr_t>(p.values.raw()) % alignof(float) == 0;
    f32.push_back(in_place ? p.values : p.values.dtype() == DType::I8 ? dequantized(p) : p.values.to_f32());
    w.push_back(f32.back().data<float>());
    outs.push_back(p.out);
  }
  const bool with_bias = std::any_of(biases.begin(), biases.end(), [](const Tensor& t) { return t.defined(); });
  for (const Tensor& t : biases) {
    if (!with_bias) break;
    const bool in_place = t.dtype() == DType::F32 && reinterpret_cast<uintptr_t>(t.raw()) % alignof(float) == 0;
    f32.push_back(in_place ? t : t.to_f32());
    b.push_back(f32.back().data<float>());
  }
  Linear l;
  l.dense_ = parts.size() == 1 ? kernels::PackedLinear(w[0], with_bias ? b[0] : nullptr, outs[0], parts[0].in, epilogue)
                               : kernels::PackedLinear::stacked(w, b, outs, parts[0].in, epilogue);
  return l;
}

}  // namespace slimformer::model
