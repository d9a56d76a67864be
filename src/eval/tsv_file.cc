#include "eval/tsv_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include "slimformer/error.h"

namespace slimformer::eval {
namespace {

constexpr std::string_view kUtf8Bom = "\xEF\xBB\xBF";
constexpr const char* kUtf8Text = "UTF-8 text (save the file as UTF-8)";

// POSIX read of the whole file: one allocation, and a folder or a read error is told apart from
// an empty file (an ifstream opens a folder and reads nothing).
std::string read_all(const std::string& path, const std::string& expected) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    throw IoError("'" + path + "': cannot open (" + std::strerror(errno) + "), expected " + expected);
  }
  struct stat st {};
  std::string text;
  if (::fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
    ::close(fd);
    throw IoError("'" + path + "': a folder, expected " + expected);
  }
  if (st.st_size > 0) text.reserve(static_cast<size_t>(st.st_size));
  char buf[1 << 16];
  while (true) {
    const ssize_t got = ::read(fd, buf, sizeof buf);
    if (got == 0) break;
    if (got < 0) {
      if (errno == EINTR) continue;
      const std::string why = std::strerror(errno);
      ::close(fd);
      throw IoError("'" + path + "': cannot read (" + why + "), expected " + expected);
    }
    text.append(buf, static_cast<size_t>(got));
  }
  ::close(fd);
  return text;
}

bool starts_with_bytes(std::string_view text, std::string_view prefix) {
  return text.substr(0, prefix.size()) == prefix;
}

// Refuses the UTF-16/32 byte-order marks (UTF-32 LE first: it begins with UTF-16 LE's mark) and
// returns the text past a UTF-8 mark, if there is one.
std::string_view strip_bom(std::string_view text, const std::string& path) {
  static const std::pair<std::string_view, const char*> kOthers[] = {
      {std::string_view("\xFF\xFE\0\0", 4), "a UTF-32 LE byte-order mark"},
      {std::string_view("\0\0\xFE\xFF", 4), "a UTF-32 BE byte-order mark"},
      {"\xFF\xFE", "a UTF-16 LE byte-order mark"},
      {"\xFE\xFF", "a UTF-16 BE byte-order mark"},
  };
  for (const auto& [mark, name] : kOthers) {
    if (starts_with_bytes(text, mark)) fail_at(path, 1, name, kUtf8Text);
  }
  return starts_with_bytes(text, kUtf8Bom) ? text.substr(kUtf8Bom.size()) : text;
}

std::string byte_pos(size_t offset) { return "at byte " + std::to_string(offset + 1); }

// The byte checks for one line (its line end already taken off).
void check_line(std::string_view line, const std::string& path, int64_t lineno) {
  if (const size_t at = line.find('\0'); at != std::string_view::npos) {
    fail_at(path, lineno, "a NUL byte " + byte_pos(at), "UTF-8 text without NUL bytes (a UTF-16 file?)");
  }
  if (const size_t at = line.find('\r'); at != std::string_view::npos) {
    fail_at(path, lineno, "a carriage return " + byte_pos(at) + " not followed by a line feed",
            "LF or CRLF line ends");
  }
  if (const size_t at = line.find(kUtf8Bom); at != std::string_view::npos) {
    fail_at(path, lineno, "a byte-order mark " + byte_pos(at),
            "one only at the start of the file (were files joined together?)");
  }
  if (const size_t at = find_invalid_utf8(line); at != std::string_view::npos) {
    fail_at(path, lineno, "invalid UTF-8 " + byte_pos(at), "UTF-8 text");
  }
}

std::vector<std::string> split_tabs(std::string_view line) {
  std::vector<std::string> fields;
  fields.reserve(static_cast<size_t>(std::count(line.begin(), line.end(), '\t')) + 1);
  size_t start = 0;
  while (true) {
    const size_t tab = line.find('\t', start);
    if (tab == std::string_view::npos) {
      fields.emplace_back(line.substr(start));
      return fields;
    }
    fields.emplace_back(line.substr(start, tab - start));
    start = tab + 1;
  }
}

bool is_blank(std::string_view line) { return line.find_first_not_of(" \t") == std::string_view::npos; }

}  // namespace

TsvFile read_tsv_file(const std::string& path, const std::string& expected) {
  const std::string all = read_all(path, expected);
  const std::string_view text = strip_bom(all, path);
  TsvFile table{path, {}};
  int64_t lineno = 0;
  size_t start = 0;
  while (start < text.size()) {
    ++lineno;
    const size_t nl = text.find('\n', start);
    const size_t end = nl == std::string_view::npos ? text.size() : nl;
    std::string_view line = text.substr(start, end - start);
    // Only a CR that ends a line with LF after it is a CRLF line end.
    if (nl != std::string_view::npos && !line.empty() && line.back() == '\r') line.remove_suffix(1);
    check_line(line, path, lineno);
    if (!is_blank(line)) table.rows.push_back(TsvRow{lineno, split_tabs(line)});
    start = end + 1;
  }
  if (text.empty()) fail_file(path, "an empty file", expected);
  if (table.rows.empty()) fail_file(path, "only blank lines", expected);
  return table;
}

std::string at_line(const std::string& path, int64_t line) {
  return "'" + path + "' line " + std::to_string(line);
}

std::string quoted(std::string_view value) {
  constexpr size_t kMax = 60;
  const bool cut = value.size() > kMax;
  size_t n = cut ? kMax : value.size();
  // Back up to the start of a UTF-8 sequence so the cut never splits a character.
  while (cut && n > 0 && (static_cast<unsigned char>(value[n]) & 0xC0) == 0x80) --n;
  std::string out = "'";
  for (const char c : value.substr(0, n)) {
    if (c == '\t') {
      out += "\\t";
    } else {
      out += c;
    }
  }
  return out + (cut ? "...'" : "'");
}

std::string field_count(size_t n) {
  return std::to_string(n) + (n == 1 ? " tab-separated field" : " tab-separated fields");
}

void fail_at(const std::string& path, int64_t line, const std::string& found, const std::string& expected) {
  throw FormatError(at_line(path, line) + ": " + found + ", expected " + expected);
}

void fail_file(const std::string& path, const std::string& found, const std::string& expected) {
  throw FormatError("'" + path + "': " + found + ", expected " + expected);
}

size_t find_invalid_utf8(std::string_view text) {
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  const size_t n = text.size();
  size_t i = 0;
  while (i < n) {
    const unsigned c = p[i];
    if (c < 0x80) {
      ++i;
      continue;
    }
    // The well-formed sequences of the Unicode standard (table 3-7): the second byte's range
    // depends on the first, which is what rules out overlong forms, surrogates and > U+10FFFF.
    size_t len = 0;
    unsigned lo = 0x80, hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) {
      len = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
      len = 3;
      if (c == 0xE0) lo = 0xA0;
      if (c == 0xED) hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      len = 4;
      if (c == 0xF0) lo = 0x90;
      if (c == 0xF4) hi = 0x8F;
    } else {
      return i;
    }
    if (i + len > n || p[i + 1] < lo || p[i + 1] > hi) return i;
    for (size_t k = 2; k < len; ++k) {
      if (p[i + k] < 0x80 || p[i + k] > 0xBF) return i;
    }
    i += len;
  }
  return std::string_view::npos;
}

}  // namespace slimformer::eval
