// The JSON answers of `slimformer serve`. Floats are written as the shortest text that reads
// back as the same float (as `slimformer embed` writes them), so a client gets the exact bits.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "serve/request.h"
#include "slimformer/tokenizer.h"

namespace slimformer::serve {

// {"error": message, "error_type": type}
std::string error_json(const RequestError& e);
// [[f, ...], ...]: text-embeddings-inference's /embed answer.
std::string embeddings_json(const std::vector<std::vector<float>>& rows);
// OpenAI's {"object": "list", "data": [{"object": "embedding", "index": i, "embedding": [...]}],
// "model": model, "usage": {"prompt_tokens": N, "total_tokens": N}}.
std::string openai_embeddings_json(const std::vector<std::vector<float>>& rows, const std::string& model,
                                   int64_t prompt_tokens);
// [{"ids", "tokens", "attention_mask", "offsets"}, ...]: one object per text, as `slimformer
// tokenize` prints a line (offsets in characters).
std::string tokenize_json(const std::vector<Encoding>& encodings, const std::vector<std::string>& texts);

}  // namespace slimformer::serve
