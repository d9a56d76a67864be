// Writers for benchmark records. One column list (record_columns) drives the table, CSV and JSON
// and the JSON reader, so a field added to BenchRecord is added in one place.
#include <algorithm>
#include <charconv>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "bench/record_columns.h"
#include "core/text_table.h"
#include "slimformer/bench.h"
#include "slimformer/checkpoint.h"

namespace slimformer::bench {

const std::vector<Column>& record_columns() {
  static const std::vector<Column> cols = {
      {"model", "model", &BenchRecord::model},
      {"config", "config", &BenchRecord::config, ColumnUse::Always, &BenchRecord::model},
      {"attention", "attention", &BenchRecord::attention},
      {"mode", "mode", &BenchRecord::mode, ColumnUse::Always, nullptr, "inference"},
      {"batch", "batch", &BenchRecord::batch},
      {"seq", "seq", &BenchRecord::seq},
      {"threads", "threads", &BenchRecord::threads},
      {"runs", "runs", &BenchRecord::runs},
      {"warmup", "warmup", &BenchRecord::warmup},
      {"median_ms", "median ms", &BenchRecord::median_ms, ColumnUse::Measured},
      {"min_ms", "min ms", &BenchRecord::min_ms, ColumnUse::Measured},
      {"max_ms", "max ms", &BenchRecord::max_ms, ColumnUse::Measured},
      {"peak_activation_bytes", "peak act MiB", &BenchRecord::peak_activation_bytes, ColumnUse::Measured},
      {"weights_bytes", "weights MiB", &BenchRecord::weights_bytes},
      {"peak_rss_bytes", "peak RSS MiB", &BenchRecord::peak_rss_bytes},
      {"na_reason", "N/A reason", &BenchRecord::na_reason, ColumnUse::Optional},
  };
  return cols;
}

ColumnKind Column::kind() const {
  struct Visitor {
    ColumnKind operator()(std::string BenchRecord::*) const { return ColumnKind::Text; }
    ColumnKind operator()(int64_t BenchRecord::*) const { return ColumnKind::Integer; }
    ColumnKind operator()(int BenchRecord::*) const { return ColumnKind::Integer; }
    ColumnKind operator()(double BenchRecord::*) const { return ColumnKind::Millis; }
    ColumnKind operator()(size_t BenchRecord::*) const { return ColumnKind::Bytes; }
  };
  return std::visit(Visitor{}, member);
}

nlohmann::ordered_json Column::value(const BenchRecord& r) const {
  return std::visit(
      [&](auto m) {
        if constexpr (std::is_same_v<decltype(m), std::string BenchRecord::*>) {
          if (use == ColumnUse::Optional && (r.*m).empty()) return nlohmann::ordered_json();
        }
        return nlohmann::ordered_json(r.*m);
      },
      member);
}

namespace {

std::string printf_str(const char* fmt, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, fmt, v);
  return buf;
}

// Terminal text: times to 0.01 ms, bytes in MiB to 0.1.
std::string table_cell(const Column& c, const BenchRecord& r) {
  if (c.not_measured(r)) return "N/A";
  const nlohmann::ordered_json v = c.value(r);
  switch (c.kind()) {
    case ColumnKind::Text: return v.is_null() ? "" : v.get<std::string>();
    case ColumnKind::Integer: return std::to_string(v.get<int64_t>());
    case ColumnKind::Millis: return printf_str("%.2f", v.get<double>());
    case ColumnKind::Bytes: return printf_str("%.1f", static_cast<double>(v.get<uint64_t>()) / (1024.0 * 1024.0));
  }
  return "";
}

std::string shortest(double v) {   // round-trips exactly
  char buf[64];
  const auto res = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, res.ptr);
}

std::string csv_cell(const Column& c, const BenchRecord& r) {
  if (c.not_measured(r)) return "";
  const nlohmann::ordered_json v = c.value(r);
  switch (c.kind()) {
    case ColumnKind::Text: return v.is_null() ? "" : csv_quote(v.get<std::string>());
    case ColumnKind::Integer: return std::to_string(v.get<int64_t>());
    case ColumnKind::Millis: return shortest(v.get<double>());
    case ColumnKind::Bytes: return std::to_string(v.get<uint64_t>());
  }
  return "";
}

}  // namespace

std::string format_table(const std::vector<BenchRecord>& records) {
  std::vector<Column> cols;
  for (const Column& c : record_columns()) {
    bool any = c.use != ColumnUse::Optional;
    for (const BenchRecord& r : records) any = any || !c.value(r).is_null();
    if (c.table_when_differs_from) {
      const auto& own = std::get<std::string BenchRecord::*>(c.member);
      any = false;
      for (const BenchRecord& r : records) any = any || (!(r.*own).empty() && r.*own != r.*c.table_when_differs_from);
    }
    if (c.usual) {
      const auto& own = std::get<std::string BenchRecord::*>(c.member);
      any = false;
      for (const BenchRecord& r : records) any = any || r.*own != c.usual;
    }
    if (any) cols.push_back(c);
  }
  std::vector<std::vector<std::string>> rows(1);
  std::vector<bool> right;   // numbers right-aligned so their digits line up
  for (const Column& c : cols) {
    rows[0].push_back(c.header);
    right.push_back(c.kind() != ColumnKind::Text);
  }
  for (const BenchRecord& r : records) {
    rows.emplace_back();
    for (const Column& c : cols) rows.back().push_back(table_cell(c, r));
  }
  return aligned_table(rows, right);
}

std::string format_csv(const std::vector<BenchRecord>& records) {
  std::string out;
  for (const Column& c : record_columns()) out += std::string(out.empty() ? "" : ",") + c.key;
  out += "\n";
  for (const BenchRecord& r : records) {
    std::string line;
    for (const Column& c : record_columns()) line += (line.empty() ? "" : ",") + csv_cell(c, r);
    out += line + "\n";
  }
  return out;
}

std::string format_json(const std::vector<BenchRecord>& records, const Environment& env) {
  nlohmann::ordered_json list = nlohmann::ordered_json::array();
  for (const BenchRecord& r : records) {
    nlohmann::ordered_json o = nlohmann::ordered_json::object();
    for (const Column& c : record_columns()) o[c.key] = c.not_measured(r) ? nlohmann::ordered_json() : c.value(r);
    list.push_back(std::move(o));
  }
  nlohmann::ordered_json doc = nlohmann::ordered_json::object();
  if (!env.empty()) {
    nlohmann::ordered_json e = nlohmann::ordered_json::object();
    for (const auto& [name, value] : env) e[name] = value;
    doc["environment"] = std::move(e);
  }
  doc["records"] = std::move(list);
  return doc.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n";
}

void write_json(const std::string& path, const std::vector<BenchRecord>& records, const Environment& env) {
  write_file_atomic(path, format_json(records, env));
}

void write_csv(const std::string& path, const std::vector<BenchRecord>& records) {
  write_file_atomic(path, format_csv(records));
}

}  // namespace slimformer::bench
