// SentenceEncoder: text -> tokens (truncated to the model's limit) -> batches sorted by length ->
// encoder -> pooling -> optional l2 normalization, back in the input order.
#include <algorithm>
#include <cstring>
#include <iostream>
#include <numeric>

#include "slimformer/encoder.h"
#include "slimformer/error.h"

namespace slimformer {

SentenceEncoder::SentenceEncoder(const std::string& model_dir, const AttentionSpec& attention)
    : checkpoint_(std::make_shared<Checkpoint>(model_dir)),
      encoder_(std::make_unique<Encoder>(checkpoint_, attention)),
      tokenizer_(load_tokenizer(model_dir)),
      sentence_(read_sentence_config(model_dir)) {}

int64_t SentenceEncoder::max_length() const {
  const EncoderConfig& c = encoder_->config();
  const int64_t model_limit = c.max_position_embeddings - c.position_offset;
  return sentence_.max_seq_length > 0 ? std::min(sentence_.max_seq_length, model_limit) : model_limit;
}

namespace {

// Encodes every text, truncating those over `limit` tokens; one stderr line says how many were.
std::vector<Encoding> encode_all(const Tokenizer& tok, const std::vector<std::string>& texts, int64_t limit) {
  std::vector<Encoding> out;
  out.reserve(texts.size());
  EncodeOptions truncate;
  truncate.max_length = limit;
  int64_t truncated = 0, first = -1, first_len = 0;
  for (size_t i = 0; i < texts.size(); ++i) {
    Encoding e = tok.encode(texts[i]);
    if (static_cast<int64_t>(e.ids.size()) > limit) {
      if (truncated++ == 0) {
        first = static_cast<int64_t>(i);
        first_len = static_cast<int64_t>(e.ids.size());
      }
      e = tok.encode(texts[i], truncate);   // the tokenizer's own truncation keeps the end tokens
    }
    out.push_back(std::move(e));
  }
  if (truncated > 0) {
    // 1-based, so that it reads as the input line number when texts come one per line
    std::cerr << "slimformer: warning: " << truncated << " text(s) longer than " << limit
              << " tokens were truncated (first: text " << first + 1 << ", " << first_len << " tokens)\n";
  }
  return out;
}

}  // namespace

Tensor SentenceEncoder::embed(const std::vector<std::string>& texts, int64_t batch_size, int64_t max_len,
                              bool normalize_override_off) const {
  if (batch_size <= 0) throw InputError("batch_size must be positive, got " + std::to_string(batch_size));
  if (max_len < 0) throw InputError("max_length must not be negative, got " + std::to_string(max_len));
  const int64_t limit = max_len == 0 ? max_length() : std::min(max_len, max_length());
  const std::vector<Encoding> enc = encode_all(*tokenizer_, texts, limit);
  const int64_t N = static_cast<int64_t>(texts.size()), H = encoder_->config().hidden_size;
  Tensor out = Tensor::empty({N, H});

  // Longest first, so each batch pads to lengths close to its own (padding does not change results).
  std::vector<int64_t> order(static_cast<size_t>(N));
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return enc[a].ids.size() > enc[b].ids.size(); });

  const bool normalize = sentence_.normalize && !normalize_override_off;
  std::vector<Encoding> chunk;
  for (int64_t start = 0; start < N; start += batch_size) {
    const int64_t end = std::min(N, start + batch_size);
    chunk.clear();
    for (int64_t i = start; i < end; ++i) chunk.push_back(enc[order[i]]);
    const Batch batch = make_batch(chunk, tokenizer_->pad_id());
    const ForwardResult r = encoder_->forward(batch);
    Tensor pooled = pool(r.last_hidden_state, batch.mask, sentence_.pooling);
    if (normalize) l2_normalize_rows(pooled);
    for (int64_t i = start; i < end; ++i) {
      std::memcpy(out.data<float>() + order[i] * H, pooled.data<float>() + (i - start) * H, H * sizeof(float));
    }
  }
  return out;
}

}  // namespace slimformer
