// Reading back the records format_json wrote, by the same column list (record_columns), so that
// writing what was read gives the same text. Every error names the file, the record's index
// (from 0, as "records[3].batch") and the field. Fields a record has beyond the columns are
// ignored, as are top-level keys other than "records".
#include <climits>
#include <cmath>
#include <cstdint>

#include "bench/record_columns.h"
#include "io/json_file.h"
#include "slimformer/bench.h"
#include "slimformer/error.h"

namespace slimformer::bench {
namespace {

using io::Json;

// What a bad value was, short enough for one line.
std::string shown(const Json& v) { return io::describe_json(v); }

struct Where {
  const std::string& path;
  size_t index;
  const char* key;

  [[noreturn]] void fail(const std::string& what) const {
    throw FormatError("'" + path + "': records[" + std::to_string(index) + "]." + key + ": " + what);
  }
  [[noreturn]] void expected(const std::string& what, const Json& v) const { fail("expected " + what + ", got " + shown(v)); }
};

// A count (batch, seq, threads, ...): a non-negative integer no larger than `max`.
uint64_t read_count(const Json& v, uint64_t max, const Where& at) {
  if (v.is_number_unsigned() && v.get<uint64_t>() <= max) return v.get<uint64_t>();
  at.expected(max == UINT64_MAX ? "a non-negative integer" : "a non-negative integer up to " + std::to_string(max), v);
}

// One field into its member, by the member's type.
void read_value(BenchRecord& r, const Column::Member& member, const Json& v, const Where& at) {
  struct Visitor {
    BenchRecord& r;
    const Json& v;
    const Where& at;
    void operator()(std::string BenchRecord::*m) const {
      if (!v.is_string()) at.expected("a string", v);
      r.*m = v.get<std::string>();
    }
    void operator()(int64_t BenchRecord::*m) const { r.*m = static_cast<int64_t>(read_count(v, INT64_MAX, at)); }
    void operator()(int BenchRecord::*m) const { r.*m = static_cast<int>(read_count(v, INT_MAX, at)); }
    void operator()(double BenchRecord::*m) const {
      if (!v.is_number() || !std::isfinite(v.get<double>()) || v.get<double>() < 0) {
        at.expected("a non-negative number of milliseconds", v);
      }
      r.*m = v.get<double>();
    }
    void operator()(size_t BenchRecord::*m) const { r.*m = static_cast<size_t>(read_count(v, SIZE_MAX, at)); }
  };
  std::visit(Visitor{r, v, at}, member);
}

void read_column(BenchRecord& r, const Column& c, const Json& obj, const Where& at) {
  const auto it = obj.find(c.key);
  if (it == obj.end() && c.usual) {   // a file from before the column existed
    r.*std::get<std::string BenchRecord::*>(c.member) = c.usual;
    return;
  }
  if (it == obj.end()) at.fail("missing");
  if (it->is_null()) {
    if (c.use == ColumnUse::Optional || c.not_measured(r)) return;   // empty, or N/A: stays 0
    if (c.use == ColumnUse::Measured) at.fail("null, but the record has no na_reason (a measured cell needs a value)");
    at.fail("null; expected a value");
  }
  read_value(r, c.member, *it, at);
}

BenchRecord read_record(const Json& obj, const std::string& path, size_t index) {
  if (!obj.is_object()) {
    throw FormatError("'" + path + "': records[" + std::to_string(index) + "] must be a JSON object, got " + shown(obj));
  }
  BenchRecord r;
  // Optional fields (na_reason) first: whether a measured field may be null depends on them.
  for (const Column& c : record_columns()) {
    if (c.use == ColumnUse::Optional) read_column(r, c, obj, Where{path, index, c.key});
  }
  for (const Column& c : record_columns()) {
    if (c.use != ColumnUse::Optional) read_column(r, c, obj, Where{path, index, c.key});
  }
  return r;
}

}  // namespace

std::vector<BenchRecord> read_records_json(const std::string& path) {
  const Json doc = io::read_json_file(path);
  if (!doc.is_object()) {
    throw FormatError("'" + path + "' must hold a JSON object with a \"records\" list (as bench --json writes), got " +
                      shown(doc));
  }
  const auto it = doc.find("records");
  if (it == doc.end()) throw FormatError("'" + path + "' lacks the key \"records\" (the list bench --json writes)");
  if (!it->is_array()) throw FormatError("'" + path + "': \"records\" must be a list, got " + shown(*it));
  std::vector<BenchRecord> records;
  records.reserve(it->size());
  for (size_t i = 0; i < it->size(); ++i) records.push_back(read_record((*it)[i], path, i));
  return records;
}

}  // namespace slimformer::bench
