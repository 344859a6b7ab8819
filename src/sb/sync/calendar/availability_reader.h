// AvailabilityReader (issue 16): free/busy and bookable slots of one or more connections over
// a window, computed from the synced store (the arithmetic is availability.h).
//
// What counts as busy: the events of the connection's synced (selected) calendars, read and
// expanded for the window as CalendarReader's expanded listing does (ReadWindowEvents in
// reader.h), through BusyInterval: cancelled, transparent and declined-by-self events are free.
// All-day events cover their dates from local midnight in their calendar's zone, or in the
// query's zone when the calendar has no known one. Busy time is clipped to the window.
//
// Thread-safe: no state besides the database, one read-only tenant transaction per Compute.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "sb/base/ids.h"
#include "sb/base/json.h"
#include "sb/base/status.h"
#include "sb/store/database.h"
#include "sb/sync/calendar/availability.h"

namespace sb::sync::calendar {

struct AvailabilityQuery {
  std::vector<ConnectionId> connections;  // 1..kMaxConnections, distinct
  int64_t start_ms = 0;                   // the window [start_ms, end_ms), UTC ms
  int64_t end_ms = 0;                     // at most kMaxAvailabilityDays after the start
  std::string time_zone;                  // IANA; working hours and all-day fallback
  std::optional<WorkingHours> hours;      // none: the whole window may be free
  int64_t slot_ms = 0;                    // 0: no slots; else 5 minutes..1 day
};

struct Availability {
  // Per queried connection, in query order: its busy time (merged, within the window).
  std::vector<std::pair<ConnectionId, std::vector<Interval>>> busy_by_connection;
  std::vector<Interval> busy;   // all connections' busy time merged
  std::vector<Interval> free;   // working windows (or the whole window) minus busy
  std::vector<Interval> slots;  // back-to-back slots of slot_ms in `free` (Slots())
};

class AvailabilityReader {
 public:
  static constexpr size_t kMaxConnections = 20;
  static constexpr int64_t kMinSlotMs = 5 * 60'000;
  static constexpr int64_t kMaxSlotMs = 86'400'000;
  // Stored rows read per calendar and window; a calendar with more is RESOURCE_EXHAUSTED
  // rather than an answer that shows its later events' time as free.
  static constexpr size_t kMaxRowsPerCalendar = 5000;

  explicit AvailabilityReader(store::Database& db) : db_(db) {}

  // INVALID_ARGUMENT for a query outside the bounds above (empty or too long window, unknown
  // zone, bad hours, slot length, no, too many or repeated connections); NOT_FOUND for a
  // connection the tenant does not have; RESOURCE_EXHAUSTED as above.
  Result<Availability> Compute(const TenantId& tenant, const AvailabilityQuery& query);

 private:
  Result<std::vector<Interval>> ConnectionBusy(store::Transaction& tx, const TenantId& tenant,
                                               const ConnectionId& connection,
                                               const AvailabilityQuery& query);

  store::Database& db_;
};

// {"busy_by_connection": [{"connection_id", "busy": [...]}], "busy", "free", "slots"}, each
// interval {"start", "end"} as RFC 3339 UTC with milliseconds ("2026-03-02T09:00:00.000Z").
Json AvailabilityJson(const Availability& availability);

}  // namespace sb::sync::calendar
