#include "train/schedule.h"

#include <algorithm>
#include <string>

#include "slimformer/error.h"

namespace slimformer::train {

namespace {

void check_steps(int64_t warmup_steps, int64_t total_steps) {
  if (warmup_steps < 0 || total_steps < 0 || warmup_steps > total_steps)
    throw InputError("linear warm-up schedule: expected 0 <= warmup_steps <= total_steps, got warmup_steps " +
                     std::to_string(warmup_steps) + " and total_steps " + std::to_string(total_steps));
}

}  // namespace

double linear_warmup_decay(int64_t step, int64_t warmup_steps, int64_t total_steps) {
  check_steps(warmup_steps, total_steps);
  if (step < 0)
    throw InputError("linear warm-up schedule: step must be >= 0, got " + std::to_string(step));
  // The same double arithmetic as transformers' lr_lambda, so rates match torch bit for bit.
  if (step < warmup_steps)
    return static_cast<double>(step) / static_cast<double>(std::max<int64_t>(1, warmup_steps));
  return std::max(0.0, static_cast<double>(total_steps - step) /
                           static_cast<double>(std::max<int64_t>(1, total_steps - warmup_steps)));
}

LinearWarmupSchedule::LinearWarmupSchedule(double base_lr, int64_t warmup_steps, int64_t total_steps)
    : base_lr_(base_lr), warmup_steps_(warmup_steps), total_steps_(total_steps) {
  check_steps(warmup_steps, total_steps);
  if (!(base_lr >= 0.0))
    throw InputError("linear warm-up schedule: base learning rate must be >= 0, got " + std::to_string(base_lr));
}

double LinearWarmupSchedule::lr(int64_t step) const {
  return base_lr_ * linear_warmup_decay(step, warmup_steps_, total_steps_);
}

}  // namespace slimformer::train
