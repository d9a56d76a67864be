// The pieces of gradient head importance (head_gradient.cc) that tests check one by one.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "slimformer/eval.h"
#include "slimformer/tokenizer.h"
#include "train/trainable_encoder.h"

namespace slimformer::compress {

// pairs[begin, end) as one batch of 2 (end - begin) sentences: every first sentence, then every
// second one (padding is masked, so each embedding is the one its sentence gets alone).
Batch pair_batch(const Tokenizer& tok, const std::vector<StsPair>& pairs, size_t begin, size_t end,
                 int64_t max_length);

// CosineSimilarityLoss of a pair_batch: mean over its pairs of (cos(u, v) - target)^2, target the
// score / 5. With backward, adds d loss / d parameter to the encoder's gradients.
double pair_batch_loss(train::TrainableEncoder& model, const Batch& batch, const std::vector<double>& targets,
                       PoolingMode pooling, bool backward);

// d loss / d xi_h for every head still in each layer, from the gradients of the attention output
// weights (out_weights[l], (H, heads * head_dim)) that the last backward left.
std::vector<std::vector<double>> head_gate_gradients(const train::TrainableEncoder& model,
                                                     const std::vector<std::string>& out_weights, int64_t head_dim);

}  // namespace slimformer::compress
