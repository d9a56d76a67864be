#include "train/optimizer.h"

#include <cmath>
#include <cstring>
#include <string>

#include "slimformer/error.h"

namespace slimformer::train {

namespace {

const char kStepKey[] = "step";
std::string exp_avg_key(const std::string& name) { return "exp_avg." + name; }
std::string exp_avg_sq_key(const std::string& name) { return "exp_avg_sq." + name; }

bool contains(const std::string& text, const char* part) { return text.find(part) != std::string::npos; }

void check_hyperparameters(const AdamWOptions& o) {
  auto in_unit_interval = [](double b) { return b >= 0.0 && b < 1.0; };
  if (!in_unit_interval(o.beta1) || !in_unit_interval(o.beta2))
    throw InputError("AdamW: betas must lie in [0, 1), got (" + std::to_string(o.beta1) + ", " +
                     std::to_string(o.beta2) + ")");
  if (!(o.eps >= 0.0)) throw InputError("AdamW: eps must be >= 0, got " + std::to_string(o.eps));
  if (!(o.weight_decay >= 0.0))
    throw InputError("AdamW: weight_decay must be >= 0, got " + std::to_string(o.weight_decay));
  if (!(o.lr >= 0.0)) throw InputError("AdamW: lr must be >= 0, got " + std::to_string(o.lr));
}

// The per-step constants, each rounded to float where torch turns a Python float into a float
// tensor's scalar, so the element loop below does torch's float arithmetic.
struct StepConstants {
  float decay;            // 1 - lr * weight_decay
  float beta1, one_minus_beta1;
  float beta2, one_minus_beta2;
  float neg_step_size;    // -lr / (1 - beta1^t)
  float bias_correction2_sqrt;
  float eps;
};

StepConstants step_constants(const AdamWOptions& o, double lr, double weight_decay, int64_t step) {
  const double t = static_cast<double>(step);
  StepConstants c;
  c.decay = static_cast<float>(1.0 - lr * weight_decay);
  c.beta1 = static_cast<float>(o.beta1);
  c.one_minus_beta1 = static_cast<float>(1.0 - o.beta1);
  c.beta2 = static_cast<float>(o.beta2);
  c.one_minus_beta2 = static_cast<float>(1.0 - o.beta2);
  c.neg_step_size = static_cast<float>(-(lr / (1.0 - std::pow(o.beta1, t))));
  c.bias_correction2_sqrt = static_cast<float>(std::sqrt(1.0 - std::pow(o.beta2, t)));
  c.eps = static_cast<float>(o.eps);
  return c;
}

// One parameter's update, element by element (each element on its own, so any thread split gives
// the same bits). The operation order is torch's: mul_, add_(alpha), addcmul_, sqrt / bc2 + eps,
// addcdiv_.
void update(float* p, float* m, float* v, const float* g, int64_t n, const StepConstants& c) {
#pragma omp parallel for schedule(static) if (n >= 65536)
  for (int64_t i = 0; i < n; ++i) {
    const float param = p[i] * c.decay;
    const float exp_avg = m[i] * c.beta1 + c.one_minus_beta1 * g[i];
    const float exp_avg_sq = v[i] * c.beta2 + c.one_minus_beta2 * g[i] * g[i];
    const float denom = std::sqrt(exp_avg_sq) / c.bias_correction2_sqrt + c.eps;
    p[i] = param + c.neg_step_size * exp_avg / denom;
    m[i] = exp_avg;
    v[i] = exp_avg_sq;
  }
}

// The entry `key` of a state map, checked against the dtype and shape it must have.
const Tensor& state_entry(const std::map<std::string, Tensor>& state, const std::string& key,
                          DType dtype, const Shape& shape) {
  auto it = state.find(key);
  if (it == state.end()) throw InputError("AdamW state: missing entry '" + key + "'");
  const Tensor& t = it->second;
  if (t.dtype() != dtype || t.shape() != shape)
    throw InputError("AdamW state: entry '" + key + "' is " + dtype_name(t.dtype()) + " " +
                     shape_str(t.shape()) + ", expected " + dtype_name(dtype) + " " + shape_str(shape));
  return t;
}

Tensor copy_of(const Tensor& t) {
  Tensor out = Tensor::empty(t.shape(), t.dtype());
  if (t.nbytes() > 0) std::memcpy(out.raw(), t.raw(), t.nbytes());
  return out;
}

}  // namespace

bool is_bias_or_layer_norm(const std::string& name) {
  return contains(name, "bias") || contains(name, "LayerNorm.weight") || contains(name, "layer_norm.weight");
}

AdamW::AdamW(AdamWOptions options, NamePredicate no_decay)
    : options_(options), no_decay_(std::move(no_decay)) {
  check_hyperparameters(options_);
}

void AdamW::add_parameter(const std::string& name, Tensor value, Tensor grad) {
  const std::string where = "AdamW parameter '" + name + "'";
  if (name.empty()) throw InputError("AdamW: a parameter needs a non-empty name");
  if (index_of_.count(name)) throw InputError(where + ": registered twice");
  if (value.dtype() != DType::F32 || grad.dtype() != DType::F32)
    throw InputError(where + ": value and gradient must be F32, got " + dtype_name(value.dtype()) +
                     " and " + dtype_name(grad.dtype()));
  if (value.shape() != grad.shape())
    throw InputError(where + ": gradient shape " + shape_str(grad.shape()) + " differs from value shape " +
                     shape_str(value.shape()));
  if (!value.defined() || !grad.defined()) throw InputError(where + ": value or gradient has no memory");
  Parameter p;
  p.name = name;
  p.value = std::move(value);
  p.grad = std::move(grad);
  p.exp_avg = Tensor::zeros(p.value.shape());
  p.exp_avg_sq = Tensor::zeros(p.value.shape());
  p.decay = !(no_decay_ && no_decay_(name));
  index_of_[name] = params_.size();
  params_.push_back(std::move(p));
}

void AdamW::step() { step(options_.lr); }

void AdamW::step(double lr) {
  if (!(lr >= 0.0)) throw InputError("AdamW::step: lr must be >= 0, got " + std::to_string(lr));
  ++steps_taken_;
  for (Parameter& p : params_) {
    const double weight_decay = p.decay ? options_.weight_decay : 0.0;
    update(p.value.data<float>(), p.exp_avg.data<float>(), p.exp_avg_sq.data<float>(), p.grad.data<float>(),
           p.value.numel(), step_constants(options_, lr, weight_decay, steps_taken_));
  }
}

void AdamW::zero_grad() {
  for (Parameter& p : params_)
    if (p.grad.nbytes() > 0) std::memset(p.grad.raw(), 0, p.grad.nbytes());
}

std::vector<Tensor> AdamW::gradients() const {
  std::vector<Tensor> grads;
  grads.reserve(params_.size());
  for (const Parameter& p : params_) grads.push_back(p.grad);
  return grads;
}

bool AdamW::decays(const std::string& name) const {
  auto it = index_of_.find(name);
  if (it == index_of_.end()) throw InputError("AdamW: no parameter named '" + name + "'");
  return params_[it->second].decay;
}

std::map<std::string, Tensor> AdamW::state() const {
  std::map<std::string, Tensor> state;
  for (const Parameter& p : params_) {
    state[exp_avg_key(p.name)] = copy_of(p.exp_avg);
    state[exp_avg_sq_key(p.name)] = copy_of(p.exp_avg_sq);
  }
  Tensor step = Tensor::empty({1}, DType::I64);
  step.data<int64_t>()[0] = steps_taken_;
  state[kStepKey] = step;
  return state;
}

void AdamW::load_state(const std::map<std::string, Tensor>& state) {
  // Check everything before changing anything, so a bad file leaves the optimizer as it was.
  const Tensor& step = state_entry(state, kStepKey, DType::I64, {1});
  const int64_t steps_taken = step.data<int64_t>()[0];
  if (steps_taken < 0) throw InputError("AdamW state: 'step' is negative (" + std::to_string(steps_taken) + ")");
  std::vector<std::pair<Tensor, Tensor>> moments;   // (m, v) per parameter, in params_ order
  for (const Parameter& p : params_)
    moments.emplace_back(copy_of(state_entry(state, exp_avg_key(p.name), DType::F32, p.value.shape())),
                         copy_of(state_entry(state, exp_avg_sq_key(p.name), DType::F32, p.value.shape())));
  // Every entry was checked above unless there are extra ones: a state saved for another model.
  if (state.size() != 1 + 2 * params_.size()) {
    for (const auto& entry : state) {
      const std::string& key = entry.first;
      const bool known = key == kStepKey || (key.starts_with("exp_avg.") && index_of_.count(key.substr(8))) ||
                         (key.starts_with("exp_avg_sq.") && index_of_.count(key.substr(11)));
      if (!known) throw InputError("AdamW state: entry '" + key + "' matches no registered parameter");
    }
  }
  for (size_t i = 0; i < params_.size(); ++i) {
    params_[i].exp_avg = std::move(moments[i].first);
    params_[i].exp_avg_sq = std::move(moments[i].second);
  }
  steps_taken_ = steps_taken;
}

}  // namespace slimformer::train
