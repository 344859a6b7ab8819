// Storage of synced calendars and events (issue 15): `calendars` and `calendar_events`, one
// row per provider calendar and per provider event (singles, series masters and exceptions;
// occurrences are expanded on request, never stored). The unified event is kept as JSON
// (`data`, sync/calendar/model.h) next to the columns that queries filter and sort on, with the
// provider's raw payload for fidelity and a content hash, so that a resync that finds an event
// unchanged can tell without comparing JSON.
//
// Rows go with their connection (foreign key, cascade); events with their calendar.
//
// Stateless SQL over a Transaction, thread-safe; tenant scoping, maintenance calls and error
// codes as in admin_repository.h.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "sb/base/clock.h"
#include "sb/base/ids.h"
#include "sb/base/json.h"
#include "sb/base/status.h"
#include "sb/store/database.h"

namespace sb::store {

struct CalendarRecord {
  TenantId tenant_id;
  CalendarId id;
  ConnectionId connection_id;
  std::string provider_id;     // the provider's calendar id; 1..1024 bytes
  std::string name;            // at most 1024 bytes of UTF-8 without NUL (tabs and newlines pass)
  Json data = Json::object();  // the unified calendar (model.h); at most 64 KiB serialized
  std::string version;         // etag / changeKey; at most 256 bytes
  bool selected = true;        // synced (false: known but not synced)
  Timestamp created_at;
  Timestamp updated_at;

  friend bool operator==(const CalendarRecord&, const CalendarRecord&) = default;
};

struct EventRecord {
  TenantId tenant_id;
  EventId id;
  ConnectionId connection_id;
  CalendarId calendar_id;
  std::string provider_id;                // 1..1024 bytes
  std::string version;                    // etag / changeKey; at most 256 bytes
  std::string ical_uid;                   // at most 1024 bytes
  std::string series_master_provider_id;  // exceptions: their master's provider id; else ""
  std::string status;                     // "confirmed", "tentative", "cancelled"
  // The span the event covers, for window queries: all-day events from midnight UTC of the
  // start date to midnight UTC of the (exclusive) end date; series masters from the first
  // start to the end of the last occurrence (nullopt: unbounded).
  std::optional<int64_t> start_ms;
  std::optional<int64_t> end_ms;
  std::optional<Timestamp> provider_updated_at;
  Json data = Json::object();  // the unified event (model.h); at most 1 MiB serialized
  Json raw = Json::object();   // the provider's item as received; at most 1 MiB serialized
  std::string content_hash;    // lowercase hex SHA-256 of data's serialization
  std::optional<SyncRunId> seen_in_run;  // the last full run that received it
  Timestamp created_at;
  Timestamp updated_at;

  friend bool operator==(const EventRecord&, const EventRecord&) = default;
};

// An occurrence that its provider names by an id of its own (Graph), tied to its series: the
// sync stores series and exceptions and expands occurrences itself, so a removal of such an id
// is only understood through this.
struct OccurrenceRef {
  std::string provider_id;         // the occurrence's
  std::string master_provider_id;  // its series'
  std::string original_start;      // occurrences.h's text form: RFC 3339, or yyyy-mm-dd

  friend bool operator==(const OccurrenceRef&, const OccurrenceRef&) = default;
};

struct EventQuery {
  std::optional<ConnectionId> connection_id;
  std::optional<CalendarId> calendar_id;
  std::optional<int64_t> window_start_ms;  // events ending after this...
  std::optional<int64_t> window_end_ms;    // ...and starting before this
  std::optional<Timestamp> updated_since;  // updated_at >= this
  std::optional<EventId> after;            // page cursor: ids greater than this
  int limit = 100;
};

class CalendarRepository {
 public:
  static constexpr int kMaxListLimit = 1000;

  // Inserts or updates by (tenant, connection, provider_id); returns the stored record (its id
  // is kept when the row existed). NOT_FOUND when the connection does not exist.
  Result<CalendarRecord> UpsertCalendar(Transaction& tx, const TenantId& tenant,
                                        const CalendarRecord& record);
  Result<std::vector<CalendarRecord>> ListCalendars(Transaction& tx, const TenantId& tenant,
                                                    const ConnectionId& connection);
  Result<std::optional<CalendarRecord>> GetCalendar(Transaction& tx, const TenantId& tenant,
                                                    const CalendarId& id);
  // Deletes the calendar and its events; false when there was none.
  Result<bool> DeleteCalendar(Transaction& tx, const TenantId& tenant, const CalendarId& id);

  Result<std::optional<EventRecord>> FindEvent(Transaction& tx, const TenantId& tenant,
                                               const CalendarId& calendar,
                                               const std::string& provider_id);
  // The calendar's events with any of `provider_ids`, in no particular order: a few statements
  // for a page of lookups. An id without an event is left out, and so is one no event could
  // have (empty, too long, control characters).
  Result<std::vector<EventRecord>> FindEvents(Transaction& tx, const TenantId& tenant,
                                              const CalendarId& calendar,
                                              std::span<const std::string> provider_ids);
  Result<std::optional<EventRecord>> GetEvent(Transaction& tx, const TenantId& tenant,
                                              const EventId& id);
  // Inserts, or replaces the row with the same id (every field). NOT_FOUND when the calendar
  // does not exist; ALREADY_EXISTS when another row of the calendar has the provider id;
  // INVALID_ARGUMENT when the event's connection is not its calendar's, or end_ms < start_ms.
  Status PutEvent(Transaction& tx, const TenantId& tenant, const EventRecord& record);
  // PutEvent for many: each record's calendar checked once, then a few multi-row statements.
  // All are validated before anything is written. The ids must be distinct (INVALID_ARGUMENT).
  Status PutEvents(Transaction& tx, const TenantId& tenant, std::span<const EventRecord> records);
  Result<bool> DeleteEvent(Transaction& tx, const TenantId& tenant, const EventId& id);
  // Id order. With a window: (end_ms IS NULL OR end_ms > window_start) AND
  // start_ms < window_end, so an event without start_ms is outside every window with an end.
  Result<std::vector<EventRecord>> ListEvents(Transaction& tx, const TenantId& tenant,
                                              const EventQuery& query);
  // Full (re)sync reconciliation: a full run marks every event it receives with its run id
  // (PutEvent with seen_in_run set, or MarkSeen for one that did not change); when the run has
  // received everything, the calendar's events not marked with it are gone at the provider.
  // Sets seen_in_run only (updated_at stays: the host is shown no change). NOT_FOUND when
  // there is no such event.
  Status MarkSeen(Transaction& tx, const TenantId& tenant, const EventId& id, const SyncRunId& run);
  // Up to `limit` exceptions (moved or cancelled occurrences) of the series whose master has
  // `master_provider_id` in `calendar`, id order.
  Result<std::vector<EventRecord>> ListExceptions(Transaction& tx, const TenantId& tenant,
                                                  const CalendarId& calendar,
                                                  const std::string& master_provider_id, int limit);
  // Up to `limit` events of `calendar` whose seen_in_run is not `run`, id order.
  Result<std::vector<EventRecord>> ListNotSeenIn(Transaction& tx, const TenantId& tenant,
                                                 const CalendarId& calendar, const SyncRunId& run,
                                                 int limit);

  // Records the calendar's occurrence ids (an id seen again is replaced). INVALID_ARGUMENT for
  // an empty or malformed field (nothing is written).
  Status PutOccurrences(Transaction& tx, const TenantId& tenant, const CalendarId& calendar,
                        std::span<const OccurrenceRef> refs);
  Result<std::optional<OccurrenceRef>> FindOccurrence(Transaction& tx, const TenantId& tenant,
                                                      const CalendarId& calendar,
                                                      const std::string& provider_id);
  // Forgets the occurrence ids of the series `master_provider_id` (it is gone).
  Status DeleteOccurrencesOf(Transaction& tx, const TenantId& tenant, const CalendarId& calendar,
                             const std::string& master_provider_id);
};

}  // namespace sb::store
