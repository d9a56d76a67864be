// Movement pruning (hard top-v): the schedule, the masks, and the hooks around a training step.
#include "compress/movement.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <numeric>

#include "compress/rank.h"
#include "compress/state_util.h"
#include "slimformer/error.h"

namespace slimformer::compress {
namespace {

const std::string kPrefix = "movement.";
constexpr const char* kExpected = "expected movement:amount=F with 0 < F < 1";

double parse_amount(const std::string& text) {
  char* end = nullptr;
  const double v = text.empty() ? NAN : std::strtod(text.c_str(), &end);
  if (text.empty() || end != text.c_str() + text.size() || !(v > 0 && v < 1)) {
    throw InputError("--prune: amount '" + text + "' is not a number in (0, 1) (" + kExpected + ")");
  }
  return v;
}

}  // namespace

MovementPruning parse_movement_spec(const std::string& spec) {
  const size_t colon = spec.find(':');
  const std::string method = spec.substr(0, colon);
  if (method != "movement") {
    throw InputError("--prune: '" + method + "' is not a pruning method distill runs (" + kExpected + ")");
  }
  MovementPruning m;
  bool has_amount = false;
  std::string rest = colon == std::string::npos ? "" : spec.substr(colon + 1);
  size_t pos = 0;
  while (!rest.empty() && pos <= rest.size()) {
    const size_t comma = std::min(rest.find(',', pos), rest.size());
    const std::string item = rest.substr(pos, comma - pos), key = item.substr(0, item.find('='));
    if (key != "amount" || item.find('=') == std::string::npos) {
      throw InputError("--prune: unknown key '" + item + "' (" + kExpected + ")");
    }
    m.amount = parse_amount(item.substr(item.find('=') + 1));
    has_amount = true;
    pos = comma + 1;
  }
  if (!has_amount) throw InputError("--prune: movement needs an amount (" + std::string(kExpected) + ")");
  return m;
}

double movement_sparsity(const MovementPruning& m, int64_t step, int64_t total) {
  if (!(m.amount >= 0 && m.amount < 1)) throw InputError("movement pruning: the amount must be in (0, 1)");
  if (total < 1 || step < 0) throw InputError("movement pruning: steps must be positive");
  const auto t_i = static_cast<int64_t>(m.warmup_fraction * static_cast<double>(total));
  const auto t_f = static_cast<int64_t>(m.final_fraction * static_cast<double>(total));
  if (step <= t_i) return 0.0;
  if (step >= total - t_f) return m.amount;
  const double u = static_cast<double>(step - t_i) / static_cast<double>(std::max<int64_t>(1, total - t_i - t_f));
  const double r = 1.0 - std::min(1.0, u);
  return m.amount + (0.0 - m.amount) * r * r * r;
}

std::vector<std::string> movement_targets(const ModelState& m) {
  std::vector<std::string> out;
  for (const model::LayerNames& n : names_of(m).layers) {
    for (const std::string* w : {&n.q_w, &n.k_w, &n.v_w, &n.attn_out_w, &n.ffn_in_w, &n.ffn_out_w}) {
      if (!w->empty() && m.tensors.count(*w)) out.push_back(*w);
    }
  }
  return out;
}

void top_v_mask(float* mask, const float* scores, int64_t n, int64_t keep) {
  if (keep <= 0 || keep >= n) {
    std::fill_n(mask, n, keep > 0 ? 1.0f : 0.0f);
    return;
  }
  // The keep-th largest score (a partial sort of plain floats: a few ms for a 1M-weight matrix,
  // every step), then every score above it and, of the scores equal to it, the lowest indices:
  // the same set as ranking (score down, index up), so the mask depends on the scores alone.
  std::vector<float> sorted(scores, scores + n);
  std::nth_element(sorted.begin(), sorted.begin() + (keep - 1), sorted.end(), std::greater<float>());
  const float threshold = sorted[static_cast<size_t>(keep - 1)];
  int64_t ties = keep - std::count_if(scores, scores + n, [threshold](float v) { return v > threshold; });
  for (int64_t i = 0; i < n; ++i) {
    const bool tie = scores[i] == threshold && ties > 0;
    ties -= tie;
    mask[i] = scores[i] > threshold || tie ? 1.0f : 0.0f;
  }
}

MovementPruner::MovementPruner(const MovementPruning& options, const std::vector<std::string>& names,
                               std::vector<train::Parameter>& params, int64_t total_steps)
    : options_(options), total_steps_(total_steps) {
  movement_sparsity(options, 0, total_steps);   // validates the amount and the step count
  train::AdamWOptions ao;
  ao.weight_decay = 0;   // as in the paper's code: scores are not decayed toward 0
  score_opt_ = std::make_unique<train::AdamW>(ao);
  for (const std::string& name : names) {
    const auto p = std::find_if(params.begin(), params.end(), [&](const train::Parameter& q) { return q.name == name; });
    if (p == params.end()) throw InputError("movement pruning: the student has no parameter '" + name + "'");
    Item it{&*p, Tensor::empty(p->value.shape()), Tensor::zeros(p->value.shape()), Tensor::zeros(p->value.shape()),
            Tensor::empty(p->value.shape())};
    std::fill_n(it.mask.data<float>(), it.mask.numel(), 1.0f);
    score_opt_->add_parameter(name, it.scores, it.score_grad);
    items_.push_back(std::move(it));
  }
}

double MovementPruner::sparsity(int64_t step) const {
  return movement_sparsity(options_, std::min(step, total_steps_), total_steps_);
}

void MovementPruner::before_forward(int64_t step) {
  const double s_t = sparsity(step);
#pragma omp parallel for schedule(dynamic)   // matrices are independent: the same result at any thread count
  for (size_t k = 0; k < items_.size(); ++k) {
    Item& it = items_[k];
    const int64_t n = it.scores.numel();
    top_v_mask(it.mask.data<float>(), it.scores.data<float>(), n, n - prune_count(s_t, n));
    float* w = it.param->value.data<float>();
    float* master = it.master.data<float>();
    const float* m = it.mask.data<float>();
    for (int64_t i = 0; i < n; ++i) {
      master[i] = w[i];
      w[i] *= m[i];
    }
  }
}

void MovementPruner::after_backward() {
#pragma omp parallel for schedule(dynamic)
  for (size_t k = 0; k < items_.size(); ++k) {
    Item& it = items_[k];
    const int64_t n = it.scores.numel();
    float* w = it.param->value.data<float>();
    float* g = it.param->grad.data<float>();
    float* gs = it.score_grad.data<float>();
    const float* master = it.master.data<float>();
    const float* m = it.mask.data<float>();
    for (int64_t i = 0; i < n; ++i) {
      w[i] = master[i];
      gs[i] = g[i] * master[i];   // dL/dS = dL/dW' ⊙ W (straight through TopK)
      g[i] *= m[i];               // dL/dW = dL/dW' ⊙ M
    }
  }
}

void MovementPruner::score_step(double lr) { score_opt_->step(lr); }

void MovementPruner::write_masked(std::map<std::string, Tensor>& tensors, int64_t step) const {
  for (const Item& it : items_) {
    const int64_t n = it.scores.numel();
    Tensor out = Tensor::empty(it.scores.shape());
    top_v_mask(out.data<float>(), it.scores.data<float>(), n, n - prune_count(sparsity(step), n));
    const float* w = it.param->value.data<float>();
    float* o = out.data<float>();
    // Selected rather than multiplied: a kept weight stays bit for bit, a masked one is +0 (W * 0
    // would give -0 for a negative W).
    for (int64_t i = 0; i < n; ++i) o[i] = o[i] != 0 ? w[i] : 0.0f;
    tensors[it.param->name] = out;
  }
}

std::map<std::string, Tensor> MovementPruner::state() const {
  std::map<std::string, Tensor> out;
  for (auto& [name, t] : score_opt_->state()) out[kPrefix + name] = t;
  for (const Item& it : items_) {
    out[kPrefix + ("scores." + it.param->name)] = it.scores.to_f32();
    out[kPrefix + ("weights." + it.param->name)] = it.param->value.to_f32();
  }
  return out;
}

void MovementPruner::load_state(const std::map<std::string, Tensor>& state) {
  const auto get = [&](const std::string& key, const Tensor& like) -> const Tensor& {
    const auto e = state.find(kPrefix + key);
    if (e == state.end()) throw InputError("--resume: the training state has no '" + kPrefix + key + "'");
    if (e->second.dtype() != DType::F32 || e->second.shape() != like.shape()) {
      throw InputError("--resume: '" + kPrefix + key + "' is not F32 of shape " + shape_str(like.shape()));
    }
    return e->second;
  };
  std::map<std::string, Tensor> opt_state;
  for (const auto& [key, t] : state) {
    const std::string rest = key.rfind(kPrefix, 0) == 0 ? key.substr(kPrefix.size()) : "";
    if (!rest.empty() && rest.rfind("scores.", 0) != 0 && rest.rfind("weights.", 0) != 0) opt_state[rest] = t;
  }
  for (const Item& it : items_) {   // every check before any change
    get("scores." + it.param->name, it.scores);
    get("weights." + it.param->name, it.param->value);
  }
  score_opt_->load_state(opt_state);
  for (Item& it : items_) {
    std::memcpy(it.scores.raw(), get("scores." + it.param->name, it.scores).raw(), it.scores.nbytes());
    std::memcpy(it.param->value.raw(), get("weights." + it.param->name, it.param->value).raw(), it.scores.nbytes());
  }
}

const MovementPruner::Item& MovementPruner::item(const std::string& name) const {
  for (const Item& it : items_) {
    if (it.param->name == name) return it;
  }
  throw InputError("movement pruning: no pruned matrix '" + name + "'");
}

std::unique_ptr<MovementPruner> movement_pruner_for(const MovementPruning& options, const ModelState& student,
                                                    std::vector<train::Parameter>& params, int64_t total_steps) {
  if (options.amount == 0) return nullptr;
  return std::make_unique<MovementPruner>(options, movement_targets(student), params, total_steps);
}

void take_movement_state(MovementPruner* pruner, std::map<std::string, Tensor>& state) {
  std::map<std::string, Tensor> mine;
  for (auto e = state.begin(); e != state.end();) {
    if (e->first.rfind(kPrefix, 0) == 0) {
      mine.insert(*e);
      e = state.erase(e);
    } else {
      ++e;
    }
  }
  if (!pruner && !mine.empty()) {
    throw InputError("--resume: the run was started with --prune movement; give the same --prune to continue it");
  }
  if (pruner && mine.empty()) throw InputError("--resume: the run was started without --prune; it cannot add it now");
  if (pruner) pruner->load_state(mine);
}

}  // namespace slimformer::compress
