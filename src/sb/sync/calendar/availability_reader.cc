#include "sb/sync/calendar/availability_reader.h"

#include <algorithm>
#include <set>
#include <string_view>

#include "sb/caltime/caltime.h"
#include "sb/store/calendar/calendar_repository.h"
#include "sb/store/connections/connect_repository.h"
#include "sb/sync/calendar/fields.h"
#include "sb/sync/calendar/reader.h"

namespace sb::sync::calendar {
namespace {

constexpr int64_t kDayMs = 86'400'000;

Status CheckConnections(const std::vector<ConnectionId>& connections) {
  if (connections.empty() || connections.size() > AvailabilityReader::kMaxConnections) {
    return InvalidArgumentError("between 1 and 20 connections are needed");
  }
  std::set<ConnectionId> seen(connections.begin(), connections.end());
  if (seen.size() != connections.size()) return InvalidArgumentError("a connection is repeated");
  return OkStatus();
}

Status CheckQuery(const AvailabilityQuery& q) {
  SB_RETURN_IF_ERROR(CheckConnections(q.connections));
  // The window's bounds leave a day of room within the model's range for the widened read.
  if (q.start_ms < internal::kMinInstantMs + kDayMs ||
      q.end_ms > internal::kMaxInstantMs - kDayMs) {
    return InvalidArgumentError("the window must lie within the years 1..9999");
  }
  SB_RETURN_IF_ERROR(CheckAvailabilityWindow(q.start_ms, q.end_ms, q.time_zone));
  if (q.slot_ms != 0 &&
      (q.slot_ms < AvailabilityReader::kMinSlotMs || q.slot_ms > AvailabilityReader::kMaxSlotMs)) {
    return InvalidArgumentError("slots must last between 5 minutes and 1 day");
  }
  return OkStatus();
}

// The calendar's IANA zone when it has a known one, else `fallback`.
std::string_view CalendarZone(const store::CalendarRecord& calendar, std::string_view fallback) {
  const Json& data = calendar.data;
  if (!data.is_object()) return fallback;
  auto it = data.find("time_zone");
  if (it == data.end() || !it->is_string()) return fallback;
  const std::string& zone = it->get_ref<const std::string&>();
  return caltime::IsKnownZone(zone) ? std::string_view(zone) : fallback;
}

Json IntervalsJson(const std::vector<Interval>& intervals) {
  Json out = Json::array();
  for (const Interval& i : intervals) {
    out.push_back(Json{{"start", caltime::FormatUtcMillis(i.start_ms)},
                       {"end", caltime::FormatUtcMillis(i.end_ms)}});
  }
  return out;
}

}  // namespace

Result<Availability> AvailabilityReader::Compute(const TenantId& tenant,
                                                 const AvailabilityQuery& query) {
  SB_RETURN_IF_ERROR(CheckQuery(query));
  std::vector<Interval> base{{query.start_ms, query.end_ms}};
  if (query.hours) {
    SB_ASSIGN_OR_RETURN(
        base, WorkingWindows(query.start_ms, query.end_ms, query.time_zone, *query.hours));
  }
  Availability out;
  SB_RETURN_IF_ERROR(
      db_.RunInTenant(tenant, store::TxMode::kReadOnly, [&](store::Transaction& tx) -> Status {
        out.busy_by_connection.clear();
        for (const ConnectionId& connection : query.connections) {
          SB_ASSIGN_OR_RETURN(auto busy, ConnectionBusy(tx, tenant, connection, query));
          out.busy_by_connection.emplace_back(connection, std::move(busy));
        }
        return OkStatus();
      }));
  std::vector<Interval> all;
  for (const auto& entry : out.busy_by_connection) {
    all.insert(all.end(), entry.second.begin(), entry.second.end());
  }
  out.busy = MergeIntervals(std::move(all));
  out.free = Subtract(base, out.busy);
  if (query.slot_ms > 0) out.slots = Slots(out.free, query.slot_ms);
  return out;
}

Result<std::vector<Interval>> AvailabilityReader::ConnectionBusy(store::Transaction& tx,
                                                                 const TenantId& tenant,
                                                                 const ConnectionId& connection,
                                                                 const AvailabilityQuery& query) {
  if (!connection.valid()) return NotFoundError("connection not found");
  SB_ASSIGN_OR_RETURN(auto record, store::ConnectionRepository().Get(tx, tenant, connection));
  if (!record) return NotFoundError("connection not found");
  SB_ASSIGN_OR_RETURN(auto calendars,
                      store::CalendarRepository().ListCalendars(tx, tenant, connection));
  std::vector<Interval> busy;
  for (const store::CalendarRecord& calendar : calendars) {
    if (!calendar.selected) continue;
    // A day of margin on both sides: all-day events are stored at UTC midnights but count
    // from local midnight, up to 14 hours away.
    store::EventQuery q;
    q.connection_id = connection;
    q.calendar_id = calendar.id;
    q.window_start_ms = query.start_ms - kDayMs;
    q.window_end_ms = query.end_ms + kDayMs;
    SB_ASSIGN_OR_RETURN(auto window, ReadWindowEvents(tx, tenant, q, kMaxRowsPerCalendar));
    if (window.truncated) {
      return ResourceExhaustedError("a calendar has too many events in the window");
    }
    const std::string_view zone = CalendarZone(calendar, query.time_zone);
    for (const auto& item : window.items) {
      auto interval = BusyInterval(item.event, zone);
      if (!interval) continue;
      busy.push_back(
          {std::max(interval->start_ms, query.start_ms), std::min(interval->end_ms, query.end_ms)});
    }
  }
  return MergeIntervals(std::move(busy));
}

Json AvailabilityJson(const Availability& availability) {
  Json by_connection = Json::array();
  for (const auto& entry : availability.busy_by_connection) {
    by_connection.push_back(
        Json{{"connection_id", entry.first.value()}, {"busy", IntervalsJson(entry.second)}});
  }
  return Json{{"busy_by_connection", std::move(by_connection)},
              {"busy", IntervalsJson(availability.busy)},
              {"free", IntervalsJson(availability.free)},
              {"slots", IntervalsJson(availability.slots)}};
}

}  // namespace sb::sync::calendar
