#include "sb/connections/callback_steps.h"

#include <algorithm>
#include <utility>

#include "sb/base/encoding.h"
#include "sb/base/ids.h"
#include "sb/connections/connect.h"
#include "sb/connections/connections.h"
#include "sb/oauth/id_token.h"
#include "sb/oauth/provider_json.h"
#include "sb/vault/digest.h"
#include "sb/vault/secure_buffer.h"

namespace sb::connections {
namespace {

constexpr size_t kMaxCodeBytes = 4096;
constexpr size_t kMaxUserinfoBytes = 65536;

// RFC 9207 / OIDC issuer comparison: exact bytes, where a "{tenantid}" in the expected issuer
// stands for one GUID (Microsoft's multi-tenant issuer template).
bool IssuerMatches(std::string_view expected, std::string_view actual) {
  constexpr std::string_view kTenant = "{tenantid}";
  const size_t at = expected.find(kTenant);
  if (at == std::string_view::npos) return expected == actual;
  const std::string_view prefix = expected.substr(0, at);
  const std::string_view suffix = expected.substr(at + kTenant.size());
  if (actual.size() != prefix.size() + 36 + suffix.size()) return false;
  return actual.starts_with(prefix) && actual.ends_with(suffix) &&
         IsCanonicalUuid(actual.substr(prefix.size(), 36));
}

// Whether `scope` is among `granted`, plainly or resource-qualified.
bool Granted(const std::vector<std::string>& granted, const std::string& scope) {
  for (const auto& g : granted) {
    if (net::EqualsIgnoreCase(g, scope)) return true;
    if (g.size() > scope.size() && g[g.size() - scope.size() - 1] == '/' &&
        net::EqualsIgnoreCase(std::string_view(g).substr(g.size() - scope.size()), scope)) {
      return true;
    }
  }
  return false;
}

bool Contains(const std::vector<std::string>& list, const std::string& value) {
  return std::find(list.begin(), list.end(), value) != list.end();
}

std::optional<StepFailure> CheckProviderError(const CallbackParams& p) {
  if (p.error.empty()) return std::nullopt;
  const bool denied = p.error == "access_denied" || p.error == "consent_required" ||
                      p.error == "interaction_required";
  if (denied) return StepFailure{CallbackError::kAccessDenied};
  // Only a plain code is echoed; anything else a provider (or an attacker) sends is "error".
  const std::string code = IsServiceName(p.error) ? p.error : "error";
  return StepFailure{CallbackError::kProviderError, Json{{"provider_error", code}}, code};
}

// OA-14: the ID token's claims, with one JWKS refetch when no key matched.
Result<oauth::IdTokenClaims> ValidatedClaims(const IdentityDeps& deps,
                                             const oauth::ProviderEntry& entry,
                                             const std::string& id_token,
                                             const std::string& client_id) {
  oauth::IdTokenExpectations expected;
  expected.issuer = entry.issuer;
  expected.accepted_issuers = entry.issuer_aliases;
  expected.client_id = client_id;
  expected.allowed_algs = entry.id_token_algorithms;
  SB_ASSIGN_OR_RETURN(const std::string jwks_url, oauth::ExpandUrl(entry, entry.jwks_url));
  Result<oauth::IdTokenClaims> claims = InternalError("no JWKS");
  for (const bool refetch : {false, true}) {
    auto keys = deps.jwks.Get(jwks_url, refetch);
    if (!keys.ok()) return keys.status();
    claims = oauth::ValidateIdToken(id_token, **keys, expected, deps.clock);
    if (claims.ok() || claims.status().code() != StatusCode::kNotFound) break;
  }
  return claims;
}

StepResult<Identity> IdentityFromIdToken(const IdentityDeps& deps,
                                         const oauth::ProviderEntry& entry,
                                         const oauth::TokenResponse& tokens,
                                         const std::string& client_id,
                                         const std::string& nonce_hash) {
  if (!tokens.id_token) return StepFailure{CallbackError::kMissingIdToken};
  auto claims = ValidatedClaims(deps, entry, *tokens.id_token, client_id);
  if (!claims.ok()) {
    return StepFailure{CallbackError::kInvalidIdToken, Json{{"check", claims.status().message()}}};
  }
  const Json* nonce = claims->raw.contains("nonce") ? &claims->raw["nonce"] : nullptr;
  if (nonce == nullptr || !nonce->is_string() ||
      !vault::ConstantTimeEquals(HashHex(nonce->get<std::string>()), nonce_hash)) {
    return StepFailure{CallbackError::kNonceMismatch};
  }
  Identity identity;
  identity.provider_tenant = claims->tenant_id;
  const bool work_account = !claims->tenant_id.empty() && !claims->object_id.empty();
  identity.subject = work_account ? claims->object_id : claims->subject;
  identity.email = !claims->email.empty() ? claims->email : claims->preferred_username;
  identity.email_verified = !claims->email.empty() && claims->email_verified;
  return identity;
}

// Providers without OpenID Connect: who the token belongs to, from userinfo_url. Any failure
// leaves the identity empty (kNoIdentity).
Identity IdentityFromUserinfo(net::HttpClient& http, const oauth::ProviderEntry& entry,
                              const oauth::TokenResponse& tokens) {
  auto url = oauth::ExpandUrl(entry, entry.userinfo_url);
  if (!url.ok()) return {};
  net::HttpRequest request;
  request.url = *url;
  request.headers = {{"Authorization", "Bearer " + std::string(tokens.access_token.view())},
                     {"Accept", "application/json"}};
  auto response = http.Send(request);
  vault::Wipe(request.headers[0].second);
  if (!response.ok() || response->status != 200 || response->body.size() >= kMaxUserinfoBytes) {
    return {};
  }
  oauth::UserinfoIdentity found = oauth::ParseUserinfo(response->body);
  return Identity{std::move(found.subject), std::move(found.email), "", false};
}

}  // namespace

bool IsServiceName(std::string_view s) {
  return !s.empty() && s.size() <= 32 &&
         std::all_of(s.begin(), s.end(), [](char c) { return (c >= 'a' && c <= 'z') || c == '_'; });
}

std::optional<CallbackError> CheckPendingState(const store::OAuthTransactionRecord& transaction,
                                               std::string_view browser_binding, Timestamp now) {
  if (transaction.consumed_at) return CallbackError::kStateReplayed;
  if (transaction.expires_at <= now) return CallbackError::kStateExpired;
  if (browser_binding.empty() ||
      !vault::ConstantTimeEquals(HashHex(browser_binding), transaction.browser_binding)) {
    return CallbackError::kBrowserMismatch;
  }
  return std::nullopt;
}

SessionRetry RetryOf(const std::optional<store::ConnectSessionRecord>& session,
                     std::string_view session_token, Timestamp now) {
  if (!session || session_token.empty() ||
      !vault::ConstantTimeEquals(HashHex(session_token), session->token_hash)) {
    return SessionRetry::kUnknown;
  }
  return session->expires_at > now ? SessionRetry::kUsable : SessionRetry::kExpired;
}

std::optional<StepFailure> CheckProviderAnswer(const oauth::ProviderEntry& entry,
                                               const CallbackParams& params,
                                               const store::OAuthTransactionRecord& transaction,
                                               bool have_verifier) {
  if (auto failure = CheckProviderError(params)) return failure;
  if (params.iss && !IssuerMatches(transaction.issuer, *params.iss)) {
    return StepFailure{CallbackError::kIssuerMismatch};
  }
  if (!params.iss && entry.issuer_supports_iss_parameter) {
    return StepFailure{CallbackError::kIssuerMissing};
  }
  if (params.code.empty() || params.code.size() > kMaxCodeBytes) {
    return StepFailure{CallbackError::kMissingCode};
  }
  if (entry.pkce == oauth::PkceMethod::kS256 && !have_verifier) {
    return StepFailure{CallbackError::kVerifierLost};
  }
  return std::nullopt;
}

StepResult<oauth::TokenResponse> ExchangeCode(const oauth::TokenClient& tokens,
                                              const oauth::ProviderEntry& entry,
                                              const oauth::ClientCredentials& client,
                                              std::string_view code, std::string_view redirect_uri,
                                              std::string_view verifier) {
  auto endpoint = TokenEndpointFor(entry);
  if (!endpoint.ok()) return StepFailure{CallbackError::kIntegrationUnavailable};
  auto exchanged = tokens.ExchangeCode(*endpoint, client, code, redirect_uri, verifier);
  if (auto* error = std::get_if<oauth::TokenError>(&exchanged)) {
    const bool transient = error->kind == oauth::TokenErrorKind::kTransient;
    return StepFailure{
        transient ? CallbackError::kTokenExchangeUnavailable : CallbackError::kTokenExchangeRefused,
        Json{{"error", error->ToString()}}};
  }
  return std::move(std::get<oauth::TokenResponse>(exchanged));
}

StepResult<Identity> ResolveIdentity(const IdentityDeps& deps, const oauth::ProviderEntry& entry,
                                     const oauth::TokenResponse& tokens,
                                     const std::string& client_id, const std::string& nonce_hash) {
  Identity identity;
  if (!entry.issuer.empty()) {
    auto from_token = IdentityFromIdToken(deps, entry, tokens, client_id, nonce_hash);
    if (auto* failure = std::get_if<StepFailure>(&from_token)) return std::move(*failure);
    identity = std::move(std::get<Identity>(from_token));
  } else if (!entry.userinfo_url.empty()) {
    identity = IdentityFromUserinfo(deps.http, entry, tokens);
  }
  if (identity.subject.empty() || identity.subject.size() > 255 || identity.email.size() > 320) {
    return StepFailure{CallbackError::kNoIdentity};
  }
  return identity;
}

ScopeGrant GrantedScopes(const oauth::ProviderEntry& entry,
                         const std::vector<std::string>& requested,
                         const std::vector<std::string>& answered) {
  ScopeGrant out;
  out.granted = answered.empty() ? requested : answered;
  for (const auto& scope : requested) {
    if (Contains(entry.identity_scopes, scope) || Contains(entry.default_scopes, scope)) continue;
    if (!Granted(out.granted, scope)) out.missing.push_back(scope);
  }
  return out;
}

}  // namespace sb::connections
