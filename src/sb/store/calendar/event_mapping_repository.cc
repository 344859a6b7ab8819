#include "sb/store/calendar/event_mapping_repository.h"

#include <array>
#include <utility>

#include "sb/store/internal/repository_helpers.h"
#include "sb/store/internal/row_reader.h"

namespace sb::store {
namespace {

using internal::RequireConnection;

using internal::CheckTenantScope;
using internal::Corrupt;
using internal::IsCleanText;
using internal::ParseAll;
using internal::ParseFirst;
using internal::ReadInt;
using internal::ReadText;
using internal::ReadTimestamp;
using internal::ReadUuid;

constexpr std::string_view kMappings = "event_mappings";
constexpr size_t kMaxExternalIdBytes = 256;
constexpr size_t kMaxProviderIdBytes = 1024;
constexpr size_t kMaxVersionBytes = 256;
constexpr size_t kMaxErrorBytes = 1024;
constexpr size_t kMaxPendingBytes = size_t{1024} * 1024;
constexpr int kMaxListLimit = 1000;

constexpr std::array<std::pair<MappingState, std::string_view>, 4> kStateNames = {{
    {MappingState::kSynced, "synced"},
    {MappingState::kPending, "pending"},
    {MappingState::kConflict, "conflict"},
    {MappingState::kError, "error"},
}};

// ---- Field rules ----

bool IsExternalId(std::string_view s) { return internal::IsPrintable(s, kMaxExternalIdBytes); }

// A provider id a mapping may hold ("" until known).
bool IsProviderId(std::string_view s) { return IsCleanText(s, 0, kMaxProviderIdBytes); }

Status ValidateIds(const EventMappingRecord& r) {
  if (!r.tenant_id.valid()) return InvalidArgumentError("invalid tenant_id");
  if (!IsCanonicalUuid(r.id)) return InvalidArgumentError("invalid id");
  if (!r.connection_id.valid()) return InvalidArgumentError("invalid connection_id");
  if (!r.calendar_id.valid()) return InvalidArgumentError("invalid calendar_id");
  if (r.event_id && !r.event_id->valid()) return InvalidArgumentError("invalid event_id");
  return OkStatus();
}

// Everything but `pending`, which SerializePending checks on write and ReadPending on read.
Status ValidateMapping(const EventMappingRecord& r) {
  SB_RETURN_IF_ERROR(ValidateIds(r));
  if (!IsExternalId(r.external_id)) {
    return InvalidArgumentError("invalid external_id: 1..256 bytes of visible ASCII");
  }
  if (!IsProviderId(r.provider_id)) return InvalidArgumentError("invalid provider_id");
  if (!IsCleanText(r.provider_version, 0, kMaxVersionBytes)) {
    return InvalidArgumentError("invalid provider_version");
  }
  if (r.host_version < 0) return InvalidArgumentError("negative host_version");
  if (MappingStateName(r.state).empty()) return InvalidArgumentError("invalid state");
  if (r.last_error.size() > kMaxErrorBytes || !internal::IsStorableError(r.last_error)) {
    return InvalidArgumentError("last_error must be UTF-8 text of at most 1024 bytes");
  }
  return OkStatus();
}

// NULL for a null `pending`, else its serialization (an object of at most 1 MiB).
Result<Value> SerializePending(const Json& pending) {
  if (pending.is_null()) return Value(std::monostate());
  SB_ASSIGN_OR_RETURN(std::string text,
                      internal::SerializeObject(pending, kMaxPendingBytes, "pending"));
  return Value(std::move(text));
}

Status CheckLimit(int limit) {
  if (limit < 1 || limit > kMaxListLimit) return InvalidArgumentError("limit out of range");
  return OkStatus();
}

// The connection of `calendar`: NOT_FOUND without one, INVALID_ARGUMENT when it is not
// `connection`.
Status RequireCalendarOf(Transaction& tx, const TenantId& tenant, const CalendarId& calendar,
                         const std::string& connection) {
  SB_ASSIGN_OR_RETURN(auto rows,
                      tx.Query("SELECT connection_id FROM calendars WHERE tenant_id = $1 AND "
                               "id = $2",
                               {tenant.value(), calendar.value()}));
  if (rows.empty()) return NotFoundError("calendar not found");
  SB_ASSIGN_OR_RETURN(std::string owner, ReadUuid(rows.front(), 0, "calendars"));
  if (owner != connection) {
    return InvalidArgumentError("calendar_id is another connection's calendar");
  }
  return OkStatus();
}

// ---- Decoding: anything unexpected is DATA_LOSS ----

#define SB_MAPPING_COLUMNS                                                          \
  "tenant_id, id, connection_id, calendar_id, external_id, event_id, provider_id, " \
  "provider_version, host_version, state, last_error, pending, created_at, updated_at"

Result<Json> ReadPending(const Row& row, size_t i) {
  if (i < row.size() && row.IsNull(i)) return Json(nullptr);
  return internal::ReadObject(row, i, kMaxPendingBytes, kMappings);
}

// Columns 0..5: the ids.
Status ParseIds(const Row& row, const TenantId& tenant, EventMappingRecord& r) {
  SB_RETURN_IF_ERROR(internal::ReadTenant(row, tenant, kMappings));
  r.tenant_id = tenant;
  SB_ASSIGN_OR_RETURN(r.id, ReadUuid(row, 1, kMappings));
  SB_ASSIGN_OR_RETURN(std::string connection, ReadUuid(row, 2, kMappings));
  r.connection_id = ConnectionId(std::move(connection));
  SB_ASSIGN_OR_RETURN(std::string calendar, ReadUuid(row, 3, kMappings));
  r.calendar_id = CalendarId(std::move(calendar));
  SB_ASSIGN_OR_RETURN(r.external_id, ReadText(row, 4, kMappings));
  if (!row.IsNull(5)) {
    SB_ASSIGN_OR_RETURN(std::string event, ReadUuid(row, 5, kMappings));
    r.event_id = EventId(std::move(event));
  }
  return OkStatus();
}

// Columns 6..13: provider fields, sync state and times.
Status ParseState(const Row& row, EventMappingRecord& r) {
  SB_ASSIGN_OR_RETURN(r.provider_id, ReadText(row, 6, kMappings));
  SB_ASSIGN_OR_RETURN(r.provider_version, ReadText(row, 7, kMappings));
  SB_ASSIGN_OR_RETURN(r.host_version, ReadInt(row, 8, kMappings));
  SB_ASSIGN_OR_RETURN(std::string state, ReadText(row, 9, kMappings));
  std::optional<MappingState> parsed = ParseMappingState(state);
  if (!parsed) return Corrupt(kMappings);
  r.state = *parsed;
  SB_ASSIGN_OR_RETURN(r.last_error, ReadText(row, 10, kMappings));
  SB_ASSIGN_OR_RETURN(r.pending, ReadPending(row, 11));
  SB_ASSIGN_OR_RETURN(r.created_at, ReadTimestamp(row, 12, kMappings));
  SB_ASSIGN_OR_RETURN(r.updated_at, ReadTimestamp(row, 13, kMappings));
  return OkStatus();
}

Result<EventMappingRecord> ParseMapping(const Row& row, const TenantId& tenant) {
  if (row.size() != 14) return Corrupt(kMappings);
  EventMappingRecord r;
  SB_RETURN_IF_ERROR(ParseIds(row, tenant, r));
  SB_RETURN_IF_ERROR(ParseState(row, r));
  if (!ValidateMapping(r).ok()) return Corrupt(kMappings);
  return r;
}

Value OptionalEvent(const std::optional<EventId>& event) {
  return event ? Value(event->value()) : Value(std::monostate());
}

// The scope check, the record's tenant and every field: all before any statement.
Result<Value> CheckRecord(const Transaction& tx, const TenantId& tenant,
                          const EventMappingRecord& r) {
  SB_RETURN_IF_ERROR(CheckTenantScope(tx, tenant));
  if (r.tenant_id != tenant) return InvalidArgumentError("mapping tenant_id != tenant");
  SB_RETURN_IF_ERROR(ValidateMapping(r));
  return SerializePending(r.pending);
}

}  // namespace

std::string_view MappingStateName(MappingState state) {
  return internal::EnumName(kStateNames, state);
}

std::optional<MappingState> ParseMappingState(std::string_view name) {
  return internal::ParseEnum(kStateNames, name);
}

Status EventMappingRepository::Insert(Transaction& tx, const TenantId& tenant,
                                      const EventMappingRecord& r) {
  SB_ASSIGN_OR_RETURN(Value pending, CheckRecord(tx, tenant, r));
  SB_RETURN_IF_ERROR(RequireConnection(tx, tenant, r.connection_id));
  SB_RETURN_IF_ERROR(RequireCalendarOf(tx, tenant, r.calendar_id, r.connection_id.value()));
  // A duplicate id, or a duplicate (connection, external_id), is ALREADY_EXISTS.
  return tx
      .Execute("INSERT INTO event_mappings (" SB_MAPPING_COLUMNS
               ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
               {tenant.value(), r.id, r.connection_id.value(), r.calendar_id.value(), r.external_id,
                OptionalEvent(r.event_id), r.provider_id, r.provider_version, r.host_version,
                std::string(MappingStateName(r.state)), r.last_error, std::move(pending),
                ToUnixMicros(r.created_at), ToUnixMicros(r.updated_at)})
      .status();
}

Result<bool> EventMappingRepository::Update(Transaction& tx, const TenantId& tenant,
                                            const EventMappingRecord& r,
                                            int64_t expected_host_version) {
  SB_ASSIGN_OR_RETURN(Value pending, CheckRecord(tx, tenant, r));
  if (expected_host_version < 0) return InvalidArgumentError("negative expected_host_version");
  SB_ASSIGN_OR_RETURN(auto stored, tx.Query("SELECT connection_id, host_version FROM "
                                            "event_mappings WHERE tenant_id = $1 AND id = $2",
                                            {tenant.value(), r.id}));
  if (stored.empty()) return NotFoundError("event mapping not found");
  SB_ASSIGN_OR_RETURN(std::string connection, ReadUuid(stored.front(), 0, kMappings));
  SB_ASSIGN_OR_RETURN(int64_t version, ReadInt(stored.front(), 1, kMappings));
  if (version != expected_host_version) return false;
  SB_RETURN_IF_ERROR(RequireCalendarOf(tx, tenant, r.calendar_id, connection));
  // The version is compared again by the statement: a writer that got there first wins.
  SB_ASSIGN_OR_RETURN(
      int64_t n,
      tx.Execute(
          "UPDATE event_mappings SET calendar_id = $3, event_id = $4, provider_id = $5, "
          "provider_version = $6, host_version = $7, state = $8, last_error = $9, "
          "pending = $10, updated_at = $11 "
          "WHERE tenant_id = $1 AND id = $2 AND host_version = $12",
          {tenant.value(), r.id, r.calendar_id.value(), OptionalEvent(r.event_id), r.provider_id,
           r.provider_version, r.host_version, std::string(MappingStateName(r.state)), r.last_error,
           std::move(pending), ToUnixMicros(r.updated_at), expected_host_version}));
  return n > 0;
}

Result<bool> EventMappingRepository::Delete(Transaction& tx, const TenantId& tenant,
                                            const std::string& id) {
  SB_RETURN_IF_ERROR(CheckTenantScope(tx, tenant));
  if (!IsCanonicalUuid(id)) return InvalidArgumentError("invalid id");
  SB_ASSIGN_OR_RETURN(int64_t n,
                      tx.Execute("DELETE FROM event_mappings WHERE tenant_id = $1 AND id = $2",
                                 {tenant.value(), id}));
  return n > 0;
}

Result<std::optional<EventMappingRecord>> EventMappingRepository::Get(Transaction& tx,
                                                                      const TenantId& tenant,
                                                                      const std::string& id) {
  SB_RETURN_IF_ERROR(CheckTenantScope(tx, tenant));
  if (!IsCanonicalUuid(id)) return InvalidArgumentError("invalid id");
  SB_ASSIGN_OR_RETURN(auto rows, tx.Query("SELECT " SB_MAPPING_COLUMNS
                                          " FROM event_mappings WHERE tenant_id = $1 AND id = $2",
                                          {tenant.value(), id}));
  return ParseFirst(rows, tenant, &ParseMapping);
}

Result<std::optional<EventMappingRecord>> EventMappingRepository::FindByExternalId(
    Transaction& tx, const TenantId& tenant, const ConnectionId& connection,
    std::string_view external_id) {
  SB_RETURN_IF_ERROR(CheckTenantScope(tx, tenant));
  if (!connection.valid()) return InvalidArgumentError("invalid connection_id");
  if (!IsExternalId(external_id)) return InvalidArgumentError("invalid external_id");
  SB_ASSIGN_OR_RETURN(
      auto rows,
      tx.Query("SELECT " SB_MAPPING_COLUMNS " FROM event_mappings WHERE tenant_id = $1 AND "
               "connection_id = $2 AND external_id = $3",
               {tenant.value(), connection.value(), std::string(external_id)}));
  return ParseFirst(rows, tenant, &ParseMapping);
}

Result<std::optional<EventMappingRecord>> EventMappingRepository::FindByEvent(
    Transaction& tx, const TenantId& tenant, const EventId& event) {
  SB_RETURN_IF_ERROR(CheckTenantScope(tx, tenant));
  if (!event.valid()) return InvalidArgumentError("invalid event_id");
  // The id order makes the answer stable should two mappings name the event.
  SB_ASSIGN_OR_RETURN(auto rows, tx.Query("SELECT " SB_MAPPING_COLUMNS
                                          " FROM event_mappings WHERE tenant_id = $1 AND "
                                          "event_id = $2 ORDER BY id LIMIT 1",
                                          {tenant.value(), event.value()}));
  return ParseFirst(rows, tenant, &ParseMapping);
}

Result<std::vector<EventMappingRecord>> EventMappingRepository::FindByProviderIds(
    Transaction& tx, const TenantId& tenant, const CalendarId& calendar,
    std::span<const std::string> provider_ids) {
  SB_RETURN_IF_ERROR(CheckTenantScope(tx, tenant));
  if (!calendar.valid()) return InvalidArgumentError("invalid calendar_id");
  if (provider_ids.size() > static_cast<size_t>(kMaxLookup)) {
    return InvalidArgumentError("too many provider_ids (at most 256)");
  }
  std::vector<Value> params{tenant.value(), calendar.value()};
  std::string in;
  for (const std::string& id : provider_ids) {
    if (id.empty() || !IsProviderId(id)) continue;  // no mapping has it
    params.emplace_back(id);
    in.append(in.empty() ? "$" : ", $").append(std::to_string(params.size()));
  }
  if (in.empty()) return std::vector<EventMappingRecord>{};
  // `provider_id <> ''` lets both backends use the partial index.
  SB_ASSIGN_OR_RETURN(auto rows, tx.Query("SELECT " SB_MAPPING_COLUMNS
                                          " FROM event_mappings WHERE tenant_id = $1 AND "
                                          "calendar_id = $2 AND provider_id <> '' AND "
                                          "provider_id IN (" +
                                              in + ")",
                                          params));
  return ParseAll(rows, tenant, &ParseMapping);
}

Result<std::vector<EventMappingRecord>> EventMappingRepository::List(
    Transaction& tx, const TenantId& tenant, const ConnectionId& connection,
    std::optional<MappingState> state, std::string_view after, int limit) {
  SB_RETURN_IF_ERROR(CheckTenantScope(tx, tenant));
  if (!connection.valid()) return InvalidArgumentError("invalid connection_id");
  if (state && MappingStateName(*state).empty()) return InvalidArgumentError("invalid state");
  if (!after.empty() && !IsCanonicalUuid(after)) return InvalidArgumentError("invalid after");
  SB_RETURN_IF_ERROR(CheckLimit(limit));
  std::string sql = "SELECT " SB_MAPPING_COLUMNS
                    " FROM event_mappings WHERE tenant_id = $1 AND connection_id = $2";
  std::vector<Value> params{tenant.value(), connection.value()};
  auto add = [&](std::string_view condition, Value value) {
    params.push_back(std::move(value));
    sql.append(condition).append(std::to_string(params.size()));
  };
  if (state) add(" AND state = $", std::string(MappingStateName(*state)));
  if (!after.empty()) add(" AND id > $", std::string(after));
  add(" ORDER BY id LIMIT $", int64_t{limit});
  SB_ASSIGN_OR_RETURN(auto rows, tx.Query(sql, params));
  return ParseAll(rows, tenant, &ParseMapping);
}

#undef SB_MAPPING_COLUMNS

}  // namespace sb::store
