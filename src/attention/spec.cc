// Parsing and printing of attention specs: NAME[:key=value,...][+NAME[:...]], where a value may
// be a bracketed list "[8,16]" (its commas do not separate keys).
#include <cctype>
#include <charconv>
#include <cmath>

#include "slimformer/attention.h"
#include "slimformer/error.h"

namespace slimformer {

namespace {

std::string trim(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && (s[b] == ' ' || s[b] == '\t')) ++b;
  while (e > b && (s[e - 1] == ' ' || s[e - 1] == '\t')) --e;
  return std::string(s.substr(b, e - b));
}

bool valid_word(const std::string& w) {
  if (w.empty()) return false;
  for (char c : w) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_')) return false;
  }
  return true;
}

// Splits on `sep` outside brackets; InputError on unbalanced brackets.
std::vector<std::string> split_top(std::string_view s, char sep, std::string_view whole) {
  std::vector<std::string> out;
  int depth = 0;
  size_t start = 0;
  for (size_t i = 0; i <= s.size(); ++i) {
    if (i < s.size() && s[i] == '[') ++depth;
    if (i < s.size() && s[i] == ']' && --depth < 0) break;
    if (i == s.size() || (s[i] == sep && depth == 0)) {
      out.push_back(trim(s.substr(start, i - start)));
      start = i + 1;
    }
  }
  if (depth != 0) {
    throw InputError("attention spec '" + std::string(whole) + "': unbalanced '[' ']'");
  }
  return out;
}

AttentionPart parse_part(const std::string& text, std::string_view whole) {
  AttentionPart part;
  const size_t colon = text.find(':');
  part.name = trim(std::string_view(text).substr(0, colon));
  if (!valid_word(part.name)) {
    throw InputError("attention spec '" + std::string(whole) + "': expected a mechanism name before ':', got '" +
                     part.name + "' (expected NAME[:key=value,...])");
  }
  if (colon == std::string::npos) return part;
  for (const std::string& kv : split_top(std::string_view(text).substr(colon + 1), ',', whole)) {
    const size_t eq = kv.find('=');
    const std::string key = trim(std::string_view(kv).substr(0, eq));
    if (eq == std::string::npos || !valid_word(key)) {
      throw InputError("attention spec '" + std::string(whole) + "': '" + kv + "' in " + part.name +
                       " is not key=value");
    }
    const std::string value = trim(std::string_view(kv).substr(eq + 1));
    if (value.empty()) {
      throw InputError("attention spec '" + std::string(whole) + "': " + part.name + " key '" + key + "' has no value");
    }
    if (part.has(key)) {
      throw InputError("attention spec '" + std::string(whole) + "': " + part.name + " key '" + key + "' given twice");
    }
    part.params.emplace_back(key, value);
  }
  return part;
}

const std::string* value_of(const AttentionPart& p, std::string_view key) {
  for (const auto& [k, v] : p.params) {
    if (k == key) return &v;
  }
  return nullptr;
}

[[noreturn]] void bad_value(const AttentionPart& p, std::string_view key, const std::string& value,
                            const char* expected) {
  throw InputError("attention " + p.name + ": " + std::string(key) + "=" + value + " is not " + expected);
}

bool parse_int(std::string_view s, int64_t& out) {
  const auto r = std::from_chars(s.data(), s.data() + s.size(), out);
  return r.ec == std::errc() && r.ptr == s.data() + s.size();
}

}  // namespace

bool AttentionPart::has(std::string_view key) const { return value_of(*this, key) != nullptr; }

int64_t AttentionPart::integer(std::string_view key, int64_t fallback) const {
  const std::string* v = value_of(*this, key);
  if (!v) return fallback;
  int64_t out = 0;
  if (!parse_int(*v, out)) bad_value(*this, key, *v, "an integer");
  return out;
}

double AttentionPart::real(std::string_view key, double fallback) const {
  const std::string* v = value_of(*this, key);
  if (!v) return fallback;
  try {
    size_t used = 0;
    const double d = std::stod(*v, &used);
    if (used == v->size() && std::isfinite(d)) return d;
  } catch (const std::exception&) {
  }
  bad_value(*this, key, *v, "a finite number");
}

uint64_t AttentionPart::seed() const {
  const int64_t s = integer("seed", 0);
  if (s < 0) throw InputError("attention " + name + ": seed=" + std::to_string(s) + " is negative (expected an integer >= 0)");
  return static_cast<uint64_t>(s);
}

std::string AttentionPart::text(std::string_view key, const std::string& fallback) const {
  const std::string* v = value_of(*this, key);
  return v ? *v : fallback;
}

std::vector<int64_t> AttentionPart::ints(std::string_view key, const std::vector<int64_t>& fallback) const {
  const std::string* v = value_of(*this, key);
  if (!v) return fallback;
  std::string_view body = *v;
  if (body.size() >= 2 && body.front() == '[' && body.back() == ']') body = body.substr(1, body.size() - 2);
  std::vector<int64_t> out;
  size_t start = 0;
  for (size_t i = 0; i <= body.size(); ++i) {
    if (i == body.size() || body[i] == ',') {
      const std::string item = trim(body.substr(start, i - start));
      int64_t x = 0;
      if (!parse_int(item, x)) bad_value(*this, key, *v, "an integer or a list of integers like [8,16]");
      out.push_back(x);
      start = i + 1;
    }
  }
  return out;
}

void AttentionPart::check_keys(const std::vector<std::string>& known) const {
  for (const auto& [k, v] : params) {
    bool found = false;
    for (const std::string& n : known) found = found || n == k;
    if (found) continue;
    std::string list;
    for (const std::string& n : known) list += (list.empty() ? "" : ", ") + n;
    throw InputError("attention " + name + ": unknown key '" + k + "' (expected " +
                     (list.empty() ? std::string("no keys") : "one of: " + list) + ")");
  }
}

AttentionSpec AttentionSpec::parse(std::string_view text) {
  AttentionSpec spec;
  const std::string whole = trim(text);
  if (whole.empty()) throw InputError("attention spec is empty (expected NAME[:key=value,...], e.g. exact)");
  for (const std::string& part : split_top(whole, '+', whole)) {
    if (part.empty()) throw InputError("attention spec '" + whole + "': empty part around '+'");
    spec.parts.push_back(parse_part(part, whole));
  }
  for (size_t i = 0; i < spec.parts.size(); ++i) {
    for (size_t j = 0; j < i; ++j) {
      if (spec.parts[i].name == spec.parts[j].name) {
        throw InputError("attention spec '" + whole + "': " + spec.parts[i].name + " appears twice");
      }
    }
  }
  return spec;
}

std::string AttentionSpec::str() const {
  std::string out;
  for (const AttentionPart& p : parts) {
    if (!out.empty()) out += '+';
    out += p.name;
    for (size_t i = 0; i < p.params.size(); ++i) {
      out += (i == 0 ? ':' : ',') + p.params[i].first + '=' + p.params[i].second;
    }
  }
  return out;
}

const AttentionPart* AttentionSpec::find(std::string_view name) const {
  for (const AttentionPart& p : parts) {
    if (p.name == name) return &p;
  }
  return nullptr;
}

}  // namespace slimformer
