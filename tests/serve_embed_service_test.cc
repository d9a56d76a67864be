// The service behind `slimformer serve`'s endpoints on bert-mini-sts: rows equal
// SentenceEncoder::embed's (bit for bit for a request alone), and the input limit, truncation and
// normalization behave as embed's flags do.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <thread>

#include "serve/embed_service.h"
#include "slimformer/error.h"
#include "test_util.h"

namespace {

namespace sv = slimformer::serve;

const std::string kModel = slimtest::shared_dir() + "/models/bert-mini-sts";

std::vector<std::string> texts() {
  std::vector<std::string> t = {"a", "The cat sat on the mat.", "", "Résumé of naïve café owners, 2024!"};
  std::string longer;
  for (int i = 0; i < 40; ++i) {
    longer += "word" + std::to_string(i) + " ";
    if (i % 7 == 0) t.push_back(longer);
  }
  return t;
}

bool same_bits(const std::vector<float>& row, const slimformer::Tensor& all, int64_t i) {
  return static_cast<int64_t>(row.size()) == all.dim(1) &&
         std::memcmp(row.data(), all.data<float>() + i * all.dim(1), row.size() * sizeof(float)) == 0;
}

float max_abs_diff(const std::vector<float>& row, const slimformer::Tensor& all, int64_t i) {
  float worst = 0.0f;
  for (size_t j = 0; j < row.size(); ++j) {
    const float d = std::fabs(row[j] - all.data<float>()[i * all.dim(1) + static_cast<int64_t>(j)]);
    worst = std::isnan(d) ? INFINITY : std::max(worst, d);
  }
  return worst;
}

// A request alone, within the budget, runs as the one forward `embed` runs for the same texts.
TEST(ServeEmbedService, ARequestAloneEqualsEmbedBitForBit) {
  const slimformer::SentenceEncoder enc(kModel);
  const auto all = texts();
  const slimformer::Tensor expected = enc.embed(all);
  sv::EmbedService service(enc, {0, static_cast<int64_t>(all.size()) * enc.max_length()});
  sv::EmbedRequest r;
  r.texts = all;
  auto out = service.embed(r);
  ASSERT_TRUE(std::holds_alternative<sv::EmbedResult>(out));
  const auto& rows = std::get<sv::EmbedResult>(out).rows;
  ASSERT_EQ(rows.size(), all.size());
  for (size_t i = 0; i < all.size(); ++i) EXPECT_TRUE(same_bits(rows[i], expected, static_cast<int64_t>(i))) << i;
}

// Concurrent requests share forwards with each other's texts. The encoder's results for a row
// move in the last bits with the rows it shares a forward with (oneDNN's matmul picks its
// kernel per row count; docs/serve.md), so rows are compared within float rounding here.
TEST(ServeEmbedService, ConcurrentBatchedRequestsEqualEmbedWithinRounding) {
  const slimformer::SentenceEncoder enc(kModel);
  const auto all = texts();
  const slimformer::Tensor expected = enc.embed(all, 32, 64);   // truncated to the service's limit
  std::vector<size_t> batch_sizes;
  sv::EmbedService service(enc, {64, 200}, [&](size_t n, int64_t) { batch_sizes.push_back(n); });
  constexpr int kThreads = 6;
  std::vector<std::thread> threads;
  std::atomic<int> far{0}, failures{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int round = 0; round < 4; ++round) {
        sv::EmbedRequest r;
        r.truncate = true;
        std::vector<size_t> which;
        for (size_t i = (t + round) % 3; i < all.size(); i += 1 + (t % 3)) {
          which.push_back(i);
          r.texts.push_back(all[i]);
        }
        auto out = service.embed(r);
        if (!std::holds_alternative<sv::EmbedResult>(out)) {
          ++failures;
          continue;
        }
        const auto& rows = std::get<sv::EmbedResult>(out).rows;
        for (size_t k = 0; k < which.size(); ++k) far += max_abs_diff(rows[k], expected, static_cast<int64_t>(which[k])) > 1e-5f;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures, 0);
  EXPECT_EQ(far, 0);
  bool mixed = false;
  for (size_t n : batch_sizes) mixed = mixed || n > 1;
  EXPECT_TRUE(mixed) << "no batch held more than one text";
}

TEST(ServeEmbedService, InputLimitTruncationAndNormalization) {
  const slimformer::SentenceEncoder enc(kModel);
  sv::EmbedService service(enc, {16, 64});
  const std::string long_text = texts().back();
  sv::EmbedRequest r;
  r.texts = {"short one", long_text};
  auto refused = service.embed(r);
  ASSERT_TRUE(std::holds_alternative<sv::RequestError>(refused));
  EXPECT_EQ(std::get<sv::RequestError>(refused).status, 422);
  EXPECT_NE(std::get<sv::RequestError>(refused).message.find("input 1"), std::string::npos);

  r.truncate = true;
  auto cut = service.embed(r);
  ASSERT_TRUE(std::holds_alternative<sv::EmbedResult>(cut));
  const slimformer::Tensor expected = enc.embed(r.texts, 32, 16);
  EXPECT_TRUE(same_bits(std::get<sv::EmbedResult>(cut).rows[1], expected, 1));
  const int64_t short_tokens = static_cast<int64_t>(enc.tokenizer().encode("short one").ids.size());
  EXPECT_EQ(std::get<sv::EmbedResult>(cut).tokens, short_tokens + 16);

  r.normalize = true;
  auto normalized = service.embed(r);
  ASSERT_TRUE(std::holds_alternative<sv::EmbedResult>(normalized));
  slimformer::Tensor unit = expected.to_f32();   // a copy
  slimformer::l2_normalize_rows(unit);
  EXPECT_TRUE(same_bits(std::get<sv::EmbedResult>(normalized).rows[0], unit, 0));
  double norm = 0;
  for (float v : std::get<sv::EmbedResult>(normalized).rows[1]) norm += double(v) * v;
  EXPECT_NEAR(norm, 1.0, 1e-5);
}

TEST(ServeEmbedService, LimitsAreChecked) {
  const slimformer::SentenceEncoder enc(kModel);
  EXPECT_THROW(sv::EmbedService(enc, {enc.max_length() + 1, 0}), slimformer::InputError);
  EXPECT_THROW(sv::EmbedService(enc, {64, 32}), slimformer::InputError);
  sv::EmbedService defaults(enc, {});
  EXPECT_EQ(defaults.limits().max_input_length, enc.max_length());
  EXPECT_GE(defaults.limits().max_batch_tokens, enc.max_length());
  defaults.close();
  sv::EmbedRequest r;
  r.texts = {"x"};
  auto out = defaults.embed(r);
  ASSERT_TRUE(std::holds_alternative<sv::RequestError>(out));
  EXPECT_EQ(std::get<sv::RequestError>(out).status, 503);
}

}  // namespace
