// gemm_f32, linear_f32 and PackedLinear against the scalar reference gemm_f32_ref, on odd shapes.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <thread>
#include <vector>

#include "kernels/cpu/gemm.h"
#include "slimformer/error.h"

namespace sk = slimformer::kernels;

namespace {

std::vector<float> random_vec(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> d(-1.0f, 1.0f);
  std::vector<float> v(n);
  for (auto& x : v) x = d(rng);
  return v;
}

// Tolerance for f32 sums of K products of values in [-1, 1] against a double-accumulated reference.
float tol(int64_t K) { return 1e-5f * static_cast<float>(K) + 1e-5f; }

void expect_near_all(const std::vector<float>& got, const std::vector<float>& want, float t,
                     const std::string& what) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i)
    ASSERT_NEAR(got[i], want[i], t) << what << " at flat index " << i;
}

float gelu_erf(float x) { return 0.5f * x * (1.0f + std::erf(x / std::sqrt(2.0f))); }
float gelu_tanh(float x) {
  return 0.5f * x * (1.0f + std::tanh(0.7978845608f * (x + 0.044715f * x * x * x)));
}

float epilogue_ref(sk::Epilogue e, float x) {
  switch (e) {
    case sk::Epilogue::Gelu: return gelu_erf(x);
    case sk::Epilogue::GeluTanh: return gelu_tanh(x);
    case sk::Epilogue::Relu: return x > 0 ? x : 0;
    case sk::Epilogue::None: break;
  }
  return x;
}

// out (M,N) = epi(in . w^T + bias) [+ prev], by the scalar reference.
std::vector<float> linear_ref(const std::vector<float>& in, const std::vector<float>& w,
                              const float* bias, int64_t M, int64_t N, int64_t K, sk::Epilogue e,
                              const std::vector<float>* prev) {
  std::vector<float> out(M * N, 0.0f);
  sk::gemm_f32_ref(false, true, M, N, K, 1.0f, in.data(), K, w.data(), K, 0.0f, out.data(), N);
  for (int64_t i = 0; i < M; ++i)
    for (int64_t j = 0; j < N; ++j) {
      float v = epilogue_ref(e, out[i * N + j] + (bias ? bias[j] : 0.0f));
      out[i * N + j] = prev ? v + (*prev)[i * N + j] : v;
    }
  return out;
}

const int64_t kOdd[] = {1, 3, 17, 513};

}  // namespace

TEST(KernelsGemm, GemmMatchesReferenceAllTransposes) {
  for (int64_t M : kOdd)
    for (int64_t N : {1, 3, 17, 65})
      for (int64_t K : {1, 17, 513})
        for (int ta = 0; ta < 2; ++ta)
          for (int tb = 0; tb < 2; ++tb) {
            // padded strides so a stride mix-up cannot pass
            const int64_t lda = (ta ? M : K) + 2, ldb = (tb ? K : N) + 3, ldc = N + 1;
            const auto A = random_vec((ta ? K : M) * lda, 1), B = random_vec((tb ? N : K) * ldb, 2);
            auto C = random_vec(M * ldc, 3), R = C;
            sk::gemm_f32(ta, tb, M, N, K, 0.5f, A.data(), lda, B.data(), ldb, 0.25f, C.data(), ldc);
            sk::gemm_f32_ref(ta, tb, M, N, K, 0.5f, A.data(), lda, B.data(), ldb, 0.25f, R.data(), ldc);
            for (int64_t i = 0; i < M; ++i)
              for (int64_t j = 0; j < N; ++j)
                ASSERT_NEAR(C[i * ldc + j], R[i * ldc + j], tol(K))
                    << "M=" << M << " N=" << N << " K=" << K << " ta=" << ta << " tb=" << tb;
          }
}

TEST(KernelsGemm, ReferenceIsAPlainDotProduct) {
  // 2x2 by hand: [1 2; 3 4] . [5 6; 7 8] = [19 22; 43 50]
  const float A[] = {1, 2, 3, 4}, B[] = {5, 6, 7, 8};
  float C[4] = {1, 1, 1, 1};
  sk::gemm_f32_ref(false, false, 2, 2, 2, 1.0f, A, 2, B, 2, 1.0f, C, 2);
  EXPECT_FLOAT_EQ(C[0], 20);
  EXPECT_FLOAT_EQ(C[1], 23);
  EXPECT_FLOAT_EQ(C[2], 44);
  EXPECT_FLOAT_EQ(C[3], 51);
}

TEST(KernelsGemm, LinearMatchesReference) {
  for (int64_t M : kOdd)
    for (int64_t N : kOdd)
      for (int64_t K : {1, 17, 513}) {
        const auto in = random_vec(M * K, 4), w = random_vec(N * K, 5), b = random_vec(N, 6);
        for (bool with_bias : {false, true}) {
          std::vector<float> out(M * N, 123.0f);   // stale contents must be overwritten
          sk::linear_f32(out.data(), in.data(), w.data(), with_bias ? b.data() : nullptr, M, N, K);
          const auto want = linear_ref(in, w, with_bias ? b.data() : nullptr, M, N, K,
                                       sk::Epilogue::None, nullptr);
          expect_near_all(out, want, tol(K), "linear M=" + std::to_string(M) + " N=" +
                                                 std::to_string(N) + " K=" + std::to_string(K));
        }
      }
}

TEST(KernelsGemm, PackedLinearMatchesReferenceOnOddShapes) {
  for (int64_t N : kOdd)
    for (int64_t K : kOdd) {
      const auto w = random_vec(N * K, 7), b = random_vec(N, 8);
      for (bool with_bias : {false, true}) {
        const sk::PackedLinear lin(w.data(), with_bias ? b.data() : nullptr, N, K);
        EXPECT_EQ(lin.out_features(), N);
        EXPECT_EQ(lin.in_features(), K);
        for (int64_t M : kOdd) {   // one packed weight serves every M
          const auto in = random_vec(M * K, 9);
          std::vector<float> out(M * N, -7.0f);
          lin.forward(out.data(), in.data(), M);
          const auto want = linear_ref(in, w, with_bias ? b.data() : nullptr, M, N, K,
                                       sk::Epilogue::None, nullptr);
          expect_near_all(out, want, tol(K), "packed M=" + std::to_string(M) + " N=" +
                                                 std::to_string(N) + " K=" + std::to_string(K));
        }
      }
    }
}

TEST(KernelsGemm, PackedLinearEpiloguesAndResidual) {
  const int64_t M = 17, N = 513, K = 65;
  const auto w = random_vec(N * K, 10), b = random_vec(N, 11), in = random_vec(M * K, 12);
  const auto prev = random_vec(M * N, 13);
  for (auto e : {sk::Epilogue::None, sk::Epilogue::Gelu, sk::Epilogue::GeluTanh, sk::Epilogue::Relu})
    for (bool acc : {false, true}) {
      const sk::PackedLinear lin(w.data(), b.data(), N, K, e);
      auto out = prev;
      lin.forward(out.data(), in.data(), M, acc);
      const auto want = linear_ref(in, w, b.data(), M, N, K, e, acc ? &prev : nullptr);
      expect_near_all(out, want, 1e-5f, "epilogue " + std::to_string(int(e)) + " acc " +
                                             std::to_string(acc));
    }
}

TEST(KernelsGemm, PackedLinearBertShapeAndCopies) {
  const int64_t M = 3, N = 2304, K = 768;
  const auto w = random_vec(N * K, 14), b = random_vec(N, 15), in = random_vec(M * K, 16);
  sk::PackedLinear lin(w.data(), b.data(), N, K);
  const sk::PackedLinear copy = lin;      // shares the packed weight
  lin = sk::PackedLinear();                // the copy must outlive the original
  EXPECT_TRUE(lin.empty());
  EXPECT_GE(copy.packed_bytes(), static_cast<size_t>(N * K * sizeof(float)));
  std::vector<float> out(M * N);
  copy.forward(out.data(), in.data(), M);
  expect_near_all(out, linear_ref(in, w, b.data(), M, N, K, sk::Epilogue::None, nullptr), tol(K),
                  "bert qkv");
}

TEST(KernelsGemm, PackedLinearStackedIsTheConcatenation) {
  const int64_t K = 17, M = 3;
  const std::vector<int64_t> Ns = {3, 1, 17};
  std::vector<std::vector<float>> ws, bs;
  for (size_t i = 0; i < Ns.size(); ++i) {
    ws.push_back(random_vec(Ns[i] * K, 30 + i));
    bs.push_back(random_vec(Ns[i], 40 + i));
  }
  const auto fused = sk::PackedLinear::stacked({ws[0].data(), ws[1].data(), ws[2].data()},
                                               {bs[0].data(), bs[1].data(), bs[2].data()}, Ns, K);
  ASSERT_EQ(fused.out_features(), 21);
  const auto in = random_vec(M * K, 50);
  std::vector<float> out(M * 21);
  fused.forward(out.data(), in.data(), M);
  int64_t col = 0;
  for (size_t p = 0; p < Ns.size(); ++p) {   // each part's columns equal that layer alone
    const auto want = linear_ref(in, ws[p], bs[p].data(), M, Ns[p], K, sk::Epilogue::None, nullptr);
    for (int64_t i = 0; i < M; ++i)
      for (int64_t j = 0; j < Ns[p]; ++j)
        ASSERT_NEAR(out[i * 21 + col + j], want[i * Ns[p] + j], tol(K)) << "part " << p;
    col += Ns[p];
  }
  EXPECT_THROW(sk::PackedLinear::stacked({ws[0].data()}, {}, {3, 1}, K), slimformer::InputError);
  EXPECT_THROW(sk::PackedLinear::stacked({ws[0].data(), nullptr}, {}, {3, 1}, K),
               slimformer::InputError);
}

TEST(KernelsGemm, PackedLinearConcurrentCallsAgree) {
  const int64_t N = 97, K = 129;
  const auto w = random_vec(N * K, 17);
  const sk::PackedLinear lin(w.data(), nullptr, N, K, sk::Epilogue::Gelu);
  std::vector<std::vector<float>> outs(4);
  std::vector<std::thread> ts;
  for (int t = 0; t < 4; ++t)
    ts.emplace_back([&, t] {
      const int64_t M = 5 + t;   // different M: primitives are created concurrently
      const auto in = random_vec(M * K, 18 + t);
      outs[t].assign(M * N, 0.0f);
      lin.forward(outs[t].data(), in.data(), M);
      const auto want = linear_ref(in, w, nullptr, M, N, K, sk::Epilogue::Gelu, nullptr);
      for (size_t i = 0; i < want.size(); ++i)
        if (std::fabs(outs[t][i] - want[i]) > tol(K)) outs[t].clear();
    });
  for (auto& t : ts) t.join();
  for (int t = 0; t < 4; ++t) EXPECT_FALSE(outs[t].empty()) << "thread " << t << " disagreed";
}

TEST(KernelsGemm, PackedLinearEdgeCases) {
  EXPECT_THROW(sk::PackedLinear(nullptr, nullptr, -1, 3), slimformer::InputError);
  EXPECT_THROW(sk::PackedLinear(nullptr, nullptr, 2, 3), slimformer::InputError);
  const sk::PackedLinear empty;
  float x = 0;
  EXPECT_THROW(empty.forward(&x, &x, 1), slimformer::InputError);
  // K == 0: the product is empty, out = epilogue(bias)
  const float bias[] = {-1.0f, 2.0f};
  const sk::PackedLinear k0(nullptr, bias, 2, 0, sk::Epilogue::Relu);
  float out[4] = {9, 9, 9, 9};
  k0.forward(out, nullptr, 2);
  EXPECT_EQ(out[0], 0.0f);
  EXPECT_EQ(out[1], 2.0f);
  EXPECT_EQ(out[3], 2.0f);
  const auto w = random_vec(6, 1);
  const sk::PackedLinear lin(w.data(), nullptr, 2, 3);
  EXPECT_THROW(lin.forward(out, w.data(), -1), slimformer::InputError);
  lin.forward(nullptr, nullptr, 0);   // M == 0 is a no-op
}

namespace {

// The batched product by the scalar reference, one (o, i) at a time.
void batched_ref(bool trans_b, int64_t bo, int64_t bi, int64_t M, int64_t N, int64_t K, float alpha,
                 const float* A, int64_t lda, sk::BatchStride sa, const float* B, int64_t ldb,
                 sk::BatchStride sb, float* C, int64_t ldc, sk::BatchStride sc, const float* add) {
  for (int64_t o = 0; o < bo; ++o)
    for (int64_t i = 0; i < bi; ++i) {
      float* c = C + o * sc.outer + i * sc.inner;
      sk::gemm_f32_ref(false, trans_b, M, N, K, alpha, A + o * sa.outer + i * sa.inner, lda,
                       B + o * sb.outer + i * sb.inner, ldb, 0.0f, c, ldc);
      if (add)
        for (int64_t r = 0; r < M; ++r)
          for (int64_t j = 0; j < N; ++j) c[r * ldc + j] += add[o * N + j];
    }
}

}  // namespace

// Attention's two products on the fused layouts: qkv (B,T,3,H,D), scores (B,H,T,T), ctx (B,T,H,D).
TEST(KernelsGemm, BatchedMatchesReferenceOnAttentionLayouts) {
  for (int64_t Bn : {1, 3})
    for (int64_t H : {1, 3})
      for (int64_t T : {1, 17, 130})
        for (int64_t D : {1, 17})
          for (bool mask : {false, true}) {
            const int64_t HD = H * D;
            const auto qkv = random_vec(Bn * T * 3 * HD, 20), add = random_vec(Bn * T, 21);
            const sk::BatchStride s_qkv{T * 3 * HD, D}, s_sc{H * T * T, T * T}, s_ctx{T * HD, D};
            std::vector<float> S(Bn * H * T * T, 5.0f), R(S.size(), 5.0f);
            const float alpha = 1.0f / std::sqrt(static_cast<float>(D));
            sk::gemm_batched_f32(true, Bn, H, T, T, D, alpha, qkv.data(), 3 * HD, s_qkv,
                                 qkv.data() + HD, 3 * HD, s_qkv, S.data(), T, s_sc,
                                 mask ? add.data() : nullptr);
            batched_ref(true, Bn, H, T, T, D, alpha, qkv.data(), 3 * HD, s_qkv, qkv.data() + HD,
                        3 * HD, s_qkv, R.data(), T, s_sc, mask ? add.data() : nullptr);
            const std::string where = "B=" + std::to_string(Bn) + " H=" + std::to_string(H) +
                                      " T=" + std::to_string(T) + " D=" + std::to_string(D);
            expect_near_all(S, R, tol(D), "scores " + where);
            // context = P . V, written into (B,T,H,D)
            std::vector<float> ctx(Bn * T * HD, 9.0f), ref(ctx.size(), 9.0f);
            sk::gemm_batched_f32(false, Bn, H, T, D, T, 1.0f, S.data(), T, s_sc,
                                 qkv.data() + 2 * HD, 3 * HD, s_qkv, ctx.data(), HD, s_ctx);
            batched_ref(false, Bn, H, T, D, T, 1.0f, S.data(), T, s_sc, qkv.data() + 2 * HD,
                        3 * HD, s_qkv, ref.data(), HD, s_ctx, nullptr);
            expect_near_all(ctx, ref, tol(T) * 4, "context " + where);
          }
}

TEST(KernelsGemm, BatchedRejectsBadStridesAndHandlesEmpty) {
  float x[4] = {1, 2, 3, 4};
  EXPECT_THROW(sk::gemm_batched_f32(false, 2, 1, 1, 1, 1, 1.0f, x, 1, {0, 0}, x, 1, {1, 0}, x, 1,
                                    {1, 0}),
               slimformer::InputError);
  const float add[2] = {0.5f, -0.5f};
  float c[2] = {7, 7};
  sk::gemm_batched_f32(false, 1, 1, 1, 2, 0, 1.0f, x, 1, {}, x, 1, {}, c, 2, {}, add);   // K == 0
  EXPECT_EQ(c[0], 0.5f);
  EXPECT_EQ(c[1], -0.5f);
}
