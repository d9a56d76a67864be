#include "io/json_text.h"

#include <cstdio>
#include <unordered_set>
#include <vector>

#include "slimformer/error.h"

namespace slimformer::io {
namespace {

using Json = nlohmann::json;

// Appends `s` escaped as in a JSON string (control characters as \n, \u0001, ...) until `out`
// reaches `limit` characters.
void append_escaped(std::string& out, const std::string& s, size_t limit) {
  for (unsigned char ch : s) {
    if (out.size() >= limit) return;
    if (ch == '"' || ch == '\\') {
      out += '\\';
      out += static_cast<char>(ch);
    } else if (ch == '\n') {
      out += "\\n";
    } else if (ch == '\r') {
      out += "\\r";
    } else if (ch == '\t') {
      out += "\\t";
    } else if (ch < 0x20 || ch == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", ch);
      out += buf;
    } else {
      out += static_cast<char>(ch);
    }
  }
}

// Cuts `out` to `limit` characters plus "..." when longer, never inside a UTF-8 sequence.
std::string cut(std::string out, size_t limit) {
  if (out.size() <= limit) return out;
  size_t n = limit;
  while (n > 0 && (static_cast<unsigned char>(out[n]) & 0xC0) == 0x80) --n;
  out.resize(n);
  return out + "...";
}

void append_scalar(std::string& out, const Json& v, size_t limit) {
  if (v.is_string()) {
    out += '"';
    append_escaped(out, v.get_ref<const std::string&>(), limit);
    out += '"';
  } else if (v.is_binary()) {
    out += "<binary>";
  } else {
    out += v.dump();   // a number, true, false or null: short
  }
}

}  // namespace

void check_json_depth(const char* begin, const char* end, const std::string& what) {
  size_t depth = 0;
  bool in_string = false;
  for (const char* p = begin; p < end; ++p) {
    const char ch = *p;
    if (in_string) {
      if (ch == '\\') ++p;   // the escaped character cannot end the string
      else if (ch == '"') in_string = false;
    } else if (ch == '"') {
      in_string = true;
    } else if (ch == '[' || ch == '{') {
      if (++depth > kMaxJsonDepth) {
        throw FormatError(what + " nests arrays/objects more than " + std::to_string(kMaxJsonDepth) +
                          " levels deep (at byte " + std::to_string(p - begin) + "); no model file nests that deep");
      }
    } else if ((ch == ']' || ch == '}') && depth > 0) {
      --depth;
    }
  }
}

Json parse_json_checked(const char* begin, const char* end, const std::string& what) {
  check_json_depth(begin, end, what);
  // The keys seen so far in each object being read, innermost last.
  std::vector<std::unordered_set<std::string>> open_objects;
  auto on_event = [&](int depth, Json::parse_event_t event, Json& parsed) {
    if (event == Json::parse_event_t::object_start) {
      open_objects.emplace_back();
    } else if (event == Json::parse_event_t::object_end) {
      open_objects.pop_back();
    } else if (event == Json::parse_event_t::key && !open_objects.empty()) {
      const std::string& key = parsed.get_ref<const std::string&>();
      if (!open_objects.back().insert(key).second) {
        throw FormatError(what + " repeats the key \"" + text_excerpt(key) + "\" in one object (at nesting depth " +
                          std::to_string(depth) + "); each key may appear once");
      }
    }
    return true;
  };
  return Json::parse(begin, end, on_event);
}

std::string json_excerpt(const Json& v, size_t limit) {
  struct Frame {
    const Json* node;
    Json::const_iterator next;
    bool first;
  };
  std::string out;
  std::vector<Frame> stack;
  // Scalars are written now; containers open a frame the loop below walks.
  auto open = [&](const Json& node) {
    if (node.is_array() || node.is_object()) {
      out += node.is_array() ? '[' : '{';
      stack.push_back(Frame{&node, node.cbegin(), true});
    } else {
      append_scalar(out, node, limit);
    }
  };
  open(v);
  while (!stack.empty() && out.size() <= limit) {
    Frame& f = stack.back();
    if (f.next == f.node->cend()) {
      out += f.node->is_array() ? ']' : '}';
      stack.pop_back();
      continue;
    }
    if (!f.first) out += ',';
    f.first = false;
    const Json* child = &*f.next;
    if (f.node->is_object()) {
      out += '"';
      append_escaped(out, f.next.key(), limit);
      out += "\":";
    }
    ++f.next;   // before open(), which may grow the stack and move `f`
    open(*child);
  }
  return cut(std::move(out), limit);
}

std::string describe_json(const Json& v) {
  const char* type = v.is_number_integer() ? "integer" : v.is_number_float() ? "number" : v.type_name();
  return std::string(type) + " " + json_excerpt(v);
}

std::string text_excerpt(const std::string& text, size_t limit) {
  std::string out;
  append_escaped(out, text, limit + 1);
  return cut(std::move(out), limit);
}

}  // namespace slimformer::io
