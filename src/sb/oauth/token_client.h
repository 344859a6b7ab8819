// TokenClient: the calls Switchboard makes to a provider's token and revocation endpoints
// (RFC 6749 sections 4.1.3 and 6, RFC 7009), over the injected HttpClient.
//
// Responses are parsed strictly (OA-09): a size limit, a JSON object, token_type Bearer, a
// non-empty access_token, expires_in as a number (or a numeric string, which some providers
// send). Failures are classified so that callers can act without string matching:
// invalid_grant and the re-consent errors mean the grant is dead and the connection needs the
// user again (no retry); 429, 5xx and transport failures are transient (retry with backoff,
// honouring Retry-After); everything else is permanent. Neither results nor errors ever carry
// the client secret, the code, the verifier or a token in a message.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "sb/net/http_client.h"
#include "sb/oauth/catalog.h"
#include "sb/vault/secure_buffer.h"

namespace sb::oauth {

struct TokenEndpoint {
  std::string token_url;
  std::string revocation_url;                       // empty: the provider cannot revoke
  ClientAuth auth = ClientAuth::kClientSecretPost;  // from the catalog entry
};

struct ClientCredentials {
  std::string client_id;
  vault::SecretBytes client_secret;
};

struct TokenResponse {
  vault::SecretBytes access_token;
  std::optional<vault::SecretBytes> refresh_token;  // absent: keep the one you have
  std::optional<std::string> id_token;
  std::optional<int64_t> expires_in_seconds;
  std::vector<std::string> scopes;  // granted, when the provider says
  std::string token_type;           // "Bearer"
};

enum class TokenErrorKind {
  kInvalidGrant,   // the grant is dead (revoked, expired, consent withdrawn): reconnect
  kInvalidClient,  // the OAuth app's credentials are wrong: an operator must fix them
  kTransient,      // 429, 5xx, timeouts, connection failures: retry later
  kPermanent,      // any other refusal, or an answer that breaks the protocol
};

struct TokenError {
  TokenErrorKind kind = TokenErrorKind::kPermanent;
  int http_status = 0;      // 0 for transport failures
  std::string error;        // the OAuth "error" code, e.g. "invalid_grant"
  std::string description;  // the provider's error_description (never contains our secrets)
  std::optional<int64_t> provider_code;  // Microsoft's first AADSTS code, e.g. 70008
  std::optional<std::chrono::milliseconds> retry_after;
  std::string ToString() const;  // for logs and audit details
};

template <typename T>
using TokenResult = std::variant<T, TokenError>;

class TokenClient {
 public:
  explicit TokenClient(net::HttpClient& http, size_t max_response_bytes = 64 * 1024)
      : http_(http), max_response_bytes_(max_response_bytes) {}

  // authorization_code grant with the PKCE verifier and the exact redirect URI of the
  // authorization request (OA-09).
  TokenResult<TokenResponse> ExchangeCode(const TokenEndpoint& endpoint,
                                          const ClientCredentials& client, std::string_view code,
                                          std::string_view redirect_uri,
                                          std::string_view code_verifier) const;

  // refresh_token grant; `scopes` (optional) narrows the request, as Microsoft allows.
  TokenResult<TokenResponse> Refresh(const TokenEndpoint& endpoint, const ClientCredentials& client,
                                     std::string_view refresh_token,
                                     const std::vector<std::string>& scopes = {}) const;

  // RFC 7009 revocation with token_type_hint; true when the provider accepted it. Providers
  // without a revocation endpoint give false without a call.
  TokenResult<bool> Revoke(const TokenEndpoint& endpoint, const ClientCredentials& client,
                           std::string_view token, std::string_view token_type_hint) const;

 private:
  TokenResult<net::HttpResponse> Post(const TokenEndpoint& endpoint,
                                      const ClientCredentials& client, const std::string& url,
                                      std::vector<std::pair<std::string, std::string>> form) const;
  TokenResult<TokenResponse> ParseTokenResponse(const net::HttpResponse& response) const;

  net::HttpClient& http_;
  const size_t max_response_bytes_;
};

// True for Google's rate-limit 403 (reason rateLimitExceeded or userRateLimitExceeded in the
// error body), which is retried like a 429; other 403s are final.
bool IsRateLimit403(int status, std::string_view body);

// Parses Retry-After: delta-seconds (integer or fractional, as Graph sends) or an HTTP date
// relative to `now`. nullopt when absent or unparsable.
std::optional<std::chrono::milliseconds> ParseRetryAfter(std::string_view value,
                                                         std::chrono::system_clock::time_point now);

}  // namespace sb::oauth
