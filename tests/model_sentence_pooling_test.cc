// Weighted-mean and last-token pooling end to end: a folder's embeddings against a scalar
// reference over the encoder's token states, and padding that never changes a row's bytes.
#include <gtest/gtest.h>

#include <cmath>
#include <algorithm>
#include <cstring>

#include "sentence_folder_util.h"
#include "slimformer/encoder.h"
#include "test_util.h"

using namespace slimformer;

namespace {

// Mixed lengths, so batches of 7 pad most of their rows.
const std::vector<std::string> kTexts = {
    "A man is playing a guitar.", "short", "", "A woman slices an onion on a wooden board in the kitchen.",
    "the cat", "Two dogs run through a field of tall grass near the river bank, chasing a red ball.",
    "A child reads.", "Three people are sitting at a table and talking about the weather today.", "yes"};

// The pooled vector of row b of (B, T, H) states under the mask, in double: sentence-transformers'
// weightedmean (token t, counted from 1, weighted by t) or lasttoken (the last kept token).
std::vector<double> reference_pool(const Tensor& states, const std::vector<int64_t>& mask, int64_t b,
                                   const std::string& mode) {
  const int64_t T = states.dim(1), H = states.dim(2);
  std::vector<double> out(static_cast<size_t>(H), 0.0);
  double weights = 0;
  int64_t last = -1;
  for (int64_t t = 0; t < T; ++t) {
    if (!mask[static_cast<size_t>(b * T + t)]) continue;
    last = t;
    weights += static_cast<double>(t + 1);
    for (int64_t j = 0; j < H; ++j) out[static_cast<size_t>(j)] += (t + 1.0) * states.data<float>()[(b * T + t) * H + j];
  }
  for (int64_t j = 0; j < H; ++j) {
    out[static_cast<size_t>(j)] = mode == "lasttoken" ? states.data<float>()[(b * T + last) * H + j]
                                                      : out[static_cast<size_t>(j)] / weights;
  }
  return out;
}

double max_row_diff(const float* got, const std::vector<double>& want) {
  double worst = 0;
  for (size_t j = 0; j < want.size(); ++j) worst = std::max(worst, std::fabs(got[j] - want[j]));
  return worst;
}

class SentencePooling : public ::testing::TestWithParam<std::string> {};

}  // namespace

// Each text alone through the encoder, pooled by the reference: what embed gives in padded batches.
TEST_P(SentencePooling, EmbeddingsMatchTheReferenceOverTokenStates) {
  const std::string mode = GetParam();
  const SentenceEncoder enc(slimtest::write_sentence_folder(slimtest::make_temp_dir() + "/st", mode));
  const Tensor got = enc.embed(kTexts, 7);
  const int64_t H = enc.dim();
  ASSERT_EQ(H, 16);
  for (size_t i = 0; i < kTexts.size(); ++i) {
    const Batch one = make_batch({enc.tokenizer().encode(kTexts[i])}, enc.tokenizer().pad_id());
    const Tensor states = enc.encoder().forward(one).last_hidden_state;
    EXPECT_LT(max_row_diff(got.data<float>() + i * H, reference_pool(states, one.mask, 0, mode)), 1e-5)
        << mode << ": " << kTexts[i];
  }
}

// pool() on one padded batch's states against the reference on the same states.
TEST_P(SentencePooling, PoolOfAPaddedBatchMatchesTheReference) {
  const std::string mode = GetParam();
  const SentenceEncoder enc(slimtest::write_sentence_folder(slimtest::make_temp_dir() + "/st", mode));
  std::vector<Encoding> encodings;
  for (const std::string& t : kTexts) encodings.push_back(enc.tokenizer().encode(t));
  const Batch batch = make_batch(encodings, enc.tokenizer().pad_id());
  const Tensor states = enc.encoder().forward(batch).last_hidden_state;
  const Tensor got = pool(states, batch.mask, enc.sentence_config().pooling);
  for (int64_t b = 0; b < batch.batch; ++b) {
    EXPECT_LT(max_row_diff(got.data<float>() + b * 16, reference_pool(states, batch.mask, b, mode)), 1e-6)
        << mode << ": row " << b;
  }
}

// Padding never reaches the result: pooling and a Dense module give each row of a padded batch
// the same bytes as the same token states alone, unpadded. (The encoder's own states may differ
// in the last bits between batch shapes, so end to end the batch sizes agree within 1e-5.)
TEST_P(SentencePooling, PaddingDoesNotChangeTheBytes) {
  const std::string mode = GetParam();
  const SentenceEncoder enc(slimtest::write_sentence_folder(slimtest::make_temp_dir() + "/st", mode,
                                                            {slimtest::random_dense(16, 6, 11)}, true));
  const DenseLayer dense = load_dense_layer(enc.sentence_config().dense.at(0), 16);
  std::vector<Encoding> encodings;
  for (const std::string& t : kTexts) encodings.push_back(enc.tokenizer().encode(t));
  const Batch batch = make_batch(encodings, enc.tokenizer().pad_id());
  const Tensor states = enc.encoder().forward(batch).last_hidden_state;
  const Tensor padded = dense_forward(pool(states, batch.mask, enc.sentence_config().pooling), dense);
  const int64_t T = batch.seq, H = 16;
  for (int64_t b = 0; b < batch.batch; ++b) {
    const int64_t n = static_cast<int64_t>(encodings[static_cast<size_t>(b)].ids.size());
    ASSERT_LT(n, T + 1);
    Tensor alone = Tensor::empty({1, n, H});
    std::copy_n(states.data<float>() + b * T * H, n * H, alone.data<float>());
    const Tensor want = dense_forward(pool(alone, std::vector<int64_t>(static_cast<size_t>(n), 1), enc.sentence_config().pooling), dense);
    EXPECT_EQ(std::memcmp(padded.data<float>() + b * 6, want.data<float>(), 6 * sizeof(float)), 0) << mode << ": row " << b;
  }
  const Tensor one = enc.embed(kTexts, 1), seven = enc.embed(kTexts, 7);
  ASSERT_EQ(one.shape(), seven.shape());
  for (int64_t i = 0; i < one.numel(); ++i) EXPECT_NEAR(one.data<float>()[i], seven.data<float>()[i], 1e-5) << i;
}

INSTANTIATE_TEST_SUITE_P(Modes, SentencePooling, ::testing::Values("weightedmean", "lasttoken"));
