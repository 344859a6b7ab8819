#include "sb/store/connections/connection_health_repository.h"

#include <limits>
#include <utility>

#include "sb/store/internal/repository_helpers.h"
#include "sb/store/internal/row_reader.h"

namespace sb::store {
namespace {

using internal::CheckTenantScope;
using internal::Corrupt;
using internal::OptionalMicros;
using internal::ReadInt;
using internal::ReadOptionalTimestamp;

constexpr std::string_view kHealth = "connection_health";
constexpr size_t kMaxKindBytes = 64;
constexpr size_t kMaxErrorBytes = 1024;

// An error's kind and text, as the health row and an incident keep them.
Status ValidateError(std::string_view kind, std::string_view error) {
  if (!internal::IsCleanText(kind, 0, kMaxKindBytes))
    return InvalidArgumentError("invalid error kind");
  if (error.size() > kMaxErrorBytes || !internal::IsStorableError(error)) {
    return InvalidArgumentError("the error must be UTF-8 text of at most 1024 bytes");
  }
  return OkStatus();
}

Status Validate(const ConnectionHealthRecord& r) {
  if (!r.tenant_id.valid() || !r.connection_id.valid()) return InvalidArgumentError("invalid id");
  SB_RETURN_IF_ERROR(ValidateError(r.last_error_kind, r.last_error));
  if (r.consecutive_failures < 0) return InvalidArgumentError("negative failure count");
  return OkStatus();
}

#define SB_HEALTH_FIELDS                                                                    \
  "tenant_id, connection_id, last_success_at, last_error_at, last_error_kind, last_error, " \
  "consecutive_failures, incident_since, retry_at, last_checked_at, next_check_at, updated_at"

Result<ConnectionHealthRecord> Parse(const Row& row, const TenantId& tenant) {
  ConnectionHealthRecord r;
  SB_RETURN_IF_ERROR(internal::ReadTenant(row, tenant, kHealth));
  r.tenant_id = tenant;
  SB_ASSIGN_OR_RETURN(std::string id, internal::ReadUuid(row, 1, kHealth));
  r.connection_id = ConnectionId(std::move(id));
  SB_ASSIGN_OR_RETURN(r.last_success_at, ReadOptionalTimestamp(row, 2, kHealth));
  SB_ASSIGN_OR_RETURN(r.last_error_at, ReadOptionalTimestamp(row, 3, kHealth));
  SB_ASSIGN_OR_RETURN(r.last_error_kind, internal::ReadText(row, 4, kHealth));
  SB_ASSIGN_OR_RETURN(r.last_error, internal::ReadText(row, 5, kHealth));
  SB_ASSIGN_OR_RETURN(r.consecutive_failures, ReadInt(row, 6, kHealth));
  SB_ASSIGN_OR_RETURN(r.incident_since, ReadOptionalTimestamp(row, 7, kHealth));
  SB_ASSIGN_OR_RETURN(r.retry_at, ReadOptionalTimestamp(row, 8, kHealth));
  SB_ASSIGN_OR_RETURN(r.last_checked_at, ReadOptionalTimestamp(row, 9, kHealth));
  SB_ASSIGN_OR_RETURN(r.next_check_at, ReadOptionalTimestamp(row, 10, kHealth));
  SB_ASSIGN_OR_RETURN(r.updated_at, internal::ReadTimestamp(row, 11, kHealth));
  if (!Validate(r).ok()) return Corrupt(kHealth);
  return r;
}

}  // namespace

Result<std::optional<ConnectionHealthRecord>> ConnectionHealthRepository::Get(
    Transaction& tx, const TenantId& tenant, const ConnectionId& id) {
  SB_RETURN_IF_ERROR(CheckTenantScope(tx, tenant));
  if (!id.valid()) return InvalidArgumentError("invalid id");
  SB_ASSIGN_OR_RETURN(
      auto rows, tx.Query("SELECT " SB_HEALTH_FIELDS
                          " FROM connection_health WHERE tenant_id = $1 AND connection_id = $2",
                          {tenant.value(), id.value()}));
  if (rows.empty()) return std::optional<ConnectionHealthRecord>();
  SB_ASSIGN_OR_RETURN(ConnectionHealthRecord r, Parse(rows.front(), tenant));
  return std::optional<ConnectionHealthRecord>(std::move(r));
}

Result<std::vector<ConnectionHealthRecord>> ConnectionHealthRepository::ListUpdatedSince(
    Transaction& tx, const TenantId& tenant, const UpdatedCursor& after, int limit) {
  SB_ASSIGN_OR_RETURN(
      auto rows,
      internal::QueryUpdatedSince(tx, tenant, "SELECT " SB_HEALTH_FIELDS " FROM connection_health ",
                                  "connection_id", after, limit, kMaxListLimit));
  return internal::ParseAll(rows, tenant, &Parse);
}

Status ConnectionHealthRepository::Put(Transaction& tx, const TenantId& tenant,
                                       const ConnectionHealthRecord& r) {
  SB_RETURN_IF_ERROR(CheckTenantScope(tx, tenant));
  if (r.tenant_id != tenant) return InvalidArgumentError("connection health tenant_id != tenant");
  SB_RETURN_IF_ERROR(Validate(r));
  SB_RETURN_IF_ERROR(internal::RequireConnection(tx, tenant, r.connection_id));
  return tx
      .Execute("INSERT INTO connection_health (" SB_HEALTH_FIELDS
               ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) "
               "ON CONFLICT (tenant_id, connection_id) DO UPDATE SET "
               "last_success_at = excluded.last_success_at, "
               "last_error_at = excluded.last_error_at, "
               "last_error_kind = excluded.last_error_kind, last_error = excluded.last_error, "
               "consecutive_failures = excluded.consecutive_failures, "
               "incident_since = excluded.incident_since, retry_at = excluded.retry_at, "
               "last_checked_at = excluded.last_checked_at, "
               "next_check_at = excluded.next_check_at, updated_at = excluded.updated_at",
               {tenant.value(), r.connection_id.value(), OptionalMicros(r.last_success_at),
                OptionalMicros(r.last_error_at), r.last_error_kind, r.last_error,
                r.consecutive_failures, OptionalMicros(r.incident_since),
                OptionalMicros(r.retry_at), OptionalMicros(r.last_checked_at),
                OptionalMicros(r.next_check_at), ToUnixMicros(r.updated_at)})
      .status();
}

Result<std::vector<std::pair<TenantId, ConnectionId>>>
ConnectionHealthRepository::MaintenanceListDue(Transaction& tx, Timestamp due, int limit) {
  SB_RETURN_IF_ERROR(internal::RequireUnscoped(tx, "connection health"));
  if (limit < 1 || limit > kMaxListLimit) return InvalidArgumentError("list limit out of range");
  // Every connection has a row from its creation (ConnectionRepository::Insert); the index on
  // next_check_at finds the due ones whatever their status (the scheduler skips, and moves on,
  // connections that are not active).
  SB_ASSIGN_OR_RETURN(
      auto rows,
      tx.Query("SELECT tenant_id, connection_id FROM connection_health WHERE next_check_at <= $1 "
               "ORDER BY next_check_at LIMIT $2",
               {ToUnixMicros(due), int64_t{limit}}));
  std::vector<std::pair<TenantId, ConnectionId>> out;
  out.reserve(rows.size());
  for (const Row& row : rows) {
    SB_ASSIGN_OR_RETURN(std::string tenant_id, internal::ReadUuid(row, 0, kHealth));
    SB_ASSIGN_OR_RETURN(std::string id, internal::ReadUuid(row, 1, kHealth));
    out.emplace_back(TenantId(std::move(tenant_id)), ConnectionId(std::move(id)));
  }
  return out;
}

#undef SB_HEALTH_FIELDS

namespace {

constexpr std::string_view kIncidents = "connection_health_incidents";

Status ValidateIncident(const HealthIncidentRecord& r) {
  if (!r.tenant_id.valid() || !r.connection_id.valid()) return InvalidArgumentError("invalid id");
  SB_RETURN_IF_ERROR(ValidateError(r.error_kind, r.error));
  if (r.seq < 1) return InvalidArgumentError("incident seq must be positive");
  return OkStatus();
}

#define SB_INCIDENT_FIELDS "tenant_id, connection_id, seq, opened_at, closed_at, error_kind, error"

Result<HealthIncidentRecord> ParseIncident(const Row& row, const TenantId& tenant) {
  HealthIncidentRecord r;
  SB_RETURN_IF_ERROR(internal::ReadTenant(row, tenant, kIncidents));
  r.tenant_id = tenant;
  SB_ASSIGN_OR_RETURN(std::string id, internal::ReadUuid(row, 1, kIncidents));
  r.connection_id = ConnectionId(std::move(id));
  SB_ASSIGN_OR_RETURN(r.seq, ReadInt(row, 2, kIncidents));
  SB_ASSIGN_OR_RETURN(r.opened_at, internal::ReadTimestamp(row, 3, kIncidents));
  SB_ASSIGN_OR_RETURN(r.closed_at, ReadOptionalTimestamp(row, 4, kIncidents));
  SB_ASSIGN_OR_RETURN(r.error_kind, internal::ReadText(row, 5, kIncidents));
  SB_ASSIGN_OR_RETURN(r.error, internal::ReadText(row, 6, kIncidents));
  if (!ValidateIncident(r).ok()) return Corrupt(kIncidents);
  return r;
}

}  // namespace

Result<HealthIncidentRecord> ConnectionHealthRepository::OpenIncident(
    Transaction& tx, const TenantId& tenant, const HealthIncidentRecord& record) {
  SB_RETURN_IF_ERROR(CheckTenantScope(tx, tenant));
  if (record.tenant_id != tenant) return InvalidArgumentError("incident tenant_id != tenant");
  HealthIncidentRecord r = record;
  r.seq = 1;
  SB_RETURN_IF_ERROR(ValidateIncident(r));
  SB_RETURN_IF_ERROR(internal::RequireConnection(tx, tenant, r.connection_id));
  SB_ASSIGN_OR_RETURN(auto rows, tx.Query("SELECT COALESCE(MAX(seq), 0) FROM "
                                          "connection_health_incidents WHERE tenant_id = $1 AND "
                                          "connection_id = $2",
                                          {tenant.value(), r.connection_id.value()}));
  if (rows.size() != 1) return Corrupt(kIncidents);
  SB_ASSIGN_OR_RETURN(const int64_t last, ReadInt(rows.front(), 0, kIncidents));
  r.seq = last + 1;
  SB_RETURN_IF_ERROR(
      tx.Execute("INSERT INTO connection_health_incidents (" SB_INCIDENT_FIELDS
                 ") VALUES ($1, $2, $3, $4, $5, $6, $7)",
                 {tenant.value(), r.connection_id.value(), r.seq, ToUnixMicros(r.opened_at),
                  OptionalMicros(r.closed_at), r.error_kind, r.error})
          .status());
  SB_RETURN_IF_ERROR(tx.Execute("DELETE FROM connection_health_incidents WHERE tenant_id = $1 AND "
                                "connection_id = $2 AND seq <= $3",
                                {tenant.value(), r.connection_id.value(), r.seq - kIncidentsKept})
                         .status());
  return r;
}

Status ConnectionHealthRepository::CloseIncidents(Transaction& tx, const TenantId& tenant,
                                                  const ConnectionId& connection,
                                                  Timestamp closed_at) {
  SB_RETURN_IF_ERROR(CheckTenantScope(tx, tenant));
  if (!connection.valid()) return InvalidArgumentError("invalid id");
  return tx
      .Execute(
          "UPDATE connection_health_incidents SET closed_at = $3 WHERE tenant_id = $1 AND "
          "connection_id = $2 AND closed_at IS NULL",
          {tenant.value(), connection.value(), ToUnixMicros(closed_at)})
      .status();
}

Result<std::vector<HealthIncidentRecord>> ConnectionHealthRepository::ListIncidents(
    Transaction& tx, const TenantId& tenant, const ConnectionId& connection,
    std::optional<int64_t> before, int limit) {
  SB_RETURN_IF_ERROR(CheckTenantScope(tx, tenant));
  if (!connection.valid()) return InvalidArgumentError("invalid id");
  if (limit < 1 || limit > kMaxListLimit) return InvalidArgumentError("list limit out of range");
  SB_ASSIGN_OR_RETURN(
      auto rows,
      tx.Query("SELECT " SB_INCIDENT_FIELDS " FROM connection_health_incidents "
               "WHERE tenant_id = $1 AND connection_id = $2 AND seq < $3 ORDER BY seq DESC "
               "LIMIT $4",
               {tenant.value(), connection.value(),
                before.value_or(std::numeric_limits<int64_t>::max()), int64_t{limit}}));
  return internal::ParseAll(rows, tenant, &ParseIncident);
}

#undef SB_INCIDENT_FIELDS

namespace {

// A row of ListOpenIncidents: connection_id, provider, end_user_id, incident_since,
// last_error_kind, last_error (the tenant is the query's; the signature is ParseAll's).
Result<OpenIncidentRecord> ParseOpenIncident(const Row& row, const TenantId&) {
  OpenIncidentRecord r;
  SB_ASSIGN_OR_RETURN(std::string id, internal::ReadUuid(row, 0, kHealth));
  r.connection_id = ConnectionId(std::move(id));
  SB_ASSIGN_OR_RETURN(r.provider, internal::ReadText(row, 1, kHealth));
  SB_ASSIGN_OR_RETURN(r.end_user_id, internal::ReadText(row, 2, kHealth));
  SB_ASSIGN_OR_RETURN(r.incident_since, internal::ReadTimestamp(row, 3, kHealth));
  SB_ASSIGN_OR_RETURN(r.last_error_kind, internal::ReadText(row, 4, kHealth));
  SB_ASSIGN_OR_RETURN(r.last_error, internal::ReadText(row, 5, kHealth));
  if (!ValidateError(r.last_error_kind, r.last_error).ok()) return Corrupt(kHealth);
  return r;
}

}  // namespace

Result<int64_t> ConnectionHealthRepository::CountOpenIncidents(Transaction& tx,
                                                               const TenantId& tenant) {
  SB_RETURN_IF_ERROR(CheckTenantScope(tx, tenant));
  SB_ASSIGN_OR_RETURN(auto rows, tx.Query("SELECT count(*) FROM connection_health WHERE "
                                          "tenant_id = $1 AND incident_since IS NOT NULL",
                                          {tenant.value()}));
  if (rows.size() != 1) return Corrupt(kHealth);
  return ReadInt(rows.front(), 0, kHealth);
}

Result<std::vector<OpenIncidentRecord>> ConnectionHealthRepository::ListOpenIncidents(
    Transaction& tx, const TenantId& tenant, int limit) {
  SB_RETURN_IF_ERROR(CheckTenantScope(tx, tenant));
  if (limit < 1 || limit > kMaxListLimit) return InvalidArgumentError("list limit out of range");
  // SQLite without statistics could read the primary key's tenant prefix and sort; the partial
  // index gives the rows in order.
  const std::string indexed =
      tx.backend() == Backend::kSqlite ? " INDEXED BY connection_health_open_incidents" : "";
  SB_ASSIGN_OR_RETURN(
      auto rows,
      tx.Query("SELECT h.connection_id, c.provider, c.end_user_id, h.incident_since, "
               "h.last_error_kind, h.last_error FROM connection_health h" +
                   indexed +
                   " JOIN connections c ON c.tenant_id = h.tenant_id AND c.id = h.connection_id "
                   "WHERE h.tenant_id = $1 AND h.incident_since IS NOT NULL "
                   "ORDER BY h.incident_since DESC, h.connection_id DESC LIMIT $2",
               {tenant.value(), int64_t{limit}}));
  return internal::ParseAll(rows, tenant, &ParseOpenIncident);
}

}  // namespace sb::store
