// Hostile model folders and flags through the CLI: deeply nested JSON in every file slimformer
// reads, sizes the files cannot back, NaN weights, long and multi-line strings. Each is one
// bounded stderr line and exit code 2 (never a crash, a hang or a huge allocation). The folders
// are edited copies of a fixture model; the fixture itself is never touched.
#include <cstring>
#include <filesystem>
#include <limits>
#include <nlohmann/json.hpp>

#include "cli_test_util.h"
#include "io_test_util.h"

using namespace slimtest;
namespace fs = std::filesystem;

namespace {

const std::string kPlaceholder = "\"@@value@@\"";

std::string nested(size_t depth) { return std::string(depth, '[') + std::string(depth, ']'); }

// A writable copy of fixture model `name`.
std::string copy_model(const std::string& name) {
  const std::string dir = make_temp_dir() + "/" + name;
  fs::copy(model_dir(name), dir, fs::copy_options::recursive);
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    fs::permissions(e.path(), fs::perms::owner_write, fs::perm_options::add);
  }
  return dir;
}

// `text` with the value at JSON pointer `where` replaced by the raw JSON text `value` (which may
// be deeper, longer or stranger than nlohmann would write).
std::string with_raw_value(const std::string& text, const std::string& where, const std::string& value) {
  nlohmann::ordered_json j = nlohmann::ordered_json::parse(text);
  j[nlohmann::ordered_json::json_pointer(where)] = "@@value@@";
  std::string out = j.dump(1);
  const size_t at = out.find(kPlaceholder);
  return out.replace(at, kPlaceholder.size(), value);
}

void set_raw(const std::string& file, const std::string& where, const std::string& value) {
  write_file(file, with_raw_value(read_file(file), where, value));
}

// The safetensors file's header text and data bytes.
std::pair<std::string, std::string> split_safetensors(const std::string& bytes) {
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | static_cast<unsigned char>(bytes[i]);
  return {bytes.substr(8, n), bytes.substr(8 + n)};
}

// A copy of st-bert-uncased whose model.safetensors has `where` in its header set to `value`.
std::string model_with_header_value(const std::string& where, const std::string& value) {
  const std::string dir = copy_model("st-bert-uncased"), path = dir + "/model.safetensors";
  const auto [header, data] = split_safetensors(read_file(path));
  write_file(path, iotest::safetensors_bytes(with_raw_value(header, where, value), data));
  return dir;
}

// A copy of st-bert-uncased with float `value` written over element `index` of tensor `name`.
std::string model_with_weight(const std::string& name, int64_t index, float value) {
  const std::string dir = copy_model("st-bert-uncased"), path = dir + "/model.safetensors";
  std::string bytes = read_file(path);
  const auto [header, data] = split_safetensors(bytes);
  const auto offsets = nlohmann::json::parse(header).at(name).at("data_offsets");
  const size_t at = 8 + header.size() + offsets[0].get<size_t>() + static_cast<size_t>(index) * sizeof(float);
  std::memcpy(&bytes[at], &value, sizeof value);
  write_file(path, bytes);
  return dir;
}

// One line, exit 2, naming `names`, and short: a bounded excerpt, not the bad value.
void expect_short_error(const CommandResult& r, std::initializer_list<std::string> names) {
  expect_one_line_error(r, names);
  EXPECT_LT(r.err.size(), 1000u) << r.err.substr(0, 300);
}

std::string embed(const std::string& dir) { return "embed --model " + q(dir); }

}  // namespace

TEST(CliBadInput, DeepJsonInConfigIsRefusedNotACrash) {
  for (size_t depth : {size_t{50000}, size_t{1000000}}) {
    SCOPED_TRACE(depth);
    const std::string dir = copy_model("st-bert-uncased");
    set_raw(dir + "/config.json", "/num_hidden_layers", nested(depth));
    expect_short_error(run_cli(embed(dir), "hi\n"), {"config.json", "512", "levels deep"});
    expect_short_error(run_cli("inspect --model " + q(dir)), {"config.json", "512"});
    expect_short_error(run_cli("bench --runs 1 --warmup 0 --seq-lens 8 --model " + q(dir)), {"config.json", "512"});
  }
}

TEST(CliBadInput, DeepJsonInEveryOtherFile) {
  const std::string deep = nested(50000);
  const std::string header_dir = model_with_header_value("/embeddings.LayerNorm.bias/shape", deep);
  expect_short_error(run_cli("inspect --model " + q(header_dir)), {"model.safetensors", "header", "512"});

  std::string dir = copy_model("st-bert-uncased");
  set_raw(dir + "/tokenizer.json", "/model/vocab/[UNK]", deep);
  expect_short_error(run_cli(embed(dir), "hi\n"), {"tokenizer.json", "512"});
  expect_short_error(run_cli("tokenize --model " + q(dir), "hi\n"), {"tokenizer.json", "512"});

  dir = copy_model("st-bert-uncased");
  set_raw(dir + "/1_Pooling/config.json", "/pooling_mode", deep);
  expect_short_error(run_cli(embed(dir), "hi\n"), {"1_Pooling/config.json", "512"});

  const std::string records = make_temp_dir() + "/records.json";
  write_file(records, "{\"records\": " + nested(1000000) + "}");
  expect_short_error(run_cli("bench compare " + q(records) + " " + q(records)), {"records.json", "512"});
}

TEST(CliBadInput, DeepOrLongBenchOverrideIsRefused) {
  expect_short_error(run_cli("bench --runs 1 --warmup 0 --seq-lens 8 --config " +
                             q("minilm-l6:num_hidden_layers=" + nested(50000))),
                     {"num_hidden_layers", "512"});
  // Within the limit, the mistyped value is quoted as an excerpt, not dumped whole.
  expect_short_error(run_cli("bench --runs 1 --warmup 0 --seq-lens 8 --config " +
                             q("minilm-l6:num_hidden_layers=" + nested(300))),
                     {"num_hidden_layers", "must be an integer", "array [[[["});
  expect_short_error(run_cli("bench --runs 1 --warmup 0 --seq-lens 8 --config " +
                             q("minilm-l6:hidden_act=" + std::string(100000, 'g'))),
                     {"hidden_act", "ggg...", "not supported"});
}

TEST(CliBadInput, TypeErrorsQuoteABoundedExcerpt) {
  std::string dir = copy_model("st-bert-uncased");
  std::string sevens = "7";
  for (int i = 0; i < 100000; ++i) sevens += ",7";
  set_raw(dir + "/config.json", "/hidden_size", "[" + sevens + "]");
  expect_short_error(run_cli("inspect --model " + q(dir)), {"hidden_size", "must be an integer", "array [7,7,7,"});
  // A number too long for a double is the parser's error, quoted bounded too.
  dir = copy_model("st-bert-uncased");
  set_raw(dir + "/config.json", "/hidden_size", std::string(200000, '7'));
  expect_short_error(run_cli("inspect --model " + q(dir)), {"config.json", "not valid JSON", "number overflow"});
  dir = copy_model("st-bert-uncased");
  set_raw(dir + "/config.json", "/model_type", "\"bert" + std::string(100000, 'x') + "\\nsecond line\"");
  expect_short_error(run_cli("inspect --model " + q(dir)), {"model_type", "bertxxx", "not supported"});
  dir = model_with_header_value("/embeddings.LayerNorm.bias/dtype", "[\"" + std::string(100000, 'F') + "\"]");
  expect_short_error(run_cli("inspect --model " + q(dir)), {"'dtype' must be a string", "array [\"FFF"});
}

TEST(CliBadInput, SizesOutOfRangeInConfig) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"/hidden_size", "-1"},          {"/hidden_size", "1e30"},
      {"/vocab_size", "9223372036854775808"}, {"/intermediate_size", "18446744073709551615"},
      {"/max_position_embeddings", "4294967296"}, {"/num_hidden_layers", "1000000000"},
      {"/num_attention_heads", "0"},   {"/type_vocab_size", "-5"}};
  for (const auto& [key, value] : cases) {
    SCOPED_TRACE(key + "=" + value);
    const std::string dir = copy_model("st-bert-uncased");
    set_raw(dir + "/config.json", key, value);
    expect_short_error(run_cli(embed(dir), "hi\n"), {"config.json", key.substr(1)});
  }
  const std::string dir = copy_model("st-bert-uncased");
  set_raw(dir + "/config.json", "/layer_norm_eps", "1e999");   // past the double range: not infinity
  expect_short_error(run_cli(embed(dir), "hi\n"), {"config.json", "number overflow", "1e999"});
}

TEST(CliBadInput, LayerCountTheWeightsCannotHold) {
  const std::string dir = copy_model("st-bert-uncased");
  set_raw(dir + "/config.json", "/num_hidden_layers", "9000");
  for (const std::string& cmd : {"inspect --model " + q(dir), embed(dir)}) {
    expect_short_error(run_cli(cmd, "hi\n"), {"num_hidden_layers 9000", "tensors"});
  }
}

TEST(CliBadInput, RandomWeightsBeyondMemoryAreRefusedUpFront) {
  for (const std::string spec : {"minilm-l6:num_hidden_layers=10000,hidden_size=4608,intermediate_size=16384",
                                 "bert-base:vocab_size=2000000000", "minilm-l6:max_position_embeddings=2147483647"}) {
    SCOPED_TRACE(spec);
    expect_short_error(run_cli("bench --runs 1 --warmup 0 --seq-lens 8 --config " + q(spec)),
                       {"random weights", "parameters", "bytes of memory available"});
  }
  expect_short_error(run_cli("bench --runs 1 --warmup 0 --seq-lens 8 --config " + q("minilm-l6:num_hidden_layers=1000000000")),
                     {"num_hidden_layers", "at most 10000"});
}

TEST(CliBadInput, VocabIdsBeyondTheVocabulary) {
  std::string dir = copy_model("st-bert-uncased");
  set_raw(dir + "/tokenizer.json", "/model/vocab/hello", "300000000");
  expect_short_error(run_cli(embed(dir), "hi\n"), {"tokenizer.json", "\"hello\"", "300000000", "30522 entries"});
  dir = copy_model("st-roberta");
  set_raw(dir + "/tokenizer.json", "/model/vocab/hello", "-1");
  expect_short_error(run_cli("tokenize --model " + q(dir), "hi\n"), {"tokenizer.json", "\"hello\"", "integer -1"});
  dir = copy_model("st-bert-uncased");
  set_raw(dir + "/tokenizer.json", "/model/vocab", "{}");
  expect_short_error(run_cli(embed(dir), "hi\n"), {"tokenizer.json", "vocab is empty"});
}

TEST(CliBadInput, MergesNamingUnknownTokens) {
  const std::string dir = copy_model("st-roberta");
  set_raw(dir + "/tokenizer.json", "/model/merges/0", "[\"nosuchtoken\", \"e\"]");
  expect_short_error(run_cli("tokenize --model " + q(dir), "hi\n"), {"tokenizer.json", "merge 1", "\"nosuchtoken\""});
}

TEST(CliBadInput, RepeatedKeysAreRefused) {
  std::string dir = copy_model("st-bert-uncased");
  set_raw(dir + "/config.json", "/hidden_size", "16, \"hidden_size\": 32");
  expect_short_error(run_cli(embed(dir), "hi\n"), {"config.json", "repeats the key \"hidden_size\""});
  dir = model_with_header_value("/embeddings.LayerNorm.bias/dtype", "\"F32\", \"dtype\": \"F16\"");
  expect_short_error(run_cli("inspect --model " + q(dir)), {"model.safetensors", "repeats the key \"dtype\""});
}

TEST(CliBadInput, NonFiniteWeightIsNamedNotEmbeddedAsNull) {
  const float nan = std::numeric_limits<float>::quiet_NaN(), inf = std::numeric_limits<float>::infinity();
  const std::string tensor = "encoder.layer.1.output.dense.weight";
  for (float bad : {nan, inf, -inf}) {
    const std::string dir = model_with_weight(tensor, 5, bad);
    expect_short_error(run_cli(embed(dir), "hello world\n"), {tensor, "non-finite", "element 5"});
    expect_short_error(run_cli("bench --runs 1 --warmup 0 --seq-lens 8 --model " + q(dir)), {tensor, "non-finite"});
  }
  const std::string dir = model_with_weight("embeddings.word_embeddings.weight", 30521 * 16 + 15, nan);
  expect_short_error(run_cli(embed(dir), "hi\n"), {"embeddings.word_embeddings.weight", "non-finite"});
}

TEST(CliBadInput, SafetensorsHeaderLengthAndOffsets) {
  std::string dir = copy_model("st-bert-uncased");
  std::string bytes = read_file(dir + "/model.safetensors");
  for (int i = 0; i < 8; ++i) bytes[i] = '\xff';   // 2^64 - 1
  write_file(dir + "/model.safetensors", bytes);
  expect_short_error(run_cli("inspect --model " + q(dir)), {"model.safetensors", "header length", "exceeds"});
  dir = model_with_header_value("/embeddings.LayerNorm.bias/data_offsets", "[0, 18446744073709551615]");
  expect_short_error(run_cli("inspect --model " + q(dir)), {"model.safetensors", "data_offsets", "past"});
  // The bias's bytes moved onto the weight's (both 16 floats).
  const std::string header = split_safetensors(read_file(model_dir("st-bert-uncased") + "/model.safetensors")).first;
  const std::string weight_span = nlohmann::json::parse(header).at("embeddings.LayerNorm.weight").at("data_offsets").dump();
  dir = model_with_header_value("/embeddings.LayerNorm.bias/data_offsets", weight_span);
  expect_short_error(run_cli("inspect --model " + q(dir)), {"model.safetensors", "overlap"});
  dir = model_with_header_value("/embeddings.LayerNorm.bias/shape", "[9223372036854775807, 9223372036854775807]");
  expect_short_error(run_cli("inspect --model " + q(dir)), {"model.safetensors", "overflows"});
}
