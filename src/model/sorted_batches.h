// Running many inputs through a model: tokenize with one truncation warning, then batches sorted
// longest first, each scattered back to the input order. Shared by SentenceEncoder::embed and
// SequenceClassifier::logits, so both batch, truncate and report progress the same way.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "slimformer/encoder.h"
#include "slimformer/tensor.h"
#include "slimformer/tokenizer.h"

namespace slimformer::model {

// Encodes input i (of n) with encode(i, options); those over `limit` tokens are encoded again
// with options.max_length = limit (the tokenizer's own truncation: end tokens kept, longest-first
// for pairs). One stderr line then says how many were, naming inputs by `noun` ("text", "pair").
using EncodeFn = std::function<Encoding(size_t i, const EncodeOptions& options)>;
std::vector<Encoding> encode_truncated(size_t n, int64_t limit, const EncodeFn& encode, const std::string& noun);

// Called with each padded batch and, for each of its rows, the index of the input it holds.
using BatchFn = std::function<void(const Batch& batch, const std::vector<int64_t>& inputs)>;

// Pads the encodings into batches of up to batch_size, longest first (each batch pads to lengths
// close to its own; padding does not change results), calls fn on each, then progress(done, total).
void for_each_sorted_batch(const std::vector<Encoding>& encodings, int64_t batch_size, int64_t pad_id,
                           const BatchFn& fn, const ProgressFn& progress);

// Copies row r of `rows` (B, W) to row inputs[r] of `out` (N, W); both F32.
void scatter_rows(const Tensor& rows, const std::vector<int64_t>& inputs, Tensor& out);

// The limit a run encodes to: max_length 0 means the model's own limit, never more than it.
// InputError for a non-positive batch_size or a negative max_length.
int64_t checked_limit(int64_t batch_size, int64_t max_length, int64_t model_limit);

}  // namespace slimformer::model
