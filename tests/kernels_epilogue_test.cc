// apply_epilogue_row (SIMD activations) against the scalar apply_epilogue (libm's erf and tanh)
// on every instruction-set target, tails and accumulation included.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "isa_test_util.h"
#include "kernels/cpu/gemm.h"

namespace slimformer::kernels {
namespace {

std::vector<float> inputs() {
  std::vector<float> v;
  for (float x = -12.0f; x <= 12.0f; x += 0.01f) v.push_back(x);   // the whole curve, both tails
  std::mt19937 rng(7);
  std::normal_distribution<float> d(0.0f, 3.0f);
  for (int i = 0; i < 1001; ++i) v.push_back(d(rng));   // an odd count: every tail length
  for (float x : {0.0f, -0.0f, 1e-30f, -1e-30f, 80.0f, -80.0f, 1e6f, -1e6f}) v.push_back(x);
  return v;
}

TEST(KernelsEpilogue, SimdRowsMatchTheScalarActivations) {
  const std::vector<float> v = inputs();
  slimtest::for_each_isa([&] {
    for (Epilogue e : {Epilogue::None, Epilogue::Gelu, Epilogue::GeluTanh, Epilogue::Relu}) {
      for (bool accumulate : {false, true}) {
        for (int64_t n : {int64_t{1}, int64_t{7}, int64_t{17}, static_cast<int64_t>(v.size())}) {
          std::vector<float> out(n, 0.75f), want(n);
          for (int64_t j = 0; j < n; ++j) want[j] = apply_epilogue(e, v[j]) + (accumulate ? 0.75f : 0.0f);
          apply_epilogue_row(e, out.data(), v.data(), n, accumulate);
          for (int64_t j = 0; j < n; ++j) {
            // A&S erf is within 1.5e-7 of erf: GELU within 0.5 |x| 1.5e-7 plus rounding.
            const double tol = 4e-7 * (1 + std::fabs(v[j])) + 2e-7 * std::fabs(want[j]);
            ASSERT_NEAR(out[j], want[j], tol) << "epilogue " << static_cast<int>(e) << " x=" << v[j];
          }
        }
      }
    }
  });
}

TEST(KernelsEpilogue, InPlaceIsAllowed) {
  std::vector<float> v = inputs(), want(v.size());
  for (size_t j = 0; j < v.size(); ++j) want[j] = apply_epilogue(Epilogue::Gelu, v[j]);
  apply_epilogue_row(Epilogue::Gelu, v.data(), v.data(), static_cast<int64_t>(v.size()), false);
  for (size_t j = 0; j < v.size(); ++j) ASSERT_NEAR(v[j], want[j], 4e-7 * (1 + std::fabs(want[j])));
}

}  // namespace
}  // namespace slimformer::kernels
