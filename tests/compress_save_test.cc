// Saving a compressed model as a folder: it reloads with the same outputs, keeps the source's
// other files, never touches the source, and refuses outputs that would.
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>

#include "fixture_util.h"
#include "io_test_util.h"
#include "slimformer/compress.h"
#include "slimformer/encoder.h"
#include "slimformer/error.h"
#include "test_util.h"

using namespace slimformer;
namespace fs = std::filesystem;
using slimtest::fixture_batch;
using slimtest::masked_max_diff;

namespace {

const std::string kDir = slimtest::fixtures_dir();

fs::path scratch(const std::string& name) {
  const fs::path p = fs::temp_directory_path() / ("slimformer-save-" + name + "-" + std::to_string(::getpid()));
  fs::remove_all(p);
  fs::create_directories(p);
  return p;
}

// One short sentence of st-bert-uncased's vocabulary.
Batch short_batch() {
  Batch b;
  b.batch = 1;
  b.seq = 5;
  b.ids = {101, 2023, 2003, 1037, 102};
  b.mask = {1, 1, 1, 1, 1};
  b.type_ids = {0, 0, 0, 0, 0};
  return b;
}

}  // namespace

TEST(CompressSave, SavedFolderReloadsWithTheSameOutputsAndTheSourceFiles) {
  const std::string src = kDir + "/models/st-bert-uncased";
  compress::ModelState m = compress::state_of(Checkpoint(src));
  compress::remove_heads(m, {{0, {1}}});
  compress::remove_ffn_neurons(m, {{0, {0, 5, 9}}});
  const fs::path root = scratch("reload");
  const compress::SavedModel saved = compress::save_model(m, src, (root / "out").string());
  EXPECT_EQ(saved.weights_bytes, fs::file_size(root / "out" / "model.safetensors"));
  for (auto it = fs::recursive_directory_iterator(src); it != fs::recursive_directory_iterator(); ++it) {
    const fs::path rel = fs::relative(it->path(), src);
    EXPECT_TRUE(fs::exists(root / "out" / rel)) << rel << " not copied";
  }
  const Checkpoint back((root / "out").string());
  EXPECT_EQ(back.config().pruned_heads, m.config.pruned_heads);
  EXPECT_EQ(back.config().intermediate_sizes, m.config.intermediate_sizes);
  EXPECT_EQ(back.files().front()->metadata().at("format"), "pt");
  const Batch b = short_batch();
  const Tensor want = Encoder(compress::checkpoint_of(m)).forward(b).last_hidden_state;
  const Tensor got = Encoder(std::make_shared<const Checkpoint>((root / "out").string())).forward(b).last_hidden_state;
  EXPECT_EQ(masked_max_diff(got, want, b.mask), 0.0);
  EXPECT_FALSE(fs::exists(root / ("out.tmp")));
  for (const auto& e : fs::directory_iterator(root)) EXPECT_EQ(e.path().filename(), "out");   // no temp left
  fs::remove_all(root);
}

TEST(CompressSave, OutputsThatWouldTouchTheSourceOrOtherFilesAreRefused) {
  const fs::path root = scratch("refuse");
  const std::string src = kDir + "/models/bert-tiny";
  const compress::ModelState m = compress::state_of(Checkpoint(src));
  iotest::expect_error<InputError>([&] { compress::save_model(m, src, src); }, {"input model folder"});
  iotest::expect_error<InputError>([&] { compress::save_model(m, src, src + "/sub"); }, {"input model folder"});
  iotest::expect_error<InputError>([&] { compress::save_model(m, src, kDir + "/models"); }, {"input model folder"});
  fs::create_directories(root / "full");
  std::ofstream(root / "full" / "x") << "x";
  iotest::expect_error<InputError>([&] { compress::save_model(m, src, (root / "full").string()); }, {"not empty"});
  std::ofstream(root / "file") << "x";
  iotest::expect_error<InputError>([&] { compress::save_model(m, src, (root / "file").string()); }, {"not a folder"});
  iotest::expect_error<InputError>([&] { compress::save_model(m, src, (root / "no" / "such").string()); }, {"does not exist"});
  fs::create_directories(root / "empty");
  compress::save_model(m, src, (root / "empty").string());   // an empty folder is fine
  EXPECT_TRUE(fs::exists(root / "empty" / "config.json"));
  fs::remove_all(root);
}

// The export of a pruned model runs the same numbers at full shapes.
TEST(CompressExport, PrunedModelsExportToFullShapesWithTheSameOutputs) {
  const std::string src = kDir + "/models/bert-tiny";
  compress::ModelState m = compress::state_of(Checkpoint(src));
  compress::remove_heads(m, {{0, {0, 2}}, {1, {3}}});
  compress::remove_ffn_neurons(m, {{0, {1, 2, 3}}, {1, {7}}});
  compress::ModelState dense = m;
  compress::to_dense_f32(dense);
  const compress::ModelState full = compress::state_of(Checkpoint(src));
  for (const auto& [name, t] : full.tensors) {
    EXPECT_EQ(dense.tensors.at(name).shape(), t.shape()) << name;
    EXPECT_EQ(dense.tensors.at(name).dtype(), DType::F32) << name;
  }
  EXPECT_TRUE(dense.config.pruned_heads.empty());
  EXPECT_TRUE(dense.config.intermediate_sizes.empty());
  SafetensorsFile in(kDir + "/outputs/bert-tiny.safetensors");
  const Batch b = fixture_batch(in);
  EXPECT_LE(masked_max_diff(Encoder(compress::checkpoint_of(dense)).forward(b).last_hidden_state,
                            Encoder(compress::checkpoint_of(m)).forward(b).last_hidden_state, b.mask), 1e-5);
  // int8 and fp16 tensors come back as codes x scales and widened values.
  compress::ModelState q = m;
  compress::quantize(q, compress::Quantization{});
  compress::ModelState back = q;
  compress::to_dense_f32(back);
  const std::string w = "encoder.layer.1.intermediate.dense.weight";   // its rows keep their places
  const Tensor codes = q.tensors.at(w), scales = q.tensors.at(w + kInt8ScaleSuffix), got = back.tensors.at(w);
  for (int64_t i = 0; i < codes.numel(); i += 37) {
    EXPECT_EQ(got.data<float>()[i], codes.data<int8_t>()[i] * scales.data<float>()[i / codes.dim(1)]);
  }
  EXPECT_EQ(back.tensors.count(w + kInt8ScaleSuffix), 0u);
}

// Unstructured pruning's zeros are stored as a bitmask and the nonzeros: at 50% and 90% the
// file is smaller than the dense one, reloads to the same weights and the same outputs, and
// Storage::Dense still writes the plain tensors Hugging Face reads.
TEST(CompressSave, PrunedTensorsAreStoredSparseAndReloadExactly) {
  const std::string src = kDir + "/models/st-bert-uncased";
  const fs::path root = scratch("sparse");
  const Batch b = short_batch();
  for (double amount : {0.5, 0.9}) {
    compress::ModelState m = compress::state_of(Checkpoint(src));
    compress::UnstructuredPruning p;
    p.amount = amount;
    const compress::PruneSummary s = compress::prune_l1_unstructured(m, p);
    const std::string tag = std::to_string(static_cast<int>(amount * 100));
    const auto sparse = compress::save_model(m, src, (root / ("sparse" + tag)).string());
    const auto dense = compress::save_model(m, src, (root / ("dense" + tag)).string(), {}, compress::Storage::Dense);
    EXPECT_LT(sparse.weights_bytes, dense.weights_bytes) << amount;
    const Checkpoint back((root / ("sparse" + tag)).string()), plain((root / ("dense" + tag)).string());
    EXPECT_EQ(back.names(), plain.names());
    for (const std::string& name : s.tensors) {
      EXPECT_TRUE(back.is_decoded(name)) << name;
      EXPECT_FALSE(plain.is_decoded(name)) << name;
      const Tensor a = back.get(name), c = plain.get(name);
      ASSERT_EQ(a.shape(), c.shape());
      EXPECT_EQ(std::memcmp(a.raw(), c.raw(), a.nbytes()), 0) << name;
      EXPECT_LT(back.stored_bytes(name), plain.stored_bytes(name)) << name;
    }
    const Tensor want = Encoder(compress::checkpoint_of(m)).forward(b).last_hidden_state;
    const Tensor got = Encoder(std::make_shared<const Checkpoint>((root / ("sparse" + tag)).string())).forward(b).last_hidden_state;
    EXPECT_LE(masked_max_diff(got, want, b.mask), 1e-5) << amount;
  }
  fs::remove_all(root);
}
