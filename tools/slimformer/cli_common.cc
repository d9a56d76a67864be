#include "cli_common.h"

#include <cctype>
#include <cerrno>
#include <cstring>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <iostream>

#include "io/atomic_file.h"
#include "slimformer/checkpoint.h"
#include "slimformer/error.h"
#include "slimformer/tokenizer.h"

namespace slimcli {

using slimformer::InputError;

int64_t parse_int(const std::string& flag, const std::string& text, int64_t min, int64_t max) {
  int64_t v = 0;
  const char* end = text.data() + text.size();
  const auto res = std::from_chars(text.data(), end, v);
  const bool whole = res.ec == std::errc() && res.ptr == end && !text.empty();
  if (!whole || v < min || v > max) {
    std::string range = min == 1 && max == INT64_MAX ? "a positive integer"
                        : min == 0 && max == INT64_MAX ? "a non-negative integer"
                        : "an integer from " + std::to_string(min) + " to " + std::to_string(max);
    throw InputError(flag + ": '" + text + "' is not " + range);
  }
  return v;
}

std::vector<int64_t> parse_int_list(const std::string& flag, const std::string& text, int64_t max) {
  if (text.empty()) throw InputError(flag + ": empty list, expected comma-separated positive integers such as 1,8");
  std::vector<int64_t> out;
  size_t start = 0;
  while (true) {
    const size_t comma = text.find(',', start);
    const std::string item = text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    int64_t v = 0;
    const char* end = item.data() + item.size();
    const auto res = std::from_chars(item.data(), end, v);
    if (item.empty() || res.ec != std::errc() || res.ptr != end || v < 1 || v > max) {
      throw InputError(flag + ": '" + item + "' in '" + text +
                       "' is not a positive integer (expected a comma-separated list such as 1,8)");
    }
    out.push_back(v);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

size_t parse_bytes(const std::string& flag, const std::string& text) {
  size_t end = 0;
  while (end < text.size() && std::isdigit(static_cast<unsigned char>(text[end]))) ++end;
  std::string unit = text.substr(end);
  for (char& c : unit) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  // Binary units whichever way they are written: 8G, 8GB and 8GiB are all 8 x 2^30 bytes.
  static const std::vector<std::pair<std::string, int>> kUnits = {
      {"", 0},    {"B", 0},    {"K", 10},  {"KB", 10}, {"KIB", 10}, {"M", 20},  {"MB", 20},
      {"MIB", 20}, {"G", 30}, {"GB", 30}, {"GIB", 30}, {"T", 40},   {"TB", 40}, {"TIB", 40}};
  int shift = -1;
  for (const auto& [name, s] : kUnits) shift = unit == name ? s : shift;
  uint64_t v = 0;
  const auto res = std::from_chars(text.data(), text.data() + end, v);
  if (end == 0 || shift < 0 || res.ec != std::errc() || v == 0 || v > (SIZE_MAX >> shift)) {
    throw InputError(flag + ": '" + text + "' is not a size (expected a positive number of bytes with an optional "
                     "K, M, G or T suffix, such as 512M or 8G)");
  }
  return static_cast<size_t>(v) << shift;
}

slimformer::AttentionSpec parse_attention_flag(const std::string& text) {
  if (text.empty()) return {};
  try {
    return slimformer::AttentionSpec::parse(text);
  } catch (const InputError& e) {
    throw InputError(std::string("--attention: ") + e.what());
  }
}

std::unique_ptr<slimformer::Attention> build_attention_flag(const slimformer::AttentionSpec& spec,
                                                            const slimformer::AttentionContext& ctx) {
  try {
    return slimformer::make_attention(spec, ctx);
  } catch (const InputError& e) {
    throw InputError(std::string("--attention: ") + e.what());
  }
}

void require_model_dir(const std::string& flag, const std::string& dir) {
  std::error_code ec;
  if (!std::filesystem::exists(dir, ec)) throw InputError(flag + ": folder '" + dir + "' does not exist");
  if (!std::filesystem::is_directory(dir, ec)) throw InputError(flag + ": '" + dir + "' is not a folder");
}

std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> lines;
  size_t start = 0;
  while (start < text.size()) {
    size_t nl = text.find('\n', start);
    const bool last = nl == std::string::npos;
    if (last) nl = text.size();
    size_t end = nl;
    if (end > start && text[end - 1] == '\r') --end;
    lines.push_back(text.substr(start, end - start));
    start = nl + 1;
  }
  return lines;
}

InputLines read_input_lines(const std::string& path) {
  InputLines in;
  std::string text;
  if (path.empty()) {
    in.source = "stdin";
    text.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
    if (std::cin.bad()) throw slimformer::IoError("cannot read stdin");
  } else {
    in.source = "'" + path + "'";
    try {
      text = slimformer::read_text_file(path);
    } catch (const slimformer::IoError& e) {
      throw slimformer::IoError(std::string("--input: ") + e.what());
    }
  }
  in.lines = split_lines(text);
  for (size_t i = 0; i < in.lines.size(); ++i) {
    slimformer::check_utf8(in.lines[i], in.source + " line " + std::to_string(i + 1));
  }
  return in;
}

void write_stdout(const std::string& text) {
  errno = 0;
  if (std::fwrite(text.data(), 1, text.size(), stdout) != text.size() || std::ferror(stdout)) {
    throw slimformer::IoError(std::string("writing standard output: ") + (errno ? std::strerror(errno) : "write error"));
  }
}

void flush_stdout() {
  errno = 0;
  if (std::fflush(stdout) != 0 || std::ferror(stdout)) {
    throw slimformer::IoError(std::string("writing standard output: ") + (errno ? std::strerror(errno) : "write error"));
  }
}

struct Output::Impl {
  std::unique_ptr<slimformer::io::AtomicFile> file;   // null: stdout
  std::string buffer;
};

Output::Output(const std::string& path, const std::string& flag) : impl_(std::make_unique<Impl>()) {
  if (path.empty()) return;
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) throw slimformer::IoError(flag + ": '" + path + "' is a folder");
  try {
    impl_->file = std::make_unique<slimformer::io::AtomicFile>(path);
  } catch (const slimformer::IoError& e) {
    throw slimformer::IoError(flag + ": " + e.what());
  }
}

Output::~Output() = default;

void Output::write(const std::string& text) {
  impl_->buffer += text;
  if (impl_->buffer.size() < (1u << 20)) return;   // write in ~1 MiB pieces
  if (impl_->file) {
    impl_->file->write(impl_->buffer.data(), impl_->buffer.size());
  } else {
    write_stdout(impl_->buffer);
  }
  impl_->buffer.clear();
}

void Output::commit() {
  if (impl_->file) {
    impl_->file->write(impl_->buffer.data(), impl_->buffer.size());
    impl_->file->commit();
  } else {
    write_stdout(impl_->buffer);
    flush_stdout();
  }
  impl_->buffer.clear();
}

std::string duration_text(double s, int decimals) {
  char buf[32];
  if (s < 60) {
    std::snprintf(buf, sizeof buf, "%.*fs", decimals, s);
  } else {
    std::snprintf(buf, sizeof buf, "%dm%02ds", static_cast<int>(s / 60), static_cast<int>(s) % 60);
  }
  return buf;
}

void append_json_float(std::string& out, float v) {
  if (!std::isfinite(v)) {
    out += "null";
    return;
  }
  char buf[32];
  const auto res = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, res.ptr);
}

}  // namespace slimcli
