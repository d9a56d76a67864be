// Structured pruning: whole heads and FFN neurons removed from the tensors, so the model gets
// smaller and faster, not just full of zeros.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <set>

#include "compress/state_util.h"
#include "model/architecture.h"
#include "slimformer/compress.h"
#include "slimformer/error.h"

namespace slimformer::compress {
namespace {

// The rows `keep` of t (1-D: its elements), bytes copied as they are (any dtype).
Tensor keep_rows(const Tensor& t, const std::vector<int64_t>& keep) {
  const size_t row_bytes = t.rank() == 1 ? dtype_size(t.dtype()) : static_cast<size_t>(t.dim(1)) * dtype_size(t.dtype());
  Shape shape = t.shape();
  shape[0] = static_cast<int64_t>(keep.size());
  Tensor out = Tensor::empty(shape, t.dtype());
  for (size_t i = 0; i < keep.size(); ++i) {
    std::memcpy(static_cast<char*>(out.raw()) + i * row_bytes, static_cast<const char*>(t.raw()) + keep[i] * row_bytes,
                row_bytes);
  }
  return out;
}

// The columns `keep` of a 2-D t.
Tensor keep_cols(const Tensor& t, const std::vector<int64_t>& keep) {
  const size_t e = dtype_size(t.dtype());
  const int64_t rows = t.dim(0), cols = t.dim(1), n = static_cast<int64_t>(keep.size());
  Tensor out = Tensor::empty({rows, n}, t.dtype());
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t i = 0; i < n; ++i) {
      std::memcpy(static_cast<char*>(out.raw()) + (r * n + i) * e, static_cast<const char*>(t.raw()) + (r * cols + keep[i]) * e, e);
    }
  }
  return out;
}

std::vector<int64_t> complement(int64_t n, const std::set<int64_t>& removed) {
  std::vector<int64_t> keep;
  for (int64_t i = 0; i < n; ++i)
    if (!removed.count(i)) keep.push_back(i);
  return keep;
}

double activation(Activation a, double x) {
  switch (a) {
    case Activation::Gelu: return 0.5 * x * (1.0 + std::erf(x / std::sqrt(2.0)));
    case Activation::GeluTanh: return 0.5 * x * (1.0 + std::tanh(std::sqrt(2.0 / M_PI) * (x + 0.044715 * x * x * x)));
    case Activation::Relu: return x > 0 ? x : 0.0;
  }
  return x;
}

}  // namespace

void remove_heads(ModelState& m, const std::map<int64_t, std::vector<int64_t>>& heads) {
  EncoderConfig& c = m.config;
  if (!model::architecture_of(c).prunable_heads) {
    throw InputError("heads cannot be removed from a " + c.model_type +
                     " model (its attention has projections Hugging Face does not prune with the heads)");
  }
  for (const std::string& w : linear_weight_names(m)) check_not_quantized(m, w, "removing heads");
  // Every request is checked before any tensor changes: a refused request leaves the model as it was.
  std::map<int64_t, std::set<int64_t>> removed_after;
  for (const auto& [layer, request] : heads) {
    check_layer(m, layer, "removing heads");
    auto before = c.pruned_heads.find(layer);
    std::set<int64_t> removed;
    if (before != c.pruned_heads.end()) removed.insert(before->second.begin(), before->second.end());
    for (int64_t h : request) {
      if (h < 0 || h >= c.num_heads) {
        throw InputError("removing heads: head " + std::to_string(h) + " of layer " + std::to_string(layer) +
                         " is out of range (the model has " + std::to_string(c.num_heads) + " heads per layer)");
      }
      removed.insert(h);
    }
    if (static_cast<int64_t>(removed.size()) == c.num_heads) {
      throw InputError("removing heads: layer " + std::to_string(layer) + " would keep none of its " +
                       std::to_string(c.num_heads) + " heads (a layer keeps at least one)");
    }
    removed_after[layer] = std::move(removed);
  }
  const model::TensorNames names = names_of(m);
  const int64_t d = c.hidden_size / c.num_heads;
  for (const auto& [layer, removed] : removed_after) {
    if (removed.empty()) continue;
    // Rows of the layer's current projections to keep: the heads still there that survive.
    auto before = c.pruned_heads.find(layer);
    const std::vector<int64_t> present =
        before == c.pruned_heads.end()
            ? complement(c.num_heads, {})
            : complement(c.num_heads, std::set<int64_t>(before->second.begin(), before->second.end()));
    std::vector<int64_t> rows;
    for (size_t p = 0; p < present.size(); ++p) {
      if (removed.count(present[p])) continue;
      for (int64_t i = 0; i < d; ++i) rows.push_back(static_cast<int64_t>(p) * d + i);
    }
    const model::LayerNames& n = names.layers[static_cast<size_t>(layer)];
    for (const std::string* name : {&n.q_w, &n.q_b, &n.k_w, &n.k_b, &n.v_w, &n.v_b}) {
      Tensor& t = tensor(m, *name);
      t = keep_rows(t, rows);
    }
    Tensor& out = tensor(m, n.attn_out_w);
    out = keep_cols(out, rows);
    c.pruned_heads[layer] = std::vector<int64_t>(removed.begin(), removed.end());
  }
}

void remove_ffn_neurons(ModelState& m, const std::map<int64_t, std::vector<int64_t>>& neurons) {
  EncoderConfig& c = m.config;
  const model::TensorNames names = names_of(m);
  std::vector<int64_t> widths;
  for (int64_t l = 0; l < c.num_layers; ++l) widths.push_back(layer_shape(c, l).intermediate);
  for (const std::string& w : linear_weight_names(m)) check_not_quantized(m, w, "removing FFN neurons");
  // Every request is checked before any tensor changes: a refused request leaves the model as it was.
  std::map<int64_t, std::set<int64_t>> plan;
  for (const auto& [layer, request] : neurons) {
    check_layer(m, layer, "removing FFN neurons");
    const int64_t width = widths[static_cast<size_t>(layer)];
    std::set<int64_t>& removed = plan[layer];
    for (int64_t j : request) {
      if (j < 0 || j >= width) {
        throw InputError("removing FFN neurons: neuron " + std::to_string(j) + " of layer " + std::to_string(layer) +
                         " is out of range (the layer has " + std::to_string(width) + ")");
      }
      removed.insert(j);
    }
    if (static_cast<int64_t>(removed.size()) == width) {
      throw InputError("removing FFN neurons: layer " + std::to_string(layer) + " would keep none of its " +
                       std::to_string(width) + " neurons (a layer keeps at least one)");
    }
  }
  for (const auto& [layer, removed] : plan) {
    const int64_t width = widths[static_cast<size_t>(layer)];
    if (removed.empty()) continue;
    const model::LayerNames& n = names.layers[static_cast<size_t>(layer)];
    Tensor& in_w = tensor(m, n.ffn_in_w);
    Tensor& in_b = tensor(m, n.ffn_in_b);
    Tensor& out_w = tensor(m, n.ffn_out_w);
    Tensor& out_b = tensor(m, n.ffn_out_b);
    // Fold what the removed neurons add for a zero input into the output bias.
    const Tensor bias_in = in_b.to_f32(), w_out = out_w.to_f32();
    Tensor bias_out = out_b.to_f32();
    const int64_t H = out_w.dim(0);
    for (int64_t h = 0; h < H; ++h) {
      double add = 0.0;
      for (int64_t j : removed) add += activation(c.activation, bias_in.data<float>()[j]) * w_out.data<float>()[h * width + j];
      bias_out.data<float>()[h] = static_cast<float>(bias_out.data<float>()[h] + add);
    }
    const std::vector<int64_t> keep = complement(width, removed);
    in_w = keep_rows(in_w, keep);
    in_b = keep_rows(in_b, keep);
    out_w = keep_cols(out_w, keep);
    out_b = out_b.dtype() == DType::F32 ? bias_out : bias_out.to_float(out_b.dtype());
    widths[static_cast<size_t>(layer)] = static_cast<int64_t>(keep.size());
  }
  // One width for every layer needs no per-layer list (and Hugging Face loads it).
  if (std::all_of(widths.begin(), widths.end(), [&](int64_t w) { return w == widths[0]; })) {
    c.intermediate_size = widths[0];
    c.intermediate_sizes.clear();
  } else {
    c.intermediate_sizes = widths;
  }
}

}  // namespace slimformer::compress
