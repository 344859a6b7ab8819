#include "sb/api/sync_handlers.h"

#include <utility>

#include "sb/api/auth.h"
#include "sb/api/json_body.h"
#include "sb/api/tenant_handlers.h"
#include "sb/base/text.h"
#include "sb/base/time_format.h"

namespace sb::api {
namespace {

using tenancy::Scope;

constexpr int kDefaultLimit = 100;
constexpr int kMaxLimit = 1000;
constexpr size_t kMaxTypes = 20;

// An RFC 3339 query parameter as UTC milliseconds.
Result<std::optional<Timestamp>> TimeParam(const http::Request& request, std::string_view name) {
  const auto text = request.Query(name);
  if (!text) return std::optional<Timestamp>();
  auto t = ParseRfc3339(*text);
  if (!t) {
    return InvalidArgumentError("query parameter '" + std::string(name) +
                                "' must be an RFC 3339 time with an offset");
  }
  return std::optional<Timestamp>(*t);
}

std::optional<int64_t> Millis(const std::optional<Timestamp>& t) {
  if (!t) return std::nullopt;
  return std::chrono::duration_cast<std::chrono::milliseconds>(t->time_since_epoch()).count();
}

Result<bool> BoolParam(const http::Request& request, std::string_view name) {
  const auto text = request.Query(name);
  if (!text || *text == "false") return false;
  if (*text == "true") return true;
  return InvalidArgumentError("query parameter '" + std::string(name) + "' must be true or false");
}

Result<std::vector<std::string>> TypesParam(const http::Request& request) {
  std::vector<std::string> types;
  const auto text = request.Query("types");
  if (!text || text->empty()) return types;
  for (std::string_view part : Split(*text, ',')) {
    if (part.empty() || part.size() > 64) {
      return InvalidArgumentError("query parameter 'types' must list change types");
    }
    for (char c : part) {
      if (!((c >= 'a' && c <= 'z') || c == '_' || c == '.' || c == '*')) {
        return InvalidArgumentError("query parameter 'types' must list change types");
      }
    }
    types.emplace_back(part);
  }
  if (types.size() > kMaxTypes) {
    return InvalidArgumentError("query parameter 'types' lists more than 20 types");
  }
  return types;
}

// `order=desc` reads newest first, and its cursor is the seq to read below.
Result<store::ChangeFilter> ChangeFilterOf(const http::Request& request) {
  store::ChangeFilter filter;
  SB_ASSIGN_OR_RETURN(const bool newest_first, NewestFirstParam(request));
  if (newest_first) filter.order = store::ChangeOrder::kNewestFirst;
  SB_ASSIGN_OR_RETURN(filter.cursor, SeqCursorParam(request));
  SB_ASSIGN_OR_RETURN(filter.types, TypesParam(request));
  SB_ASSIGN_OR_RETURN(filter.connection, ConnectionFilterParam(request));
  SB_ASSIGN_OR_RETURN(filter.limit, PageLimit(request, kDefaultLimit, kMaxLimit));
  return filter;
}

}  // namespace

http::Response SyncHandlers::StartSync(http::Request& r) { return Respond(r, DoStartSync(r)); }
http::Response SyncHandlers::ListStates(http::Request& r) { return Respond(r, DoListStates(r)); }
http::Response SyncHandlers::GetRun(http::Request& r) { return Respond(r, DoGetRun(r)); }
http::Response SyncHandlers::ListCalendars(http::Request& r) {
  return Respond(r, DoListCalendars(r));
}
http::Response SyncHandlers::ListEvents(http::Request& r) { return Respond(r, DoListEvents(r)); }
http::Response SyncHandlers::GetEvent(http::Request& r) { return Respond(r, DoGetEvent(r)); }
http::Response SyncHandlers::ListChanges(http::Request& r) { return Respond(r, DoListChanges(r)); }

Result<http::Response> SyncHandlers::DoStartSync(http::Request& request) {
  const tenancy::Principal& p = PrincipalOf(request);
  SB_RETURN_IF_ERROR(RequireScope(p, Scope::kWrite));
  SB_ASSIGN_OR_RETURN(ConnectionId connection, ConnectionParam(request));
  std::string service = "calendar";
  if (!request.body.empty()) {
    SB_ASSIGN_OR_RETURN(Json body, ParseJsonObject(request, {"service", "full"}));
    SB_ASSIGN_OR_RETURN(auto named, OptionalString(body, "service", 32));
    if (named) service = *named;
    if (body.contains("full") && !body["full"].is_boolean()) {
      return InvalidArgumentError("full: expected true or false");
    }
    if (body.value("full", false)) {
      SB_ASSIGN_OR_RETURN(auto run,
                          engine_.RequestRun(p.tenant_id, connection, service,
                                             store::SyncTrigger::kResync, AuditContextOf(request)));
      return http::Response::Json(202, sync::SyncRunJson(run));
    }
  }
  if (service != "calendar") {
    return InvalidArgumentError("service: only 'calendar' is synced in this version");
  }
  SB_ASSIGN_OR_RETURN(
      auto run, engine_.RequestRun(p.tenant_id, connection, service, store::SyncTrigger::kManual,
                                   AuditContextOf(request)));
  return http::Response::Json(202, sync::SyncRunJson(run));
}

Result<http::Response> SyncHandlers::DoListStates(http::Request& request) {
  const tenancy::Principal& p = PrincipalOf(request);
  SB_RETURN_IF_ERROR(RequireScope(p, Scope::kRead));
  SB_ASSIGN_OR_RETURN(ConnectionId connection, ConnectionParam(request));
  // The calendars listing checks that the connection is the tenant's.
  SB_RETURN_IF_ERROR(calendars_.Calendars(p.tenant_id, connection).status());
  SB_ASSIGN_OR_RETURN(auto states, engine_.States(p.tenant_id, connection));
  Json data = Json::array();
  for (const auto& s : states) data.push_back(sync::SyncStateJson(s));
  return http::Response::Json(200, Json{{"data", data}});
}

http::Response SyncHandlers::ListRuns(http::Request& r) { return Respond(r, DoListRuns(r)); }

Result<http::Response> SyncHandlers::DoListRuns(http::Request& request) {
  const tenancy::Principal& p = PrincipalOf(request);
  SB_RETURN_IF_ERROR(RequireScope(p, Scope::kRead));
  SB_ASSIGN_OR_RETURN(ConnectionId connection, ConnectionParam(request));
  SB_ASSIGN_OR_RETURN(int limit, PageLimit(request, 50, 200));
  std::optional<SyncRunId> before;
  if (auto cursor = request.Query("cursor")) {
    if (!IsCanonicalUuid(*cursor))
      return InvalidArgumentError("query parameter 'cursor' is not valid");
    before = SyncRunId(std::string(*cursor));
  }
  // The calendars listing checks that the connection is the tenant's.
  SB_RETURN_IF_ERROR(calendars_.Calendars(p.tenant_id, connection).status());
  SB_ASSIGN_OR_RETURN(auto runs, engine_.Runs(p.tenant_id, connection, before, limit + 1));
  const bool more = static_cast<int>(runs.size()) > limit;
  if (more) runs.resize(limit);
  Json data = Json::array();
  for (const auto& run : runs) data.push_back(sync::SyncRunJson(run));
  Json next = more ? Json(runs.back().id.value()) : Json(nullptr);
  return http::Response::Json(200, Json{{"data", data}, {"next_cursor", next}});
}

Result<http::Response> SyncHandlers::DoGetRun(http::Request& request) {
  const tenancy::Principal& p = PrincipalOf(request);
  SB_RETURN_IF_ERROR(RequireScope(p, Scope::kRead));
  const auto id = request.PathParam("id");
  if (!id || !IsCanonicalUuid(*id)) return NotFoundError("sync run not found");
  SB_ASSIGN_OR_RETURN(auto run, engine_.GetRun(p.tenant_id, SyncRunId(std::string(*id))));
  if (!run) return NotFoundError("sync run not found");
  return http::Response::Json(200, sync::SyncRunJson(*run));
}

Result<http::Response> SyncHandlers::DoListCalendars(http::Request& request) {
  const tenancy::Principal& p = PrincipalOf(request);
  SB_RETURN_IF_ERROR(RequireScope(p, Scope::kRead));
  SB_ASSIGN_OR_RETURN(ConnectionId connection, ConnectionParam(request));
  SB_ASSIGN_OR_RETURN(auto calendars, calendars_.Calendars(p.tenant_id, connection));
  return http::Response::Json(200, Json{{"data", calendars}});
}

Result<http::Response> SyncHandlers::DoListEvents(http::Request& request) {
  const tenancy::Principal& p = PrincipalOf(request);
  SB_RETURN_IF_ERROR(RequireScope(p, Scope::kRead));
  sync::calendar::EventListQuery query;
  SB_ASSIGN_OR_RETURN(query.connection, ConnectionParam(request));
  if (auto calendar = request.Query("calendar_id")) {
    if (!IsCanonicalUuid(*calendar)) return NotFoundError("calendar not found");
    query.calendar = CalendarId(std::string(*calendar));
  }
  SB_ASSIGN_OR_RETURN(auto time_min, TimeParam(request, "time_min"));
  SB_ASSIGN_OR_RETURN(auto time_max, TimeParam(request, "time_max"));
  SB_ASSIGN_OR_RETURN(query.updated_since, TimeParam(request, "updated_since"));
  query.window_start_ms = Millis(time_min);
  query.window_end_ms = Millis(time_max);
  if (auto cursor = request.Query("cursor")) {
    if (!IsCanonicalUuid(*cursor)) return InvalidArgumentError("cursor: not a cursor");
    query.after = EventId(std::string(*cursor));
  }
  SB_ASSIGN_OR_RETURN(query.limit, PageLimit(request, kDefaultLimit, kMaxLimit));
  SB_ASSIGN_OR_RETURN(query.expand_recurring, BoolParam(request, "expand_recurring"));
  SB_ASSIGN_OR_RETURN(auto listing, calendars_.Events(p.tenant_id, query));
  Json body{{"data", listing.events},
            {"next_cursor", listing.next_cursor ? Json(*listing.next_cursor) : Json(nullptr)}};
  return http::Response::Json(200, body);
}

Result<http::Response> SyncHandlers::DoGetEvent(http::Request& request) {
  const tenancy::Principal& p = PrincipalOf(request);
  SB_RETURN_IF_ERROR(RequireScope(p, Scope::kRead));
  const auto id = request.PathParam("id");
  if (!id || !IsCanonicalUuid(*id)) return NotFoundError("event not found");
  SB_ASSIGN_OR_RETURN(Json event, calendars_.Event(p.tenant_id, EventId(std::string(*id))));
  return http::Response::Json(200, event);
}

Result<http::Response> SyncHandlers::DoListChanges(http::Request& request) {
  const tenancy::Principal& p = PrincipalOf(request);
  SB_RETURN_IF_ERROR(RequireScope(p, Scope::kRead));
  SB_ASSIGN_OR_RETURN(store::ChangeFilter filter, ChangeFilterOf(request));
  SB_ASSIGN_OR_RETURN(auto changes, engine_.Changes(p.tenant_id, filter));
  Json data = Json::array();
  for (const auto& c : changes) data.push_back(sync::ChangeJson(c));
  // The cursor to resume from: the last change's, or the one given when there was none (without
  // one, 0: the start oldest first, and newest first nothing is below it).
  const int64_t next = changes.empty() ? filter.cursor.value_or(0) : changes.back().seq;
  return http::Response::Json(200,
                              Json{{"data", data},
                                   {"next_cursor", std::to_string(next)},
                                   {"has_more", static_cast<int>(changes.size()) == filter.limit}});
}

}  // namespace sb::api
