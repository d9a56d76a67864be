// The eval table's writers. One column list per task drives the terminal table, Markdown, CSV and
// JSON, so a figure added to EvalRow is added in one place.
#include <charconv>
#include <cmath>
#include <cstdio>
#include <functional>
#include <nlohmann/json.hpp>
#include <variant>

#include "core/text_table.h"
#include "slimformer/eval.h"

namespace slimformer {
namespace {

using DTypeBytes = std::vector<std::pair<std::string, size_t>>;
using Value = std::variant<std::string, int64_t, double, DTypeBytes>;

// How a column reads in the table: Text as is, Count an integer, Metric 4 decimals, MB bytes in
// 10^6, Seconds 2 decimals, Rate whole inputs per second, Change a relative change in percent
// ("base" on the first row), Ratio "1.23x" (the first row against itself is 1.00x), DTypes each
// dtype's share of the bytes ("I8 80% F32 20%"; exact bytes in JSON and CSV).
enum class Look { Text, Count, Metric, MB, Seconds, Rate, Change, Ratio, DTypes };

struct EvalColumn {
  const char* key;      // JSON field and CSV header
  const char* header;   // table header; nullptr: files only
  Look look;
  std::function<Value(const EvalRow& row, const EvalRow& base)> value;
};

double rate(const EvalRow& r) { return r.encode_seconds > 0 ? static_cast<double>(r.inputs) / r.encode_seconds : kNaN; }
double change(double v, double base) { return base != 0 ? v / base - 1.0 : kNaN; }
double ratio(double v, double base) { return base > 0 ? v / base : kNaN; }

std::string dtype_shares(const DTypeBytes& dtypes) {
  if (dtypes.size() == 1) return dtypes[0].first;
  size_t total = 0;
  for (const auto& [name, bytes] : dtypes) total += bytes;
  std::string out;
  for (const auto& [name, bytes] : dtypes) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%s%s %.0f%%", out.empty() ? "" : " ", name.c_str(),
                  total ? 100.0 * static_cast<double>(bytes) / static_cast<double>(total) : 0.0);
    out += buf;
  }
  return out;
}

std::vector<EvalColumn> leading_columns() {
  return {
      {"label", "model", Look::Text, [](const EvalRow& r, const EvalRow&) { return Value(r.label); }},
      {"model_dir", nullptr, Look::Text, [](const EvalRow& r, const EvalRow&) { return Value(r.model_dir); }},
      {"parameters", "params", Look::Count, [](const EvalRow& r, const EvalRow&) { return Value(r.parameters); }},
      {"file_bytes", "size MB", Look::MB, [](const EvalRow& r, const EvalRow&) { return Value(static_cast<int64_t>(r.file_bytes)); }},
      {"dtype_bytes", "dtypes", Look::DTypes, [](const EvalRow& r, const EvalRow&) { return Value(r.dtype_bytes); }},
      {"scored_by", "scored by", Look::Text, [](const EvalRow& r, const EvalRow&) { return Value(r.scored_by); }},
  };
}

std::vector<EvalColumn> trailing_columns() {
  return {
      {"size_ratio", "size", Look::Ratio, [](const EvalRow& r, const EvalRow& b) {
         return Value(ratio(static_cast<double>(r.file_bytes), static_cast<double>(b.file_bytes))); }},
      {"inputs", nullptr, Look::Count, [](const EvalRow& r, const EvalRow&) { return Value(r.inputs); }},
      {"encode_seconds", "encode s", Look::Seconds, [](const EvalRow& r, const EvalRow&) { return Value(r.encode_seconds); }},
      {"inputs_per_second", "inputs/s", Look::Rate, [](const EvalRow& r, const EvalRow&) { return Value(rate(r)); }},
      {"speed_ratio", "speed", Look::Ratio, [](const EvalRow& r, const EvalRow& b) { return Value(ratio(rate(r), rate(b))); }},
  };
}

#define SLIM_FIELD(field) [](const EvalRow& r, const EvalRow&) { return Value(r.field); }
#define SLIM_CHANGE(field) [](const EvalRow& r, const EvalRow& b) { return Value(change(r.field, b.field)); }

std::vector<EvalColumn> task_columns(EvalTask task) {
  if (task == EvalTask::Stsb) {
    return {
        {"pearson", "Pearson", Look::Metric, SLIM_FIELD(pearson)},
        {"spearman", "Spearman", Look::Metric, SLIM_FIELD(spearman)},
        {"pearson_change", "Δ Pearson", Look::Change, SLIM_CHANGE(pearson)},
        {"spearman_change", "Δ Spearman", Look::Change, SLIM_CHANGE(spearman)},
        {"angular_pearson", "ang. Pearson", Look::Metric, SLIM_FIELD(angular_pearson)},
        {"angular_spearman", "ang. Spearman", Look::Metric, SLIM_FIELD(angular_spearman)},
    };
  }
  return {
      {"threshold", "threshold", Look::Metric, SLIM_FIELD(threshold)},
      {"train_accuracy", nullptr, Look::Metric, SLIM_FIELD(train_accuracy)},
      {"accuracy", "accuracy", Look::Metric, SLIM_FIELD(accuracy)},
      {"f1", "F1", Look::Metric, SLIM_FIELD(f1)},
      {"accuracy_change", "Δ accuracy", Look::Change, SLIM_CHANGE(accuracy)},
      {"f1_change", "Δ F1", Look::Change, SLIM_CHANGE(f1)},
  };
}

#undef SLIM_FIELD
#undef SLIM_CHANGE

std::vector<EvalColumn> columns(EvalTask task) {
  std::vector<EvalColumn> cols = leading_columns();
  for (EvalColumn& c : task_columns(task)) cols.push_back(std::move(c));
  for (EvalColumn& c : trailing_columns()) cols.push_back(std::move(c));
  return cols;
}

bool is_nan(const Value& v) { return std::holds_alternative<double>(v) && std::isnan(std::get<double>(v)); }

std::string printf_text(const char* fmt, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, fmt, v);
  return buf;
}

std::string table_text(const EvalColumn& c, const Value& v, bool first_row) {
  if (c.look == Look::Change && first_row) return "base";
  if (is_nan(v)) return "-";
  switch (c.look) {
    case Look::Text: return std::get<std::string>(v);
    case Look::Count: return std::to_string(std::get<int64_t>(v));
    case Look::Metric: return printf_text("%.4f", std::get<double>(v));
    case Look::MB: return printf_text("%.1f", static_cast<double>(std::get<int64_t>(v)) / 1e6);
    case Look::Seconds: return printf_text("%.2f", std::get<double>(v));
    case Look::Rate: return printf_text("%.0f", std::get<double>(v));
    case Look::Change: return printf_text("%+.2f%%", 100.0 * std::get<double>(v));
    case Look::Ratio: return printf_text("%.2fx", std::get<double>(v));
    case Look::DTypes: return dtype_shares(std::get<DTypeBytes>(v));
  }
  return "";
}

// The table's rows (header first): columns without a header are left out, and so are columns no
// row has a value in (angular scores when every model has a head, "scored by" when all are cosine).
std::vector<std::vector<std::string>> table_rows(const EvalReport& report, std::vector<bool>* right) {
  std::vector<EvalColumn> shown;
  for (const EvalColumn& c : columns(report.task)) {
    if (!c.header) continue;
    bool any = false, all_cosine = true;
    for (const EvalRow& r : report.rows) {
      any = any || !is_nan(c.value(r, report.rows[0]));
      all_cosine = all_cosine && r.scored_by == "cosine";
    }
    if (!any || (std::string(c.key) == "scored_by" && all_cosine)) continue;
    shown.push_back(c);
  }
  std::vector<std::vector<std::string>> rows(1);
  for (const EvalColumn& c : shown) {
    rows[0].push_back(c.header);
    right->push_back(c.look != Look::Text && c.look != Look::DTypes);
  }
  for (size_t i = 0; i < report.rows.size(); ++i) {
    rows.emplace_back();
    for (const EvalColumn& c : shown) rows.back().push_back(table_text(c, c.value(report.rows[i], report.rows[0]), i == 0));
  }
  return rows;
}

std::string title(const EvalReport& r) {
  std::string t = r.task == EvalTask::Stsb ? "STS-B" : "MRPC";
  t += ": '" + r.data_path + "', " + std::to_string(r.pairs) + " pairs";
  if (r.task == EvalTask::Mrpc && !r.train_path.empty()) {
    t += "; cosine thresholds chosen on '" + r.train_path + "', " + std::to_string(r.train_pairs) + " pairs";
  }
  return t;
}

nlohmann::ordered_json json_value(const Value& v) {
  if (is_nan(v)) return nullptr;
  if (const auto* d = std::get_if<DTypeBytes>(&v)) {   // {"F32": bytes, ...}
    nlohmann::ordered_json o = nlohmann::ordered_json::object();
    for (const auto& [name, bytes] : *d) o[name] = bytes;
    return o;
  }
  return std::visit([](const auto& x) { return nlohmann::ordered_json(x); }, v);
}

std::string csv_text(const Value& v) {
  if (is_nan(v)) return "";
  if (const auto* s = std::get_if<std::string>(&v)) return csv_quote(*s);
  if (const auto* i = std::get_if<int64_t>(&v)) return std::to_string(*i);
  if (const auto* d = std::get_if<DTypeBytes>(&v)) {   // "F32:bytes;F16:bytes"
    std::string out;
    for (const auto& [name, bytes] : *d) out += (out.empty() ? "" : ";") + name + ":" + std::to_string(bytes);
    return csv_quote(out);
  }
  char buf[64];   // the shortest text that reads back as the same double
  const auto res = std::to_chars(buf, buf + sizeof buf, std::get<double>(v));
  return std::string(buf, res.ptr);
}

}  // namespace

std::string format_eval_table(const EvalReport& report) {
  if (report.rows.empty()) return title(report) + "\n(no model)\n";
  std::vector<bool> right;
  const auto rows = table_rows(report, &right);
  return title(report) + "\n" + aligned_table(rows, right);
}

std::string format_eval_markdown(const EvalReport& report, const EvalEnvironment& env) {
  std::string out = std::string("# slimformer eval: ") + (report.task == EvalTask::Stsb ? "STS-B" : "MRPC") + "\n\n" +
                    title(report) + "\n\n";
  if (!report.rows.empty()) {
    std::vector<bool> right;
    out += markdown_table(table_rows(report, &right), right);
  }
  out += "\nSize: the weight files on disk, MB = 10^6 bytes. Δ: relative change against the first row. "
         "inputs/s: sentences encoded per second (pairs for a model with a head).\n";
  if (!env.empty()) {
    out += "\n## Environment\n\n";
    for (const auto& [name, value] : env) out += "- " + name + ": " + value + "\n";
  }
  return out;
}

std::string format_eval_json(const EvalReport& report, const EvalEnvironment& env) {
  nlohmann::ordered_json doc = nlohmann::ordered_json::object();
  doc["task"] = eval_task_name(report.task);
  doc["data"] = report.data_path;
  doc["pairs"] = report.pairs;
  doc["train"] = report.train_path.empty() ? nlohmann::ordered_json() : nlohmann::ordered_json(report.train_path);
  doc["train_pairs"] = report.train_path.empty() ? nlohmann::ordered_json() : nlohmann::ordered_json(report.train_pairs);
  nlohmann::ordered_json e = nlohmann::ordered_json::object();
  for (const auto& [name, value] : env) e[name] = value;
  doc["environment"] = std::move(e);
  nlohmann::ordered_json models = nlohmann::ordered_json::array();
  for (const EvalRow& r : report.rows) {
    nlohmann::ordered_json m = nlohmann::ordered_json::object();
    for (const EvalColumn& c : columns(report.task)) m[c.key] = json_value(c.value(r, report.rows[0]));
    models.push_back(std::move(m));
  }
  doc["models"] = std::move(models);
  return doc.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n";
}

std::string format_eval_csv(const EvalReport& report) {
  const std::vector<EvalColumn> cols = columns(report.task);
  std::string out;
  for (const EvalColumn& c : cols) out += std::string(out.empty() ? "" : ",") + c.key;
  out += "\n";
  for (const EvalRow& r : report.rows) {
    std::string line;
    for (size_t i = 0; i < cols.size(); ++i) line += (i ? "," : "") + csv_text(cols[i].value(r, report.rows[0]));
    out += line + "\n";
  }
  return out;
}

}  // namespace slimformer
