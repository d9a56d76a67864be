// SentenceEncoder: text -> tokens (truncated to the model's limit) -> batches sorted by length ->
// encoder -> pooling -> Dense modules -> optional l2 normalization, back in the input order.
#include <algorithm>

#include "model/sorted_batches.h"
#include "slimformer/encoder.h"

namespace slimformer {

SentenceEncoder::SentenceEncoder(const std::string& model_dir, const AttentionSpec& attention)
    : checkpoint_(std::make_shared<Checkpoint>(model_dir)),
      encoder_(std::make_unique<Encoder>(checkpoint_, attention)),
      tokenizer_(load_tokenizer(model_dir)),
      sentence_(read_sentence_config(model_dir)) {
  int64_t width = encoder_->config().hidden_size;   // what pooling gives the first Dense
  for (const DenseModuleConfig& d : sentence_.dense) {
    dense_.push_back(load_dense_layer(d, width));
    width = d.out_features;
  }
}

int64_t SentenceEncoder::dim() const {
  return dense_.empty() ? encoder_->config().hidden_size : dense_.back().config.out_features;
}

int64_t SentenceEncoder::max_length() const {
  const EncoderConfig& c = encoder_->config();
  const int64_t model_limit = c.max_position_embeddings - c.position_offset;
  return sentence_.max_seq_length > 0 ? std::min(sentence_.max_seq_length, model_limit) : model_limit;
}

Tensor SentenceEncoder::embed(const std::vector<std::string>& texts, int64_t batch_size, int64_t max_len,
                              bool normalize_override_off, const ProgressFn& progress) const {
  const int64_t limit = model::checked_limit(batch_size, max_len, max_length());
  const std::vector<Encoding> enc = model::encode_truncated(
      texts.size(), limit, [&](size_t i, const EncodeOptions& o) { return tokenizer_->encode(texts[i], o); }, "text");
  const int64_t N = static_cast<int64_t>(texts.size()), H = dim();
  Tensor out = Tensor::empty({N, H});
  const bool normalize = sentence_.normalize && !normalize_override_off;
  model::for_each_sorted_batch(
      enc, batch_size, tokenizer_->pad_id(),
      [&](const Batch& batch, const std::vector<int64_t>& inputs) {
        Tensor pooled = pool(encoder_->forward(batch).last_hidden_state, batch.mask, sentence_.pooling);
        for (const DenseLayer& d : dense_) pooled = dense_forward(pooled, d);
        if (normalize) l2_normalize_rows(pooled);
        model::scatter_rows(pooled, inputs, out);
      },
      progress);
  return out;
}

}  // namespace slimformer
