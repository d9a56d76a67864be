// slimformer prune / quantize end to end: folders that load and embed, the input untouched, and
// every bad option one line with exit code 2.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "classifier_test_util.h"
#include "cli_test_util.h"
#include "slimformer/checkpoint.h"
#include "slimformer/compress.h"
#include "slimformer/eval.h"

using namespace slimtest;
namespace fs = std::filesystem;
namespace compress = slimformer::compress;

namespace {

struct Scratch {
  fs::path root;
  explicit Scratch(const std::string& name)
      : root(fs::temp_directory_path() / ("slimformer-cli-" + name + "-" + std::to_string(::getpid()))) {
    fs::remove_all(root);
    fs::create_directories(root);
  }
  ~Scratch() { fs::remove_all(root); }
  std::string at(const std::string& p) const { return (root / p).string(); }
};

// A folder's files and their sizes and times: what "never modified" compares.
std::string fingerprint(const std::string& dir) {
  std::string s;
  for (auto it = fs::recursive_directory_iterator(dir); it != fs::recursive_directory_iterator(); ++it) {
    s += it->path().string();
    if (it->is_regular_file()) s += " " + std::to_string(it->file_size()) + " " +
                                     std::to_string(it->last_write_time().time_since_epoch().count());
    s += "\n";
  }
  return s;
}

}  // namespace

TEST(CliPrune, EveryMethodWritesAFolderThatEmbeds) {
  Scratch s("prune");
  const std::string src = model_dir("st-bert-uncased"), before = fingerprint(src);
  const std::vector<std::pair<std::string, std::string>> runs = {
      {"l1", "l1-unstructured --amount 0.5 --global"},
      {"l1steps", "l1-unstructured --amount 0.3 --iterative 3 --scope every-weight"},
      {"heads", "heads --amount 0.25"},
      {"heads-list", "heads --heads 0:1,1:0"},
      {"ffn", "ffn --amount 0.5 --norm 1"},
      {"layers", "layers --keep 1"},
      {"drop", "layers --drop 1"},
  };
  for (const auto& [name, args] : runs) {
    SCOPED_TRACE(args);
    const CommandResult r = run_cli("prune " + args + " --model " + q(src) + " --out " + q(s.at(name)));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find("pruned: "), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("wrote '" + s.at(name) + "'"), std::string::npos) << r.out;
    EXPECT_TRUE(fs::exists(s.at(name) + "/tokenizer.json"));
    EXPECT_TRUE(fs::exists(s.at(name) + "/1_Pooling/config.json"));
    const CommandResult e = run_cli("embed --model " + q(s.at(name)), "a small test\n");
    EXPECT_EQ(e.exit_code, 0) << e.err;
  }
  const CommandResult r = run_cli("prune l1-unstructured --amount 0.2 --model " + q(src) + " --out " + q(s.at("sp")));
  EXPECT_NE(r.out.find("LayerNorm, biases and embeddings spared"), std::string::npos) << r.out;
  EXPECT_EQ(slimformer::Checkpoint(s.at("heads-list")).config().pruned_heads,
            (std::map<int64_t, std::vector<int64_t>>{{0, {1}}, {1, {0}}}));
  EXPECT_EQ(slimformer::Checkpoint(s.at("layers")).config().num_layers, 1);
  const CommandResult in = run_cli("inspect --tensors --model " + q(s.at("l1")));
  EXPECT_NE(in.out.find("linear:        "), std::string::npos) << in.out;
  EXPECT_NE(in.out.find("zeros 50.0%"), std::string::npos) << in.out;
  EXPECT_NE(in.out.find("(stored sparse)"), std::string::npos) << in.out;
  // --dense writes the zeros as they are (Hugging Face reads it): a larger file, same tensors.
  ASSERT_EQ(run_cli("prune l1-unstructured --amount 0.5 --global --dense --model " + q(src) + " --out " + q(s.at("l1d"))).exit_code, 0);
  EXPECT_LT(fs::file_size(s.at("l1") + "/model.safetensors"), fs::file_size(s.at("l1d") + "/model.safetensors"));
  EXPECT_EQ(run_cli("inspect --tensors --model " + q(s.at("l1d"))).out.find("(stored sparse)"), std::string::npos);
  EXPECT_EQ(run_cli("embed --model " + q(s.at("l1d")), "a small test\n").out,
            run_cli("embed --model " + q(s.at("l1")), "a small test\n").out);
  EXPECT_NE(run_cli("inspect --model " + q(s.at("heads-list"))).out.find("heads:         2 (kept per layer: 1,1)"),
            std::string::npos);
  EXPECT_EQ(fingerprint(src), before) << "the input folder changed";
}

TEST(CliQuantize, DtypesWriteFoldersThatEmbedAndRefuseToStack) {
  Scratch s("quantize");
  const std::string src = model_dir("st-bert-uncased");
  for (const std::string args : {"--dtype int8", "--dtype int8 --embeddings int8", "--dtype fp16", "--dtype bf16",
                                 "--dtype int8 --skip pooler.dense.weight"}) {
    SCOPED_TRACE(args);
    const std::string out = s.at(std::to_string(std::hash<std::string>()(args)));
    const CommandResult r = run_cli("quantize " + args + " --model " + q(src) + " --out " + q(out));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find("quantized: "), std::string::npos);
    const CommandResult e = run_cli("embed --model " + q(out), "a small test\n");
    EXPECT_EQ(e.exit_code, 0) << e.err;
  }
  // inspect shows the kinds and, with --tensors, each tensor's dtype, shape, bytes and zeros.
  const std::string q8 = s.at(std::to_string(std::hash<std::string>()("--dtype int8 --embeddings int8")));
  const CommandResult in = run_cli("inspect --tensors --model " + q(q8));
  ASSERT_EQ(in.exit_code, 0) << in.err;
  for (const std::string want : {"embeddings:    3 tensors I8", "int8 scales:   ", "linear:        ", "norms:         ",
                                 "biases:        ", "tensors:\n", "embeddings.word_embeddings.weight",
                                 "embeddings.word_embeddings.weight.scale"}) {
    EXPECT_NE(in.out.find(want), std::string::npos) << want << " not in\n" << in.out;
  }
  // Prune, then quantize: fine. Quantized, then prune or quantize again: refused.
  ASSERT_EQ(run_cli("prune ffn --amount 0.5 --model " + q(src) + " --out " + q(s.at("p"))).exit_code, 0);
  ASSERT_EQ(run_cli("quantize --dtype int8 --model " + q(s.at("p")) + " --out " + q(s.at("pq"))).exit_code, 0);
  expect_one_line_error(run_cli("prune heads --amount 0.5 --model " + q(s.at("pq")) + " --out " + q(s.at("pqp"))),
                        {"quantized", "prune the float model first"});
  expect_one_line_error(run_cli("quantize --dtype int8 --model " + q(s.at("pq")) + " --out " + q(s.at("pqq"))),
                        {"already quantized"});
  EXPECT_FALSE(fs::exists(s.at("pqp")));
  // Export: the dense f32 folder embeds and holds no int8 or per-layer keys.
  const CommandResult x = run_cli("export --dtype f32 --model " + q(s.at("pq")) + " --out " + q(s.at("pqx")));
  ASSERT_EQ(x.exit_code, 0) << x.err;
  EXPECT_EQ(read_file(s.at("pqx") + "/config.json").find("intermediate_sizes"), std::string::npos);
  EXPECT_EQ(run_cli("embed --model " + q(s.at("pqx")), "a small test\n").exit_code, 0);
  expect_one_line_error(run_cli("export --dtype f16 --model " + q(s.at("pq")) + " --out " + q(s.at("pqy"))),
                        {"--dtype", "'f16'", "f32"});
}

TEST(CliExport, NeedsExactlyOneSource) {
  Scratch s("export");
  const std::string src = model_dir("st-bert-uncased");
  expect_one_line_error(run_cli("export --dtype f32 --out " + q(s.at("a"))), {"--model DIR or --config NAME"});
  expect_one_line_error(run_cli("export --dtype f32 --config bert-base --model " + q(src) + " --out " + q(s.at("a"))),
                        {"--model DIR or --config NAME"});
  expect_one_line_error(run_cli("export --dtype f32 --config nope --out " + q(s.at("a"))),
                        {"--config", "'nope'", "bert-base"});
  EXPECT_FALSE(fs::exists(s.at("a")));
}

TEST(CliPrune, BadOptionsAreOneLineAndExitTwo) {
  Scratch s("bad");
  const std::string src = model_dir("bert-tiny");
  const std::string m = " --model " + q(src) + " --out " + q(s.at("o"));
  expect_one_line_error(run_cli("prune l1-unstructured --amount 1" + m), {"--amount", "'1'", "[0, 1)"});
  expect_one_line_error(run_cli("prune l1-unstructured --amount -0.1" + m), {"--amount"});
  expect_one_line_error(run_cli("prune l1-unstructured --amount half" + m), {"--amount", "'half'"});
  expect_one_line_error(run_cli("prune l1-unstructured" + m), {"--amount"});
  expect_one_line_error(run_cli("prune l1-unstructured --amount 0.5 --scope all" + m), {"--scope", "'all'"});
  expect_one_line_error(run_cli("prune l1-unstructured --amount 0.5 --iterative 0" + m), {"--iterative"});
  expect_one_line_error(run_cli("prune l1-unstructured --amount 0.5 --heads 0:1" + m), {"--heads", "l1-unstructured"});
  expect_one_line_error(run_cli("prune magnitude --amount 0.5" + m), {"magnitude", "l1-unstructured, heads, ffn or layers"});
  expect_one_line_error(run_cli("prune heads --heads 0:9" + m), {"head 9", "out of range"});
  expect_one_line_error(run_cli("prune heads --heads 7:0" + m), {"layer 7", "out of range"});
  expect_one_line_error(run_cli("prune heads --heads 0:0,0:1,0:2,0:3" + m), {"at least one"});
  expect_one_line_error(run_cli("prune heads --heads 0-1" + m), {"--heads", "'0-1'"});
  expect_one_line_error(run_cli("prune heads --amount 0.5 --heads 0:1" + m), {"either --amount"});
  expect_one_line_error(run_cli("prune heads --amount 0.5 --global" + m), {"--global", "heads"});
  expect_one_line_error(run_cli("prune ffn --amount 0.5 --norm 3" + m), {"--norm"});
  expect_one_line_error(run_cli("prune layers --keep 0,0" + m), {"twice"});
  expect_one_line_error(run_cli("prune layers --drop 2" + m), {"--drop"});
  expect_one_line_error(run_cli("prune layers" + m), {"either --keep"});
  expect_one_line_error(run_cli("quantize --dtype int4" + m), {"--dtype", "'int4'", "int8, fp16 or bf16"});
  expect_one_line_error(run_cli("quantize --dtype int8 --embeddings int4" + m), {"--embeddings", "'int4'"});
  expect_one_line_error(run_cli("quantize --dtype int8 --skip nope" + m), {"--skip", "nope"});
  // Outputs: the input itself, inside it, a non-empty folder.
  expect_one_line_error(run_cli("prune ffn --amount 0.5 --model " + q(src) + " --out " + q(src)), {"input model folder"});
  expect_one_line_error(run_cli("quantize --dtype fp16 --model " + q(src) + " --out " + q(src + "/q")), {"input model folder"});
  fs::create_directories(s.at("full"));
  write_file(s.at("full/x"), "x");
  expect_one_line_error(run_cli("prune ffn --amount 0.5 --model " + q(src) + " --out " + q(s.at("full"))), {"not empty"});
  expect_one_line_error(run_cli("prune ffn --amount 0.5 --model " + q(s.at("none")) + " --out " + q(s.at("o"))), {"--model"});
  EXPECT_FALSE(fs::exists(s.at("o")));
}

TEST(CliPrune, HeadsByGradientImportanceOnScoredPairs) {
  Scratch s("heads-gradient");
  const std::string src = model_dir("st-bert-uncased");
  const std::string dev = shared_dir() + "/data/stsbenchmark/sts-dev.csv";
  const CommandResult r = run_cli("prune heads --amount 0.5 --data " + q(dev) + " --data-limit 40 --model " + q(src) +
                                  " --out " + q(s.at("g")));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("pruned: 2 attention heads removed (gradient importance on 40 pairs)"), std::string::npos) << r.out;
  // The folder holds the heads the library ranks lowest, and embeds.
  compress::ModelState m = compress::state_of(slimformer::Checkpoint(src));
  compress::HeadGradientOptions o;
  o.max_pairs = 40;
  const auto want = compress::heads_by_importance(
      m, compress::head_importance_by_gradient(src, slimformer::read_sts(dev), o).scores, 0.5);
  EXPECT_EQ(slimformer::Checkpoint(s.at("g")).config().pruned_heads, want);
  EXPECT_EQ(run_cli("embed --model " + q(s.at("g")), "a small test\n").exit_code, 0);
  // Without --data the weight norms choose, and the line says so.
  const CommandResult n = run_cli("prune heads --amount 0.5 --model " + q(src) + " --out " + q(s.at("n")));
  ASSERT_EQ(n.exit_code, 0) << n.err;
  EXPECT_NE(n.out.find("pruned: 2 attention heads removed (the lowest weight norms)"), std::string::npos) << n.out;
}

TEST(CliPrune, BadDataForGradientImportanceIsOneLine) {
  Scratch s("heads-gradient-bad");
  const std::string src = model_dir("st-bert-uncased");
  const std::string dev = shared_dir() + "/data/stsbenchmark/sts-dev.csv";
  const std::string m = " --model " + q(src) + " --out " + q(s.at("o"));
  expect_one_line_error(run_cli("prune heads --amount 0.5 --data " + q(s.at("absent.csv")) + m),
                        {"--data", s.at("absent.csv"), "scored sentence pairs"});
  write_file(s.at("text.txt"), "A sentence without a score.\nAnother one.\n");
  expect_one_line_error(run_cli("prune heads --amount 0.5 --data " + q(s.at("text.txt")) + m),
                        {"--data", s.at("text.txt"), "scored sentence pairs"});
  expect_one_line_error(run_cli("prune heads --heads 0:1 --data " + q(dev) + m), {"--data", "--heads"});
  expect_one_line_error(run_cli("prune heads --amount 0.5 --data-limit 5" + m), {"--data-limit", "--data FILE"});
  expect_one_line_error(run_cli("prune heads --amount 0.5 --data-limit 0 --data " + q(dev) + m), {"--data-limit"});
  expect_one_line_error(run_cli("prune ffn --amount 0.5 --data " + q(dev) + m), {"--data", "ffn"});
  // A classifier folder: the loss is defined on sentence embeddings.
  auto tensors = prefixed_tensors("st-bert-uncased", "bert.");
  tensors["classifier.weight"] = random_tensor({2, 16}, 1);
  tensors["classifier.bias"] = random_tensor({2}, 2);
  const nlohmann::json edits = {{"architectures", {"BertForSequenceClassification"}}, {"num_labels", 2}};
  const std::string cls = write_model_folder(fixture_config("st-bert-uncased", edits), tensors, "st-bert-uncased");
  expect_one_line_error(run_cli("prune heads --amount 0.5 --data " + q(dev) + " --model " + q(cls) + " --out " + q(s.at("c"))),
                        {cls, "BertForSequenceClassification", "sentence embedding"});
  EXPECT_FALSE(fs::exists(s.at("o")));
  EXPECT_FALSE(fs::exists(s.at("c")));
  fs::remove_all(cls);
}
