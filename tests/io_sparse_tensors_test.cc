// Sparse tensor storage (docs/formats.md "Sparse weights"): encode/decode round trips for every
// storable dtype, files that hold sparse tensors read back dense, and malformed ones refused.
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <random>

#include "io/sparse_tensors.h"
#include "io_test_util.h"
#include "kernels/cpu/sparse_linear.h"
#include "slimformer/checkpoint.h"
#include "slimformer/error.h"

using namespace slimformer;
namespace fs = std::filesystem;

namespace {

Tensor random_sparse(int64_t N, int64_t K, double zeros, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> d;
  std::uniform_real_distribution<double> u;
  Tensor t = Tensor::empty({N, K});
  for (int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = u(rng) < zeros ? (i % 2 ? 0.0f : -0.0f) : d(rng);
  return t;
}

bool same_values(const Tensor& a, const Tensor& b) {
  if (a.dtype() != b.dtype() || a.shape() != b.shape()) return false;
  const Tensor fa = a.to_f32(), fb = b.to_f32();
  for (int64_t i = 0; i < fa.numel(); ++i)
    if (fa.data<float>()[i] != fb.data<float>()[i]) return false;   // -0 == +0
  return true;
}

fs::path scratch() {
  const fs::path p = fs::temp_directory_path() / ("slimformer-sparse-" + std::to_string(::getpid()));
  fs::remove_all(p);
  fs::create_directories(p);
  return p;
}

}  // namespace

TEST(IoSparseTensors, RoundTripsEveryDtypeAndOddSize) {
  for (auto [N, K] : {std::pair<int64_t, int64_t>{1, 1}, {3, 5}, {7, 13}, {64, 33}}) {
    for (DType dt : {DType::F32, DType::F16, DType::BF16, DType::I8}) {
      Tensor t = random_sparse(N, K, 0.6, static_cast<unsigned>(N * K));
      if (dt == DType::I8) {
        Tensor q = Tensor::empty({N, K}, DType::I8);
        for (int64_t i = 0; i < t.numel(); ++i) q.data<int8_t>()[i] = static_cast<int8_t>(t.data<float>()[i] * 20);
        t = q;
      } else if (dt != DType::F32) {
        t = t.to_float(dt);
      }
      const io::SparseParts p = io::sparse_encode(t);
      EXPECT_EQ(p.mask.numel(), (N * K + 7) / 8);
      EXPECT_EQ(p.values.numel(), t.numel() - io::count_zeros(t));
      EXPECT_EQ(io::sparse_parts_problem(p.mask, p.values, N, K), "");
      EXPECT_TRUE(same_values(io::sparse_decode(p.mask, p.values, N, K), t)) << dtype_name(dt) << " " << N << "x" << K;
    }
  }
}

// The file format and the kernel's in-memory encoding (kernels/cpu/sparse_linear.h) agree bit
// for bit, so either can read what the other wrote.
TEST(IoSparseTensors, MatchesTheKernelEncoding) {
  const Tensor t = random_sparse(9, 31, 0.8, 5);
  const io::SparseParts p = io::sparse_encode(t);
  const kernels::SparseEncoding k = kernels::encode_sparse(t.data<float>(), 9, 31);
  ASSERT_EQ(static_cast<size_t>(p.mask.numel()), k.mask.size());
  EXPECT_EQ(std::memcmp(p.mask.raw(), k.mask.data(), k.mask.size()), 0);
  ASSERT_EQ(static_cast<size_t>(p.values.numel()), k.values.size());
  EXPECT_EQ(std::memcmp(p.values.raw(), k.values.data(), k.values.size() * sizeof(float)), 0);
}

TEST(IoSparseTensors, FileListsAndReturnsTheDenseTensor) {
  const fs::path dir = scratch();
  const Tensor w = random_sparse(6, 10, 0.7, 1), b = random_sparse(1, 6, 0, 2).reshaped({6});
  const io::SparseParts p = io::sparse_encode(w);
  const std::string path = (dir / "m.safetensors").string();
  write_safetensors(path, {{"w.mask", p.mask}, {"w.values", p.values}, {"b", b}}, {{"w", io::sparse_marker(6, 10)}});
  const SafetensorsFile f(path);
  EXPECT_EQ(f.names(), (std::vector<std::string>{"b", "w"}));
  EXPECT_TRUE(f.contains("w"));
  EXPECT_FALSE(f.contains("w.mask"));
  EXPECT_TRUE(f.is_sparse("w"));
  EXPECT_TRUE(same_values(f.get("w"), w));
  EXPECT_EQ(f.stored_bytes("w"), p.mask.nbytes() + p.values.nbytes());
  EXPECT_EQ(f.stored_bytes("b"), b.nbytes());
  fs::remove_all(dir);
}

TEST(IoSparseTensors, MalformedSparseTensorsAreRefused) {
  const fs::path dir = scratch();
  const Tensor w = random_sparse(4, 6, 0.5, 3);
  const io::SparseParts p = io::sparse_encode(w);
  const std::string path = (dir / "bad.safetensors").string();
  auto refused = [&](const std::map<std::string, Tensor>& tensors, const std::string& marker,
                     std::initializer_list<std::string> parts) {
    write_safetensors(path, tensors, {{"w", marker}});
    iotest::expect_error<FormatError>([&] { SafetensorsFile f(path); }, parts);
  };
  const std::string ok = io::sparse_marker(4, 6);
  refused({{"w.mask", p.mask}}, ok, {"'w'", "lacks 'w.values'"});
  refused({{"w.values", p.values}}, ok, {"lacks 'w.mask'"});
  refused({{"w.mask", p.mask}, {"w.values", p.values}}, "sparse 4", {"sparse N,K"});
  refused({{"w.mask", p.mask}, {"w.values", p.values}}, "sparse 4,x", {"sparse N,K"});
  refused({{"w.mask", p.mask}, {"w.values", p.values}}, "sparse 5,6", {"mask must be U8 [4]"});
  Tensor fewer = Tensor::empty({p.values.numel() - 1});
  std::memcpy(fewer.raw(), p.values.raw(), fewer.nbytes());
  refused({{"w.mask", p.mask}, {"w.values", fewer}}, ok, {"nonzeros but"});
  refused({{"w.mask", p.mask}, {"w.values", p.values}, {"w", w}}, ok, {"both dense and sparse"});
  Tensor padded = Tensor::zeros({1}, DType::U8);   // 1x3 has 3 entries: bits 3..7 are padding
  padded.data<uint8_t>()[0] = 0x81;
  Tensor two = Tensor::zeros({2});
  write_safetensors(path, {{"w.mask", padded}, {"w.values", two}}, {{"w", io::sparse_marker(1, 3)}});
  iotest::expect_error<FormatError>([&] { SafetensorsFile f(path); }, {"past its 3 entries"});
  fs::remove_all(dir);
}
