// Exporting a compressed model as the dense f32 model it computes, in shapes every Hugging Face
// version loads: int8 dequantized, fp16/bf16 widened, and pruned heads and FFN neurons put back
// as zeros (a zero head and a zero neuron with zero bias add nothing, so the outputs are the same).
#include <algorithm>
#include <cstring>

#include "compress/state_util.h"
#include "slimformer/error.h"

namespace slimformer::compress {
namespace {

Tensor dequantized(const Tensor& codes, const Tensor& scales) {
  Tensor f = Tensor::empty(codes.shape());
  const int64_t cols = codes.rank() == 2 ? codes.dim(1) : 1;
  for (int64_t i = 0; i < codes.numel(); ++i) {
    f.data<float>()[i] = static_cast<float>(codes.data<int8_t>()[i]) * scales.data<float>()[i / cols];
  }
  return f;
}

// t with its rows spread to `rows` rows: row i goes to where[i], the rest are zero (1-D: elements).
Tensor spread_rows(const Tensor& t, const std::vector<int64_t>& where, int64_t rows) {
  Shape shape = t.shape();
  shape[0] = rows;
  Tensor out = Tensor::zeros(shape);
  const int64_t width = t.rank() == 2 ? t.dim(1) : 1;
  for (size_t i = 0; i < where.size(); ++i) {
    std::memcpy(out.data<float>() + where[i] * width, t.data<float>() + static_cast<int64_t>(i) * width,
                static_cast<size_t>(width) * sizeof(float));
  }
  return out;
}

Tensor spread_cols(const Tensor& t, const std::vector<int64_t>& where, int64_t cols) {
  Tensor out = Tensor::zeros({t.dim(0), cols});
  for (int64_t r = 0; r < t.dim(0); ++r)
    for (size_t i = 0; i < where.size(); ++i)
      out.data<float>()[r * cols + where[i]] = t.data<float>()[r * t.dim(1) + static_cast<int64_t>(i)];
  return out;
}

}  // namespace

void to_dense_f32(ModelState& m) {
  // Values first: every tensor f32, int8 codes times their scales.
  std::map<std::string, Tensor> tensors;
  for (const auto& [name, t] : m.tensors) {
    if (t.dtype() == DType::I8) {
      auto s = m.tensors.find(name + kInt8ScaleSuffix);
      if (s == m.tensors.end()) throw ModelError("tensor '" + name + "' holds int8 codes without its scales");
      tensors[name] = dequantized(t, s->second.to_f32());
    } else if (t.dtype() == DType::F16 || t.dtype() == DType::BF16 || t.dtype() == DType::F32) {
      const std::string suffix = kInt8ScaleSuffix;
      const bool scale = name.size() > suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0 &&
                         m.tensors.count(name.substr(0, name.size() - suffix.size()));
      if (!scale) tensors[name] = t.to_f32();
    } else {
      tensors[name] = t;
    }
  }
  m.tensors = std::move(tensors);
  // Then shapes: every layer back to num_heads heads and the widest FFN.
  EncoderConfig& c = m.config;
  const model::TensorNames names = names_of(m);
  const int64_t d = c.hidden_size / c.num_heads;
  int64_t widest = c.intermediate_size;
  for (int64_t w : c.intermediate_sizes) widest = std::max(widest, w);
  for (int64_t l = 0; l < c.num_layers; ++l) {
    const model::LayerNames& n = names.layers[static_cast<size_t>(l)];
    auto pruned = c.pruned_heads.find(l);
    if (pruned != c.pruned_heads.end()) {
      std::vector<int64_t> rows;
      for (int64_t h = 0; h < c.num_heads; ++h) {
        if (std::binary_search(pruned->second.begin(), pruned->second.end(), h)) continue;
        for (int64_t i = 0; i < d; ++i) rows.push_back(h * d + i);
      }
      for (const std::string* name : {&n.q_w, &n.q_b, &n.k_w, &n.k_b, &n.v_w, &n.v_b}) {
        tensor(m, *name) = spread_rows(tensor(m, *name), rows, c.hidden_size);
      }
      tensor(m, n.attn_out_w) = spread_cols(tensor(m, n.attn_out_w), rows, c.hidden_size);
    }
    const int64_t width = layer_shape(c, l).intermediate;
    if (width < widest) {
      std::vector<int64_t> rows(static_cast<size_t>(width));
      for (int64_t j = 0; j < width; ++j) rows[static_cast<size_t>(j)] = j;
      tensor(m, n.ffn_in_w) = spread_rows(tensor(m, n.ffn_in_w), rows, widest);
      tensor(m, n.ffn_in_b) = spread_rows(tensor(m, n.ffn_in_b), rows, widest);
      tensor(m, n.ffn_out_w) = spread_cols(tensor(m, n.ffn_out_w), rows, widest);
    }
  }
  c.pruned_heads.clear();
  c.intermediate_sizes.clear();
  c.intermediate_size = widest;
}

}  // namespace slimformer::compress
