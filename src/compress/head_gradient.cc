// Gradient head importance (Michel, Levy, Neubig 2019): how much the loss on scored sentence pairs
// moves when a head's output is scaled, summed as |.| over batches, normalised per layer.
//
// Why the attention output weights' gradient is enough. A layer's attention output is
//   out = ctx W^T + b,   ctx (T, heads * d) the heads' contexts side by side, W (H, heads * d),
// so gating head h (its context columns cols(h) times xi_h) gives
//   out = sum_h xi_h ctx[:, cols(h)] W[:, cols(h)]^T + b,
//   d loss / d xi_h = sum_t sum_i dout[t, i] sum_{j in cols(h)} ctx[t, j] W[i, j]
//                   = sum_i sum_{j in cols(h)} W[i, j] G[i, j],   G = dout^T ctx = d loss / d W,
// at xi = 1. It is also d/ds of the loss with W's columns cols(h) scaled by s, at s = 1: what the
// finite-difference test perturbs. No gate needs adding to the encoder.
#include "compress/head_gradient.h"

#include <algorithm>
#include <cmath>

#include "compress/state_util.h"
#include "slimformer/compress.h"
#include "slimformer/encoder.h"
#include "slimformer/error.h"
#include "train/similarity_loss.h"

namespace slimformer::compress {

Batch pair_batch(const Tokenizer& tok, const std::vector<StsPair>& pairs, size_t begin, size_t end,
                 int64_t max_length) {
  EncodeOptions opt;
  opt.max_length = max_length;
  std::vector<Encoding> enc;
  for (size_t i = begin; i < end; ++i) enc.push_back(tok.encode(pairs[i].sentence1, opt));
  for (size_t i = begin; i < end; ++i) enc.push_back(tok.encode(pairs[i].sentence2, opt));
  return make_batch(enc, tok.pad_id());
}

double pair_batch_loss(train::TrainableEncoder& model, const Batch& batch, const std::vector<double>& targets,
                       PoolingMode pooling, bool backward) {
  const Tensor pooled = model.forward(batch, pooling);   // (2b, H): the u rows, then the v rows
  const int64_t b = static_cast<int64_t>(targets.size()), H = pooled.dim(1);
  if (pooled.dim(0) != 2 * b) throw InputError("pair_batch_loss: a batch of " + std::to_string(pooled.dim(0)) +
                                               " sentences for " + std::to_string(b) + " pairs");
  Tensor d = Tensor::empty(pooled.shape());
  const double loss = train::cosine_similarity_loss(d.data<float>(), d.data<float>() + b * H, pooled.data<float>(),
                                                    pooled.data<float>() + b * H, targets.data(), b, H);
  if (backward) model.backward(d);
  return loss;
}

std::vector<std::vector<double>> head_gate_gradients(const train::TrainableEncoder& model,
                                                     const std::vector<std::string>& out_weights, int64_t head_dim) {
  std::vector<std::vector<double>> out;
  for (const std::string& name : out_weights) {
    const train::Parameter& p = model.parameter(name);
    const int64_t rows = p.value.dim(0), cols = p.value.dim(1);
    const float* w = p.value.data<float>();
    const float* g = p.grad.data<float>();
    std::vector<double> heads(static_cast<size_t>(cols / head_dim), 0.0);
    for (int64_t i = 0; i < rows; ++i) {
      for (int64_t j = 0; j < cols; ++j) heads[static_cast<size_t>(j / head_dim)] += double(w[i * cols + j]) * g[i * cols + j];
    }
    out.push_back(std::move(heads));
  }
  return out;
}

HeadImportance head_importance_by_gradient(const std::string& model_dir, const std::vector<StsPair>& pairs,
                                           const HeadGradientOptions& o) {
  if (o.max_pairs < 1 || o.batch_size < 1 || o.max_length < 0) {
    throw InputError("gradient head importance: max_pairs and batch_size must be at least 1, max_length at least 0");
  }
  if (pairs.empty()) throw InputError("gradient head importance: no scored pairs");
  const std::string head = sequence_classification_head(model_dir);
  if (!head.empty()) {
    throw InputError("'" + model_dir + "' is a " + head + " model: gradient head importance needs a sentence "
                     "embedding model (its loss is the cosine of the two sentences' embeddings against an STS-B score)");
  }
  const SentenceConfig sentence = read_sentence_config(model_dir);
  if (sentence.pooling != PoolingMode::Mean && sentence.pooling != PoolingMode::Cls) {
    throw InputError("'" + model_dir + "' pools by max, mean_sqrt_len, weightedmean or lasttoken: gradient head "
                     "importance trains through mean or cls pooling");
  }
  if (!sentence.dense.empty()) {
    throw InputError("'" + model_dir + "' projects its pooled vector with Dense modules: gradient head importance "
                     "trains through the pooled vector alone");
  }
  const Checkpoint ckpt(model_dir);
  ModelState m = state_of(ckpt);
  const model::TensorNames names = names_of(m);
  std::vector<std::string> out_weights;
  for (const model::LayerNames& l : names.layers) {
    check_not_quantized(m, l.attn_out_w, "head pruning");
    out_weights.push_back(l.attn_out_w);
  }
  train::TrainableEncoder model(ckpt);
  const std::unique_ptr<Tokenizer> tok = load_tokenizer(model_dir);
  const EncoderConfig& c = m.config;
  int64_t limit = c.max_position_embeddings - c.position_offset;
  if (sentence.max_seq_length > 0) limit = std::min(limit, sentence.max_seq_length);
  if (o.max_length > 0) limit = std::min(limit, o.max_length);
  const int64_t head_dim = c.hidden_size / c.num_heads;

  const size_t n = std::min(pairs.size(), static_cast<size_t>(o.max_pairs));
  std::vector<std::vector<double>> sums;
  for (size_t begin = 0; begin < n; begin += static_cast<size_t>(o.batch_size)) {
    const size_t end = std::min(n, begin + static_cast<size_t>(o.batch_size));
    std::vector<double> targets;
    for (size_t i = begin; i < end; ++i) targets.push_back(pairs[i].score / 5.0);
    model.zero_grad();
    pair_batch_loss(model, pair_batch(*tok, pairs, begin, end, limit), targets, sentence.pooling, /*backward=*/true);
    const std::vector<std::vector<double>> g = head_gate_gradients(model, out_weights, head_dim);
    if (sums.empty()) {
      sums = g;
      for (auto& layer : sums) std::fill(layer.begin(), layer.end(), 0.0);
    }
    // |.| per batch, then summed: heads whose effect changes sign between batches still count.
    for (size_t l = 0; l < g.size(); ++l) {
      for (size_t h = 0; h < g[l].size(); ++h) sums[l][h] += std::fabs(g[l][h]);
    }
  }
  HeadImportance result;
  result.pairs = static_cast<int64_t>(n);
  for (size_t l = 0; l < sums.size(); ++l) {
    std::vector<double>& s = sums[l];
    if (o.normalize_layers) {
      double sq = 0.0;
      for (double v : s) sq += v * v;
      const double norm = std::sqrt(sq);
      for (double& v : s) v /= norm + 1e-20;   // the paper's code: a layer of zeros stays zeros
    }
    result.scores[static_cast<int64_t>(l)] = std::move(s);
  }
  return result;
}

}  // namespace slimformer::compress
