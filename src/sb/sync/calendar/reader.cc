#include "sb/sync/calendar/reader.h"

#include <algorithm>
#include <map>
#include <utility>

#include "sb/store/connections/connect_repository.h"
#include "sb/sync/calendar/calendar_sync.h"
#include "sb/sync/calendar/expand.h"
#include "sb/sync/calendar/model.h"

namespace sb::sync::calendar {
namespace {

constexpr int64_t kDayMs = 86'400'000;

// An occurrence as the API shows it: the unified occurrence plus the ids of its series.
Json OccurrenceJson(const store::EventRecord& master, const sync::calendar::Event& occurrence) {
  Json j = EventToJson(occurrence);
  j["id"] = nullptr;  // occurrences are not stored: they have no id of their own
  j["series_id"] = master.id.value();
  j["connection_id"] = master.connection_id.value();
  j["calendar_id"] = master.calendar_id.value();
  return j;
}

}  // namespace

Status CalendarReader::CheckConnection(store::Transaction& tx, const TenantId& tenant,
                                       const ConnectionId& connection) {
  if (!connection.valid()) return NotFoundError("connection not found");
  SB_ASSIGN_OR_RETURN(auto record, store::ConnectionRepository().Get(tx, tenant, connection));
  if (!record) return NotFoundError("connection not found");
  return OkStatus();
}

Result<std::vector<Json>> CalendarReader::Calendars(const TenantId& tenant,
                                                    const ConnectionId& connection) {
  std::vector<Json> out;
  SB_RETURN_IF_ERROR(
      db_.RunInTenant(tenant, store::TxMode::kReadOnly, [&](store::Transaction& tx) -> Status {
        SB_RETURN_IF_ERROR(CheckConnection(tx, tenant, connection));
        SB_ASSIGN_OR_RETURN(auto records, repo_.ListCalendars(tx, tenant, connection));
        out.clear();
        for (const auto& r : records) out.push_back(CalendarApiJson(r));
        return OkStatus();
      }));
  return out;
}

Result<EventListing> CalendarReader::Events(const TenantId& tenant, const EventListQuery& query) {
  if (query.expand_recurring) {
    if (!query.window_start_ms || !query.window_end_ms ||
        *query.window_end_ms <= *query.window_start_ms ||
        *query.window_end_ms - *query.window_start_ms > kMaxExpandDays * kDayMs) {
      return InvalidArgumentError(
          "expand_recurring needs time_min and time_max at most 366 days apart");
    }
  }
  EventListing out;
  SB_RETURN_IF_ERROR(
      db_.RunInTenant(tenant, store::TxMode::kReadOnly, [&](store::Transaction& tx) -> Status {
        SB_RETURN_IF_ERROR(CheckConnection(tx, tenant, query.connection));
        if (query.calendar) {
          SB_ASSIGN_OR_RETURN(auto calendar, repo_.GetCalendar(tx, tenant, *query.calendar));
          if (!calendar || calendar->connection_id != query.connection) {
            return NotFoundError("calendar not found");
          }
        }
        if (query.expand_recurring) {
          SB_ASSIGN_OR_RETURN(out, Expanded(tx, tenant, query));
          return OkStatus();
        }
        store::EventQuery q;
        q.connection_id = query.connection;
        q.calendar_id = query.calendar;
        q.window_start_ms = query.window_start_ms;
        q.window_end_ms = query.window_end_ms;
        q.updated_since = query.updated_since;
        q.after = query.after;
        q.limit = query.limit;
        SB_ASSIGN_OR_RETURN(auto records, repo_.ListEvents(tx, tenant, q));
        out = EventListing{};
        for (const auto& r : records) out.events.push_back(EventApiJson(r));
        if (static_cast<int>(records.size()) == query.limit && !records.empty()) {
          out.next_cursor = records.back().id.value();
        }
        return OkStatus();
      }));
  return out;
}

Result<EventListing> CalendarReader::Expanded(store::Transaction& tx, const TenantId& tenant,
                                              const EventListQuery& query) {
  // Every stored event overlapping the window, in pages: masters, exceptions, singles.
  std::vector<store::EventRecord> rows;
  store::EventQuery q;
  q.connection_id = query.connection;
  q.calendar_id = query.calendar;
  q.window_start_ms = query.window_start_ms;
  q.window_end_ms = query.window_end_ms;
  q.updated_since = query.updated_since;
  q.limit = store::CalendarRepository::kMaxListLimit;
  while (static_cast<int>(rows.size()) < kMaxExpandedEvents) {
    SB_ASSIGN_OR_RETURN(auto page, repo_.ListEvents(tx, tenant, q));
    for (auto& r : page) rows.push_back(std::move(r));
    if (static_cast<int>(page.size()) < q.limit) break;
    q.after = rows.back().id;
  }
  std::map<std::pair<std::string, std::string>, std::vector<sync::calendar::Event>> exceptions;
  std::vector<std::pair<const store::EventRecord*, sync::calendar::Event>> parsed;
  for (const auto& r : rows) {
    auto event = EventFromJson(r.data);
    if (!event.ok()) continue;  // a row that does not read is left out, not fatal
    if (event->kind == EventKind::kException) {
      exceptions[{r.calendar_id.value(), event->series_master_provider_id}].push_back(*event);
    }
    parsed.emplace_back(&r, std::move(*event));
  }
  std::vector<std::pair<int64_t, Json>> listed;
  for (const auto& [record, event] : parsed) {
    if (event.kind == EventKind::kException) continue;  // merged into their series below
    if (event.kind != EventKind::kSeriesMaster) {
      auto span = EventSpan(event);
      listed.emplace_back(span.ok() ? span->start_ms : 0, EventApiJson(*record));
      continue;
    }
    const auto& own = exceptions[{record->calendar_id.value(), event.provider_id}];
    auto occurrences =
        ExpandSeries(event, own, *query.window_start_ms, *query.window_end_ms, kMaxExpandedEvents);
    if (!occurrences.ok()) continue;  // an unsupported rule: the series is left out
    for (const auto& o : *occurrences) {
      auto span = EventSpan(o);
      listed.emplace_back(span.ok() ? span->start_ms : 0, OccurrenceJson(*record, o));
    }
  }
  std::stable_sort(listed.begin(), listed.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  EventListing out;
  for (auto& [start, json] : listed) {
    if (static_cast<int>(out.events.size()) >= query.limit) break;
    out.events.push_back(std::move(json));
  }
  return out;
}

Result<Json> CalendarReader::Event(const TenantId& tenant, const EventId& id) {
  Json out;
  SB_RETURN_IF_ERROR(
      db_.RunInTenant(tenant, store::TxMode::kReadOnly, [&](store::Transaction& tx) -> Status {
        if (!id.valid()) return NotFoundError("event not found");
        SB_ASSIGN_OR_RETURN(auto record, repo_.GetEvent(tx, tenant, id));
        if (!record) return NotFoundError("event not found");
        out = EventApiJson(*record);
        return OkStatus();
      }));
  return out;
}

}  // namespace sb::sync::calendar
