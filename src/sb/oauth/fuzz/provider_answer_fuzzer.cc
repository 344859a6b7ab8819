// libFuzzer target: every parser of a provider's answer, from one input (security.md TST-F1).
// Byte 0 selects the parser, byte 1 the HTTP status where one applies; the rest is the answer:
//   0  token endpoint answer (TokenClient::Refresh through a FakeHttpClient)
//   1  JWKS (JwksCache::Get through a FakeHttpClient, then JsonWebKeySet::Parse)
//   2  ID token: compact JWS (vault::ParseCompactJws), verified against a fixed key set
//   3  userinfo (ParseUserinfo)
//   4  a credential provider's verification answer (ReadVerification, Twilio's entry)
//   5  a credential connection's stored credentials, as a hostile database row could hold them
// Each must end in a value or a classified error; a crash or sanitizer report fails the run.
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <string>
#include <string_view>

#include "sb/base/check.h"
#include "sb/base/testing/fake_clock.h"
#include "sb/net/testing/fake_http_client.h"
#include "sb/oauth/catalog.h"
#include "sb/oauth/credential_auth.h"
#include "sb/oauth/jwks_cache.h"
#include "sb/oauth/provider_json.h"
#include "sb/oauth/token_client.h"
#include "sb/vault/jose.h"

namespace {

using sb::net::testing::FakeHttpClient;

constexpr int kStatuses[] = {200, 200, 200, 400, 401, 429, 500, 503};

void TokenAnswer(int status, std::string body) {
  FakeHttpClient http;
  http.Enqueue(FakeHttpClient::MakeResponse(status, std::move(body), {{"Retry-After", "3"}}));
  const sb::oauth::TokenClient client(http);
  const auto result = client.Refresh({"https://idp.example/token", "https://idp.example/revoke",
                                      sb::oauth::ClientAuth::kClientSecretBasic},
                                     {"client", sb::vault::SecretBytes("secret")}, "refresh-token");
  // A token, or a classified error: a successful answer that is not a token is a permanent
  // protocol error, never a token with holes.
  if (const auto* tokens = std::get_if<sb::oauth::TokenResponse>(&result)) {
    SB_CHECK(status == 200 && !tokens->access_token.view().empty());
  } else if (status == 200) {
    const auto& error = std::get<sb::oauth::TokenError>(result);
    SB_CHECK(error.kind == sb::oauth::TokenErrorKind::kPermanent &&
             error.error == "invalid_response");
  }
}

void KeySet(int status, std::string body) {
  FakeHttpClient http;
  http.Enqueue(FakeHttpClient::MakeResponse(status, std::move(body)));
  const sb::testing::FakeClock clock;
  sb::oauth::JwksCache cache(http, clock);
  const auto keys = cache.Get("https://idp.example/jwks", /*refetch=*/false);
  SB_CHECK(keys.ok() || keys.status().code() == sb::StatusCode::kUnavailable);
}

// RFC 7515 appendix A.3's EC key: tokens signed with it verify; others exercise every failure.
const sb::vault::JsonWebKeySet& FixedKeys() {
  static const auto* keys = new sb::vault::JsonWebKeySet(
      sb::vault::JsonWebKeySet::Parse(
          sb::Json::parse(R"({"keys":[{"kty":"EC","crv":"P-256","kid":"k1",
             "x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
             "y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}]})"))
          .value());
  return *keys;
}

void IdToken(std::string_view token) {
  const auto jws = sb::vault::ParseCompactJws(token);
  if (!jws.ok()) {
    SB_CHECK(jws.status().code() == sb::StatusCode::kInvalidArgument);
    return;
  }
  (void)FixedKeys().Verify(*jws, {"RS256", "ES256", "PS256"});
}

const sb::oauth::CredentialAuth& TwilioAuth() {
  static const auto* catalog =
      new sb::oauth::ProviderCatalog(sb::oauth::ProviderCatalog::LoadBuiltIn().value());
  return *catalog->Find("twilio")->credentials;
}

void Verification(int status, std::string body) {
  const sb::oauth::CredentialValues values{{"account_sid", "AC42"}, {"auth_token", "secret"}};
  const auto verified = sb::oauth::ReadVerification(
      TwilioAuth(), "twilio", values, sb::net::HttpResponse{.status = status, .body = body});
  if (verified.outcome == sb::oauth::VerificationOutcome::kVerified) {
    SB_CHECK(status >= 200 && status < 300 && !verified.account.id.empty() &&
             verified.account.id.size() <= 256);
  }
}

void StoredCredentials(std::string_view text) {
  const auto values = sb::oauth::ParseCredentials(TwilioAuth(), text);
  if (!values.ok()) return;
  SB_CHECK(sb::oauth::CheckCredentialValues(TwilioAuth(), *values).ok());
  sb::net::HttpRequest request{.url = "https://api.twilio.com/x"};
  SB_CHECK(sb::oauth::ApplyCredentials(TwilioAuth(), *values, request).ok());
  for (const auto& [name, value] : request.headers) {
    SB_CHECK(value.find_first_of("\r\n") == std::string::npos);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  const int status = kStatuses[data[1] % std::size(kStatuses)];
  std::string body(reinterpret_cast<const char*>(data) + 2, size - 2);
  switch (data[0] % 6) {
    case 0:
      TokenAnswer(status, std::move(body));
      break;
    case 1:
      KeySet(status, std::move(body));
      break;
    case 2:
      IdToken(body);
      break;
    case 3:
      (void)sb::oauth::ParseUserinfo(body);
      break;
    case 4:
      Verification(status, std::move(body));
      break;
    default:
      StoredCredentials(body);
      break;
  }
  return 0;
}
