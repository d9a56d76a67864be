// The eval writers on rows with known values: relative columns against the first row, columns
// shown only when they apply, exact values and nulls in JSON, CSV that reads back.
#include <gtest/gtest.h>

#include <cstdlib>
#include <nlohmann/json.hpp>
#include <sstream>

#include "slimformer/eval.h"

using namespace slimformer;

namespace {

EvalRow row(const std::string& label, double pearson_v, double spearman_v, size_t bytes, double seconds) {
  EvalRow r;
  r.label = label;
  r.model_dir = "/models/" + label;
  r.scored_by = "cosine";
  r.parameters = static_cast<int64_t>(bytes / 4);
  r.file_bytes = bytes;
  r.dtype_bytes = {{"F32", bytes}};
  r.pearson = pearson_v;
  r.spearman = spearman_v;
  r.angular_pearson = pearson_v + 0.01;
  r.angular_spearman = spearman_v;
  r.inputs = 1000;
  r.encode_seconds = seconds;
  return r;
}

EvalReport sts_report() {
  EvalReport rep;
  rep.task = EvalTask::Stsb;
  rep.data_path = "sts-test.csv";
  rep.pairs = 500;
  rep.rows = {row("base-model", 0.8, 0.8, 44000000, 2.0), row("small, int8", 0.7, 0.6, 11000000, 0.5)};
  rep.rows[1].dtype_bytes = {{"I8", 8000000}, {"F32", 2000000}};
  return rep;
}

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

}  // namespace

TEST(EvalReport, TableShowsRelativeColumnsAgainstTheFirstRow) {
  const std::string t = format_eval_table(sts_report());
  const auto ls = lines(t);
  ASSERT_EQ(ls.size(), 4u) << t;
  EXPECT_EQ(ls[0], "STS-B: 'sts-test.csv', 500 pairs");
  EXPECT_NE(ls[1].find("Δ Spearman"), std::string::npos) << t;
  EXPECT_NE(ls[1].find("ang. Pearson"), std::string::npos) << t;
  EXPECT_EQ(ls[1].find("scored by"), std::string::npos) << "every model is scored by cosine: " << t;
  EXPECT_NE(ls[2].find("base"), std::string::npos) << t;
  EXPECT_NE(ls[2].find("1.00x"), std::string::npos) << t;
  EXPECT_NE(ls[3].find("-25.00%"), std::string::npos) << "Spearman 0.6 against 0.8: " << t;
  EXPECT_NE(ls[3].find("-12.50%"), std::string::npos) << "Pearson 0.7 against 0.8: " << t;
  EXPECT_NE(ls[3].find("0.25x"), std::string::npos) << "a quarter of the size: " << t;
  EXPECT_NE(ls[3].find("4.00x"), std::string::npos) << "four times the speed: " << t;
  EXPECT_NE(ls[3].find("I8 80% F32 20%"), std::string::npos) << t;
  EXPECT_NE(ls[3].find("11.0"), std::string::npos) << "MB = 10^6 bytes: " << t;
  EXPECT_NE(ls[3].find("0.6000"), std::string::npos) << t;
  EXPECT_NE(ls[3].find("2000"), std::string::npos) << "1000 inputs in 0.5 s: " << t;
}

TEST(EvalReport, HeadRowsShowHowTheyWereScoredAndNoAngularScore) {
  EvalReport rep = sts_report();
  rep.rows[1].scored_by = "regression head";
  rep.rows[1].angular_pearson = rep.rows[1].angular_spearman = kNaN;
  const std::string t = format_eval_table(rep);
  EXPECT_NE(t.find("scored by"), std::string::npos) << t;
  EXPECT_NE(t.find("regression head"), std::string::npos) << t;
  const auto j = nlohmann::json::parse(format_eval_json(rep, {}));
  EXPECT_TRUE(j["models"][1]["angular_pearson"].is_null());
  EXPECT_EQ(j["models"][1]["scored_by"], "regression head");
}

TEST(EvalReport, MrpcColumns) {
  EvalReport rep;
  rep.task = EvalTask::Mrpc;
  rep.data_path = "dev.tsv";
  rep.train_path = "train.tsv";
  rep.pairs = 408;
  rep.train_pairs = 3668;
  EvalRow a = row("a", kNaN, kNaN, 1000, 1.0), b = row("b", kNaN, kNaN, 500, 1.0);
  a.angular_pearson = a.angular_spearman = b.angular_pearson = b.angular_spearman = kNaN;
  a.threshold = 0.75;
  a.accuracy = 0.70;
  a.f1 = 0.80;
  b.threshold = 0.5;
  b.accuracy = 0.63;
  b.f1 = 0.80;
  rep.rows = {a, b};
  const std::string t = format_eval_table(rep);
  EXPECT_NE(t.find("MRPC: 'dev.tsv', 408 pairs; cosine thresholds chosen on 'train.tsv', 3668 pairs"), std::string::npos) << t;
  EXPECT_NE(t.find("threshold"), std::string::npos) << t;
  EXPECT_NE(t.find("Δ accuracy"), std::string::npos) << t;
  EXPECT_NE(t.find("-10.00%"), std::string::npos) << t;
  EXPECT_NE(t.find("+0.00%"), std::string::npos) << t;
  EXPECT_EQ(t.find("Spearman"), std::string::npos) << t;
  const auto j = nlohmann::json::parse(format_eval_json(rep, {}));
  EXPECT_EQ(j["task"], "mrpc");
  EXPECT_EQ(j["train"], "train.tsv");
  EXPECT_EQ(j["train_pairs"], 3668);
  EXPECT_DOUBLE_EQ(j["models"][0]["threshold"].get<double>(), 0.75);
  EXPECT_FALSE(j["models"][0].contains("spearman"));
}

TEST(EvalReport, JsonHoldsExactValues) {
  const EvalReport rep = sts_report();
  const auto j = nlohmann::json::parse(format_eval_json(rep, {{"cpu", "test cpu"}}));
  EXPECT_EQ(j["task"], "stsb");
  EXPECT_EQ(j["data"], "sts-test.csv");
  EXPECT_EQ(j["pairs"], 500);
  EXPECT_TRUE(j["train"].is_null());
  EXPECT_EQ(j["environment"]["cpu"], "test cpu");
  ASSERT_EQ(j["models"].size(), 2u);
  const auto& m = j["models"][1];
  EXPECT_EQ(m["label"], "small, int8");
  EXPECT_EQ(m["file_bytes"], 11000000);
  EXPECT_EQ(m["dtype_bytes"]["I8"], 8000000);
  EXPECT_EQ(m["dtype_bytes"]["F32"], 2000000);
  EXPECT_DOUBLE_EQ(m["spearman"].get<double>(), 0.6);
  EXPECT_DOUBLE_EQ(m["spearman_change"].get<double>(), 0.6 / 0.8 - 1.0);
  EXPECT_DOUBLE_EQ(m["size_ratio"].get<double>(), 0.25);
  EXPECT_DOUBLE_EQ(m["inputs_per_second"].get<double>(), 2000.0);
  EXPECT_DOUBLE_EQ(j["models"][0]["spearman_change"].get<double>(), 0.0);
}

TEST(EvalReport, CsvReadsBack) {
  const EvalReport rep = sts_report();
  const auto ls = lines(format_eval_csv(rep));
  ASSERT_EQ(ls.size(), 3u);
  EXPECT_EQ(ls[0].rfind("label,model_dir,parameters,file_bytes,dtype_bytes,scored_by,pearson,spearman,", 0), 0u) << ls[0];
  // The label holds a comma, so it is quoted; numbers are the shortest text that reads back exactly.
  EXPECT_EQ(ls[2].rfind("\"small, int8\",\"/models/small, int8\",2750000,11000000,I8:8000000;F32:2000000,cosine,0.7,0.6,", 0), 0u) << ls[2];
}

TEST(EvalReport, MarkdownHasTheTableAndEnvironment) {
  const std::string md = format_eval_markdown(sts_report(), {{"cpu", "test cpu"}});
  EXPECT_EQ(md.rfind("# slimformer eval: STS-B\n", 0), 0u) << md;
  EXPECT_NE(md.find("| model | params | size MB |"), std::string::npos) << md;
  EXPECT_NE(md.find("| --- | ---: |"), std::string::npos) << md;
  EXPECT_NE(md.find("| small, int8 |"), std::string::npos) << md;
  EXPECT_NE(md.find("- cpu: test cpu"), std::string::npos) << md;
}
