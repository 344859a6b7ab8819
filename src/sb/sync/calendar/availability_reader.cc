#include "sb/sync/calendar/availability_reader.h"

#include <algorithm>
#include <array>
#include <set>
#include <string_view>

#include "sb/caltime/caltime.h"
#include "sb/store/calendar/calendar_repository.h"
#include "sb/store/connections/connect_repository.h"
#include "sb/store/sync/sync_repository.h"
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

constexpr size_t kMaxFreeBusyCalendars = 50;  // Google's calendarExpansionMax

ProviderError BadAnswer(std::string message) {
  return ProviderError{ProviderFailure::kBadAnswer, std::move(message), std::nullopt, ""};
}

// A provider's free/busy answer read, or a bad answer.
Fetched<std::vector<Interval>> Busy(Result<std::vector<Interval>> read) {
  if (!read.ok()) return BadAnswer(read.status().message());
  return std::move(*read);
}

constexpr std::array<std::string_view, 3> kSources = {"auto", "store", "provider"};

}  // namespace

std::string_view AvailabilitySourceName(AvailabilitySource source) {
  return kSources[static_cast<size_t>(source)];
}

std::optional<AvailabilitySource> ParseAvailabilitySource(std::string_view name) {
  for (size_t i = 0; i < kSources.size(); ++i) {
    if (kSources[i] == name) return static_cast<AvailabilitySource>(i);
  }
  return std::nullopt;
}

// What the provider is asked for one connection.
struct AvailabilityReader::ProviderAsk {
  size_t index = 0;  // in the query's connections
  ConnectionId connection;
  std::string provider;                // catalog id
  std::vector<std::string> calendars;  // Google: the selected calendars' ids
  std::string mailbox;                 // Graph: the account's address
};

Result<Availability> AvailabilityReader::Compute(const TenantId& tenant,
                                                 const AvailabilityQuery& query) {
  SB_RETURN_IF_ERROR(CheckQuery(query));
  std::vector<Interval> base{{query.start_ms, query.end_ms}};
  if (query.hours) {
    SB_ASSIGN_OR_RETURN(
        base, WorkingWindows(query.start_ms, query.end_ms, query.time_zone, *query.hours));
  }
  Availability out;
  std::vector<ProviderAsk> asks;
  SB_RETURN_IF_ERROR(
      db_.RunInTenant(tenant, store::TxMode::kReadOnly, [&](store::Transaction& tx) -> Status {
        out.busy_by_connection.clear();
        asks.clear();
        for (const ConnectionId& connection : query.connections) {
          std::optional<ProviderAsk> ask;
          SB_ASSIGN_OR_RETURN(auto entry, FromStore(tx, tenant, connection, query, ask));
          if (ask) {
            ask->index = out.busy_by_connection.size();
            asks.push_back(std::move(*ask));
          }
          out.busy_by_connection.push_back(std::move(entry));
        }
        return OkStatus();
      }));
  // The providers are asked outside the transaction.
  for (const ProviderAsk& ask : asks) {
    Fetched<std::vector<Interval>> busy = ProviderBusy(tenant, ask, query);
    if (const ProviderError* e = FailureOf(busy)) {
      if (query.source != AvailabilitySource::kProvider) continue;
      std::string message = "the provider could not be asked: ";
      message += e->message;
      return UnavailableError(message);
    }
    ConnectionAvailability& entry = out.busy_by_connection[ask.index];
    entry.busy = std::get<std::vector<Interval>>(std::move(busy));
    entry.source = AvailabilitySource::kProvider;
    entry.stale = false;
  }
  std::vector<Interval> all;
  for (const auto& entry : out.busy_by_connection) {
    all.insert(all.end(), entry.busy.begin(), entry.busy.end());
  }
  out.busy = MergeIntervals(std::move(all));
  out.free = Subtract(base, out.busy);
  if (query.slot_ms > 0) out.slots = Slots(out.free, query.slot_ms);
  return out;
}

Result<ConnectionAvailability> AvailabilityReader::FromStore(store::Transaction& tx,
                                                             const TenantId& tenant,
                                                             const ConnectionId& connection,
                                                             const AvailabilityQuery& query,
                                                             std::optional<ProviderAsk>& ask) {
  if (!connection.valid()) return NotFoundError("connection not found");
  SB_ASSIGN_OR_RETURN(auto record, store::ConnectionRepository().Get(tx, tenant, connection));
  if (!record) return NotFoundError("connection not found");
  SB_ASSIGN_OR_RETURN(auto calendars,
                      store::CalendarRepository().ListCalendars(tx, tenant, connection));
  ConnectionAvailability entry;
  entry.connection = connection;
  // A query for the provider only has no use for the store's answer (a failure is an error).
  if (query.source != AvailabilitySource::kProvider) {
    SB_ASSIGN_OR_RETURN(entry.busy, ConnectionBusy(tx, tenant, calendars, query));
  }
  SB_ASSIGN_OR_RETURN(auto state,
                      store::SyncRepository().GetState(tx, tenant, connection, "calendar"));
  entry.stale = !state || !state->last_success_at ||
                clock_.Now() - *state->last_success_at > query.max_staleness;
  const bool asked = query.source == AvailabilitySource::kProvider ||
                     (query.source == AvailabilitySource::kAuto && entry.stale);
  if (!asked) return entry;
  if (provider_ == nullptr) {
    if (query.source == AvailabilitySource::kProvider) {
      return UnavailableError("no provider client to ask");
    }
    return entry;
  }
  ProviderAsk wanted;
  wanted.connection = connection;
  wanted.provider = record->provider;
  wanted.mailbox = record->account_email;
  for (const store::CalendarRecord& calendar : calendars) {
    if (calendar.selected) wanted.calendars.push_back(calendar.provider_id);
  }
  ask = std::move(wanted);
  return entry;
}

Fetched<std::vector<Interval>> AvailabilityReader::ProviderBusy(const TenantId& tenant,
                                                                const ProviderAsk& ask,
                                                                const AvailabilityQuery& query) {
  const Result<std::string> base = provider_->BaseUrl(ask.provider);
  if (!base.ok()) return BadAnswer("the provider has no API base");
  if (ask.provider == "google") {
    if (ask.calendars.empty()) return std::vector<Interval>();
    if (ask.calendars.size() > kMaxFreeBusyCalendars) return BadAnswer("too many calendars");
    Json items = Json::array();
    for (const std::string& id : ask.calendars) items.push_back(Json{{"id", id}});
    const Json body{{"timeMin", caltime::FormatUtcMillis(query.start_ms)},
                    {"timeMax", caltime::FormatUtcMillis(query.end_ms)},
                    {"items", std::move(items)}};
    Fetched<Json> answer =
        provider_->Send(tenant, ask.connection, "POST", *base + "/calendar/v3/freeBusy", body);
    if (const ProviderError* e = FailureOf(answer)) return *e;
    return Busy(
        FreeBusyFromGoogle(std::get<Json>(answer), ask.calendars, query.start_ms, query.end_ms));
  }
  if (ask.provider == "microsoft") {
    if (ask.mailbox.empty()) return BadAnswer("the account has no mailbox address");
    const auto start = caltime::FormatGraphDateTime(query.start_ms, "UTC");
    const auto end = caltime::FormatGraphDateTime(query.end_ms, "UTC");
    if (!start.ok() || !end.ok()) return BadAnswer("the window is out of range");
    const Json body{{"schedules", Json::array({ask.mailbox})},
                    {"startTime", {{"dateTime", *start}, {"timeZone", "UTC"}}},
                    {"endTime", {{"dateTime", *end}, {"timeZone", "UTC"}}},
                    {"availabilityViewInterval", 30}};
    Fetched<Json> answer = provider_->Send(tenant, ask.connection, "POST",
                                           *base + "/v1.0/me/calendar/getSchedule", body);
    if (const ProviderError* e = FailureOf(answer)) return *e;
    return Busy(FreeBusyFromGraph(std::get<Json>(answer), query.start_ms, query.end_ms));
  }
  return BadAnswer("the provider has no free/busy query");
}

Result<std::vector<Interval>> AvailabilityReader::ConnectionBusy(
    store::Transaction& tx, const TenantId& tenant,
    const std::vector<store::CalendarRecord>& calendars, const AvailabilityQuery& query) {
  std::vector<Interval> busy;
  for (const store::CalendarRecord& calendar : calendars) {
    if (!calendar.selected) continue;
    // A day of margin on both sides: all-day events are stored at UTC midnights but count
    // from local midnight, up to 14 hours away.
    store::EventQuery q;
    q.connection_id = calendar.connection_id;
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
    by_connection.push_back(Json{{"connection_id", entry.connection.value()},
                                 {"busy", IntervalsJson(entry.busy)},
                                 {"source", AvailabilitySourceName(entry.source)},
                                 {"stale", entry.stale}});
  }
  return Json{{"busy_by_connection", std::move(by_connection)},
              {"busy", IntervalsJson(availability.busy)},
              {"free", IntervalsJson(availability.free)},
              {"slots", IntervalsJson(availability.slots)}};
}

}  // namespace sb::sync::calendar
