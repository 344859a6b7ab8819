// The callback's steps one at a time, over a fake HTTP client playing the provider (token
// endpoint, JWKS, userinfo). The whole flow runs end to end in app/testing/connect_suite_tests.h.
#include "sb/connections/callback_steps.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "sb/base/testing/fake_clock.h"
#include "sb/connections/connect.h"
#include "sb/net/testing/fake_http_client.h"
#include "sb/vault/testing/jws_signer.h"

namespace sb::connections {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using vault::testing::JwsSigner;

constexpr char kClient[] = "1234-abc.apps.googleusercontent.com";
constexpr char kNonce[] = "n-0S6_WzA2Mj";
constexpr char kJwksUrl[] = "https://www.googleapis.com/oauth2/v3/certs";
constexpr char kTokenUrl[] = "https://oauth2.googleapis.com/token";

const JwsSigner& IssuerKey() {
  static const JwsSigner* key = new JwsSigner(JwsSigner::GenerateRsa());
  return *key;
}
const JwsSigner& RotatedKey() {
  static const JwsSigner* key = new JwsSigner(JwsSigner::GenerateRsa());
  return *key;
}

oauth::ProviderEntry GoogleLike() {
  oauth::ProviderEntry e;
  e.id = "google";
  e.token_url = kTokenUrl;
  e.issuer = "https://accounts.google.com";
  e.issuer_aliases = {"accounts.google.com"};
  e.jwks_url = kJwksUrl;
  e.id_token_algorithms = {"RS256"};
  e.identity_scopes = {"openid", "email", "profile"};
  e.pkce = oauth::PkceMethod::kS256;
  return e;
}

// A provider without OpenID Connect that names the account at its userinfo endpoint.
oauth::ProviderEntry UserinfoOnly() {
  oauth::ProviderEntry e;
  e.id = "acme";
  e.token_url = "https://acme.example/oauth/token";
  e.userinfo_url = "https://acme.example/me";
  e.pkce = oauth::PkceMethod::kNone;
  return e;
}

store::OAuthTransactionRecord Transaction(Timestamp now) {
  store::OAuthTransactionRecord t;
  t.provider = "google";
  t.issuer = "https://accounts.google.com";
  t.nonce_hash = HashHex(kNonce);
  t.browser_binding = HashHex("cookie-value");
  t.redirect_uri = "https://hub.example/connect/callback";
  t.scopes = {"openid", "email", "https://www.googleapis.com/auth/calendar"};
  t.created_at = now;
  t.expires_at = now + std::chrono::minutes(10);
  return t;
}

CallbackParams Answer(std::string code = "auth-code") {
  CallbackParams p;
  p.state = "state";
  p.code = std::move(code);
  p.browser_binding = "cookie-value";
  return p;
}

template <typename T>
CallbackError ErrorOf(const StepResult<T>& result) {
  const auto* failure = std::get_if<StepFailure>(&result);
  return failure != nullptr ? failure->error : CallbackError::kUnknownState;
}

// ---- The state's own checks. ----

TEST(CheckPendingState, AcceptsAFreshUnusedStateInTheSameBrowser) {
  const Timestamp now = FromUnixMicros(1'700'000'000'000'000);
  EXPECT_EQ(CheckPendingState(Transaction(now), "cookie-value", now), std::nullopt);
}

TEST(CheckPendingState, RefusesReplayExpiryAndAnotherBrowser) {
  const Timestamp now = FromUnixMicros(1'700'000'000'000'000);
  store::OAuthTransactionRecord used = Transaction(now);
  used.consumed_at = now;
  EXPECT_EQ(CheckPendingState(used, "cookie-value", now), CallbackError::kStateReplayed);
  EXPECT_EQ(CheckPendingState(Transaction(now), "cookie-value", now + std::chrono::minutes(10)),
            CallbackError::kStateExpired);
  EXPECT_EQ(CheckPendingState(Transaction(now), "", now), CallbackError::kBrowserMismatch);
  EXPECT_EQ(CheckPendingState(Transaction(now), "other-cookie", now),
            CallbackError::kBrowserMismatch);
}

// ---- Whether a failed callback may start its session again. ----

TEST(RetryOf, OnlyTheBrowserHoldingTheTokenOfAnUnexpiredSessionMayRetry) {
  const Timestamp now = FromUnixMicros(1'700'000'000'000'000);
  store::ConnectSessionRecord session;
  session.token_hash = HashHex("tenant.session-token");
  session.expires_at = now + std::chrono::minutes(1);
  EXPECT_EQ(RetryOf(session, "tenant.session-token", now), SessionRetry::kUsable);
  EXPECT_EQ(RetryOf(session, "tenant.session-token", session.expires_at), SessionRetry::kExpired);
  // Without the token (another browser, or no cookie) nothing is told, expired or not.
  EXPECT_EQ(RetryOf(session, "tenant.other-token", now), SessionRetry::kUnknown);
  EXPECT_EQ(RetryOf(session, "", now), SessionRetry::kUnknown);
  EXPECT_EQ(RetryOf(session, "tenant.other-token", session.expires_at), SessionRetry::kUnknown);
  EXPECT_EQ(RetryOf(std::nullopt, "tenant.session-token", now), SessionRetry::kUnknown);
}

// ---- The provider's answer on the redirect. ----

TEST(CheckProviderAnswer, ConsentRefusalsAreAccessDenied) {
  const Timestamp now = FromUnixMicros(1'700'000'000'000'000);
  for (const char* error : {"access_denied", "consent_required", "interaction_required"}) {
    CallbackParams p = Answer("");
    p.error = error;
    auto failure = CheckProviderAnswer(GoogleLike(), p, Transaction(now), true);
    ASSERT_TRUE(failure.has_value()) << error;
    EXPECT_EQ(failure->error, CallbackError::kAccessDenied) << error;
  }
}

TEST(CheckProviderAnswer, OtherProviderErrorsEchoOnlyAPlainCode) {
  const Timestamp now = FromUnixMicros(1'700'000'000'000'000);
  CallbackParams p = Answer("");
  p.error = "server_error";
  auto failure = CheckProviderAnswer(GoogleLike(), p, Transaction(now), true);
  ASSERT_TRUE(failure.has_value());
  EXPECT_EQ(failure->error, CallbackError::kProviderError);
  EXPECT_EQ(failure->provider_error, "server_error");
  EXPECT_EQ(failure->details["provider_error"], "server_error");

  p.error = "<script>alert(1)</script>";
  failure = CheckProviderAnswer(GoogleLike(), p, Transaction(now), true);
  ASSERT_TRUE(failure.has_value());
  EXPECT_EQ(failure->provider_error, "error");
}

TEST(CheckProviderAnswer, TheIssuerParameterMustNameTheIssuerWeSentTheUserTo) {
  const Timestamp now = FromUnixMicros(1'700'000'000'000'000);
  CallbackParams p = Answer();
  p.iss = "https://evil.example";
  EXPECT_EQ(CheckProviderAnswer(GoogleLike(), p, Transaction(now), true)->error,
            CallbackError::kIssuerMismatch);
  p.iss = "https://accounts.google.com";
  EXPECT_EQ(CheckProviderAnswer(GoogleLike(), p, Transaction(now), true), std::nullopt);

  // Microsoft's template stands for exactly one GUID.
  store::OAuthTransactionRecord microsoft = Transaction(now);
  microsoft.issuer = "https://login.microsoftonline.com/{tenantid}/v2.0";
  p.iss = "https://login.microsoftonline.com/9122040d-6c67-4c5b-b112-36a304b66dad/v2.0";
  EXPECT_EQ(CheckProviderAnswer(GoogleLike(), p, microsoft, true), std::nullopt);
  p.iss = "https://login.microsoftonline.com/evil.example/x/v2.0";
  EXPECT_EQ(CheckProviderAnswer(GoogleLike(), p, microsoft, true)->error,
            CallbackError::kIssuerMismatch);

  // RFC 9207: a provider that sends iss must send it.
  oauth::ProviderEntry strict = GoogleLike();
  strict.issuer_supports_iss_parameter = true;
  p.iss.reset();
  EXPECT_EQ(CheckProviderAnswer(strict, p, Transaction(now), true)->error,
            CallbackError::kIssuerMissing);
}

TEST(CheckProviderAnswer, NeedsACodeOfSaneSizeAndTheVerifierForPkce) {
  const Timestamp now = FromUnixMicros(1'700'000'000'000'000);
  EXPECT_EQ(CheckProviderAnswer(GoogleLike(), Answer(""), Transaction(now), true)->error,
            CallbackError::kMissingCode);
  EXPECT_EQ(
      CheckProviderAnswer(GoogleLike(), Answer(std::string(4097, 'c')), Transaction(now), true)
          ->error,
      CallbackError::kMissingCode);
  EXPECT_EQ(CheckProviderAnswer(GoogleLike(), Answer(), Transaction(now), false)->error,
            CallbackError::kVerifierLost);
  EXPECT_EQ(CheckProviderAnswer(UserinfoOnly(), Answer(), Transaction(now), false), std::nullopt);
}

// ---- Code exchange. ----

class ExchangeCodeTest : public ::testing::Test {
 protected:
  StepResult<oauth::TokenResponse> Exchange() {
    const oauth::ClientCredentials client{kClient, vault::SecretBytes("client-secret")};
    return ExchangeCode(tokens_, GoogleLike(), client, "auth-code",
                        "https://hub.example/connect/callback", "verifier");
  }

  net::testing::FakeHttpClient http_;
  oauth::TokenClient tokens_{http_};
};

TEST_F(ExchangeCodeTest, SendsTheCodeAndVerifierAndReturnsTheTokens) {
  http_.SetHandler([](const net::HttpRequest& request) -> Result<net::HttpResponse> {
    EXPECT_EQ(request.url, kTokenUrl);
    EXPECT_NE(request.body.find("code=auth-code"), std::string::npos);
    EXPECT_NE(request.body.find("code_verifier=verifier"), std::string::npos);
    return net::testing::FakeHttpClient::MakeResponse(
        200,
        R"({"access_token":"at","token_type":"Bearer","expires_in":3599,"refresh_token":"rt",)"
        R"("scope":"openid email"})",
        {{"Content-Type", "application/json"}});
  });
  auto result = Exchange();
  ASSERT_TRUE(std::holds_alternative<oauth::TokenResponse>(result));
  const auto& tokens = std::get<oauth::TokenResponse>(result);
  EXPECT_EQ(tokens.access_token.view(), "at");
  EXPECT_THAT(tokens.scopes, ElementsAre("openid", "email"));
}

TEST_F(ExchangeCodeTest, RefusalsAndOutagesAreToldApart) {
  http_.Enqueue(net::testing::FakeHttpClient::MakeResponse(400, R"({"error":"invalid_grant"})",
                                                           {{"Content-Type", "application/json"}}));
  auto refused = Exchange();
  EXPECT_EQ(ErrorOf(refused), CallbackError::kTokenExchangeRefused);
  EXPECT_NE(
      std::get<StepFailure>(refused).details["error"].get<std::string>().find("invalid_grant"),
      std::string::npos);

  http_.Enqueue(net::testing::FakeHttpClient::MakeResponse(503, "busy"));
  EXPECT_EQ(ErrorOf(Exchange()), CallbackError::kTokenExchangeUnavailable);
  http_.Enqueue(UnavailableError("connection refused"));
  EXPECT_EQ(ErrorOf(Exchange()), CallbackError::kTokenExchangeUnavailable);
}

// ---- Identity. ----

class ResolveIdentityTest : public ::testing::Test {
 protected:
  ResolveIdentityTest() {
    http_.SetHandler([this](const net::HttpRequest& request) -> Result<net::HttpResponse> {
      if (request.url == kJwksUrl) {
        ++jwks_fetches_;
        return net::testing::FakeHttpClient::MakeResponse(
            200, Json{{"keys", {IssuerKey().PublicJwk("k1")}}}.dump(),
            {{"Content-Type", "application/json"}});
      }
      if (request.url == "https://acme.example/me") return userinfo_;
      return net::testing::FakeHttpClient::MakeResponse(404);
    });
  }

  int64_t Now() const { return ToUnixMicros(clock_.Now()) / 1'000'000; }

  Json Claims() const {
    return {{"iss", "https://accounts.google.com"},
            {"aud", kClient},
            {"sub", "110169484474386276334"},
            {"email", "jane@example.com"},
            {"nonce", kNonce},
            {"iat", Now() - 10},
            {"exp", Now() + 3590}};
  }

  oauth::TokenResponse Tokens(std::optional<std::string> id_token) {
    oauth::TokenResponse tokens;
    tokens.access_token = vault::SecretBytes("at");
    tokens.id_token = std::move(id_token);
    return tokens;
  }

  static std::string Sign(const Json& claims, const JwsSigner& key = IssuerKey()) {
    return key.SignCompact(Json{{"alg", "RS256"}, {"kid", "k1"}, {"typ", "JWT"}}, claims);
  }

  StepResult<Identity> Resolve(const oauth::ProviderEntry& entry,
                               const oauth::TokenResponse& tokens) {
    return ResolveIdentity(IdentityDeps{jwks_, http_, clock_}, entry, tokens, kClient,
                           HashHex(kNonce));
  }

  testing::FakeClock clock_;
  net::testing::FakeHttpClient http_;
  oauth::JwksCache jwks_{http_, clock_, std::chrono::hours(1), std::chrono::seconds(0)};
  int jwks_fetches_ = 0;
  Result<net::HttpResponse> userinfo_ = net::testing::FakeHttpClient::MakeResponse(500);
};

TEST_F(ResolveIdentityTest, AValidIdTokenNamesTheAccount) {
  auto identity = Resolve(GoogleLike(), Tokens(Sign(Claims())));
  ASSERT_TRUE(std::holds_alternative<Identity>(identity))
      << std::get<StepFailure>(identity).details.dump();
  EXPECT_EQ(std::get<Identity>(identity).subject, "110169484474386276334");
  EXPECT_EQ(std::get<Identity>(identity).email, "jane@example.com");
  EXPECT_EQ(std::get<Identity>(identity).provider_tenant, "");
}

// The catalog's issuer_aliases, not code, say which other spellings a provider uses (OA-15).
TEST_F(ResolveIdentityTest, TheCatalogsIssuerAliasesAreAcceptedAndNothingElse) {
  Json claims = Claims();
  claims["iss"] = "accounts.google.com";
  EXPECT_TRUE(std::holds_alternative<Identity>(Resolve(GoogleLike(), Tokens(Sign(claims)))));
  oauth::ProviderEntry no_alias = GoogleLike();
  no_alias.issuer_aliases.clear();
  EXPECT_EQ(ErrorOf(Resolve(no_alias, Tokens(Sign(claims)))), CallbackError::kInvalidIdToken);
}

TEST_F(ResolveIdentityTest, MissingForgedOrForeignTokensAreRefused) {
  EXPECT_EQ(ErrorOf(Resolve(GoogleLike(), Tokens(std::nullopt))), CallbackError::kMissingIdToken);

  auto forged = Resolve(GoogleLike(), Tokens(Sign(Claims(), RotatedKey())));
  EXPECT_EQ(ErrorOf(forged), CallbackError::kInvalidIdToken);
  EXPECT_TRUE(std::get<StepFailure>(forged).details.contains("check"));

  Json other_attempt = Claims();
  other_attempt["nonce"] = "another-nonce";
  EXPECT_EQ(ErrorOf(Resolve(GoogleLike(), Tokens(Sign(other_attempt)))),
            CallbackError::kNonceMismatch);
  Json no_nonce = Claims();
  no_nonce.erase("nonce");
  EXPECT_EQ(ErrorOf(Resolve(GoogleLike(), Tokens(Sign(no_nonce)))), CallbackError::kNonceMismatch);
}

TEST_F(ResolveIdentityTest, ARotatedKeyIsFetchedOnceMore) {
  ASSERT_TRUE(std::holds_alternative<Identity>(Resolve(GoogleLike(), Tokens(Sign(Claims())))));
  EXPECT_EQ(jwks_fetches_, 1);
  // The provider rotated to a new key; the cached set has only the old one.
  const std::string token =
      RotatedKey().SignCompact(Json{{"alg", "RS256"}, {"kid", "k2"}, {"typ", "JWT"}}, Claims());
  http_.SetHandler([&](const net::HttpRequest& request) -> Result<net::HttpResponse> {
    ++jwks_fetches_;
    EXPECT_EQ(request.url, kJwksUrl);
    return net::testing::FakeHttpClient::MakeResponse(
        200, Json{{"keys", {RotatedKey().PublicJwk("k2")}}}.dump(),
        {{"Content-Type", "application/json"}});
  });
  EXPECT_TRUE(std::holds_alternative<Identity>(Resolve(GoogleLike(), Tokens(token))));
  EXPECT_EQ(jwks_fetches_, 2);
}

TEST_F(ResolveIdentityTest, WithoutOpenIdTheUserinfoEndpointNamesTheAccount) {
  userinfo_ = net::testing::FakeHttpClient::MakeResponse(
      200, R"({"id":4711,"email":"jane@acme.example"})", {{"Content-Type", "application/json"}});
  auto identity = Resolve(UserinfoOnly(), Tokens(std::nullopt));
  ASSERT_TRUE(std::holds_alternative<Identity>(identity));
  EXPECT_EQ(std::get<Identity>(identity).subject, "4711");
  EXPECT_EQ(std::get<Identity>(identity).email, "jane@acme.example");
}

TEST_F(ResolveIdentityTest, AUserinfoFailureOrAnAnonymousAnswerIsNoIdentity) {
  EXPECT_EQ(ErrorOf(Resolve(UserinfoOnly(), Tokens(std::nullopt))), CallbackError::kNoIdentity);
  userinfo_ = net::testing::FakeHttpClient::MakeResponse(200, R"({"email":"x@acme.example"})");
  EXPECT_EQ(ErrorOf(Resolve(UserinfoOnly(), Tokens(std::nullopt))), CallbackError::kNoIdentity);
  userinfo_ =
      net::testing::FakeHttpClient::MakeResponse(200, Json{{"id", std::string(256, 'x')}}.dump());
  EXPECT_EQ(ErrorOf(Resolve(UserinfoOnly(), Tokens(std::nullopt))), CallbackError::kNoIdentity);
  userinfo_ = UnavailableError("connection reset");
  EXPECT_EQ(ErrorOf(Resolve(UserinfoOnly(), Tokens(std::nullopt))), CallbackError::kNoIdentity);
}

// ---- Scopes. ----

TEST(GrantedScopes, ServiceScopesTheUserDidNotGrantAreMissing) {
  const std::vector<std::string> requested = {"openid", "email",
                                              "https://www.googleapis.com/auth/calendar",
                                              "https://www.googleapis.com/auth/gmail.modify"};
  ScopeGrant grant = GrantedScopes(GoogleLike(), requested,
                                   {"openid", "https://www.googleapis.com/auth/calendar"});
  EXPECT_THAT(grant.granted, ElementsAre("openid", "https://www.googleapis.com/auth/calendar"));
  // "email" is an identity scope: never counted as missing.
  EXPECT_THAT(grant.missing, ElementsAre("https://www.googleapis.com/auth/gmail.modify"));
}

TEST(GrantedScopes, ResourceQualifiedAnswersCountAndSilenceMeansAllGranted) {
  oauth::ProviderEntry microsoft;
  microsoft.default_scopes = {"offline_access"};
  ScopeGrant grant = GrantedScopes(microsoft, {"offline_access", "Calendars.Read", "Mail.Read"},
                                   {"https://graph.microsoft.com/calendars.read"});
  EXPECT_THAT(grant.missing, ElementsAre("Mail.Read"));

  grant = GrantedScopes(microsoft, {"Calendars.Read"}, {});
  EXPECT_THAT(grant.granted, ElementsAre("Calendars.Read"));
  EXPECT_THAT(grant.missing, IsEmpty());
}

// ---- Errors. ----

TEST(CallbackErrorTest, ErrorsShareCodesWhereTheUserCanDoTheSameAndForgeriesAreSuspicious) {
  EXPECT_EQ(CallbackErrorCode(CallbackError::kMalformedState), "invalid_state");
  EXPECT_EQ(CallbackErrorCode(CallbackError::kUnknownState), "invalid_state");
  EXPECT_EQ(CallbackErrorCode(CallbackError::kStoreFailed), "store_failed");
  EXPECT_EQ(CallbackErrorCode(CallbackError::kTokenExchangeRefused), "token_exchange_failed");
  EXPECT_EQ(CallbackErrorCode(CallbackError::kNonceMismatch), "invalid_id_token");
  EXPECT_TRUE(IsSuspicious(CallbackError::kUnknownState));
  EXPECT_TRUE(IsSuspicious(CallbackError::kBrowserMismatch));
  EXPECT_TRUE(IsSuspicious(CallbackError::kIssuerMissing));
  EXPECT_FALSE(IsSuspicious(CallbackError::kAccessDenied));
  EXPECT_FALSE(IsSuspicious(CallbackError::kStateExpired));
}

}  // namespace
}  // namespace sb::connections
