// sentence-transformers Dense modules: the embeddings of a folder with Dense modules are a scalar
// reference of those modules applied to the same folder's embeddings without them; every
// refusal names the file.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <limits>

#include "io_test_util.h"
#include "sentence_folder_util.h"
#include "slimformer/encoder.h"
#include "slimformer/error.h"
#include "test_util.h"

using namespace slimformer;
using iotest::expect_error;
using slimtest::DenseModuleFiles;
using slimtest::random_dense;
using slimtest::write_sentence_folder;
namespace fs = std::filesystem;

namespace {

const std::vector<std::string> kTexts = {"A man is playing a guitar.", "short", "",
                                         "A woman slices an onion on a wooden board in the kitchen.",
                                         "the cat", "Two dogs run through a field of tall grass near the river bank."};

std::vector<double> row(const Tensor& t, int64_t r) {
  const int64_t H = t.dim(1);
  return {t.data<float>() + r * H, t.data<float>() + (r + 1) * H};
}

// Max |got row - reference row| over every row, where the reference applies `dense` in order
// (scalar, double) to `pooled`'s rows, then L2-normalizes when asked.
double max_diff_to_reference(const Tensor& got, const Tensor& pooled, const std::vector<DenseModuleFiles>& dense,
                             const std::vector<std::string>& activations, bool normalize) {
  double worst = 0;
  for (int64_t r = 0; r < pooled.dim(0); ++r) {
    std::vector<double> x = row(pooled, r);
    for (size_t i = 0; i < dense.size(); ++i) {
      const auto b = dense[i].tensors.find("linear.bias");
      x = slimtest::reference_dense(x, dense[i].tensors.at("linear.weight"),
                                    b == dense[i].tensors.end() ? Tensor() : b->second, activations[i]);
    }
    double norm = 0;
    for (double v : x) norm += v * v;
    norm = normalize ? std::sqrt(norm) : 1.0;
    EXPECT_EQ(got.dim(1), static_cast<int64_t>(x.size()));
    for (size_t j = 0; j < x.size(); ++j) {
      worst = std::max(worst, std::fabs(got.data<float>()[r * got.dim(1) + static_cast<int64_t>(j)] - x[j] / norm));
    }
  }
  return worst;
}

class ModelDense : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = slimtest::make_temp_dir();
    plain_ = SentenceEncoder(write_sentence_folder(root_ + "/plain", "mean")).embed(kTexts, 4);
  }
  // A folder with one Dense module of these files; the SentenceEncoder built from it.
  std::string folder(const DenseModuleFiles& d) { return write_sentence_folder(root_ + "/one", "mean", {d}); }
  std::string weights_path() const { return root_ + "/one/2_Dense/model.safetensors"; }
  std::string root_;
  Tensor plain_;   // the embeddings without Dense modules
};

}  // namespace

TEST_F(ModelDense, TwoModulesThenNormalizeMatchTheReference) {
  const std::vector<DenseModuleFiles> dense = {
      random_dense(16, 8, 1), random_dense(8, 5, 2, /*bias=*/false, "torch.nn.modules.linear.Identity")};
  const SentenceEncoder enc(write_sentence_folder(root_ + "/two", "mean", dense, /*normalize=*/true));
  EXPECT_EQ(enc.dim(), 5);
  const Tensor got = enc.embed(kTexts, 4);
  ASSERT_EQ(got.shape(), (Shape{static_cast<int64_t>(kTexts.size()), 5}));
  EXPECT_LT(max_diff_to_reference(got, plain_, dense, {"Tanh", "Identity"}, true), 1e-5);
  // Without Normalize: the projection alone, not unit length.
  const Tensor raw = enc.embed(kTexts, 4, 0, /*normalize_override_off=*/true);
  EXPECT_LT(max_diff_to_reference(raw, plain_, dense, {"Tanh", "Identity"}, false), 1e-5);
  EXPECT_EQ(enc.embed({}).shape(), (Shape{0, 5}));
}

TEST_F(ModelDense, EveryActivationMatchesTheReference) {
  for (const char* activation : {"Identity", "Tanh", "ReLU", "Sigmoid", "GELU"}) {
    const std::string torch_name = std::string(activation == std::string("Identity") ? "torch.nn.modules.linear."
                                                                                   : "torch.nn.modules.activation.") +
                                   activation;
    const std::vector<DenseModuleFiles> dense = {random_dense(16, 7, 3, true, torch_name)};
    const SentenceEncoder enc(write_sentence_folder(root_ + "/act", "mean", dense));
    EXPECT_LT(max_diff_to_reference(enc.embed(kTexts, 4), plain_, dense, {activation}, false), 1e-5) << activation;
  }
}

TEST_F(ModelDense, HalfPrecisionWeightsAreWidened) {
  DenseModuleFiles d = random_dense(16, 6, 4);
  d.tensors["linear.weight"] = d.tensors["linear.weight"].to_float(DType::F16);
  d.tensors["linear.bias"] = d.tensors["linear.bias"].to_float(DType::BF16);
  const SentenceEncoder enc(folder(d));
  EXPECT_LT(max_diff_to_reference(enc.embed(kTexts, 4), plain_, {d}, {"Tanh"}, false), 1e-5);
}

TEST_F(ModelDense, PickleWeightsAreRefused) {
  DenseModuleFiles d = random_dense(16, 6, 5);
  d.tensors.clear();
  const std::string dir = folder(d);
  iotest::write_bytes(dir + "/2_Dense/pytorch_model.bin", "PK\x03\x04 not read");
  expect_error<ModelError>([&] { SentenceEncoder{dir}; }, {dir + "/2_Dense/pytorch_model.bin", "pickle"});
}

TEST_F(ModelDense, MissingWeightsAreRefused) {
  DenseModuleFiles d = random_dense(16, 6, 5);
  d.tensors.clear();
  const std::string dir = folder(d);
  expect_error<ModelError>([&] { SentenceEncoder{dir}; }, {weights_path(), "missing"});
}

TEST_F(ModelDense, MissingBiasIsRefused) {
  DenseModuleFiles d = random_dense(16, 6, 5);
  d.tensors.erase("linear.bias");
  const std::string dir = folder(d);
  expect_error<ModelError>([&] { SentenceEncoder{dir}; }, {weights_path(), "'linear.bias'", "missing"});
}

TEST_F(ModelDense, BiasAgainstTheConfigIsRefused) {
  DenseModuleFiles d = random_dense(16, 6, 5);
  d.config_json = slimtest::dense_config_json(16, 6, /*bias=*/false);
  const std::string dir = folder(d);
  expect_error<ModelError>([&] { SentenceEncoder{dir}; }, {weights_path(), "'linear.bias'", "bias false"});
}

TEST_F(ModelDense, WeightShapeAgainstTheConfigIsRefused) {
  DenseModuleFiles d = random_dense(16, 6, 5);
  d.tensors["linear.weight"] = slimtest::random_tensor({6, 15}, 9);
  const std::string dir = folder(d);
  expect_error<ModelError>([&] { SentenceEncoder{dir}; }, {weights_path(), "'linear.weight'", "[6, 15]", "[6, 16]"});
  d = random_dense(16, 6, 5);
  d.tensors["linear.bias"] = slimtest::random_tensor({5}, 9);
  folder(d);
  expect_error<ModelError>([&] { SentenceEncoder{dir}; }, {weights_path(), "'linear.bias'", "[5]", "[6]"});
}

TEST_F(ModelDense, InFeaturesOtherThanTheHiddenSizeAreRefused) {
  const std::string dir = folder(random_dense(12, 6, 5));
  expect_error<ModelError>([&] { SentenceEncoder{dir}; }, {dir + "/2_Dense/config.json", "in_features 12", "16"});
}

TEST_F(ModelDense, NonFiniteWeightsAreRefused) {
  for (const float bad : {std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity()}) {
    for (const char* name : {"linear.weight", "linear.bias"}) {
      DenseModuleFiles d = random_dense(16, 6, 5);
      d.tensors[name].data<float>()[3] = bad;
      const std::string dir = folder(d);
      expect_error<ModelError>([&] { SentenceEncoder{dir}; }, {weights_path(), std::string("'") + name + "'", "non-finite"});
    }
  }
}

TEST_F(ModelDense, IntegerWeightsAreRefused) {
  DenseModuleFiles d = random_dense(16, 6, 5);
  d.tensors["linear.weight"] = Tensor::zeros({6, 16}, DType::I32);
  const std::string dir = folder(d);
  expect_error<ModelError>([&] { SentenceEncoder{dir}; }, {weights_path(), "'linear.weight'", "I32"});
}

TEST(ModelDenseForward, WrongWidthIsRefused) {
  DenseLayer layer;
  layer.config.in_features = 4;
  layer.config.out_features = 2;
  layer.weight = Tensor::zeros({2, 4});
  EXPECT_THROW(dense_forward(Tensor::zeros({3, 5}), layer), InputError);
  EXPECT_EQ(dense_forward(Tensor::zeros({3, 4}), layer).shape(), (Shape{3, 2}));
}
