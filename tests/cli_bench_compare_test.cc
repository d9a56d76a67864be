// slimformer bench compare end to end: two record files in, the comparison on stdout; a wrong
// number of files or a bad file is one line on stderr and exit code 2.
#include "cli_test_util.h"
#include "slimformer/bench.h"

using namespace slimtest;
using slimformer::bench::BenchRecord;

namespace {

BenchRecord cell(int64_t seq, double ms, size_t peak_mib) {
  BenchRecord r;
  r.model = "minilm-l6";
  r.config = "minilm-l6";
  r.attention = "exact:tile=256";
  r.batch = 1;
  r.seq = seq;
  r.threads = 2;
  r.runs = 3;
  r.median_ms = r.min_ms = r.max_ms = ms;
  r.peak_activation_bytes = peak_mib << 20;
  return r;
}

// Two record files in a fresh folder: before (128 and 512 tokens) and after (twice as fast at
// 128, a quarter of the memory at 512).
std::string write_pair() {
  const std::string dir = make_temp_dir();
  slimformer::bench::write_json(dir + "/old.json", {cell(128, 10, 8), cell(512, 40, 32)});
  slimformer::bench::write_json(dir + "/new.json", {cell(128, 5, 8), cell(512, 40, 8)});
  return dir;
}

}  // namespace

TEST(CliBenchCompare, PrintsTheComparison) {
  const std::string dir = write_pair();
  const CommandResult r = run_cli("bench compare " + q(dir + "/old.json") + " " + q(dir + "/new.json"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  EXPECT_EQ(r.out,
            "model      attention       batch  seq  before ms  after ms   time  before MiB  after MiB  memory\n"
            "minilm-l6  exact:tile=256      1  128      10.00      5.00  0.50x         8.0        8.0   1.00x\n"
            "minilm-l6  exact:tile=256      1  512      40.00     40.00  1.00x        32.0        8.0   0.25x\n"
            "geometric mean of after/before over 2 cells measured on both sides: time 0.71x, memory 0.50x\n");
}

TEST(CliBenchCompare, WrongNumberOfFiles) {
  const std::string dir = write_pair();
  const std::string old_json = q(dir + "/old.json"), new_json = q(dir + "/new.json");
  expect_one_line_error(run_cli("bench compare " + old_json), {"exactly two files", "got 1"});
  expect_one_line_error(run_cli("bench compare"), {"exactly two files", "got 0"});
  expect_one_line_error(run_cli("bench compare " + old_json + " " + new_json + " " + new_json),
                        {"exactly two files", "got 3"});
}

TEST(CliBenchCompare, BadFiles) {
  const std::string dir = write_pair();
  expect_one_line_error(run_cli("bench compare " + q(dir + "/old.json") + " " + q(dir + "/missing.json")),
                        {dir + "/missing.json"});
  write_file(dir + "/text.json", "median 10 ms\n");
  expect_one_line_error(run_cli("bench compare " + q(dir + "/text.json") + " " + q(dir + "/new.json")),
                        {dir + "/text.json", "not valid JSON"});
  write_file(dir + "/bad.json", "{\"records\": [{\"model\": \"m\"}]}");
  expect_one_line_error(run_cli("bench compare " + q(dir + "/old.json") + " " + q(dir + "/bad.json")),
                        {dir + "/bad.json", "records[0]"});
}

TEST(CliBenchCompare, RefusesTheFlagsOfARun) {
  const std::string dir = write_pair();
  expect_one_line_error(run_cli("bench --config bert-base compare " + q(dir + "/old.json") + " " + q(dir + "/new.json")),
                        {"compare", "--config"});
}
