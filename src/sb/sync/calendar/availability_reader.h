// AvailabilityReader (issue 16): free/busy and bookable slots of one or more connections over
// a window, computed from the synced store (the arithmetic is availability.h), or asked of the
// provider (Google freeBusy over the connection's selected calendars, Graph getSchedule of the
// account's mailbox) when the store is not fresh: its last successful calendar sync is older
// than the query's max_staleness, or it never had one. A provider that cannot answer leaves
// the store's answer, flagged stale; a query may also name its source.
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

#include "sb/base/clock.h"
#include "sb/base/ids.h"
#include "sb/base/json.h"
#include "sb/base/status.h"
#include "sb/store/calendar/calendar_repository.h"
#include "sb/store/database.h"
#include "sb/sync/calendar/availability.h"
#include "sb/sync/provider_client.h"

namespace sb::sync::calendar {

// Where a connection's busy time comes from: kAuto is the store when fresh, else the provider.
enum class AvailabilitySource { kAuto, kStore, kProvider };
std::string_view AvailabilitySourceName(AvailabilitySource source);  // "auto", "store", ...
std::optional<AvailabilitySource> ParseAvailabilitySource(std::string_view name);

struct AvailabilityQuery {
  std::vector<ConnectionId> connections;  // 1..kMaxConnections, distinct
  int64_t start_ms = 0;                   // the window [start_ms, end_ms), UTC ms
  int64_t end_ms = 0;                     // at most kMaxAvailabilityDays after the start
  std::string time_zone;                  // IANA; working hours and all-day fallback
  std::optional<WorkingHours> hours;      // none: the whole window may be free
  int64_t slot_ms = 0;                    // 0: no slots; else 5 minutes..1 day
  AvailabilitySource source = AvailabilitySource::kAuto;
  std::chrono::seconds max_staleness{900};  // kAuto: the store is fresh within this
};

struct ConnectionAvailability {
  ConnectionId connection;
  std::vector<Interval> busy;                              // merged, within the window
  AvailabilitySource source = AvailabilitySource::kStore;  // kStore or kProvider
  bool stale = false;  // from a store that is not fresh (the provider was not asked or failed)
  friend bool operator==(const ConnectionAvailability&, const ConnectionAvailability&) = default;
};

struct Availability {
  // Per queried connection, in query order.
  std::vector<ConnectionAvailability> busy_by_connection;
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

  // `provider` null: the store only (answers that are not fresh are flagged stale).
  AvailabilityReader(store::Database& db, const Clock& clock, ProviderClient* provider = nullptr)
      : db_(db), clock_(clock), provider_(provider) {}

  // INVALID_ARGUMENT for a query outside the bounds above (empty or too long window, unknown
  // zone, bad hours, slot length, no, too many or repeated connections); NOT_FOUND for a
  // connection the tenant does not have; RESOURCE_EXHAUSTED as above; UNAVAILABLE when the
  // query names the provider as its source and a provider cannot answer.
  Result<Availability> Compute(const TenantId& tenant, const AvailabilityQuery& query);

 private:
  struct ProviderAsk;
  // The store's answer for `connection` and, when the provider is to be asked, what to ask.
  Result<ConnectionAvailability> FromStore(store::Transaction& tx, const TenantId& tenant,
                                           const ConnectionId& connection,
                                           const AvailabilityQuery& query,
                                           std::optional<ProviderAsk>& ask);
  Result<std::vector<Interval>> ConnectionBusy(store::Transaction& tx, const TenantId& tenant,
                                               const std::vector<store::CalendarRecord>& calendars,
                                               const AvailabilityQuery& query);
  Fetched<std::vector<Interval>> ProviderBusy(const TenantId& tenant, const ProviderAsk& ask,
                                              const AvailabilityQuery& query);

  store::Database& db_;
  const Clock& clock_;
  ProviderClient* provider_;
};

// {"busy_by_connection": [{"connection_id", "busy": [...], "source", "stale"}], "busy", "free",
// "slots"}, each
// interval {"start", "end"} as RFC 3339 UTC with milliseconds ("2026-03-02T09:00:00.000Z").
Json AvailabilityJson(const Availability& availability);

}  // namespace sb::sync::calendar
