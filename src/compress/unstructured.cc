// Unstructured L1 pruning: the smallest |w| set to zero, per tensor or over a global ranking,
// exactly as torch.nn.utils.prune's L1Unstructured and global_unstructured choose them.
#include <algorithm>
#include <cmath>
#include <set>

#include "compress/rank.h"
#include "compress/state_util.h"
#include "slimformer/error.h"

namespace slimformer::compress {
namespace {

// The chapter's recipe: every tensor with "weight" in its name, embeddings and LayerNorm
// included, in the architecture's order (then any other such tensor, by name).
std::vector<std::string> every_weight_names(const ModelState& m) {
  const model::TensorNames names = names_of(m);
  std::vector<std::string> ordered = {names.word, names.position, names.token_type, names.emb_ln_g};
  for (const model::LayerNames& n : names.layers) {
    for (const std::string* w : {&n.q_w, &n.k_w, &n.v_w, &n.q_global_w, &n.k_global_w, &n.v_global_w, &n.attn_out_w,
                                 &n.attn_ln_g, &n.ffn_in_w, &n.ffn_out_w, &n.ffn_ln_g}) {
      ordered.push_back(*w);
    }
  }
  ordered.push_back(names.pooler_w);
  std::vector<std::string> out;
  std::set<std::string> seen;
  for (const std::string& name : ordered) {
    if (name.empty() || !m.tensors.count(name) || name.find("weight") == std::string::npos) continue;
    if (seen.insert(name).second) out.push_back(name);
  }
  for (const auto& [name, t] : m.tensors) {
    if (name.find("weight") != std::string::npos && seen.insert(name).second) out.push_back(name);
  }
  return out;
}

// One ranking's worth of weights: the tensors' values as float, concatenated in order.
struct Pool {
  std::vector<std::string> names;
  std::vector<Tensor> values;          // F32 copies, zeroed in place
  std::vector<int64_t> offsets;        // start of each tensor in the concatenation
  int64_t size = 0;
};

Pool pool_of(ModelState& m, const std::vector<std::string>& names) {
  Pool p;
  for (const std::string& name : names) {
    check_not_quantized(m, name, "l1-unstructured pruning");
    Tensor t = tensor(m, name).to_f32();
    const float* v = t.data<float>();
    for (int64_t i = 0; i < t.numel(); ++i) {
      if (!std::isfinite(v[i])) {
        throw InputError("l1-unstructured pruning: tensor '" + name + "' holds a non-finite value at element " +
                         std::to_string(i) + " (weights must be finite numbers)");
      }
    }
    p.names.push_back(name);
    p.offsets.push_back(p.size);
    p.size += t.numel();
    p.values.push_back(std::move(t));
  }
  return p;
}

float& element(Pool& p, int64_t flat) {
  const size_t t = static_cast<size_t>(std::upper_bound(p.offsets.begin(), p.offsets.end(), flat) - p.offsets.begin()) - 1;
  return p.values[t].data<float>()[flat - p.offsets[t]];
}

// Zeroes the pool in `steps` rounds; after round s, round(amount * s / steps * size) weights are
// pruned, each round ranking only the weights still standing (one round: torch's choice).
int64_t prune_pool(Pool& p, double amount, int64_t steps) {
  std::vector<bool> pruned(static_cast<size_t>(p.size), false);
  int64_t count = 0;
  for (int64_t s = 1; s <= steps; ++s) {
    const int64_t target = prune_count(amount * static_cast<double>(s) / static_cast<double>(steps), p.size);
    std::vector<int64_t> standing;
    std::vector<double> scores;
    for (int64_t i = 0; i < p.size; ++i) {
      if (pruned[static_cast<size_t>(i)]) continue;
      standing.push_back(i);
      scores.push_back(std::fabs(static_cast<double>(element(p, i))));
    }
    for (int64_t j : torch_topk_indices(scores, target - count, /*largest=*/false)) {
      const int64_t i = standing[static_cast<size_t>(j)];
      pruned[static_cast<size_t>(i)] = true;
      element(p, i) = 0.0f;
    }
    count = std::max(count, target);
  }
  return count;
}

void store(ModelState& m, Pool& p) {
  for (size_t i = 0; i < p.names.size(); ++i) {
    Tensor& t = tensor(m, p.names[i]);
    t = t.dtype() == DType::F32 ? p.values[i] : p.values[i].to_float(t.dtype());
  }
}

}  // namespace

std::vector<std::string> prune_scope_tensors(const ModelState& m, PruneScope scope) {
  return scope == PruneScope::Linear ? linear_weight_names(m) : every_weight_names(m);
}

PruneSummary prune_l1_unstructured(ModelState& m, const UnstructuredPruning& options) {
  if (!(options.amount >= 0.0 && options.amount < 1.0)) {
    throw InputError("l1-unstructured pruning: amount " + std::to_string(options.amount) +
                     " is outside [0, 1) (the fraction of weights to set to zero)");
  }
  if (options.steps < 1) {
    throw InputError("l1-unstructured pruning: steps " + std::to_string(options.steps) + " must be at least 1");
  }
  PruneSummary summary;
  summary.tensors = prune_scope_tensors(m, options.scope);
  std::vector<Pool> pools;
  if (options.global) {
    pools.push_back(pool_of(m, summary.tensors));
  } else {
    for (const std::string& name : summary.tensors) pools.push_back(pool_of(m, {name}));
  }
  for (Pool& p : pools) {
    prune_pool(p, options.amount, options.steps);
    summary.weights += p.size;
    for (const Tensor& t : p.values) {
      summary.zeros += std::count(t.data<float>(), t.data<float>() + t.numel(), 0.0f);
    }
  }
  for (Pool& p : pools) store(m, p);
  return summary;
}

}  // namespace slimformer::compress
