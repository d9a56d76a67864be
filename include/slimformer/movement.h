// Movement pruning while distilling (Sanh, Wolf & Rush 2020, "Movement Pruning: Adaptive Sparsity
// by Fine-Tuning"), hard top-v variant: every encoder-layer Linear weight gets a score that
// training moves, and the lowest-scored weights are masked on the paper's cubic sparsity schedule.
// docs/distill.md has the method, the choices and the measurements.
#pragma once
#include <cstdint>
#include <string>

namespace slimformer::compress {

struct MovementPruning {
  double amount = 0;                // final sparsity of each pruned matrix, in (0, 1); 0: off
  double warmup_fraction = 0.1;     // t_i: the first steps, no pruning (as the paper's code: the
  double final_fraction = 0.2;      // LR warm-up), t_f: the last steps, at the final sparsity (twice it)
};

// "movement:amount=F" (0 < F < 1) as MovementPruning. InputError, one line naming the fault, for
// another method, a missing or invalid amount, or an unknown key.
MovementPruning parse_movement_spec(const std::string& spec);

// The cubic schedule of the paper: the sparsity s_t after `step` optimizer steps of `total`,
//   s_t = s_f + (s_i - s_f) * (1 - (t - t_i) / (T - t_i - t_f))^3,  s_i = 0, s_f = amount,
// clamped to 0 for t <= t_i and to s_f for t >= T - t_f (t_i, t_f: the fractions of `total`,
// rounded down as the LR warm-up is). InputError for an amount outside [0, 1) or total < 1.
double movement_sparsity(const MovementPruning& m, int64_t step, int64_t total);

}  // namespace slimformer::compress
