// CalendarReader: what the host reads of synced calendars (the /v1 calendar routes): a
// connection's calendars, its events by calendar, window and update time with cursor pages,
// occurrences of series expanded for a window, one event. Thread-safe.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "sb/base/ids.h"
#include "sb/base/json.h"
#include "sb/store/calendar/calendar_repository.h"
#include "sb/store/database.h"
#include "sb/sync/calendar/model.h"

namespace sb::sync::calendar {

struct EventListing {
  std::vector<Json> events;  // API JSON (EventApiJson, or expanded occurrences)
  std::optional<std::string> next_cursor;
};

struct EventListQuery {
  ConnectionId connection;
  std::optional<CalendarId> calendar;
  std::optional<int64_t> window_start_ms;
  std::optional<int64_t> window_end_ms;
  std::optional<Timestamp> updated_since;
  std::optional<EventId> after;
  int limit = 100;
  // Series become their occurrences within the window (needs both window ends, at most
  // kMaxExpandDays apart); the answer then has no next cursor.
  bool expand_recurring = false;
};

// The stored events of `query` (its connection, calendar, updated_since; both window ends
// required, its cursor and limit ignored) with series expanded for the window: singles and
// occurrences overlapping it, sorted by start. Each series in the window is expanded with all
// its stored exceptions (also those moved out of the window, whose slot they still take), read
// per series; exceptions are not items of their own (a series whose rule caltime cannot expand,
// and a row whose JSON does not read, are left out). Reads at most `max_rows` rows, up to
// kMaxListLimit exceptions per series, and expands each series to at most `max_rows`
// occurrences; `truncated`: reading stopped at one of the row limits (there may be more). Shared by
// CalendarReader's expanded listing and AvailabilityReader (availability_reader.h).
struct WindowEvents {
  struct Item {
    size_t row;  // index into rows: the event's own row, or an occurrence's series master
    Event event;
    bool occurrence = false;
  };
  std::vector<store::EventRecord> rows;
  std::vector<Item> items;
  bool truncated = false;
};
Result<WindowEvents> ReadWindowEvents(store::Transaction& tx, const TenantId& tenant,
                                      store::EventQuery query, size_t max_rows);

class CalendarReader {
 public:
  static constexpr int64_t kMaxExpandDays = 366;
  static constexpr int kMaxExpandedEvents = 5000;

  explicit CalendarReader(store::Database& db) : db_(db) {}

  // NOT_FOUND for a connection the tenant does not have.
  Result<std::vector<Json>> Calendars(const TenantId& tenant, const ConnectionId& connection);
  // NOT_FOUND as above, and for a calendar not of the connection; INVALID_ARGUMENT for an
  // expansion without a bounded window.
  Result<EventListing> Events(const TenantId& tenant, const EventListQuery& query);
  // NOT_FOUND for an event the tenant does not have.
  Result<Json> Event(const TenantId& tenant, const EventId& id);

 private:
  Status CheckConnection(store::Transaction& tx, const TenantId& tenant,
                         const ConnectionId& connection);
  Result<EventListing> Expanded(store::Transaction& tx, const TenantId& tenant,
                                const EventListQuery& query);

  store::Database& db_;
  store::CalendarRepository repo_;
};

}  // namespace sb::sync::calendar
