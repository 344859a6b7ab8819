#include "sb/http/parse.h"

#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace sb::http {
namespace {

TEST(ParseRequest, ParsesRequestLineHeadersQueryAndBody) {
  const Result<Request> r = ParseRequest(
      "POST /v1/tenants?limit=10&name=a%20b+c&flag HTTP/1.1\r\nHost: x\r\n"
      "Content-Type: application/json\r\nContent-Length: 2\r\n\r\n{}",
      {});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->method, "POST");
  EXPECT_EQ(r->target, "/v1/tenants?limit=10&name=a%20b+c&flag");
  EXPECT_EQ(r->path, "/v1/tenants");
  EXPECT_EQ(r->Query("limit"), "10");
  EXPECT_EQ(r->Query("name"), "a b c");
  EXPECT_EQ(r->Query("flag"), "");
  EXPECT_EQ(r->Header("content-type"), "application/json");
  EXPECT_EQ(r->Header("CONTENT-TYPE"), "application/json");
  EXPECT_FALSE(r->Header("X-Missing").has_value());
  EXPECT_EQ(r->body, "{}");
}

TEST(ParseRequest, ChunkedBody) {
  const Result<Request> r = ParseRequest(
      "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n", {});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->body, "abc");
}

TEST(ParseRequest, FailuresMapToDocumentedCodes) {
  EXPECT_EQ(ParseRequest("BROKEN\r\n\r\n", {}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseRequest("GET / HTTP/1.1\r\nHost: x\r\n", {}).status().code(),
            StatusCode::kInvalidArgument);  // incomplete
  EXPECT_EQ(ParseRequest("GET http://evil/ HTTP/1.1\r\nHost: x\r\n\r\n", {}).status().code(),
            StatusCode::kInvalidArgument);  // not origin-form
  EXPECT_EQ(ParseRequest("GET /a%zz HTTP/1.1\r\n\r\n", {}).status().code(),
            StatusCode::kOk);  // path stays raw; routing decodes params
  EXPECT_EQ(ParseRequest("GET /?q=%zz HTTP/1.1\r\n\r\n", {}).status().code(),
            StatusCode::kInvalidArgument);
  const ParseLimits small{.max_header_bytes = 64, .max_body_bytes = 4};
  EXPECT_EQ(
      ParseRequest("POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello", small).status().code(),
      StatusCode::kOutOfRange);
  EXPECT_EQ(ParseRequest("GET / HTTP/1.1\r\nX: " + std::string(100, 'a') + "\r\n\r\n", small)
                .status()
                .code(),
            StatusCode::kResourceExhausted);
  EXPECT_EQ(ParseFailureProblem(Status(StatusCode::kOutOfRange, "x"), small, "r").status, 413);
  EXPECT_EQ(ParseFailureProblem(ResourceExhaustedError("x"), small, "r").status, 431);
  EXPECT_EQ(ParseFailureProblem(InvalidArgumentError("x"), small, "r").status, 400);
}

TEST(RequestId, ValidatesIncomingAndGeneratesUnique) {
  EXPECT_TRUE(IsValidRequestId("abc-123_x.y:z"));
  EXPECT_FALSE(IsValidRequestId(""));
  EXPECT_FALSE(IsValidRequestId("has space"));
  EXPECT_FALSE(IsValidRequestId("new\nline"));
  EXPECT_FALSE(IsValidRequestId(std::string(129, 'a')));
  const std::string a = NewRequestId();
  EXPECT_EQ(a.size(), 32u);
  EXPECT_TRUE(IsValidRequestId(a));
  EXPECT_NE(a, NewRequestId());
}

TEST(PercentDecode, DecodesAndRejectsMalformed) {
  EXPECT_EQ(*PercentDecode("a%2Fb"), "a/b");
  EXPECT_EQ(*PercentDecode("a+b", true), "a b");
  EXPECT_EQ(*PercentDecode("a+b", false), "a+b");
  EXPECT_FALSE(PercentDecode("%").ok());
  EXPECT_FALSE(PercentDecode("%4").ok());
  EXPECT_FALSE(PercentDecode("%c3%28").ok());  // invalid UTF-8
}

}  // namespace
}  // namespace sb::http
