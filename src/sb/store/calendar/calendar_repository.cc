#include "sb/store/calendar/calendar_repository.h"

#include <algorithm>
#include <map>
#include <set>
#include <utility>

#include "sb/store/internal/repository_helpers.h"
#include "sb/store/internal/row_reader.h"

namespace sb::store {
namespace {

using internal::IsHexSha256;

using internal::ParseAll;
using internal::ParseFirst;

using internal::CheckTenantScope;
using internal::Corrupt;
using internal::IsCleanText;
using internal::NextBatch;
using internal::OptionalMicros;
using internal::ReadInt;
using internal::ReadObject;
using internal::ReadOptionalInt;
using internal::ReadOptionalTimestamp;
using internal::ReadText;
using internal::ReadTimestamp;
using internal::ReadUuid;
using internal::SerializeObject;
using internal::ValuesPlaceholders;

constexpr std::string_view kCalendars = "calendars";
constexpr std::string_view kEvents = "calendar_events";
constexpr size_t kMaxProviderIdBytes = 1024;
constexpr size_t kMaxNameBytes = 1024;
constexpr size_t kMaxVersionBytes = 256;
constexpr size_t kMaxUidBytes = 1024;
constexpr size_t kMaxCalendarJsonBytes = size_t{64} * 1024;
constexpr size_t kMaxEventJsonBytes = size_t{1024} * 1024;

// ---- Field rules ----

bool IsProviderId(std::string_view s) { return IsCleanText(s, 1, kMaxProviderIdBytes); }

bool IsEventStatus(std::string_view s) {
  return s == "confirmed" || s == "tentative" || s == "cancelled";
}

Status CheckLimit(int limit) {
  if (limit < 1 || limit > CalendarRepository::kMaxListLimit) {
    return InvalidArgumentError("list limit out of range");
  }
  return OkStatus();
}

Status RequireValidId(bool valid) {
  return valid ? OkStatus() : InvalidArgumentError("invalid id");
}

// Everything but the JSON, which SerializeObject checks on write and ReadObject on read.
Status ValidateCalendar(const CalendarRecord& r) {
  if (!r.tenant_id.valid() || !r.id.valid() || !r.connection_id.valid()) {
    return InvalidArgumentError("invalid id");
  }
  if (!IsProviderId(r.provider_id)) return InvalidArgumentError("invalid calendar provider id");
  // Names are the provider's and the user's: any UTF-8 without NUL (a tab or a newline in a
  // calendar name must not stop a sync).
  if (r.name.size() > kMaxNameBytes || !internal::IsStorableError(r.name)) {
    return InvalidArgumentError("invalid calendar name");
  }
  if (!IsCleanText(r.version, 0, kMaxVersionBytes)) return InvalidArgumentError("invalid version");
  return OkStatus();
}

// Everything but the JSON (see ValidateCalendar).
Status ValidateEvent(const EventRecord& r) {
  if (!r.tenant_id.valid() || !r.id.valid() || !r.connection_id.valid() || !r.calendar_id.valid()) {
    return InvalidArgumentError("invalid id");
  }
  if (!IsProviderId(r.provider_id)) return InvalidArgumentError("invalid event provider id");
  if (!IsCleanText(r.version, 0, kMaxVersionBytes)) return InvalidArgumentError("invalid version");
  if (!IsCleanText(r.ical_uid, 0, kMaxUidBytes)) return InvalidArgumentError("invalid iCalUID");
  if (!IsCleanText(r.series_master_provider_id, 0, kMaxProviderIdBytes)) {
    return InvalidArgumentError("invalid series master provider id");
  }
  if (!IsEventStatus(r.status)) {
    return InvalidArgumentError("event status must be confirmed, tentative or cancelled");
  }
  if (r.start_ms && r.end_ms && *r.end_ms < *r.start_ms) {
    return InvalidArgumentError("event ends before it starts");
  }
  if (!IsHexSha256(r.content_hash)) return InvalidArgumentError("content_hash is not hex SHA-256");
  if (r.seen_in_run && !r.seen_in_run->valid()) return InvalidArgumentError("invalid run id");
  return OkStatus();
}

// ---- Decoding: anything unexpected is DATA_LOSS ----

#define SB_CALENDAR_COLUMNS                                                                \
  "tenant_id, id, connection_id, provider_id, name, data, version, selected, created_at, " \
  "updated_at"

Result<CalendarRecord> ParseCalendar(const Row& row, const TenantId& tenant) {
  CalendarRecord r;
  SB_RETURN_IF_ERROR(internal::ReadTenant(row, tenant, kCalendars));
  r.tenant_id = tenant;
  SB_ASSIGN_OR_RETURN(std::string id, ReadUuid(row, 1, kCalendars));
  r.id = CalendarId(std::move(id));
  SB_ASSIGN_OR_RETURN(std::string connection, ReadUuid(row, 2, kCalendars));
  r.connection_id = ConnectionId(std::move(connection));
  SB_ASSIGN_OR_RETURN(r.provider_id, ReadText(row, 3, kCalendars));
  SB_ASSIGN_OR_RETURN(r.name, ReadText(row, 4, kCalendars));
  SB_ASSIGN_OR_RETURN(r.data, ReadObject(row, 5, kMaxCalendarJsonBytes, kCalendars));
  SB_ASSIGN_OR_RETURN(r.version, ReadText(row, 6, kCalendars));
  SB_ASSIGN_OR_RETURN(int64_t selected, ReadInt(row, 7, kCalendars));
  if (selected != 0 && selected != 1) return Corrupt(kCalendars);
  r.selected = selected == 1;
  SB_ASSIGN_OR_RETURN(r.created_at, ReadTimestamp(row, 8, kCalendars));
  SB_ASSIGN_OR_RETURN(r.updated_at, ReadTimestamp(row, 9, kCalendars));
  if (!ValidateCalendar(r).ok()) return Corrupt(kCalendars);
  return r;
}

#define SB_EVENT_COLUMNS                                                                  \
  "tenant_id, id, connection_id, calendar_id, provider_id, version, ical_uid, "           \
  "series_master_provider_id, status, start_ms, end_ms, provider_updated_at, data, raw, " \
  "content_hash, seen_in_run, created_at, updated_at"

// Columns 0..8: identity and provider fields.
Status ParseEventIdentity(const Row& row, const TenantId& tenant, EventRecord& r) {
  SB_RETURN_IF_ERROR(internal::ReadTenant(row, tenant, kEvents));
  r.tenant_id = tenant;
  SB_ASSIGN_OR_RETURN(std::string id, ReadUuid(row, 1, kEvents));
  r.id = EventId(std::move(id));
  SB_ASSIGN_OR_RETURN(std::string connection, ReadUuid(row, 2, kEvents));
  r.connection_id = ConnectionId(std::move(connection));
  SB_ASSIGN_OR_RETURN(std::string calendar, ReadUuid(row, 3, kEvents));
  r.calendar_id = CalendarId(std::move(calendar));
  SB_ASSIGN_OR_RETURN(r.provider_id, ReadText(row, 4, kEvents));
  SB_ASSIGN_OR_RETURN(r.version, ReadText(row, 5, kEvents));
  SB_ASSIGN_OR_RETURN(r.ical_uid, ReadText(row, 6, kEvents));
  SB_ASSIGN_OR_RETURN(r.series_master_provider_id, ReadText(row, 7, kEvents));
  SB_ASSIGN_OR_RETURN(r.status, ReadText(row, 8, kEvents));
  return OkStatus();
}

// Columns 9..17: span, content and times.
Status ParseEventContent(const Row& row, EventRecord& r) {
  SB_ASSIGN_OR_RETURN(r.start_ms, ReadOptionalInt(row, 9, kEvents));
  SB_ASSIGN_OR_RETURN(r.end_ms, ReadOptionalInt(row, 10, kEvents));
  SB_ASSIGN_OR_RETURN(r.provider_updated_at, ReadOptionalTimestamp(row, 11, kEvents));
  SB_ASSIGN_OR_RETURN(r.data, ReadObject(row, 12, kMaxEventJsonBytes, kEvents));
  SB_ASSIGN_OR_RETURN(r.raw, ReadObject(row, 13, kMaxEventJsonBytes, kEvents));
  SB_ASSIGN_OR_RETURN(r.content_hash, ReadText(row, 14, kEvents));
  if (!row.IsNull(15)) {
    SB_ASSIGN_OR_RETURN(std::string run, ReadUuid(row, 15, kEvents));
    r.seen_in_run = SyncRunId(std::move(run));
  }
  SB_ASSIGN_OR_RETURN(r.created_at, ReadTimestamp(row, 16, kEvents));
  SB_ASSIGN_OR_RETURN(r.updated_at, ReadTimestamp(row, 17, kEvents));
  return OkStatus();
}

Result<EventRecord> ParseEvent(const Row& row, const TenantId& tenant) {
  if (row.size() != 18) return Corrupt(kEvents);
  EventRecord r;
  SB_RETURN_IF_ERROR(ParseEventIdentity(row, tenant, r));
  SB_RETURN_IF_ERROR(ParseEventContent(row, r));
  if (!ValidateEvent(r).ok()) return Corrupt(kEvents);
  return r;
}

// The event's calendar must exist and belong to the event's connection: the window index is on
// the connection, and a mismatch would show the event under the wrong account.
Status RequireCalendarOf(Transaction& tx, const TenantId& tenant, const EventRecord& r) {
  SB_ASSIGN_OR_RETURN(auto rows,
                      tx.Query("SELECT connection_id FROM calendars WHERE tenant_id = $1 AND "
                               "id = $2",
                               {tenant.value(), r.calendar_id.value()}));
  if (rows.empty()) return NotFoundError("calendar not found");
  SB_ASSIGN_OR_RETURN(std::string connection, ReadUuid(rows.front(), 0, kCalendars));
  if (connection != r.connection_id.value()) {
    return InvalidArgumentError("the event's connection is not its calendar's");
  }
  return OkStatus();
}

Value OptionalInt(const std::optional<int64_t>& n) {
  return n ? Value(*n) : Value(std::monostate());
}

// SQLite, without statistics, reads a list of provider ids through the primary key's tenant
// prefix (every event of the tenant) rather than one unique-index lookup per id; it is told.
// PostgreSQL has no such clause: until its statistics know the table (autovacuum's first
// ANALYZE), it may read the calendar's rows once per statement (docs/benchmarks.md).
const char* ByProviderId(const Transaction& tx) {
  return tx.backend() == Backend::kSqlite ? " INDEXED BY calendar_events_by_provider_id" : "";
}

// Provider ids per statement of FindEvents.
constexpr size_t kMaxLookupsPerFind = 256;
// Rows per INSERT of PutEvents (18 parameters each).
constexpr size_t kMaxEventRowsPerPut = 16;
constexpr size_t kEventColumns = 18;

// One multi-row upsert; `json` holds each record's serialized data and raw payload. Another row
// of the calendar with the provider id violates calendar_events_by_provider_id: ALREADY_EXISTS
// on both backends (the conflict target is the primary key only).
Status UpsertEvents(Transaction& tx, const TenantId& tenant, std::span<const EventRecord> records,
                    std::span<std::pair<std::string, std::string>> json) {
  std::vector<Value> params;
  params.reserve(records.size() * kEventColumns);
  for (size_t i = 0; i < records.size(); ++i) {
    const EventRecord& r = records[i];
    for (const std::string* text :
         {&tenant.value(), &r.id.value(), &r.connection_id.value(), &r.calendar_id.value(),
          &r.provider_id, &r.version, &r.ical_uid, &r.series_master_provider_id, &r.status}) {
      params.emplace_back(*text);
    }
    params.push_back(OptionalInt(r.start_ms));
    params.push_back(OptionalInt(r.end_ms));
    params.push_back(OptionalMicros(r.provider_updated_at));
    params.emplace_back(std::move(json[i].first));
    params.emplace_back(std::move(json[i].second));
    params.emplace_back(r.content_hash);
    params.push_back(r.seen_in_run ? Value(r.seen_in_run->value()) : Value(std::monostate()));
    params.emplace_back(ToUnixMicros(r.created_at));
    params.emplace_back(ToUnixMicros(r.updated_at));
  }
  return tx
      .Execute("INSERT INTO calendar_events (" SB_EVENT_COLUMNS ") VALUES " +
                   ValuesPlaceholders(records.size(), kEventColumns) +
                   " ON CONFLICT (tenant_id, id) DO UPDATE SET "
                   "connection_id = excluded.connection_id, calendar_id = excluded.calendar_id, "
                   "provider_id = excluded.provider_id, version = excluded.version, "
                   "ical_uid = excluded.ical_uid, "
                   "series_master_provider_id = excluded.series_master_provider_id, "
                   "status = excluded.status, start_ms = excluded.start_ms, "
                   "end_ms = excluded.end_ms, provider_updated_at = excluded.provider_updated_at, "
                   "data = excluded.data, raw = excluded.raw, "
                   "content_hash = excluded.content_hash, seen_in_run = excluded.seen_in_run, "
                   "created_at = excluded.created_at, updated_at = excluded.updated_at",
               params)
      .status();
}

// Appends the EventQuery's conditions (values bound, only placeholders in the text).
Status AppendEventFilters(const EventQuery& q, std::string& sql, std::vector<Value>& params) {
  auto add = [&](std::string_view before, Value value, std::string_view after = "") {
    params.push_back(std::move(value));
    sql += before;
    sql += "$";
    sql += std::to_string(params.size());
    sql += after;
  };
  if (q.connection_id) {
    SB_RETURN_IF_ERROR(RequireValidId(q.connection_id->valid()));
    add(" AND connection_id = ", q.connection_id->value());
  }
  if (q.calendar_id) {
    SB_RETURN_IF_ERROR(RequireValidId(q.calendar_id->valid()));
    add(" AND calendar_id = ", q.calendar_id->value());
  }
  // Overlap with [start, end): an event without an end runs on (unbounded series); one without
  // a start cannot be placed and is outside every window that has an end.
  if (q.window_start_ms) add(" AND (end_ms IS NULL OR end_ms > ", *q.window_start_ms, ")");
  if (q.window_end_ms) add(" AND start_ms < ", *q.window_end_ms);
  if (q.updated_since) add(" AND updated_at >= ", ToUnixMicros(*q.updated_since));
  if (q.after) {
    if (!q.after->valid()) return InvalidArgumentError("invalid list cursor");
    add(" AND id > ", q.after->value());
  }
  return OkStatus();
}

}  // namespace

// ---- Calendars ----

Result<CalendarRecord> CalendarRepository::UpsertCalendar(Transaction& tx, const TenantId& tenant,
                                                          const CalendarRecord& r) {
  SB_RETURN_IF_ERROR(CheckTenantScope(tx, tenant));
  if (r.tenant_id != tenant) return InvalidArgumentError("calendar tenant_id != tenant");
  SB_RETURN_IF_ERROR(ValidateCalendar(r));
  SB_ASSIGN_OR_RETURN(std::string data,
                      SerializeObject(r.data, kMaxCalendarJsonBytes, "calendar data"));
  SB_RETURN_IF_ERROR(internal::RequireConnection(tx, tenant, r.connection_id));
  // One statement: an existing row (same connection and provider id) keeps its id and
  // created_at; RETURNING gives what is stored either way.
  SB_ASSIGN_OR_RETURN(
      auto rows, tx.Query("INSERT INTO calendars (" SB_CALENDAR_COLUMNS
                          ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) "
                          "ON CONFLICT (tenant_id, connection_id, provider_id) DO UPDATE SET "
                          "name = excluded.name, data = excluded.data, version = excluded.version, "
                          "selected = excluded.selected, updated_at = excluded.updated_at "
                          "RETURNING " SB_CALENDAR_COLUMNS,
                          {tenant.value(), r.id.value(), r.connection_id.value(), r.provider_id,
                           r.name, std::move(data), r.version, int64_t{r.selected ? 1 : 0},
                           ToUnixMicros(r.created_at), ToUnixMicros(r.updated_at)}));
  if (rows.size() != 1) return InternalError("calendar upsert returned no row");
  return ParseCalendar(rows.front(), tenant);
}

Result<std::vector<CalendarRecord>> CalendarRepository::ListCalendars(
    Transaction& tx, const TenantId& tenant, const ConnectionId& connection) {
  SB_RETURN_IF_ERROR(CheckTenantScope(tx, tenant));
  SB_RETURN_IF_ERROR(RequireValidId(connection.valid()));
  SB_ASSIGN_OR_RETURN(
      auto rows, tx.Query("SELECT " SB_CALENDAR_COLUMNS " FROM calendars WHERE tenant_id = $1 AND "
                          "connection_id = $2 ORDER BY id",
                          {tenant.value(), connection.value()}));
  return ParseAll(rows, tenant, &ParseCalendar);
}

Result<std::optional<CalendarRecord>> CalendarRepository::GetCalendar(Transaction& tx,
                                                                      const TenantId& tenant,
                                                                      const CalendarId& id) {
  SB_RETURN_IF_ERROR(CheckTenantScope(tx, tenant));
  SB_RETURN_IF_ERROR(RequireValidId(id.valid()));
  SB_ASSIGN_OR_RETURN(auto rows, tx.Query("SELECT " SB_CALENDAR_COLUMNS
                                          " FROM calendars WHERE tenant_id = $1 AND id = $2",
                                          {tenant.value(), id.value()}));
  return ParseFirst(rows, tenant, &ParseCalendar);
}

Result<bool> CalendarRepository::DeleteCalendar(Transaction& tx, const TenantId& tenant,
                                                const CalendarId& id) {
  SB_RETURN_IF_ERROR(CheckTenantScope(tx, tenant));
  SB_RETURN_IF_ERROR(RequireValidId(id.valid()));
  // Its events go with it (foreign key, cascade).
  SB_ASSIGN_OR_RETURN(int64_t n,
                      tx.Execute("DELETE FROM calendars WHERE tenant_id = $1 AND id = $2",
                                 {tenant.value(), id.value()}));
  return n > 0;
}

// ---- Events ----

Result<std::optional<EventRecord>> CalendarRepository::FindEvent(Transaction& tx,
                                                                 const TenantId& tenant,
                                                                 const CalendarId& calendar,
                                                                 const std::string& provider_id) {
  SB_RETURN_IF_ERROR(CheckTenantScope(tx, tenant));
  SB_RETURN_IF_ERROR(RequireValidId(calendar.valid()));
  if (!IsProviderId(provider_id)) return InvalidArgumentError("invalid event provider id");
  SB_ASSIGN_OR_RETURN(auto rows, tx.Query("SELECT " SB_EVENT_COLUMNS
                                          " FROM calendar_events WHERE tenant_id = $1 AND "
                                          "calendar_id = $2 AND provider_id = $3",
                                          {tenant.value(), calendar.value(), provider_id}));
  return ParseFirst(rows, tenant, &ParseEvent);
}

Result<std::vector<EventRecord>> CalendarRepository::FindEvents(
    Transaction& tx, const TenantId& tenant, const CalendarId& calendar,
    std::span<const std::string> provider_ids) {
  SB_RETURN_IF_ERROR(CheckTenantScope(tx, tenant));
  SB_RETURN_IF_ERROR(RequireValidId(calendar.valid()));
  std::vector<std::string_view> ids;
  for (const std::string& id : provider_ids) {
    if (IsProviderId(id)) ids.push_back(id);
  }
  std::vector<EventRecord> out;
  for (size_t done = 0; done < ids.size();) {
    const size_t batch = NextBatch(ids.size() - done, kMaxLookupsPerFind);
    std::vector<Value> params{tenant.value(), calendar.value()};
    std::string in;
    for (size_t i = 0; i < batch; ++i) {
      params.emplace_back(std::string(ids[done + i]));
      in.append(i == 0 ? "$" : ", $");
      in.append(std::to_string(i + 3));
    }
    std::string sql = "SELECT " SB_EVENT_COLUMNS " FROM calendar_events";
    sql.append(ByProviderId(tx));
    sql.append(" WHERE tenant_id = $1 AND calendar_id = $2 AND provider_id IN (");
    sql.append(in);
    sql.push_back(')');
    SB_ASSIGN_OR_RETURN(auto rows, tx.Query(sql, params));
    SB_ASSIGN_OR_RETURN(auto found, ParseAll(rows, tenant, &ParseEvent));
    for (EventRecord& r : found) out.push_back(std::move(r));
    done += batch;
  }
  return out;
}

Result<std::optional<EventRecord>> CalendarRepository::GetEvent(Transaction& tx,
                                                                const TenantId& tenant,
                                                                const EventId& id) {
  SB_RETURN_IF_ERROR(CheckTenantScope(tx, tenant));
  SB_RETURN_IF_ERROR(RequireValidId(id.valid()));
  SB_ASSIGN_OR_RETURN(auto rows, tx.Query("SELECT " SB_EVENT_COLUMNS
                                          " FROM calendar_events WHERE tenant_id = $1 AND id = $2",
                                          {tenant.value(), id.value()}));
  return ParseFirst(rows, tenant, &ParseEvent);
}

Status CalendarRepository::PutEvent(Transaction& tx, const TenantId& tenant, const EventRecord& r) {
  return PutEvents(tx, tenant, std::span<const EventRecord>(&r, 1));
}

Status CalendarRepository::PutEvents(Transaction& tx, const TenantId& tenant,
                                     std::span<const EventRecord> records) {
  SB_RETURN_IF_ERROR(CheckTenantScope(tx, tenant));
  std::vector<std::pair<std::string, std::string>> json;  // data, raw
  json.reserve(records.size());
  std::set<std::string_view> ids;
  std::map<std::string_view, std::string_view> calendars;  // calendar -> connection
  for (const EventRecord& r : records) {
    if (r.tenant_id != tenant) return InvalidArgumentError("event tenant_id != tenant");
    SB_RETURN_IF_ERROR(ValidateEvent(r));
    if (!ids.insert(r.id.value()).second) return InvalidArgumentError("event ids repeat");
    SB_ASSIGN_OR_RETURN(std::string data,
                        SerializeObject(r.data, kMaxEventJsonBytes, "event data"));
    SB_ASSIGN_OR_RETURN(std::string raw, SerializeObject(r.raw, kMaxEventJsonBytes, "raw event"));
    json.emplace_back(std::move(data), std::move(raw));
    auto [known, inserted] = calendars.emplace(r.calendar_id.value(), r.connection_id.value());
    if (!inserted && known->second != r.connection_id.value()) {
      return InvalidArgumentError("the event's connection is not its calendar's");
    }
  }
  for (const EventRecord& r : records) {
    if (calendars.erase(r.calendar_id.value()) != 0) {
      SB_RETURN_IF_ERROR(RequireCalendarOf(tx, tenant, r));
    }
  }
  for (size_t done = 0; done < records.size();) {
    const size_t batch = NextBatch(records.size() - done, kMaxEventRowsPerPut);
    SB_RETURN_IF_ERROR(UpsertEvents(tx, tenant, records.subspan(done, batch),
                                    std::span(json).subspan(done, batch)));
    done += batch;
  }
  return OkStatus();
}

Result<bool> CalendarRepository::DeleteEvent(Transaction& tx, const TenantId& tenant,
                                             const EventId& id) {
  SB_RETURN_IF_ERROR(CheckTenantScope(tx, tenant));
  SB_RETURN_IF_ERROR(RequireValidId(id.valid()));
  SB_ASSIGN_OR_RETURN(int64_t n,
                      tx.Execute("DELETE FROM calendar_events WHERE tenant_id = $1 AND id = $2",
                                 {tenant.value(), id.value()}));
  return n > 0;
}

Result<std::vector<EventRecord>> CalendarRepository::ListEvents(Transaction& tx,
                                                                const TenantId& tenant,
                                                                const EventQuery& query) {
  SB_RETURN_IF_ERROR(CheckTenantScope(tx, tenant));
  SB_RETURN_IF_ERROR(CheckLimit(query.limit));
  std::string sql = "SELECT " SB_EVENT_COLUMNS " FROM calendar_events WHERE tenant_id = $1";
  std::vector<Value> params{tenant.value()};
  SB_RETURN_IF_ERROR(AppendEventFilters(query, sql, params));
  params.push_back(int64_t{query.limit});
  sql += " ORDER BY id LIMIT $";
  sql += std::to_string(params.size());
  SB_ASSIGN_OR_RETURN(auto rows, tx.Query(sql, params));
  return ParseAll(rows, tenant, &ParseEvent);
}

Status CalendarRepository::MarkSeen(Transaction& tx, const TenantId& tenant, const EventId& id,
                                    const SyncRunId& run) {
  SB_RETURN_IF_ERROR(CheckTenantScope(tx, tenant));
  SB_RETURN_IF_ERROR(RequireValidId(id.valid() && run.valid()));
  // updated_at stays: being seen again is not a change the host should be shown.
  SB_ASSIGN_OR_RETURN(int64_t n, tx.Execute("UPDATE calendar_events SET seen_in_run = $3 "
                                            "WHERE tenant_id = $1 AND id = $2",
                                            {tenant.value(), id.value(), run.value()}));
  if (n == 0) return NotFoundError("event not found");
  return OkStatus();
}

Result<std::vector<EventRecord>> CalendarRepository::ListNotSeenIn(Transaction& tx,
                                                                   const TenantId& tenant,
                                                                   const CalendarId& calendar,
                                                                   const SyncRunId& run,
                                                                   int limit) {
  SB_RETURN_IF_ERROR(CheckTenantScope(tx, tenant));
  SB_RETURN_IF_ERROR(RequireValidId(calendar.valid() && run.valid()));
  SB_RETURN_IF_ERROR(CheckLimit(limit));
  SB_ASSIGN_OR_RETURN(
      auto rows, tx.Query("SELECT " SB_EVENT_COLUMNS
                          " FROM calendar_events WHERE tenant_id = $1 AND calendar_id = $2 AND "
                          "(seen_in_run IS NULL OR seen_in_run <> $3) ORDER BY id LIMIT $4",
                          {tenant.value(), calendar.value(), run.value(), int64_t{limit}}));
  return ParseAll(rows, tenant, &ParseEvent);
}

Result<std::vector<EventRecord>> CalendarRepository::ListExceptions(
    Transaction& tx, const TenantId& tenant, const CalendarId& calendar,
    const std::string& master_provider_id, int limit) {
  SB_RETURN_IF_ERROR(CheckTenantScope(tx, tenant));
  SB_RETURN_IF_ERROR(RequireValidId(calendar.valid()));
  SB_RETURN_IF_ERROR(CheckLimit(limit));
  if (master_provider_id.empty()) return std::vector<EventRecord>{};
  SB_ASSIGN_OR_RETURN(
      auto rows, tx.Query("SELECT " SB_EVENT_COLUMNS
                          " FROM calendar_events WHERE tenant_id = $1 AND calendar_id = $2 AND "
                          "series_master_provider_id = $3 AND series_master_provider_id <> '' "
                          "ORDER BY id LIMIT $4",
                          {tenant.value(), calendar.value(), master_provider_id, int64_t{limit}}));
  return ParseAll(rows, tenant, &ParseEvent);
}

#undef SB_CALENDAR_COLUMNS
#undef SB_EVENT_COLUMNS

// ---- Occurrence ids ----

namespace {

constexpr std::string_view kOccurrences = "calendar_occurrences";
constexpr size_t kMaxOriginalStartBytes = 64;
constexpr size_t kOccurrenceColumns = 5;
constexpr size_t kMaxOccurrenceRowsPerPut = 64;  // a master's occurrences come in bulk

Status CheckOccurrence(const OccurrenceRef& r) {
  if (!IsProviderId(r.provider_id) || !IsProviderId(r.master_provider_id)) {
    return InvalidArgumentError("invalid occurrence provider id");
  }
  if (!IsCleanText(r.original_start, 1, kMaxOriginalStartBytes)) {
    return InvalidArgumentError("invalid occurrence original start");
  }
  return OkStatus();
}

Result<OccurrenceRef> ParseOccurrence(const Row& row, const TenantId&) {
  OccurrenceRef r;
  SB_ASSIGN_OR_RETURN(r.provider_id, ReadText(row, 0, kOccurrences));
  SB_ASSIGN_OR_RETURN(r.master_provider_id, ReadText(row, 1, kOccurrences));
  SB_ASSIGN_OR_RETURN(r.original_start, ReadText(row, 2, kOccurrences));
  if (!CheckOccurrence(r).ok()) return Corrupt(kOccurrences);
  return r;
}

}  // namespace

Status CalendarRepository::PutOccurrences(Transaction& tx, const TenantId& tenant,
                                          const CalendarId& calendar,
                                          std::span<const OccurrenceRef> refs) {
  SB_RETURN_IF_ERROR(CheckTenantScope(tx, tenant));
  SB_RETURN_IF_ERROR(RequireValidId(calendar.valid()));
  for (const OccurrenceRef& r : refs) SB_RETURN_IF_ERROR(CheckOccurrence(r));
  // One row per id, the last one winning: a statement may not upsert a row twice.
  std::map<std::string_view, const OccurrenceRef*> unique;
  for (const OccurrenceRef& r : refs) unique[r.provider_id] = &r;
  std::vector<const OccurrenceRef*> rows;
  rows.reserve(unique.size());
  for (const auto& [id, r] : unique) rows.push_back(r);
  for (size_t done = 0; done < rows.size();) {
    const size_t batch = NextBatch(rows.size() - done, kMaxOccurrenceRowsPerPut);
    std::vector<Value> params;
    params.reserve(batch * kOccurrenceColumns);
    for (size_t i = done; i < done + batch; ++i) {
      params.emplace_back(tenant.value());
      params.emplace_back(calendar.value());
      params.emplace_back(rows[i]->provider_id);
      params.emplace_back(rows[i]->master_provider_id);
      params.emplace_back(rows[i]->original_start);
    }
    SB_RETURN_IF_ERROR(
        tx.Execute("INSERT INTO calendar_occurrences (tenant_id, calendar_id, provider_id, "
                   "master_provider_id, original_start) VALUES " +
                       ValuesPlaceholders(batch, kOccurrenceColumns) +
                       " ON CONFLICT (tenant_id, calendar_id, provider_id) DO UPDATE SET "
                       "master_provider_id = excluded.master_provider_id, "
                       "original_start = excluded.original_start",
                   params)
            .status());
    done += batch;
  }
  return OkStatus();
}

Result<std::optional<OccurrenceRef>> CalendarRepository::FindOccurrence(
    Transaction& tx, const TenantId& tenant, const CalendarId& calendar,
    const std::string& provider_id) {
  SB_RETURN_IF_ERROR(CheckTenantScope(tx, tenant));
  SB_RETURN_IF_ERROR(RequireValidId(calendar.valid()));
  if (!IsProviderId(provider_id)) return std::optional<OccurrenceRef>();
  SB_ASSIGN_OR_RETURN(auto rows,
                      tx.Query("SELECT provider_id, master_provider_id, original_start FROM "
                               "calendar_occurrences WHERE tenant_id = $1 AND calendar_id = $2 "
                               "AND provider_id = $3",
                               {tenant.value(), calendar.value(), provider_id}));
  return ParseFirst(rows, tenant, &ParseOccurrence);
}

Status CalendarRepository::DeleteOccurrencesOf(Transaction& tx, const TenantId& tenant,
                                               const CalendarId& calendar,
                                               const std::string& master_provider_id) {
  SB_RETURN_IF_ERROR(CheckTenantScope(tx, tenant));
  SB_RETURN_IF_ERROR(RequireValidId(calendar.valid()));
  return tx
      .Execute(
          "DELETE FROM calendar_occurrences WHERE tenant_id = $1 AND calendar_id = $2 AND "
          "master_provider_id = $3",
          {tenant.value(), calendar.value(), master_provider_id})
      .status();
}

}  // namespace sb::store
