#include "sb/store/calendar/conflict_repository.h"

#include <array>
#include <utility>

#include "sb/store/internal/repository_helpers.h"
#include "sb/store/internal/row_reader.h"

namespace sb::store {
namespace {

using internal::CheckTenantScope;
using internal::Corrupt;
using internal::ParseAll;
using internal::ParseFirst;
using internal::ReadText;
using internal::ReadTimestamp;
using internal::ReadUuid;

constexpr std::string_view kConflicts = "event_conflicts";
constexpr size_t kMaxExternalIdBytes = 256;
constexpr size_t kMaxEventBytes = size_t{1024} * 1024;
constexpr size_t kMaxResolvedByBytes = 200;
constexpr int kMaxListLimit = 1000;

constexpr std::array<std::pair<ConflictPolicy, std::string_view>, 4> kPolicies = {{
    {ConflictPolicy::kLastModifiedWins, "last_modified_wins"},
    {ConflictPolicy::kProviderWins, "provider_wins"},
    {ConflictPolicy::kHostWins, "host_wins"},
    {ConflictPolicy::kManual, "manual"},
}};
constexpr std::array<std::pair<ConflictStatus, std::string_view>, 2> kStatuses = {{
    {ConflictStatus::kOpen, "open"},
    {ConflictStatus::kResolved, "resolved"},
}};
constexpr std::array<std::pair<ConflictResolution, std::string_view>, 4> kResolutions = {{
    {ConflictResolution::kNone, ""},
    {ConflictResolution::kProvider, "provider"},
    {ConflictResolution::kHost, "host"},
    {ConflictResolution::kMerged, "merged"},
}};

#define SB_CONFLICT_COLUMNS                                                            \
  "tenant_id, id, connection_id, mapping_id, external_id, event_id, policy, status, "  \
  "resolution, host_event, provider_event, resolved_event, resolved_by, detected_at, " \
  "resolved_at"

bool Known(std::string_view name) { return !name.empty(); }

Status ValidateResolution(const EventConflictRecord& r) {
  const bool open = r.status == ConflictStatus::kOpen;
  if (open != (r.resolution == ConflictResolution::kNone)) {
    return InvalidArgumentError("a resolution exactly when resolved");
  }
  if (open != !r.resolved_at.has_value() || open != r.resolved_by.empty()) {
    return InvalidArgumentError("resolved_at and resolved_by exactly when resolved");
  }
  if (!internal::IsPrintable(r.resolved_by, kMaxResolvedByBytes) && !r.resolved_by.empty()) {
    return InvalidArgumentError("invalid resolved_by");
  }
  if ((r.resolution == ConflictResolution::kMerged) != r.resolved_event.is_object()) {
    return InvalidArgumentError("resolved_event exactly for a merged resolution");
  }
  return OkStatus();
}

Status ValidateConflict(const EventConflictRecord& r) {
  if (!r.tenant_id.valid()) return InvalidArgumentError("invalid tenant_id");
  if (!IsCanonicalUuid(r.id)) return InvalidArgumentError("invalid id");
  if (!r.connection_id.valid()) return InvalidArgumentError("invalid connection_id");
  if (!IsCanonicalUuid(r.mapping_id)) return InvalidArgumentError("invalid mapping_id");
  if (!internal::IsPrintable(r.external_id, kMaxExternalIdBytes)) {
    return InvalidArgumentError("invalid external_id");
  }
  if (r.event_id && !r.event_id->valid()) return InvalidArgumentError("invalid event_id");
  if (!Known(ConflictPolicyName(r.policy)) || !Known(ConflictStatusName(r.status))) {
    return InvalidArgumentError("invalid policy or status");
  }
  if (!r.host_event.is_object()) return InvalidArgumentError("host_event must be an object");
  if (!r.provider_event.is_null() && !r.provider_event.is_object()) {
    return InvalidArgumentError("provider_event must be an object or null");
  }
  return ValidateResolution(r);
}

Result<Value> OptionalObject(const Json& j, std::string_view what) {
  if (j.is_null()) return Value(std::monostate());
  SB_ASSIGN_OR_RETURN(std::string text, internal::SerializeObject(j, kMaxEventBytes, what));
  return Value(std::move(text));
}

Result<Json> ReadOptionalObject(const Row& row, size_t i) {
  if (i < row.size() && row.IsNull(i)) return Json(nullptr);
  return internal::ReadObject(row, i, kMaxEventBytes, kConflicts);
}

template <typename E, size_t N>
Result<E> ReadEnum(const Row& row, size_t i,
                   const std::array<std::pair<E, std::string_view>, N>& names) {
  SB_ASSIGN_OR_RETURN(std::string text, ReadText(row, i, kConflicts));
  std::optional<E> parsed = internal::ParseEnum(names, text);
  if (!parsed) return Corrupt(kConflicts);
  return *parsed;
}

Status ParseIds(const Row& row, const TenantId& tenant, EventConflictRecord& r) {
  SB_RETURN_IF_ERROR(internal::ReadTenant(row, tenant, kConflicts));
  r.tenant_id = tenant;
  SB_ASSIGN_OR_RETURN(r.id, ReadUuid(row, 1, kConflicts));
  SB_ASSIGN_OR_RETURN(std::string connection, ReadUuid(row, 2, kConflicts));
  r.connection_id = ConnectionId(std::move(connection));
  SB_ASSIGN_OR_RETURN(r.mapping_id, ReadUuid(row, 3, kConflicts));
  SB_ASSIGN_OR_RETURN(r.external_id, ReadText(row, 4, kConflicts));
  if (!row.IsNull(5)) {
    SB_ASSIGN_OR_RETURN(std::string event, ReadUuid(row, 5, kConflicts));
    r.event_id = EventId(std::move(event));
  }
  return OkStatus();
}

Status ParseBody(const Row& row, EventConflictRecord& r) {
  SB_ASSIGN_OR_RETURN(r.policy, ReadEnum(row, 6, kPolicies));
  SB_ASSIGN_OR_RETURN(r.status, ReadEnum(row, 7, kStatuses));
  SB_ASSIGN_OR_RETURN(r.resolution, ReadEnum(row, 8, kResolutions));
  SB_ASSIGN_OR_RETURN(r.host_event, internal::ReadObject(row, 9, kMaxEventBytes, kConflicts));
  SB_ASSIGN_OR_RETURN(r.provider_event, ReadOptionalObject(row, 10));
  SB_ASSIGN_OR_RETURN(r.resolved_event, ReadOptionalObject(row, 11));
  SB_ASSIGN_OR_RETURN(r.resolved_by, ReadText(row, 12, kConflicts));
  SB_ASSIGN_OR_RETURN(r.detected_at, ReadTimestamp(row, 13, kConflicts));
  SB_ASSIGN_OR_RETURN(r.resolved_at, internal::ReadOptionalTimestamp(row, 14, kConflicts));
  return OkStatus();
}

Result<EventConflictRecord> ParseConflict(const Row& row, const TenantId& tenant) {
  if (row.size() != 15) return Corrupt(kConflicts);
  EventConflictRecord r;
  SB_RETURN_IF_ERROR(ParseIds(row, tenant, r));
  SB_RETURN_IF_ERROR(ParseBody(row, r));
  if (!ValidateConflict(r).ok()) return Corrupt(kConflicts);
  return r;
}

Value OptionalEvent(const std::optional<EventId>& event) {
  return event ? Value(event->value()) : Value(std::monostate());
}

Value OptionalTime(const std::optional<Timestamp>& t) {
  return t ? Value(ToUnixMicros(*t)) : Value(std::monostate());
}

}  // namespace

std::string_view ConflictPolicyName(ConflictPolicy v) { return internal::EnumName(kPolicies, v); }
std::optional<ConflictPolicy> ParseConflictPolicy(std::string_view name) {
  return internal::ParseEnum(kPolicies, name);
}
Status CheckConflictPolicies(const Json& policies) {
  if (!policies.is_object()) return InvalidArgumentError("conflict_policies: an object");
  for (const auto& [service, policy] : policies.items()) {
    if (service != "calendar" && service != "email" && service != "contacts") {
      return InvalidArgumentError("conflict_policies: unknown service (calendar, email, contacts)");
    }
    if (!policy.is_string() || !ParseConflictPolicy(policy.get<std::string>())) {
      return InvalidArgumentError(
          "conflict_policies: last_modified_wins, provider_wins, host_wins or manual");
    }
  }
  return OkStatus();
}
std::string_view ConflictStatusName(ConflictStatus v) { return internal::EnumName(kStatuses, v); }
std::optional<ConflictStatus> ParseConflictStatus(std::string_view name) {
  return internal::ParseEnum(kStatuses, name);
}
std::string_view ConflictResolutionName(ConflictResolution v) {
  return internal::EnumName(kResolutions, v);
}
std::optional<ConflictResolution> ParseConflictResolution(std::string_view name) {
  return internal::ParseEnum(kResolutions, name);
}

Status ConflictRepository::Insert(Transaction& tx, const TenantId& tenant,
                                  const EventConflictRecord& r) {
  SB_RETURN_IF_ERROR(CheckTenantScope(tx, tenant));
  if (r.tenant_id != tenant) return InvalidArgumentError("conflict tenant_id != tenant");
  SB_RETURN_IF_ERROR(ValidateConflict(r));
  SB_ASSIGN_OR_RETURN(std::string host,
                      internal::SerializeObject(r.host_event, kMaxEventBytes, "host_event"));
  SB_ASSIGN_OR_RETURN(Value provider, OptionalObject(r.provider_event, "provider_event"));
  SB_ASSIGN_OR_RETURN(Value resolved, OptionalObject(r.resolved_event, "resolved_event"));
  SB_RETURN_IF_ERROR(internal::RequireConnection(tx, tenant, r.connection_id));
  return tx
      .Execute("INSERT INTO event_conflicts (" SB_CONFLICT_COLUMNS
               ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
               {tenant.value(), r.id, r.connection_id.value(), r.mapping_id, r.external_id,
                OptionalEvent(r.event_id), std::string(ConflictPolicyName(r.policy)),
                std::string(ConflictStatusName(r.status)),
                std::string(ConflictResolutionName(r.resolution)), std::move(host),
                std::move(provider), std::move(resolved), r.resolved_by,
                ToUnixMicros(r.detected_at), OptionalTime(r.resolved_at)})
      .status();
}

Result<std::optional<EventConflictRecord>> ConflictRepository::Get(Transaction& tx,
                                                                   const TenantId& tenant,
                                                                   const std::string& id) {
  SB_RETURN_IF_ERROR(CheckTenantScope(tx, tenant));
  if (!IsCanonicalUuid(id)) return InvalidArgumentError("invalid id");
  SB_ASSIGN_OR_RETURN(auto rows, tx.Query("SELECT " SB_CONFLICT_COLUMNS
                                          " FROM event_conflicts WHERE tenant_id = $1 AND id = $2",
                                          {tenant.value(), id}));
  return ParseFirst(rows, tenant, &ParseConflict);
}

Result<std::optional<EventConflictRecord>> ConflictRepository::FindOpen(
    Transaction& tx, const TenantId& tenant, const std::string& mapping_id) {
  SB_RETURN_IF_ERROR(CheckTenantScope(tx, tenant));
  if (!IsCanonicalUuid(mapping_id)) return InvalidArgumentError("invalid mapping_id");
  SB_ASSIGN_OR_RETURN(auto rows, tx.Query("SELECT " SB_CONFLICT_COLUMNS
                                          " FROM event_conflicts WHERE tenant_id = $1 AND "
                                          "mapping_id = $2 AND status = 'open' ORDER BY id LIMIT 1",
                                          {tenant.value(), mapping_id}));
  return ParseFirst(rows, tenant, &ParseConflict);
}

Result<std::vector<EventConflictRecord>> ConflictRepository::List(Transaction& tx,
                                                                  const TenantId& tenant,
                                                                  const ConflictFilter& f) {
  SB_RETURN_IF_ERROR(CheckTenantScope(tx, tenant));
  if (f.connection && !f.connection->valid()) return InvalidArgumentError("invalid connection_id");
  if (!f.after.empty() && !IsCanonicalUuid(f.after)) return InvalidArgumentError("invalid after");
  if (f.limit < 1 || f.limit > kMaxListLimit) return InvalidArgumentError("limit out of range");
  if (f.status && !Known(ConflictStatusName(*f.status))) {
    return InvalidArgumentError("invalid status");
  }
  std::string sql = "SELECT " SB_CONFLICT_COLUMNS " FROM event_conflicts WHERE tenant_id = $1";
  std::vector<Value> params{tenant.value()};
  auto add = [&](std::string_view condition, Value value) {
    params.push_back(std::move(value));
    sql.append(condition).append(std::to_string(params.size()));
  };
  if (f.status) add(" AND status = $", std::string(ConflictStatusName(*f.status)));
  if (f.connection) add(" AND connection_id = $", f.connection->value());
  if (!f.after.empty()) add(" AND id > $", f.after);
  add(" ORDER BY id LIMIT $", int64_t{f.limit});
  SB_ASSIGN_OR_RETURN(auto rows, tx.Query(sql, params));
  return ParseAll(rows, tenant, &ParseConflict);
}

Result<bool> ConflictRepository::Resolve(Transaction& tx, const TenantId& tenant,
                                         const std::string& id, ConflictResolution resolution,
                                         const Json& merged, const std::string& resolved_by,
                                         Timestamp at) {
  SB_RETURN_IF_ERROR(CheckTenantScope(tx, tenant));
  if (!IsCanonicalUuid(id)) return InvalidArgumentError("invalid id");
  if (resolution == ConflictResolution::kNone || !Known(ConflictResolutionName(resolution))) {
    return InvalidArgumentError("invalid resolution");
  }
  if ((resolution == ConflictResolution::kMerged) != merged.is_object()) {
    return InvalidArgumentError("a merged event exactly for a merged resolution");
  }
  if (resolved_by.empty() || !internal::IsPrintable(resolved_by, kMaxResolvedByBytes)) {
    return InvalidArgumentError("invalid resolved_by");
  }
  SB_ASSIGN_OR_RETURN(Value merged_text, OptionalObject(merged, "resolved_event"));
  SB_ASSIGN_OR_RETURN(
      int64_t n, tx.Execute("UPDATE event_conflicts SET status = 'resolved', resolution = $3, "
                            "resolved_event = $4, resolved_by = $5, resolved_at = $6 "
                            "WHERE tenant_id = $1 AND id = $2 AND status = 'open'",
                            {tenant.value(), id, std::string(ConflictResolutionName(resolution)),
                             std::move(merged_text), resolved_by, ToUnixMicros(at)}));
  if (n > 0) return true;
  SB_ASSIGN_OR_RETURN(auto exists, Get(tx, tenant, id));
  if (!exists) return NotFoundError("conflict not found");
  return false;
}

#undef SB_CONFLICT_COLUMNS

}  // namespace sb::store
