// Every malformed safetensors file is refused in the constructor with a FormatError (IoError for a
// missing file) that names the file, the tensor where there is one, and what was expected.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include "io_test_util.h"
#include "slimformer/checkpoint.h"
#include "slimformer/error.h"
#include "test_util.h"

namespace {
using namespace slimformer;
using iotest::expect_error;

class IoSafetensorsBad : public ::testing::Test {
 protected:
  void SetUp() override { path_ = slimtest::make_temp_dir() + "/bad.safetensors"; }
  // Writes a file with this header and data section and expects the reader to refuse it.
  void expect_format_error(const std::string& header, const std::string& data,
                           std::initializer_list<std::string> parts, int64_t claimed_len = -1) {
    iotest::write_bytes(path_, iotest::safetensors_bytes(header, data, claimed_len));
    expect_error<FormatError>([&] { SafetensorsFile f(path_); }, {path_});
    expect_error<FormatError>([&] { SafetensorsFile f(path_); }, parts);
  }
  std::string path_;
};

const std::string k8(8, 'x');   // data for one F32 [2] tensor

TEST_F(IoSafetensorsBad, MissingFileIsIoError) {
  expect_error<IoError>([&] { SafetensorsFile f(path_); }, {path_});
}

TEST_F(IoSafetensorsBad, FolderOrFifoIsIoErrorWithoutBlocking) {
  const std::string dir = slimtest::make_temp_dir();
  expect_error<IoError>([&] { SafetensorsFile f(dir); }, {dir, "not a readable regular file"});
  const std::string fifo = dir + "/pipe.safetensors";
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  expect_error<IoError>([&] { SafetensorsFile f(fifo); }, {fifo});
}

TEST_F(IoSafetensorsBad, ShorterThanEightBytes) {
  iotest::write_bytes(path_, "abc");
  expect_error<FormatError>([&] { SafetensorsFile f(path_); }, {path_, "shorter than the 8-byte"});
  iotest::write_bytes(path_, "");
  expect_error<FormatError>([&] { SafetensorsFile f(path_); }, {path_, "0 bytes"});
}

TEST_F(IoSafetensorsBad, HeaderLengthPastEndOfFile) {
  expect_format_error("{}", "", {"header length 3 runs past the end"}, 3);
}

TEST_F(IoSafetensorsBad, HeaderLengthAboveLimitRefusedBeforeAllocating) {
  // 2^62 bytes would abort any attempt to allocate it; the check must come first.
  expect_format_error("{}", "", {"exceeds the limit of 100000000"}, int64_t{1} << 62);
  expect_format_error("{}", "", {"exceeds the limit"}, SafetensorsFile::kMaxHeaderBytes + 1);
}

TEST_F(IoSafetensorsBad, HeaderNotJsonOrNotObject) {
  expect_format_error("{\"a\": ", "", {"not valid JSON"});
  expect_format_error("\xff\xfe", "", {"not valid JSON"});
  expect_format_error("[1, 2]", "", {"must be a JSON object", "array"});
  // Deep nesting: refused before parsing (no crash, no recursive message), naming where it passes 512.
  expect_format_error(std::string(100000, '['), "", {"header", "512 levels deep", "at byte 512"});
  expect_format_error("{\"w\": " + std::string(100000, '[') + std::string(100000, ']') + "}", "",
                      {"header", "512 levels deep"});
  expect_format_error("{\"w\": " + std::string(511, '[') + std::string(511, ']') + "}", "", {"'w'", "must be an object"});
}

TEST_F(IoSafetensorsBad, EntryFieldsMissingOrMistyped) {
  expect_format_error(R"({"w": 5})", "", {"'w'", "must be an object"});
  expect_format_error(R"({"w": {"shape": [2], "data_offsets": [0, 8]}})", k8, {"'w'", "lacks 'dtype'"});
  expect_format_error(R"({"w": {"dtype": "F32", "data_offsets": [0, 8]}})", k8, {"'w'", "lacks 'shape'"});
  expect_format_error(R"({"w": {"dtype": "F32", "shape": [2]}})", k8, {"'w'", "lacks 'data_offsets'"});
  expect_format_error(R"({"w": {"dtype": 1, "shape": [2], "data_offsets": [0, 8]}})", k8, {"'w'", "'dtype' must be a string"});
  expect_format_error(R"({"w": {"dtype": "F32", "shape": 2, "data_offsets": [0, 8]}})", k8, {"'w'", "'shape' must be an array"});
  expect_format_error(R"({"w": {"dtype": "F32", "shape": ["2"], "data_offsets": [0, 8]}})", k8, {"'w'", "non-negative integers"});
  expect_format_error(R"({"w": {"dtype": "F32", "shape": [2.5], "data_offsets": [0, 8]}})", k8, {"'w'", "non-negative integers"});
  expect_format_error(R"({"w": {"dtype": "F32", "shape": [2], "data_offsets": [0]}})", k8, {"'w'", "'data_offsets' must be [begin, end]"});
  expect_format_error(R"({"w": {"dtype": "F32", "shape": [2], "data_offsets": "0-8"}})", k8, {"'w'", "'data_offsets'"});
  expect_format_error(R"({"w": {"dtype": "F32", "shape": [2], "data_offsets": [-8, 0]}})", k8, {"'w'", "'data_offsets'"});
}

TEST_F(IoSafetensorsBad, UnsupportedDtypeListsSupported) {
  expect_format_error(R"({"w": {"dtype": "F64", "shape": [1], "data_offsets": [0, 8]}})", k8,
                      {"'w'", "unsupported dtype 'F64'", "F32 F16 BF16 I8 I32 I64"});
}

TEST_F(IoSafetensorsBad, NegativeDimension) {
  expect_format_error(R"({"w": {"dtype": "F32", "shape": [-2], "data_offsets": [0, 8]}})", k8, {"'w'", "-2", "negative"});
}

TEST_F(IoSafetensorsBad, OffsetsOutsideDataOrReversed) {
  expect_format_error(R"({"w": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}})", k8,
                      {"'w'", "end 16 is past the 8-byte data section"});
  expect_format_error(R"({"w": {"dtype": "F32", "shape": [0], "data_offsets": [8, 0]}})", k8, {"'w'", "begin 8 > end 0"});
  expect_format_error(R"({"w": {"dtype": "F32", "shape": [0], "data_offsets": [18446744073709551615, 18446744073709551615]}})",
                      k8, {"'w'", "past the 8-byte data section"});
}

TEST_F(IoSafetensorsBad, OverlappingTensors) {
  expect_format_error(R"({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
                          "b": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}})",
                      std::string(12, 'x'), {"'a'", "'b'", "overlap"});
  // Same span for both is an overlap too.
  expect_format_error(R"({"a": {"dtype": "I8", "shape": [8], "data_offsets": [0, 8]},
                          "b": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}})",
                      k8, {"overlap"});
}

TEST_F(IoSafetensorsBad, ByteSpanMustMatchShapeTimesDtype) {
  expect_format_error(R"({"w": {"dtype": "F32", "shape": [3], "data_offsets": [0, 8]}})", k8,
                      {"'w'", "[3]", "needs 12 bytes but data_offsets span 8"});
  expect_format_error(R"({"w": {"dtype": "F16", "shape": [2, 1], "data_offsets": [0, 8]}})", k8, {"needs 4 bytes"});
}

TEST_F(IoSafetensorsBad, ShapeProductOverflowIsCaught) {
  // 2^62 x 4 x 4 bytes wraps to 0 in 64 bits: it must not pass as an empty tensor.
  expect_format_error(R"({"w": {"dtype": "F32", "shape": [4611686018427387904, 4], "data_offsets": [0, 0]}})", "",
                      {"'w'", "overflows"});
  expect_format_error(R"({"w": {"dtype": "I8", "shape": [9223372036854775808], "data_offsets": [0, 0]}})", "",
                      {"'w'", "non-negative integers"});
}

TEST_F(IoSafetensorsBad, MetadataMustMapStringsToStrings) {
  expect_format_error(R"({"__metadata__": [1]})", "", {"'__metadata__'", "object"});
  expect_format_error(R"({"__metadata__": {"format": 3}})", "", {"'__metadata__'", "'format'", "must be a string"});
}

TEST_F(IoSafetensorsBad, AbsentTensorIsModelError) {
  iotest::write_bytes(path_, iotest::safetensors_bytes(R"({"w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}})", k8));
  SafetensorsFile f(path_);
  EXPECT_TRUE(f.contains("w"));
  expect_error<ModelError>([&] { f.get("v"); }, {"'v'", path_});
}

TEST_F(IoSafetensorsBad, ValidHandWrittenFileReads) {
  // Zero-size tensors may share an offset; __metadata__ strings come through.
  iotest::write_bytes(path_, iotest::safetensors_bytes(
      R"({"__metadata__": {"format": "pt"}, "e": {"dtype": "I64", "shape": [0, 3], "data_offsets": [0, 0]},
          "w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}, "z": {"dtype": "I8", "shape": [0], "data_offsets": [0, 0]}})",
      k8));
  SafetensorsFile f(path_);
  EXPECT_EQ(f.names(), (std::vector<std::string>{"e", "w", "z"}));
  EXPECT_EQ(f.metadata().at("format"), "pt");
  EXPECT_EQ(f.get("e").shape(), (Shape{0, 3}));
  EXPECT_EQ(f.get("w").nbytes(), 8u);
}

}  // namespace
