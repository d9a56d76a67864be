// `slimformer serve`'s request bodies: the same bytes as an /embed, a /v1/embeddings and a
// /tokenize body. Every input must give a request or an HTTP error with a 4xx status and a
// message (the parsers never throw).
#include <cstdlib>

#include "fuzz_util.h"
#include "serve/request.h"

namespace {

template <typename T>
void check(const slimformer::serve::Parsed<T>& parsed) {
  if (const auto* error = std::get_if<slimformer::serve::RequestError>(&parsed)) {
    if (error->status < 400 || error->status > 499 || error->message.empty()) std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string body(reinterpret_cast<const char*>(data), size);
  for (const char* type : {"application/json", "application/json; charset=utf-8"}) {
    check(slimformer::serve::parse_embed_request(body, type));
    check(slimformer::serve::parse_openai_request(body, type));
    check(slimformer::serve::parse_tokenize_request(body, type));
  }
  return 0;
}
