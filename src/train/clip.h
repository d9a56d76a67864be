// Gradient clipping by global L2 norm, as torch.nn.utils.clip_grad_norm_ (PyTorch 1.13): the
// norm is taken over all gradients together, and all are scaled by one factor, so the update's
// direction is kept.
#pragma once
#include <vector>

#include "slimformer/tensor.h"

namespace slimformer::train {

// Scales the f32 tensors in `grads` in place by max_norm / (total_norm + 1e-6) when that factor
// is below 1, where total_norm is the L2 norm of all their elements together (the handles share
// memory with the caller's buffers, so they are taken by value). Returns total_norm (before
// clipping). A non-finite total norm is returned with the gradients untouched, so the caller can
// skip the step. InputError for a gradient that is not F32 or a max_norm that is not a positive
// finite number.
float clip_grad_norm(std::vector<Tensor> grads, double max_norm);

// The global L2 norm alone (what clip_grad_norm returns), for logging.
float global_grad_norm(const std::vector<Tensor>& grads);

}  // namespace slimformer::train
