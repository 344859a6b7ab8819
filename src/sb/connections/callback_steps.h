// The steps of an OAuth callback that need no database: each checks or fetches one thing and
// says why it failed as a CallbackError. ConnectService::Callback runs them between loading and
// consuming the state and storing the connection; they are separate so that each can be tested
// on its own over a fake HTTP client. Thread-safe as their collaborators are.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "sb/base/clock.h"
#include "sb/base/json.h"
#include "sb/base/status.h"
#include "sb/net/http_client.h"
#include "sb/oauth/catalog.h"
#include "sb/oauth/jwks_cache.h"
#include "sb/oauth/token_client.h"
#include "sb/store/connections/connect_repository.h"

namespace sb::connections {

// Why a callback did not produce a connection. The service audits and counts it by its code
// (CallbackErrorCode); api/ chooses the HTTP status and the words of the page.
enum class CallbackError {
  kMalformedState,            // no state, or not "<tenant>.<secret>"
  kUnknownState,              // no connection attempt of ours has this state
  kUnavailable,               // the database could not be read or written
  kStateReplayed,             // the state was used before (OA-08)
  kStateExpired,              // the attempt is older than its transaction TTL
  kBrowserMismatch,           // the callback reached another browser than the one that started
  kProviderUnavailable,       // the provider left the catalog since the attempt started
  kAccessDenied,              // the user did not consent
  kProviderError,             // the provider reported another error
  kIssuerMismatch,            // RFC 9207: `iss` names another issuer
  kIssuerMissing,             // RFC 9207: a provider that sends `iss` sent none
  kMissingCode,               // no (or an oversized) authorization code
  kVerifierLost,              // the PKCE verifier of the attempt is gone
  kIntegrationUnavailable,    // the tenant's integration is disabled or incomplete
  kTokenExchangeUnavailable,  // the token endpoint failed transiently
  kTokenExchangeRefused,      // the token endpoint refused the code
  kMissingIdToken,            // an OpenID provider sent no ID token
  kInvalidIdToken,            // the ID token failed validation (OA-14)
  kNonceMismatch,             // the ID token was issued for another attempt
  kNoIdentity,                // the provider did not say which account this is
  kReassignmentRefused,       // the account belongs to another end user of the tenant
  kConnectionQuotaExceeded,   // quotas.connections
  kConcurrentConnect,         // the same account was being connected twice at once
  kStoreFailed,               // the connection could not be saved
  kCredentialsRejected,       // a credential provider refused what the user typed in
  kCredentialsUnverified,     // its verification call answered unexpectedly or not at all
};

// The machine-readable code of a failure, shown on the page, audited and counted:
// "invalid_state", "state_replayed", ... (several errors share one, e.g. "invalid_id_token").
std::string_view CallbackErrorCode(CallbackError error);
// Failures that point at an attack rather than a mishap (forged, replayed or misdirected
// responses); audited with outcome "denied".
bool IsSuspicious(CallbackError error);

struct CallbackParams {
  std::string state;
  std::string code;
  std::string error;
  std::optional<std::string> iss;
  std::string browser_binding;  // the cookie value ("" when the browser sent none)
  // The session cookie: the token of the connect session this browser started from ("" when
  // it sent none). Only compared with the session's hash; shown back only to this browser.
  std::string session_token;
  std::string request_id;
};

// Whether the browser of a failed callback can start the attempt's connect session again.
enum class SessionRetry {
  kUnknown,  // no session, or the browser did not show it holds the session's token
  kUsable,   // it holds the token and the session has not expired
  kExpired,  // it holds the token of a session that has expired
};

// kUsable or kExpired only when `session_token` hashes to the session's token hash (compared
// in constant time), so that nothing about a session is told to a browser without its token.
SessionRetry RetryOf(const std::optional<store::ConnectSessionRecord>& session,
                     std::string_view session_token, Timestamp now);

// Why a step failed, with what the audit entry should add (never a secret).
struct StepFailure {
  CallbackError error;
  Json details = Json::object();
  std::string provider_error;  // kProviderError: the provider's `error`, sanitized
};

// A step's value, or why it failed.
template <typename T>
using StepResult = std::variant<T, StepFailure>;

// The state's own checks before it is used up (OA-03): not replayed, not expired, back in the
// browser that started it (`browser_binding` is the cookie value; empty when none came).
std::optional<CallbackError> CheckPendingState(const store::OAuthTransactionRecord& transaction,
                                               std::string_view browser_binding, Timestamp now);

// The provider's answer on the redirect: an `error` parameter (the user said no, or the provider
// failed), the RFC 9207 issuer, an authorization code, and the PKCE verifier the provider needs.
std::optional<StepFailure> CheckProviderAnswer(const oauth::ProviderEntry& entry,
                                               const CallbackParams& params,
                                               const store::OAuthTransactionRecord& transaction,
                                               bool have_verifier);

// Exchanges the code with the stored verifier (OA-09); a transient failure (transport, 429, 5xx)
// is kTokenExchangeUnavailable, a refusal kTokenExchangeRefused.
StepResult<oauth::TokenResponse> ExchangeCode(const oauth::TokenClient& tokens,
                                              const oauth::ProviderEntry& entry,
                                              const oauth::ClientCredentials& client,
                                              std::string_view code, std::string_view redirect_uri,
                                              std::string_view verifier);

// The account a token response belongs to.
struct Identity {
  std::string subject;  // the object id for Microsoft work accounts, else `sub`
  std::string email;
  std::string provider_tenant;  // Microsoft's tid; empty elsewhere
  bool email_verified = false;  // the ID token says the provider verified `email`
};

struct IdentityDeps {
  oauth::JwksCache& jwks;
  net::HttpClient& http;
  const Clock& clock;
};

// Who the account is: the validated ID token (OA-14: signature, issuer or one of the catalog's
// issuer_aliases, audience, times, and the nonce whose hash the transaction keeps), or the
// provider's userinfo endpoint when it does not speak OpenID Connect. The JWKS is fetched again
// once when no key matches (a rotated key).
StepResult<Identity> ResolveIdentity(const IdentityDeps& deps, const oauth::ProviderEntry& entry,
                                     const oauth::TokenResponse& tokens,
                                     const std::string& client_id, const std::string& nonce_hash);

struct ScopeGrant {
  std::vector<std::string> granted;  // what the provider says it granted (else what was asked)
  std::vector<std::string> missing;  // requested service scopes that were not granted
};

// Granular consent: which of the `requested` scopes the user did not grant. Identity and default
// scopes are never counted as missing; providers may answer with resource-qualified scopes
// ("https://graph.microsoft.com/Calendars.Read" for "Calendars.Read").
ScopeGrant GrantedScopes(const oauth::ProviderEntry& entry,
                         const std::vector<std::string>& requested,
                         const std::vector<std::string>& answered);

// Lowercase letters and '_' only, at most 32 bytes: service names and the provider error codes
// that may be echoed on a page.
bool IsServiceName(std::string_view s);

}  // namespace sb::connections
