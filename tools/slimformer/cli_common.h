// What every subcommand shares: flag value parsing with messages that name the flag, the input
// lines (stdin or a file), and the output (stdout or a file written atomically).
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "slimformer/attention.h"

namespace CLI {
class App;
}

namespace slimcli {

// A subcommand: registers its flags on `app` and returns the function that runs it.
using Runner = std::function<int()>;

// "--batch-size", "8" -> 8. InputError naming the flag unless the whole text is an integer in
// [min, max].
int64_t parse_int(const std::string& flag, const std::string& text, int64_t min, int64_t max = INT64_MAX);
// "--seq-lens", "128,512" -> {128, 512}: positive integers, at least one. InputError naming the
// flag and the bad item otherwise.
std::vector<int64_t> parse_int_list(const std::string& flag, const std::string& text, int64_t max = INT64_MAX);

// "64M" -> 67108864: a byte count with an optional K, M, G or T suffix (powers of 1024, case
// ignored, an optional trailing "B" or "iB"). InputError naming the flag otherwise, or for 0.
size_t parse_bytes(const std::string& flag, const std::string& text);

// --attention NAME[:key=value,...][+NAME...]: "" -> the empty spec (the model's own mechanism).
// InputError starting "--attention: " for bad syntax.
slimformer::AttentionSpec parse_attention_flag(const std::string& text);
// Builds the mechanism for `ctx`, so an unknown name, key or bad value fails before any work;
// InputError starting "--attention: ".
std::unique_ptr<slimformer::Attention> build_attention_flag(const slimformer::AttentionSpec& spec,
                                                            const slimformer::AttentionContext& ctx);

// InputError naming the flag unless `dir` is an existing folder.
void require_model_dir(const std::string& flag, const std::string& dir);

// The lines of a text stream: split at '\n', a trailing newline ends the last line rather than
// starting an empty one, and one '\r' at the end of each line is dropped (CRLF files).
std::vector<std::string> split_lines(const std::string& text);

// The input of embed/tokenize: `path` ("" = stdin) split into lines, every line checked to be
// UTF-8 (InputError "invalid UTF-8 in <source> line N ...").
struct InputLines {
  std::string source;                // "stdin" or "'path'": used in messages
  std::vector<std::string> lines;
};
InputLines read_input_lines(const std::string& path);

// Text onto stdout, and stdout flushed: IoError "writing standard output: <reason>" (a full disk,
// a closed pipe) at once, so a failed write is never an exit code 0.
void write_stdout(const std::string& text);
void flush_stdout();

// Where results go: stdout, or a file that appears only when commit() is reached (temporary file
// + rename), so a failure leaves no partial output. The file is created up front, so an
// unwritable --output fails before any work is done.
class Output {
 public:
  // path "" = stdout; `flag` names the path in errors ("--output").
  Output(const std::string& path, const std::string& flag);
  ~Output();
  void write(const std::string& text);
  void commit();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// "12s" / "12.3s" under a minute (`decimals` after the point), "2m05s" from a minute on: the
// durations of progress lines.
std::string duration_text(double seconds, int decimals = 0);

// JSON text of a float that reads back as the same float (shortest round trip); null if not finite.
void append_json_float(std::string& out, float v);

}  // namespace slimcli
