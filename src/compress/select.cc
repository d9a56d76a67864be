// Choosing what structured pruning removes: FFN neurons by the norm of their input weights
// (torch.nn.utils.prune.ln_structured on dim 0), heads by the norm of their weights or by given
// scores (head_gradient.cc computes gradient ones).
#include <algorithm>
#include <cmath>
#include <tuple>

#include "compress/rank.h"
#include "compress/state_util.h"
#include "slimformer/error.h"

namespace slimformer::compress {
namespace {

void check_amount(double amount, const char* what) {
  if (!(amount >= 0.0 && amount < 1.0)) {
    throw InputError(std::string(what) + ": amount " + std::to_string(amount) + " is outside [0, 1)");
  }
}

// Sum over rows [r0, r1) of a 2-D weight of |w|^p, per row.
std::vector<double> row_powers(const Tensor& w, double p) {
  const Tensor f = w.to_f32();
  const int64_t rows = f.dim(0), cols = f.dim(1);
  std::vector<double> out(static_cast<size_t>(rows), 0.0);
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t c = 0; c < cols; ++c) out[static_cast<size_t>(r)] += std::pow(std::fabs(static_cast<double>(f.data<float>()[r * cols + c])), p);
  }
  return out;
}

std::vector<double> col_powers(const Tensor& w, double p) {
  const Tensor f = w.to_f32();
  const int64_t rows = f.dim(0), cols = f.dim(1);
  std::vector<double> out(static_cast<size_t>(cols), 0.0);
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t c = 0; c < cols; ++c) out[static_cast<size_t>(c)] += std::pow(std::fabs(static_cast<double>(f.data<float>()[r * cols + c])), p);
  }
  return out;
}

}  // namespace

std::map<int64_t, std::vector<int64_t>> ffn_neurons_by_norm(ModelState& m, double amount, int norm) {
  check_amount(amount, "ffn pruning");
  if (norm != 1 && norm != 2) throw InputError("ffn pruning: norm " + std::to_string(norm) + " is not 1 or 2");
  const model::TensorNames names = names_of(m);
  std::map<int64_t, std::vector<int64_t>> out;
  for (int64_t l = 0; l < m.config.num_layers; ++l) {
    const std::string& w = names.layers[static_cast<size_t>(l)].ffn_in_w;
    check_not_quantized(m, w, "ffn pruning");
    std::vector<double> scores = row_powers(tensor(m, w), norm);
    const int64_t n = static_cast<int64_t>(scores.size());
    // ln_structured keeps the n - round(amount * n) largest norms (p-th root kept: it orders alike
    // except for rounding, and torch ranks the rooted values).
    for (double& s : scores) s = norm == 2 ? std::sqrt(s) : s;
    const std::vector<int64_t> keep = torch_topk_indices(scores, n - prune_count(amount, n), /*largest=*/true);
    std::vector<bool> kept(static_cast<size_t>(n), false);
    for (int64_t j : keep) kept[static_cast<size_t>(j)] = true;
    std::vector<int64_t>& removed = out[l];
    for (int64_t j = 0; j < n; ++j)
      if (!kept[static_cast<size_t>(j)]) removed.push_back(j);
  }
  return out;
}

std::map<int64_t, std::vector<double>> head_importance(ModelState& m) {
  const model::TensorNames names = names_of(m);
  const int64_t d = m.config.hidden_size / m.config.num_heads;
  std::map<int64_t, std::vector<double>> out;
  for (int64_t l = 0; l < m.config.num_layers; ++l) {
    const model::LayerNames& n = names.layers[static_cast<size_t>(l)];
    std::vector<double> rows(static_cast<size_t>(tensor(m, n.q_w).dim(0)), 0.0);
    for (const std::string* w : {&n.q_w, &n.k_w, &n.v_w}) {
      check_not_quantized(m, *w, "head pruning");
      const std::vector<double> r = row_powers(tensor(m, *w), 2.0);
      for (size_t i = 0; i < rows.size(); ++i) rows[i] += r[i];
    }
    const std::vector<double> cols = col_powers(tensor(m, n.attn_out_w), 2.0);
    std::vector<double>& heads = out[l];
    for (size_t i = 0; i < rows.size(); ++i) {
      if (i % static_cast<size_t>(d) == 0) heads.push_back(0.0);
      heads.back() += rows[i] + cols[i];
    }
    for (double& h : heads) h = std::sqrt(h);
  }
  return out;
}

std::map<int64_t, std::vector<int64_t>> heads_by_importance(ModelState& m, double amount) {
  check_amount(amount, "head pruning");
  return heads_by_importance(m, head_importance(m), amount);
}

std::map<int64_t, std::vector<int64_t>> heads_by_importance(const ModelState& m,
                                                            const std::map<int64_t, std::vector<double>>& scores,
                                                            double amount) {
  check_amount(amount, "head pruning");
  if (static_cast<int64_t>(scores.size()) != m.config.num_layers) {
    throw InputError("head pruning: scores for " + std::to_string(scores.size()) + " layers, the model has " +
                     std::to_string(m.config.num_layers));
  }
  // (score, layer, original head index), lowest first; each layer keeps at least one head.
  std::vector<std::tuple<double, int64_t, int64_t>> ranked;
  std::map<int64_t, int64_t> left;
  for (const auto& [layer, heads] : scores) {
    const auto pruned = m.config.pruned_heads.find(layer);
    std::vector<int64_t> present;
    for (int64_t h = 0; h < m.config.num_heads; ++h) {
      if (pruned == m.config.pruned_heads.end() ||
          !std::binary_search(pruned->second.begin(), pruned->second.end(), h)) {
        present.push_back(h);
      }
    }
    if (layer < 0 || layer >= m.config.num_layers || heads.size() != present.size()) {
      throw InputError("head pruning: layer " + std::to_string(layer) + " has " + std::to_string(present.size()) +
                       " heads, its scores " + std::to_string(heads.size()));
    }
    for (size_t i = 0; i < heads.size(); ++i) {
      if (!std::isfinite(heads[i])) throw InputError("head pruning: layer " + std::to_string(layer) + "'s head scores are not finite");
      ranked.emplace_back(heads[i], layer, present[i]);
    }
    left[layer] = static_cast<int64_t>(heads.size());
  }
  std::sort(ranked.begin(), ranked.end());
  int64_t to_remove = prune_count(amount, static_cast<int64_t>(ranked.size()));
  std::map<int64_t, std::vector<int64_t>> out;
  for (const auto& [score, layer, head] : ranked) {
    if (to_remove == 0) break;
    if (left[layer] == 1) continue;
    out[layer].push_back(head);
    --left[layer];
    --to_remove;
  }
  for (auto& [layer, heads] : out) std::sort(heads.begin(), heads.end());
  return out;
}

}  // namespace slimformer::compress
