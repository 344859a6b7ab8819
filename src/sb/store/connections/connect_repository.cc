#include "sb/store/connections/connect_repository.h"

#include <algorithm>
#include <array>
#include <utility>

#include "sb/base/encoding.h"
#include "sb/store/internal/repository_helpers.h"
#include "sb/store/internal/row_reader.h"

namespace sb::store {
using internal::Corrupt;
using internal::IsCleanText;
using internal::IsControl;
using internal::IsHttpUrl;
using internal::IsPrintable;
using internal::IsStorableError;
using internal::IsStorableJson;
using internal::OptionalMicros;
using internal::ReadInt;
using internal::ReadJson;
using internal::ReadServices;
using internal::ReadStrings;
using internal::ReadTenant;
using internal::RequireUnscoped;
using internal::ServicesJson;
using internal::StorableError;
using internal::StringsJson;

namespace {

using internal::IsHexSha256;

using internal::CheckTenantScope;

constexpr std::string_view kSessions = "connect_sessions";
constexpr std::string_view kTransactions = "oauth_transactions";
constexpr std::string_view kConnections = "connections";
constexpr size_t kMaxUrlBytes = 2048;
constexpr size_t kMaxEndUserIdBytes = 256;
constexpr size_t kMaxEmailBytes = 320;
constexpr size_t kMaxSubjectBytes = 255;
constexpr size_t kMaxReasonBytes = 1024;
constexpr size_t kMaxIssuerBytes = 2048;
constexpr size_t kMaxLeaseOwnerBytes = 200;
constexpr size_t kMaxScopeBytes = 512;
// Providers may grant more than an integration asks for, so granted lists get some headroom.
constexpr size_t kMaxScopes = 256;
constexpr size_t kMaxProviders = 100;
constexpr size_t kMaxSettingsBytes = size_t{64} * 1024;
constexpr int kMaxSettingsDepth = 16;
constexpr auto kMaxTransactionLifetime = std::chrono::minutes(10);

constexpr std::array<std::pair<ConnectionStatus, std::string_view>, 6> kStatusNames = {{
    {ConnectionStatus::kActive, "active"},
    {ConnectionStatus::kRefreshing, "refreshing"},
    {ConnectionStatus::kError, "error"},
    {ConnectionStatus::kReauthorizationRequired, "reauthorization_required"},
    {ConnectionStatus::kDisabled, "disabled"},
    {ConnectionStatus::kRevoked, "revoked"},
}};

#define SB_SESSION_COLUMNS                                                             \
  "SELECT tenant_id, id, token_hash, end_user_id, end_user_email, allowed_providers, " \
  "services, return_url, created_at, expires_at FROM connect_sessions "

#define SB_TRANSACTION_COLUMNS                                                             \
  "SELECT tenant_id, state_hash, session_id, provider, redirect_uri, issuer, nonce_hash, " \
  "browser_binding, services, scopes, created_at, expires_at, consumed_at "                \
  "FROM oauth_transactions "

#define SB_CONNECTION_COLUMNS                                                         \
  "SELECT tenant_id, id, provider, provider_tenant_id, account_subject, created_at, " \
  "end_user_id, account_email, status, status_reason, services, granted_scopes, "     \
  "missing_scopes, settings, access_expires_at, has_refresh_token, token_version, "   \
  "lease_owner, lease_until, next_refresh_at, refresh_failures, updated_at FROM connections "

// ---- Field rules ----

bool IsValidProvider(std::string_view s) {
  return !s.empty() && s.size() <= 64 && std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
  });
}

// UTF-8 of min..max bytes without control characters (identifiers, e-mail addresses).
// Printable ASCII without spaces, 1..max bytes (scopes, node names).
// An absolute http(s) URL of printable ASCII with a non-empty authority.
bool IsValidService(std::string_view s) {
  return s == "calendar" || s == "email" || s == "contacts";
}

Status ValidateServices(const std::vector<ServiceGrant>& services) {
  for (const ServiceGrant& grant : services) {
    if (!IsValidService(grant.service)) {
      return InvalidArgumentError("unknown service: must be calendar, email or contacts");
    }
    if (std::count_if(services.begin(), services.end(), [&](const ServiceGrant& other) {
          return other.service == grant.service;
        }) > 1) {
      return InvalidArgumentError("service listed twice: " + grant.service);
    }
  }
  return OkStatus();
}

Status ValidateScopes(const std::vector<std::string>& scopes) {
  if (scopes.size() > kMaxScopes) return InvalidArgumentError("too many scopes");
  for (const std::string& scope : scopes) {
    if (!IsPrintable(scope, kMaxScopeBytes)) return InvalidArgumentError("invalid scope");
  }
  return OkStatus();
}

Status ValidateProviders(const std::vector<std::string>& providers) {
  if (providers.size() > kMaxProviders) return InvalidArgumentError("too many providers");
  for (const std::string& p : providers) {
    if (!IsValidProvider(p)) return InvalidArgumentError("invalid provider id");
    if (std::count(providers.begin(), providers.end(), p) > 1) {
      return InvalidArgumentError("provider listed twice: " + p);
    }
  }
  return OkStatus();
}

// Every string (keys included) valid UTF-8, nesting bounded: what dump() can encode.
Status ValidateSettings(const Json& settings) {
  if (!settings.is_object()) return InvalidArgumentError("settings must be a JSON object");
  if (!IsStorableJson(settings, kMaxSettingsDepth))
    return InvalidArgumentError("settings are not storable JSON");
  if (settings.dump().size() > kMaxSettingsBytes) return InvalidArgumentError("settings too large");
  return OkStatus();
}

Status ValidateSession(const ConnectSessionRecord& r) {
  if (!r.id.valid()) return InvalidArgumentError("invalid connect session id");
  if (!IsHexSha256(r.token_hash)) return InvalidArgumentError("token_hash is not hex SHA-256");
  if (!IsCleanText(r.end_user_id, 1, kMaxEndUserIdBytes)) {
    return InvalidArgumentError("invalid end_user_id");
  }
  if (!IsCleanText(r.end_user_email, 0, kMaxEmailBytes)) {
    return InvalidArgumentError("invalid end_user_email");
  }
  SB_RETURN_IF_ERROR(ValidateProviders(r.allowed_providers));
  SB_RETURN_IF_ERROR(ValidateServices(r.services));
  if (!IsHttpUrl(r.return_url, kMaxUrlBytes))
    return InvalidArgumentError("return_url is not an http(s) URL");
  if (r.expires_at <= r.created_at) return InvalidArgumentError("session expires before creation");
  return OkStatus();
}

Status ValidateTransaction(const OAuthTransactionRecord& r) {
  if (!IsHexSha256(r.state_hash)) return InvalidArgumentError("state_hash is not hex SHA-256");
  if (!r.session_id.valid()) return InvalidArgumentError("invalid connect session id");
  if (!IsValidProvider(r.provider)) return InvalidArgumentError("invalid provider id");
  if (!IsHttpUrl(r.redirect_uri, kMaxUrlBytes))
    return InvalidArgumentError("redirect_uri is not http(s)");
  if (!IsCleanText(r.issuer, 0, kMaxIssuerBytes)) return InvalidArgumentError("invalid issuer");
  if (!r.nonce_hash.empty() && !IsHexSha256(r.nonce_hash)) {
    return InvalidArgumentError("nonce_hash is not hex SHA-256");
  }
  if (!IsHexSha256(r.browser_binding)) {
    return InvalidArgumentError("browser_binding is not hex SHA-256");
  }
  SB_RETURN_IF_ERROR(ValidateServices(r.services));
  SB_RETURN_IF_ERROR(ValidateScopes(r.scopes));
  if (r.expires_at <= r.created_at || r.expires_at - r.created_at > kMaxTransactionLifetime) {
    return InvalidArgumentError("transaction lifetime must be within 10 minutes");
  }
  return OkStatus();
}

Status ValidateAccount(std::string_view provider, std::string_view provider_tenant_id,
                       std::string_view account_subject) {
  if (!IsValidProvider(provider)) return InvalidArgumentError("invalid provider id");
  if (!IsCleanText(provider_tenant_id, 0, kMaxSubjectBytes)) {
    return InvalidArgumentError("invalid provider_tenant_id");
  }
  if (!IsCleanText(account_subject, 1, kMaxSubjectBytes)) {
    return InvalidArgumentError("invalid account_subject");
  }
  return OkStatus();
}

Status ValidateConnection(const ConnectionRecord& r) {
  if (!r.id.valid()) return InvalidArgumentError("invalid connection id");
  SB_RETURN_IF_ERROR(ValidateAccount(r.provider, r.provider_tenant_id, r.account_subject));
  if (!IsCleanText(r.end_user_id, 1, kMaxEndUserIdBytes)) {
    return InvalidArgumentError("invalid end_user_id");
  }
  if (!IsCleanText(r.account_email, 0, kMaxEmailBytes)) {
    return InvalidArgumentError("invalid account_email");
  }
  if (ConnectionStatusName(r.status).empty()) return InvalidArgumentError("invalid status");
  if (r.status_reason.size() > kMaxReasonBytes || !IsValidUtf8(r.status_reason) ||
      r.status_reason.find('\0') != std::string::npos) {
    return InvalidArgumentError("invalid status_reason");
  }
  SB_RETURN_IF_ERROR(ValidateServices(r.services));
  SB_RETURN_IF_ERROR(ValidateScopes(r.granted_scopes));
  SB_RETURN_IF_ERROR(ValidateScopes(r.missing_scopes));
  SB_RETURN_IF_ERROR(ValidateSettings(r.settings));
  if (r.token_version < 0 || r.refresh_failures < 0) {
    return InvalidArgumentError("negative token_version or refresh_failures");
  }
  if (!r.lease_owner.empty() && !IsPrintable(r.lease_owner, kMaxLeaseOwnerBytes)) {
    return InvalidArgumentError("invalid lease_owner");
  }
  return OkStatus();
}

Status RequireValidId(bool valid) {
  return valid ? OkStatus() : InvalidArgumentError("invalid id");
}

// Maintenance runs unscoped, or scoped to the deployment-wide system tenant (the nil id), like
// SecretRepository's maintenance calls.
// ---- Encoding ----

// Callers validated the strings (UTF-8), so dump() cannot throw.
// ---- Decoding: anything unexpected is DATA_LOSS ----

// Reads column 0 and checks it is `tenant`: the SQL filtered by it, so anything else is a bug.
Result<ConnectSessionRecord> ParseSession(const Row& row, const TenantId& tenant) {
  ConnectSessionRecord r;
  SB_RETURN_IF_ERROR(ReadTenant(row, tenant, kSessions));
  r.tenant_id = tenant;
  SB_ASSIGN_OR_RETURN(std::string id, internal::ReadUuid(row, 1, kSessions));
  r.id = ConnectSessionId(std::move(id));
  SB_ASSIGN_OR_RETURN(r.token_hash, internal::ReadText(row, 2, kSessions));
  SB_ASSIGN_OR_RETURN(r.end_user_id, internal::ReadText(row, 3, kSessions));
  SB_ASSIGN_OR_RETURN(r.end_user_email, internal::ReadText(row, 4, kSessions));
  SB_ASSIGN_OR_RETURN(r.allowed_providers, ReadStrings(row, 5, kSessions));
  SB_ASSIGN_OR_RETURN(r.services, ReadServices(row, 6, kSessions));
  SB_ASSIGN_OR_RETURN(r.return_url, internal::ReadText(row, 7, kSessions));
  SB_ASSIGN_OR_RETURN(r.created_at, internal::ReadTimestamp(row, 8, kSessions));
  SB_ASSIGN_OR_RETURN(r.expires_at, internal::ReadTimestamp(row, 9, kSessions));
  if (!ValidateSession(r).ok()) return Corrupt(kSessions);
  return r;
}

Result<OAuthTransactionRecord> ParseTransaction(const Row& row, const TenantId& tenant) {
  OAuthTransactionRecord r;
  SB_RETURN_IF_ERROR(ReadTenant(row, tenant, kTransactions));
  r.tenant_id = tenant;
  SB_ASSIGN_OR_RETURN(r.state_hash, internal::ReadText(row, 1, kTransactions));
  SB_ASSIGN_OR_RETURN(std::string session_id, internal::ReadUuid(row, 2, kTransactions));
  r.session_id = ConnectSessionId(std::move(session_id));
  SB_ASSIGN_OR_RETURN(r.provider, internal::ReadText(row, 3, kTransactions));
  SB_ASSIGN_OR_RETURN(r.redirect_uri, internal::ReadText(row, 4, kTransactions));
  SB_ASSIGN_OR_RETURN(r.issuer, internal::ReadText(row, 5, kTransactions));
  SB_ASSIGN_OR_RETURN(r.nonce_hash, internal::ReadText(row, 6, kTransactions));
  SB_ASSIGN_OR_RETURN(r.browser_binding, internal::ReadText(row, 7, kTransactions));
  SB_ASSIGN_OR_RETURN(r.services, ReadServices(row, 8, kTransactions));
  SB_ASSIGN_OR_RETURN(r.scopes, ReadStrings(row, 9, kTransactions));
  SB_ASSIGN_OR_RETURN(r.created_at, internal::ReadTimestamp(row, 10, kTransactions));
  SB_ASSIGN_OR_RETURN(r.expires_at, internal::ReadTimestamp(row, 11, kTransactions));
  SB_ASSIGN_OR_RETURN(r.consumed_at, internal::ReadOptionalTimestamp(row, 12, kTransactions));
  if (!ValidateTransaction(r).ok()) return Corrupt(kTransactions);
  return r;
}

// Columns 0..5 of SB_CONNECTION_COLUMNS: identity and creation time.
Status ParseConnectionIdentity(const Row& row, const TenantId& tenant, ConnectionRecord& r) {
  SB_RETURN_IF_ERROR(ReadTenant(row, tenant, kConnections));
  r.tenant_id = tenant;
  SB_ASSIGN_OR_RETURN(std::string id, internal::ReadUuid(row, 1, kConnections));
  r.id = ConnectionId(std::move(id));
  SB_ASSIGN_OR_RETURN(r.provider, internal::ReadText(row, 2, kConnections));
  SB_ASSIGN_OR_RETURN(r.provider_tenant_id, internal::ReadText(row, 3, kConnections));
  SB_ASSIGN_OR_RETURN(r.account_subject, internal::ReadText(row, 4, kConnections));
  SB_ASSIGN_OR_RETURN(r.created_at, internal::ReadTimestamp(row, 5, kConnections));
  return OkStatus();
}

// Columns 6..21: the mutable state, in the order of AppendMutableColumns.
Status ParseConnectionState(const Row& row, ConnectionRecord& r) {
  SB_ASSIGN_OR_RETURN(r.end_user_id, internal::ReadText(row, 6, kConnections));
  SB_ASSIGN_OR_RETURN(r.account_email, internal::ReadText(row, 7, kConnections));
  SB_ASSIGN_OR_RETURN(std::string status, internal::ReadText(row, 8, kConnections));
  std::optional<ConnectionStatus> parsed = ParseConnectionStatus(status);
  if (!parsed) return Corrupt(kConnections);
  r.status = *parsed;
  SB_ASSIGN_OR_RETURN(r.status_reason, internal::ReadText(row, 9, kConnections));
  SB_ASSIGN_OR_RETURN(r.services, ReadServices(row, 10, kConnections));
  SB_ASSIGN_OR_RETURN(r.granted_scopes, ReadStrings(row, 11, kConnections));
  SB_ASSIGN_OR_RETURN(r.missing_scopes, ReadStrings(row, 12, kConnections));
  SB_ASSIGN_OR_RETURN(r.settings, ReadJson(row, 13, kConnections));
  SB_ASSIGN_OR_RETURN(r.access_expires_at, internal::ReadOptionalTimestamp(row, 14, kConnections));
  SB_ASSIGN_OR_RETURN(int64_t has_refresh_token, ReadInt(row, 15, kConnections));
  if (has_refresh_token != 0 && has_refresh_token != 1) return Corrupt(kConnections);
  r.has_refresh_token = has_refresh_token == 1;
  SB_ASSIGN_OR_RETURN(r.token_version, ReadInt(row, 16, kConnections));
  SB_ASSIGN_OR_RETURN(r.lease_owner, internal::ReadText(row, 17, kConnections));
  SB_ASSIGN_OR_RETURN(r.lease_until, internal::ReadOptionalTimestamp(row, 18, kConnections));
  SB_ASSIGN_OR_RETURN(r.next_refresh_at, internal::ReadOptionalTimestamp(row, 19, kConnections));
  SB_ASSIGN_OR_RETURN(r.refresh_failures, ReadInt(row, 20, kConnections));
  SB_ASSIGN_OR_RETURN(r.updated_at, internal::ReadTimestamp(row, 21, kConnections));
  return OkStatus();
}

Result<ConnectionRecord> ParseConnection(const Row& row, const TenantId& tenant) {
  ConnectionRecord r;
  SB_RETURN_IF_ERROR(ParseConnectionIdentity(row, tenant, r));
  SB_RETURN_IF_ERROR(ParseConnectionState(row, r));
  if (!ValidateConnection(r).ok()) return Corrupt(kConnections);
  return r;
}

template <typename Record>
Result<std::optional<Record>> ParseFirst(const std::vector<Row>& rows, const TenantId& tenant,
                                         Result<Record> (*parse)(const Row&, const TenantId&)) {
  if (rows.empty()) return std::optional<Record>();
  SB_ASSIGN_OR_RETURN(Record r, parse(rows.front(), tenant));
  return std::optional<Record>(std::move(r));
}

// The mutable columns of a connection (what UpdateIf replaces), in SQL parameter order.
void AppendMutableColumns(const ConnectionRecord& r, std::vector<Value>& out) {
  out.insert(
      out.end(),
      {r.end_user_id, r.account_email, std::string(ConnectionStatusName(r.status)), r.status_reason,
       ServicesJson(r.services), StringsJson(r.granted_scopes), StringsJson(r.missing_scopes),
       r.settings.dump(), OptionalMicros(r.access_expires_at), int64_t{r.has_refresh_token ? 1 : 0},
       r.token_version, r.lease_owner, OptionalMicros(r.lease_until),
       OptionalMicros(r.next_refresh_at), r.refresh_failures, ToUnixMicros(r.updated_at)});
}

}  // namespace

std::string_view ConnectionStatusName(ConnectionStatus status) {
  return internal::EnumName(kStatusNames, status);
}

std::optional<ConnectionStatus> ParseConnectionStatus(std::string_view name) {
  return internal::ParseEnum(kStatusNames, name);
}

std::string ConnectionSecretOwner(const ConnectionId& id) { return "connection:" + id.value(); }

std::string TransactionSecretOwner(std::string_view state_hash) {
  return "oauth_tx:" + std::string(state_hash);
}

// ---- ConnectSessionRepository ----

Status ConnectSessionRepository::Insert(Transaction& tx, const TenantId& tenant,
                                        const ConnectSessionRecord& r) {
  SB_RETURN_IF_ERROR(CheckTenantScope(tx, tenant));
  if (r.tenant_id != tenant) return InvalidArgumentError("connect session tenant_id != tenant");
  SB_RETURN_IF_ERROR(ValidateSession(r));
  return tx
      .Execute(
          "INSERT INTO connect_sessions (tenant_id, id, token_hash, end_user_id, "
          "end_user_email, allowed_providers, services, return_url, created_at, expires_at) "
          "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
          {tenant.value(), r.id.value(), r.token_hash, r.end_user_id, r.end_user_email,
           StringsJson(r.allowed_providers), ServicesJson(r.services), r.return_url,
           ToUnixMicros(r.created_at), ToUnixMicros(r.expires_at)})
      .status();
}

Result<std::optional<ConnectSessionRecord>> ConnectSessionRepository::Get(
    Transaction& tx, const TenantId& tenant, const ConnectSessionId& id) {
  SB_RETURN_IF_ERROR(CheckTenantScope(tx, tenant));
  SB_RETURN_IF_ERROR(RequireValidId(id.valid()));
  SB_ASSIGN_OR_RETURN(auto rows, tx.Query(SB_SESSION_COLUMNS "WHERE tenant_id = $1 AND id = $2",
                                          {tenant.value(), id.value()}));
  return ParseFirst(rows, tenant, &ParseSession);
}

Result<std::optional<ConnectSessionRecord>> ConnectSessionRepository::FindByTokenHash(
    Transaction& tx, const TenantId& tenant, const std::string& token_hash) {
  SB_RETURN_IF_ERROR(CheckTenantScope(tx, tenant));
  if (!IsHexSha256(token_hash)) return InvalidArgumentError("token_hash is not hex SHA-256");
  SB_ASSIGN_OR_RETURN(auto rows,
                      tx.Query(SB_SESSION_COLUMNS "WHERE tenant_id = $1 AND token_hash = $2",
                               {tenant.value(), token_hash}));
  return ParseFirst(rows, tenant, &ParseSession);
}

Result<int64_t> ConnectSessionRepository::DeleteExpired(Transaction& tx, const TenantId& tenant,
                                                        Timestamp before) {
  SB_RETURN_IF_ERROR(CheckTenantScope(tx, tenant));
  return tx.Execute("DELETE FROM connect_sessions WHERE tenant_id = $1 AND expires_at < $2",
                    {tenant.value(), ToUnixMicros(before)});
}

// ---- OAuthTransactionRepository ----

Status OAuthTransactionRepository::Insert(Transaction& tx, const TenantId& tenant,
                                          const OAuthTransactionRecord& r) {
  SB_RETURN_IF_ERROR(CheckTenantScope(tx, tenant));
  if (r.tenant_id != tenant) return InvalidArgumentError("oauth transaction tenant_id != tenant");
  SB_RETURN_IF_ERROR(ValidateTransaction(r));
  return tx
      .Execute(
          "INSERT INTO oauth_transactions (tenant_id, state_hash, session_id, provider, "
          "redirect_uri, issuer, nonce_hash, browser_binding, services, scopes, created_at, "
          "expires_at, consumed_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, "
          "$13)",
          {tenant.value(), r.state_hash, r.session_id.value(), r.provider, r.redirect_uri, r.issuer,
           r.nonce_hash, r.browser_binding, ServicesJson(r.services), StringsJson(r.scopes),
           ToUnixMicros(r.created_at), ToUnixMicros(r.expires_at), OptionalMicros(r.consumed_at)})
      .status();
}

Result<std::optional<OAuthTransactionRecord>> OAuthTransactionRepository::Get(
    Transaction& tx, const TenantId& tenant, const std::string& state_hash) {
  SB_RETURN_IF_ERROR(CheckTenantScope(tx, tenant));
  if (!IsHexSha256(state_hash)) return InvalidArgumentError("state_hash is not hex SHA-256");
  SB_ASSIGN_OR_RETURN(auto rows,
                      tx.Query(SB_TRANSACTION_COLUMNS "WHERE tenant_id = $1 AND state_hash = $2",
                               {tenant.value(), state_hash}));
  return ParseFirst(rows, tenant, &ParseTransaction);
}

Result<bool> OAuthTransactionRepository::Consume(Transaction& tx, const TenantId& tenant,
                                                 const std::string& state_hash, Timestamp at) {
  SB_RETURN_IF_ERROR(CheckTenantScope(tx, tenant));
  if (!IsHexSha256(state_hash)) return InvalidArgumentError("state_hash is not hex SHA-256");
  // One conditional UPDATE: on PostgreSQL a concurrent Consume waits for the row lock and then
  // re-checks `consumed_at IS NULL`; SQLite serializes writers. Either way only one wins.
  SB_ASSIGN_OR_RETURN(int64_t n, tx.Execute("UPDATE oauth_transactions SET consumed_at = $3 "
                                            "WHERE tenant_id = $1 AND state_hash = $2 AND "
                                            "consumed_at IS NULL",
                                            {tenant.value(), state_hash, ToUnixMicros(at)}));
  return n == 1;
}

Result<int64_t> OAuthTransactionRepository::DeleteExpired(Transaction& tx, const TenantId& tenant,
                                                          Timestamp before) {
  SB_RETURN_IF_ERROR(CheckTenantScope(tx, tenant));
  // Their PKCE verifiers first (vault owner "oauth_tx:<state hash>", TransactionSecretOwner).
  SB_RETURN_IF_ERROR(tx.Execute("DELETE FROM vault_secrets WHERE tenant_id = $1 AND owner_id IN "
                                "(SELECT 'oauth_tx:' || state_hash FROM oauth_transactions "
                                "WHERE tenant_id = $1 AND expires_at < $2)",
                                {tenant.value(), ToUnixMicros(before)})
                         .status());
  return tx.Execute("DELETE FROM oauth_transactions WHERE tenant_id = $1 AND expires_at < $2",
                    {tenant.value(), ToUnixMicros(before)});
}

// ---- ConnectionRepository ----

Status ConnectionRepository::Insert(Transaction& tx, const TenantId& tenant,
                                    const ConnectionRecord& r) {
  SB_RETURN_IF_ERROR(CheckTenantScope(tx, tenant));
  if (r.tenant_id != tenant) return InvalidArgumentError("connection tenant_id != tenant");
  SB_RETURN_IF_ERROR(ValidateConnection(r));
  std::vector<Value> params{tenant.value(),       r.id.value(),      r.provider,
                            r.provider_tenant_id, r.account_subject, ToUnixMicros(r.created_at)};
  AppendMutableColumns(r, params);
  SB_RETURN_IF_ERROR(
      tx.Execute(
            "INSERT INTO connections (tenant_id, id, provider, provider_tenant_id, "
            "account_subject, created_at, end_user_id, account_email, status, status_reason, "
            "services, granted_scopes, missing_scopes, settings, access_expires_at, "
            "has_refresh_token, token_version, lease_owner, lease_until, next_refresh_at, "
            "refresh_failures, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, "
            "$12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22)",
            params)
          .status());
  // Its health row (connection_health_repository.h), due for a first check at once, so that
  // the health scheduler finds every connection through one index.
  return tx
      .Execute(
          "INSERT INTO connection_health (tenant_id, connection_id, last_error_kind, last_error, "
          "consecutive_failures, next_check_at, updated_at) VALUES ($1, $2, '', '', 0, $3, $3)",
          {tenant.value(), r.id.value(), ToUnixMicros(r.created_at)})
      .status();
}

Result<std::optional<ConnectionRecord>> ConnectionRepository::Get(Transaction& tx,
                                                                  const TenantId& tenant,
                                                                  const ConnectionId& id) {
  SB_RETURN_IF_ERROR(CheckTenantScope(tx, tenant));
  SB_RETURN_IF_ERROR(RequireValidId(id.valid()));
  SB_ASSIGN_OR_RETURN(auto rows, tx.Query(SB_CONNECTION_COLUMNS "WHERE tenant_id = $1 AND id = $2",
                                          {tenant.value(), id.value()}));
  return ParseFirst(rows, tenant, &ParseConnection);
}

Result<std::optional<ConnectionRecord>> ConnectionRepository::FindByAccount(
    Transaction& tx, const TenantId& tenant, const std::string& provider,
    const std::string& provider_tenant_id, const std::string& account_subject) {
  SB_RETURN_IF_ERROR(CheckTenantScope(tx, tenant));
  SB_RETURN_IF_ERROR(ValidateAccount(provider, provider_tenant_id, account_subject));
  SB_ASSIGN_OR_RETURN(
      auto rows, tx.Query(SB_CONNECTION_COLUMNS "WHERE tenant_id = $1 AND provider = $2 AND "
                                                "provider_tenant_id = $3 AND account_subject = $4",
                          {tenant.value(), provider, provider_tenant_id, account_subject}));
  return ParseFirst(rows, tenant, &ParseConnection);
}

Result<std::vector<ConnectionRecord>> ConnectionRepository::List(
    Transaction& tx, const TenantId& tenant, const ConnectionFilter& filter,
    const std::optional<ConnectionId>& after, int limit) {
  SB_RETURN_IF_ERROR(CheckTenantScope(tx, tenant));
  if (limit < 1 || limit > kMaxListLimit) return InvalidArgumentError("list limit out of range");
  if (filter.provider && !IsValidProvider(*filter.provider)) {
    return InvalidArgumentError("invalid provider id");
  }
  if (filter.status && ConnectionStatusName(*filter.status).empty()) {
    return InvalidArgumentError("invalid status");
  }
  if (filter.end_user_id && !IsCleanText(*filter.end_user_id, 1, kMaxEndUserIdBytes)) {
    return InvalidArgumentError("invalid end_user_id");
  }
  if (after && !after->valid()) return InvalidArgumentError("invalid list cursor");
  // Only constant column names go into the text; every value is bound.
  std::string sql = SB_CONNECTION_COLUMNS "WHERE tenant_id = $1";
  std::vector<Value> params{tenant.value()};
  auto add = [&](std::string_view condition, Value value) {
    params.push_back(std::move(value));
    sql += " AND " + std::string(condition) + " $" + std::to_string(params.size());
  };
  if (filter.provider) add("provider =", *filter.provider);
  if (filter.status) add("status =", std::string(ConnectionStatusName(*filter.status)));
  if (filter.end_user_id) add("end_user_id =", *filter.end_user_id);
  if (after) add("id >", after->value());
  params.push_back(int64_t{limit});
  sql += " ORDER BY id LIMIT $" + std::to_string(params.size());
  SB_ASSIGN_OR_RETURN(auto rows, tx.Query(sql, params));
  std::vector<ConnectionRecord> out;
  out.reserve(rows.size());
  for (const Row& row : rows) {
    SB_ASSIGN_OR_RETURN(ConnectionRecord r, ParseConnection(row, tenant));
    out.push_back(std::move(r));
  }
  return out;
}

Result<bool> ConnectionRepository::UpdateIf(Transaction& tx, const TenantId& tenant,
                                            const ConnectionRecord& r,
                                            int64_t expected_token_version) {
  SB_RETURN_IF_ERROR(CheckTenantScope(tx, tenant));
  if (r.tenant_id != tenant) return InvalidArgumentError("connection tenant_id != tenant");
  SB_RETURN_IF_ERROR(ValidateConnection(r));
  std::vector<Value> params{tenant.value(), r.id.value(), expected_token_version};
  AppendMutableColumns(r, params);
  SB_ASSIGN_OR_RETURN(
      int64_t n,
      tx.Execute("UPDATE connections SET end_user_id = $4, account_email = $5, status = $6, "
                 "status_reason = $7, services = $8, granted_scopes = $9, missing_scopes = $10, "
                 "settings = $11, access_expires_at = $12, has_refresh_token = $13, "
                 "token_version = $14, lease_owner = $15, lease_until = $16, "
                 "next_refresh_at = $17, refresh_failures = $18, updated_at = $19 "
                 "WHERE tenant_id = $1 AND id = $2 AND token_version = $3",
                 params));
  return n == 1;
}

Result<bool> ConnectionRepository::TryLease(Transaction& tx, const TenantId& tenant,
                                            const ConnectionId& id, const std::string& owner,
                                            Timestamp now, std::chrono::milliseconds duration) {
  SB_RETURN_IF_ERROR(CheckTenantScope(tx, tenant));
  SB_RETURN_IF_ERROR(RequireValidId(id.valid()));
  if (!IsPrintable(owner, kMaxLeaseOwnerBytes)) return InvalidArgumentError("invalid lease owner");
  if (duration <= std::chrono::milliseconds::zero()) {
    return InvalidArgumentError("lease duration must be positive");
  }
  const Timestamp until = now + std::chrono::duration_cast<std::chrono::microseconds>(duration);
  // One conditional UPDATE, so taking the lease is atomic: PostgreSQL re-evaluates the WHERE
  // clause on the locked row after a concurrent writer commits; SQLite serializes writers.
  SB_ASSIGN_OR_RETURN(
      int64_t n,
      tx.Execute("UPDATE connections SET lease_owner = $3, lease_until = $5 "
                 "WHERE tenant_id = $1 AND id = $2 AND (lease_owner = '' OR lease_until IS NULL "
                 "OR lease_until <= $4 OR lease_owner = $3)",
                 {tenant.value(), id.value(), owner, ToUnixMicros(now), ToUnixMicros(until)}));
  return n == 1;
}

Status ConnectionRepository::ReleaseLease(Transaction& tx, const TenantId& tenant,
                                          const ConnectionId& id, const std::string& owner) {
  SB_RETURN_IF_ERROR(CheckTenantScope(tx, tenant));
  SB_RETURN_IF_ERROR(RequireValidId(id.valid()));
  if (!IsPrintable(owner, kMaxLeaseOwnerBytes)) return InvalidArgumentError("invalid lease owner");
  return tx
      .Execute(
          "UPDATE connections SET lease_owner = '', lease_until = NULL "
          "WHERE tenant_id = $1 AND id = $2 AND lease_owner = $3",
          {tenant.value(), id.value(), owner})
      .status();
}

Result<bool> ConnectionRepository::Delete(Transaction& tx, const TenantId& tenant,
                                          const ConnectionId& id) {
  SB_RETURN_IF_ERROR(CheckTenantScope(tx, tenant));
  SB_RETURN_IF_ERROR(RequireValidId(id.valid()));
  SB_ASSIGN_OR_RETURN(int64_t n,
                      tx.Execute("DELETE FROM connections WHERE tenant_id = $1 AND id = $2",
                                 {tenant.value(), id.value()}));
  return n > 0;
}

Result<std::vector<std::pair<TenantId, ConnectionId>>> ConnectionRepository::MaintenanceListDue(
    Transaction& tx, Timestamp due, std::string_view job_kind, int limit) {
  SB_RETURN_IF_ERROR(RequireUnscoped(tx, "connection"));
  if (limit < 1 || limit > kMaxListLimit) return InvalidArgumentError("list limit out of range");
  // The NOT EXISTS probe uses jobs_dedupe (the partial unique index on live jobs).
  SB_ASSIGN_OR_RETURN(
      auto rows,
      tx.Query("SELECT c.tenant_id, c.id FROM connections c WHERE c.next_refresh_at IS NOT NULL "
               "AND c.next_refresh_at <= $1 AND NOT EXISTS (SELECT 1 FROM jobs j WHERE "
               "j.tenant_id = c.tenant_id AND j.kind = $2 AND j.dedupe_key = CAST(c.id AS TEXT) "
               "AND j.dedupe_key <> '' AND j.state IN ('queued', 'running')) "
               "ORDER BY c.next_refresh_at, c.tenant_id, c.id LIMIT $3",
               {ToUnixMicros(due), std::string(job_kind), int64_t{limit}}));
  std::vector<std::pair<TenantId, ConnectionId>> out;
  out.reserve(rows.size());
  for (const Row& row : rows) {
    SB_ASSIGN_OR_RETURN(std::string tenant_id, internal::ReadUuid(row, 0, kConnections));
    SB_ASSIGN_OR_RETURN(std::string id, internal::ReadUuid(row, 1, kConnections));
    out.emplace_back(TenantId(std::move(tenant_id)), ConnectionId(std::move(id)));
  }
  return out;
}

Result<std::vector<ConnectionRepository::StatusCount>>
ConnectionRepository::MaintenanceCountByStatus(Transaction& tx) {
  SB_RETURN_IF_ERROR(RequireUnscoped(tx, "connection"));
  SB_ASSIGN_OR_RETURN(auto rows, tx.Query("SELECT tenant_id, status, count(*) FROM connections "
                                          "GROUP BY tenant_id, status ORDER BY tenant_id, status"));
  std::vector<StatusCount> out;
  out.reserve(rows.size());
  for (const Row& row : rows) {
    StatusCount c;
    SB_ASSIGN_OR_RETURN(std::string tenant_id, internal::ReadUuid(row, 0, kConnections));
    c.tenant_id = TenantId(std::move(tenant_id));
    SB_ASSIGN_OR_RETURN(std::string status, internal::ReadText(row, 1, kConnections));
    auto parsed = ParseConnectionStatus(status);
    if (!parsed) return Corrupt(kConnections);
    c.status = *parsed;
    SB_ASSIGN_OR_RETURN(c.count, ReadInt(row, 2, kConnections));
    out.push_back(std::move(c));
  }
  return out;
}

Result<int64_t> ConnectSessionRepository::CountCreatedSince(Transaction& tx, const TenantId& tenant,
                                                            Timestamp since) {
  SB_RETURN_IF_ERROR(CheckTenantScope(tx, tenant));
  SB_ASSIGN_OR_RETURN(auto rows, tx.Query("SELECT count(*) FROM connect_sessions WHERE "
                                          "tenant_id = $1 AND created_at >= $2",
                                          {tenant.value(), ToUnixMicros(since)}));
  if (rows.empty()) return Corrupt(kSessions);
  return ReadInt(rows.front(), 0, kSessions);
}

Result<int64_t> ConnectionRepository::Count(Transaction& tx, const TenantId& tenant) {
  SB_RETURN_IF_ERROR(CheckTenantScope(tx, tenant));
  SB_ASSIGN_OR_RETURN(auto rows, tx.Query("SELECT count(*) FROM connections WHERE tenant_id = $1",
                                          {tenant.value()}));
  if (rows.empty()) return Corrupt(kConnections);
  return ReadInt(rows.front(), 0, kConnections);
}

Result<std::vector<std::pair<ConnectionStatus, int64_t>>> ConnectionRepository::CountByStatus(
    Transaction& tx, const TenantId& tenant) {
  SB_RETURN_IF_ERROR(CheckTenantScope(tx, tenant));
  SB_ASSIGN_OR_RETURN(auto rows, tx.Query("SELECT status, count(*) FROM connections WHERE "
                                          "tenant_id = $1 GROUP BY status",
                                          {tenant.value()}));
  std::vector<std::pair<ConnectionStatus, int64_t>> out;
  for (ConnectionStatus s : kConnectionStatuses) out.emplace_back(s, 0);
  for (const Row& row : rows) {
    SB_ASSIGN_OR_RETURN(std::string status, internal::ReadText(row, 0, kConnections));
    auto parsed = ParseConnectionStatus(status);
    if (!parsed) return Corrupt(kConnections);
    SB_ASSIGN_OR_RETURN(const int64_t count, ReadInt(row, 1, kConnections));
    for (auto& entry : out) {
      if (entry.first == *parsed) entry.second = count;
    }
  }
  return out;
}

#undef SB_SESSION_COLUMNS
#undef SB_TRANSACTION_COLUMNS
#undef SB_CONNECTION_COLUMNS

}  // namespace sb::store
