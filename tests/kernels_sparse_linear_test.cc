// The sparse weight encoding and SparseLinear against the scalar dense reference (ref::linear),
// on odd shapes, at several sparsities, with every epilogue, for every ISA the CPU runs.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "kernels/cpu/isa.h"
#include "kernels/cpu/reference.h"
#include "kernels/cpu/sparse_linear.h"
#include "slimformer/error.h"

namespace sk = slimformer::kernels;
using slimformer::InputError;

namespace {

std::vector<float> random_vec(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> d(-1.0f, 1.0f);
  std::vector<float> v(n);
  for (auto& x : v) x = d(rng);
  return v;
}

// An (N,K) weight with about `sparsity` of its entries exactly zero (all of them at 1.0).
std::vector<float> sparse_weight(int64_t N, int64_t K, double sparsity, uint32_t seed) {
  std::vector<float> w = random_vec(static_cast<size_t>(N * K), seed);
  std::mt19937 rng(seed + 1);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  for (auto& x : w)
    if (sparsity >= 1.0 || u(rng) < sparsity) x = 0.0f;
  return w;
}

// f32 sums of K products of values in [-1, 1] against a double-accumulated reference.
float tol(int64_t K) { return 1e-5f * static_cast<float>(K) + 1e-5f; }

const sk::Epilogue kEpilogues[] = {sk::Epilogue::None, sk::Epilogue::Gelu, sk::Epilogue::GeluTanh,
                                   sk::Epilogue::Relu};

}  // namespace

TEST(SparseEncoding, RoundTripsAndSetsMaskBitsLsbFirst) {
  for (int64_t N : {1, 3, 5}) {
    for (int64_t K : {1, 7, 9, 300}) {
      for (double s : {0.0, 0.5, 0.9, 1.0}) {
        const auto w = sparse_weight(N, K, s, static_cast<uint32_t>(N * 1000 + K));
        const sk::SparseEncoding enc = sk::encode_sparse(w.data(), N, K);
        ASSERT_EQ(enc.mask.size(), static_cast<size_t>((N * K + 7) / 8));
        size_t nz = 0;
        for (int64_t i = 0; i < N * K; ++i) {
          EXPECT_EQ((enc.mask[i / 8] >> (i % 8)) & 1, w[i] != 0.0f ? 1 : 0) << i;
          if (w[i] != 0.0f) {
            EXPECT_EQ(enc.values[nz++], w[i]);
          }
        }
        EXPECT_EQ(enc.values.size(), nz);
        std::vector<float> back(static_cast<size_t>(N * K), 7.0f);
        sk::decode_sparse(back.data(), enc, N, K);
        EXPECT_EQ(back, w) << N << "x" << K << " at " << s;
      }
    }
  }
  const float w[3] = {0.0f, 2.0f, -0.0f};   // -0.0 is a zero
  const auto enc = sk::encode_sparse(w, 1, 3);
  EXPECT_EQ(enc.mask, std::vector<uint8_t>{0x02});
  EXPECT_EQ(enc.values, std::vector<float>{2.0f});
}

TEST(SparseEncoding, CheckRefusesBadMasksNamingTheTensor) {
  const auto w = sparse_weight(3, 5, 0.5, 11);   // 15 bits: 2 bytes, bit 15 is padding
  const sk::SparseEncoding good = sk::encode_sparse(w.data(), 3, 5);
  EXPECT_NO_THROW(sk::check_sparse_encoding(good, 3, 5, "layer.w"));
  auto expect_error = [](const sk::SparseEncoding& e, int64_t N, int64_t K, const std::string& part) {
    try {
      sk::check_sparse_encoding(e, N, K, "layer.w");
      ADD_FAILURE() << "no error for " << part;
    } catch (const InputError& err) {
      EXPECT_NE(std::string(err.what()).find("layer.w"), std::string::npos) << err.what();
      EXPECT_NE(std::string(err.what()).find(part), std::string::npos) << err.what();
    }
  };
  sk::SparseEncoding bad = good;
  bad.mask.push_back(0);
  expect_error(bad, 3, 5, "3 bytes, expected 2");
  expect_error(good, 4, 5, "expected 3");
  bad = good;
  bad.mask[1] |= 0x80;
  expect_error(bad, 3, 5, "bits past");
  bad = good;
  bad.values.push_back(1.0f);
  expect_error(bad, 3, 5, "values are stored");
  EXPECT_THROW(sk::SparseLinear::from_encoding(bad, nullptr, 3, 5), InputError);
  std::vector<float> out(15);
  EXPECT_THROW(sk::decode_sparse(out.data(), bad, 3, 5), InputError);
}

TEST(SparseLinear, MatchesDenseReferenceOnOddShapesForEveryIsa) {
  for (sk::Isa isa : sk::available_isas()) {
    sk::ScopedIsa scoped(isa);
    uint32_t seed = 1;
    int turn = 0;
    for (int64_t N : {1, 5, 65}) {
      for (int64_t K : {1, 7, 129, 300}) {
        for (double s : {0.0, 0.5, 0.9, 1.0}) {
          const auto w = sparse_weight(N, K, s, ++seed);
          const auto bias = random_vec(static_cast<size_t>(N), ++seed);
          for (int ei = 0; ei < 2; ++ei) {   // two of the four epilogues per shape, in turn
            const sk::Epilogue e = kEpilogues[turn++ % 4];
            const sk::SparseLinear lin(w.data(), bias.data(), N, K, e);
            for (int64_t M : {1, 3, 17, 130}) {
              const auto in = random_vec(static_cast<size_t>(M * K), ++seed);
              const auto prior = random_vec(static_cast<size_t>(M * N), ++seed);
              for (bool acc : {false, true}) {
                std::vector<float> got = prior, want = prior;
                lin.forward(got.data(), in.data(), M, acc);
                sk::ref::linear(want.data(), in.data(), w.data(), bias.data(), M, N, K, e, acc);
                for (size_t i = 0; i < got.size(); ++i) {
                  ASSERT_NEAR(got[i], want[i], tol(K))
                      << sk::isa_name(isa) << " M=" << M << " N=" << N << " K=" << K << " sparsity=" << s
                      << " epilogue=" << static_cast<int>(e) << " accumulate=" << acc << " at " << i;
                }
              }
            }
          }
        }
      }
    }
  }
}

TEST(SparseLinear, FromEncodingEqualsDenseConstruction) {
  const int64_t N = 65, K = 129, M = 33;
  const auto w = sparse_weight(N, K, 0.8, 5);
  const auto bias = random_vec(N, 6);
  const auto in = random_vec(M * K, 7);
  const sk::SparseLinear a(w.data(), bias.data(), N, K, sk::Epilogue::Gelu);
  const sk::SparseLinear b =
      sk::SparseLinear::from_encoding(sk::encode_sparse(w.data(), N, K), bias.data(), N, K, sk::Epilogue::Gelu);
  EXPECT_EQ(a.nonzeros(), b.nonzeros());
  EXPECT_EQ(a.bytes(), b.bytes());
  EXPECT_EQ(a.out_features(), N);
  EXPECT_EQ(b.in_features(), K);
  std::vector<float> ya(M * N), yb(M * N);
  a.forward(ya.data(), in.data(), M);
  b.forward(yb.data(), in.data(), M);
  EXPECT_EQ(ya, yb);
  const sk::SparseLinear copy = a;   // copies share the weight and give the same result
  copy.forward(yb.data(), in.data(), M);
  EXPECT_EQ(ya, yb);
}

TEST(SparseLinear, CountsBytesAndHandlesEmptyShapes) {
  const int64_t N = 4, K = 10;
  const auto w = sparse_weight(N, K, 0.5, 9);
  const sk::SparseLinear lin(w.data(), nullptr, N, K);
  int64_t nz = 0;
  for (float x : w) nz += x != 0.0f;
  EXPECT_EQ(lin.nonzeros(), nz);
  // values + 2-byte column indices + N*ceil(K/128)+1 block offsets + bias
  EXPECT_EQ(lin.bytes(), static_cast<size_t>(nz * 6 + (N + 1) * 8 + N * 4));
  // K = 0: out = epilogue(bias)
  const float bias[2] = {-1.0f, 2.0f};
  const sk::SparseLinear k0(nullptr, bias, 2, 0, sk::Epilogue::Relu);
  std::vector<float> out(6, 1.0f);
  k0.forward(out.data(), nullptr, 3, true);
  EXPECT_EQ(out, (std::vector<float>{1, 3, 1, 3, 1, 3}));
  k0.forward(out.data(), nullptr, 0);   // M = 0 writes nothing
  EXPECT_THROW(sk::SparseLinear(nullptr, nullptr, -1, 3), InputError);
  EXPECT_THROW(sk::SparseLinear(nullptr, nullptr, 2, 3), InputError);
  EXPECT_THROW(sk::SparseLinear().forward(out.data(), nullptr, 1), InputError);
  EXPECT_THROW(lin.forward(out.data(), nullptr, -1), InputError);
}

TEST(SparseLinear, WideRowsUseFourByteIndices) {
  const int64_t N = 2, K = 70000, M = 3;   // K > 65536: column indices no longer fit two bytes
  const auto w = sparse_weight(N, K, 0.99, 21);
  const auto in = random_vec(M * K, 22);
  int64_t nz = 0;
  for (float x : w) nz += x != 0.0f;
  for (sk::Isa isa : sk::available_isas()) {
    sk::ScopedIsa scoped(isa);
    const sk::SparseLinear lin(w.data(), nullptr, N, K);
    EXPECT_EQ(lin.bytes(), static_cast<size_t>(nz * 8 + (N * ((K + 127) / 128) + 1) * 8 + N * 4));
    for (int64_t m : {int64_t{1}, M}) {
      std::vector<float> got(m * N), want(m * N);
      lin.forward(got.data(), in.data(), m);
      sk::ref::linear(want.data(), in.data(), w.data(), nullptr, m, N, K, sk::Epilogue::None, false);
      for (size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], want[i], tol(K / 50)) << sk::isa_name(isa);
    }
  }
}
