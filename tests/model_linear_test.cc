// model::Linear picks its kernel from the stored weights and computes what the scalar
// references compute on the same (stacked) weights, on every instruction-set target.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "isa_test_util.h"
#include "kernels/cpu/bf16_linear.h"
#include "kernels/cpu/int8_linear.h"
#include "kernels/cpu/reference.h"
#include "model/linear.h"
#include "slimformer/error.h"

namespace slimformer::model {
namespace {

using kernels::Epilogue;

// Three parts sharing an input, as Q, K and V are stacked (odd sizes on purpose).
const std::vector<int64_t> kOuts = {7, 5, 9};
constexpr int64_t kIn = 37, kM = 13;

std::vector<float> normal(int64_t n, unsigned seed, double zero_fraction = 0) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist;
  std::uniform_real_distribution<double> u;
  std::vector<float> v(n);
  for (float& x : v) x = u(rng) < zero_fraction ? 0.0f : dist(rng);
  return v;
}

Tensor f32_tensor(const std::vector<float>& v, const Shape& shape) {
  Tensor t = Tensor::empty(shape);
  std::memcpy(t.raw(), v.data(), v.size() * sizeof(float));
  return t;
}

struct Layer {
  std::vector<float> w, b;   // stacked f32 (sum outs, kIn), (sum outs)
  std::vector<StoredWeight> parts;
  std::vector<Tensor> biases;
};

Layer f32_layer(double zero_fraction) {
  Layer l;
  int64_t rows = 0;
  for (int64_t o : kOuts) rows += o;
  l.w = normal(rows * kIn, 1, zero_fraction);
  l.b = normal(rows, 2);
  int64_t at = 0;
  for (size_t i = 0; i < kOuts.size(); ++i) {
    const std::vector<float> w(l.w.begin() + at * kIn, l.w.begin() + (at + kOuts[i]) * kIn);
    const std::vector<float> b(l.b.begin() + at, l.b.begin() + at + kOuts[i]);
    l.parts.push_back({"part" + std::to_string(i), f32_tensor(w, {kOuts[i], kIn}), kOuts[i], kIn, {}});
    l.biases.push_back(f32_tensor(b, {kOuts[i]}));
    at += kOuts[i];
  }
  return l;
}

void expect_near(const std::vector<float>& got, const std::vector<float>& want, double tol) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) ASSERT_NEAR(got[i], want[i], tol * (1 + std::fabs(want[i]))) << i;
}

std::vector<float> run(const Linear& l, const std::vector<float>& x, bool accumulate, float previous) {
  std::vector<float> out(kM * l.out_features(), previous);
  l.forward(out.data(), x.data(), kM, accumulate);
  return out;
}

TEST(ModelLinear, DenseF32BelowTheSparseThreshold) {
  const Layer l = f32_layer(0.5);
  const std::vector<float> x = normal(kM * kIn, 3);
  slimtest::for_each_isa([&] {
    const Linear lin = Linear::build(l.parts, l.biases, Epilogue::Gelu);
    EXPECT_EQ(lin.kind(), Linear::Kind::DenseF32);
    EXPECT_STREQ(lin.kind_name(), "dense f32");
    std::vector<float> want(kM * lin.out_features(), 0.5f);
    kernels::ref::linear(want.data(), x.data(), l.w.data(), l.b.data(), kM, lin.out_features(), kIn, Epilogue::Gelu, true);
    expect_near(run(lin, x, true, 0.5f), want, 1e-4);
  });
}

TEST(ModelLinear, MostlyZeroF32RunsSparse) {
  const Layer l = f32_layer(0.9);
  const std::vector<float> x = normal(kM * kIn, 4);
  slimtest::for_each_isa([&] {
    const Linear lin = Linear::build(l.parts, l.biases, Epilogue::Relu);
    EXPECT_EQ(lin.kind(), Linear::Kind::Sparse);
    std::vector<float> want(kM * lin.out_features());
    kernels::ref::linear(want.data(), x.data(), l.w.data(), l.b.data(), kM, lin.out_features(), kIn, Epilogue::Relu, false);
    expect_near(run(lin, x, false, 0), want, 1e-4);
    EXPECT_LT(lin.bytes(), l.w.size() * sizeof(float));
  });
}

TEST(ModelLinear, Int8PartsRunTheInt8KernelOnTheStackedCodes) {
  Layer l = f32_layer(0);
  const int64_t rows = static_cast<int64_t>(l.b.size());
  std::vector<int8_t> q(rows * kIn);
  std::vector<float> scales(rows);
  kernels::quantize_per_channel(q.data(), scales.data(), l.w.data(), rows, kIn);
  int64_t at = 0;
  for (size_t i = 0; i < kOuts.size(); ++i) {
    Tensor codes = Tensor::empty({kOuts[i], kIn}, DType::I8);
    std::memcpy(codes.raw(), q.data() + at * kIn, kOuts[i] * kIn);
    l.parts[i].values = codes;
    l.parts[i].scales = f32_tensor(std::vector<float>(scales.begin() + at, scales.begin() + at + kOuts[i]), {kOuts[i]});
    at += kOuts[i];
  }
  const std::vector<float> x = normal(kM * kIn, 5);
  slimtest::for_each_isa([&] {
    const Linear lin = Linear::build(l.parts, l.biases, Epilogue::Gelu);
    EXPECT_EQ(lin.kind(), Linear::Kind::Int8);
    std::vector<float> want(kM * rows, 0.25f);
    kernels::int8_linear_ref(want.data(), x.data(), q.data(), scales.data(), l.b.data(), kM, rows, kIn, Epilogue::Gelu, true);
    expect_near(run(lin, x, true, 0.25f), want, 1e-5);
  });
  // One part left f32 (quantize --skip): the layer runs dense on the dequantized values.
  l.parts[1] = f32_layer(0).parts[1];
  const Linear mixed = Linear::build(l.parts, l.biases);
  EXPECT_EQ(mixed.kind(), Linear::Kind::DenseF32);
}

TEST(ModelLinear, Bf16PartsStayBf16) {
  Layer l = f32_layer(0);
  std::vector<uint16_t> bits(l.w.size());
  kernels::narrow_bf16(bits.data(), l.w.data(), static_cast<int64_t>(bits.size()));
  std::vector<float> widened(l.w.size());
  kernels::widen_bf16(widened.data(), bits.data(), static_cast<int64_t>(bits.size()));
  int64_t at = 0;
  for (size_t i = 0; i < kOuts.size(); ++i) {
    Tensor t = Tensor::empty({kOuts[i], kIn}, DType::BF16);
    std::memcpy(t.raw(), bits.data() + at * kIn, kOuts[i] * kIn * sizeof(uint16_t));
    l.parts[i].values = t;
    at += kOuts[i];
  }
  const std::vector<float> x = normal(kM * kIn, 6);
  slimtest::for_each_isa([&] {
    const Linear lin = Linear::build(l.parts, l.biases);
    EXPECT_EQ(lin.kind(), Linear::Kind::Bf16);
    std::vector<float> want(kM * lin.out_features());
    kernels::ref::linear(want.data(), x.data(), widened.data(), l.b.data(), kM, lin.out_features(), kIn, Epilogue::None, false);
    // The bf16 path rounds the input to bf16 too: 8 bits of mantissa over 37 products.
    expect_near(run(lin, x, false, 0), want, 3e-2);
  });
}

TEST(ModelLinear, PartsWithDifferentInputsAreRefused) {
  Layer l = f32_layer(0);
  l.parts[2].in = kIn + 1;
  EXPECT_THROW(Linear::build(l.parts, l.biases), Error);
}

}  // namespace
}  // namespace slimformer::model
