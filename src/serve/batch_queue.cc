#include "serve/batch_queue.h"

#include <algorithm>

namespace slimformer::serve {

BatchQueue::BatchQueue(int64_t max_batch_tokens, RunBatch run, OnBatch on_batch, bool across_requests)
    : max_batch_tokens_(std::max<int64_t>(1, max_batch_tokens)),
      across_requests_(across_requests),
      run_(std::move(run)),
      on_batch_(std::move(on_batch)) {
  worker_ = std::thread([this] { worker_loop(); });
}

BatchQueue::~BatchQueue() { close(); }

void BatchQueue::close() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    closed_ = true;
  }
  work_ready_.notify_all();
  if (worker_.joinable() && worker_.get_id() != std::this_thread::get_id()) worker_.join();
}

size_t BatchQueue::queued_texts() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return items_.size();
}

std::vector<std::vector<float>> BatchQueue::run(std::vector<Encoding> encodings) {
  Job job;
  job.encodings = std::move(encodings);
  job.rows.resize(job.encodings.size());
  job.remaining = job.encodings.size();
  if (job.remaining == 0) return {};
  std::unique_lock<std::mutex> lock(mutex_);
  if (closed_) throw QueueClosed();
  for (size_t i = 0; i < job.encodings.size(); ++i) items_.push_back({&job, i});
  work_ready_.notify_one();
  job_done_.wait(lock, [&] { return job.remaining == 0; });
  if (job.error) std::rethrow_exception(job.error);
  return std::move(job.rows);
}

std::vector<BatchQueue::Item> BatchQueue::take_batch() {
  std::vector<Item> batch;
  size_t longest = 0;
  while (!items_.empty()) {
    const Item& next = items_.front();
    if (!across_requests_ && !batch.empty() && next.job != batch.front().job) break;
    const size_t len = std::max(longest, next.job->encodings[next.index].ids.size());
    if (!batch.empty() && static_cast<int64_t>((batch.size() + 1) * len) > max_batch_tokens_) break;
    longest = len;
    batch.push_back(next);
    items_.pop_front();
  }
  return batch;
}

void BatchQueue::worker_loop() {
  for (;;) {
    std::vector<Item> batch;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      work_ready_.wait(lock, [&] { return closed_ || !items_.empty(); });
      if (items_.empty()) return;   // closed and drained
      batch = take_batch();
    }
    // Longest first, ties in arrival order, as SentenceEncoder::embed orders a batch: the
    // encoder's last bits depend on a row's place in its forward, so a request alone gets
    // exactly what `slimformer embed` gives for the same texts.
    std::stable_sort(batch.begin(), batch.end(), [](const Item& a, const Item& b) {
      return a.job->encodings[a.index].ids.size() > b.job->encodings[b.index].ids.size();
    });
    std::vector<const Encoding*> encodings;
    size_t longest = 0;
    for (const Item& it : batch) {
      encodings.push_back(&it.job->encodings[it.index]);
      longest = std::max(longest, encodings.back()->ids.size());
    }
    std::vector<std::vector<float>> rows;
    std::exception_ptr error;
    try {
      rows = run_(encodings);
      if (rows.size() != batch.size()) throw std::logic_error("batch runner returned the wrong number of rows");
    } catch (...) {
      error = std::current_exception();
    }
    try {   // an observer's failure must not end the worker (every later request would wait forever)
      if (on_batch_) on_batch_(batch.size(), static_cast<int64_t>(batch.size() * longest));
    } catch (...) {
    }
    {
      std::lock_guard<std::mutex> lock(mutex_);
      for (size_t r = 0; r < batch.size(); ++r) {
        Job& job = *batch[r].job;
        if (error) job.error = error;
        else job.rows[batch[r].index] = std::move(rows[r]);
        --job.remaining;
      }
    }
    job_done_.notify_all();
  }
}

}  // namespace slimformer::serve
