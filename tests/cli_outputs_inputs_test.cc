// An output never lands on an input: every subcommand refuses, with one line and exit code 2 and
// before any work, an output that is an input file or lies in an input model folder, however the
// path reaches it (symlinks, "..", hard links).
#include <filesystem>

#include "cli_process_util.h"

namespace {

namespace fs = std::filesystem;
using namespace slimtest;

// A private copy of a fixture model, so that a failing check cannot touch the shared one.
std::string model_copy(const std::string& name) {
  const std::string model = make_temp_dir() + "/" + name;
  fs::copy(model_dir(name), model, fs::copy_options::recursive);
  return model;
}

// Every file of `dir` and its bytes: what a refused run must leave exactly as it was.
std::vector<std::pair<std::string, std::string>> snapshot(const std::string& dir) {
  std::vector<std::pair<std::string, std::string>> files;
  for (const std::string& name : listing(dir)) {
    if (fs::is_regular_file(dir + "/" + name)) files.emplace_back(name, read_file(dir + "/" + name));
  }
  return files;
}

const std::string kFastGrid = " --seq-lens 4 --batch-sizes 1 --runs 1 --warmup 0 --threads 1";

TEST(CliOutputsInputs, EmbedNeverWritesIntoItsModel) {
  const std::string model = model_copy("st-bert-uncased"), elsewhere = make_temp_dir();
  const auto before = snapshot(model);
  fs::create_directory_symlink(model, elsewhere + "/link");
  fs::create_hard_link(model + "/config.json", elsewhere + "/hard.json");
  for (const std::string& out : {model + "/model.safetensors", model + "/config.json", model + "/new.jsonl",
                                 model + "/1_Pooling/../model.safetensors", elsewhere + "/link/model.safetensors",
                                 elsewhere + "/link/new.jsonl", elsewhere + "/hard.json"}) {
    SCOPED_TRACE(out);
    expect_one_line_error(run_cli("embed --model " + q(model) + " --output " + q(out), "a text\n"),
                          {"--output", out, "--model"});
  }
  // /dev/stdout appended onto a model file (>> truncates nothing): refused, the file untouched.
  const CommandResult appended = run_shell("echo text | " + q(binary()) + " embed --model " + q(model) +
                                           " --output /dev/stdout >>" + q(model + "/config.json"));
  EXPECT_EQ(appended.exit_code, 2) << appended.err;
  EXPECT_NE(appended.err.find("/dev/stdout"), std::string::npos) << appended.err;
  EXPECT_EQ(snapshot(model), before);
  EXPECT_TRUE(hidden_entries(model).empty());
  EXPECT_FALSE(fs::exists(model + "/new.jsonl"));
}

TEST(CliOutputsInputs, EmbedNeverWritesOverItsInput) {
  const std::string dir = make_temp_dir();
  write_file(dir + "/texts.txt", "one\ntwo\n");
  fs::create_symlink(dir + "/texts.txt", dir + "/link.txt");
  for (const std::string& out : {dir + "/texts.txt", dir + "/./sub/../texts.txt", dir + "/link.txt"}) {
    SCOPED_TRACE(out);
    expect_one_line_error(run_cli("embed --model " + q(model_dir("st-bert-uncased")) + " --input " + q(dir + "/texts.txt") +
                                  " --output " + q(out)),
                          {"--output", "--input", "is the input file"});
  }
  EXPECT_EQ(read_file(dir + "/texts.txt"), "one\ntwo\n");
  // Another file beside the input is fine.
  const CommandResult ok = run_cli("embed --model " + q(model_dir("st-bert-uncased")) + " --input " +
                                   q(dir + "/texts.txt") + " --output " + q(dir + "/out.jsonl"));
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
  const std::string written = read_file(dir + "/out.jsonl");
  EXPECT_EQ(std::count(written.begin(), written.end(), '\n'), 2);
}

TEST(CliOutputsInputs, BenchNeverWritesIntoItsModels) {
  const std::string model = model_copy("bert-tiny"), other = model_copy("st-bert-uncased");
  const auto before = snapshot(model);
  const std::string m = " --model " + q(model) + kFastGrid;
  for (const std::string& flags : {"--json " + q(model + "/model.safetensors"), "--csv " + q(model + "/config.json"),
                                   "--output-dir " + q(model), "--output-dir " + q(model + "/results") + " --no-plots"}) {
    SCOPED_TRACE(flags);
    expect_one_line_error(run_cli("bench" + m + " " + flags), {"--model", model});
  }
  // Any model of several.
  expect_one_line_error(run_cli("bench --models " + q("a=" + other + ",b=" + model) + kFastGrid + " --json " +
                                q(model + "/../" + fs::path(model).filename().string() + "/r.json")),
                        {"--json", "--models", model});
  EXPECT_EQ(snapshot(model), before);
  EXPECT_TRUE(hidden_entries(model).empty());
}

TEST(CliOutputsInputs, EvalNeverWritesOverItsData) {
  // --data named results.csv in the folder given to --output-dir: refused before it is read.
  const std::string dir = make_temp_dir();
  const std::string data = shared_dir() + "/data/stsbenchmark/sts-dev.csv";
  fs::copy_file(data, dir + "/results.csv");
  expect_one_line_error(run_cli("eval --task stsb --max-pairs 10 --data " + q(dir + "/results.csv") + " --model " +
                                q(model_dir("st-bert-uncased")) + " --output-dir " + q(dir)),
                        {"--output-dir", "--data", "is the input file"});
  EXPECT_EQ(read_file(dir + "/results.csv"), read_file(data));
  EXPECT_EQ(listing(dir), std::vector<std::string>{"results.csv"});
}

TEST(CliOutputsInputs, CompressAndDistillNeverWriteIntoTheirInputs) {
  const std::string model = model_copy("st-bert-uncased");
  const auto before = snapshot(model);
  const std::string m = " --model " + q(model);
  expect_one_line_error(run_cli("prune l1-unstructured --amount 0.5" + m + " --out " + q(model + "/pruned")),
                        {"--out", "--model"});
  expect_one_line_error(run_cli("quantize --dtype int8" + m + " --out " + q(model + "/1_Pooling/..")), {"--out", "--model"});
  expect_one_line_error(run_cli("export --dtype f32" + m + " --out " + q(model + "/x")), {"--out", "--model"});
  // distill: --out may hold neither the teacher nor the data it reads (--resume continues in --out).
  const std::string run_dir = make_temp_dir();
  write_file(run_dir + "/sentences.txt", "a\nb\n");
  expect_one_line_error(run_cli("distill --teacher " + q(model) + " --student-layers 1 --data " +
                                q(run_dir + "/sentences.txt") + " --out " + q(run_dir) + " --resume"),
                        {"--out", "--data", "sentences.txt"});
  expect_one_line_error(run_cli("distill --teacher " + q(model) + " --student-layers 1 --data " +
                                q(run_dir + "/sentences.txt") + " --out " + q(model + "/student")),
                        {"--out", "--teacher"});
  EXPECT_EQ(snapshot(model), before);
  EXPECT_EQ(read_file(run_dir + "/sentences.txt"), "a\nb\n");
}

}  // namespace
