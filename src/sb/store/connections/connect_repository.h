// Storage of the connect flow (issue 5): connect sessions, OAuth transactions and connections.
// Stateless SQL over a Transaction, thread-safe. Every call takes the tenant explicitly,
// filters by it and refuses a transaction scoped to another tenant (PERMISSION_DENIED);
// malformed arguments give INVALID_ARGUMENT and malformed rows DATA_LOSS. Secrets never live
// in these tables: session tokens and OAuth `state` values are stored as SHA-256 hashes, and
// PKCE verifiers and access/refresh tokens go through the vault (owner ids below).
//
// Connections carry what the refresh machinery needs to be safe across nodes (OA-10):
// `token_version` is compared-and-set on every token change, and a refresh lease
// (`lease_owner`, `lease_until`) lets one node at a time refresh a connection; a node that lost
// the race re-reads the winner's tokens.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "sb/base/clock.h"
#include "sb/base/ids.h"
#include "sb/base/json.h"
#include "sb/base/status.h"
#include "sb/store/database.h"
#include "sb/store/oauth/integration_repository.h"

namespace sb::store {

// ---- Connect sessions: POST /v1/connect/sessions, the hosted page /connect/{token}. ----

struct ConnectSessionRecord {
  TenantId tenant_id;
  ConnectSessionId id;
  std::string token_hash;                      // lowercase hex SHA-256 of the session token
  std::string end_user_id;                     // the host app's user id: 1..256 bytes of UTF-8
  std::string end_user_email;                  // may be empty
  std::vector<std::string> allowed_providers;  // empty: every enabled integration
  std::vector<ServiceGrant> services;          // requested services (empty: the integration's)
  std::string return_url;                      // absolute http(s) URL, 1..2048 bytes
  Timestamp created_at;
  Timestamp expires_at;

  friend bool operator==(const ConnectSessionRecord&, const ConnectSessionRecord&) = default;
};

class ConnectSessionRepository {
 public:
  // ALREADY_EXISTS for a duplicate id or token hash.
  Status Insert(Transaction& tx, const TenantId& tenant, const ConnectSessionRecord& record);
  // How many of the tenant's sessions were created at or after `since` (a rate quota).
  Result<int64_t> CountCreatedSince(Transaction& tx, const TenantId& tenant, Timestamp since);
  Result<std::optional<ConnectSessionRecord>> Get(Transaction& tx, const TenantId& tenant,
                                                  const ConnectSessionId& id);
  // The session whose token hashes to `token_hash` (expired ones too: callers check).
  Result<std::optional<ConnectSessionRecord>> FindByTokenHash(Transaction& tx,
                                                              const TenantId& tenant,
                                                              const std::string& token_hash);
  // Deletes sessions that expired before `before`; the number deleted.
  Result<int64_t> DeleteExpired(Transaction& tx, const TenantId& tenant, Timestamp before);
};

// ---- OAuth transactions: one per authorization request, keyed by hash(state) (OA-03). ----

struct OAuthTransactionRecord {
  TenantId tenant_id;
  std::string state_hash;  // lowercase hex SHA-256 of `state`
  ConnectSessionId session_id;
  std::string provider;
  std::string redirect_uri;     // exactly what the authorization request carried (OA-09)
  std::string issuer;           // expected issuer, per transaction (OA-05); may be empty
  std::string nonce_hash;       // lowercase hex SHA-256 of the OIDC nonce; may be empty
  std::string browser_binding;  // lowercase hex SHA-256 of the browser cookie value
  std::vector<ServiceGrant> services;
  std::vector<std::string> scopes;  // requested
  Timestamp created_at;
  Timestamp expires_at;  // at most 10 minutes after creation
  std::optional<Timestamp> consumed_at;

  friend bool operator==(const OAuthTransactionRecord&, const OAuthTransactionRecord&) = default;
};

class OAuthTransactionRepository {
 public:
  Status Insert(Transaction& tx, const TenantId& tenant, const OAuthTransactionRecord& record);
  Result<std::optional<OAuthTransactionRecord>> Get(Transaction& tx, const TenantId& tenant,
                                                    const std::string& state_hash);
  // Single use (OA-08): sets consumed_at only if it is still unset; false when the
  // transaction is unknown or was consumed before. Run it in the transaction that starts the
  // code exchange, so that two callbacks with the same state cannot both proceed.
  Result<bool> Consume(Transaction& tx, const TenantId& tenant, const std::string& state_hash,
                       Timestamp at);
  // Deletes transactions that expired before `before`, with their PKCE verifiers in the vault
  // table; the number of transactions deleted.
  Result<int64_t> DeleteExpired(Transaction& tx, const TenantId& tenant, Timestamp before);
};

// ---- Connections: one per (tenant, provider, provider account). ----

enum class ConnectionStatus {
  kActive,
  kRefreshing,
  kError,
  kReauthorizationRequired,
  kDisabled,
  kRevoked,
};
// Every status, in declaration order (counts list each one, zeros included).
inline constexpr ConnectionStatus kConnectionStatuses[] = {
    ConnectionStatus::kActive,   ConnectionStatus::kRefreshing,
    ConnectionStatus::kError,    ConnectionStatus::kReauthorizationRequired,
    ConnectionStatus::kDisabled, ConnectionStatus::kRevoked};
std::string_view ConnectionStatusName(ConnectionStatus status);  // "active", ...
std::optional<ConnectionStatus> ParseConnectionStatus(std::string_view name);

struct ConnectionRecord {
  TenantId tenant_id;
  ConnectionId id;
  std::string provider;
  std::string end_user_id;
  std::string account_subject;     // the provider's stable account id (sub, oid); 1..255 bytes
  std::string account_email;       // may be empty
  std::string provider_tenant_id;  // Microsoft's tid; empty elsewhere
  ConnectionStatus status = ConnectionStatus::kActive;
  std::string status_reason;  // why the last status change happened; at most 1024 bytes
  std::vector<ServiceGrant> services;
  std::vector<std::string> granted_scopes;
  std::vector<std::string> missing_scopes;  // requested but not granted
  Json settings = Json::object();
  std::optional<Timestamp> access_expires_at;
  bool has_refresh_token = false;
  int64_t token_version = 0;  // +1 on every token change (compare-and-set)
  std::string lease_owner;    // node holding the refresh lease; empty when none
  std::optional<Timestamp> lease_until;
  std::optional<Timestamp> next_refresh_at;  // when the refresh job should look at it
  int64_t refresh_failures = 0;              // consecutive transient failures
  Timestamp created_at;
  Timestamp updated_at;

  friend bool operator==(const ConnectionRecord&, const ConnectionRecord&) = default;
};

struct ConnectionFilter {
  std::optional<std::string> provider;
  std::optional<ConnectionStatus> status;
  std::optional<std::string> end_user_id;
};

class ConnectionRepository {
 public:
  static constexpr int kMaxListLimit = 1000;

  // ALREADY_EXISTS for a duplicate id or a second connection to the same provider account
  // (tenant, provider, provider_tenant_id, account_subject).
  Status Insert(Transaction& tx, const TenantId& tenant, const ConnectionRecord& record);
  Result<std::optional<ConnectionRecord>> Get(Transaction& tx, const TenantId& tenant,
                                              const ConnectionId& id);
  // The connection to this provider account, to update it on reconnect instead of adding one.
  Result<std::optional<ConnectionRecord>> FindByAccount(Transaction& tx, const TenantId& tenant,
                                                        const std::string& provider,
                                                        const std::string& provider_tenant_id,
                                                        const std::string& account_subject);
  // Up to `limit` connections matching `filter`, ordered by id, after `after` when given.
  Result<std::vector<ConnectionRecord>> List(Transaction& tx, const TenantId& tenant,
                                             const ConnectionFilter& filter,
                                             const std::optional<ConnectionId>& after, int limit);
  // Replaces every mutable column (all but tenant, id, provider, account identity and
  // created_at) when the stored token_version equals `expected_token_version`; false when it
  // changed meanwhile (another node refreshed) or the row is gone.
  Result<bool> UpdateIf(Transaction& tx, const TenantId& tenant, const ConnectionRecord& record,
                        int64_t expected_token_version);
  // Takes the refresh lease if it is free or expired at `now`: sets lease_owner and
  // lease_until = now + duration. False when another owner holds a live lease.
  Result<bool> TryLease(Transaction& tx, const TenantId& tenant, const ConnectionId& id,
                        const std::string& owner, Timestamp now,
                        std::chrono::milliseconds duration);
  // Releases the lease if `owner` holds it.
  Status ReleaseLease(Transaction& tx, const TenantId& tenant, const ConnectionId& id,
                      const std::string& owner);
  Result<bool> Delete(Transaction& tx, const TenantId& tenant, const ConnectionId& id);

  // Maintenance (unscoped or system-tenant transactions, like SecretRepository's): up to
  // `limit` (tenant, id) pairs across tenants whose next_refresh_at <= `due`, soonest first, for
  // the refresh scheduler, which then queues a job for each in its own tenant transaction.
  // Connections that already have a live job (queued or running) of kind `job_kind` with their
  // id as dedupe key are left out, so a pass never lists again what the previous one queued.
  Result<std::vector<std::pair<TenantId, ConnectionId>>> MaintenanceListDue(
      Transaction& tx, Timestamp due, std::string_view job_kind, int limit);
  // Maintenance: how many connections each tenant has in each status (usage reports).
  struct StatusCount {
    TenantId tenant_id;
    ConnectionStatus status = ConnectionStatus::kActive;
    int64_t count = 0;
  };
  Result<std::vector<StatusCount>> MaintenanceCountByStatus(Transaction& tx);
  // How many connections the tenant has, whatever their status (a count quota).
  Result<int64_t> Count(Transaction& tx, const TenantId& tenant);
  // How many connections the tenant has in each status, one entry per kConnectionStatuses
  // element in that order (zeros included).
  Result<std::vector<std::pair<ConnectionStatus, int64_t>>> CountByStatus(Transaction& tx,
                                                                          const TenantId& tenant);
};

// Vault owner ids.
std::string ConnectionSecretOwner(const ConnectionId& id);        // "connection:<id>"
std::string TransactionSecretOwner(std::string_view state_hash);  // "oauth_tx:<state hash>"

}  // namespace sb::store
