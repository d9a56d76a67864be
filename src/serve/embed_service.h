// What the HTTP endpoints of `slimformer serve` do once a body is parsed, without HTTP: texts are
// tokenized on the calling (request) thread and checked against the input limit, then run by the
// one batch worker through the model, and normalized as the request asks.
#pragma once
#include <cstdint>
#include <memory>
#include <vector>

#include "serve/batch_queue.h"
#include "serve/request.h"
#include "slimformer/encoder.h"

namespace slimformer::serve {

struct ServeLimits {
  int64_t max_input_length = 0;   // tokens per text, special tokens included
  int64_t max_batch_tokens = 0;   // padded tokens per forward pass
  bool batch_across_requests = true;   // false: a forward holds one request's texts only
};

struct EmbedResult {
  std::vector<std::vector<float>> rows;
  int64_t tokens = 0;   // tokens of all texts as run (after truncation), special tokens included
};

class EmbedService {
 public:
  // InputError naming the flag unless 1 <= max_input_length <= the model's limit and
  // max_batch_tokens >= max_input_length (a batch must hold the longest text). 0 picks the
  // model's limit, and for the budget 16 texts of that length.
  EmbedService(const SentenceEncoder& encoder, ServeLimits limits, BatchQueue::OnBatch on_batch = {});
  ~EmbedService();

  // 422 for a text over max_input_length without truncate; 503 once closed; 500 if the forward
  // pass failed.
  Parsed<EmbedResult> embed(const EmbedRequest& request);
  std::vector<Encoding> tokenize(const TokenizeRequest& request) const;
  // Refuses new requests; those queued still finish.
  void close();

  const ServeLimits& limits() const { return limits_; }
  const SentenceEncoder& encoder() const { return encoder_; }

 private:
  std::vector<std::vector<float>> run_batch(const std::vector<const Encoding*>& batch) const;

  const SentenceEncoder& encoder_;
  ServeLimits limits_;
  std::unique_ptr<BatchQueue> queue_;
};

}  // namespace slimformer::serve
