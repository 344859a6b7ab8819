// TokenClient against a scripted provider (FakeHttpClient): the requests it sends (OA-09:
// redirect_uri and code_verifier, client authentication), strict parsing of answers, the
// classification of failures (invalid_grant means reconnect, OA-10; 429/5xx are transient with
// Retry-After), and that no secret reaches an error message (OA-12).
#include "sb/oauth/token_client.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "sb/base/encoding.h"
#include "sb/net/testing/fake_http_client.h"

namespace sb::oauth {
namespace {

using net::testing::FakeHttpClient;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kSecret[] = "client-secret-7f3a";

class TokenClientTest : public ::testing::Test {
 protected:
  TokenEndpoint Endpoint(ClientAuth auth = ClientAuth::kClientSecretPost) {
    return {"https://idp.example/token", "https://idp.example/revoke", auth};
  }
  ClientCredentials Client() { return {"client-1", vault::SecretBytes(kSecret)}; }
  void Answer(int status, std::string body, net::HeaderList headers = {}) {
    http_.Enqueue(FakeHttpClient::MakeResponse(status, std::move(body), std::move(headers)));
  }
  std::map<std::string, std::string> SentForm() {
    std::map<std::string, std::string> out;
    std::string body = http_.last_request()->body;
    size_t start = 0;
    while (start < body.size()) {
      size_t amp = body.find('&', start);
      if (amp == std::string::npos) amp = body.size();
      const std::string pair = body.substr(start, amp - start);
      const size_t eq = pair.find('=');
      out[pair.substr(0, eq)] = pair.substr(eq + 1);
      start = amp + 1;
    }
    return out;
  }

  FakeHttpClient http_;
  TokenClient client_{http_};
};

TEST_F(TokenClientTest, ExchangeSendsVerifierAndExactRedirectAndParsesTokens) {  // OA-09
  Answer(200, R"({"access_token":"at-1","expires_in":3599,"refresh_token":"rt-1",
                 "scope":"openid https://www.googleapis.com/auth/calendar","token_type":"Bearer",
                 "id_token":"a.b.c"})");
  auto result = client_.ExchangeCode(Endpoint(), Client(), "code-1",
                                     "https://hub.example/oauth/callback", "verifier-1");
  ASSERT_TRUE(std::holds_alternative<TokenResponse>(result));
  const TokenResponse& tokens = std::get<TokenResponse>(result);
  EXPECT_EQ(tokens.access_token.view(), "at-1");
  ASSERT_TRUE(tokens.refresh_token);
  EXPECT_EQ(tokens.refresh_token->view(), "rt-1");
  EXPECT_EQ(tokens.expires_in_seconds, 3599);
  EXPECT_EQ(tokens.scopes,
            std::vector<std::string>({"openid", "https://www.googleapis.com/auth/calendar"}));
  EXPECT_EQ(tokens.id_token, "a.b.c");
  const net::HttpRequest sent = *http_.last_request();
  EXPECT_EQ(sent.method, "POST");
  EXPECT_EQ(sent.url, "https://idp.example/token");
  const auto form = SentForm();
  EXPECT_EQ(form.at("grant_type"), "authorization_code");
  EXPECT_EQ(form.at("code"), "code-1");
  EXPECT_EQ(form.at("redirect_uri"), "https%3A%2F%2Fhub.example%2Foauth%2Fcallback");
  EXPECT_EQ(form.at("code_verifier"), "verifier-1");
  EXPECT_EQ(form.at("client_id"), "client-1");
  EXPECT_EQ(form.at("client_secret"), kSecret);
}

TEST_F(TokenClientTest, BasicAuthKeepsTheSecretOutOfTheBody) {
  Answer(200, R"({"access_token":"at","token_type":"bearer","expires_in":"3600"})");
  auto result = client_.Refresh(Endpoint(ClientAuth::kClientSecretBasic), Client(), "rt",
                                {"Calendars.ReadWrite", "offline_access"});
  ASSERT_TRUE(std::holds_alternative<TokenResponse>(result));
  EXPECT_EQ(std::get<TokenResponse>(result).expires_in_seconds, 3600);  // numeric string
  EXPECT_FALSE(std::get<TokenResponse>(result).refresh_token);          // keep the old one
  const net::HttpRequest sent = *http_.last_request();
  EXPECT_THAT(sent.body, Not(HasSubstr(kSecret)));
  EXPECT_THAT(sent.body, HasSubstr("scope=Calendars.ReadWrite%20offline_access"));
  bool found = false;
  for (const auto& [name, value] : sent.headers) {
    if (name == "Authorization") {
      found = true;
      EXPECT_EQ(value, "Basic " + Base64Encode(std::string("client-1:") + kSecret));
    }
  }
  EXPECT_TRUE(found);
}

TEST_F(TokenClientTest, InvalidGrantMeansReconnectWithTheProviderCode) {  // OA-10
  Answer(400, R"({"error":"invalid_grant","error_description":"AADSTS70008: expired",
                 "error_codes":[70008]})");
  auto result = client_.Refresh(Endpoint(), Client(), "rt-secret-value");
  ASSERT_TRUE(std::holds_alternative<TokenError>(result));
  const TokenError& error = std::get<TokenError>(result);
  EXPECT_EQ(error.kind, TokenErrorKind::kInvalidGrant);
  EXPECT_EQ(error.provider_code, 70008);
  EXPECT_EQ(error.http_status, 400);
  EXPECT_THAT(error.ToString(), HasSubstr("invalid_grant"));
  EXPECT_THAT(error.ToString(), Not(HasSubstr("rt-secret-value")));
  EXPECT_THAT(error.ToString(), Not(HasSubstr(kSecret)));
  Answer(400, R"({"error":"interaction_required","suberror":"consent_required"})");
  EXPECT_EQ(std::get<TokenError>(client_.Refresh(Endpoint(), Client(), "rt")).kind,
            TokenErrorKind::kInvalidGrant);
}

TEST_F(TokenClientTest, ClassifiesClientTransientAndPermanentFailures) {
  Answer(401, R"({"error":"invalid_client","error_description":"Unauthorized"})");
  EXPECT_EQ(std::get<TokenError>(client_.Refresh(Endpoint(), Client(), "rt")).kind,
            TokenErrorKind::kInvalidClient);
  Answer(429, "", {{"Retry-After", "2.5"}});
  const TokenError throttled = std::get<TokenError>(client_.Refresh(Endpoint(), Client(), "rt"));
  EXPECT_EQ(throttled.kind, TokenErrorKind::kTransient);
  EXPECT_EQ(throttled.retry_after, std::chrono::milliseconds(2500));
  Answer(503, "<html>down</html>");
  EXPECT_EQ(std::get<TokenError>(client_.Refresh(Endpoint(), Client(), "rt")).kind,
            TokenErrorKind::kTransient);
  http_.Enqueue(DeadlineExceededError("POST https://idp.example/token: timed out"));
  EXPECT_EQ(std::get<TokenError>(client_.Refresh(Endpoint(), Client(), "rt")).kind,
            TokenErrorKind::kTransient);
  Answer(400, R"({"error":"invalid_scope"})");
  EXPECT_EQ(std::get<TokenError>(client_.Refresh(Endpoint(), Client(), "rt")).kind,
            TokenErrorKind::kPermanent);
}

TEST_F(TokenClientTest, StrictParsingOfSuccessfulAnswers) {  // OA-09
  for (const char* body : {R"({"access_token":"at","token_type":"mac"})",
                           R"({"access_token":"","token_type":"Bearer"})",
                           R"({"token_type":"Bearer"})", R"(["not","an","object"])",
                           R"({"access_token":"at","token_type":"Bearer","expires_in":"soon"})",
                           R"({"access_token":"at","token_type":"Bearer","expires_in":-5})"}) {
    Answer(200, body);
    auto result = client_.Refresh(Endpoint(), Client(), "rt");
    ASSERT_TRUE(std::holds_alternative<TokenError>(result)) << body;
    EXPECT_EQ(std::get<TokenError>(result).error, "invalid_response") << body;
  }
  TokenClient small(http_, 64);
  Answer(200, std::string(R"({"access_token":")") + std::string(100, 'a') +
                  R"(","token_type":"Bearer"})");
  EXPECT_EQ(std::get<TokenError>(small.Refresh(Endpoint(), Client(), "rt")).error,
            "invalid_response");
}

TEST_F(TokenClientTest, RevocationWithHintAndProvidersWithoutIt) {  // OA-13
  Answer(200, "");
  auto revoked = client_.Revoke(Endpoint(), Client(), "rt-1", "refresh_token");
  ASSERT_TRUE(std::holds_alternative<bool>(revoked));
  EXPECT_TRUE(std::get<bool>(revoked));
  EXPECT_EQ(http_.last_request()->url, "https://idp.example/revoke");
  EXPECT_EQ(SentForm().at("token_type_hint"), "refresh_token");
  Answer(400, R"({"error":"invalid_token","error_description":"Token expired or revoked"})");
  EXPECT_FALSE(std::get<bool>(client_.Revoke(Endpoint(), Client(), "rt-1", "refresh_token")));
  const size_t calls = http_.request_count();
  TokenEndpoint none = Endpoint();
  none.revocation_url.clear();
  EXPECT_FALSE(std::get<bool>(client_.Revoke(none, Client(), "rt-1", "refresh_token")));
  EXPECT_EQ(http_.request_count(), calls);
}

TEST(RetryAfterTest, SecondsFractionsAndDates) {
  const auto now = std::chrono::system_clock::from_time_t(1'700'000'000);
  EXPECT_EQ(ParseRetryAfter("10", now), std::chrono::milliseconds(10'000));
  EXPECT_EQ(ParseRetryAfter("2.128", now), std::chrono::milliseconds(2'128));
  EXPECT_EQ(ParseRetryAfter("Tue, 14 Nov 2023 22:13:30 GMT", now),
            std::chrono::milliseconds(10'000));
  EXPECT_EQ(ParseRetryAfter("Tue, 14 Nov 2023 22:13:00 GMT", now), std::chrono::milliseconds(0));
  EXPECT_FALSE(ParseRetryAfter("soon", now));
  EXPECT_FALSE(ParseRetryAfter("-3", now));
}

}  // namespace
}  // namespace sb::oauth
