// The command line's attention side: --attention on embed and bench, bench --attention-only, and
// attention-pattern. Only `full` is assumed registered, except where a test names the mechanism it
// needs: such a test fails (it does not skip) until that mechanism is registered.
#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "cli_test_util.h"

using namespace slimtest;

namespace {

const std::string kSt = model_dir("st-bert-uncased");
const std::string kTiny = model_dir("bert-tiny");

// Nothing but `expected` in the folder: no temporary files or folders left behind.
void expect_only(const std::string& dir, const std::vector<std::string>& expected) {
  std::vector<std::string> found;
  for (const auto& e : std::filesystem::directory_iterator(dir)) found.push_back(e.path().filename().string());
  std::sort(found.begin(), found.end());
  std::vector<std::string> want = expected;
  std::sort(want.begin(), want.end());
  EXPECT_EQ(found, want);
}

nlohmann::json records(const std::string& path) { return nlohmann::json::parse(read_file(path)).at("records"); }

}  // namespace

// ---- embed and bench with --attention ----

TEST(CliAttention, EmbedWithExactEqualsTheModelDefault) {
  const std::string text = "A man is eating food.\nA man is riding a horse.\n\nshort\n";
  const CommandResult plain = run_cli("embed --model " + q(kSt) + " --threads 1", text);
  const CommandResult exact = run_cli("embed --model " + q(kSt) + " --threads 1 --attention exact", text);
  const CommandResult full = run_cli("embed --model " + q(kSt) + " --threads 1 --attention full", text);
  ASSERT_EQ(plain.exit_code, 0) << plain.err;
  ASSERT_EQ(exact.exit_code, 0) << exact.err;
  ASSERT_EQ(full.exit_code, 0) << full.err;
  EXPECT_EQ(std::count(exact.out.begin(), exact.out.end(), '\n'), 4);
  EXPECT_EQ(exact.out, plain.out);   // a dense BERT runs `exact` by default: the same numbers
  EXPECT_NE(full.out, plain.out) << "full rounds differently, so the flag is really applied";
}

TEST(CliAttention, BenchRecordsTheMechanismRun) {
  const std::string dir = make_temp_dir();
  const CommandResult r = run_cli("bench --model " + q(kTiny) + " --attention full --seq-lens 5 --batch-sizes 1 "
                                  "--runs 1 --warmup 0 --threads 1 --json " + q(dir + "/r.json") + " --csv " +
                                  q(dir + "/r.csv"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const nlohmann::json recs = records(dir + "/r.json");
  ASSERT_EQ(recs.size(), 1u);
  EXPECT_EQ(recs[0].at("attention"), "full");
  EXPECT_TRUE(recs[0].at("na_reason").is_null());
  EXPECT_NE(read_file(dir + "/r.csv").find("," + std::string("full") + ",inference,1,5,"), std::string::npos);

}

// Needs `exact` registered: the record names the mechanism given, with its defaults filled in, not
// the model's own (full).
TEST(CliAttention, BenchRunsTheGivenMechanism) {
  const std::string dir = make_temp_dir();
  const CommandResult r = run_cli("bench --model " + q(kTiny) + " --attention exact:tile=16 --seq-lens 5 "
                                  "--batch-sizes 1 --runs 1 --warmup 0 --threads 1 --json " + q(dir + "/r.json"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string attention = records(dir + "/r.json")[0].at("attention");
  EXPECT_EQ(attention.rfind("exact", 0), 0u) << attention;
  EXPECT_NE(attention.find("tile=16"), std::string::npos) << attention;
}

TEST(CliAttention, BadSpecsAreOneLineErrors) {
  const std::string m = " --model " + q(kSt);
  expect_one_line_error(run_cli("embed" + m + " --attention nosuch", "hi\n"),
                        {"--attention", "unknown attention mechanism 'nosuch'", "full"});
  expect_one_line_error(run_cli("embed" + m + " --attention full:window=3", "hi\n"), {"--attention", "window"});
  expect_one_line_error(run_cli("embed" + m + " --attention 'full+'", "hi\n"), {"--attention", "empty part"});
  expect_one_line_error(run_cli("bench --config minilm-l6 --attention 'full:x'"), {"--attention", "key=value"});
  expect_one_line_error(run_cli("bench --model " + q(kTiny) + " --seq-lens 8 --attention nosuch"),
                        {"--attention", "nosuch"});
  expect_one_line_error(run_cli("bench --attention-only --attention nosuch --seq-lens 8"), {"--attention", "nosuch"});
}

TEST(CliAttention, AttentionOnlyFlagsAreChecked) {
  expect_one_line_error(run_cli("bench --attention-only --seq-lens 8"), {"--attention-only", "--attention"});
  expect_one_line_error(run_cli("bench --attention-only --attention full --config minilm-l6"),
                        {"--attention-only", "--config"});
  expect_one_line_error(run_cli("bench --config minilm-l6 --heads 4"), {"--heads", "--attention-only"});
  expect_one_line_error(run_cli("bench --attention-only --attention full --heads 0"), {"--heads", "'0'"});
  expect_one_line_error(run_cli("bench --attention-only --attention full --head-dim x"), {"--head-dim", "'x'"});
  expect_one_line_error(run_cli("bench --attention-only --attention full --seq-lens 0"), {"--seq-lens", "'0'"});
  expect_one_line_error(run_cli("bench --attention-only --attention full --max-memory 12Q"), {"--max-memory", "'12Q'"});
  expect_one_line_error(run_cli("bench --attention-only --attention full --max-memory 0"), {"--max-memory"});
}

// ---- bench --attention-only ----

TEST(CliAttention, AttentionOnlyWritesRecords) {
  const std::string dir = make_temp_dir();
  const CommandResult r = run_cli("bench --attention-only --attention full --seq-lens 7,33 --batch-sizes 1,2 "
                                  "--heads 2 --head-dim 8 --runs 2 --warmup 1 --threads 1 --json " +
                                  q(dir + "/r.json") + " --csv " + q(dir + "/r.csv"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 4) << r.err;   // a progress line per cell
  EXPECT_EQ(r.err.rfind("[1/4] attention-only 2x8, batch 1, 7 tokens: ", 0), 0u) << r.err;
  const nlohmann::json recs = records(dir + "/r.json");
  ASSERT_EQ(recs.size(), 4u);
  const std::vector<std::pair<int64_t, int64_t>> cells = {{1, 7}, {1, 33}, {2, 7}, {2, 33}};
  for (size_t i = 0; i < cells.size(); ++i) {
    const auto& rec = recs[i];
    SCOPED_TRACE(rec.dump());
    const auto [b, t] = cells[i];
    EXPECT_EQ(rec.size(), 16u);
    EXPECT_EQ(rec.at("model"), "attention-only 2x8");
    EXPECT_EQ(rec.at("attention"), "full");
    EXPECT_EQ(rec.at("batch"), b);
    EXPECT_EQ(rec.at("seq"), t);
    EXPECT_EQ(rec.at("threads"), 1);
    EXPECT_EQ(rec.at("runs"), 2);
    EXPECT_EQ(rec.at("warmup"), 1);
    const double lo = rec.at("min_ms"), med = rec.at("median_ms"), hi = rec.at("max_ms");
    EXPECT_GT(lo, 0);
    EXPECT_LE(lo, med);
    EXPECT_LE(med, hi);
    // At least Q/K/V (3 x 16 floats a row), the output (16 a row) and full's (2, t, t) scores.
    const uint64_t floats = static_cast<uint64_t>(b * t * (3 * 16 + 16) + 2 * t * t);
    EXPECT_GE(rec.at("peak_activation_bytes").get<uint64_t>(), floats * 4);
    EXPECT_EQ(rec.at("weights_bytes"), 0);
    EXPECT_GT(rec.at("peak_rss_bytes").get<uint64_t>(), 0u);
    EXPECT_TRUE(rec.at("na_reason").is_null());
  }
  const std::string csv = read_file(dir + "/r.csv");
  EXPECT_EQ(csv.rfind("model,config,attention,mode,batch,seq,", 0), 0u);
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 5);
  size_t rows = 0;   // each cell in both tables
  for (size_t at = r.out.find("attention-only 2x8"); at != std::string::npos; at = r.out.find("attention-only 2x8", at + 1)) ++rows;
  EXPECT_EQ(rows, 8u) << r.out;
  EXPECT_EQ(r.out.find("N/A"), std::string::npos) << r.out;
}

// full at 1024 tokens holds 12 x 1024 x 1024 floats of scores (48 MiB) at once; with a 16 MiB
// limit that cell is N/A and the run goes on, exit 0.
TEST(CliAttention, AttentionOnlyCellOverTheLimitIsNA) {
  const std::string dir = make_temp_dir();
  const CommandResult r = run_cli("bench --attention-only --attention full --seq-lens 16,1024 --max-memory 16M "
                                  "--runs 1 --warmup 0 --threads 1 --json " + q(dir + "/r.json") + " --csv " +
                                  q(dir + "/r.csv"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const nlohmann::json recs = records(dir + "/r.json");
  ASSERT_EQ(recs.size(), 2u);
  EXPECT_TRUE(recs[0].at("na_reason").is_null());
  EXPECT_GT(recs[0].at("median_ms").get<double>(), 0);
  const auto& na = recs[1];
  EXPECT_EQ(na.at("seq"), 1024);
  EXPECT_EQ(na.at("attention"), "full");
  EXPECT_EQ(na.at("na_reason"), "out of memory (limit 16.0 MiB)");
  for (const char* k : {"median_ms", "min_ms", "max_ms", "peak_activation_bytes"}) EXPECT_TRUE(na.at(k).is_null()) << k;
  EXPECT_NE(read_file(dir + "/r.csv").find(",,,,0,"), std::string::npos);
  EXPECT_NE(r.out.find("N/A cells:"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("out of memory (limit 16.0 MiB)"), std::string::npos) << r.out;
}

TEST(CliAttention, ModelCellOverTheLimitIsNA) {
  const std::string dir = make_temp_dir();
  const CommandResult r = run_cli("bench --model " + q(kTiny) + " --seq-lens 5 --batch-sizes 1,2 --max-memory 1K "
                                  "--runs 1 --warmup 0 --threads 1 --json " + q(dir + "/r.json"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const nlohmann::json recs = records(dir + "/r.json");
  ASSERT_EQ(recs.size(), 2u);
  // The larger batch needs more than the cell that ran out: skipped, naming that cell.
  EXPECT_EQ(recs[0].at("na_reason"), "out of memory (limit 1.0 KiB)");
  EXPECT_EQ(recs[1].at("na_reason"), "skipped: batch 1 x 5 tokens already ran out of memory");
  for (const auto& rec : recs) {
    EXPECT_TRUE(rec.at("median_ms").is_null());
    EXPECT_EQ(rec.at("weights_bytes").get<uint64_t>(), 176576u * 4);   // known without running
  }
}

// ---- attention-pattern ----

TEST(CliAttentionPattern, WritesPngAndSvg) {
  const std::string dir = make_temp_dir();
  const CommandResult png = run_cli("attention-pattern --attention full --seq-len 16 --output " + q(dir + "/p.png"));
  ASSERT_EQ(png.exit_code, 0) << png.err;
  EXPECT_EQ(png.out + png.err, "");
  EXPECT_EQ(read_file(dir + "/p.png").substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8));
  const CommandResult svg = run_cli("attention-pattern --attention full --seq-len 40 --layer 3 --output " +
                                    q(dir + "/p.SVG"));
  ASSERT_EQ(svg.exit_code, 0) << svg.err;
  const std::string text = read_file(dir + "/p.SVG");
  EXPECT_TRUE(text.rfind("<?xml", 0) == 0 || text.rfind("<svg", 0) == 0) << text.substr(0, 80);
  EXPECT_NE(text.find("</svg>"), std::string::npos);
  EXPECT_NE(text.find("layer 3"), std::string::npos);   // the title says what is drawn
  expect_only(dir, {"p.png", "p.SVG"});
}

// 4096 tokens: drawn at 1024 cells a side, 4 x 4 tokens a pixel, which the title says.
TEST(CliAttentionPattern, LongSequencesAreReducedAndSaySo) {
  const std::string dir = make_temp_dir();
  const CommandResult r = run_cli("attention-pattern --attention full --seq-len 4096 --output " + q(dir + "/p.svg"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string text = read_file(dir + "/p.svg");
  EXPECT_NE(text.find("each pixel: 4 x 4 tokens"), std::string::npos);
  EXPECT_LT(text.size(), 2u << 20);   // one embedded image, not a rectangle per cell
}

TEST(CliAttentionPattern, BadParametersAreOneLineErrors) {
  const std::string dir = make_temp_dir();
  const std::string out = " --output " + q(dir + "/p.png");
  expect_one_line_error(run_cli("attention-pattern --attention nosuch --seq-len 8" + out),
                        {"--attention", "unknown attention mechanism 'nosuch'", "full"});
  expect_one_line_error(run_cli("attention-pattern --attention full:window=2 --seq-len 8" + out),
                        {"--attention", "unknown key 'window'"});
  expect_one_line_error(run_cli("attention-pattern --attention 'full+' --seq-len 8" + out), {"--attention"});
  expect_one_line_error(run_cli("attention-pattern --attention full --seq-len 0" + out), {"--seq-len", "'0'"});
  expect_one_line_error(run_cli("attention-pattern --attention full --seq-len -4" + out), {"--seq-len"});
  expect_one_line_error(run_cli("attention-pattern --attention full --seq-len 40000" + out), {"--seq-len", "32768"});
  expect_one_line_error(run_cli("attention-pattern --attention full --seq-len 8 --layer 12" + out), {"--layer", "'12'"});
  expect_one_line_error(run_cli("attention-pattern --attention full --seq-len 8 --output " + q(dir + "/p.jpg")),
                        {"--output", "p.jpg", ".png or .svg"});
  expect_one_line_error(run_cli("attention-pattern --attention full --seq-len 8 --output " + q(dir + "/no/p.png")),
                        {"--output", "temporary folder"});
  expect_one_line_error(run_cli("attention-pattern --attention full --seq-len 8"), {"--output", "required"});
  expect_one_line_error(run_cli("attention-pattern --seq-len 8" + out), {"--attention", "required"});
  expect_only(dir, {});
}

TEST(CliAttentionPattern, GnuplotMissingOrFailingIsAnErrorAndWritesNothing) {
  const std::string dir = make_temp_dir();
  const std::string args = "attention-pattern --attention full --seq-len 8 --output " + q(dir + "/p.png");
  {
    ScopedEnv env("SLIMFORMER_GNUPLOT", "/no/such/gnuplot");
    expect_one_line_error(run_cli(args), {"--output", "gnuplot not found", "gnuplot-nox"});
  }
  {
    ScopedEnv env("SLIMFORMER_GNUPLOT", "/bin/false");   // starts, then fails
    expect_one_line_error(run_cli(args), {"gnuplot failed", "exit code 1"});
  }
  expect_only(dir, {});
}

// Needs `sliding` registered: a window that is not positive is refused by the mechanism, not
// taken for an unknown name or key.
TEST(CliAttentionPattern, NonPositiveWindowIsRefused) {
  const std::string dir = make_temp_dir();
  const CommandResult r = run_cli("attention-pattern --attention sliding:window=0 --seq-len 8 --output " +
                                  q(dir + "/p.png"));
  expect_one_line_error(r, {"--attention", "window"});
  EXPECT_EQ(r.err.find("unknown"), std::string::npos) << r.err;
}

// Linformer cannot project n keys onto more than n rows: k > n is refused, not drawn.
TEST(CliAttentionPattern, ProjectionLargerThanTheSequenceIsRefused) {
  const std::string dir = make_temp_dir();
  const CommandResult r = run_cli("attention-pattern --attention linformer:k=100 --seq-len 16 --output " +
                                  q(dir + "/p.png"));
  expect_one_line_error(r, {"k=100", "n=16"});
}

// Needs `sliding` and `global` registered: a combined spec is drawn and titled as run.
TEST(CliAttentionPattern, CombinedSpecIsDrawnAndTitledAsRun) {
  const std::string dir = make_temp_dir();
  const CommandResult r = run_cli("attention-pattern --attention sliding:window=4+global:first=1 --seq-len 32 "
                                  "--output " + q(dir + "/p.svg"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string text = read_file(dir + "/p.svg");
  EXPECT_NE(text.find("sliding:window=4"), std::string::npos);
  EXPECT_NE(text.find("+global:first=1"), std::string::npos);
  EXPECT_NE(text.find("n = 32, layer 0"), std::string::npos);
}
