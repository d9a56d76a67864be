// The fields of a BenchRecord as the writers (table, CSV, JSON) and the JSON reader see them: one
// list (in report.cc), so a field added to BenchRecord is added in one place. Each column points
// at its member, which gives both its value and, for the reader, where a parsed value goes.
#pragma once
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <variant>
#include <vector>

#include "slimformer/bench.h"

namespace slimformer::bench {

// How a column is printed and parsed, from its member's type: std::string -> Text, int64_t and
// int -> Integer, double -> Millis, size_t -> Bytes.
enum class ColumnKind { Text, Integer, Millis, Bytes };

// Always: a value in every record. Measured: N/A (JSON null, empty in CSV) in a record with an
// na_reason. Optional: text that is null in JSON when empty, and a table column only when some
// record has one.
enum class ColumnUse { Always, Measured, Optional };

struct Column {
  using Member = std::variant<std::string BenchRecord::*, int64_t BenchRecord::*, int BenchRecord::*,
                              double BenchRecord::*, size_t BenchRecord::*>;
  const char* key;      // JSON field and CSV header
  const char* header;   // table header
  Member member;
  ColumnUse use = ColumnUse::Always;
  // A text column the table shows only when some record's value is set and differs from this
  // one's (config beside model: only for labelled models); null: no such rule.
  std::string BenchRecord::* table_when_differs_from = nullptr;
  // A text column's value in nearly every record (mode: "inference"): the table shows the column
  // only when some record has another, and a JSON record without the field (written before the
  // column existed) reads as this. Null: no such value.
  const char* usual = nullptr;

  ColumnKind kind() const;
  // The member's value; null for an empty Optional text (whether measured or not).
  nlohmann::ordered_json value(const BenchRecord& r) const;
  // Whether this column is N/A in `r`: a Measured column of a record with an na_reason.
  bool not_measured(const BenchRecord& r) const { return use == ColumnUse::Measured && !r.na_reason.empty(); }
};

// Every field of a BenchRecord, in the order of the table, CSV and JSON.
const std::vector<Column>& record_columns();

}  // namespace slimformer::bench
