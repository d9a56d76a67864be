// What `slimformer serve` counts, rendered in Prometheus' text exposition format (version
// 0.0.4) for GET /metrics. Thread-safe: request threads and the batch worker record into it.
#pragma once
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace slimformer::serve {

// A cumulative histogram with fixed upper bounds (the "+Inf" bucket is implied).
class Histogram {
 public:
  explicit Histogram(std::vector<double> upper_bounds);
  void observe(double value);
  // The _bucket, _sum and _count lines of metric `name`.
  void render(const std::string& name, std::string& out) const;
  uint64_t count() const { return count_; }

 private:
  std::vector<double> bounds_;
  std::vector<uint64_t> counts_;   // per bucket, not cumulative; the last is +Inf
  double sum_ = 0.0;
  uint64_t count_ = 0;
};

class Metrics {
 public:
  Metrics();
  // One answered request. `endpoint` is a served path or anything else, counted as "other" so
  // that arbitrary paths cannot grow the label set.
  void count_request(const std::string& endpoint, int status);
  // One error answer, by its error_type ("Validation", "Malformed", ...).
  void count_error(const std::string& error_type);
  void observe_latency(double seconds);                  // a served endpoint, body read to answer written
  void observe_batch(size_t texts, int64_t padded_tokens);   // one forward of the batch worker
  std::string render() const;

  uint64_t requests(const std::string& endpoint, int status) const;
  uint64_t errors(const std::string& error_type) const;

  static std::string endpoint_label(const std::string& path);

 private:
  mutable std::mutex mutex_;
  std::map<std::pair<std::string, int>, uint64_t> requests_;
  std::map<std::string, uint64_t> errors_;
  Histogram latency_, batch_texts_;
  uint64_t batches_ = 0, batch_tokens_ = 0;
};

}  // namespace slimformer::serve
