#include "sb/sync/calendar/reader.h"

#include <algorithm>
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

// Every stored exception of the series `master_provider_id` in `calendar` (at most a list
// page; `truncated` is set when there may be more).
Result<std::vector<sync::calendar::Event>> SeriesExceptions(store::Transaction& tx,
                                                            const TenantId& tenant,
                                                            const CalendarId& calendar,
                                                            const std::string& master_provider_id,
                                                            bool& truncated) {
  constexpr int kLimit = store::CalendarRepository::kMaxListLimit;
  SB_ASSIGN_OR_RETURN(auto rows, store::CalendarRepository().ListExceptions(
                                     tx, tenant, calendar, master_provider_id, kLimit));
  if (static_cast<int>(rows.size()) == kLimit) truncated = true;
  std::vector<sync::calendar::Event> out;
  for (const auto& r : rows) {
    auto event = EventFromJson(r.data);
    if (event.ok() && event->kind == EventKind::kException) out.push_back(std::move(*event));
  }
  return out;
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

Result<WindowEvents> ReadWindowEvents(store::Transaction& tx, const TenantId& tenant,
                                      store::EventQuery query, size_t max_rows) {
  if (!query.window_start_ms || !query.window_end_ms) {
    return InvalidArgumentError("reading a window needs both of its ends");
  }
  // Every stored event overlapping the window, in pages: masters, exceptions, singles.
  WindowEvents out;
  store::CalendarRepository repo;
  query.after.reset();
  query.limit = store::CalendarRepository::kMaxListLimit;
  while (out.rows.size() < max_rows) {
    SB_ASSIGN_OR_RETURN(auto page, repo.ListEvents(tx, tenant, query));
    for (auto& r : page) out.rows.push_back(std::move(r));
    if (static_cast<int>(page.size()) < query.limit) break;
    query.after = out.rows.back().id;
    out.truncated = out.rows.size() >= max_rows;
  }
  std::vector<std::pair<size_t, sync::calendar::Event>> parsed;
  for (size_t i = 0; i < out.rows.size(); ++i) {
    auto event = EventFromJson(out.rows[i].data);
    if (!event.ok()) continue;  // a row that does not read is left out, not fatal
    // Exceptions are read with their series below: the window's rows lack those moved out of
    // the window whose slot lies in it.
    if (event->kind == EventKind::kException) continue;
    parsed.emplace_back(i, std::move(*event));
  }
  std::vector<std::pair<int64_t, WindowEvents::Item>> listed;
  // Items are moved in (a braced pair would copy them: pair's const& constructor).
  for (auto& [row, event] : parsed) {
    if (event.kind != EventKind::kSeriesMaster) {
      auto span = EventSpan(event);
      const int64_t start = span.ok() ? span->start_ms : 0;
      listed.emplace_back(start, WindowEvents::Item{row, std::move(event), false});
      continue;
    }
    SB_ASSIGN_OR_RETURN(auto own, SeriesExceptions(tx, tenant, out.rows[row].calendar_id,
                                                   event.provider_id, out.truncated));
    auto occurrences =
        ExpandSeries(event, own, *query.window_start_ms, *query.window_end_ms, max_rows);
    if (!occurrences.ok()) continue;  // an unsupported rule: the series is left out
    for (auto& o : *occurrences) {
      auto span = EventSpan(o);
      listed.emplace_back(span.ok() ? span->start_ms : 0,
                          WindowEvents::Item{row, std::move(o), true});
    }
  }
  std::stable_sort(listed.begin(), listed.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  out.items.reserve(listed.size());
  for (auto& entry : listed) out.items.push_back(std::move(entry.second));
  return out;
}

Result<EventListing> CalendarReader::Expanded(store::Transaction& tx, const TenantId& tenant,
                                              const EventListQuery& query) {
  store::EventQuery q;
  q.connection_id = query.connection;
  q.calendar_id = query.calendar;
  q.window_start_ms = query.window_start_ms;
  q.window_end_ms = query.window_end_ms;
  q.updated_since = query.updated_since;
  SB_ASSIGN_OR_RETURN(auto window, ReadWindowEvents(tx, tenant, q, kMaxExpandedEvents));
  EventListing out;
  for (const auto& item : window.items) {
    if (static_cast<int>(out.events.size()) >= query.limit) break;
    const store::EventRecord& record = window.rows[item.row];
    out.events.push_back(item.occurrence ? OccurrenceJson(record, item.event)
                                         : EventApiJson(record));
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
