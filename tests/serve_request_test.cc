// The request parsers of `slimformer serve`: every status a body can earn, without sockets.
#include <gtest/gtest.h>

#include "serve/request.h"

namespace {

namespace sv = slimformer::serve;
const std::string kJson = "application/json";

template <typename T>
int status_of(const sv::Parsed<T>& p) {
  return std::holds_alternative<T>(p) ? 200 : std::get<sv::RequestError>(p).status;
}

TEST(ServeRequest, EmbedTakesAStringOrAListAndTheOptions) {
  auto one = sv::parse_embed_request(R"({"inputs": "hello"})", kJson);
  ASSERT_EQ(status_of(one), 200);
  const auto& r1 = std::get<sv::EmbedRequest>(one);
  EXPECT_EQ(r1.texts, std::vector<std::string>{"hello"});
  EXPECT_FALSE(r1.normalize.has_value());
  EXPECT_FALSE(r1.truncate);

  auto many = sv::parse_embed_request(R"({"inputs": ["a", "b c"], "normalize": false, "truncate": true})",
                                      "Application/JSON; charset=utf-8");
  ASSERT_EQ(status_of(many), 200);
  const auto& r2 = std::get<sv::EmbedRequest>(many);
  EXPECT_EQ(r2.texts, (std::vector<std::string>{"a", "b c"}));
  EXPECT_EQ(r2.normalize, std::optional<bool>(false));
  EXPECT_TRUE(r2.truncate);
}

TEST(ServeRequest, EmbedErrorsCarryTheirStatusAndType) {
  const std::vector<std::pair<std::string, int>> cases = {
      {R"({"inputs": []})", 422},             // empty list
      {R"({"inputs": ["a", 3]})", 422},       // a non-string input
      {R"({"inputs": [["a"]]})", 422},
      {R"({"inputs": null})", 422},
      {R"({"text": "a"})", 422},              // no inputs
      {R"({"inputs": "a", "normalize": "yes"})", 422},
      {R"({"inputs": "a", "truncate": 1})", 422},
      {R"({"inputs": "a")", 400},             // cut short
      {R"(["a"])", 400},                      // not an object
      {"", 400},
      {"{\"inputs\": \"\xff\xfe\"}", 422},    // not UTF-8
  };
  for (const auto& [body, status] : cases) {
    const auto p = sv::parse_embed_request(body, kJson);
    ASSERT_EQ(status_of(p), status) << body;
    const auto& e = std::get<sv::RequestError>(p);
    EXPECT_FALSE(e.message.empty()) << body;
    EXPECT_EQ(e.error_type, status == 400 ? "Malformed" : "Validation") << body;
  }
}

TEST(ServeRequest, OnlyJsonIsAccepted) {
  for (const std::string type : {"", "text/plain", "application/jsonx", "multipart/form-data; boundary=x"}) {
    const auto p = sv::parse_embed_request(R"({"inputs": "a"})", type);
    ASSERT_EQ(status_of(p), 415) << type;
    EXPECT_EQ(std::get<sv::RequestError>(p).error_type, "UnsupportedMediaType");
  }
  EXPECT_TRUE(sv::is_json_content_type(" application/json ;charset=UTF-8"));
}

TEST(ServeRequest, OpenAiShape) {
  auto p = sv::parse_openai_request(R"({"input": ["x", "y"], "model": "m", "encoding_format": "float"})", kJson);
  ASSERT_EQ(status_of(p), 200);
  EXPECT_EQ(std::get<sv::EmbedRequest>(p).texts.size(), 2u);
  EXPECT_EQ(std::get<sv::EmbedRequest>(p).model, "m");
  EXPECT_EQ(status_of(sv::parse_openai_request(R"({"input": [1, 2, 3]})", kJson)), 422);   // token ids
  EXPECT_EQ(status_of(sv::parse_openai_request(R"({"input": "x", "encoding_format": "base64"})", kJson)), 422);
  EXPECT_EQ(status_of(sv::parse_openai_request(R"({"input": "x", "model": 3})", kJson)), 422);
  EXPECT_EQ(status_of(sv::parse_openai_request(R"({"inputs": "x"})", kJson)), 422);   // TEI's field name
}

TEST(ServeRequest, TokenizeShape) {
  auto p = sv::parse_tokenize_request(R"({"inputs": "x", "add_special_tokens": false})", kJson);
  ASSERT_EQ(status_of(p), 200);
  EXPECT_FALSE(std::get<sv::TokenizeRequest>(p).add_special_tokens);
  EXPECT_EQ(status_of(sv::parse_tokenize_request(R"({"inputs": []})", kJson)), 422);
}

// Bodies cut at every byte and every single byte flipped: an answer each time, never a throw.
TEST(ServeRequest, DamagedBodiesGetAnAnswer) {
  const std::string body = R"({"inputs": ["a b", "\u00e9t\u00e9"], "normalize": true, "truncate": false})";
  for (size_t cut = 0; cut <= body.size(); ++cut) {
    EXPECT_NO_THROW((void)sv::parse_embed_request(body.substr(0, cut), kJson));
  }
  for (size_t i = 0; i < body.size(); ++i) {
    for (const char c : {'\0', '\x80', '"', '[', '\\'}) {
      std::string b = body;
      b[i] = c;
      const auto p = sv::parse_embed_request(b, kJson);
      EXPECT_TRUE(status_of(p) == 200 || status_of(p) == 400 || status_of(p) == 422) << b;
    }
  }
}

}  // namespace
