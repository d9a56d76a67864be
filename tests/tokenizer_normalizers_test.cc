// Normalizer chains of tokenizer.json (XLM-R's [Precompiled, Replace], ALBERT's, NFKC/NFC/NFD ones)
// on t5-small's real Unigram vocabulary, against Hugging Face tokenizers' own ids, tokens and
// character offsets (tests/reference/make_normalizer_goldens.js); then each step on small inputs
// and the loader's refusals.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>

#include <unistd.h>

#include "slimformer/error.h"
#include "slimformer/tokenizer.h"
#include "tokenize/normalizers.h"

namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using slimformer::tok::Chars;
using slimformer::tok::decode_utf8;
using slimformer::tok::to_utf8;

const std::string kT5 = std::string(SLIM_TEST_DATA_UNPACKED) + "/t5-small/tokenizer.json";

json read_json(const std::string& path) {
  std::ifstream in(path);
  return json::parse(in);
}

// T5's tokenizer.json with `variant`'s parts in place of its own; a Precompiled step's charsmap
// "T5" is T5's own.
std::string write_variant(const json& variant, const std::string& name) {
  json t5 = read_json(kT5);
  const json charsmap = t5["normalizer"]["precompiled_charsmap"];
  json parts = variant;
  if (parts["normalizer"].contains("normalizers") && parts["normalizer"]["normalizers"].is_array())
    for (json& step : parts["normalizer"]["normalizers"])
      if (step.is_object() && step.value("precompiled_charsmap", "") == "T5") step["precompiled_charsmap"] = charsmap;
  for (const auto& [key, value] : parts.items()) t5[key] = value;
  const fs::path dir = fs::temp_directory_path() / ("slim-normalizer-" + name + "-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const std::string path = (dir / "tokenizer.json").string();
  std::ofstream(path) << t5.dump();
  return path;
}

class NormalizerGolden : public ::testing::TestWithParam<const char*> {};

TEST_P(NormalizerGolden, MatchesHuggingFaceLineForLine) {
  std::ifstream in(std::string(SLIM_TEST_DATA) + "/t5-small/normalizer_" + GetParam() + ".jsonl");
  ASSERT_TRUE(in);
  std::string line;
  std::getline(in, line);
  const std::string path = write_variant(json::parse(line)["variant"], GetParam());
  const auto tok = slimformer::load_tokenizer_json(path);
  fs::remove_all(fs::path(path).parent_path());
  int n = 0, bad = 0;
  while (std::getline(in, line)) {
    const json j = json::parse(line);
    const std::string text = j["text"].get<std::string>();
    const auto e = tok->encode(text);
    ++n;
    std::vector<std::vector<int64_t>> offsets;
    for (const auto& [b, end] : slimformer::char_offsets(e, text)) offsets.push_back({b, end});
    if (e.ids == j["ids"].get<std::vector<int64_t>>() && e.tokens == j["tokens"].get<std::vector<std::string>>() &&
        offsets == j["offsets"].get<std::vector<std::vector<int64_t>>>())
      continue;
    if (++bad <= 6)
      ADD_FAILURE() << GetParam() << " line " << n << " " << json(text).dump() << "\n  want " << j["tokens"].dump()
                    << " " << j["offsets"].dump() << "\n  got  " << json(e.tokens).dump() << " "
                    << json(offsets).dump();
  }
  EXPECT_EQ(n, 264);
  EXPECT_EQ(bad, 0) << bad << " of " << n << " lines differ";
}

INSTANTIATE_TEST_SUITE_P(Chains, NormalizerGolden, ::testing::Values("xlmr", "albert", "nfkc", "nfc", "nfd"));

std::string apply(const Chars& c) { return to_utf8(c); }

TEST(Normalizers, UnicodeFormsAndTheirAlignment) {
  using slimformer::tok::UnicodeForm;
  const Chars composed = slimformer::tok::unicode_normalize(decode_utf8("e\xCC\x81"), UnicodeForm::NFC);
  ASSERT_EQ(composed.size(), 1u);
  EXPECT_EQ(apply(composed), "\xC3\xA9");             // é
  EXPECT_EQ(composed[0].begin, 0);
  EXPECT_EQ(composed[0].end, 1);                     // the e's range only, as Hugging Face aligns it
  const Chars decomposed = slimformer::tok::unicode_normalize(decode_utf8("\xC3\xA9"), UnicodeForm::NFD);
  ASSERT_EQ(decomposed.size(), 2u);
  EXPECT_EQ(decomposed[1].begin, 0);
  EXPECT_EQ(decomposed[1].end, 2);                   // both pieces keep the é's two bytes
  // Marks in canonical order: dot below (220) before acute (230), whatever order they came in.
  EXPECT_EQ(apply(slimformer::tok::unicode_normalize(decode_utf8("a\xCC\x81\xCC\xA3"), UnicodeForm::NFD)),
            "a\xCC\xA3\xCC\x81");
  EXPECT_EQ(apply(slimformer::tok::unicode_normalize(decode_utf8("\xEF\xAC\x81"), UnicodeForm::NFKC)), "fi");
  EXPECT_EQ(apply(slimformer::tok::unicode_normalize(decode_utf8("\xEF\xAC\x81"), UnicodeForm::NFC)), "\xEF\xAC\x81");
  // Hangul: jamo L V T compose into one syllable.
  EXPECT_EQ(apply(slimformer::tok::unicode_normalize(decode_utf8("\xE1\x84\x80\xE1\x85\xA1\xE1\x86\xA8"),
                                                     UnicodeForm::NFC)),
            "\xEA\xB0\x81");
}

TEST(Normalizers, ReplaceStripPrepend) {
  const slimformer::tok::Replace spaces(" {2,}", true, " ", "test");
  const Chars out = spaces.apply(decode_utf8("a   b"));
  EXPECT_EQ(apply(out), "a b");
  EXPECT_EQ(out[1].begin, 3);   // the run's last space
  const slimformer::tok::Replace quotes("``", false, "\"", "test");
  EXPECT_EQ(apply(quotes.apply(decode_utf8("``x`` ```"))), "\"x\" \"`");
  EXPECT_EQ(apply(slimformer::tok::strip_whitespace(decode_utf8(" \t x y \n"), true, false)), "x y \n");
  EXPECT_EQ(apply(slimformer::tok::strip_whitespace(decode_utf8(" \t x y \n"), true, true)), "x y");
  EXPECT_EQ(apply(slimformer::tok::prepend(decode_utf8("ab"), "\xE2\x96\x81")), "\xE2\x96\x81" "ab");
  EXPECT_TRUE(slimformer::tok::prepend(Chars{}, "x").empty());
  // Every mark goes, spacing ones (Devanagari vowel sign I, Mc) too; precomposed letters stay.
  EXPECT_EQ(apply(slimformer::tok::drop_marks(decode_utf8("e\xCC\x81\xC3\xA9\xE0\xA4\xB9\xE0\xA4\xBF"))),
            "e\xC3\xA9\xE0\xA4\xB9");
}

void expect_refused(const json& normalizer, const std::string& needle) {
  const std::string path = write_variant(json{{"normalizer", normalizer}}, "bad");
  try {
    (void)slimformer::load_tokenizer_json(path);
    ADD_FAILURE() << "accepted " << normalizer.dump();
  } catch (const slimformer::FormatError& e) {
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
  }
  fs::remove_all(fs::path(path).parent_path());
}

TEST(Normalizers, LoaderRefusals) {
  expect_refused({{"type", "Nmt"}}, "normalizer type \"Nmt\" is not supported");
  expect_refused({{"type", "Replace"}, {"pattern", {{"Regex", "("}}}, {"content", ""}}, "does not compile");
  expect_refused({{"type", "Replace"}, {"pattern", {{"Regex", "x*"}}}, {"content", "y"}}, "matches the empty string");
  expect_refused({{"type", "Replace"}, {"pattern", "x"}, {"content", "y"}}, "pattern must be");
  expect_refused({{"type", "Replace"}, {"pattern", {{"String", ""}}}, {"content", "y"}}, "String pattern is empty");
  expect_refused({{"type", "Sequence"}, {"normalizers", "NFC"}}, "normalizers must be an array");
  json deep = {{"type", "NFC"}};
  for (int i = 0; i < 12; ++i) deep = {{"type", "Sequence"}, {"normalizers", json::array({deep})}};
  expect_refused(deep, "nested deeper than 8");
}

}  // namespace
