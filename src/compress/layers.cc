// Removing whole encoder layers: the kept layers renumbered, their per-layer settings kept.
#include <algorithm>
#include <set>

#include "compress/state_util.h"
#include "slimformer/error.h"

namespace slimformer::compress {
namespace {

std::vector<const std::string*> fields(const model::LayerNames& n) {
  return {&n.q_w, &n.q_b, &n.k_w, &n.k_b, &n.v_w, &n.v_b, &n.attn_out_w, &n.attn_out_b, &n.attn_ln_g, &n.attn_ln_b,
          &n.ffn_in_w, &n.ffn_in_b, &n.ffn_out_w, &n.ffn_out_b, &n.ffn_ln_g, &n.ffn_ln_b,
          &n.q_global_w, &n.q_global_b, &n.k_global_w, &n.k_global_b, &n.v_global_w, &n.v_global_b};
}

template <class T>
std::vector<T> pick(const std::vector<T>& per_layer, const std::vector<int64_t>& keep) {
  std::vector<T> out;
  for (int64_t l : keep) out.push_back(per_layer[static_cast<size_t>(l)]);
  return out;
}

}  // namespace

void keep_layers(ModelState& m, const std::vector<int64_t>& keep_in) {
  EncoderConfig& c = m.config;
  std::set<int64_t> unique;
  for (int64_t l : keep_in) {
    check_layer(m, l, "keeping layers");
    if (!unique.insert(l).second) throw InputError("keeping layers: layer " + std::to_string(l) + " is listed twice");
  }
  if (unique.empty()) throw InputError("keeping layers: no layer kept (a model keeps at least one)");
  const std::vector<int64_t> keep(unique.begin(), unique.end());
  const model::TensorNames before = names_of(m);

  std::set<std::string> layer_tensors;
  for (const model::LayerNames& n : before.layers)
    for (const std::string* f : fields(n))
      if (!f->empty()) layer_tensors.insert(*f);
  std::map<std::string, Tensor> tensors;
  for (const auto& [name, t] : m.tensors)
    if (!layer_tensors.count(name)) tensors[name] = t;

  EncoderConfig after = c;
  after.num_layers = static_cast<int64_t>(keep.size());
  after.pruned_heads.clear();
  for (size_t i = 0; i < keep.size(); ++i) {
    auto p = c.pruned_heads.find(keep[i]);
    if (p != c.pruned_heads.end()) after.pruned_heads[static_cast<int64_t>(i)] = p->second;
  }
  if (!c.intermediate_sizes.empty()) after.intermediate_sizes = pick(c.intermediate_sizes, keep);
  if (c.attention_window.size() == static_cast<size_t>(c.num_layers)) {
    after.attention_window = pick(c.attention_window, keep);
  }
  ModelState next{after, tensors};
  // Names of the renumbered layers: the same record on the smaller config (its names depend on
  // the layer count only).
  ModelState probe{after, m.tensors};
  const model::TensorNames renamed = names_of(probe);
  for (size_t i = 0; i < keep.size(); ++i) {
    const std::vector<const std::string*> from = fields(before.layers[static_cast<size_t>(keep[i])]);
    const std::vector<const std::string*> to = fields(renamed.layers[i]);
    for (size_t f = 0; f < from.size(); ++f) {
      if (from[f]->empty()) continue;
      auto it = m.tensors.find(*from[f]);
      if (it != m.tensors.end()) next.tensors[*to[f]] = it->second;
    }
  }
  if (!after.intermediate_sizes.empty() &&
      std::all_of(after.intermediate_sizes.begin(), after.intermediate_sizes.end(),
                  [&](int64_t w) { return w == after.intermediate_sizes[0]; })) {
    next.config.intermediate_size = after.intermediate_sizes[0];
    next.config.intermediate_sizes.clear();
  }
  m = std::move(next);
}

}  // namespace slimformer::compress
