#include "serve/metrics.h"

#include <charconv>

namespace slimformer::serve {
namespace {

const char* const kEndpoints[] = {"/embed", "/v1/embeddings", "/tokenize", "/health", "/info", "/metrics"};

std::string number(double v) {
  char buf[32];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, r.ptr);
}

void header(std::string& out, const std::string& name, const std::string& type, const std::string& help) {
  out += "# HELP " + name + " " + help + "\n# TYPE " + name + " " + type + "\n";
}

}  // namespace

Histogram::Histogram(std::vector<double> upper_bounds)
    : bounds_(std::move(upper_bounds)), counts_(bounds_.size() + 1, 0) {}

void Histogram::observe(double value) {
  size_t b = 0;
  while (b < bounds_.size() && value > bounds_[b]) ++b;   // Prometheus buckets are `le`
  ++counts_[b];
  sum_ += value;
  ++count_;
}

void Histogram::render(const std::string& name, std::string& out) const {
  uint64_t cumulative = 0;
  for (size_t b = 0; b <= bounds_.size(); ++b) {
    cumulative += counts_[b];
    const std::string le = b < bounds_.size() ? number(bounds_[b]) : "+Inf";
    out += name + "_bucket{le=\"" + le + "\"} " + std::to_string(cumulative) + "\n";
  }
  out += name + "_sum " + number(sum_) + "\n" + name + "_count " + std::to_string(count_) + "\n";
}

Metrics::Metrics()
    : latency_({0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}),
      batch_texts_({1, 2, 4, 8, 16, 32, 64, 128, 256}) {}

std::string Metrics::endpoint_label(const std::string& path) {
  for (const char* e : kEndpoints) {
    if (path == e) return path;
  }
  return "other";
}

void Metrics::count_request(const std::string& endpoint, int status) {
  std::lock_guard<std::mutex> lock(mutex_);
  ++requests_[{endpoint_label(endpoint), status}];
}

void Metrics::count_error(const std::string& error_type) {
  std::lock_guard<std::mutex> lock(mutex_);
  ++errors_[error_type];
}

void Metrics::observe_latency(double seconds) {
  std::lock_guard<std::mutex> lock(mutex_);
  latency_.observe(seconds);
}

void Metrics::observe_batch(size_t texts, int64_t padded_tokens) {
  std::lock_guard<std::mutex> lock(mutex_);
  batch_texts_.observe(static_cast<double>(texts));
  ++batches_;
  batch_tokens_ += static_cast<uint64_t>(padded_tokens);
}

uint64_t Metrics::requests(const std::string& endpoint, int status) const {
  std::lock_guard<std::mutex> lock(mutex_);
  const auto it = requests_.find({endpoint_label(endpoint), status});
  return it == requests_.end() ? 0 : it->second;
}

uint64_t Metrics::errors(const std::string& error_type) const {
  std::lock_guard<std::mutex> lock(mutex_);
  const auto it = errors_.find(error_type);
  return it == errors_.end() ? 0 : it->second;
}

std::string Metrics::render() const {
  std::lock_guard<std::mutex> lock(mutex_);
  std::string out;
  header(out, "slimformer_requests_total", "counter", "Requests answered, by endpoint and HTTP status.");
  for (const auto& [key, n] : requests_) {
    out += "slimformer_requests_total{endpoint=\"" + key.first + "\",status=\"" + std::to_string(key.second) + "\"} " +
           std::to_string(n) + "\n";
  }
  header(out, "slimformer_errors_total", "counter", "Error answers, by error_type.");
  for (const auto& [type, n] : errors_) {
    out += "slimformer_errors_total{error_type=\"" + type + "\"} " + std::to_string(n) + "\n";
  }
  header(out, "slimformer_request_duration_seconds", "histogram",
         "Time to answer a POST to an endpoint, its body read included.");
  latency_.render("slimformer_request_duration_seconds", out);
  header(out, "slimformer_batch_size", "histogram", "Texts per forward pass of the batch worker.");
  batch_texts_.render("slimformer_batch_size", out);
  header(out, "slimformer_batch_padded_tokens_total", "counter", "Padded tokens (rows x longest) run by the worker.");
  out += "slimformer_batch_padded_tokens_total " + std::to_string(batch_tokens_) + "\n";
  return out;
}

}  // namespace slimformer::serve
