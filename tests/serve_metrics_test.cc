// The Prometheus text of `slimformer serve`'s metrics: counters by label, cumulative buckets.
#include <gtest/gtest.h>

#include "serve/metrics.h"

namespace {

namespace sv = slimformer::serve;

bool has_line(const std::string& text, const std::string& line) { return text.find("\n" + line + "\n") != std::string::npos; }

TEST(ServeMetrics, CountsRequestsByEndpointAndStatus) {
  sv::Metrics m;
  m.count_request("/embed", 200);
  m.count_request("/embed", 200);
  m.count_request("/embed", 422);
  m.count_request("/no/such/path", 404);
  m.count_request("/other/path", 404);
  m.count_error("Validation");
  EXPECT_EQ(m.requests("/embed", 200), 2u);
  EXPECT_EQ(m.requests("/embed", 422), 1u);
  EXPECT_EQ(m.requests("/anything", 404), 2u);   // every unknown path is one label
  EXPECT_EQ(m.errors("Validation"), 1u);
  const std::string text = m.render();
  EXPECT_TRUE(has_line(text, R"(slimformer_requests_total{endpoint="/embed",status="200"} 2)")) << text;
  EXPECT_TRUE(has_line(text, R"(slimformer_requests_total{endpoint="other",status="404"} 2)")) << text;
  EXPECT_TRUE(has_line(text, R"(slimformer_errors_total{error_type="Validation"} 1)")) << text;
  EXPECT_TRUE(has_line(text, "# TYPE slimformer_request_duration_seconds histogram")) << text;
}

TEST(ServeMetrics, HistogramBucketsAreCumulativeAndInclusive) {
  sv::Histogram h({1, 2, 4});
  for (double v : {0.5, 1.0, 1.5, 3.0, 9.0}) h.observe(v);
  std::string out = "\n";
  h.render("x", out);
  EXPECT_TRUE(has_line(out, R"(x_bucket{le="1"} 2)")) << out;   // 0.5 and 1.0: `le` includes the bound
  EXPECT_TRUE(has_line(out, R"(x_bucket{le="2"} 3)")) << out;
  EXPECT_TRUE(has_line(out, R"(x_bucket{le="4"} 4)")) << out;
  EXPECT_TRUE(has_line(out, R"(x_bucket{le="+Inf"} 5)")) << out;
  EXPECT_TRUE(has_line(out, "x_sum 15")) << out;
  EXPECT_TRUE(has_line(out, "x_count 5")) << out;
}

TEST(ServeMetrics, BatchesAndLatencies) {
  sv::Metrics m;
  m.observe_batch(3, 30);
  m.observe_batch(40, 400);
  m.observe_latency(0.003);
  const std::string text = m.render();
  EXPECT_TRUE(has_line(text, R"(slimformer_batch_size_bucket{le="4"} 1)")) << text;
  EXPECT_TRUE(has_line(text, R"(slimformer_batch_size_bucket{le="64"} 2)")) << text;
  EXPECT_TRUE(has_line(text, "slimformer_batch_size_sum 43")) << text;
  EXPECT_TRUE(has_line(text, "slimformer_batch_padded_tokens_total 430")) << text;
  EXPECT_TRUE(has_line(text, R"(slimformer_request_duration_seconds_bucket{le="0.0025"} 0)")) << text;
  EXPECT_TRUE(has_line(text, R"(slimformer_request_duration_seconds_bucket{le="0.005"} 1)")) << text;
}

}  // namespace
