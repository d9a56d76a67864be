// Nothing is left behind: a run killed by SIGINT or SIGTERM removes its temporary files and
// folders, stops the gnuplot it started, and still dies by that signal; a write past a file-size
// limit is one error line with its temporary file removed; a figure that fails costs only the
// figures, never the data files or a partial figure.
#include <cerrno>
#include <filesystem>

#include "cli_process_util.h"

namespace {

namespace fs = std::filesystem;
using namespace slimtest;

const std::string kFastGrid = " --seq-lens 4 --batch-sizes 1 --runs 1 --warmup 0 --threads 1";

// Waits for `pid`; its wait status.
int wait_status(pid_t pid) {
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return status;
}

bool has_temp_file(const std::string& dir) {
  for (const std::string& name : listing(dir)) {
    if (name.find(".tmp-") != std::string::npos) return true;
  }
  return false;
}

TEST(CliOutputsSignals, EmbedKilledLeavesNoTemporaryFile) {
  const std::string inputs = make_temp_dir();
  std::string texts;
  for (int i = 0; i < 200000; ++i) texts += "sentence number " + std::to_string(i) + " of a long input\n";
  write_file(inputs + "/texts.txt", texts);
  for (const int sig : {SIGINT, SIGTERM}) {
    SCOPED_TRACE(sig);
    const std::string dir = make_temp_dir();
    const pid_t pid = spawn_cli({"embed", "--model", model_dir("st-bert-uncased"), "--input", inputs + "/texts.txt",
                                 "--output", dir + "/out.jsonl", "--threads", "1"},
                                inputs + "/stdout", inputs + "/stderr");
    ASSERT_GT(pid, 0);
    const bool started = wait_until([&] { return has_temp_file(dir); }, 60);
    ::kill(pid, sig);
    const int status = wait_status(pid);
    ASSERT_TRUE(started) << read_file(inputs + "/stderr");
    EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == sig) << "wait status " << status << ": "
                                                                 << read_file(inputs + "/stderr");
    EXPECT_EQ(listing(dir), std::vector<std::string>{});
  }
}

// Runs bench with a "gnuplot" that records its pid and then hangs when called with `hang_on`
// ("--version": the environment probe; "draw": the figures), kills bench with `sig` once it hangs,
// and checks: killed by that signal, that "gnuplot" gone, no temporary left in `dir`.
void kill_bench_while_gnuplot_hangs(const std::string& dir, const std::string& hang_on, int sig) {
  const std::string tools = make_temp_dir();
  const std::string hang = "echo $$ > '" + tools + "/pid.tmp'\nmv '" + tools + "/pid.tmp' '" + tools + "/pid'\nexec sleep 120\n";
  write_file(tools + "/gnuplot", "#!/bin/sh\nif [ \"$1\" = --version ]; then\n" +
                                     (hang_on == "--version" ? hang : "echo 'gnuplot 5.4 stand-in'\nexit 0\n") +
                                     "fi\n" + (hang_on == "draw" ? hang : "exit 1\n"));
  fs::permissions(tools + "/gnuplot", fs::perms::owner_all);
  const ScopedEnv env("SLIMFORMER_GNUPLOT", tools + "/gnuplot");
  const pid_t pid = spawn_cli({"bench", "--model", model_dir("bert-tiny"), "--seq-lens", "4", "--batch-sizes", "1",
                               "--runs", "1", "--warmup", "0", "--threads", "1", "--json", dir + "/records.json",
                               "--output-dir", dir + "/results"},
                              tools + "/stdout", tools + "/stderr");
  ASSERT_GT(pid, 0);
  const bool hanging = wait_until([&] { return fs::exists(tools + "/pid"); }, 60);
  ::kill(pid, sig);
  const int status = wait_status(pid);
  ASSERT_TRUE(hanging) << read_file(tools + "/stderr");
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == sig) << "wait status " << status;
  const pid_t gnuplot = std::stoi(read_file(tools + "/pid"));
  EXPECT_TRUE(wait_until([&] { return ::kill(gnuplot, 0) != 0 && errno == ESRCH; }, 5)) << "gnuplot still runs";
  if (::kill(gnuplot, 0) == 0) ::kill(gnuplot, SIGKILL);
  EXPECT_EQ(hidden_entries(dir), std::vector<std::string>{});
}

TEST(CliOutputsSignals, BenchKilledWhileDrawingStopsGnuplotAndKeepsItsData) {
  const std::string dir = make_temp_dir();
  kill_bench_while_gnuplot_hangs(dir, "draw", SIGINT);
  // The data files were complete before any figure was drawn; no figure is there.
  EXPECT_NE(read_file(dir + "/records.json").find("\"records\""), std::string::npos);
  EXPECT_EQ(listing(dir + "/results"), (std::vector<std::string>{"report.txt", "results.csv", "results.json"}));
}

TEST(CliOutputsSignals, BenchKilledWhileAskingGnuplotItsVersionLeavesNothing) {
  const std::string dir = make_temp_dir();
  kill_bench_while_gnuplot_hangs(dir, "--version", SIGTERM);
  EXPECT_EQ(listing(dir), std::vector<std::string>{});   // the results folder it made, empty, goes too
}

TEST(CliOutputsSignals, FileSizeLimitIsOneErrorLine) {
  const std::string inputs = make_temp_dir(), dir = make_temp_dir();
  std::string texts;
  for (int i = 0; i < 100; ++i) texts += "text " + std::to_string(i) + "\n";
  write_file(inputs + "/texts.txt", texts);
  // ulimit -f counts 1024-byte blocks: 100 embeddings of 16 numbers (20 KB) are far more than 8.
  // Not 1: LLVM's OpenMP runtime (the clang build's) sizes a registration file in /dev/shm at
  // start and dies (SIGBUS) when it cannot.
  const CommandResult r = run_shell("ulimit -f 8; exec " + q(binary()) + " embed --model " +
                                    q(model_dir("st-bert-uncased")) + " --input " + q(inputs + "/texts.txt") +
                                    " --output " + q(dir + "/out.jsonl"));
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_NE(r.err.find("File too large"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("out.jsonl"), std::string::npos) << r.err;
  EXPECT_EQ(listing(dir), std::vector<std::string>{});
}

TEST(CliOutputsSignals, FailedFigureLeavesDataAndNoPartialFigure) {
  // A "gnuplot" that writes figures cut short (a full disk it did not notice) and exits 0.
  const std::string tools = make_temp_dir(), dir = make_temp_dir();
  write_file(tools + "/gnuplot",
             "#!/bin/sh\n[ \"$1\" = --version ] && exit 0\nfor f in speed memory; do printf '\\211PNG\\r\\n' > $f.png; printf '<svg' > $f.svg; done\n");
  fs::permissions(tools + "/gnuplot", fs::perms::owner_all);
  const ScopedEnv env("SLIMFORMER_GNUPLOT", tools + "/gnuplot");
  const CommandResult r = run_cli("bench --model " + q(model_dir("bert-tiny")) + kFastGrid + " --output-dir " + q(dir));
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_EQ(r.out, "");   // the summary comes after the figures
  const size_t error = r.err.find("slimformer: error: ");   // after the progress lines, the one error line
  ASSERT_NE(error, std::string::npos) << r.err;
  const std::string line = r.err.substr(error);
  EXPECT_EQ(std::count(line.begin(), line.end(), '\n'), 1) << r.err;
  EXPECT_NE(line.find("incomplete figure"), std::string::npos) << r.err;
  EXPECT_NE(line.find("speed.png"), std::string::npos) << r.err;
  EXPECT_EQ(listing(dir), (std::vector<std::string>{"report.txt", "results.csv", "results.json"}));
  EXPECT_NE(read_file(dir + "/results.json").find("\"records\""), std::string::npos);
}

}  // namespace
