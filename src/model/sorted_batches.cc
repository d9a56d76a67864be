// Tokenizing with one truncation warning, and batches sorted longest first (see sorted_batches.h).
#include "model/sorted_batches.h"

#include <algorithm>
#include <cstring>
#include <iostream>
#include <numeric>

#include "slimformer/error.h"

namespace slimformer::model {

std::vector<Encoding> encode_truncated(size_t n, int64_t limit, const EncodeFn& encode, const std::string& noun) {
  std::vector<Encoding> out;
  out.reserve(n);
  EncodeOptions truncate;
  truncate.max_length = limit;
  int64_t truncated = 0, first = -1, first_len = 0;
  for (size_t i = 0; i < n; ++i) {
    Encoding e = encode(i, EncodeOptions{});
    if (static_cast<int64_t>(e.ids.size()) > limit) {
      if (truncated++ == 0) {
        first = static_cast<int64_t>(i);
        first_len = static_cast<int64_t>(e.ids.size());
      }
      e = encode(i, truncate);   // the tokenizer's own truncation keeps the end tokens
    }
    out.push_back(std::move(e));
  }
  if (truncated > 0) {
    // 1-based, so that it reads as the input line number when inputs come one per line
    std::cerr << "slimformer: warning: " << truncated << " " << noun << "(s) longer than " << limit
              << " tokens were truncated (first: " << noun << " " << first + 1 << ", " << first_len << " tokens)\n";
  }
  return out;
}

void for_each_sorted_batch(const std::vector<Encoding>& enc, int64_t batch_size, int64_t pad_id, const BatchFn& fn,
                           const ProgressFn& progress) {
  const int64_t n = static_cast<int64_t>(enc.size());
  std::vector<int64_t> order(static_cast<size_t>(n));
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return enc[a].ids.size() > enc[b].ids.size(); });
  std::vector<Encoding> chunk;
  std::vector<int64_t> inputs;
  for (int64_t start = 0; start < n; start += batch_size) {
    const int64_t end = std::min(n, start + batch_size);
    chunk.clear();
    inputs.assign(order.begin() + start, order.begin() + end);
    for (int64_t i : inputs) chunk.push_back(enc[i]);
    fn(make_batch(chunk, pad_id), inputs);
    if (progress) progress(end, n);
  }
}

void scatter_rows(const Tensor& rows, const std::vector<int64_t>& inputs, Tensor& out) {
  const int64_t w = out.dim(1);
  for (size_t r = 0; r < inputs.size(); ++r) {
    std::memcpy(out.data<float>() + inputs[r] * w, rows.data<float>() + static_cast<int64_t>(r) * w, w * sizeof(float));
  }
}

int64_t checked_limit(int64_t batch_size, int64_t max_length, int64_t model_limit) {
  if (batch_size <= 0) throw InputError("batch_size must be positive, got " + std::to_string(batch_size));
  if (max_length < 0) throw InputError("max_length must not be negative, got " + std::to_string(max_length));
  return max_length == 0 ? model_limit : std::min(max_length, model_limit);
}

}  // namespace slimformer::model
