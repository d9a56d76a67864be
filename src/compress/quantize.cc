// Quantization of a model's stored weights: int8 per output channel (symmetric, f32 scales in
// "<name>.scale"), or fp16/bf16 storage. Activations are quantized at run time by the int8 Linear.
#include <algorithm>
#include <cmath>
#include <set>

#include "compress/state_util.h"
#include "slimformer/error.h"

namespace slimformer::compress {
namespace {

bool is_float(DType t) { return t == DType::F32 || t == DType::F16 || t == DType::BF16; }

// (rows, cols) -> int8 codes and one scale per row: scale = max|w| / 127 (1 for a zero row, so
// every code is 0), code = round-half-even(w / scale), as torch.quantize_per_channel with a
// symmetric qint8 observer computes them.
void quantize_rows(ModelState& m, const std::string& name) {
  const Tensor w = tensor(m, name).to_f32();
  if (w.rank() != 2) throw ModelError("int8 quantization: tensor '" + name + "' is not 2-D");
  const int64_t rows = w.dim(0), cols = w.dim(1);
  Tensor q = Tensor::empty({rows, cols}, DType::I8);
  Tensor scales = Tensor::empty({rows}, DType::F32);
  for (int64_t r = 0; r < rows; ++r) {
    const float* x = w.data<float>() + r * cols;
    float max_abs = 0.0f;
    for (int64_t c = 0; c < cols; ++c) {
      if (!std::isfinite(x[c])) {
        throw InputError("int8 quantization: tensor '" + name + "' holds a non-finite value in row " + std::to_string(r));
      }
      max_abs = std::max(max_abs, std::fabs(x[c]));
    }
    const float scale = max_abs > 0.0f ? max_abs / 127.0f : 1.0f;
    scales.data<float>()[r] = scale;
    int8_t* out = q.data<int8_t>() + r * cols;
    for (int64_t c = 0; c < cols; ++c) {
      out[c] = static_cast<int8_t>(std::clamp(std::nearbyint(x[c] / scale), -127.0f, 127.0f));
    }
  }
  m.tensors[name] = q;
  m.tensors[name + kInt8ScaleSuffix] = scales;
}

void to_half(ModelState& m, const std::string& name, DType dtype) {
  Tensor& t = tensor(m, name);
  if (is_float(t.dtype()) && t.dtype() != dtype) t = t.to_float(dtype);
}

std::vector<std::string> embedding_names(const ModelState& m) {
  const model::TensorNames n = names_of(m);
  std::vector<std::string> out;
  for (const std::string* e : {&n.word, &n.position, &n.token_type})
    if (!e->empty() && m.tensors.count(*e)) out.push_back(*e);
  return out;
}

}  // namespace

QuantizeSummary quantize(ModelState& m, const Quantization& options) {
  for (const auto& [name, t] : m.tensors) {
    if (t.dtype() == DType::I8) {
      throw InputError("quantize: the model is already quantized ('" + name + "' holds int8 codes)");
    }
  }
  const std::vector<std::string> linears = linear_weight_names(m);
  const std::vector<std::string> embeddings = embedding_names(m);
  std::set<std::string> skip(options.skip.begin(), options.skip.end());
  for (const std::string& s : skip) {
    if (!m.tensors.count(s)) throw InputError("quantize: --skip names '" + s + "', which is not a tensor of the model");
  }
  QuantizeSummary summary;
  std::set<std::string> done;
  auto record = [&](const std::string& name) {
    summary.changed.push_back(name);
    done.insert(name);
  };
  // Embeddings first: their own choice (keep, fp16 or int8 rows).
  for (const std::string& e : embeddings) {
    if (skip.count(e)) continue;
    EmbeddingDType how = options.embeddings;
    if (how == EmbeddingDType::Same) {
      how = options.dtype == WeightDType::Int8 ? EmbeddingDType::Keep
            : options.dtype == WeightDType::F16 ? EmbeddingDType::F16
                                                 : EmbeddingDType::BF16;
    }
    if (how == EmbeddingDType::Int8) quantize_rows(m, e);
    else if (how == EmbeddingDType::F16) to_half(m, e, DType::F16);
    else if (how == EmbeddingDType::BF16) to_half(m, e, DType::BF16);
    if (how != EmbeddingDType::Keep) record(e);
  }
  for (const std::string& name : linears) {
    if (skip.count(name)) continue;
    if (options.dtype == WeightDType::Int8) quantize_rows(m, name);
    else to_half(m, name, options.dtype == WeightDType::F16 ? DType::F16 : DType::BF16);
    record(name);
  }
  // fp16/bf16: every other floating tensor too (biases, LayerNorm), as model.half() does, so
  // Hugging Face loads the result; int8 keeps them f32 (a few KiB per layer).
  if (options.dtype != WeightDType::Int8) {
    const DType target = options.dtype == WeightDType::F16 ? DType::F16 : DType::BF16;
    std::vector<std::string> rest;
    for (const auto& [name, t] : m.tensors)
      if (!done.count(name) && !skip.count(name) && is_float(t.dtype()) &&
          std::find(embeddings.begin(), embeddings.end(), name) == embeddings.end())
        rest.push_back(name);
    for (const std::string& name : rest) {
      to_half(m, name, target);
      record(name);
    }
  }
  summary.skipped.assign(skip.begin(), skip.end());
  return summary;
}

}  // namespace slimformer::compress
