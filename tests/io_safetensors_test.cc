// safetensors round trips for every dtype, the on-disk layout, zero-copy views into the mapping,
// and the atomic writers.
#include <gtest/gtest.h>
#include <sys/resource.h>

#include <algorithm>
#include <cmath>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "io_test_util.h"
#include "slimformer/checkpoint.h"
#include "slimformer/error.h"
#include "slimformer/memory.h"
#include "test_util.h"

namespace {
using namespace slimformer;
using iotest::expect_error;
namespace fs = std::filesystem;

Tensor patterned(const Shape& shape, DType dtype, int seed) {
  Tensor t = Tensor::empty(shape, dtype);
  auto* p = static_cast<unsigned char*>(t.raw());
  for (size_t i = 0; i < t.nbytes(); ++i) p[i] = static_cast<unsigned char>(i * 31 + seed * 7 + 1);
  return t;
}

bool same_bytes(const Tensor& a, const Tensor& b) {
  return a.dtype() == b.dtype() && a.shape() == b.shape() && std::memcmp(a.raw(), b.raw(), a.nbytes()) == 0;
}

std::vector<std::string> dir_entries(const std::string& dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) out.push_back(e.path().filename().string());
  std::sort(out.begin(), out.end());
  return out;
}

// The /proc/self/maps line whose address range holds `p`, or "" if none.
std::string mapping_of(const void* p) {
  std::ifstream maps("/proc/self/maps");
  const auto addr = reinterpret_cast<uintptr_t>(p);
  std::string line;
  while (std::getline(maps, line)) {
    uintptr_t lo = 0, hi = 0;
    if (std::sscanf(line.c_str(), "%lx-%lx", &lo, &hi) == 2 && addr >= lo && addr < hi) return line;
  }
  return "";
}

TEST(IoSafetensors, RoundTripEveryDtypeAndOddShapes) {
  const std::string path = slimtest::make_temp_dir() + "/rt.safetensors";
  std::map<std::string, Tensor> in;
  int seed = 0;
  for (DType dt : {DType::F32, DType::F16, DType::BF16, DType::I8, DType::I32, DType::I64, DType::U8}) {
    for (const Shape& s : {Shape{1}, Shape{3}, Shape{17, 3}, Shape{513}, Shape{}, Shape{0, 5}}) {
      in[std::string(dtype_name(dt)) + "." + shape_str(s)] = patterned(s, dt, ++seed);
    }
  }
  write_safetensors(path, in, {{"format", "pt"}, {"note", "round trip"}});
  SafetensorsFile f(path);
  EXPECT_EQ(f.names().size(), in.size());
  EXPECT_EQ(f.metadata(), (std::map<std::string, std::string>{{"format", "pt"}, {"note", "round trip"}}));
  for (const auto& [name, t] : in) {
    Tensor back = f.get(name);
    EXPECT_TRUE(same_bytes(t, back)) << name;
    EXPECT_EQ(reinterpret_cast<uintptr_t>(back.raw()) % 64, 0u) << name << " is not 64-byte aligned";
  }
}

TEST(IoSafetensors, LayoutSortedHeaderPaddedToSixtyFour) {
  const std::string path = slimtest::make_temp_dir() + "/layout.safetensors";
  write_safetensors(path, {{"b", patterned({3}, DType::I8, 1)}, {"a", patterned({5}, DType::F32, 2)}});
  const std::string bytes = read_text_file(path);
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | static_cast<unsigned char>(bytes[i]);
  EXPECT_EQ((8 + n) % 64, 0u);
  const std::string header = bytes.substr(8, n);
  EXPECT_LT(header.find("\"a\""), header.find("\"b\""));
  EXPECT_EQ(header.find_last_not_of(' '), header.rfind('}'));     // padding is spaces after the JSON
  EXPECT_NE(header.find("\"data_offsets\":[0,20]"), std::string::npos) << header;
  EXPECT_NE(header.find("\"data_offsets\":[64,67]"), std::string::npos) << header;
  EXPECT_EQ(bytes.size(), 8 + n + 67);
}

TEST(IoSafetensors, RewrittenFixtureMatchesOriginal) {
  const std::string src = slimtest::fixtures_dir() + "/models/bert-tiny/model.safetensors";
  const std::string dst = slimtest::make_temp_dir() + "/copy.safetensors";
  SafetensorsFile a(src);
  std::map<std::string, Tensor> all;
  for (const auto& n : a.names()) all[n] = a.get(n);
  write_safetensors(dst, all, a.metadata());
  SafetensorsFile b(dst);
  EXPECT_EQ(b.names(), a.names());
  EXPECT_EQ(b.metadata(), a.metadata());
  for (const auto& n : a.names()) EXPECT_TRUE(same_bytes(a.get(n), b.get(n))) << n;
}

TEST(IoSafetensors, WriterRefusesBadNamesAndWritesNothing) {
  const std::string dir = slimtest::make_temp_dir();
  expect_error<InputError>([&] { write_safetensors(dir + "/x.safetensors", {{"__metadata__", patterned({1}, DType::F32, 0)}}); },
                           {"__metadata__"});
  expect_error<InputError>([&] { write_safetensors(dir + "/x.safetensors", {{"w", Tensor()}}); }, {"'w'", "no data"});
  expect_error<InputError>([&] { write_safetensors(dir + "/x.safetensors", {{"bad\xff", patterned({1}, DType::F32, 0)}}); },
                           {"UTF-8"});
  EXPECT_TRUE(dir_entries(dir).empty());
}

TEST(IoSafetensors, ViewsPointIntoTheMappingAndKeepItAlive) {
  const std::string path = slimtest::fixtures_dir() + "/models/bert-tiny/model.safetensors";
  Tensor t;
  {
    SafetensorsFile f(path);
    t = f.get("embeddings.word_embeddings.weight");
    EXPECT_EQ(f.get("embeddings.word_embeddings.weight").raw(), t.raw());   // no copy per get()
    const std::string line = mapping_of(t.raw());
    EXPECT_NE(line.find(fs::canonical(path).string()), std::string::npos) << line;
    EXPECT_NE(line.find(" r--"), std::string::npos) << "mapping should be read-only: " << line;
  }
  // The file object is gone; the view's owner keeps the bytes mapped.
  EXPECT_NE(mapping_of(t.raw()).find("model.safetensors"), std::string::npos);
  float sum = 0;
  for (int64_t i = 0; i < t.numel(); ++i) sum += t.data<float>()[i];
  EXPECT_TRUE(std::isfinite(sum));
  const void* p = t.raw();
  t = Tensor();
  EXPECT_EQ(mapping_of(p).find("model.safetensors"), std::string::npos) << "mapping outlived its last view";
}

TEST(IoSafetensors, TouchingEveryWeightCostsTheFileSizeOnce) {
  const std::string dir = slimtest::shared_dir() + "/models/bert-mini-sts";
  const size_t live0 = live_bytes();
  const size_t rss0 = process_rss_bytes();
  Checkpoint ck(dir);
  uint64_t checksum = 0;
  size_t touched = 0;
  for (const auto& n : ck.names()) {
    const Tensor t = ck.get(n);
    const auto* p = static_cast<const unsigned char*>(t.raw());
    for (size_t i = 0; i < t.nbytes(); ++i) checksum += p[i];
    touched += t.nbytes();
  }
  const size_t grew = process_rss_bytes() - rss0;
  const double file = static_cast<double>(ck.file_bytes());
  EXPECT_GT(checksum, 0u);
  EXPECT_GT(touched, file * 0.95);
  EXPECT_EQ(live_bytes(), live0) << "loading must not allocate tensor memory";
  EXPECT_GT(grew, file * 0.5) << "RSS should show the touched pages";
  EXPECT_LE(grew, file * 1.25) << "weights were copied: RSS grew " << grew << " for a " << file << "-byte file";
}

TEST(IoAtomicWrite, WritesReplacesAndLeavesNoTempFile) {
  const std::string dir = slimtest::make_temp_dir();
  const std::string path = dir + "/out.txt";
  write_file_atomic(path, "first");
  EXPECT_EQ(read_text_file(path), "first");
  write_file_atomic(path, std::string(100000, 'z'));
  EXPECT_EQ(read_text_file(path), std::string(100000, 'z'));
  write_safetensors(dir + "/w.safetensors", {{"w", patterned({7}, DType::F32, 3)}});
  EXPECT_EQ(dir_entries(dir), (std::vector<std::string>{"out.txt", "w.safetensors"}));
  EXPECT_EQ(fs::status(path).permissions() & fs::perms::others_read, fs::perms::others_read);
}

TEST(IoAtomicWrite, UnwritableFolderIsIoError) {
  const std::string dir = slimtest::make_temp_dir();
  expect_error<IoError>([&] { write_file_atomic(dir + "/missing/out.txt", "x"); }, {dir + "/missing/out.txt"});
  iotest::write_bytes(dir + "/file", "not a folder");
  expect_error<IoError>([&] { write_safetensors(dir + "/file/w.safetensors", {}); }, {"w.safetensors"});
  EXPECT_EQ(dir_entries(dir), (std::vector<std::string>{"file"}));
}

TEST(IoAtomicWrite, FailureMidWriteKeepsTargetAndRemovesTemp) {
  // A file size limit makes write() fail part way (EFBIG), even for root, like a full disk.
  const std::string dir = slimtest::make_temp_dir();
  const std::string path = dir + "/w.safetensors";
  write_file_atomic(path, "old contents");
  rlimit saved{};
  ASSERT_EQ(getrlimit(RLIMIT_FSIZE, &saved), 0);
  auto old_handler = std::signal(SIGXFSZ, SIG_IGN);
  rlimit small = saved;
  small.rlim_cur = 64 * 1024;
  ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &small), 0);
  try {
    write_safetensors(path, {{"big", patterned({1 << 18}, DType::F32, 4)}});
    ADD_FAILURE() << "write past the file size limit succeeded";
  } catch (const IoError& e) {
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
  }
  setrlimit(RLIMIT_FSIZE, &saved);
  std::signal(SIGXFSZ, old_handler);
  EXPECT_EQ(read_text_file(path), "old contents");
  EXPECT_EQ(dir_entries(dir), (std::vector<std::string>{"w.safetensors"}));
}

TEST(IoAtomicWrite, ReadTextFileErrorsNameThePath) {
  const std::string dir = slimtest::make_temp_dir();
  expect_error<IoError>([&] { read_text_file(dir + "/nope.json"); }, {dir + "/nope.json"});
  expect_error<IoError>([&] { read_text_file(dir); }, {dir, "folder"});
}

}  // namespace
