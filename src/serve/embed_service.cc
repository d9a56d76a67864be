#include "serve/embed_service.h"

#include <cstring>

#include "slimformer/error.h"

namespace slimformer::serve {
namespace {

constexpr int64_t kDefaultBatchTexts = 16;   // the default budget: this many texts at the input limit

ServeLimits checked_limits(ServeLimits l, int64_t model_limit) {
  if (l.max_input_length == 0) l.max_input_length = model_limit;
  if (l.max_input_length < 1 || l.max_input_length > model_limit) {
    throw InputError("--max-input-length: " + std::to_string(l.max_input_length) + " is outside [1, " +
                     std::to_string(model_limit) + "] (the model's limit)");
  }
  if (l.max_batch_tokens == 0) l.max_batch_tokens = kDefaultBatchTexts * l.max_input_length;
  if (l.max_batch_tokens < l.max_input_length) {
    throw InputError("--max-batch-tokens: " + std::to_string(l.max_batch_tokens) + " is below --max-input-length " +
                     std::to_string(l.max_input_length) + " (a batch must hold the longest text)");
  }
  return l;
}

}  // namespace

EmbedService::EmbedService(const SentenceEncoder& encoder, ServeLimits limits, BatchQueue::OnBatch on_batch)
    : encoder_(encoder), limits_(checked_limits(limits, encoder.max_length())) {
  queue_ = std::make_unique<BatchQueue>(
      limits_.max_batch_tokens, [this](const std::vector<const Encoding*>& batch) { return run_batch(batch); },
      std::move(on_batch), limits_.batch_across_requests);
}

EmbedService::~EmbedService() { close(); }

void EmbedService::close() { queue_->close(); }

std::vector<std::vector<float>> EmbedService::run_batch(const std::vector<const Encoding*>& batch) const {
  std::vector<Encoding> encodings;
  encodings.reserve(batch.size());
  for (const Encoding* e : batch) encodings.push_back(*e);
  const Batch b = make_batch(encodings, encoder_.tokenizer().pad_id());
  const Tensor pooled = pool(encoder_.encoder().forward(b).last_hidden_state, b.mask, encoder_.sentence_config().pooling);
  const int64_t H = pooled.dim(1);
  std::vector<std::vector<float>> rows(batch.size(), std::vector<float>(static_cast<size_t>(H)));
  for (size_t r = 0; r < rows.size(); ++r) {
    std::memcpy(rows[r].data(), pooled.data<float>() + static_cast<int64_t>(r) * H, static_cast<size_t>(H) * sizeof(float));
  }
  return rows;
}

Parsed<EmbedResult> EmbedService::embed(const EmbedRequest& request) {
  std::vector<Encoding> encodings;
  encodings.reserve(request.texts.size());
  EmbedResult result;
  const Tokenizer& tok = encoder_.tokenizer();
  for (size_t i = 0; i < request.texts.size(); ++i) {
    Encoding e;
    try {
      e = tok.encode(request.texts[i]);
    } catch (const std::exception& ex) {
      return RequestError{422, "input " + std::to_string(i) + ": " + ex.what(), "Tokenizer"};
    }
    const auto n = static_cast<int64_t>(e.ids.size());
    if (n > limits_.max_input_length) {
      if (!request.truncate) {
        return RequestError{422,
                            "input " + std::to_string(i) + " has " + std::to_string(n) + " tokens, over the limit of " +
                                std::to_string(limits_.max_input_length) + " (send \"truncate\": true to cut it)",
                            "Validation"};
      }
      EncodeOptions cut;   // the tokenizer's own truncation, as `slimformer embed` truncates
      cut.max_length = limits_.max_input_length;
      e = tok.encode(request.texts[i], cut);
    }
    result.tokens += static_cast<int64_t>(e.ids.size());
    encodings.push_back(std::move(e));
  }
  try {
    result.rows = queue_->run(std::move(encodings));
  } catch (const QueueClosed& e) {
    return RequestError{503, e.what(), "Unavailable"};
  } catch (const std::exception& e) {
    return RequestError{500, std::string("the model failed: ") + e.what(), "Backend"};
  }
  if (request.normalize.value_or(encoder_.sentence_config().normalize) && !result.rows.empty()) {
    const int64_t H = static_cast<int64_t>(result.rows[0].size());
    Tensor t = Tensor::empty({static_cast<int64_t>(result.rows.size()), H});
    for (size_t r = 0; r < result.rows.size(); ++r) {
      std::memcpy(t.data<float>() + static_cast<int64_t>(r) * H, result.rows[r].data(), static_cast<size_t>(H) * sizeof(float));
    }
    l2_normalize_rows(t);   // the function `embed` normalizes with: row by row, so the same bits
    for (size_t r = 0; r < result.rows.size(); ++r) {
      std::memcpy(result.rows[r].data(), t.data<float>() + static_cast<int64_t>(r) * H, static_cast<size_t>(H) * sizeof(float));
    }
  }
  return result;
}

std::vector<Encoding> EmbedService::tokenize(const TokenizeRequest& request) const {
  EncodeOptions opt;
  opt.add_special_tokens = request.add_special_tokens;
  std::vector<Encoding> out;
  out.reserve(request.texts.size());
  for (const std::string& t : request.texts) out.push_back(encoder_.tokenizer().encode(t, opt));
  return out;
}

}  // namespace slimformer::serve
