// io/json_text: the nesting limit, repeated keys, and bounded one-line excerpts of values and
// strings for error messages, checked against nlohmann's own dump() where that is safe to call.
#include <gtest/gtest.h>

#include <string>

#include "io/json_file.h"
#include "io/json_text.h"
#include "io_test_util.h"
#include "slimformer/error.h"
#include "test_util.h"

namespace {
using namespace slimformer;
using io::Json;

std::string nested_arrays(size_t depth) { return std::string(depth, '[') + std::string(depth, ']'); }

Json parse(const std::string& text) { return io::parse_json_checked(text.data(), text.data() + text.size(), "'t.json'"); }

// A value `depth` arrays deep, built without parsing (and freed by nlohmann without recursion).
Json deep_value(size_t depth) {
  Json root = Json::array();
  Json* inner = &root;
  for (size_t i = 1; i < depth; ++i) {
    inner->push_back(Json::array());
    inner = &inner->back();
  }
  inner->push_back(1);
  return root;
}

TEST(IoJsonText, NestingUpToTheLimitParses) {
  EXPECT_NO_THROW(parse(nested_arrays(io::kMaxJsonDepth)));
  EXPECT_NO_THROW(parse("{\"a\": " + nested_arrays(io::kMaxJsonDepth - 1) + "}"));
}

TEST(IoJsonText, DeeperNestingIsRefusedBeforeParsing) {
  for (size_t depth : {io::kMaxJsonDepth + 1, size_t{50000}, size_t{1000000}}) {
    SCOPED_TRACE(depth);
    iotest::expect_error<FormatError>([&] { parse(nested_arrays(depth)); }, {"'t.json'", "512", "levels deep"});
  }
  // Objects count as well as arrays, and the byte where the limit is passed is named.
  std::string objects;
  for (int i = 0; i < 600; ++i) objects += "{\"k\":";
  iotest::expect_error<FormatError>([&] { parse(objects); }, {"at byte 2560"});
}

TEST(IoJsonText, BracketsInsideStringsDoNotCount) {
  const Json j = parse("{\"s\": \"" + std::string(5000, '[') + "\\\"[[\"}");
  EXPECT_EQ(j["s"].get<std::string>().size(), 5003u);
}

TEST(IoJsonText, RepeatedKeysAreRefusedPerObject) {
  iotest::expect_error<FormatError>([] { parse(R"({"a": 1, "b": 2, "a": 3})"); }, {"'t.json'", "repeats the key \"a\""});
  iotest::expect_error<FormatError>([] { parse(R"({"x": {"k": 1, "k": 1}})"); }, {"\"k\"", "depth 2"});
  // The same key in different objects is fine.
  const Json j = parse(R"({"a": {"a": 1}, "b": [{"a": 2}, {"a": 3}]})");
  EXPECT_EQ(j["b"][1]["a"].get<int>(), 3);
}

TEST(IoJsonText, ParseJsonTextWordsSyntaxErrorsOnOneBoundedLine) {
  const std::string text = "[\"" + std::string(100000, 'x') + "\n\"]";   // a raw newline inside a string
  const std::string msg = slimtest::message_of<FormatError>([&] { io::parse_json_text(text, "f.json"); });
  EXPECT_NE(msg.find("'f.json' is not valid JSON"), std::string::npos) << msg;
  EXPECT_LT(msg.size(), 400u);
  EXPECT_EQ(msg.find('\n'), std::string::npos);
}

TEST(IoJsonText, ExcerptOfAShortValueIsItsDump) {
  for (const char* text : {"3", "-7", "2.5", "true", "null", "\"a b\"", "[]", "{}", "[1,[2,{\"k\":null}]]",
                           "{\"a\":1,\"b\":[true,false]}", "\"tab\\tquote\\\"\""}) {
    const Json v = Json::parse(text);
    EXPECT_EQ(io::json_excerpt(v), v.dump()) << text;
  }
  EXPECT_EQ(io::describe_json(Json::parse("17")), "integer 17");
  EXPECT_EQ(io::describe_json(Json::parse("[1]")), "array [1]");
}

TEST(IoJsonText, ExcerptOfALongValueIsAPrefixOfItsDump) {
  Json big = Json::array();
  for (int i = 0; i < 10000; ++i) big.push_back(i);
  const std::string dump = big.dump(), excerpt = io::json_excerpt(big);
  ASSERT_EQ(excerpt.substr(excerpt.size() - 3), "...");
  EXPECT_LE(excerpt.size(), io::kExcerptChars + 3);
  EXPECT_EQ(dump.compare(0, excerpt.size() - 3, excerpt, 0, excerpt.size() - 3), 0) << excerpt;
  const Json long_string = std::string(100000, 'y');
  EXPECT_EQ(io::json_excerpt(long_string), "\"" + std::string(io::kExcerptChars - 1, 'y') + "...");
}

TEST(IoJsonText, ExcerptOfADeepValueDoesNotRecurse) {
  for (size_t depth : {size_t{50000}, size_t{1000000}}) {
    const Json v = deep_value(depth);
    EXPECT_EQ(io::json_excerpt(v), std::string(io::kExcerptChars, '[') + "...");
    EXPECT_EQ(io::describe_json(v).rfind("array [[[", 0), 0u);
  }
}

TEST(IoJsonText, TextExcerptIsOneBoundedLine) {
  EXPECT_EQ(io::text_excerpt("plain"), "plain");
  EXPECT_EQ(io::text_excerpt("a\nb\r\tc\x01"), "a\\nb\\r\\tc\\u0001");
  const std::string t = io::text_excerpt(std::string(1000, 'z') + "\n");
  EXPECT_EQ(t, std::string(io::kExcerptChars, 'z') + "...");
  // A cut never splits a UTF-8 sequence: 30 two-byte characters then more.
  std::string accents;
  for (int i = 0; i < 40; ++i) accents += "\xc3\xa9";
  const std::string cut = io::text_excerpt(accents, 7);
  EXPECT_EQ(cut, "\xc3\xa9\xc3\xa9\xc3\xa9...");
}

}  // namespace
