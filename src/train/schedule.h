// Learning-rate schedules for fine-tuning. The one Hugging Face's Trainer uses by default:
// linear warm-up from 0 to the base rate, then linear decay to 0 at the last step
// (transformers.get_linear_schedule_with_warmup).
#pragma once
#include <cstdint>

namespace slimformer::train {

// The multiplier of the base learning rate at `step` (0-based: the number of optimizer steps
// already taken): step / warmup_steps while step < warmup_steps, then
// max(0, (total_steps - step) / (total_steps - warmup_steps)). Denominators are at least 1, as
// in transformers, so warmup_steps == 0 or warmup_steps == total_steps are allowed.
// InputError for negative step counts or warmup_steps > total_steps.
double linear_warmup_decay(int64_t step, int64_t warmup_steps, int64_t total_steps);

// A base learning rate with its linear warm-up/decay; lr(step) is what torch's LambdaLR gives
// after `step` calls of scheduler.step().
class LinearWarmupSchedule {
 public:
  LinearWarmupSchedule(double base_lr, int64_t warmup_steps, int64_t total_steps);
  double lr(int64_t step) const;
  double base_lr() const { return base_lr_; }

 private:
  double base_lr_;
  int64_t warmup_steps_, total_steps_;
};

}  // namespace slimformer::train
