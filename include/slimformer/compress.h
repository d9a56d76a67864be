// Making a trained model smaller: structured pruning (heads, FFN neurons) on a model's state,
// which then saves as a model folder slimformer (and, where it can, Hugging Face) loads.
#pragma once
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "slimformer/checkpoint.h"
#include "slimformer/tensor.h"

namespace slimformer::compress {

// A model's whole state while it is compressed: its config and every tensor by name.
struct ModelState {
  EncoderConfig config;
  std::map<std::string, Tensor> tensors;
};

// Every tensor of `ckpt` (views of its files: nothing is copied until changed).
ModelState state_of(const Checkpoint& ckpt);
// An in-memory checkpoint of `m` (an Encoder loads it like a folder).
std::shared_ptr<const Checkpoint> checkpoint_of(const ModelState& m);

// Hugging Face's prune_heads: removes heads (original indices, as config.pruned_heads counts
// them) from each layer: their rows of query, key and value and their columns of the attention
// output. Heads already removed are skipped; config.pruned_heads records the union. InputError
// for a layer or head out of range, or a request that leaves a layer without heads.
void remove_heads(ModelState& m, const std::map<int64_t, std::vector<int64_t>>& heads);

// Removes FFN neurons (the layer's current indices): their rows of the FFN input Linear and
// columns of its output Linear, so the layer's width (config.intermediate_sizes) shrinks. What a
// removed neuron adds for a zero input, act(bias_j) * W_out[:, j], is folded into the output
// bias, so removing a neuron whose input weights are all zero changes nothing (and one with small
// weights, little). InputError for a layer or neuron out of range.
void remove_ffn_neurons(ModelState& m, const std::map<int64_t, std::vector<int64_t>>& neurons);

}  // namespace slimformer::compress
