// Encode options and the parts the fixtures do not reach: special tokens written in the text,
// longest-first pair truncation, padding, make_batch, Unicode edge cases of the BERT normalizer.
#include <gtest/gtest.h>

#include <random>

#include "slimformer/tokenizer.h"
#include "test_util.h"

namespace {

using Ids = std::vector<int64_t>;
using slimformer::EncodeOptions;

std::string tok_dir(const std::string& name) { return slimtest::shared_dir() + "/data/tokenizers/" + name; }

const slimformer::Tokenizer& bert() {
  static auto t = slimformer::load_tokenizer(tok_dir("bert-base-uncased"));
  return *t;
}
const slimformer::Tokenizer& roberta() {
  static auto t = slimformer::load_tokenizer(tok_dir("roberta-base"));
  return *t;
}

// Hugging Face's fill-mask examples: the mask token in the text is one token; <mask> takes the
// space before it (lstrip), so no "Ġ" token appears.
TEST(TokenizerOptions, SpecialTokensInTextStayWhole) {
  const auto e = bert().encode("the capital of france is [MASK].");
  EXPECT_EQ(e.ids, (Ids{101, 1996, 3007, 1997, 2605, 2003, 103, 1012, 102}));
  EXPECT_EQ(e.offsets[6], (std::pair<int64_t, int64_t>{25, 31}));
  EXPECT_EQ(bert().encode("[mask]").ids.size(), 5u);   // not the special token: [ mask ] + specials
  EXPECT_EQ(roberta().encode("The capital of France is <mask>.").ids,
            (Ids{0, 133, 812, 9, 1470, 16, 50264, 4, 2}));
  EXPECT_EQ(roberta().encode("<s>").ids, (Ids{0, 0, 2}));
  auto legacy = slimformer::load_bpe_files(tok_dir("roberta-base/vocab.json"), tok_dir("roberta-base/merges.txt"));
  EXPECT_EQ(legacy->encode("The capital of France is <mask>.").ids, (Ids{0, 133, 812, 9, 1470, 16, 50264, 4, 2}));
}

// HF's longest-first rule: the shorter side keeps what it can (at least half the room).
TEST(TokenizerOptions, PairTruncationLongestFirst) {
  const std::string ten = "one two three four five one two three four five";
  const std::string eight = "red green blue red green blue red green";
  EncodeOptions opt;
  opt.max_length = 10;   // room 7 after [CLS] [SEP] [SEP]: b (3) kept whole, a cut to 4
  auto e = bert().encode_pair(ten, "red green blue", opt);
  EXPECT_EQ(e.ids, (Ids{101, 2028, 2048, 2093, 2176, 102, 2417, 2665, 2630, 102}));
  EXPECT_EQ(e.type_ids, (Ids{0, 0, 0, 0, 0, 0, 1, 1, 1, 1}));
  opt.max_length = 13;   // room 10, both too long: 5 + 5
  e = bert().encode_pair(ten, eight, opt);
  EXPECT_EQ(e.ids, (Ids{101, 2028, 2048, 2093, 2176, 2274, 102, 2417, 2665, 2630, 2417, 2665, 102}));
  opt.max_length = 12;   // room 9: the longer (a) gets the extra one
  e = bert().encode_pair(ten, eight, opt);
  EXPECT_EQ(e.ids, (Ids{101, 2028, 2048, 2093, 2176, 2274, 102, 2417, 2665, 2630, 2417, 102}));
  e = bert().encode_pair(eight, ten, opt);
  EXPECT_EQ(e.ids.size(), 12u);
  EXPECT_EQ(e.ids[5], 102);   // the first (shorter) side kept 4, the second 5
  opt.max_length = 100;   // no cut needed
  EXPECT_EQ(bert().encode_pair(ten, eight, opt).ids.size(), 21u);
}

TEST(TokenizerOptions, PaddingToMaxLength) {
  EncodeOptions opt;
  opt.max_length = 8;
  opt.pad_to_max_length = true;
  auto e = bert().encode("hello world", opt);
  EXPECT_EQ(e.ids, (Ids{101, 7592, 2088, 102, 0, 0, 0, 0}));
  EXPECT_EQ(e.attention_mask, (Ids{1, 1, 1, 1, 0, 0, 0, 0}));
  EXPECT_EQ(e.type_ids, (Ids{0, 0, 0, 0, 0, 0, 0, 0}));
  EXPECT_EQ(e.tokens[7], "[PAD]");
  EXPECT_EQ(e.offsets.size(), 8u);
  e = roberta().encode("hello world", opt);
  EXPECT_EQ(e.ids, (Ids{0, 42891, 232, 2, 1, 1, 1, 1}));
  opt.max_length = 3;   // truncation and padding together: exactly max_length
  e = bert().encode("hello world again", opt);
  EXPECT_EQ(e.ids, (Ids{101, 7592, 102}));
}

TEST(TokenizerOptions, MakeBatchPadsRowMajor) {
  const auto a = bert().encode("hello");
  const auto b = bert().encode_pair("hello", "world");
  const auto batch = slimformer::make_batch({a, b}, 0);
  EXPECT_EQ(batch.batch, 2);
  EXPECT_EQ(batch.seq, 5);
  EXPECT_EQ(batch.ids, (Ids{101, 7592, 102, 0, 0, 101, 7592, 102, 2088, 102}));
  EXPECT_EQ(batch.mask, (Ids{1, 1, 1, 0, 0, 1, 1, 1, 1, 1}));
  EXPECT_EQ(batch.type_ids, (Ids{0, 0, 0, 0, 0, 0, 0, 0, 1, 1}));
  const auto empty = slimformer::make_batch({}, 0);
  EXPECT_EQ(empty.batch, 0);
  EXPECT_TRUE(empty.ids.empty());
}

// "İ" decomposes to I + U+0307; the mark is stripped, then I lowercases to i. Fullwidth and
// compatibility forms are not folded (NFD is canonical only), as in Hugging Face.
TEST(TokenizerOptions, BertNormalizerUnicodeEdges) {
  EXPECT_EQ(bert().encode("İstanbul").ids, bert().encode("istanbul").ids);
  EXPECT_EQ(bert().encode("CAFÉ").ids, bert().encode("cafe").ids);
  EXPECT_NE(bert().encode("ﬁne").ids, bert().encode("fine").ids);
  EXPECT_EQ(bert().encode("a\u00a0b").ids, bert().encode("a b").ids);        // no-break space splits
  EXPECT_EQ(bert().encode("ab\u200b").ids, bert().encode("ab").ids);          // Cf removed
  EXPECT_EQ(bert().encode("\u00ad").ids, (Ids{101, 102}));                   // soft hyphen (Cf) removed
}

TEST(TokenizerOptions, LongAndEmptyInputs) {
  EXPECT_EQ(bert().encode("").ids, (Ids{101, 102}));
  EXPECT_EQ(roberta().encode("").ids, (Ids{0, 2}));
  std::string longtext;
  for (int i = 0; i < 2000; ++i) longtext += "word ";
  EXPECT_EQ(bert().encode(longtext).ids.size(), 2002u);
  EncodeOptions opt;
  opt.max_length = 512;
  EXPECT_EQ(roberta().encode(longtext, opt).ids.size(), 512u);
  EXPECT_EQ(roberta().encode(longtext, opt).ids.back(), 2);
}

// Pathological inputs finish (a quadratic merge loop or a regex failure would show here).
TEST(TokenizerOptions, HugeWordsAndRuns) {
  const std::string letters(1 << 18, 'a'), spaces(1 << 18, ' '), bangs(1 << 18, '!');
  EncodeOptions plain;
  plain.add_special_tokens = false;
  const auto e = roberta().encode(letters, plain);
  size_t covered = 0;
  for (const auto& [b, en] : e.offsets) covered += static_cast<size_t>(en - b);
  EXPECT_EQ(covered, letters.size());   // the pieces tile the word
  EXPECT_EQ(roberta().encode(spaces + "x", plain).ids.back(), roberta().encode(" x", plain).ids.back());
  EXPECT_EQ(bert().encode(letters, plain).ids, (Ids{100}));   // over 100 chars: [UNK]
  EXPECT_EQ(bert().encode(bangs, plain).ids.size(), bangs.size());
  EXPECT_EQ(bert().encode(spaces).ids, (Ids{101, 102}));
}

// Seeded random text from many scripts, marks, controls and special tokens: every offset lies in
// the input, on character boundaries, and ids are in the vocabulary.
TEST(TokenizerOptions, RandomTextOffsetsStayOnCharBoundaries) {
  const std::vector<std::string> pieces = {
      "a", "Z", "7", " ", "  ", "\t", "\n", "!", "'s", "-", "\u00e9", "e\u0301", "\u00df", "\ufb01", "\u0130",
      "\u65e5", "\ud55c", "\u0e01", "\u0627", "\U0001F600", "\U0001F44D\U0001F3FD", "\u200d", "\u200b",
      "\u00a0", "\u3000", "\x01", "\x7f", "\ufeff", "[MASK]", "[CLS]", "<mask>", "</s>", "\u00ad", "\U000E0001"};
  std::mt19937 rng(7);
  const auto d = slimtest::shared_dir() + "/data/tokenizers/";
  std::vector<std::unique_ptr<slimformer::Tokenizer>> toks;
  toks.push_back(slimformer::load_tokenizer(d + "bert-base-uncased"));
  toks.push_back(slimformer::load_wordpiece_vocab(d + "bert-base-cased/vocab.txt", false));
  toks.push_back(slimformer::load_tokenizer(d + "roberta-base"));
  for (int iter = 0; iter < 500; ++iter) {
    std::string text;
    const int n = static_cast<int>(rng() % 40);
    for (int k = 0; k < n; ++k) text += pieces[rng() % pieces.size()];
    auto boundary = [&](int64_t i) {
      return i == static_cast<int64_t>(text.size()) ||
             (i >= 0 && i < static_cast<int64_t>(text.size()) && (static_cast<unsigned char>(text[i]) & 0xC0) != 0x80);
    };
    for (const auto& tok : toks) {
      const auto e = tok->encode_pair(text, text);
      ASSERT_EQ(e.ids.size(), e.offsets.size());
      for (size_t t = 0; t < e.ids.size(); ++t) {
        ASSERT_TRUE(e.ids[t] >= 0 && e.ids[t] < tok->vocab_size()) << text;
        const auto [b, en] = e.offsets[t];
        ASSERT_TRUE(b <= en && boundary(b) && boundary(en)) << "token " << e.tokens[t] << " (" << b << ","
                                                            << en << ") in " << text;
      }
    }
  }
}

}  // namespace
