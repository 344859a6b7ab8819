// ConnectService: the connect flow that turns an end user's consent into a connection.
//
//   1. The host app creates a connect session (POST /v1/connect/sessions) and sends its end
//      user to the hosted page /connect/{token}.
//   2. The user picks a provider and services; Start() records an OAuth transaction and
//      returns the provider's authorization URL: PKCE S256 where the provider supports it
//      (OA-01), a single-use `state` and an OIDC `nonce` of 256 bits (OA-03, OA-04, OA-16),
//      the exact redirect URI <public_url>/connect/callback (OA-06), and a browser-binding
//      value for an HttpOnly cookie whose hash the transaction keeps.
//   3. Callback() checks the state (known, unexpired, same browser, single use: OA-03, OA-08)
//      and the issuer (OA-05), exchanges the code with the stored verifier (OA-09), validates
//      the ID token (OA-14), and creates or updates the connection with its tokens in the vault
//      (OA-11), all in one transaction so that a failure leaves nothing half made.
//
// Tokens and states carry the tenant id in clear ("<tenant>.<secret>") so that every lookup
// runs inside that tenant's row-level security; the secret part is stored only as a SHA-256
// hash, so a state altered to name another tenant finds nothing there. Failures are audited
// only in a tenant that exists, at most once per tenant, failure code and minute
// (FailureSummary), so that requests from outside write nothing per request; each ends in a
// CallbackFailure that the page shows without any secret; it says whether the browser can start
// the session again (SessionRetry), which only a browser that sent the session's token back in
// its session cookie learns. Thread-safe.
#pragma once

#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "sb/audit/audit_log.h"
#include "sb/audit/context.h"
#include "sb/base/clock.h"
#include "sb/base/ids.h"
#include "sb/base/metrics.h"
#include "sb/base/random.h"
#include "sb/connections/callback_steps.h"
#include "sb/connections/connections.h"
#include "sb/connections/failure_summary.h"
#include "sb/connections/provider_switches.h"
#include "sb/oauth/catalog.h"
#include "sb/oauth/integrations.h"
#include "sb/oauth/jwks_cache.h"
#include "sb/oauth/token_client.h"
#include "sb/store/connections/connect_repository.h"
#include "sb/store/database.h"
#include "sb/store/tenancy/tenant_repository.h"
#include "sb/vault/secret_store.h"

namespace sb::connections {

struct ConnectOptions {
  // Where browsers reach this hub: the hosted page and the redirect URI live under it.
  std::string public_url = "http://127.0.0.1:8080";
  std::chrono::seconds session_ttl{3600};
  std::chrono::seconds transaction_ttl{600};  // OA-03: at most 10 minutes
  // The key of the CSRF token that the hosted page embeds in its form and Start() checks
  // (HMAC-SHA256 of the session id): every node of a deployment needs the same one. Empty: a
  // random key of this process (a single node; pages rendered before a restart stop working).
  std::string csrf_key;
  // Failed callbacks are audited at most once per tenant, failure code and window
  // (FailureSummary); `failure_audit_keys` bounds the memory that takes.
  std::chrono::seconds failure_audit_window{60};
  size_t failure_audit_keys = 10'000;
  // quotas.connect_sessions_per_minute: sessions a tenant may create in any 60 s (429).
  int sessions_per_minute = 60;
  // quotas.connections: a tenant's connections; a callback that would add one more ends on a
  // 422 page (`connection_quota_exceeded`) and writes nothing. Reconnecting an account is fine.
  int64_t max_connections = 10'000;
};

struct ConnectSessionInput {
  std::string end_user_id;
  std::string end_user_email;
  std::vector<std::string> allowed_providers;  // empty: every enabled integration
  std::vector<store::ServiceGrant> services;   // empty: the integration's services
  std::string return_url;
};

struct CreatedSession {
  store::ConnectSessionRecord record;
  std::string token;  // shown once; only its hash is stored
  std::string url;    // <public_url>/connect/<token>
};

// What the hosted page offers.
struct ProviderChoice {
  std::string id;
  std::string display_name;
  std::vector<store::ServiceGrant> services;  // what will be requested
  // Set for a credential provider: the page asks for these fields instead of redirecting.
  const oauth::CredentialAuth* credentials = nullptr;
  // The catalog's entry, for the page's plain-words explanations of what is shared
  // (ProviderEntry::explanation, oauth::ServiceExplanation); null: none shown.
  const oauth::ProviderEntry* entry = nullptr;
};

// What the hosted page posts for a credential provider.
struct CredentialSubmission {
  std::string token;  // the session's
  std::string provider;
  oauth::CredentialValues values;
  std::string csrf_token;
  std::string request_id;
};

struct SessionPage {
  store::ConnectSessionRecord session;
  std::vector<ProviderChoice> providers;
  std::string csrf_token;   // for the form's hidden field; Start() wants it back
  std::string tenant_name;  // who asks: the host app's tenant, shown on the page
  std::string tenant_logo;  // its logo as a checked data: URI, or ""
};

struct AuthorizationStart {
  std::string authorization_url;
  std::string browser_binding;  // the cookie value; only its hash is stored
  // How long the session has left: the life of the session cookie that lets a failed callback
  // offer to start the session again (CallbackParams::session_token).
  std::chrono::seconds session_left{0};
};

struct CallbackFailure {
  CallbackError error = CallbackError::kUnknownState;
  std::string provider_error;  // kProviderError: the provider's plain error code, else empty
  std::string return_url;      // the host app's return URL when the session is known
  // Whether this browser can start the attempt's session again (RetryOf), and with kUsable the
  // session token it sent, for a link to the session's page (/connect/{token}); else empty.
  SessionRetry retry = SessionRetry::kUnknown;
  std::string session_token;
};

struct CallbackSuccess {
  store::ConnectionRecord connection;
  bool created = false;  // false: an existing connection to the same account was updated
  std::string return_url;
};

// What ConnectService works with; the pointers are optional (null: not used).
struct ConnectDeps {
  store::Database& db;
  const oauth::ProviderCatalog& catalog;
  oauth::IntegrationService& integrations;
  vault::SecretStore& secrets;
  audit::AuditLog& audit;
  const oauth::TokenClient& tokens;
  oauth::JwksCache& jwks;
  net::HttpClient& http;
  const Clock& clock;
  Random& random;
  IdGenerator& ids;
  metrics::MetricsRegistry* metrics = nullptr;  // sb_connect_callbacks_total and friends
  ConnectionEvents* events = nullptr;           // announces new and updated connections
  ProviderSwitches* switches = nullptr;         // a switched-off provider is not offered
};

class ConnectService {
 public:
  ConnectService(ConnectDeps deps, ConnectOptions options, RefreshOptions refresh);

  // INVALID_ARGUMENT for bad fields or unknown providers/services; FAILED_PRECONDITION (the
  // message starts with "return_url:") when the return URL's origin is not in the tenant's
  // return_url_origins (OA-06), which is every origin while that list is empty;
  // RESOURCE_EXHAUSTED (QuotaOf: quotas.connect_sessions_per_minute) when the tenant created its
  // limit in the last minute.
  Result<CreatedSession> CreateSession(const TenantId& tenant, const ConnectSessionInput& input,
                                       const audit::Context& ctx);
  // NOT_FOUND for an unknown, malformed or expired token (one message for all).
  Result<SessionPage> OpenSession(const std::string& token);
  // NOT_FOUND as OpenSession; PERMISSION_DENIED when `csrf_token` is not the one the session's
  // page carries (checked in constant time, before anything is written); INVALID_ARGUMENT for
  // a provider or service the session does not offer.
  Result<AuthorizationStart> Start(const std::string& token, const std::string& provider,
                                   const std::vector<store::ServiceGrant>& services,
                                   const std::string& csrf_token, const std::string& request_id);
  // Counted in sb_connect_callbacks_total{provider,outcome} (outcome: connected, reconnected or
  // the failure code).
  std::variant<CallbackSuccess, CallbackFailure> Callback(const CallbackParams& params);

  // Connects a credential provider: checks the session and its CSRF token as Start() does,
  // checks the values against the catalog, makes the provider's verification call and, when
  // it names the account, stores the connection with its credentials in the vault (one
  // transaction, audited and announced). Errors, each safe to show on the page:
  //   NOT_FOUND, PERMISSION_DENIED as Start(); INVALID_ARGUMENT for a provider the session does
  //   not offer, one without credentials, or bad values (naming the field, never its value);
  //   FAILED_PRECONDITION when the provider refused the credentials or its answer named no
  //   account, or the account belongs to another end user; UNAVAILABLE when the provider could
  //   not be reached; RESOURCE_EXHAUSTED (quotas.connections).
  // Counted in sb_connect_callbacks_total like callbacks.
  Result<CallbackSuccess> ConnectWithCredentials(const CredentialSubmission& submission);

  // Where browsers reach the hub; settable once the listening port is known (before serving
  // matters, but it is safe at any time).
  std::string PublicUrl() const;
  void SetPublicUrl(std::string url);
  std::string RedirectUri() const { return PublicUrl() + "/connect/callback"; }

 private:
  // Quotas, checked under the tenant's quota lock in the transaction that adds the row.
  Status CheckSessionRate(store::Transaction& tx, const TenantId& tenant, Timestamp now);
  Status CheckConnectionCount(store::Transaction& tx, const TenantId& tenant);

  struct Session {
    TenantId tenant;
    store::ConnectSessionRecord record;
  };
  Result<Session> FindSession(const std::string& token);
  Status CheckReturnUrlOrigin(store::Transaction& tx, const TenantId& tenant,
                              const std::string& return_url);
  Result<std::vector<ProviderChoice>> Choices(const Session& session);
  // The callback's steps that touch the database (the others are in callback_steps.h).
  struct PendingCallback {
    TenantId tenant;
    std::string state_hash;
    store::OAuthTransactionRecord transaction;
    std::optional<store::ConnectSessionRecord> session;
    std::string target;                           // the audit target: connect_sessions/<id>
    std::string return_url;                       // "" when the session is gone
    SessionRetry retry = SessionRetry::kUnknown;  // RetryOf the callback's session cookie
    std::string session_token;                    // that cookie when retry is kUsable
  };
  struct NewConnection {
    oauth::TokenResponse tokens;
    Identity identity;
    ScopeGrant scopes;
    bool allow_reassignment = false;
  };
  std::variant<CallbackSuccess, CallbackFailure> DoCallback(const CallbackParams& params,
                                                            std::string& provider);
  // Finds the attempt the state belongs to; failures here are audited in place.
  std::variant<PendingCallback, CallbackFailure> LoadState(const CallbackParams& params);
  // Uses the state up and takes its PKCE verifier (absent for providers without PKCE), in one
  // transaction (OA-08).
  StepResult<std::optional<vault::SecretBytes>> ConsumeState(const PendingCallback& pending);
  // Creates or updates the connection with its tokens, audited and announced, in one
  // transaction; refuses to move an account to another end user unless allowed.
  std::variant<CallbackSuccess, CallbackFailure> StoreConnection(const PendingCallback& pending,
                                                                 const NewConnection& fresh,
                                                                 const std::string& request_id);
  Status WriteConnection(store::Transaction& tx, const PendingCallback& pending,
                         const NewConnection& fresh, const std::string& request_id,
                         CallbackSuccess& out, bool& refused);
  store::ConnectionRecord Connected(const std::optional<store::ConnectionRecord>& existing,
                                    const PendingCallback& pending, const NewConnection& fresh,
                                    Timestamp now);
  // Audits `failure` in the attempt's tenant and returns it (FailureOf).
  CallbackFailure Fail(const PendingCallback& pending, const std::string& request_id,
                       StepFailure failure);
  // `error` with the attempt's return URL and whether its session can be started again.
  static CallbackFailure FailureOf(const PendingCallback& pending, CallbackError error,
                                   std::string provider_error = "");
  // The CSRF token of the session's page.
  std::string CsrfToken(const Session& session) const;
  // The session of a posted form: known, unexpired, and the page's CSRF token.
  Result<Session> FormSession(const std::string& token, const std::string& csrf_token);
  // ConnectWithCredentials's steps (credential_connect.cc).
  Result<oauth::VerifiedAccount> VerifyCredentials(const Session& session,
                                                   const oauth::ProviderEntry& entry,
                                                   const CredentialSubmission& submission);
  Result<CallbackSuccess> StoreCredentials(const Session& session,
                                           const oauth::ProviderEntry& entry,
                                           const CredentialSubmission& submission,
                                           const oauth::VerifiedAccount& account);
  Status WriteCredentialConnection(store::Transaction& tx, const Session& session,
                                   const oauth::ProviderEntry& entry,
                                   const CredentialSubmission& submission,
                                   const oauth::VerifiedAccount& account, bool allow_reassignment,
                                   CallbackSuccess& out, bool& refused);
  // What storing a connection involves for both flows: the audited refusal to move an account
  // to another end user, the insert (within quotas.connections) or compare-and-set update, and
  // the audit entry and announcement of the stored connection.
  Status RefuseReassignment(store::Transaction& tx, const TenantId& tenant,
                            const store::ConnectionRecord& existing,
                            const ConnectSessionId& session, const std::string& requested_end_user,
                            const std::string& request_id);
  Status SaveConnection(store::Transaction& tx, const TenantId& tenant,
                        const store::ConnectionRecord& r,
                        const std::optional<store::ConnectionRecord>& existing);
  Status AnnounceConnected(store::Transaction& tx, store::ConnectionRecord r,
                           const std::optional<store::ConnectionRecord>& existing, bool moves,
                           Json details, const std::string& request_id, CallbackSuccess& out);
  // Audits a failed callback in `tenant` when that tenant exists and FailureSummary grants the
  // window (best effort); otherwise counts it in sb_connect_callback_failures_unaudited_total.
  void AuditFailure(const std::optional<TenantId>& tenant, const std::string& target,
                    CallbackError error, const std::string& request_id, Json details);

  store::Database& db_;
  const oauth::ProviderCatalog& catalog_;
  oauth::IntegrationService& integrations_;
  vault::SecretStore& secrets_;
  audit::AuditLog& audit_;
  const oauth::TokenClient& tokens_;
  oauth::JwksCache& jwks_;
  net::HttpClient& http_;
  const Clock& clock_;
  Random& random_;
  IdGenerator& ids_;
  mutable std::mutex mu_;
  ConnectOptions options_;  // public_url guarded by mu_
  const RefreshOptions refresh_;
  metrics::CounterFamily* callbacks_ = nullptr;  // sb_connect_callbacks_total; null: none
  metrics::CounterFamily* unaudited_ = nullptr;  // sb_connect_callback_failures_unaudited_total
  FailureSummary failure_summary_;
  ConnectionEvents* events_ = nullptr;    // null: connections are not announced
  ProviderSwitches* switches_ = nullptr;  // null: no kill switch
  store::ConnectSessionRepository sessions_;
  store::OAuthTransactionRepository transactions_;
  store::ConnectionRepository connections_;
  store::TenantRepository tenants_;
};

// Lowercase hex SHA-256, how session tokens, states, nonces and browser bindings are stored.
std::string HashHex(std::string_view value);

// Service grants as audit details: [{"service": ..., "write": ...}].
Json ServicesJson(const std::vector<store::ServiceGrant>& grants);

// Splits "<tenant uuid>.<secret>"; nullopt when malformed.
std::optional<std::pair<TenantId, std::string>> SplitTenantToken(std::string_view token);

}  // namespace sb::connections
