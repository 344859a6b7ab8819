// Hostile or broken provider answers (deep, huge, garbage) get a classified failure, never a
// crash: every provider JSON is parsed with kProviderJsonLimits (security.md IN-07, TST-F1).
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "sb/base/testing/fake_clock.h"
#include "sb/net/testing/fake_http_client.h"
#include "sb/oauth/jwks_cache.h"
#include "sb/oauth/provider_json.h"
#include "sb/oauth/token_client.h"

namespace sb::oauth {
namespace {

using net::testing::FakeHttpClient;
using ::testing::HasSubstr;

std::string Deep(size_t levels) { return std::string(levels, '[') + std::string(levels, ']'); }

class ProviderAnswersTest : public ::testing::Test {
 protected:
  TokenEndpoint Endpoint() {
    return {"https://idp.example/token", "https://idp.example/revoke",
            ClientAuth::kClientSecretPost};
  }
  ClientCredentials Client() { return {"client-1", vault::SecretBytes("secret-1")}; }
  TokenResult<TokenResponse> RefreshAnswered(int status, std::string body) {
    http_.Enqueue(FakeHttpClient::MakeResponse(status, std::move(body)));
    return client_.Refresh(Endpoint(), Client(), "rt");
  }

  FakeHttpClient http_;
  TokenClient client_{http_};
  sb::testing::FakeClock clock_;
};

TEST_F(ProviderAnswersTest, DeepTokenAnswerIsAPermanentProtocolError) {
  const std::string valid = R"({"access_token":"at","token_type":"Bearer","x":)";
  auto deep = RefreshAnswered(200, valid + Deep(30'000) + "}");
  ASSERT_TRUE(std::holds_alternative<TokenError>(deep));
  const TokenError& error = std::get<TokenError>(deep);
  EXPECT_EQ(error.kind, TokenErrorKind::kPermanent);
  EXPECT_EQ(error.error, "invalid_response");
  EXPECT_EQ(error.description, "token response: JSON nesting deeper than 16 levels");
  // 15 levels under the answer object: still a token.
  EXPECT_TRUE(std::holds_alternative<TokenResponse>(RefreshAnswered(200, valid + Deep(15) + "}")));
}

TEST_F(ProviderAnswersTest, HugeAndGarbageTokenAnswersAreClassified) {
  std::string many = R"({"access_token":"at","token_type":"Bearer","x":[)";
  for (int i = 0; i < 1001; ++i) many += i == 0 ? "0" : ",0";
  auto huge = RefreshAnswered(200, many + "]}");
  ASSERT_TRUE(std::holds_alternative<TokenError>(huge));
  EXPECT_EQ(std::get<TokenError>(huge).description,
            "token response: JSON array with more than 1000 items");
  auto garbage = RefreshAnswered(200, "\x01\xff{{not json");
  ASSERT_TRUE(std::holds_alternative<TokenError>(garbage));
  EXPECT_THAT(std::get<TokenError>(garbage).description, HasSubstr("malformed JSON at byte"));
}

// An error answer past the limits is classified by its HTTP status alone: its OAuth members are
// not read.
TEST_F(ProviderAnswersTest, DeepErrorAnswerIsClassifiedByStatus) {
  auto deep = RefreshAnswered(400, R"({"error":"invalid_grant","x":)" + Deep(20) + "}");
  ASSERT_TRUE(std::holds_alternative<TokenError>(deep));
  EXPECT_EQ(std::get<TokenError>(deep).kind, TokenErrorKind::kPermanent);
  EXPECT_EQ(std::get<TokenError>(deep).error, "http_400");
  auto deep_5xx = RefreshAnswered(503, Deep(30'000));
  ASSERT_TRUE(std::holds_alternative<TokenError>(deep_5xx));
  EXPECT_EQ(std::get<TokenError>(deep_5xx).kind, TokenErrorKind::kTransient);
}

TEST_F(ProviderAnswersTest, DeepOrGarbageKeySetIsUnavailable) {
  JwksCache cache(http_, clock_);
  for (const std::string& body :
       {R"({"keys":[],"x":)" + Deep(100'000) + "}",
        std::string("{\"keys\":[") + std::string("\x00\x01", 2),
        R"({"keys":[{"kty":"RSA","n":")" + std::string(70'000, 'A') + R"("}]})"}) {
    http_.Enqueue(FakeHttpClient::MakeResponse(200, body));
    auto keys = cache.Get("https://idp.example/jwks", /*refetch=*/false);
    EXPECT_EQ(keys.status().code(), StatusCode::kUnavailable);
    EXPECT_THAT(keys.status().message(), HasSubstr("key set is unusable: "));
  }
  http_.Enqueue(FakeHttpClient::MakeResponse(200, R"({"keys":)" + Deep(17) + "}"));
  EXPECT_EQ(cache.Get("https://idp.example/jwks", false).status().message(),
            "the provider's key set is unusable: JSON nesting deeper than 16 levels");
}

// Userinfo answers (ConnectService) go through ParseUserinfo: past the limits, the answer
// names no account.
TEST(ProviderJson, UserinfoPastTheLimitsNamesNoAccount) {
  EXPECT_EQ(ParseUserinfo(R"({"sub":"1","email":"a@example.com"})").subject, "1");
  EXPECT_EQ(ParseUserinfo(R"({"id":42,"email":"a@example.com"})").subject, "42");
  EXPECT_EQ(ParseUserinfo(R"({"id":42,"email":"a@example.com"})").email, "a@example.com");
  EXPECT_EQ(ParseUserinfo(R"({"sub":"1","x":)" + Deep(100'000) + "}").subject, "");
  EXPECT_EQ(ParseUserinfo(R"({"sub":"1","x":)" + Deep(15) + "}").subject, "1");
  EXPECT_EQ(ParseUserinfo("\xff garbage").subject, "");
}

TEST(ProviderJson, PastTheLimitsIsNull) {
  EXPECT_TRUE(ProviderJsonOrNull(R"({"sub":"1","x":)" + Deep(16) + "}").is_null());
  EXPECT_TRUE(ProviderJsonOrNull(R"({"sub":")" + std::string(65'537, 'a') + "\"}").is_null());
  EXPECT_TRUE(ProviderJsonOrNull("garbage").is_null());
  EXPECT_EQ(ProviderJsonOrNull(R"({"sub":"1","x":)" + Deep(15) + "}")["sub"], "1");
}

}  // namespace
}  // namespace sb::oauth
