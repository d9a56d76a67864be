// Int8 Linear: weight and activation quantization against hand-worked values (PyTorch's
// rules), Int8Linear against int8_linear_ref on odd shapes for every ISA the CPU runs, and the
// reference against the f32 product within the quantization error bound.
#include <gtest/gtest.h>
#include <omp.h>

#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "kernels/cpu/gemm.h"
#include "kernels/cpu/int8_linear.h"
#include "kernels/cpu/isa.h"
#include "slimformer/error.h"
#include "test_util.h"

namespace k = slimformer::kernels;
using slimtest::random_vec;

namespace {

struct Layer {
  std::vector<int8_t> q;
  std::vector<float> scales, bias;
};

Layer make_layer(int64_t N, int64_t K, unsigned seed) {
  Layer l;
  const auto w = random_vec(N * K, seed, 0.05f);
  l.q.resize(N * K);
  l.scales.resize(N);
  k::quantize_per_channel(l.q.data(), l.scales.data(), w.data(), N, K);
  l.bias = random_vec(N, seed + 1, 0.5f);
  return l;
}

// Activations with a shifted mean per row, so zero points other than the middle occur.
std::vector<float> make_input(int64_t M, int64_t K, unsigned seed) {
  auto x = random_vec(M * K, seed, 1.0f);
  for (int64_t m = 0; m < M; ++m)
    for (int64_t j = 0; j < K; ++j) x[m * K + j] += static_cast<float>(m % 5) - 2.0f;
  return x;
}

// Integer sums are exact on every path: only the final f32 scale multiply (and the epilogue of
// a value differing in its last bit) can differ from the reference.
void expect_close(const std::vector<float>& got, const std::vector<float>& want, const char* what) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i)
    ASSERT_NEAR(got[i], want[i], 1e-5f * std::max(1.0f, std::fabs(want[i]))) << what << " at " << i;
}

const k::Epilogue kEpilogues[] = {k::Epilogue::None, k::Epilogue::Gelu, k::Epilogue::GeluTanh,
                                  k::Epilogue::Relu};

}  // namespace

TEST(Int8Quantize, PerChannelHandExample) {
  // row 0: max|w| = 2.54, scale 0.02; row 1: max|w| = 1.27, scale 0.01.
  const std::vector<float> w = {2.54f, -1.0f, 0.5f, 0.0f, 0.3f, -1.27f, 0.014f, 0.016f};
  std::vector<int8_t> q(8);
  std::vector<float> s(2);
  k::quantize_per_channel(q.data(), s.data(), w.data(), 2, 4);
  EXPECT_FLOAT_EQ(s[0], 2.54f / 127.0f);
  EXPECT_FLOAT_EQ(s[1], 1.27f / 127.0f);
  EXPECT_EQ(std::vector<int>(q.begin(), q.end()), (std::vector<int>{127, -50, 25, 0, 30, -127, 1, 2}));
}

TEST(Int8Quantize, PerChannelZeroRowTiesAndClamp) {
  // A zero row: scale 1, all-zero q.
  std::vector<float> w = {0.0f, 0.0f, 0.0f};
  std::vector<int8_t> q(3, 5);
  float s = 0.0f;
  k::quantize_per_channel(q.data(), &s, w.data(), 1, 3);
  EXPECT_EQ(s, 1.0f);
  EXPECT_EQ(q, std::vector<int8_t>(3, 0));
  // max|w| = 127 gives scale 1 exactly: halves round to even, the extreme stays at +-127.
  w = {127.0f, 0.5f, 1.5f, 2.5f, -2.5f, -127.0f};
  q.assign(6, 0);
  k::quantize_per_channel(q.data(), &s, w.data(), 1, 6);
  EXPECT_EQ(s, 1.0f);
  EXPECT_EQ(std::vector<int>(q.begin(), q.end()), (std::vector<int>{127, 0, 2, 2, -2, -127}));
  // Every value of random rows lies in [-127, 127] and the row's extreme hits +-127.
  const auto r = random_vec(64 * 100, 3, 2.0f);
  std::vector<int8_t> qr(r.size());
  std::vector<float> sr(64);
  k::quantize_per_channel(qr.data(), sr.data(), r.data(), 64, 100);
  for (int n = 0; n < 64; ++n) {
    int amax = 0;
    for (int j = 0; j < 100; ++j) {
      const int v = qr[n * 100 + j];
      EXPECT_GE(v, -127);
      amax = std::max(amax, std::abs(v));
      EXPECT_LE(std::fabs(r[n * 100 + j] - sr[n] * v), 0.5f * sr[n] * 1.0001f);
    }
    EXPECT_EQ(amax, 127);
  }
}

TEST(Int8Quantize, RowParamsExamples) {
  // Mixed signs: min -1, max 3 -> scale 4/255, zero point round(255/4) = 64.
  const std::vector<float> mixed = {-1.0f, 0.5f, 3.0f};
  k::RowQuant rq = k::row_quant_params(mixed.data(), 3);
  EXPECT_FLOAT_EQ(rq.scale, 4.0f / 255.0f);
  EXPECT_EQ(rq.zero_point, 64);
  // All positive: the range is widened to 0, zero point 0, the max maps to 255.
  const std::vector<float> pos = {0.5f, 2.0f, 1.0f};
  rq = k::row_quant_params(pos.data(), 3);
  EXPECT_FLOAT_EQ(rq.scale, 2.0f / 255.0f);
  EXPECT_EQ(rq.zero_point, 0);
  EXPECT_EQ(k::quantize_u8(2.0f, 1.0f / rq.scale, rq.zero_point), 255);
  // All negative: zero point 255, the min maps to 0.
  const std::vector<float> neg = {-0.5f, -2.0f};
  rq = k::row_quant_params(neg.data(), 2);
  EXPECT_FLOAT_EQ(rq.scale, 2.0f / 255.0f);
  EXPECT_EQ(rq.zero_point, 255);
  EXPECT_EQ(k::quantize_u8(-2.0f, 1.0f / rq.scale, rq.zero_point), 0);
  // An all-zero row (and an empty one): PyTorch's scale 0.1, zero point 0.
  const std::vector<float> zero(4, 0.0f);
  rq = k::row_quant_params(zero.data(), 4);
  EXPECT_FLOAT_EQ(rq.scale, 0.1f);
  EXPECT_EQ(rq.zero_point, 0);
  rq = k::row_quant_params(nullptr, 0);
  EXPECT_FLOAT_EQ(rq.scale, 0.1f);
  // A tiny range: the scale is raised to 6.1e-5 as PyTorch does.
  const std::vector<float> tiny = {1e-4f, 2e-4f};
  rq = k::row_quant_params(tiny.data(), 2);
  EXPECT_FLOAT_EQ(rq.scale, 6.1e-5f);
  EXPECT_EQ(rq.zero_point, 0);
  // Values outside the range clamp; halves round to even.
  EXPECT_EQ(k::quantize_u8(1e9f, 1.0f, 10), 255);
  EXPECT_EQ(k::quantize_u8(-1e9f, 1.0f, 10), 0);
  EXPECT_EQ(k::quantize_u8(0.5f, 1.0f, 10), 10);
  EXPECT_EQ(k::quantize_u8(1.5f, 1.0f, 10), 12);
}

TEST(Int8Linear, MatchesReferenceOnEveryIsa) {
  const int64_t Ms[] = {1, 3, 17, 64, 130};
  const int64_t Ns[] = {1, 5, 63, 65, 200};
  const int64_t Ks[] = {1, 7, 64, 129, 300};
  const auto isas = k::available_isas();
  for (int64_t N : Ns)
    for (int64_t K : Ks) {
      const Layer l = make_layer(N, K, static_cast<unsigned>(N * 1000 + K));
      for (k::Epilogue e : kEpilogues) {
        std::vector<k::Int8Linear> lins;   // one packed under each ISA
        for (k::Isa isa : isas) {
          k::ScopedIsa scoped(isa);
          lins.emplace_back(l.q.data(), l.scales.data(), l.bias.data(), N, K, e);
        }
        for (int64_t M : Ms) {
          const auto x = make_input(M, K, static_cast<unsigned>(M + K));
          for (bool acc : {false, true}) {
            const auto init = random_vec(M * N, 7);
            std::vector<float> want = init;
            k::int8_linear_ref(want.data(), x.data(), l.q.data(), l.scales.data(), l.bias.data(), M,
                               N, K, e, acc);
            for (size_t i = 0; i < isas.size(); ++i) {
              k::ScopedIsa scoped(isas[i]);
              std::vector<float> got = init;
              lins[i].forward(got.data(), x.data(), M, acc);
              SCOPED_TRACE(::testing::Message() << k::isa_name(isas[i]) << " M=" << M << " N=" << N
                                                << " K=" << K << " epilogue=" << static_cast<int>(e)
                                                << " accumulate=" << acc);
              expect_close(got, want, "out");
            }
          }
        }
      }
    }
}

TEST(Int8Linear, NoBiasAndBertWidthOnEveryIsa) {
  const int64_t M = 33, N = 768, K = 768;
  const Layer l = make_layer(N, K, 11);
  const auto x = make_input(M, K, 12);
  for (k::Isa isa : k::available_isas()) {
    k::ScopedIsa scoped(isa);
    const k::Int8Linear lin(l.q.data(), l.scales.data(), nullptr, N, K);
    std::vector<float> got(M * N), want(M * N);
    lin.forward(got.data(), x.data(), M);
    k::int8_linear_ref(want.data(), x.data(), l.q.data(), l.scales.data(), nullptr, M, N, K,
                       k::Epilogue::None, false);
    SCOPED_TRACE(k::isa_name(isa));
    expect_close(got, want, "out");
  }
}

TEST(Int8Linear, PackedForOneIsaRunsOnEveryLowerOne) {
  // Packed at the CPU's best ISA, run after lowering it: the other layouts are built on use.
  const int64_t M = 19, N = 70, K = 131;
  const Layer l = make_layer(N, K, 21);
  const auto x = make_input(M, K, 22);
  const k::Int8Linear lin(l.q.data(), l.scales.data(), l.bias.data(), N, K, k::Epilogue::Gelu);
  const k::Int8Linear copy = lin;   // shares the packed weights
  std::vector<float> want(M * N);
  k::int8_linear_ref(want.data(), x.data(), l.q.data(), l.scales.data(), l.bias.data(), M, N, K,
                     k::Epilogue::Gelu, false);
  const size_t before = lin.bytes();
  for (k::Isa isa : k::available_isas()) {
    k::ScopedIsa scoped(isa);
    std::vector<float> got(M * N);
    copy.forward(got.data(), x.data(), M);
    SCOPED_TRACE(k::isa_name(isa));
    expect_close(got, want, "out");
  }
  EXPECT_GE(lin.bytes(), before);
  EXPECT_EQ(lin.out_features(), N);
  EXPECT_EQ(lin.in_features(), K);
}

TEST(Int8Linear, ReferenceWithinQuantizationErrorOfF32) {
  const int64_t M = 17, N = 65, K = 300;
  const auto w = random_vec(N * K, 31, 0.05f), x = make_input(M, K, 32), b = random_vec(N, 33);
  Layer l;
  l.q.resize(N * K);
  l.scales.resize(N);
  k::quantize_per_channel(l.q.data(), l.scales.data(), w.data(), N, K);
  std::vector<float> got(M * N), f32(M * N);
  k::int8_linear_ref(got.data(), x.data(), l.q.data(), l.scales.data(), b.data(), M, N, K,
                     k::Epilogue::None, false);
  k::linear_f32(f32.data(), x.data(), w.data(), b.data(), M, N, K);
  // |x w - x_hat w_hat| <= sum_k |x||w - w_hat| + |x - x_hat||w_hat|, with |w - w_hat| <= s_w/2
  // and |x - x_hat| <= s_x/2 (no value is clamped: the range holds every x).
  for (int64_t m = 0; m < M; ++m) {
    const k::RowQuant rq = k::row_quant_params(x.data() + m * K, K);
    for (int64_t n = 0; n < N; ++n) {
      double bound = 0.0;
      for (int64_t j = 0; j < K; ++j)
        bound += std::fabs(x[m * K + j]) * l.scales[n] / 2 +
                 rq.scale / 2 * std::fabs(l.scales[n] * l.q[n * K + j]);
      ASSERT_LE(std::fabs(got[m * N + n] - f32[m * N + n]), bound * 1.001 + 1e-4) << m << "," << n;
    }
  }
}

TEST(Int8Linear, BadArgumentsThrow) {
  const std::vector<int8_t> q(12, 1);
  const std::vector<float> s(3, 0.1f), bad = {0.1f, 0.0f, 0.1f}, nan = {0.1f, NAN, 0.1f};
  using slimformer::InputError;
  EXPECT_THROW(k::Int8Linear(q.data(), s.data(), nullptr, -1, 4), InputError);
  EXPECT_THROW(k::Int8Linear(q.data(), s.data(), nullptr, 3, -4), InputError);
  EXPECT_THROW(k::Int8Linear(q.data(), s.data(), nullptr, 1, k::kInt8MaxK + 1), InputError);
  EXPECT_THROW(k::Int8Linear(nullptr, s.data(), nullptr, 3, 4), InputError);
  EXPECT_THROW(k::Int8Linear(q.data(), nullptr, nullptr, 3, 4), InputError);
  EXPECT_THROW(k::Int8Linear(q.data(), bad.data(), nullptr, 3, 4), InputError);
  EXPECT_THROW(k::Int8Linear(q.data(), nan.data(), nullptr, 3, 4), InputError);
  const k::Int8Linear lin(q.data(), s.data(), nullptr, 3, 4);
  std::vector<float> x(4), out(3);
  EXPECT_THROW(lin.forward(out.data(), x.data(), -1), InputError);
  EXPECT_THROW(k::Int8Linear().forward(out.data(), x.data(), 1), InputError);
  lin.forward(out.data(), x.data(), 0);   // M = 0 writes nothing
}

TEST(Int8Linear, EmptyProductGivesEpilogueOfBias) {
  const std::vector<float> b = {-1.0f, 2.0f};
  const std::vector<float> s = {1.0f, 1.0f};
  const k::Int8Linear lin(nullptr, s.data(), b.data(), 2, 0, k::Epilogue::Relu);
  std::vector<float> out = {1.0f, 1.0f, 1.0f, 1.0f};
  lin.forward(out.data(), nullptr, 2, true);
  EXPECT_EQ(out, (std::vector<float>{1.0f, 3.0f, 1.0f, 3.0f}));
}

TEST(Int8Linear, ThreadsGiveTheSameResult) {
  const int64_t M = 130, N = 200, K = 129;
  const Layer l = make_layer(N, K, 41);
  const auto x = make_input(M, K, 42);
  const k::Int8Linear lin(l.q.data(), l.scales.data(), l.bias.data(), N, K, k::Epilogue::GeluTanh);
  const int saved = omp_get_max_threads();
  std::vector<float> one(M * N), many(M * N);
  omp_set_num_threads(1);
  lin.forward(one.data(), x.data(), M);
  omp_set_num_threads(4);
  lin.forward(many.data(), x.data(), M);
  omp_set_num_threads(saved);
  EXPECT_EQ(one, many);
  // Several callers at once, each with its own output.
  std::vector<std::vector<float>> outs(4, std::vector<float>(M * N));
#pragma omp parallel for num_threads(4)
  for (int i = 0; i < 4; ++i) lin.forward(outs[i].data(), x.data(), M);
  for (const auto& o : outs) EXPECT_EQ(o, one);
}
