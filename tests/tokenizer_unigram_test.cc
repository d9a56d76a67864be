// Unigram tokenizers: t5-small's tokenizer.json (Precompiled + WhitespaceSplit/Metaspace + Unigram
// + TemplateProcessing) against Hugging Face tokenizers' own output (tests/reference/
// make_unigram_goldens.js), and the model, charsmap and loader errors on small hand-made inputs.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>

#include "slimformer/error.h"
#include "slimformer/tokenizer.h"
#include "tokenize/metaspace.h"
#include "tokenize/precompiled.h"
#include "tokenize/unigram.h"

namespace {

using slimformer::tok::Unigram;
using slimformer::tok::UnigramPiece;

const std::string kT5 = std::string(SLIM_TEST_DATA_UNPACKED) + "/t5-small/tokenizer.json";

TEST(TokenizerUnigram, T5MatchesHuggingFaceLineForLine) {
  const auto tok = slimformer::load_tokenizer_json(kT5);
  EXPECT_EQ(tok->kind(), "unigram");
  std::ifstream in(std::string(SLIM_TEST_DATA) + "/t5-small/unigram_golden.jsonl");
  ASSERT_TRUE(in);
  std::string line;
  int n = 0, bad = 0;
  while (std::getline(in, line)) {
    const auto j = nlohmann::json::parse(line);
    const auto text = j["text"].get<std::string>();
    const auto e = tok->encode(text);
    ++n;
    if (e.ids == j["ids"].get<std::vector<int64_t>>() && e.tokens == j["tokens"].get<std::vector<std::string>>())
      continue;
    if (++bad <= 8) ADD_FAILURE() << "line " << n << " " << nlohmann::json(text).dump() << "\n  want "
                                  << j["tokens"].dump() << "\n  got  " << nlohmann::json(e.tokens).dump();
  }
  EXPECT_EQ(n, 357);
  EXPECT_EQ(bad, 0) << bad << " of " << n << " lines differ";
}

// A vocabulary where the best path is not the greedy longest match.
std::vector<UnigramPiece> tiny() {
  return {{"<unk>", 0.0}, {"a", -1.0}, {"b", -1.0}, {"ab", -3.0}, {"abc", -10.0}, {"c", -2.5}, {"bc", -1.5}};
}

TEST(TokenizerUnigram, ViterbiPicksTheMostLikelySegmentation) {
  const Unigram u(tiny(), 0, false, "tiny");
  // abc: "abc" -10, "ab"+"c" -5.5, "a"+"bc" -2.5, "a"+"b"+"c" -4.5
  EXPECT_EQ(u.segment("abc"), (std::vector<std::string>{"a", "bc"}));
  // ab: "ab" -3 loses to "a"+"b" -2
  EXPECT_EQ(u.segment("ab"), (std::vector<std::string>{"a", "b"}));
  EXPECT_TRUE(u.segment("").empty());
}

TEST(TokenizerUnigram, ConsecutiveUnknownsFuseIntoOneUnk) {
  const Unigram u(tiny(), 0, false, "tiny");
  EXPECT_EQ(u.segment("xyéa"), (std::vector<std::string>{"xyé", "a"}));
  std::vector<slimformer::tok::Token> out;
  u.tokenize(slimformer::tok::decode_utf8("axyb"), out);
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[1].id, 0);
  EXPECT_EQ(out[1].text, "xy");
  EXPECT_EQ(out[1].begin, 1);
  EXPECT_EQ(out[1].end, 3);
}

TEST(TokenizerUnigram, ByteFallbackSpellsUnknownsAsBytes) {
  auto v = tiny();
  v.push_back({"<0xC3>", -20.0});
  v.push_back({"<0xA9>", -20.0});
  const Unigram u(v, 0, true, "tiny");
  std::vector<slimformer::tok::Token> out;
  u.tokenize(slimformer::tok::decode_utf8("é"), out);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].text, "<0xC3>");
  EXPECT_EQ(out[1].text, "<0xA9>");
  out.clear();
  u.tokenize(slimformer::tok::decode_utf8("z"), out);   // no <0x7A>: falls back to unk
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].id, 0);
}

TEST(TokenizerUnigram, MetaspacePrependSchemes) {
  using slimformer::tok::MetaspaceOptions;
  MetaspaceOptions o;
  auto words = [&](const std::string& s, bool first) {
    std::vector<std::string> r;
    for (const auto& w : slimformer::tok::metaspace_split(slimformer::tok::decode_utf8(s), o, first))
      r.push_back(slimformer::tok::to_utf8(w));
    return r;
  };
  EXPECT_EQ(words("hi  there", true), (std::vector<std::string>{"▁hi", "▁", "▁there"}));
  o.prepend = MetaspaceOptions::Prepend::First;
  EXPECT_EQ(words("hi", false), (std::vector<std::string>{"hi"}));
  EXPECT_EQ(words("hi", true), (std::vector<std::string>{"▁hi"}));
  o.split = false;
  o.prepend = MetaspaceOptions::Prepend::Never;
  EXPECT_EQ(words("a b", true), (std::vector<std::string>{"a▁b"}));
}

TEST(TokenizerUnigram, CharsmapDecodesKnownEntries) {
  const auto root = nlohmann::json::parse(std::ifstream(kT5));
  const auto b64 = root["normalizer"]["precompiled_charsmap"].get<std::string>();
  const slimformer::tok::PrecompiledCharsmap map(slimformer::tok::decode_base64(b64, "t5"), "t5");
  EXPECT_EQ(map.transform("\xEF\xAC\x81").value_or("?"), "fi");          // U+FB01 ligature fi
  EXPECT_EQ(map.transform("\xEF\xBC\xA1").value_or("?"), "A");           // U+FF21 full-width A
  EXPECT_FALSE(map.transform("a").has_value());                          // plain ASCII stays
  EXPECT_EQ(slimformer::tok::to_utf8(map.normalize(slimformer::tok::decode_utf8("ＡＢ"))), "AB");
  EXPECT_THROW(slimformer::tok::decode_base64("ab$d", "x"), slimformer::FormatError);
}

void expect_format_error(const std::string& model_json, const std::string& needle) {
  const auto dir = std::filesystem::temp_directory_path() / "slim_unigram_bad";
  std::filesystem::create_directories(dir);
  const auto path = (dir / "tokenizer.json").string();
  std::ofstream(path) << R"({"normalizer": null, "pre_tokenizer": {"type": "Metaspace"}, "model": )" << model_json
                      << "}";
  try {
    slimformer::load_tokenizer_json(path);
    ADD_FAILURE() << "accepted " << model_json;
  } catch (const slimformer::FormatError& e) {
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
  }
}

TEST(TokenizerUnigram, BadModelSectionsAreOneFormatError) {
  expect_format_error(R"({"type": "Unigram", "unk_id": 0})", "vocab");
  expect_format_error(R"({"type": "Unigram", "unk_id": 0, "vocab": [["a", "high"]]})", "vocab entry 0");
  expect_format_error(R"({"type": "Unigram", "unk_id": 5, "vocab": [["a", -1.0]]})", "unk_id 5");
  expect_format_error(R"({"type": "Unigram", "unk_id": 0, "vocab": []})", "empty");
}

}  // namespace
