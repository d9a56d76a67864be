// Dynamic batching for `slimformer serve`: request threads hand in their tokenized texts and
// wait; one worker thread takes texts from the front of the queue, as many as fit a token
// budget (rows × longest row, the padded tokens a forward computes), whichever requests they
// came from, runs them as one batch (longest first, as `slimformer embed` orders one) and hands
// each request its rows. Knows nothing of HTTP or of
// the model: the batch runner is a function, so the queue is tested with a fake one.
// Per request (across_requests false), a batch holds texts of one request only: each request
// then runs exactly as `slimformer embed` runs the same texts, bit for bit (docs/serve.md).
#pragma once
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

#include "slimformer/tokenizer.h"

namespace slimformer::serve {

// run() after close(): the server is shutting down.
class QueueClosed : public std::runtime_error {
 public:
  QueueClosed() : std::runtime_error("the server is shutting down") {}
};

class BatchQueue {
 public:
  // One row per encoding, in order (a padded forward, pooled).
  using RunBatch = std::function<std::vector<std::vector<float>>(const std::vector<const Encoding*>&)>;
  // After each batch: how many texts it held and its padded tokens (rows × longest).
  using OnBatch = std::function<void(size_t texts, int64_t padded_tokens)>;

  // max_batch_tokens: the budget; a text longer than it alone still runs, as a batch of one.
  // across_requests: whether texts of different requests may share a batch.
  BatchQueue(int64_t max_batch_tokens, RunBatch run, OnBatch on_batch = {}, bool across_requests = true);
  ~BatchQueue();   // close(), then waits for the worker
  BatchQueue(const BatchQueue&) = delete;
  BatchQueue& operator=(const BatchQueue&) = delete;

  // Blocks until every encoding has been run; the rows in the encodings' order. Throws
  // QueueClosed after close(), or what the runner threw for a batch holding one of these texts.
  std::vector<std::vector<float>> run(std::vector<Encoding> encodings);
  // Refuses new work; what is queued still runs; returns once the worker has finished.
  void close();
  size_t queued_texts() const;

 private:
  struct Job {
    std::vector<Encoding> encodings;
    std::vector<std::vector<float>> rows;
    size_t remaining = 0;
    std::exception_ptr error;
  };
  struct Item {
    Job* job;
    size_t index;
  };
  std::vector<Item> take_batch();   // under the lock: the front items that fit the budget
  void worker_loop();

  const int64_t max_batch_tokens_;
  const bool across_requests_;
  RunBatch run_;
  OnBatch on_batch_;
  mutable std::mutex mutex_;
  std::condition_variable work_ready_, job_done_;
  std::deque<Item> items_;
  bool closed_ = false;
  std::thread worker_;
};

}  // namespace slimformer::serve
