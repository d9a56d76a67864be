// Writes that fail are errors, and special files are written in place: every subcommand that
// prints exits 2 with one line when stdout is full (/dev/full), and an output path that is a
// device, a FIFO, /dev/stdout or a symlink is written through, never renamed over.
#include <sys/stat.h>

#include <filesystem>

#include "cli_process_util.h"

namespace {

namespace fs = std::filesystem;
using namespace slimtest;

std::string st_bert() { return model_dir("st-bert-uncased"); }

// `slimformer args` with stdout on /dev/full: exit 2 and one error line, the last, that says so
// (progress lines of bench and eval may come before it).
void expect_full_stdout_is_an_error(const std::string& args) {
  SCOPED_TRACE(args);
  const CommandResult r = run_shell(q(binary()) + " " + args + " </dev/null >/dev/full");
  EXPECT_EQ(r.exit_code, 2) << r.err;
  const std::string line = "slimformer: error: writing standard output: No space left on device\n";
  EXPECT_TRUE(r.err.size() >= line.size() && r.err.compare(r.err.size() - line.size(), line.size(), line) == 0) << r.err;
  EXPECT_EQ(r.err.find("slimformer: error: "), r.err.rfind("slimformer: error: ")) << r.err;
}

TEST(CliOutputsStreams, FullStdoutIsAnErrorForEveryCommandThatPrints) {
  const std::string dir = make_temp_dir();
  write_file(dir + "/texts.txt", "a text\nanother one\n");
  const std::string texts = " --input " + q(dir + "/texts.txt");
  const CommandResult bench = run_cli("bench --model " + q(model_dir("bert-tiny")) +
                                      " --seq-lens 4 --batch-sizes 1 --runs 1 --warmup 0 --threads 1 --json " +
                                      q(dir + "/r.json"));
  ASSERT_EQ(bench.exit_code, 0) << bench.err;
  expect_full_stdout_is_an_error("embed --model " + q(st_bert()) + texts);
  expect_full_stdout_is_an_error("embed --model " + q(st_bert()) + texts + " --format npy");
  expect_full_stdout_is_an_error("tokenize --model " + q(st_bert()) + texts);
  expect_full_stdout_is_an_error("inspect --model " + q(st_bert()));
  expect_full_stdout_is_an_error("bench compare " + q(dir + "/r.json") + " " + q(dir + "/r.json"));
  expect_full_stdout_is_an_error("bench --model " + q(model_dir("bert-tiny")) +
                                 " --seq-lens 4 --batch-sizes 1 --runs 1 --warmup 0 --threads 1");
  expect_full_stdout_is_an_error("eval --task stsb --max-pairs 8 --data " +
                                 q(shared_dir() + "/data/stsbenchmark/sts-dev.csv") + " --model " + q(st_bert()));
  expect_full_stdout_is_an_error("quantize --dtype fp16 --model " + q(st_bert()) + " --out " + q(dir + "/q"));
  expect_full_stdout_is_an_error("--version");
  expect_full_stdout_is_an_error("embed --help");
  // The same runs succeed where stdout has room.
  EXPECT_EQ(run_shell(q(binary()) + " inspect --model " + q(st_bert()) + " >/dev/null").exit_code, 0);
}

// What `embed` writes for the texts file, through a regular --output file.
std::string expected_embeddings(const std::string& dir) {
  const CommandResult r = run_cli("embed --model " + q(st_bert()) + " --input " + q(dir + "/texts.txt") + " --output " +
                                  q(dir + "/plain.jsonl"));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return read_file(dir + "/plain.jsonl");
}

TEST(CliOutputsStreams, SpecialFilesAreWrittenInPlace) {
  const std::string dir = make_temp_dir();
  write_file(dir + "/texts.txt", "a text\nanother one\n");
  const std::string want = expected_embeddings(dir);
  ASSERT_FALSE(want.empty());
  const std::string embed = q(binary()) + " embed --model " + q(st_bert()) + " --input " + q(dir + "/texts.txt");
  // /dev/stdout and /proc/self/fd/1: the bytes reach stdout, /dev/stdout stays a symlink.
  for (const char* target : {"/dev/stdout", "/proc/self/fd/1", "/dev/fd/1"}) {
    SCOPED_TRACE(target);
    const CommandResult r = run_shell(embed + " --output " + std::string(target) + " >" + q(dir + "/via-stdout.jsonl"));
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(read_file(dir + "/via-stdout.jsonl"), want);
    EXPECT_TRUE(fs::is_symlink("/dev/stdout"));
    EXPECT_TRUE(hidden_entries(dir).empty());
  }
  // Appending stays appending: the descriptor itself is written, not the file reopened.
  write_file(dir + "/appended.jsonl", "first\n");
  EXPECT_EQ(run_shell(embed + " --output /dev/stdout >>" + q(dir + "/appended.jsonl")).exit_code, 0);
  EXPECT_EQ(read_file(dir + "/appended.jsonl"), "first\n" + want);
  // A device: /dev/null stays the device.
  EXPECT_EQ(run_shell(embed + " --output /dev/null").exit_code, 0);
  EXPECT_TRUE(fs::is_character_file("/dev/null"));
  // A FIFO: its reader gets the bytes, the FIFO stays a FIFO, nothing is left beside it.
  ASSERT_EQ(::mkfifo((dir + "/fifo").c_str(), 0600), 0);
  const CommandResult fifo = run_shell("cat " + q(dir + "/fifo") + " >" + q(dir + "/from-fifo.jsonl") + " & " + embed +
                                       " --output " + q(dir + "/fifo") + "; status=$?; wait; exit $status");
  EXPECT_EQ(fifo.exit_code, 0) << fifo.err;
  EXPECT_EQ(read_file(dir + "/from-fifo.jsonl"), want);
  EXPECT_TRUE(fs::is_fifo(dir + "/fifo"));
  // A symlink to a regular file: the file it points to is replaced, the link stays a link.
  fs::create_directory(dir + "/real");
  write_file(dir + "/real/out.jsonl", "old\n");
  fs::create_symlink(dir + "/real/out.jsonl", dir + "/link.jsonl");
  EXPECT_EQ(run_shell(embed + " --output " + q(dir + "/link.jsonl")).exit_code, 0);
  EXPECT_TRUE(fs::is_symlink(dir + "/link.jsonl"));
  EXPECT_EQ(read_file(dir + "/real/out.jsonl"), want);
  EXPECT_TRUE(hidden_entries(dir).empty());
}

TEST(CliOutputsStreams, BenchRecordsToStdoutAndFiguresThroughLinks) {
  const std::string dir = make_temp_dir();
  const CommandResult r = run_shell(q(binary()) + " bench --model " + q(model_dir("bert-tiny")) +
                                    " --seq-lens 4 --batch-sizes 1 --runs 1 --warmup 0 --threads 1 --json /dev/stderr"
                                    " >/dev/null");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("\"records\""), std::string::npos) << r.err;
  EXPECT_TRUE(fs::is_symlink("/dev/stderr"));
  // attention-pattern through a symlink: the figure replaces the file it points to.
  write_file(dir + "/real.svg", "old");
  fs::create_symlink(dir + "/real.svg", dir + "/link.svg");
  const CommandResult p = run_cli("attention-pattern --attention full --seq-len 8 --output " + q(dir + "/link.svg"));
  EXPECT_EQ(p.exit_code, 0) << p.err;
  EXPECT_TRUE(fs::is_symlink(dir + "/link.svg"));
  EXPECT_NE(read_file(dir + "/real.svg").find("</svg>"), std::string::npos);
  EXPECT_TRUE(hidden_entries(dir).empty());
}

}  // namespace
