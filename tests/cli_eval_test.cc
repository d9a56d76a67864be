// slimformer eval end to end: the table on stdout, the three files of --output-dir, MRPC on pairs
// made up here, and every bad request as one error line with exit code 2.
#include <filesystem>
#include <nlohmann/json.hpp>

#include "classifier_test_util.h"
#include "cli_test_util.h"

using namespace slimtest;
namespace fs = std::filesystem;

namespace {

std::string sts(const std::string& split) { return shared_dir() + "/data/stsbenchmark/sts-" + split + ".csv"; }
std::string st_bert() { return model_dir("st-bert-uncased"); }

// An MRPC-layout file of pairs made up here (the corpus itself stays outside the project).
std::string made_up_mrpc(const std::string& dir, const std::string& name, int copies) {
  std::string text = "\xEF\xBB\xBFQuality\t#1 ID\t#2 ID\t#1 String\t#2 String\r\n";   // as GLUE ships it
  const char* rows[] = {"1\t1\t2\tA man is playing a guitar.\tA man plays the guitar.",
                        "0\t3\t4\tA man is playing a guitar.\tStocks fell sharply on Monday.",
                        "1\t5\t6\tThe cat sleeps on the sofa.\tThe cat is asleep on the sofa.",
                        "0\t7\t8\tThe cat sleeps on the sofa.\tThe council approved the budget."};
  for (int c = 0; c < copies; ++c) {
    for (const char* r : rows) text += std::string(r) + "\r\n";
  }
  const std::string path = dir + "/" + name;
  write_file(path, text);
  return path;
}

}  // namespace

TEST(CliEval, StsbTwoModelsWithOutputDir) {
  const std::string out = make_temp_dir() + "/results";
  const CommandResult r = run_cli("eval --task stsb --data " + q(sts("dev")) + " --model " + q(st_bert()) + " --model " +
                                  q(st_bert()) + " --name full --name again --max-pairs 40 --batch-size 7 --output-dir " +
                                  q(out));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.rfind("STS-B: '" + sts("dev") + "', 40 pairs\n", 0), 0u) << r.out;
  EXPECT_NE(r.out.find("\nfull "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\nagain "), std::string::npos) << r.out;
  // One closing progress line per model, then where the files went.
  EXPECT_NE(r.err.find("eval: [1/2] full: Spearman "), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("eval: [2/2] again: Spearman "), std::string::npos) << r.err;
  std::vector<std::string> files;
  for (const auto& e : fs::directory_iterator(out)) files.push_back(e.path().filename().string());
  std::sort(files.begin(), files.end());
  EXPECT_EQ(files, (std::vector<std::string>{"report.md", "results.csv", "results.json"}));   // no temporary left
  const auto j = nlohmann::json::parse(read_file(out + "/results.json"));
  EXPECT_EQ(j["pairs"], 40);
  ASSERT_EQ(j["models"].size(), 2u);
  // The same model twice scores the same (the batches are deterministic).
  EXPECT_EQ(j["models"][0]["spearman"], j["models"][1]["spearman"]);
  EXPECT_DOUBLE_EQ(j["models"][1]["spearman_change"].get<double>(), 0.0);
  EXPECT_FALSE(j["environment"]["cpu"].get<std::string>().empty());
  EXPECT_NE(read_file(out + "/report.md").find("| full |"), std::string::npos);
  const std::string csv = read_file(out + "/results.csv");
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 3);
}

TEST(CliEval, GlueStsbLayoutScoresLikeTheBenchmarkFile) {
  const std::string dir = make_temp_dir();
  const auto scores = [&](const std::string& data, const std::string& out) {
    const CommandResult r = run_cli("eval --task stsb --data " + q(data) + " --model " + q(st_bert()) +
                                    " --max-pairs 60 --output-dir " + q(dir + "/" + out));
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return nlohmann::json::parse(read_file(dir + "/" + out + "/results.json"))["models"][0];
  };
  // The first 60 pairs are the same text in both layouts, so every score is the same.
  const auto glue = scores(shared_dir() + "/data/glue/STS-B/dev.tsv", "glue"), benchmark = scores(sts("dev"), "sts");
  for (const char* key : {"pearson", "spearman", "angular_pearson", "angular_spearman"}) {
    EXPECT_EQ(glue[key], benchmark[key]) << key;
  }
}

TEST(CliEval, MrpcWithMadeUpPairs) {
  const std::string dir = make_temp_dir();
  const std::string train = made_up_mrpc(dir, "train.tsv", 3), data = made_up_mrpc(dir, "dev.tsv", 1);
  const CommandResult r = run_cli("eval --task mrpc --train " + q(train) + " --data " + q(data) + " --model " + q(st_bert()));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("MRPC: '" + data + "', 4 pairs; cosine thresholds chosen on '" + train + "', 12 pairs"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("threshold"), std::string::npos) << r.out;
  EXPECT_NE(r.err.find("eval: [1/1] st-bert-uncased: accuracy "), std::string::npos) << r.err;
}

TEST(CliEval, BadRequestsAreOneLine) {
  const std::string dir = make_temp_dir();
  const std::string m = " --model " + q(st_bert());
  const std::string dev = " --data " + q(sts("dev"));
  write_file(dir + "/bad-score.csv", "g\tf\t2012\t1\t3.5\ta\tb\ng\tf\t2012\t2\tlots\ta\tb\n");
  write_file(dir + "/one.csv", "g\tf\t2012\t1\t3.5\ta\tb\n");
  write_file(dir + "/flat.csv", "g\tf\t2012\t1\t3.5\ta\tb\ng\tf\t2012\t2\t3.5\tc\td\n");
  write_file(dir + "/a-file", "");
  const std::string mrpc = made_up_mrpc(dir, "dev.tsv", 1);
  expect_one_line_error(run_cli("eval --task sst2" + dev + m), {"--task", "sst2", "stsb or mrpc"});
  expect_one_line_error(run_cli("eval --task stsb --train " + q(mrpc) + dev + m), {"--train", "mrpc"});
  expect_one_line_error(run_cli("eval --task stsb" + dev + m + m + " --name one"), {"--name", "1 names for 2 models"});
  expect_one_line_error(run_cli("eval --task stsb" + dev + m + m + " --name x --name x"), {"--name", "'x'", "two models"});
  expect_one_line_error(run_cli("eval --task stsb" + dev + " --model " + q(dir + "/none")), {"--model", "does not exist"});
  // A folder without config.json fails before the first model is scored: nothing on stderr but the error.
  expect_one_line_error(run_cli("eval --task stsb" + dev + m + " --model " + q(dir)), {"config.json"});
  expect_one_line_error(run_cli("eval --task stsb" + m), {"--data"});
  expect_one_line_error(run_cli("eval --task stsb --data " + q(dir + "/bad-score.csv") + m), {"bad-score.csv", "line 2", "lots"});
  expect_one_line_error(run_cli("eval --task stsb --data " + q(dir + "/one.csv") + m), {"one.csv", "1 pair", "at least 2"});
  expect_one_line_error(run_cli("eval --task stsb --data " + q(dir + "/flat.csv") + m), {"flat.csv", "vary"});
  expect_one_line_error(run_cli("eval --task stsb --data " + q(shared_dir() + "/data/glue/STS-B/test.tsv") + m),
                        {"test.tsv", "sts-test.csv"});
  expect_one_line_error(run_cli("eval --task stsb" + dev + m + " --max-pairs 0"), {"--max-pairs", "'0'"});
  expect_one_line_error(run_cli("eval --task stsb" + dev + m + " --attention nonsense"), {"--attention", "nonsense"});
  expect_one_line_error(run_cli("eval --task mrpc --data " + q(mrpc) + m), {"--train", "threshold"});
  expect_one_line_error(run_cli("eval --task stsb" + dev + m + " --output-dir " + q(dir + "/a-file")), {"--output-dir"});
  expect_one_line_error(run_cli("eval --task mrpc --train " + q(mrpc) + " --data " + q(sts("dev")) + m), {"sts-dev.csv"});
  write_file(dir + "/utf16.csv", "\xFF\xFEg\0\t\0");
  expect_one_line_error(run_cli("eval --task stsb --data " + q(dir + "/utf16.csv") + m), {"utf16.csv", "UTF-16"});
}

TEST(CliEval, OutputDirInsideAModelIsRefused) {
  // A copy of the model, so that a failure of the check could not write into the shared fixtures.
  const std::string model = make_temp_dir() + "/model";
  fs::copy(st_bert(), model, fs::copy_options::recursive);
  for (const std::string& out : {model, model + "/results", model + "/./sub/../results"}) {
    expect_one_line_error(run_cli("eval --task stsb --data " + q(sts("dev")) + " --model " + q(st_bert()) + " --model " +
                                  q(model) + " --name a --name b --output-dir " + q(out)),
                          {"--output-dir", "inside the input model folder", model});
  }
  EXPECT_FALSE(fs::exists(model + "/results"));
  EXPECT_FALSE(fs::exists(model + "/report.md"));
}

TEST(CliEval, HeadThatDoesNotFitTheTaskIsOneLine) {
  auto tensors = prefixed_tensors("st-bert-uncased", "bert.");
  tensors["classifier.weight"] = random_tensor({2, 16}, 1);
  tensors["classifier.bias"] = random_tensor({2}, 2);
  const nlohmann::json edits = {{"architectures", {"BertForSequenceClassification"}}, {"num_labels", 2}};
  const std::string dir = write_model_folder(fixture_config("st-bert-uncased", edits), tensors, "st-bert-uncased");
  expect_one_line_error(run_cli("eval --task stsb --data " + q(sts("dev")) + " --model " + q(dir) + " --max-pairs 5"),
                        {dir, "2-label BertForSequenceClassification head", "STS-B"});
}
