// Seeded dropout: the kept fraction, masks independent of the thread count and set by the key,
// torch's 1/(1-p) scale, and a backward that uses the forward's mask.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <vector>

#include "slimformer/error.h"
#include "slimformer/threads.h"
#include "test_util.h"
#include "train/dropout.h"

using namespace slimformer;
using namespace slimformer::train;

namespace {

struct Dropped {
  std::vector<float> out;
  std::vector<uint8_t> mask;
};

Dropped run_forward(const std::vector<float>& in, double p, const DropoutKey& key) {
  Dropped d{std::vector<float>(in.size()), std::vector<uint8_t>(in.size())};
  dropout_forward(d.out.data(), d.mask.data(), in.data(), static_cast<int64_t>(in.size()), p, key);
  return d;
}

int64_t count_kept(const std::vector<uint8_t>& mask) {
  int64_t kept = 0;
  for (uint8_t m : mask) kept += m;
  return kept;
}

// Restores the OpenMP thread count a test changes.
class ThreadCountGuard {
 public:
  ThreadCountGuard() : saved_(num_threads()) {}
  ~ThreadCountGuard() { set_num_threads(saved_); }

 private:
  int saved_;
};

}  // namespace

TEST(TrainDropout, KeptFractionIsOneMinusP) {
  const int64_t n = 1 << 20;
  const std::vector<float> in(n, 1.0f);
  for (double p : {0.05, 0.1, 0.5, 0.9}) {
    const Dropped d = run_forward(in, p, {.seed = 42, .step = 3, .site = 1});
    // A binomial count: within 6 standard deviations (a false failure once in ~10^9 runs).
    const double mean = n * (1 - p), sd = std::sqrt(n * p * (1 - p));
    EXPECT_NEAR(static_cast<double>(count_kept(d.mask)), mean, 6 * sd) << "p " << p;
    const float scale = 1.0f / static_cast<float>(1 - p);
    for (int64_t i = 0; i < n; ++i) {
      if (d.out[i] != (d.mask[i] ? scale : 0.0f)) {
        ADD_FAILURE() << "p " << p << " element " << i << ": " << d.out[i];
        break;
      }
    }
  }
}

TEST(TrainDropout, MaskDoesNotDependOnThreadCount) {
  ThreadCountGuard guard;
  const std::vector<float> in = slimtest::random_vec(100003, 7);
  const DropoutKey key{.seed = 9, .step = 100, .site = 5};
  set_num_threads(1);
  const Dropped one = run_forward(in, 0.3, key);
  set_num_threads(2);
  const Dropped two = run_forward(in, 0.3, key);
  EXPECT_EQ(one.mask, two.mask);
  EXPECT_EQ(one.out, two.out);
  // The mask is each element's own draw, so a slice alone gives the same entries.
  for (int64_t i : {0, 1, 5000, 100002}) EXPECT_EQ(one.mask[i], dropout_keeps(key, 0.3, i) ? 1 : 0) << i;
}

TEST(TrainDropout, EveryPartOfTheKeyChangesTheMask) {
  const std::vector<float> in(4096, 1.0f);
  const DropoutKey key{.seed = 1, .step = 2, .site = 3};
  const auto base = run_forward(in, 0.5, key).mask;
  EXPECT_EQ(run_forward(in, 0.5, key).mask, base);
  for (DropoutKey other : {DropoutKey{2, 2, 3}, DropoutKey{1, 3, 3}, DropoutKey{1, 2, 4}, DropoutKey{0, 0, 0}}) {
    const auto mask = run_forward(in, 0.5, other).mask;
    int64_t differ = 0;
    for (size_t i = 0; i < mask.size(); ++i) differ += mask[i] != base[i];
    // Independent masks at p = 0.5 differ in half the places.
    EXPECT_NEAR(static_cast<double>(differ), 2048.0, 6 * 32.0);
  }
}

TEST(TrainDropout, BackwardUsesTheForwardMask) {
  const std::vector<float> in = slimtest::random_vec(1001, 3);
  const std::vector<float> grad_out = slimtest::random_vec(1001, 4);
  const double p = 0.25;
  const Dropped d = run_forward(in, p, {.seed = 5, .step = 6, .site = 7});
  std::vector<float> grad_in(grad_out.size());
  dropout_backward(grad_in.data(), grad_out.data(), d.mask.data(), static_cast<int64_t>(grad_out.size()), p);
  const float scale = 1.0f / 0.75f;
  for (size_t i = 0; i < grad_in.size(); ++i) {
    EXPECT_EQ(grad_in[i], d.mask[i] ? grad_out[i] * scale : 0.0f) << i;
    EXPECT_EQ(d.out[i], d.mask[i] ? in[i] * scale : 0.0f) << i;
  }
}

TEST(TrainDropout, ZeroIsIdentityAndOneDropsAll) {
  const std::vector<float> in = slimtest::random_vec(513, 11);
  const Dropped none = run_forward(in, 0.0, {});
  EXPECT_EQ(none.out, in);
  EXPECT_EQ(count_kept(none.mask), 513);
  const Dropped all = run_forward(in, 1.0, {});
  EXPECT_EQ(count_kept(all.mask), 0);
  EXPECT_EQ(all.out, std::vector<float>(513, 0.0f));
  std::vector<float> grad(513, 1.0f);
  dropout_backward(grad.data(), grad.data(), all.mask.data(), 513, 1.0);   // in place
  EXPECT_EQ(grad, std::vector<float>(513, 0.0f));
}

TEST(TrainDropout, RejectsProbabilitiesOutsideZeroOne) {
  float x = 1.0f;
  uint8_t m = 0;
  EXPECT_THROW(dropout_forward(&x, &m, &x, 1, -0.1, {}), InputError);
  EXPECT_THROW(dropout_forward(&x, &m, &x, 1, 1.5, {}), InputError);
  EXPECT_THROW(dropout_backward(&x, &x, &m, 1, NAN), InputError);
  EXPECT_THROW(dropout_keeps({}, 2.0, 0), InputError);
}
