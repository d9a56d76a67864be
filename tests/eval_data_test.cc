// The data readers: STS-B in both layouts and MRPC on the real files (counts and row-for-row
// agreement), then one small made-up file per kind of bad input.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>
#include <tuple>

#include "eval/tsv_file.h"
#include "slimformer/error.h"
#include "slimformer/eval.h"
#include "test_util.h"

using namespace slimformer;
using slimtest::message_of;

namespace {

std::string data_dir() { return slimtest::shared_dir() + "/data/"; }

// Writes `bytes` to a fresh file and returns its path.
std::string write_file(const std::string& bytes, const std::string& name = "data.tsv") {
  const std::string path = slimtest::make_temp_dir() + "/" + name;
  std::ofstream(path, std::ios::binary) << bytes;
  return path;
}

// One line, naming the file (and the line where there is one), saying what was expected.
void expect_names(const std::string& msg, const std::string& path, int line, const std::string& expected) {
  const std::string where = line > 0 ? "'" + path + "' line " + std::to_string(line) + ": " : "'" + path + "': ";
  EXPECT_EQ(msg.rfind(where, 0), 0u) << msg;
  EXPECT_NE(msg.find(", expected " + expected), std::string::npos) << msg;
  EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
}

void expect_sts_error(const std::string& bytes, int line, const std::string& expected) {
  const std::string path = write_file(bytes);
  expect_names(message_of<FormatError>([&] { read_sts(path); }), path, line, expected);
}

void expect_mrpc_error(const std::string& bytes, int line, const std::string& expected) {
  const std::string path = write_file(bytes);
  expect_names(message_of<FormatError>([&] { read_mrpc(path); }), path, line, expected);
}

std::vector<StsPair> sts_of(const std::string& bytes) { return read_sts(write_file(bytes)); }
std::vector<LabelledPair> mrpc_of(const std::string& bytes) { return read_mrpc(write_file(bytes)); }

std::string sts_row(const std::string& score, const std::string& s2 = "A person is here.") {
  return "main-captions\tMSRvid\t2012test\t0001\t" + score + "\tA man is here.\t" + s2 + "\n";
}
const std::string kGlueHeader =
    "index\tgenre\tfilename\tyear\told_index\tsource1\tsource2\tsentence1\tsentence2\tscore\n";
std::string glue_row(const std::string& score) {
  return "0\tmain-captions\tMSRvid\t2012test\t0001\tnone\tnone\tA man is here.\tA person is here.\t" + score + "\n";
}
// Made-up sentences: the MRPC text itself may not be copied into the project.
const std::string kMrpcHeader = "Quality\t#1 ID\t#2 ID\t#1 String\t#2 String\n";
std::string mrpc_row(const std::string& label) {
  return label + "\t11\t12\tA cat sat on the mat.\tThe cat was sitting on the mat.\n";
}

bool same(const std::vector<StsPair>& a, const std::vector<StsPair>& b) {
  const auto key = [](const StsPair& p) {
    return std::tie(p.genre, p.filename, p.year, p.id, p.score, p.sentence1, p.sentence2);
  };
  return std::equal(a.begin(), a.end(), b.begin(), b.end(),
                    [&](const StsPair& x, const StsPair& y) { return key(x) == key(y); });
}

std::string trim(const std::string& s) {
  const size_t b = s.find_first_not_of(' '), e = s.find_last_not_of(' ');
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

int positives(const std::vector<LabelledPair>& pairs) {
  return static_cast<int>(std::count_if(pairs.begin(), pairs.end(), [](const auto& p) { return p.label == 1; }));
}

}  // namespace

// ---- the real files ---------------------------------------------------------------------------

TEST(EvalStsb, ReadsDevFile) {
  const auto pairs = read_sts(data_dir() + "stsbenchmark/sts-dev.csv");
  ASSERT_EQ(pairs.size(), 1500u);
  EXPECT_EQ(pairs[0].genre, "main-captions");
  EXPECT_EQ(pairs[0].id, "0000");
  EXPECT_EQ(pairs[0].score, 5.0);
  EXPECT_EQ(pairs[0].sentence1, "A man with a hard hat is dancing.");
  EXPECT_EQ(pairs[0].sentence2, "A man wearing a hard hat is dancing.");
  // Line 268 holds quotes that a CSV parser would take as a field delimiter.
  EXPECT_EQ(pairs[267].sentence2, "a woman is standing by a pillar where \"u2\" is written.");
}

TEST(EvalStsb, ReadsEveryBenchmarkSplitIgnoringCredits) {
  EXPECT_EQ(read_sts(data_dir() + "stsbenchmark/sts-train.csv").size(), 5749u);
  const auto test = read_sts(data_dir() + "stsbenchmark/sts-test.csv");
  EXPECT_EQ(test.size(), 1379u);
  for (const auto& p : test) EXPECT_EQ(p.sentence2.find('\t'), std::string::npos);
}

// GLUE's copy: the same scores and metadata row for row; sentences differ only where GLUE trimmed
// spaces (train: all 311) or also fixed quotes (dev: 7).
TEST(EvalStsb, GlueLayoutMatchesTheBenchmarkRowForRow) {
  const std::pair<const char*, size_t> splits[] = {{"dev", 7}, {"train", 311}};
  for (const auto& [split, fixed] : splits) {
    const auto bench = read_sts(data_dir() + "stsbenchmark/sts-" + split + ".csv");
    const auto glue = read_sts(data_dir() + "glue/STS-B/" + split + ".tsv");
    ASSERT_EQ(glue.size(), bench.size()) << split;
    size_t differ = 0, differ_after_trim = 0;
    for (size_t i = 0; i < glue.size(); ++i) {
      const StsPair &b = bench[i], &g = glue[i];
      EXPECT_EQ(std::tie(g.genre, g.filename, g.year, g.id, g.score), std::tie(b.genre, b.filename, b.year, b.id, b.score))
          << split << " row " << i;
      differ += g.sentence1 != b.sentence1 || g.sentence2 != b.sentence2;
      differ_after_trim += g.sentence1 != trim(b.sentence1) || g.sentence2 != trim(b.sentence2);
    }
    EXPECT_EQ(differ, fixed) << split;
    if (std::string(split) == "train") {
      EXPECT_EQ(differ_after_trim, 0u);
    }
  }
}

TEST(EvalStsb, GlueTestSplitIsRefusedPointingAtTheScoredOne) {
  const std::string path = data_dir() + "glue/STS-B/test.tsv";
  expect_names(message_of<FormatError>([&] { read_sts(path); }), path, 1, "a scored STS-B file: the scored test split is stsbenchmark/sts-test.csv");
}

TEST(EvalDataMrpc, ReadsEveryLabelledFile) {
  const std::tuple<const char*, size_t, int> files[] = {{"train.tsv", 3668, 2474},
                                                         {"dev.tsv", 408, 279},
                                                         {"msr_paraphrase_train.txt", 4076, 2753},
                                                         {"msr_paraphrase_test.txt", 1725, 1147}};
  for (const auto& [name, rows, pos] : files) {
    const auto pairs = read_mrpc(data_dir() + "glue/MRPC/" + name);
    EXPECT_EQ(pairs.size(), rows) << name;
    EXPECT_EQ(positives(pairs), pos) << name;
  }
  const auto train = read_mrpc(data_dir() + "glue/MRPC/train.tsv");
  EXPECT_EQ(train[0].id1, "702876");   // the BOM did not stick to the header or the first row
  EXPECT_EQ(train[0].id2, "702977");
  EXPECT_EQ(train[0].label, 1);
}

// GLUE's train and dev are the corpus's training file split in two.
TEST(EvalDataMrpc, GlueTrainAndDevAreTheCorpusTrainingFile) {
  std::map<std::tuple<std::string, std::string, int, std::string, std::string>, int> count;
  for (const char* name : {"train.tsv", "dev.tsv"}) {
    for (const auto& p : read_mrpc(data_dir() + "glue/MRPC/" + name)) ++count[{p.id1, p.id2, p.label, p.sentence1, p.sentence2}];
  }
  for (const auto& p : read_mrpc(data_dir() + "glue/MRPC/msr_paraphrase_train.txt")) --count[{p.id1, p.id2, p.label, p.sentence1, p.sentence2}];
  for (const auto& [key, n] : count) EXPECT_EQ(n, 0) << std::get<0>(key) << " " << std::get<1>(key);
}

TEST(EvalDataMrpc, GlueTestSplitIsRefusedPointingAtTheLabelledOne) {
  const std::string path = data_dir() + "glue/MRPC/test.tsv";
  expect_names(message_of<FormatError>([&] { read_mrpc(path); }), path, 1, "a labelled MRPC file: msr_paraphrase_test.txt holds");
}

// ---- bad input, one case per test ---------------------------------------------------------------

TEST(EvalData, MissingFieldsNameTheLine) {
  expect_sts_error(sts_row("3.5") + "g\tf\t2012\t2\t4\tonly six\n", 2, "at least 7 (genre, filename");
  expect_sts_error(kGlueHeader + glue_row("3") + "1\tg\tf\t2012\t0002\tnone\tnone\ts1\ts2\n", 3, "10 as in the header on line 1");
  expect_mrpc_error(kMrpcHeader + "1\t11\t12\tOnly one sentence.\n", 2, "5 (Quality, #1 ID");
  // A tab inside a sentence gives MRPC a sixth field: refused rather than cutting the sentence.
  expect_mrpc_error(kMrpcHeader + mrpc_row("1") + "0\t1\t2\ta\tb\tc\n", 3, "5 (Quality, #1 ID");
}

TEST(EvalData, LineNumbersCountBlankLines) {
  expect_sts_error(sts_row("1") + "\n   \n" + "g\tf\n", 4, "at least 7");
  EXPECT_EQ(sts_of("\n" + sts_row("1") + "\n\n" + sts_row("2") + " \t \n").size(), 2u);
}

TEST(EvalData, NonNumericScoreIsRefused) {
  for (const std::string bad : {"five", "", "3.5x", " 3", "0x1", "3,5"}) {
    expect_sts_error(sts_row("1") + sts_row(bad), 2, "a number from 0 to 5");
  }
  expect_sts_error(kGlueHeader + glue_row("high"), 2, "a number from 0 to 5");
}

TEST(EvalData, NanAndInfScoresAreRefused) {
  for (const std::string bad : {"nan", "NaN", "inf", "-inf", "infinity", "1e999"}) {
    expect_sts_error(sts_row(bad), 1, "a number from 0 to 5");
  }
}

TEST(EvalData, ScoreOutsideZeroToFiveIsRefused) {
  expect_sts_error(sts_row("5.5"), 1, "a number from 0 to 5");
  expect_sts_error(sts_row("-0.1"), 1, "a number from 0 to 5");
  expect_sts_error(kGlueHeader + glue_row("6"), 2, "a number from 0 to 5");
  const auto ends = sts_of(sts_row("0") + sts_row("5") + sts_row("5.000") + sts_row("-0"));
  ASSERT_EQ(ends.size(), 4u);
  EXPECT_EQ(ends[0].score, 0.0);
  EXPECT_EQ(ends[1].score, 5.0);
  EXPECT_EQ(ends[2].score, 5.0);
  EXPECT_FALSE(std::signbit(ends[3].score));
}

TEST(EvalData, LongBadValuesAreCutInTheMessage) {
  const std::string msg = message_of<FormatError>([&] { sts_of(sts_row(std::string(500, '9') + "x")); });
  EXPECT_LT(msg.size(), 250u) << msg;
  EXPECT_NE(msg.find("...'"), std::string::npos) << msg;
}

TEST(EvalData, EmptyFilesAreRefused) {
  for (const std::string bytes : {"", "\xEF\xBB\xBF", "\n\n", " \t\n\r\n"}) {
    const std::string path = write_file(bytes);
    expect_names(message_of<FormatError>([&] { read_sts(path); }), path, 0, "an STS-B file");
    expect_names(message_of<FormatError>([&] { read_mrpc(path); }), path, 0, "an MRPC file");
  }
  const std::string glue = write_file(kGlueHeader + "\n");
  expect_names(message_of<FormatError>([&] { read_sts(glue); }), glue, 0, "an STS-B file with at least one scored pair");
  const std::string mrpc = write_file("\xEF\xBB\xBF" + kMrpcHeader);
  expect_names(message_of<FormatError>([&] { read_mrpc(mrpc); }), mrpc, 0, "an MRPC file with at least one labelled pair");
}

TEST(EvalData, Utf8BomIsAccepted) {
  const std::string sts = sts_row("1") + sts_row("2");
  EXPECT_TRUE(same(sts_of("\xEF\xBB\xBF" + sts), sts_of(sts)));
  const std::string glue = kGlueHeader + glue_row("4.5");
  EXPECT_TRUE(same(sts_of("\xEF\xBB\xBF" + glue), sts_of(glue)));   // the header is still found
  const auto with = mrpc_of("\xEF\xBB\xBF" + kMrpcHeader + mrpc_row("1"));
  const auto without = mrpc_of(kMrpcHeader + mrpc_row("1"));
  ASSERT_EQ(with.size(), 1u);
  ASSERT_EQ(without.size(), 1u);
  EXPECT_EQ(std::tie(with[0].id1, with[0].label, with[0].sentence2), std::tie(without[0].id1, without[0].label, without[0].sentence2));
}

TEST(EvalData, Utf16AndUtf32BomsAreRefused) {
  const std::pair<std::string, const char*> boms[] = {{std::string("\xFF\xFE", 2), "UTF-16 LE"},
                                                       {std::string("\xFE\xFF", 2), "UTF-16 BE"},
                                                       {std::string("\xFF\xFE\0\0", 4), "UTF-32 LE"},
                                                       {std::string("\0\0\xFE\xFF", 4), "UTF-32 BE"}};
  for (const auto& [bom, name] : boms) {
    const std::string path = write_file(bom + std::string("m\0a\0", 4));
    const std::string msg = message_of<FormatError>([&] { read_sts(path); });
    expect_names(msg, path, 1, "UTF-8 text");
    EXPECT_NE(msg.find(name), std::string::npos) << msg;
  }
}

TEST(EvalData, BomPastTheStartIsRefused) {
  // Two files joined with cat: the second one's mark lands at the start of line 3.
  expect_mrpc_error("\xEF\xBB\xBF" + kMrpcHeader + mrpc_row("1") + "\xEF\xBB\xBF" + kMrpcHeader, 3, "one only at the start");
  expect_sts_error("\xEF\xBB\xBF\xEF\xBB\xBF" + sts_row("1"), 1, "one only at the start");
}

TEST(EvalData, CrlfIsAccepted) {
  const std::string lf = sts_row("1") + sts_row("2") + sts_row("3");
  std::string crlf;
  for (const char c : lf) crlf += c == '\n' ? std::string("\r\n") : std::string(1, c);
  EXPECT_TRUE(same(sts_of(crlf), sts_of(lf)));
  EXPECT_TRUE(same(sts_of(crlf.substr(0, crlf.size() - 2)), sts_of(lf)));   // no line end at the end
  EXPECT_EQ(mrpc_of("Quality\t#1 ID\t#2 ID\t#1 String\t#2 String\r\n1\t1\t2\ta\tb\r\n")[0].sentence2, "b");
}

TEST(EvalData, LoneCarriageReturnIsRefused) {
  expect_sts_error(sts_row("1") + sts_row("2", "A person\ris here."), 2, "LF or CRLF line ends");
  expect_sts_error(sts_row("1") + "g\tf\t2012\t1\t2\ta\tb\r", 2, "LF or CRLF line ends");   // a CR at the very end
  expect_mrpc_error(kMrpcHeader + mrpc_row("0") + "\r\r\n", 3, "LF or CRLF line ends");
}

TEST(EvalData, InvalidUtf8IsRefusedWithItsLine) {
  expect_sts_error(sts_row("1") + sts_row("2", "caf\xE9 au lait"), 2, "UTF-8 text");   // Latin-1
  expect_mrpc_error(kMrpcHeader + mrpc_row("1") + mrpc_row("0") + "1\t1\t2\t\xED\xA0\x80\tb\n", 4, "UTF-8 text");
}

TEST(EvalData, Utf8ValidationFollowsTheStandard) {
  using eval::find_invalid_utf8;
  constexpr size_t kOk = std::string_view::npos;
  EXPECT_EQ(find_invalid_utf8("plain, caf\xC3\xA9, \xE2\x82\xAC, \xF0\x9F\x98\x80, \xF4\x8F\xBF\xBF"), kOk);
  EXPECT_EQ(find_invalid_utf8("ab\xC3\x28"), 2u);           // a lead byte without its continuation
  EXPECT_EQ(find_invalid_utf8("ab\xC0\xAF"), 2u);           // overlong '/'
  EXPECT_EQ(find_invalid_utf8("\xE0\x80\xAF"), 0u);         // overlong, 3 bytes
  EXPECT_EQ(find_invalid_utf8("x\xED\xA0\x80"), 1u);        // a UTF-16 surrogate
  EXPECT_EQ(find_invalid_utf8("\xF4\x90\x80\x80"), 0u);     // past U+10FFFF
  EXPECT_EQ(find_invalid_utf8("abc\xE2\x82"), 3u);          // cut off at the end
  EXPECT_EQ(find_invalid_utf8("\x80"), 0u);                 // a lone continuation byte
  EXPECT_EQ(find_invalid_utf8("\xFF"), 0u);
}

TEST(EvalData, NulByteIsRefused) {
  expect_sts_error(sts_row("1") + sts_row("2", std::string("A\0B", 3)), 2, "UTF-8 text without NUL bytes");
}

TEST(EvalData, MrpcLabelsMustBeZeroOrOne) {
  for (const std::string bad : {"2", "yes", "", "1.0", " 1", "-0"}) {
    expect_mrpc_error(kMrpcHeader + mrpc_row("1") + mrpc_row(bad), 3, "0 or 1");
  }
  const auto pairs = mrpc_of(kMrpcHeader + mrpc_row("1") + mrpc_row("0"));
  ASSERT_EQ(pairs.size(), 2u);
  EXPECT_EQ(pairs[0].label, 1);
  EXPECT_EQ(pairs[1].label, 0);
  EXPECT_EQ(pairs[1].sentence1, "A cat sat on the mat.");
}

TEST(EvalData, MrpcHeaderIsChecked) {
  expect_mrpc_error(mrpc_row("1"), 1, "the MRPC header Quality, #1 ID");   // no header at all
  expect_mrpc_error("Quality\t#1 ID\t#2 id\t#1 String\t#2 String\n" + mrpc_row("1"), 1, "the MRPC header");
  expect_mrpc_error("Quality\t#1 ID\t#2 ID\t#1 String\n" + mrpc_row("1"), 1, "the MRPC header");
  expect_mrpc_error("index\t#1 ID\t#2 ID\t#1 String\t#2 String\n0\t1\t2\ta\tb\n", 1, "a labelled MRPC file");
}

TEST(EvalData, GlueHeaderIsReadByName) {
  // Columns reordered and the unused ones dropped: still read by name; missing metadata stays empty.
  const auto pairs = sts_of("score\tsentence2\tsentence1\n4.25\tsecond\tfirst\n");
  ASSERT_EQ(pairs.size(), 1u);
  EXPECT_EQ(pairs[0].sentence1, "first");
  EXPECT_EQ(pairs[0].sentence2, "second");
  EXPECT_EQ(pairs[0].score, 4.25);
  EXPECT_EQ(pairs[0].genre, "");
  expect_sts_error("index\tsentence1\tscore\n0\ta\t1\n", 1, "GLUE's STS-B columns");
  expect_sts_error("index\tsentence1\tsentence2\tscore\tscore\n0\ta\tb\t1\t1\n", 1, "GLUE's STS-B columns");
}

TEST(EvalData, MissingFileOrFolderIsAnIoError) {
  const std::string dir = slimtest::make_temp_dir();
  for (const std::string& path : {dir + "/missing.tsv", dir}) {
    expect_names(message_of<IoError>([&] { read_sts(path); }), path, 0, "an STS-B file");
    expect_names(message_of<IoError>([&] { read_mrpc(path); }), path, 0, "an MRPC file");
  }
}
