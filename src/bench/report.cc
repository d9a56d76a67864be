// Writers for benchmark records. One column list drives the table, CSV and JSON, so a field
// added to BenchRecord is added in one place.
#include <algorithm>
#include <charconv>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "slimformer/bench.h"
#include "slimformer/checkpoint.h"

namespace slimformer::bench {
namespace {

enum class Kind { Text, Integer, Millis, Bytes };

// Whether a column is a measurement (N/A in a cell that was not measured) and whether the table
// shows it always or only when some record has a value.
enum class Use { Always, Measured, TableWhenAny };

struct Column {
  const char* key;      // JSON field and CSV header
  const char* header;   // table header
  Kind kind;
  std::function<nlohmann::ordered_json(const BenchRecord&)> value;
  Use use = Use::Always;
};

bool not_measured(const Column& c, const BenchRecord& r) { return c.use == Use::Measured && !r.na_reason.empty(); }

const std::vector<Column>& columns() {
  static const std::vector<Column> cols = {
      {"model", "model", Kind::Text, [](const BenchRecord& r) { return nlohmann::ordered_json(r.model); }},
      {"config", "config", Kind::Text, [](const BenchRecord& r) { return nlohmann::ordered_json(r.config); }},
      {"attention", "attention", Kind::Text, [](const BenchRecord& r) { return nlohmann::ordered_json(r.attention); }},
      {"batch", "batch", Kind::Integer, [](const BenchRecord& r) { return nlohmann::ordered_json(r.batch); }},
      {"seq", "seq", Kind::Integer, [](const BenchRecord& r) { return nlohmann::ordered_json(r.seq); }},
      {"threads", "threads", Kind::Integer, [](const BenchRecord& r) { return nlohmann::ordered_json(r.threads); }},
      {"runs", "runs", Kind::Integer, [](const BenchRecord& r) { return nlohmann::ordered_json(r.runs); }},
      {"warmup", "warmup", Kind::Integer, [](const BenchRecord& r) { return nlohmann::ordered_json(r.warmup); }},
      {"median_ms", "median ms", Kind::Millis, [](const BenchRecord& r) { return nlohmann::ordered_json(r.median_ms); },
       Use::Measured},
      {"min_ms", "min ms", Kind::Millis, [](const BenchRecord& r) { return nlohmann::ordered_json(r.min_ms); },
       Use::Measured},
      {"max_ms", "max ms", Kind::Millis, [](const BenchRecord& r) { return nlohmann::ordered_json(r.max_ms); },
       Use::Measured},
      {"peak_activation_bytes", "peak act MiB", Kind::Bytes,
       [](const BenchRecord& r) { return nlohmann::ordered_json(r.peak_activation_bytes); }, Use::Measured},
      {"weights_bytes", "weights MiB", Kind::Bytes, [](const BenchRecord& r) { return nlohmann::ordered_json(r.weights_bytes); }},
      {"peak_rss_bytes", "peak RSS MiB", Kind::Bytes, [](const BenchRecord& r) { return nlohmann::ordered_json(r.peak_rss_bytes); }},
      {"na_reason", "N/A reason", Kind::Text,
       [](const BenchRecord& r) { return r.na_reason.empty() ? nlohmann::ordered_json() : nlohmann::ordered_json(r.na_reason); },
       Use::TableWhenAny},
  };
  return cols;
}

std::string printf_str(const char* fmt, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, fmt, v);
  return buf;
}

// Terminal text: times to 0.01 ms, bytes in MiB to 0.1.
std::string table_cell(const Column& c, const BenchRecord& r) {
  if (not_measured(c, r)) return "N/A";
  const nlohmann::ordered_json v = c.value(r);
  switch (c.kind) {
    case Kind::Text: return v.is_null() ? "" : v.get<std::string>();
    case Kind::Integer: return std::to_string(v.get<int64_t>());
    case Kind::Millis: return printf_str("%.2f", v.get<double>());
    case Kind::Bytes: return printf_str("%.1f", static_cast<double>(v.get<uint64_t>()) / (1024.0 * 1024.0));
  }
  return "";
}

std::string shortest(double v) {   // round-trips exactly
  char buf[64];
  const auto res = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, res.ptr);
}

std::string csv_quote(const std::string& s) {
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string out = "\"";
  for (char ch : s) out += ch == '"' ? std::string("\"\"") : std::string(1, ch);
  return out + "\"";
}

std::string csv_cell(const Column& c, const BenchRecord& r) {
  if (not_measured(c, r)) return "";
  const nlohmann::ordered_json v = c.value(r);
  switch (c.kind) {
    case Kind::Text: return v.is_null() ? "" : csv_quote(v.get<std::string>());
    case Kind::Integer: return std::to_string(v.get<int64_t>());
    case Kind::Millis: return shortest(v.get<double>());
    case Kind::Bytes: return std::to_string(v.get<uint64_t>());
  }
  return "";
}

}  // namespace

std::string format_table(const std::vector<BenchRecord>& records) {
  std::vector<Column> cols;
  for (const Column& c : columns()) {
    bool any = c.use != Use::TableWhenAny;
    for (const BenchRecord& r : records) any = any || !c.value(r).is_null();
    // The config column only when it says more than the model column (labelled models).
    if (std::string(c.key) == "config") {
      any = false;
      for (const BenchRecord& r : records) any = any || (!r.config.empty() && r.config != r.model);
    }
    if (any) cols.push_back(c);
  }
  std::vector<std::vector<std::string>> rows(1);
  for (const Column& c : cols) rows[0].push_back(c.header);
  for (const BenchRecord& r : records) {
    rows.emplace_back();
    for (const Column& c : cols) rows.back().push_back(table_cell(c, r));
  }
  std::vector<size_t> width(cols.size(), 0);
  for (const auto& row : rows) {
    for (size_t i = 0; i < row.size(); ++i) width[i] = std::max(width[i], row[i].size());
  }
  std::string out;
  for (const auto& row : rows) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) {
      const std::string pad(width[i] - row[i].size(), ' ');
      if (i > 0) line += "  ";
      // Text left-aligned, numbers right-aligned so their digits line up.
      line += cols[i].kind == Kind::Text ? row[i] + pad : pad + row[i];
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line + "\n";
  }
  return out;
}

std::string format_csv(const std::vector<BenchRecord>& records) {
  std::string out;
  for (const Column& c : columns()) out += std::string(out.empty() ? "" : ",") + c.key;
  out += "\n";
  for (const BenchRecord& r : records) {
    std::string line;
    for (const Column& c : columns()) line += (line.empty() ? "" : ",") + csv_cell(c, r);
    out += line + "\n";
  }
  return out;
}

std::string format_json(const std::vector<BenchRecord>& records) {
  nlohmann::ordered_json list = nlohmann::ordered_json::array();
  for (const BenchRecord& r : records) {
    nlohmann::ordered_json o = nlohmann::ordered_json::object();
    for (const Column& c : columns()) o[c.key] = not_measured(c, r) ? nlohmann::ordered_json() : c.value(r);
    list.push_back(std::move(o));
  }
  nlohmann::ordered_json doc = {{"records", std::move(list)}};
  return doc.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n";
}

void write_json(const std::string& path, const std::vector<BenchRecord>& records) {
  write_file_atomic(path, format_json(records));
}

void write_csv(const std::string& path, const std::vector<BenchRecord>& records) {
  write_file_atomic(path, format_csv(records));
}

}  // namespace slimformer::bench
