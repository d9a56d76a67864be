// The thread count: a fixed count sticks, the fair default stays within the cores this process
// may use and leaves a core to a CPU-bound process beside it, and the encoder's output does not
// depend on the count (so the fair default, which may change it between forwards, never changes
// an embedding).
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <csignal>
#include <cstring>
#include <fstream>

#include <sys/wait.h>
#include <unistd.h>

#include "slimformer/checkpoint.h"
#include "slimformer/encoder.h"
#include "slimformer/threads.h"
#include "test_util.h"

using namespace slimformer;

namespace {

// Restores the fair default after a test fixes a count.
struct FairDefaultAfter {
  ~FairDefaultAfter() { set_num_threads(0); }
};

// The state letter of a process, from /proc/PID/stat ('?' if unreadable).
char process_state(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const size_t close = stat.rfind(')');
  return close == std::string::npos || close + 2 >= stat.size() ? '?' : stat[close + 2];
}

}  // namespace

TEST(Threads, AFixedCountSticksAndZeroMeansTheFairDefault) {
  FairDefaultAfter restore;
  set_num_threads(3);
  EXPECT_EQ(num_threads(), 3);
  apply_thread_policy();
  EXPECT_EQ(num_threads(), 3);
  set_num_threads(0);
  EXPECT_GE(num_threads(), 1);
  EXPECT_LE(num_threads(), available_cores());
}

TEST(Threads, TheFairDefaultLeavesACoreToABusyProcess) {
  if (available_cores() < 2) GTEST_SKIP() << "one core: nothing to leave";
  const pid_t busy = fork();
  ASSERT_GE(busy, 0);
  if (busy == 0) {
    volatile unsigned long spins = 0;
    for (;;) spins = spins + 1;
  }
  for (int i = 0; i < 200 && process_state(busy) != 'R'; ++i) usleep(5000);
  const char state = process_state(busy);
  const int fair = fair_thread_count();
  kill(busy, SIGKILL);
  waitpid(busy, nullptr, 0);
  ASSERT_EQ(state, 'R');
  EXPECT_GE(fair, 1);
  EXPECT_LE(fair, available_cores() - 1);
}

TEST(Threads, EmbeddingsDoNotDependOnTheThreadCount) {
  FairDefaultAfter restore;
  const std::string dir = slimtest::shared_dir() + "/models/bert-mini-sts";
  Encoder enc(std::make_shared<Checkpoint>(dir));
  Batch b;
  b.batch = 3;
  b.seq = 40;
  for (int64_t i = 0; i < b.batch * b.seq; ++i) {
    const int64_t t = i % b.seq, row = i / b.seq;
    const bool pad = t >= 40 - 13 * row;
    b.ids.push_back(pad ? 0 : 1000 + (i * 37) % 20000);
    b.mask.push_back(pad ? 0 : 1);
  }
  b.type_ids.assign(b.ids.size(), 0);
  set_num_threads(1);
  const Tensor one = enc.forward(b).last_hidden_state;
  set_num_threads(2);
  const Tensor two = enc.forward(b).last_hidden_state;
  ASSERT_EQ(one.numel(), two.numel());
  EXPECT_EQ(std::memcmp(one.data<float>(), two.data<float>(), sizeof(float) * one.numel()), 0);
}
