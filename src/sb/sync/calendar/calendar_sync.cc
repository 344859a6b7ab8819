#include "sb/sync/calendar/calendar_sync.h"

#include <algorithm>
#include <functional>
#include <future>
#include <map>
#include <set>
#include <span>
#include <system_error>
#include <utility>

#include "sb/base/time_format.h"
#include "sb/sync/calendar/page_applier.h"
#include "sb/sync/calendar/push.h"

namespace sb::sync::calendar {
namespace {

constexpr int kMaxRestarts = 3;  // full rounds of one calendar restarted by a 410 in a run

store::CalendarRepository& Repo() {
  static store::CalendarRepository repo;
  return repo;
}

// One calendar of the run's work list, as kept in the checkpoint.
struct Pending {
  std::string provider_id;
  std::string uuid;
  std::string time_zone;
  std::string page;  // the position within the current round
  bool full = false;
  int restarts = 0;
};

Json PendingJson(const Pending& p) {
  return {{"id", p.provider_id}, {"uuid", p.uuid}, {"tz", p.time_zone},
          {"page", p.page},      {"full", p.full}, {"restarts", p.restarts}};
}

// The checkpoint is a database row: anything malformed reads as "start over".
std::optional<Pending> PendingFrom(const Json& j) {
  if (!j.is_object()) return std::nullopt;
  for (const char* name : {"id", "uuid", "tz", "page"}) {
    if (!j.contains(name) || !j[name].is_string()) return std::nullopt;
  }
  if (!j.contains("full") || !j["full"].is_boolean()) return std::nullopt;
  if (!j.contains("restarts") || !j["restarts"].is_number_integer()) return std::nullopt;
  Pending p{j["id"].get<std::string>(),   j["uuid"].get<std::string>(), j["tz"].get<std::string>(),
            j["page"].get<std::string>(), j["full"].get<bool>(),        j["restarts"].get<int>()};
  if (p.provider_id.empty() || !IsCanonicalUuid(p.uuid)) return std::nullopt;
  return p;
}

std::string CursorOf(const store::SyncStateRecord& state, const std::string& calendar) {
  const Json& c = state.cursor;
  if (!c.is_object() || !c.contains("calendars") || !c["calendars"].is_object()) return "";
  const Json& all = c["calendars"];
  if (!all.contains(calendar) || !all[calendar].is_string()) return "";
  return all[calendar].get<std::string>();
}

void SetCursor(store::SyncStateRecord& state, const std::string& calendar, std::string cursor) {
  if (!state.cursor.is_object()) state.cursor = Json::object();
  if (!state.cursor.contains("calendars") || !state.cursor["calendars"].is_object()) {
    state.cursor["calendars"] = Json::object();
  }
  state.cursor["calendars"][calendar] = std::move(cursor);
}

bool Selected(const Calendar& c) {
  return !c.deleted && c.access_role != AccessRole::kFreeBusyReader;
}

}  // namespace

Json CalendarApiJson(const store::CalendarRecord& record) {
  Json j = record.data;
  if (!j.is_object()) j = Json::object();
  j["id"] = record.id.value();
  j["connection_id"] = record.connection_id.value();
  j["synced"] = record.selected;
  j["updated_at"] = FormatRfc3339(record.updated_at);
  return j;
}

Json EventApiJson(const store::EventRecord& record) {
  store::EventRecord copy;
  copy.data = record.data;
  copy.id = record.id;
  copy.connection_id = record.connection_id;
  copy.calendar_id = record.calendar_id;
  copy.updated_at = record.updated_at;
  return EventApiJson(std::move(copy));
}

Json EventApiJson(store::EventRecord&& record) {
  Json j = std::move(record.data);
  record.data = Json::object();
  if (!j.is_object()) j = Json::object();
  j["id"] = record.id.value();
  j["connection_id"] = record.connection_id.value();
  j["calendar_id"] = record.calendar_id.value();
  j["synced_at"] = FormatRfc3339(record.updated_at);
  return j;
}

bool CalendarSync::Supports(std::string_view provider) const {
  return provider == "google" || provider == "microsoft";
}

Status CalendarSync::OnSucceeded(store::Transaction& tx, RunContext& context) {
  if (push_ == nullptr) return OkStatus();
  return push_->RequestEnsureIn(tx, context.tenant(), context.connection().id);
}

Result<Fetched<bool>> CalendarSync::Step(RunContext& context) {
  std::unique_ptr<CalendarSource> source =
      MakeCalendarSource(context.connection().provider, client_, clock_);
  if (!source) {
    return Fetched<bool>(
        ProviderError{ProviderFailure::kBadAnswer, "no calendar sync", std::nullopt});
  }
  const Json& checkpoint = context.run().checkpoint;
  const bool listed =
      checkpoint.is_object() && checkpoint.contains("phase") && checkpoint["phase"] == "events";
  if (!listed) return SyncCalendars(context, *source);
  return SyncEvents(context, *source);
}

Result<Fetched<bool>> CalendarSync::SyncCalendars(RunContext& context, CalendarSource& source) {
  context.run().phase = "calendars";
  Fetched<std::vector<Calendar>> listed =
      source.ListCalendars(context.tenant(), context.connection().id);
  if (const ProviderError* e = FailureOf(listed)) return Fetched<bool>(*e);
  const auto& calendars = std::get<std::vector<Calendar>>(listed);
  const TenantId& tenant = context.tenant();
  Json queue = Json::array();
  SB_RETURN_IF_ERROR(context.Commit([&](store::Transaction& tx) -> Status {
    queue = Json::array();
    SB_ASSIGN_OR_RETURN(auto stored, Repo().ListCalendars(tx, tenant, context.connection().id));
    std::set<std::string> present;
    for (const Calendar& c : calendars) {
      if (c.deleted) continue;
      present.insert(c.provider_id);
      const Json data = CalendarToJson(c);
      const store::CalendarRecord* before = nullptr;
      for (const auto& s : stored) {
        if (s.provider_id == c.provider_id) before = &s;
      }
      store::CalendarRecord record;
      record.tenant_id = tenant;
      record.id = before ? before->id : CalendarId(ids_.NewUuid());
      record.connection_id = context.connection().id;
      record.provider_id = c.provider_id;
      record.name = c.name;
      record.data = data;
      record.version = c.version;
      record.selected = Selected(c);
      record.created_at = before ? before->created_at : clock_.Now();
      record.updated_at = clock_.Now();
      const bool changed = !before || before->data != data || before->selected != record.selected;
      if (changed) {
        auto stored_record = Repo().UpsertCalendar(tx, tenant, record);
        // A calendar the store refuses (validated before any statement) is left out.
        if (!stored_record.ok() && stored_record.status().code() == StatusCode::kInvalidArgument) {
          continue;
        }
        SB_RETURN_IF_ERROR(stored_record.status());
        record = std::move(*stored_record);
        SB_RETURN_IF_ERROR(context.changes().Publish(
            tx, tenant, before ? "calendar.updated" : "calendar.created", record.id.value(),
            record.connection_id, Json{{"calendar", CalendarApiJson(record)}}));
      }
      if (record.selected) {
        queue.push_back(PendingJson(Pending{c.provider_id, record.id.value(), c.time_zone}));
      }
    }
    for (const auto& s : stored) {
      if (present.count(s.provider_id) != 0) continue;
      // Gone at the provider: the calendar and its events go (cascade), and so does its cursor.
      SB_RETURN_IF_ERROR(Repo().DeleteCalendar(tx, tenant, s.id).status());
      if (context.state().cursor.contains("calendars") &&
          context.state().cursor["calendars"].is_object()) {
        context.state().cursor["calendars"].erase(s.provider_id);
      }
      SB_RETURN_IF_ERROR(
          context.changes().Publish(tx, tenant, "calendar.deleted", s.id.value(), s.connection_id,
                                    Json{{"calendar",
                                          {{"id", s.id.value()},
                                           {"connection_id", s.connection_id.value()},
                                           {"provider_id", s.provider_id}}}}));
    }
    context.run().checkpoint = Json{{"phase", "events"}, {"queue", queue}};
    return OkStatus();
  }));
  return Fetched<bool>(false);
}

namespace {

// Runs `fetch` on a thread of its own, so the next page travels while this one is stored; on
// the caller's thread when no thread can be started.
std::future<Fetched<EventPage>> FetchAhead(std::function<Fetched<EventPage>()> fetch) {
  try {
    return std::async(std::launch::async, fetch);
  } catch (const std::system_error&) {
    return std::async(std::launch::deferred, std::move(fetch));
  }
}

// A rejected cursor (or page of the round) means the calendar again, in full, a few times at
// most; any other failure ends the step.
Result<Fetched<bool>> Restart(RunContext& context, Pending& p, const ProviderError& error) {
  if (error.kind != ProviderFailure::kGone || p.restarts >= kMaxRestarts) {
    return Fetched<bool>(error);
  }
  p.full = true;
  p.page.clear();
  ++p.restarts;
  context.run().checkpoint["current"] = PendingJson(p);
  SB_RETURN_IF_ERROR(context.Commit([](store::Transaction&) { return OkStatus(); }));
  return Fetched<bool>(false);
}

// Stores one page of the calendar `p` with the run's checkpoint: the next page, or, after the
// round's last, the new cursor (and for a full round, the removal of what it did not see).
Status ApplyPage(RunContext& context, const Pending& p, const EventPage& page, IdGenerator& ids) {
  store::SyncRunRecord& run = context.run();
  Json& checkpoint = run.checkpoint;
  const CalendarId calendar_id(p.uuid);
  return context.Commit([&](store::Transaction& tx) -> Status {
    PageApplier applier(context, tx, calendar_id, p.full, ids);
    SB_RETURN_IF_ERROR(applier.Begin(page.items));
    for (const EventChange& change : page.items) SB_RETURN_IF_ERROR(applier.Apply(change));
    ++run.pages;
    if (!page.next_page.empty()) {
      Pending next = p;
      next.page = page.next_page;
      checkpoint["current"] = PendingJson(next);
      return applier.Finish();
    }
    // The round's last page: what a full round did not see is gone at the provider.
    if (p.full) SB_RETURN_IF_ERROR(applier.RemoveUnseen());
    SetCursor(context.state(), p.provider_id, page.cursor);
    checkpoint.erase("current");
    return applier.Finish();
  });
}

}  // namespace

Result<Fetched<bool>> CalendarSync::SyncEvents(RunContext& context, CalendarSource& source) {
  store::SyncRunRecord& run = context.run();
  run.phase = "events";
  Json& checkpoint = run.checkpoint;
  std::optional<Pending> current;
  if (checkpoint.contains("current")) current = PendingFrom(checkpoint["current"]);
  if (!current) {
    Json& queue = checkpoint["queue"];
    if (!queue.is_array() || queue.empty()) return Fetched<bool>(true);
    current = PendingFrom(queue.front());
    queue.erase(queue.begin());
    if (!current) return Fetched<bool>(false);  // a malformed entry is skipped
    current->full = run.full || CursorOf(context.state(), current->provider_id).empty();
  }
  Pending& p = *current;
  Calendar calendar;
  calendar.provider_id = p.provider_id;
  calendar.time_zone = p.time_zone;
  const std::string cursor = p.full ? "" : CursorOf(context.state(), p.provider_id);
  const TenantId tenant = context.tenant();
  const ConnectionId connection = context.connection().id;
  Fetched<EventPage> fetched =
      source.FetchEvents(tenant, connection, calendar, PagePosition{cursor, p.page});
  // The calendar's pages one after the other, each committed with its checkpoint; the next page
  // is fetched while the current one is stored.
  while (true) {
    if (const ProviderError* e = FailureOf(fetched)) return Restart(context, p, *e);
    EventPage page = std::move(std::get<EventPage>(fetched));
    std::future<Fetched<EventPage>> next;
    if (!page.next_page.empty()) {
      next = FetchAhead(
          [&source, tenant, connection, calendar, position = PagePosition{cursor, page.next_page}] {
            return source.FetchEvents(tenant, connection, calendar, position);
          });
    }
    SB_RETURN_IF_ERROR(ApplyPage(context, p, page, ids_));
    if (page.next_page.empty()) return Fetched<bool>(false);
    p.page = page.next_page;
    fetched = next.get();
  }
}

}  // namespace sb::sync::calendar
