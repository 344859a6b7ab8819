// ParseJson's limits, one by one, at and past each limit (security.md IN-07: hard limits before
// parsing, JSON depth included).
#include "sb/base/json.h"

#include <string>

#include <gtest/gtest.h>

namespace sb {
namespace {

std::string Nested(size_t depth) { return std::string(depth, '[') + std::string(depth, ']'); }

std::string ArrayOf(size_t items) {
  std::string text = "[";
  for (size_t i = 0; i < items; ++i) text += i == 0 ? "0" : ",0";
  return text + "]";
}

std::string ObjectOf(size_t members) {
  std::string text = "{";
  for (size_t i = 0; i < members; ++i) {
    text += (i == 0 ? "\"k" : ",\"k") + std::to_string(i) + "\":0";
  }
  return text + "}";
}

Status Refusal(std::string_view text, const JsonLimits& limits = {}) {
  Result<Json> parsed = ParseJson(text, limits);
  EXPECT_FALSE(parsed.ok());
  return parsed.ok() ? OkStatus() : parsed.status();
}

TEST(ParseJson, BuildsTheDocument) {
  Result<Json> parsed =
      ParseJson(R"({"a":[1,-2,3.5,true,null,"x"],"b":{"c":{}},"d":18446744073709551615})", {});
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(*parsed, Json::parse(R"({"a":[1,-2,3.5,true,null,"x"],"b":{"c":{}},
                                     "d":18446744073709551615})"));
  EXPECT_EQ(ParseJson("\"scalar\"", {}).value(), "scalar");
  EXPECT_EQ(ParseJson(" 7 ", {}).value(), 7);
}

TEST(ParseJson, MalformedNamesTheByteAndNeverEchoesInput) {
  for (const char* text : {R"({"secret-token-abc" 1})", R"({"a":1} secret-token-abc)",
                           "/* secret-token-abc */ {}", "[1,]", "", R"(["\ud800"])"}) {
    Status status = Refusal(text);
    EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
    EXPECT_NE(status.message().find("malformed JSON at byte "), std::string::npos) << text;
    EXPECT_EQ(status.message().find("secret"), std::string::npos) << status.message();
  }
  EXPECT_EQ(Refusal("[\"\xff\"]").code(), StatusCode::kInvalidArgument);  // invalid UTF-8
}

TEST(ParseJson, TotalSizeLimit) {
  const JsonLimits limits{.max_bytes = 10};
  EXPECT_TRUE(ParseJson("[1,2,3,44]", limits).ok());
  EXPECT_EQ(Refusal("[1,2,3,444]", limits).message(), "JSON document larger than 10 bytes");
}

TEST(ParseJson, DepthLimitAtAndPast) {
  EXPECT_TRUE(ParseJson(Nested(32), {}).ok());
  EXPECT_EQ(Refusal(Nested(33)).message(), "JSON nesting deeper than 32 levels");
  std::string objects;
  for (int i = 0; i < 32; ++i) objects += "{\"a\":";
  objects += "1";
  for (int i = 0; i < 32; ++i) objects += "}";
  EXPECT_TRUE(ParseJson(objects, {}).ok());
  EXPECT_EQ(Refusal("{\"a\":" + objects + "}").message(), "JSON nesting deeper than 32 levels");
}

// The shape that stopped the server: 100,000 levels, refused at level 33 without recursion.
TEST(ParseJson, HundredThousandLevelsAreRefusedNotOverflowed) {
  EXPECT_EQ(Refusal(Nested(100'000)).message(), "JSON nesting deeper than 32 levels");
  std::string objects;
  for (int i = 0; i < 100'000; ++i) objects += "{\"a\":";
  EXPECT_EQ(Refusal(objects).message(), "JSON nesting deeper than 32 levels");
}

TEST(ParseJson, StringLimitForValuesAndKeys) {
  const JsonLimits limits{.max_string_bytes = 8};
  EXPECT_TRUE(ParseJson(R"({"12345678":"12345678"})", limits).ok());
  EXPECT_EQ(Refusal(R"(["123456789"])", limits).message(), "JSON string longer than 8 bytes");
  EXPECT_EQ(Refusal(R"({"123456789":1})", limits).message(), "JSON string longer than 8 bytes");
  // Escapes count as the bytes they decode to.
  EXPECT_TRUE(ParseJson(R"(["\u00e9\u00e9\u00e9\u00e9"])", limits).ok());
  EXPECT_FALSE(ParseJson(R"(["\u00e9\u00e9\u00e9\u00e9x"])", limits).ok());
  // A long string with the default limits.
  EXPECT_EQ(Refusal("\"" + std::string(64 * 1024 + 1, 'a') + "\"").message(),
            "JSON string longer than 65536 bytes");
  EXPECT_TRUE(ParseJson("\"" + std::string(64 * 1024, 'a') + "\"", {}).ok());
}

TEST(ParseJson, MemberAndItemLimits) {
  EXPECT_TRUE(ParseJson(ObjectOf(1000), {}).ok());
  EXPECT_EQ(Refusal(ObjectOf(1001)).message(), "JSON object with more than 1000 members");
  EXPECT_TRUE(ParseJson(ArrayOf(1000), {}).ok());
  EXPECT_EQ(Refusal(ArrayOf(1001)).message(), "JSON array with more than 1000 items");
  // A huge array is refused at the first item past the limit.
  EXPECT_EQ(Refusal(ArrayOf(400'000), {.max_bytes = 1 << 21}).message(),
            "JSON array with more than 1000 items");
  // Repeated keys count each time they appear.
  EXPECT_FALSE(ParseJson(R"({"a":1,"a":2,"a":3})", {.max_members = 2}).ok());
}

TEST(ParseJson, TotalValueLimit) {
  const JsonLimits limits{.max_values = 5};
  EXPECT_TRUE(ParseJson("[[1,2],3]", limits).ok());  // root, inner array, 1, 2, 3
  EXPECT_EQ(Refusal("[[1,2],[3]]", limits).message(), "JSON document with more than 5 values");
}

TEST(JsonDepth, CountsIterativelyOnDeepDocuments) {
  EXPECT_EQ(JsonDepth(Json(1)), 0u);
  EXPECT_EQ(JsonDepth(Json::array()), 1u);
  EXPECT_EQ(JsonDepth(Json::parse(R"({"a":[1,{"b":[]}],"c":2})")), 4u);
  Result<Json> deep = ParseJson(Nested(100'000), {.max_bytes = 1 << 20, .max_depth = 100'000});
  ASSERT_TRUE(deep.ok()) << deep.status().ToString();
  EXPECT_EQ(JsonDepth(*deep), 100'000u);
}

}  // namespace
}  // namespace sb
