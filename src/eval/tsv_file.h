// The validated tab-separated text file that every data reader starts from: the whole file read
// at once, its bytes checked (UTF-8 only, one optional byte-order mark at the start, LF or CRLF line
// ends, no NUL), then split into rows of tab fields that remember their 1-based line number.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace slimformer::eval {

struct TsvRow {
  int64_t line = 0;                  // 1-based, counted in the file as it is (blank lines included)
  std::vector<std::string> fields;   // split on every tab; never empty
};

struct TsvFile {
  std::string path;
  std::vector<TsvRow> rows;         // blank lines (nothing but spaces and tabs) are left out
};

// Reads `path`. IoError if it cannot be opened or read; FormatError (one line, naming the file and
// the line) for bad bytes or a file without a single non-blank line. `expected` says what the file
// should hold, e.g. "an STS-B file", and ends the messages that are about the file as a whole.
TsvFile read_tsv_file(const std::string& path, const std::string& expected);

// "'<path>' line <N>", the start of every message about one line.
std::string at_line(const std::string& path, int64_t line);
// A value as it appears in a message: in single quotes, cut to about 60 bytes (at a UTF-8
// boundary, with "..." added) so one bad field cannot flood the message; tabs shown as \t.
std::string quoted(std::string_view value);
// "1 tab-separated field", "7 tab-separated fields": a row's width as messages say it.
std::string field_count(size_t n);
// Throws FormatError "'<path>' line <N>: <found>, expected <expected>".
[[noreturn]] void fail_at(const std::string& path, int64_t line, const std::string& found,
                          const std::string& expected);
// Throws FormatError "'<path>': <found>, expected <expected>" for the file as a whole.
[[noreturn]] void fail_file(const std::string& path, const std::string& found,
                            const std::string& expected);

// The offset where the first ill-formed UTF-8 sequence starts (overlong forms, surrogates, code
// points past U+10FFFF and cut-off sequences are ill-formed), or npos when the text is valid.
size_t find_invalid_utf8(std::string_view text);

}  // namespace slimformer::eval
