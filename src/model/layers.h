// The encoder's building blocks on (B*T, H) row-major activations: embeddings, one post-LN
// encoder layer, the BERT pooler. Buffers come from a Workspace allocated once per forward.
#pragma once
#include <vector>

#include "model/weights.h"
#include "slimformer/attention.h"
#include "slimformer/checkpoint.h"
#include "slimformer/tensor.h"
#include "slimformer/tokenizer.h"

namespace slimformer::model {

// A forward's sizes; heads and intermediate are the widest layer's (what the workspace holds),
// each layer reads its own from LayerWeights.
struct Dims {
  int64_t batch, seq, hidden, heads, head_dim, intermediate;
  int64_t rows() const { return batch * seq; }
  bool operator==(const Dims&) const = default;
};

// Scratch for one forward, reused by every layer (counting allocator: peak bytes are exact).
struct Workspace {
  explicit Workspace(const Dims& d);
  Tensor qkv;         // (B*T, 3, h, d): the stacked q, k, v projection, read in place by attention
  Tensor qkv_global;  // (B*T, 3, h, d): Longformer's global projections, allocated when first used
  Tensor ctx;         // (B*T, h*d): attention context, heads merged as written
  Tensor mid;         // (B*T, I): feed-forward intermediate
  // (h: a layer's heads, at most Dims::heads; I: its FFN width, at most Dims::intermediate.)
  AttentionScratch attention;   // whatever the attention mechanism asks for
};

// What a layer's attention needs besides the weights: the mechanism and the batch's masks.
struct LayerAttention {
  const Attention* mechanism = nullptr;
  const int64_t* mask = nullptr;          // (B, T) 1 token / 0 padding
  const int64_t* global_mask = nullptr;   // (B, T) or null
  int layer = 0;
};

// out (B*T, H) = LayerNorm(word[ids] + position[pos] + token_type[types]); types may be null.
void embeddings_forward(float* out, const EncoderWeights& w, const EncoderConfig& c, const Dims& d,
                        const int64_t* ids, const int64_t* positions, const int64_t* types);

// x (B*T, H) in place: x = LN(x + attn(x)); x = LN(x + ffn(x)).
void encoder_layer_forward(float* x, const LayerWeights& w, const EncoderConfig& c, const Dims& d, Workspace& ws,
                           const LayerAttention& attn);

// out (B, H) = tanh(dense(hidden[:, 0, :])) for hidden (B, T, H).
void pooler_forward(float* out, const float* hidden, const Linear& dense, const Dims& d);

// Position ids (B*T): 0..T-1, or RoBERTa's: pad + cumulative count of non-pad ids, pad for pads.
std::vector<int64_t> position_ids(const std::vector<int64_t>& ids, const EncoderConfig& c, int64_t batch, int64_t seq);
// InputError unless every id, mask value and type id of b is in range for c and its arrays
// match its shape (encoder.cc), so a forward never reads out of range.
void check_batch(const Batch& b, const EncoderConfig& c);

// out (B, O) = x (B, K) W^T + b with W (O, K) and b (O) F32, then tanh if asked: a
// classification head's few rows by a few labels, next to which the encoder's cost is
// everything, so a plain loop summed in double (SequenceClassifier, train::ClassifierHead).
Tensor head_linear(const float* x, int64_t B, const Tensor& w, const Tensor& b, bool tanh_after);

}  // namespace slimformer::model
