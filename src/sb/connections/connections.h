// ConnectionService: a tenant's connections after the connect flow made them, and their token
// lifecycle: the `/v1/connections` resource, the status machine and token refresh.
//
// Tokens live only in the vault (owner "connection:<id>", fields "access_token" and
// "refresh_token"); views carry token facts (expiry, whether a refresh token is held, scopes),
// never a token.
//
// Status machine (each change is audited with its reason, in the transaction that makes it):
//   active --lease--> refreshing --ok--> active
//                                --invalid_grant--> reauthorization_required (no retry)
//                                --transient, under the retry budget--> active (backoff)
//                                --transient over budget, or client/permanent failure--> error
//   error --successful refresh--> active          any --PATCH disabled--> disabled
//   disabled --PATCH enabled--> active            any --DELETE--> revoked (then removed)
// Entering `refreshing` is recorded on the row while a node holds the refresh lease; the
// refresh's own audit entry ("connection.refresh") names both transitions.
//
// Refresh is single-flight per connection across nodes (OA-10): a node first takes the
// connection's lease in the database, refreshes, and stores the new tokens with a
// compare-and-set on token_version in the same transaction that releases the lease. A node
// that finds the lease taken waits for the winner and then uses the winner's token. A new
// refresh token is committed before anything uses it; a response without one keeps the old.
// Thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "sb/audit/audit_log.h"
#include "sb/audit/context.h"
#include "sb/base/clock.h"
#include "sb/base/ids.h"
#include "sb/base/metrics.h"
#include "sb/base/random.h"
#include "sb/connections/events.h"
#include "sb/connections/provider_switches.h"
#include "sb/oauth/catalog.h"
#include "sb/oauth/integrations.h"
#include "sb/oauth/token_client.h"
#include "sb/store/connections/connect_repository.h"
#include "sb/store/database.h"
#include "sb/usage/meter.h"
#include "sb/vault/secret_store.h"

namespace sb::connections {

struct RefreshOptions {
  // Refresh this long before the access token expires...
  std::chrono::seconds margin{300};
  // ...minus a random part of up to this much, so that tokens that expire together do not
  // refresh in one burst.
  std::chrono::seconds jitter{120};
  // On demand (proxy, sync) a token is refreshed when it expires within this.
  std::chrono::seconds on_demand_margin{60};
  // How long a node may hold a connection's refresh lease (longer than a token call can take).
  std::chrono::milliseconds lease{30'000};
  // Transient failures (429, 5xx, timeouts) in a row before the connection is marked error.
  int max_transient_failures = 5;
  // Backoff after the n-th transient failure: min(base * 2^(n-1), max), minus up to half as
  // jitter; a longer Retry-After wins. A connection in error is retried every `backoff_max`.
  std::chrono::seconds backoff_base{30};
  std::chrono::seconds backoff_max{3600};
  // A node that lost the lease polls this often for the winner's result, at most `wait` long.
  std::chrono::milliseconds poll{50};
  std::chrono::milliseconds wait{15'000};
  // This node's name in leases (unique per process); each attempt adds a random suffix.
  std::string node_id = "node";
};

// When a connection whose access token expires at `expires_at` should be refreshed:
// `margin` plus a random part of `jitter` before it, but never before half of the token's
// remaining life from `now` (short-lived tokens).
Timestamp NextRefreshAt(const RefreshOptions& options, Timestamp now, Timestamp expires_at,
                        Random& random);

// How a caller wants a token.
enum class RefreshMode {
  kIfNeeded,  // on demand (proxy, sync): refresh only when the token expires within the margin
  kIfDue,     // a scheduled refresh job: refresh when next_refresh_at has come
  kForce,     // always refresh (API, tests); a concurrent refresh by another node counts
};

// What a call to the provider authenticates with: an OAuth access token, or for a credential
// provider (catalog `auth`) the end user's credentials, which never expire or refresh.
struct AccessToken {
  vault::SecretBytes token;  // empty for a credential provider
  std::optional<Timestamp> expires_at;
  int64_t token_version = 0;
  bool refreshed = false;  // this call refreshed it (false: stored token, or the winner's)
  std::string provider;    // the connection's provider
  std::vector<std::string> granted_scopes;             // what the user granted
  std::optional<oauth::CredentialValues> credentials;  // set for a credential provider
};

struct ConnectionPatch {
  // What a connection's settings may be: stored settings are read, copied and serialized by
  // every later reader, so their size and depth are bounded where they are written.
  static constexpr size_t kMaxSettingsBytes = 16 * 1024;  // serialized
  static constexpr size_t kMaxSettingsDepth = 8;

  std::optional<std::vector<store::ServiceGrant>> services;
  std::optional<Json> settings;  // replaces the settings object
  std::optional<bool> enabled;   // false: disabled; true: back to active from disabled
};

// What ConnectionService works with; the pointers are optional (null: not used).
struct ConnectionDeps {
  store::Database& db;
  const oauth::ProviderCatalog& catalog;
  oauth::IntegrationService& integrations;
  vault::SecretStore& secrets;
  audit::AuditLog& audit;
  const oauth::TokenClient& tokens;
  const Clock& clock;
  Random& random;
  metrics::MetricsRegistry* metrics = nullptr;  // gets sb_token_refreshes_total{provider,outcome}
  ConnectionEvents* events = nullptr;           // announces connection changes
  ProviderSwitches* switches = nullptr;         // kill switch: a disabled provider gets no calls
  usage::Meter* usage = nullptr;                // counts refreshes per tenant
  // Waits between polls for another node's refresh (injected so tests need not wait); empty:
  // std::this_thread::sleep_for.
  std::function<void(std::chrono::milliseconds)> sleep;
  // Runs first in Delete, while the connection's token still works (push channels are stopped
  // at the provider); empty: nothing.
  std::function<void(const TenantId&, const ConnectionId&)> before_delete;
};

class ConnectionService {
 public:
  ConnectionService(ConnectionDeps deps, RefreshOptions options);

  Result<std::vector<store::ConnectionRecord>> List(const TenantId& tenant,
                                                    const store::ConnectionFilter& filter,
                                                    const std::optional<ConnectionId>& after,
                                                    int limit);
  // NOT_FOUND when the tenant has no such connection.
  Result<store::ConnectionRecord> Get(const TenantId& tenant, const ConnectionId& id);
  // INVALID_ARGUMENT for services the provider does not offer or settings that are not an
  // object within ConnectionPatch's bounds; FAILED_PRECONDITION to enable a connection that is not
  // disabled.
  Result<store::ConnectionRecord> Patch(const TenantId& tenant, const ConnectionId& id,
                                        const ConnectionPatch& patch, const audit::Context& ctx);
  // Revokes the grant at the provider where it can (refresh token first, OA-13; the answer is
  // only recorded), then deletes the tokens and the connection. The user's data at the
  // provider is untouched. False when there was no such connection.
  Result<bool> Delete(const TenantId& tenant, const ConnectionId& id, const audit::Context& ctx);

  // A usable access token, refreshed first when `mode` asks for it.
  //   FAILED_PRECONDITION: disabled, revoked, the user must reconnect
  //     (reauthorization_required), or the provider is switched off (the message says which);
  //   UNAVAILABLE: a transient provider failure, or another node's refresh did not finish
  //     within options.wait.
  Result<AccessToken> Token(const TenantId& tenant, const ConnectionId& id, RefreshMode mode,
                            const audit::Context& ctx);

  const RefreshOptions& options() const { return options_; }

 private:
  Result<store::ConnectionRecord> Read(const TenantId& tenant, const ConnectionId& id);
  Result<AccessToken> StoredToken(const TenantId& tenant, const store::ConnectionRecord& record);
  // The stored access token, or the credentials of a credential provider, in `tx`.
  Result<AccessToken> ReadSecret(store::Transaction& tx, const TenantId& tenant,
                                 const store::ConnectionRecord& record);
  Result<bool> NeedsRefresh(const store::ConnectionRecord& record, RefreshMode mode) const;
  // Takes the lease and marks the row refreshing. nullopt when another node holds the lease;
  // the row as it is (lease released) when its token_version moved past `expected_version`.
  Result<std::optional<store::ConnectionRecord>> Lease(const TenantId& tenant,
                                                       const ConnectionId& id,
                                                       int64_t expected_version,
                                                       const std::string& owner);
  Result<AccessToken> RefreshLeased(const TenantId& tenant, store::ConnectionRecord leased,
                                    store::ConnectionStatus from, const audit::Context& ctx);
  // Polls until the lease holder stored a new token (returns it), gave up (nullopt: try
  // again) or failed (its error).
  Result<std::optional<AccessToken>> AwaitWinner(const TenantId& tenant, const ConnectionId& id,
                                                 int64_t seen_version);
  // Ends a failed refresh: stores `next` (status, reason, schedule; lease released) and
  // audits it.
  Status RecordFailure(const TenantId& tenant, store::ConnectionRecord next,
                       store::ConnectionStatus from, const oauth::TokenError& error,
                       const audit::Context& ctx);
  // Sets a status outside refresh (PATCH, failures before a token call), audited.
  Status ChangeStatus(store::Transaction& tx, const TenantId& tenant,
                      store::ConnectionRecord& record, store::ConnectionStatus status,
                      const std::string& reason, const audit::Context& ctx);
  std::chrono::milliseconds Backoff(int64_t failures) const;
  Status Announce(store::Transaction& tx, const TenantId& tenant, std::string_view type,
                  const store::ConnectionRecord& record);
  void Count(const TenantId& tenant, const std::string& provider, std::string_view outcome);
  // Usable (status) and not switched off; a switched-off connection that the scheduler found
  // due is postponed so that it does not hold up the others.
  Status CheckUsable(const TenantId& tenant, const store::ConnectionRecord& record,
                     RefreshMode mode);

  store::Database& db_;
  const oauth::ProviderCatalog& catalog_;
  oauth::IntegrationService& integrations_;
  vault::SecretStore& secrets_;
  audit::AuditLog& audit_;
  const oauth::TokenClient& tokens_;
  const Clock& clock_;
  Random& random_;
  const RefreshOptions options_;
  std::function<void(std::chrono::milliseconds)> sleep_;
  std::function<void(const TenantId&, const ConnectionId&)> before_delete_;
  metrics::CounterFamily* refreshes_ = nullptr;  // null without a registry
  ConnectionEvents* events_ = nullptr;           // null: changes are not announced
  ProviderSwitches* switches_ = nullptr;         // null: no kill switch
  usage::Meter* usage_ = nullptr;                // null: refreshes are not counted
  store::ConnectionRepository repo_;
};

// What a connection event carries: identity, status and scopes, never a token.
Json ConnectionEventData(const store::ConnectionRecord& record);

// Vault fields of a connection.
inline constexpr char kAccessTokenField[] = "access_token";
inline constexpr char kRefreshTokenField[] = "refresh_token";
// The vault field of a credential provider's connection: its values as a JSON object.
inline constexpr char kCredentialsField[] = "credentials";
// The vault field of a connect attempt's PKCE verifier (owner: TransactionSecretOwner).
inline constexpr char kVerifierField[] = "code_verifier";

// The token endpoint of `entry` for a connection (placeholders filled from defaults and the
// connection's provider tenant where the provider has one).
Result<oauth::TokenEndpoint> TokenEndpointFor(const oauth::ProviderEntry& entry);

}  // namespace sb::connections
