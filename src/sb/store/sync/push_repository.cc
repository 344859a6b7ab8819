#include "sb/store/sync/push_repository.h"

#include <algorithm>
#include <array>
#include <utility>

#include "sb/store/internal/repository_helpers.h"
#include "sb/store/internal/row_reader.h"

namespace sb::store {
namespace {

using internal::IsHexSha256;

using internal::RequireConnection;

using internal::CheckTenantScope;
using internal::Corrupt;
using internal::IsCleanText;
using internal::ReadInt;
using internal::ReadText;
using internal::ReadTimestamp;
using internal::ReadUuid;

constexpr std::string_view kChannels = "push_channels";
constexpr size_t kMaxServiceBytes = 32;
constexpr size_t kMaxProviderBytes = 32;
constexpr size_t kMaxResourceBytes = 1024;
constexpr size_t kMaxExternalIdBytes = 256;
constexpr size_t kMaxResourceIdBytes = 256;
constexpr size_t kMaxErrorBytes = 1024;
constexpr size_t kMaxMessageKeyBytes = 128;

constexpr std::array<std::pair<PushChannelStatus, std::string_view>, 2> kStatusNames = {{
    {PushChannelStatus::kActive, "active"},
    {PushChannelStatus::kStopped, "stopped"},
}};

// ---- Field rules ----

bool IsService(std::string_view s) {
  return !s.empty() && s.size() <= kMaxServiceBytes &&
         std::all_of(s.begin(), s.end(), [](char c) { return (c >= 'a' && c <= 'z') || c == '_'; });
}

// [a-z0-9-]{1,32}: "google", "microsoft", and the names of providers added later.
bool IsProvider(std::string_view s) {
  return !s.empty() && s.size() <= kMaxProviderBytes && std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
  });
}

bool IsExternalId(std::string_view s) { return IsCleanText(s, 1, kMaxExternalIdBytes); }

Status CheckLimit(int limit) {
  if (limit < 1 || limit > PushRepository::kMaxListLimit) {
    return InvalidArgumentError("list limit out of range");
  }
  return OkStatus();
}

Status ValidateChannel(const PushChannelRecord& r) {
  if (!r.tenant_id.valid() || !IsCanonicalUuid(r.id) || !r.connection_id.valid()) {
    return InvalidArgumentError("invalid id");
  }
  if (!IsService(r.service)) return InvalidArgumentError("invalid service: [a-z_]{1,32}");
  if (!IsProvider(r.provider)) return InvalidArgumentError("invalid provider: [a-z0-9-]{1,32}");
  if (!IsCleanText(r.resource, 1, kMaxResourceBytes)) {
    return InvalidArgumentError("invalid push resource");
  }
  if (!IsExternalId(r.external_id)) return InvalidArgumentError("invalid push external id");
  if (!IsCleanText(r.resource_id, 0, kMaxResourceIdBytes)) {
    return InvalidArgumentError("invalid push resource id");
  }
  if (!IsHexSha256(r.secret_hash)) {
    return InvalidArgumentError("secret_hash is not lowercase hex SHA-256");
  }
  if (PushChannelStatusName(r.status).empty()) {
    return InvalidArgumentError("invalid push channel status");
  }
  if (r.renew_failures < 0) return InvalidArgumentError("negative renew failures");
  if (r.last_error.size() > kMaxErrorBytes || !internal::IsStorableError(r.last_error)) {
    return InvalidArgumentError("the error must be UTF-8 text of at most 1024 bytes");
  }
  return OkStatus();
}

// ---- Decoding: anything unexpected is DATA_LOSS ----

#define SB_CHANNEL_COLUMNS                                                                \
  "tenant_id, id, connection_id, service, provider, resource, external_id, resource_id, " \
  "secret_hash, expires_at, status, renew_failures, last_error, created_at, updated_at"

Result<PushChannelRecord> ParseChannel(const Row& row, const TenantId& tenant) {
  PushChannelRecord r;
  SB_RETURN_IF_ERROR(internal::ReadTenant(row, tenant, kChannels));
  r.tenant_id = tenant;
  SB_ASSIGN_OR_RETURN(r.id, ReadUuid(row, 1, kChannels));
  SB_ASSIGN_OR_RETURN(std::string connection, ReadUuid(row, 2, kChannels));
  r.connection_id = ConnectionId(std::move(connection));
  SB_ASSIGN_OR_RETURN(r.service, ReadText(row, 3, kChannels));
  SB_ASSIGN_OR_RETURN(r.provider, ReadText(row, 4, kChannels));
  SB_ASSIGN_OR_RETURN(r.resource, ReadText(row, 5, kChannels));
  SB_ASSIGN_OR_RETURN(r.external_id, ReadText(row, 6, kChannels));
  SB_ASSIGN_OR_RETURN(r.resource_id, ReadText(row, 7, kChannels));
  SB_ASSIGN_OR_RETURN(r.secret_hash, ReadText(row, 8, kChannels));
  SB_ASSIGN_OR_RETURN(r.expires_at, ReadTimestamp(row, 9, kChannels));
  SB_ASSIGN_OR_RETURN(std::string status, ReadText(row, 10, kChannels));
  std::optional<PushChannelStatus> parsed = ParsePushChannelStatus(status);
  if (!parsed) return Corrupt(kChannels);
  r.status = *parsed;
  SB_ASSIGN_OR_RETURN(r.renew_failures, ReadInt(row, 11, kChannels));
  SB_ASSIGN_OR_RETURN(r.last_error, ReadText(row, 12, kChannels));
  SB_ASSIGN_OR_RETURN(r.created_at, ReadTimestamp(row, 13, kChannels));
  SB_ASSIGN_OR_RETURN(r.updated_at, ReadTimestamp(row, 14, kChannels));
  if (!ValidateChannel(r).ok()) return Corrupt(kChannels);
  return r;
}

}  // namespace

std::string_view PushChannelStatusName(PushChannelStatus status) {
  return internal::EnumName(kStatusNames, status);
}

std::optional<PushChannelStatus> ParsePushChannelStatus(std::string_view name) {
  return internal::ParseEnum(kStatusNames, name);
}

// ---- Channels ----

Status PushRepository::Insert(Transaction& tx, const TenantId& tenant, const PushChannelRecord& r) {
  SB_RETURN_IF_ERROR(CheckTenantScope(tx, tenant));
  if (r.tenant_id != tenant) return InvalidArgumentError("push channel tenant_id != tenant");
  SB_RETURN_IF_ERROR(ValidateChannel(r));
  SB_RETURN_IF_ERROR(RequireConnection(tx, tenant, r.connection_id));
  // A duplicate id, or a duplicate (provider, external_id), is ALREADY_EXISTS.
  return tx
      .Execute("INSERT INTO push_channels (" SB_CHANNEL_COLUMNS
               ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
               {tenant.value(), r.id, r.connection_id.value(), r.service, r.provider, r.resource,
                r.external_id, r.resource_id, r.secret_hash, ToUnixMicros(r.expires_at),
                std::string(PushChannelStatusName(r.status)), r.renew_failures, r.last_error,
                ToUnixMicros(r.created_at), ToUnixMicros(r.updated_at)})
      .status();
}

Status PushRepository::Update(Transaction& tx, const TenantId& tenant, const PushChannelRecord& r) {
  SB_RETURN_IF_ERROR(CheckTenantScope(tx, tenant));
  if (r.tenant_id != tenant) return InvalidArgumentError("push channel tenant_id != tenant");
  SB_RETURN_IF_ERROR(ValidateChannel(r));
  SB_ASSIGN_OR_RETURN(
      int64_t n,
      tx.Execute("UPDATE push_channels SET external_id = $3, resource_id = $4, secret_hash = $5, "
                 "expires_at = $6, status = $7, renew_failures = $8, last_error = $9, "
                 "updated_at = $10 WHERE tenant_id = $1 AND id = $2",
                 {tenant.value(), r.id, r.external_id, r.resource_id, r.secret_hash,
                  ToUnixMicros(r.expires_at), std::string(PushChannelStatusName(r.status)),
                  r.renew_failures, r.last_error, ToUnixMicros(r.updated_at)}));
  if (n == 0) return NotFoundError("push channel not found");
  return OkStatus();
}

Result<bool> PushRepository::Delete(Transaction& tx, const TenantId& tenant,
                                    const std::string& id) {
  SB_RETURN_IF_ERROR(CheckTenantScope(tx, tenant));
  if (!IsCanonicalUuid(id)) return InvalidArgumentError("invalid push channel id");
  SB_ASSIGN_OR_RETURN(int64_t n,
                      tx.Execute("DELETE FROM push_channels WHERE tenant_id = $1 AND id = $2",
                                 {tenant.value(), id}));
  return n > 0;
}

Result<std::optional<PushChannelRecord>> PushRepository::FindByExternal(
    Transaction& tx, const TenantId& tenant, std::string_view provider,
    std::string_view external_id) {
  SB_RETURN_IF_ERROR(CheckTenantScope(tx, tenant));
  if (!IsProvider(provider)) return InvalidArgumentError("invalid provider");
  if (!IsExternalId(external_id)) return InvalidArgumentError("invalid push external id");
  SB_ASSIGN_OR_RETURN(
      auto rows,
      tx.Query("SELECT " SB_CHANNEL_COLUMNS " FROM push_channels WHERE tenant_id = $1 AND "
               "provider = $2 AND external_id = $3",
               {tenant.value(), std::string(provider), std::string(external_id)}));
  if (rows.empty()) return std::optional<PushChannelRecord>();
  SB_ASSIGN_OR_RETURN(PushChannelRecord r, ParseChannel(rows.front(), tenant));
  return std::optional<PushChannelRecord>(std::move(r));
}

Result<std::vector<PushChannelRecord>> PushRepository::ListForConnection(
    Transaction& tx, const TenantId& tenant, const ConnectionId& connection) {
  SB_RETURN_IF_ERROR(CheckTenantScope(tx, tenant));
  if (!connection.valid()) return InvalidArgumentError("invalid connection id");
  SB_ASSIGN_OR_RETURN(auto rows, tx.Query("SELECT " SB_CHANNEL_COLUMNS
                                          " FROM push_channels WHERE tenant_id = $1 AND "
                                          "connection_id = $2 ORDER BY created_at, id",
                                          {tenant.value(), connection.value()}));
  std::vector<PushChannelRecord> out;
  out.reserve(rows.size());
  for (const Row& row : rows) {
    SB_ASSIGN_OR_RETURN(PushChannelRecord r, ParseChannel(row, tenant));
    out.push_back(std::move(r));
  }
  return out;
}

Result<std::vector<std::pair<TenantId, ConnectionId>>> PushRepository::MaintenanceListExpiring(
    Transaction& tx, Timestamp now, std::chrono::microseconds margin, int limit, int64_t offset) {
  SB_RETURN_IF_ERROR(internal::RequireUnscoped(tx, "push channel"));
  SB_RETURN_IF_ERROR(CheckLimit(limit));
  if (offset < 0) return InvalidArgumentError("push channel: offset must not be negative");
  // The conditions repeat push_channels_expiring's predicate, so that both backends use that
  // index; a connection with several expiring channels is listed once, at its soonest.
  SB_ASSIGN_OR_RETURN(
      auto rows,
      tx.Query("SELECT tenant_id, connection_id FROM push_channels "
               "WHERE status = 'active' AND expires_at < $1 "
               "AND (renew_failures > 0 OR expires_at + updated_at <= $4) "
               "GROUP BY tenant_id, connection_id "
               "ORDER BY MIN(expires_at), tenant_id, connection_id LIMIT $2 OFFSET $3",
               {ToUnixMicros(now + margin), int64_t{limit}, offset, 2 * ToUnixMicros(now)}));
  std::vector<std::pair<TenantId, ConnectionId>> out;
  out.reserve(rows.size());
  for (const Row& row : rows) {
    SB_ASSIGN_OR_RETURN(std::string tenant_id, ReadUuid(row, 0, kChannels));
    SB_ASSIGN_OR_RETURN(std::string connection, ReadUuid(row, 1, kChannels));
    out.emplace_back(TenantId(std::move(tenant_id)), ConnectionId(std::move(connection)));
  }
  return out;
}

// ---- Inbox ----

Result<bool> PushRepository::RecordNotification(Transaction& tx, const TenantId& tenant,
                                                const std::string& channel_id,
                                                const std::string& message_key,
                                                Timestamp received_at) {
  SB_RETURN_IF_ERROR(CheckTenantScope(tx, tenant));
  if (!IsCanonicalUuid(channel_id)) return InvalidArgumentError("invalid push channel id");
  if (!internal::IsPrintable(message_key, kMaxMessageKeyBytes)) {
    return InvalidArgumentError("invalid message key: 1..128 bytes of visible ASCII");
  }
  SB_ASSIGN_OR_RETURN(auto channel,
                      tx.Query("SELECT 1 FROM push_channels WHERE tenant_id = $1 AND id = $2",
                               {tenant.value(), channel_id}));
  if (channel.empty()) return NotFoundError("push channel not found");
  // The key seen before inserts nothing: Execute reports 0 rows on both backends.
  SB_ASSIGN_OR_RETURN(
      int64_t n,
      tx.Execute("INSERT INTO push_inbox (tenant_id, channel_id, message_key, received_at) "
                 "VALUES ($1, $2, $3, $4) "
                 "ON CONFLICT (tenant_id, channel_id, message_key) DO NOTHING",
                 {tenant.value(), channel_id, message_key, ToUnixMicros(received_at)}));
  return n > 0;
}

Result<int64_t> PushRepository::MaintenancePruneInbox(Transaction& tx, Timestamp before) {
  SB_RETURN_IF_ERROR(internal::RequireUnscoped(tx, "push inbox"));
  return tx.Execute("DELETE FROM push_inbox WHERE received_at < $1", {ToUnixMicros(before)});
}

#undef SB_CHANNEL_COLUMNS

}  // namespace sb::store
