#include "sb/oauth/id_token.h"

#include <chrono>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "sb/base/testing/fake_clock.h"
#include "sb/vault/testing/jws_signer.h"

namespace sb::oauth {
namespace {

using std::chrono::seconds;
using vault::testing::JwsSigner;

constexpr char kGoogleClient[] = "1234-abc.apps.googleusercontent.com";
constexpr char kMicrosoftClient[] = "6731de76-14a6-49ae-97bc-6eba6914391e";
constexpr char kTenant[] = "9122040d-6c67-4c5b-b112-36a304b66dad";
constexpr char kOtherTenant[] = "72f988bf-86f1-41af-91ab-2d7cd011db47";
constexpr char kNonce[] = "n-0S6_WzA2Mj";

// Generating RSA keys is slow under the sanitizers: one of each per test binary.
const JwsSigner& IssuerKey() {
  static const JwsSigner* key = new JwsSigner(JwsSigner::GenerateRsa());
  return *key;
}
const JwsSigner& AttackerKey() {
  static const JwsSigner* key = new JwsSigner(JwsSigner::GenerateRsa());
  return *key;
}
const JwsSigner& EcKey() {
  static const JwsSigner* key = new JwsSigner(JwsSigner::GenerateP256());
  return *key;
}

class IdTokenTest : public ::testing::Test {
 protected:
  IdTokenTest() {
    Result<vault::JsonWebKeySet> keys = vault::JsonWebKeySet::Parse(
        Json{{"keys", {IssuerKey().PublicJwk("k1"), EcKey().PublicJwk("ec1")}}});
    EXPECT_TRUE(keys.ok()) << keys.status().ToString();
    keys_.emplace(std::move(keys).value());
  }

  int64_t Now() const { return ToUnixMicros(clock_.Now()) / 1'000'000; }

  static IdTokenExpectations Google() {
    return {.issuer = "https://accounts.google.com",
            .accepted_issuers = {"accounts.google.com"},
            .client_id = kGoogleClient,
            .nonce = kNonce,
            .allowed_algs = {"RS256"}};
  }
  static IdTokenExpectations Microsoft() {
    return {.issuer = "https://login.microsoftonline.com/{tenantid}/v2.0",
            .client_id = kMicrosoftClient,
            .nonce = kNonce,
            .allowed_algs = {"RS256"}};
  }

  Json GoogleClaims() const {
    return {{"iss", "https://accounts.google.com"},
            {"azp", kGoogleClient},
            {"aud", kGoogleClient},
            {"sub", "110169484474386276334"},
            {"email", "jane@example.com"},
            {"email_verified", true},
            {"name", "Jane Doe"},
            {"nonce", kNonce},
            {"iat", Now() - 10},
            {"exp", Now() + 3590}};
  }
  Json MicrosoftClaims() const {
    return {{"iss", std::string("https://login.microsoftonline.com/") + kTenant + "/v2.0"},
            {"aud", kMicrosoftClient},
            {"sub", "AAAAAAAAAAAAAAAAAAAAAIkzqFVrSaSaFHy782bbtaQ"},
            {"tid", kTenant},
            {"oid", "00000000-0000-0000-66f3-3332eca7ea81"},
            {"preferred_username", "jane@contoso.example"},
            {"name", "Jane Doe"},
            {"nonce", kNonce},
            {"iat", Now() - 10},
            {"nbf", Now() - 10},
            {"exp", Now() + 3590}};
  }

  static std::string Sign(const Json& claims, const JwsSigner& key = IssuerKey(),
                          std::string_view alg = "RS256", std::string_view kid = "k1") {
    return key.SignCompact(Json{{"alg", alg}, {"kid", kid}, {"typ", "JWT"}}, claims);
  }

  Result<IdTokenClaims> Validate(std::string_view token, const IdTokenExpectations& expected) {
    return ValidateIdToken(token, *keys_, expected, clock_);
  }
  // The error of validating `claims` (signed by the issuer) as a Google token.
  Status GoogleError(const Json& claims) { return Validate(Sign(claims), Google()).status(); }

  sb::testing::FakeClock clock_;
  std::optional<vault::JsonWebKeySet> keys_;
};

void ExpectRejected(const Status& status, std::string_view message) {
  EXPECT_EQ(status.code(), StatusCode::kUnauthenticated) << status.ToString();
  EXPECT_EQ(status.message(), message);
}

TEST_F(IdTokenTest, ValidGoogleToken) {
  Result<IdTokenClaims> claims = Validate(Sign(GoogleClaims()), Google());
  ASSERT_TRUE(claims.ok()) << claims.status().ToString();
  EXPECT_EQ(claims->subject, "110169484474386276334");
  EXPECT_EQ(claims->issuer, "https://accounts.google.com");
  EXPECT_EQ(claims->email, "jane@example.com");
  EXPECT_TRUE(claims->email_verified);
  EXPECT_EQ(claims->name, "Jane Doe");
  EXPECT_EQ(claims->tenant_id, "");
  EXPECT_EQ(claims->raw["azp"], kGoogleClient);
}

TEST_F(IdTokenTest, GoogleBareIssuerIsAcceptedWhenListed) {
  Json claims = GoogleClaims();
  claims["iss"] = "accounts.google.com";
  claims["email_verified"] = "true";
  Result<IdTokenClaims> result = Validate(Sign(claims), Google());
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->issuer, "accounts.google.com");
  EXPECT_TRUE(result->email_verified);
  IdTokenExpectations strict = Google();
  strict.accepted_issuers.clear();
  ExpectRejected(Validate(Sign(claims), strict).status(),
                 "ID token iss does not match the expected issuer");
}

TEST_F(IdTokenTest, ValidMicrosoftTokenResolvesTheTenantTemplate) {
  Result<IdTokenClaims> claims = Validate(Sign(MicrosoftClaims()), Microsoft());
  ASSERT_TRUE(claims.ok()) << claims.status().ToString();
  EXPECT_EQ(claims->issuer, std::string("https://login.microsoftonline.com/") + kTenant + "/v2.0");
  EXPECT_EQ(claims->tenant_id, kTenant);
  EXPECT_EQ(claims->object_id, "00000000-0000-0000-66f3-3332eca7ea81");
  EXPECT_EQ(claims->preferred_username, "jane@contoso.example");
  EXPECT_FALSE(claims->email_verified);
  EXPECT_EQ(claims->email, "");
}

TEST_F(IdTokenTest, MicrosoftIssuerMustMatchTheTokensOwnTenant) {
  Json claims = MicrosoftClaims();
  claims["tid"] = kOtherTenant;  // iss still names kTenant
  ExpectRejected(Validate(Sign(claims), Microsoft()).status(),
                 "ID token iss does not match the expected issuer");
  claims["iss"] = "https://login.microsoftonline.com/{tenantid}/v2.0";  // the literal template
  ExpectRejected(Validate(Sign(claims), Microsoft()).status(),
                 "ID token iss does not match the expected issuer");
}

TEST_F(IdTokenTest, MicrosoftTemplateNeedsAGuidTid) {
  for (const Json& tid : {Json(), Json(42), Json(""), Json("contoso"),
                          Json(std::string(kTenant) + "/v2.0/x"), Json("../common")}) {
    Json claims = MicrosoftClaims();
    if (tid.is_null()) {
      claims.erase("tid");
    } else {
      claims["tid"] = tid;
    }
    ExpectRejected(Validate(Sign(claims), Microsoft()).status(),
                   "ID token tid is missing or not a tenant id (issuer template)");
  }
}

TEST_F(IdTokenTest, IssuerVariantsAreRejected) {
  for (const char* iss : {"https://accounts.google.com/", "https://Accounts.Google.com",
                          "HTTPS://accounts.google.com", "http://accounts.google.com",
                          "https://accounts.google.com.evil.example", "https://evil.example",
                          " https://accounts.google.com"}) {
    Json claims = GoogleClaims();
    claims["iss"] = iss;
    ExpectRejected(GoogleError(claims), "ID token iss does not match the expected issuer");
  }
  Json claims = GoogleClaims();
  claims.erase("iss");
  ExpectRejected(GoogleError(claims), "ID token iss is missing");
  claims["iss"] = Json::array({"https://accounts.google.com"});
  ExpectRejected(GoogleError(claims), "ID token iss is missing");
}

TEST_F(IdTokenTest, AudienceMustContainTheClientId) {
  Json claims = GoogleClaims();
  claims["aud"] = "someone-else.apps.googleusercontent.com";
  claims.erase("azp");
  ExpectRejected(GoogleError(claims), "ID token aud does not contain the client_id");
  claims["aud"] = Json::array({"a", "b"});
  ExpectRejected(GoogleError(claims), "ID token aud does not contain the client_id");
  claims.erase("aud");
  ExpectRejected(GoogleError(claims), "ID token aud is missing");
  claims["aud"] = 7;
  ExpectRejected(GoogleError(claims), "ID token aud is malformed");
  claims["aud"] = Json::array();
  ExpectRejected(GoogleError(claims), "ID token aud is malformed");
  claims["aud"] = Json::array({kGoogleClient, 7});
  ExpectRejected(GoogleError(claims), "ID token aud is malformed");
}

TEST_F(IdTokenTest, SeveralAudiencesNeedAzpEqualToTheClientId) {
  Json claims = GoogleClaims();
  claims["aud"] = Json::array({kGoogleClient, "other-service"});
  EXPECT_TRUE(GoogleError(claims).ok());  // azp == client_id
  claims["azp"] = "other-service";
  ExpectRejected(GoogleError(claims), "ID token azp is not the client_id");
  claims.erase("azp");
  ExpectRejected(GoogleError(claims), "ID token azp is missing (several audiences)");
  // A single audience needs no azp, but one that is present must be this client.
  claims["aud"] = Json::array({kGoogleClient});
  EXPECT_TRUE(GoogleError(claims).ok());
  claims["azp"] = "other-service";
  ExpectRejected(GoogleError(claims), "ID token azp is not the client_id");
}

TEST_F(IdTokenTest, ExpiryAllowsTheClockSkewOnly) {
  Json claims = GoogleClaims();
  claims["iat"] = Now() - 4000;
  claims["exp"] = Now() - 299;  // expired, but within the 300 s skew
  EXPECT_TRUE(GoogleError(claims).ok());
  claims["exp"] = Now() - 300;
  ExpectRejected(GoogleError(claims), "ID token has expired (exp)");
  claims["exp"] = "2099-01-01";
  ExpectRejected(GoogleError(claims), "ID token exp is missing or not a number");
  claims.erase("exp");
  ExpectRejected(GoogleError(claims), "ID token exp is missing or not a number");
}

TEST_F(IdTokenTest, ExpiryFollowsTheClock) {
  const std::string token = Sign(GoogleClaims());  // exp = now + 3590
  EXPECT_TRUE(Validate(token, Google()).ok());
  clock_.Advance(seconds(3590 + 300));
  ExpectRejected(Validate(token, Google()).status(), "ID token has expired (exp)");
}

TEST_F(IdTokenTest, IatMayNotBeInTheFutureBeyondTheSkew) {
  Json claims = GoogleClaims();
  claims["iat"] = Now() + 300;
  EXPECT_TRUE(GoogleError(claims).ok());
  claims["iat"] = Now() + 301;
  ExpectRejected(GoogleError(claims), "ID token iat is in the future");
  claims.erase("iat");
  ExpectRejected(GoogleError(claims), "ID token iat is missing or not a number");
}

TEST_F(IdTokenTest, IatOlderThanMaxAgeIsRejected) {
  Json claims = GoogleClaims();
  claims["iat"] = Now() - 86400;
  claims["exp"] = Now() + 3600;
  EXPECT_TRUE(GoogleError(claims).ok());
  claims["iat"] = Now() - 86401;
  ExpectRejected(GoogleError(claims), "ID token is too old (iat before max_age)");
  IdTokenExpectations short_age = Google();
  short_age.max_age = seconds(60);
  claims["iat"] = Now() - 61;
  ExpectRejected(Validate(Sign(claims), short_age).status(),
                 "ID token is too old (iat before max_age)");
}

TEST_F(IdTokenTest, NbfInTheFutureIsRejected) {
  Json claims = MicrosoftClaims();
  claims["nbf"] = Now() + 301;
  ExpectRejected(Validate(Sign(claims), Microsoft()).status(), "ID token is not valid yet (nbf)");
}

TEST_F(IdTokenTest, NonceMustEqualTheTransactionNonce) {
  Json claims = GoogleClaims();
  claims["nonce"] = "n-0S6_WzA2Mk";
  ExpectRejected(GoogleError(claims), "ID token nonce does not match");
  claims["nonce"] = "";
  ExpectRejected(GoogleError(claims), "ID token nonce does not match");
  claims["nonce"] = 1;
  ExpectRejected(GoogleError(claims), "ID token nonce is missing");
  claims.erase("nonce");
  ExpectRejected(GoogleError(claims), "ID token nonce is missing");
  IdTokenExpectations no_nonce = Google();
  no_nonce.nonce.clear();  // no nonce was sent: the claim is not required
  EXPECT_TRUE(Validate(Sign(claims), no_nonce).ok());
}

TEST_F(IdTokenTest, SubMustBePresent) {
  Json claims = GoogleClaims();
  claims["sub"] = "";
  ExpectRejected(GoogleError(claims), "ID token sub is missing");
  claims["sub"] = 110169484474386276;
  ExpectRejected(GoogleError(claims), "ID token sub is missing");
  claims.erase("sub");
  ExpectRejected(GoogleError(claims), "ID token sub is missing");
  claims["sub"] = std::string(256, 'x');
  ExpectRejected(GoogleError(claims), "ID token sub is longer than 255 characters");
}

TEST_F(IdTokenTest, AlgOutsideTheProviderAllowListIsRejected) {
  const std::string es256 = Sign(GoogleClaims(), EcKey(), "ES256", "ec1");
  ExpectRejected(Validate(es256, Google()).status(), "JWS alg ES256 is not in the allow-list");
  IdTokenExpectations es = Google();
  es.allowed_algs = {"ES256"};
  EXPECT_TRUE(Validate(es256, es).ok());
  ExpectRejected(Validate(Sign(GoogleClaims(), IssuerKey(), "PS256"), Google()).status(),
                 "JWS alg PS256 is not in the allow-list");
}

TEST_F(IdTokenTest, SignatureIsCheckedBeforeAnyClaim) {
  Json claims = GoogleClaims();
  claims["iss"] = "https://evil.example";  // would fail later, but the signature fails first
  Status status = Validate(Sign(claims, AttackerKey()), Google()).status();
  ExpectRejected(status, "JWS signature does not verify");
  // Alg none and HS256 never get as far as the claims either.
  const std::string input = JwsSigner::SigningInput({{"alg", "none"}}, GoogleClaims());
  EXPECT_EQ(Validate(input + ".", Google()).status().code(), StatusCode::kUnauthenticated);
  IdTokenExpectations lax = Google();
  lax.allowed_algs = {"RS256", "HS256", "none"};
  const std::string hs = JwsSigner::SigningInput({{"alg", "HS256"}, {"kid", "k1"}}, claims);
  EXPECT_EQ(Validate(hs + ".c2ln", lax).status().code(), StatusCode::kUnauthenticated);
}

TEST_F(IdTokenTest, UnknownKidIsNotFoundSoTheCallerRefetches) {
  Status status = Validate(Sign(GoogleClaims(), IssuerKey(), "RS256", "k2"), Google()).status();
  EXPECT_EQ(status.code(), StatusCode::kNotFound) << status.ToString();
}

TEST_F(IdTokenTest, MalformedTokensAreInvalidArguments) {
  const std::string token = Sign(GoogleClaims());
  for (const std::string& bad : {std::string(), token + ".x", token + "==",
                                 token.substr(0, token.rfind('.')), std::string(20000, 'a')}) {
    EXPECT_EQ(Validate(bad, Google()).status().code(), StatusCode::kInvalidArgument);
  }
}

TEST_F(IdTokenTest, EveryClaimViolationHasItsOwnMessageWithoutTheToken) {
  std::vector<std::pair<const char*, Json>> cases = {{"iss", "https://accounts.google.com/"},
                                                     {"aud", "x"},
                                                     {"azp", "x"},
                                                     {"exp", Now() - 3600},
                                                     {"iat", Now() + 3600},
                                                     {"iat", Now() - 90000},
                                                     {"nonce", "x"},
                                                     {"sub", ""}};
  std::set<std::string> messages;
  for (const auto& [name, value] : cases) {
    Json claims = GoogleClaims();
    claims[name] = value;
    const std::string token = Sign(claims);
    Status status = Validate(token, Google()).status();
    EXPECT_EQ(status.code(), StatusCode::kUnauthenticated) << name;
    EXPECT_NE(status.message().find(name), std::string::npos) << status.message();
    EXPECT_EQ(status.message().find(token.substr(token.rfind('.') + 1)), std::string::npos);
    EXPECT_EQ(status.message().find("eyJ"), std::string::npos);
    messages.insert(status.message());
  }
  Json claims = GoogleClaims();
  claims.erase("nonce");
  messages.insert(GoogleError(claims).message());
  EXPECT_EQ(messages.size(), cases.size() + 1);
}

}  // namespace
}  // namespace sb::oauth
