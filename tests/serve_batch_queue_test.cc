// The batch queue of `slimformer serve` with a fake runner: every text answered once, in order,
// batches within the token budget, texts of concurrent requests sharing batches, errors and
// shutdown reaching the right callers.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "serve/batch_queue.h"

namespace {

namespace sv = slimformer::serve;

slimformer::Encoding encoding(int64_t id, size_t tokens) {
  slimformer::Encoding e;
  e.ids.assign(tokens, id);
  return e;
}

// A row holding the encoding's first id and its length: tells which text a row came from.
std::vector<std::vector<float>> echo(const std::vector<const slimformer::Encoding*>& batch) {
  std::vector<std::vector<float>> rows;
  for (const auto* e : batch) rows.push_back({static_cast<float>(e->ids[0]), static_cast<float>(e->ids.size())});
  return rows;
}

// threads clients each send requests requests of 1 to 5 texts of 1 to 40 tokens. A text's id is
// (client * 100 + request) * 10 + its place, so id / 10 names its request. Returns the texts
// answered with another text's row (or the wrong number of rows).
int send_requests(sv::BatchQueue& q, int threads, int requests) {
  std::atomic<int> wrong{0};
  std::vector<std::thread> clients;
  for (int t = 0; t < threads; ++t) {
    clients.emplace_back([&, t] {
      for (int r = 0; r < requests; ++r) {
        std::vector<slimformer::Encoding> texts;
        const int n = 1 + (t + r) % 5;
        for (int i = 0; i < n; ++i) texts.push_back(encoding((t * 100 + r) * 10 + i, 1 + (t * 7 + r * 3 + i) % 40));
        const auto rows = q.run(texts);
        if (rows.size() != texts.size()) ++wrong;
        for (size_t i = 0; i < rows.size() && i < texts.size(); ++i) {
          if (rows[i][0] != static_cast<float>(texts[i].ids[0]) || rows[i][1] != static_cast<float>(texts[i].ids.size())) ++wrong;
        }
      }
    });
  }
  for (auto& c : clients) c.join();
  return wrong;
}

TEST(ServeBatchQueue, ConcurrentRequestsGetTheirOwnRowsInOrderWithinTheBudget) {
  constexpr int64_t kBudget = 64;
  std::atomic<int64_t> worst{0}, batches{0}, multi_request_rows{0};
  std::atomic<int> busy{0};
  sv::BatchQueue q(
      kBudget,
      [&](const std::vector<const slimformer::Encoding*>& batch) {
        EXPECT_EQ(busy.fetch_add(1), 0) << "two batches ran at once";
        size_t longest = 0;
        for (const auto* e : batch) longest = std::max(longest, e->ids.size());
        if (batch.size() > 1) {
          EXPECT_LE(static_cast<int64_t>(batch.size() * longest), kBudget);
        }
        std::this_thread::sleep_for(std::chrono::microseconds(200));   // let requests pile up
        busy.fetch_sub(1);
        return echo(batch);
      },
      [&](size_t texts, int64_t tokens) {
        ++batches;
        worst = std::max<int64_t>(worst, tokens);
        if (texts > 1) multi_request_rows += static_cast<int64_t>(texts);
      });
  constexpr int kThreads = 8, kRequests = 40;
  EXPECT_EQ(send_requests(q, kThreads, kRequests), 0);
  EXPECT_LE(worst, kBudget);
  EXPECT_GT(multi_request_rows, 0) << "no batch ever held more than one text";
  EXPECT_LT(batches, kThreads * kRequests * 3) << "texts were never batched together";
}

TEST(ServeBatchQueue, PerRequestBatchesNeverMixRequests) {
  // A batch must hold one request's texts (id / 10 names the request; send_requests).
  std::atomic<int> mixed{0}, batches{0};
  sv::BatchQueue q(
      64,
      [&](const std::vector<const slimformer::Encoding*>& batch) {
        ++batches;
        for (const auto* e : batch) {
          if (e->ids[0] / 10 != batch.front()->ids[0] / 10) ++mixed;
        }
        std::this_thread::sleep_for(std::chrono::microseconds(200));   // let requests pile up
        return echo(batch);
      },
      {}, /*across_requests=*/false);
  constexpr int kThreads = 8, kRequests = 20;
  EXPECT_EQ(send_requests(q, kThreads, kRequests), 0);
  EXPECT_EQ(mixed, 0) << "a batch held texts of two requests";
  EXPECT_GE(batches, kThreads * kRequests);   // at least one forward per request
}

TEST(ServeBatchQueue, AnOverBudgetTextRunsAlone) {
  std::vector<size_t> sizes;
  sv::BatchQueue q(8, [&](const std::vector<const slimformer::Encoding*>& b) {
    sizes.push_back(b.size());
    return echo(b);
  });
  const auto rows = q.run({encoding(1, 20), encoding(2, 3), encoding(3, 3)});
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0][1], 20.0f);
  EXPECT_EQ(sizes.front(), 1u);   // 20 tokens alone; then 2 x 3 = 6 <= 8 together
  EXPECT_EQ(sizes.back(), 2u);
}

TEST(ServeBatchQueue, ARunnerFailureReachesItsCallersAndTheWorkerGoesOn) {
  sv::BatchQueue q(1000, [](const std::vector<const slimformer::Encoding*>& b) {
    if (b[0]->ids[0] == 666) throw std::runtime_error("boom");
    return echo(b);
  });
  EXPECT_THROW(q.run({encoding(666, 2)}), std::runtime_error);
  EXPECT_EQ(q.run({encoding(7, 2)}).at(0).at(0), 7.0f);
}

TEST(ServeBatchQueue, CloseFinishesQueuedWorkThenRefuses) {
  std::atomic<bool> release{false}, entered{false};
  sv::BatchQueue q(1000, [&](const std::vector<const slimformer::Encoding*>& b) {
    entered = true;
    while (!release) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    return echo(b);
  });
  std::vector<std::vector<float>> rows;
  std::thread in_flight([&] { rows = q.run({encoding(5, 4)}); });
  while (!entered) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  std::thread closer([&] { q.close(); });
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  release = true;
  closer.join();
  in_flight.join();
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0][0], 5.0f);
  EXPECT_THROW(q.run({encoding(6, 1)}), sv::QueueClosed);
  EXPECT_TRUE(q.run({}).empty());
}

}  // namespace
