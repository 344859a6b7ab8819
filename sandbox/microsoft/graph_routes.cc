// Graph user, calendars, events, calendarView and calendarView delta (provider-protocols.md
// 7-8) and calendar/getSchedule (answered in schedule.cc), registered for /v1.0/me/... and
// /v1.0/users/{user}/....
#include <algorithm>
#include <charconv>
#include <map>

#include "sandbox/core/url.h"
#include "sandbox/microsoft/graph_common.h"
#include "sandbox/microsoft/microsoft.h"

#include "sb/base/check.h"
#include "sb/base/encoding.h"
#include "sb/caltime/windows_zones.h"

namespace sandbox::microsoft {
namespace {

using sb::http::Request;
using sb::http::Response;

// Every Prefer preference of the request (all Prefer headers, comma-separated lists), with
// quotes around values removed.
std::map<std::string, std::string, std::less<>> Preferences(const Request& request) {
  std::map<std::string, std::string, std::less<>> out;
  for (const auto& [name, value] : request.headers) {
    if (!sb::http::EqualsIgnoreCase(name, "Prefer")) continue;
    size_t at = 0;
    while (at <= value.size()) {
      size_t end = value.find(',', at);
      if (end == std::string::npos) end = value.size();
      std::string item = value.substr(at, end - at);
      const size_t first = item.find_first_not_of(' ');
      const size_t last = item.find_last_not_of(' ');
      if (first != std::string::npos) item = item.substr(first, last - first + 1);
      const size_t eq = item.find('=');
      std::string key = item.substr(0, eq);
      std::string val = eq == std::string::npos ? "" : item.substr(eq + 1);
      if (val.size() >= 2 && val.front() == '"' && val.back() == '"') {
        val = val.substr(1, val.size() - 2);
      }
      if (!key.empty()) out.emplace(std::move(key), std::move(val));
      at = end + 1;
    }
  }
  return out;
}

// The zone to render times in and, when a valid outlook.timezone was asked for, the
// Preference-Applied value.
RenderZone ZoneFor(const Request& request, Response* applied_to) {
  const auto prefs = Preferences(request);
  const auto it = prefs.find("outlook.timezone");
  if (it == prefs.end()) return {};
  auto iana = sb::caltime::ResolveZone(it->second);
  if (!iana.ok()) return {};
  if (applied_to) {
    applied_to->SetHeader("Preference-Applied", "outlook.timezone=\"" + it->second + "\"");
  }
  return {*iana, it->second};
}

std::optional<int64_t> ParseQueryTime(std::string text) {
  std::replace(text.begin(), text.end(), ' ', '+');  // a '+' offset decoded as a space
  const bool has_offset = text.size() > 19 && (text.back() == 'Z' || text.back() == 'z' ||
                                               text[text.size() - 3] == ':');
  auto parsed = has_offset ? sb::caltime::ParseRfc3339(text) : sb::caltime::LocalToUtc(text, "UTC");
  if (!parsed.ok()) return std::nullopt;
  return *parsed;
}

std::optional<size_t> QueryCount(const Request& request, std::string_view name) {
  const auto text = request.Query(name);
  if (!text) return std::nullopt;
  size_t value = 0;
  const auto [end, error] = std::from_chars(text->data(), text->data() + text->size(), value);
  if (error != std::errc() || end != text->data() + text->size()) return std::nullopt;
  return value;
}

Response FailureResponse(const Request& request, const Failure& failure) {
  return GraphError(request, failure.status, failure.code, failure.message);
}

// A delta round's state as carried by $skiptoken / $deltatoken: opaque base64url JSON.
struct DeltaState {
  std::string account_id;
  DeltaCursor cursor;
  int64_t epoch = 0;
};

std::string EncodeDelta(const DeltaState& state) {
  const sb::Json json = {{"a", state.account_id},      {"s", state.cursor.start_ms},
                         {"e", state.cursor.end_ms},   {"i", state.cursor.since},
                         {"n", state.cursor.snapshot}, {"p", state.cursor.pos_seq},
                         {"u", state.cursor.pos_sub},  {"g", state.epoch}};
  return sb::Base64UrlEncode(json.dump());
}

std::optional<DeltaState> DecodeDelta(std::string_view token) {
  const auto text = sb::Base64UrlDecode(token);
  if (!text) return std::nullopt;
  const sb::Json json = sb::Json::parse(*text, nullptr, /*allow_exceptions=*/false);
  if (!json.is_object()) return std::nullopt;
  try {
    DeltaState state;
    state.account_id = json.at("a").get<std::string>();
    state.cursor = {json.at("s").get<int64_t>(), json.at("e").get<int64_t>(),
                    json.at("i").get<int64_t>(), json.at("n").get<int64_t>(),
                    json.at("p").get<int64_t>(), json.at("u").get<int64_t>()};
    state.epoch = json.at("g").get<int64_t>();
    return state;
  } catch (const sb::Json::exception&) {
    return std::nullopt;
  }
}

sb::Json UserJson(const Account& account, const std::string& base) {
  const bool personal = account.tenant_id == kPersonalTenantId;
  return {{"@odata.context", base + "/v1.0/$metadata#users/$entity"},
          {"businessPhones", sb::Json::array()},
          {"displayName", account.name},
          {"givenName", account.given_name},
          {"surname", account.family_name},
          {"jobTitle", nullptr},
          {"mail", personal ? sb::Json() : sb::Json(account.email)},
          {"mobilePhone", nullptr},
          {"officeLocation", nullptr},
          {"preferredLanguage", "en-US"},
          {"userPrincipalName", account.email},
          {"id", account.id}};
}

sb::Json CalendarJson(const Calendar& calendar) {
  return {{"id", calendar.id},
          {"name", calendar.name},
          {"color", "auto"},
          {"hexColor", ""},
          {"isDefaultCalendar", true},
          {"changeKey", calendar.change_key},
          {"canShare", true},
          {"canViewPrivateItems", true},
          {"canEdit", true},
          {"allowedOnlineMeetingProviders", {"teamsForBusiness"}},
          {"defaultOnlineMeetingProvider", "teamsForBusiness"},
          {"isTallyingResponses", true},
          {"isRemovable", false},
          {"owner", {{"name", calendar.owner_name}, {"address", calendar.owner_address}}}};
}

// The absolute link to this request's path with `query` (names and values as given; values
// must already be URL-safe).
std::string LinkTo(const std::string& base, const Request& request,
                   const std::vector<std::pair<std::string, std::string>>& query) {
  std::string link = base + request.path;
  char separator = '?';
  for (const auto& [name, value] : query) {
    link += separator + name + "=" + value;
    separator = '&';
  }
  return link;
}

}  // namespace

std::variant<MicrosoftSandbox::Principal, Response> MicrosoftSandbox::Authenticate(
    const Request& request, Need need) const {
  auto unauthorized = [&](std::string_view message) {
    Response response = GraphError(request, 401, "InvalidAuthenticationToken", message);
    response.SetHeader(
        "WWW-Authenticate",
        "Bearer realm=\"\", authorization_uri=\"https://login.microsoftonline.com/"
        "common/oauth2/authorize\", client_id=\"00000003-0000-0000-c000-000000000000\"");
    return response;
  };
  const auto header = request.Header("Authorization");
  if (!header || header->size() <= 7 ||
      !sb::http::EqualsIgnoreCase(header->substr(0, 7), "bearer ")) {
    return unauthorized("Access token is empty.");
  }
  auto authenticated = identity_.Authenticate(header->substr(7), Now());
  if (auto* error = std::get_if<TokenError>(&authenticated)) {
    return unauthorized(*error == TokenError::kExpired
                            ? "Lifetime validation failed, the token is expired."
                            : "IDX14100: JWT is not well formed, there are no dots (.).");
  }
  Principal principal{std::get<AccessToken>(std::move(authenticated)), {}};
  auto account = identity_.FindAccount(principal.token.account_id);
  if (!account) return unauthorized("The user or application does not exist.");
  principal.account = std::move(*account);
  const auto& scopes = principal.token.scopes;
  auto has = [&](std::string_view scope) {
    return std::find(scopes.begin(), scopes.end(), scope) != scopes.end() ||
           std::find(scopes.begin(), scopes.end(), ".default") != scopes.end();
  };
  const bool allowed =
      need == Need::kNone ||
      (need == Need::kCalendarRead && (has("Calendars.Read") || has("Calendars.ReadWrite"))) ||
      (need == Need::kCalendarWrite && has("Calendars.ReadWrite"));
  if (!allowed) {
    return GraphError(request, 403, "ErrorAccessDenied",
                      "Access is denied. Check credentials and try again.");
  }
  if (const auto user = request.PathParam("user")) {
    if (*user != principal.account.id &&
        !sb::http::EqualsIgnoreCase(*user, principal.account.email)) {
      return GraphError(request, 403, "ErrorAccessDenied",
                        "Access is denied. Check credentials and try again.");
    }
  }
  return principal;
}

void MicrosoftSandbox::AddGraph(std::string_view method, std::string_view me_pattern, Need need,
                                GraphHandler handler) {
  SB_CHECK(me_pattern.starts_with("/me"));
  auto wrapped = [this, need, handler](Request& request) {
    auto principal = Authenticate(request, need);
    if (auto* denied = std::get_if<Response>(&principal)) return std::move(*denied);
    return handler(request, std::get<Principal>(principal));
  };
  const std::string me = "/v1.0" + std::string(me_pattern);
  const std::string users = "/v1.0/users/{user}" + std::string(me_pattern.substr(3));
  SB_CHECK(origin_.router().Add(method, me, wrapped).ok());
  SB_CHECK(origin_.router().Add(method, users, wrapped).ok());
}

Response MicrosoftSandbox::CreateEvent(Request& request, const Principal& principal,
                                       const std::string& calendar_id) {
  const sb::Json body = sb::Json::parse(request.body, nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded() || !body.is_object()) {
    return GraphError(request, 400, "RequestBodyRead",
                      "Invalid JSON. A token was not recognized in the JSON content.");
  }
  std::vector<Change> changes;
  auto created = events_.Create(principal.account.id, calendar_id, body, Now(), changes);
  if (auto* failure = std::get_if<Failure>(&created)) return FailureResponse(request, *failure);
  Notify(changes);
  const Event& event = std::get<Event>(created);
  const std::string base = origin_.UrlFor(request);
  Response response = Response::Empty(201);
  sb::Json json = RenderEvent(event, ZoneFor(request, &response), false);
  json["@odata.context"] =
      base + "/v1.0/$metadata#users('" + principal.account.id + "')/events/$entity";
  response.body = json.dump(-1, ' ', false, sb::Json::error_handler_t::replace);
  response.SetHeader("Content-Type", kGraphJsonType);
  response.SetHeader(
      "Location", base + "/v1.0/users('" + principal.account.id + "')/events('" + event.id + "')");
  return response;
}

void MicrosoftSandbox::RegisterGraph() {
  AddGraph("GET", "/me", Need::kNone, [this](Request& request, const Principal& principal) {
    return GraphJson(200, UserJson(principal.account, origin_.UrlFor(request)));
  });
  AddGraph("GET", "/me/calendars", Need::kCalendarRead,
           [this](Request& request, const Principal& principal) {
             sb::Json value = sb::Json::array();
             for (const Calendar& c : events_.Calendars(principal.account.id)) {
               value.push_back(CalendarJson(c));
             }
             return GraphJson(
                 200, {{"@odata.context", origin_.UrlFor(request) + "/v1.0/$metadata#users('" +
                                              principal.account.id + "')/calendars"},
                       {"value", value}});
           });
  AddGraph("GET", "/me/calendars/{calendar}", Need::kCalendarRead,
           [this](Request& request, const Principal& principal) {
             for (const Calendar& c : events_.Calendars(principal.account.id)) {
               if (c.id == *request.PathParam("calendar")) return GraphJson(200, CalendarJson(c));
             }
             return GraphError(request, 404, "ErrorItemNotFound",
                               "The specified object was not found in the store.");
           });
  auto list = [this](Request& request, const Principal& principal) {
    const std::string calendar(request.PathParam("calendar").value_or(""));
    if (!calendar.empty() && !events_.HasCalendar(principal.account.id, calendar)) {
      return GraphError(request, 404, "ErrorItemNotFound",
                        "The specified object was not found in the store.");
    }
    const size_t max = static_cast<size_t>(origin_.settings().Int("max_page_size"));
    const size_t top = std::clamp<size_t>(QueryCount(request, "$top").value_or(10), 1, max);
    const size_t skip = QueryCount(request, "$skip").value_or(0);
    Response response;
    const RenderZone zone = ZoneFor(request, &response);
    std::string path_name = "events";
    Page page;
    const bool instances = request.path.ends_with("/instances");
    if (request.path.ends_with("/calendarView") || instances) {
      const auto start = ParseQueryTime(std::string(request.Query("startDateTime").value_or("")));
      const auto end = ParseQueryTime(std::string(request.Query("endDateTime").value_or("")));
      if (!start || !end) {
        return GraphError(request, 400, "ErrorInvalidParameter",
                          "This request requires a time window specified by the query string "
                          "parameters StartDateTime and EndDateTime.");
      }
      std::string series;
      if (instances) {
        series = std::string(*request.PathParam("id"));
        auto master = events_.Get(principal.account.id, series);
        if (auto* failure = std::get_if<Failure>(&master))
          return FailureResponse(request, *failure);
        if (std::get<Event>(master).type != "seriesMaster") {
          return GraphError(request, 400, "ErrorInvalidRequest",
                            "The event is not the master of a recurring series.");
        }
      }
      page = events_.View(principal.account.id, calendar, *start, *end, skip, top, zone, series);
      path_name = instances ? "events('" + series + "')/instances" : "calendarView";
    } else {
      page = events_.List(principal.account.id, calendar, skip, top, zone);
    }
    const std::string base = origin_.UrlFor(request);
    sb::Json body = {{"@odata.context",
                      base + "/v1.0/$metadata#users('" + principal.account.id + "')/" + path_name}};
    if (page.more) {
      std::vector<std::pair<std::string, std::string>> query;
      for (const auto& [name, value] : request.query) {
        if (name != "$skip" && name != "$top") query.emplace_back(name, sb::PercentEncode(value));
      }
      query.emplace_back("$top", std::to_string(top));
      query.emplace_back("$skip", std::to_string(skip + top));
      body["@odata.nextLink"] = LinkTo(base, request, query);
    }
    Response json = GraphCollection(body, page.items);
    for (const auto& [name, value] : response.headers) json.SetHeader(name, value);
    return json;
  };
  AddGraph("GET", "/me/events", Need::kCalendarRead, list);
  AddGraph("GET", "/me/calendars/{calendar}/events", Need::kCalendarRead, list);
  AddGraph("GET", "/me/calendarView", Need::kCalendarRead, list);
  AddGraph("GET", "/me/calendars/{calendar}/calendarView", Need::kCalendarRead, list);
  AddGraph("GET", "/me/events/{id}/instances", Need::kCalendarRead, list);
  AddGraph("POST", "/me/events", Need::kCalendarWrite,
           [this](Request& request, const Principal& principal) {
             return CreateEvent(request, principal, "");
           });
  AddGraph("POST", "/me/calendars/{calendar}/events", Need::kCalendarWrite,
           [this](Request& request, const Principal& principal) {
             return CreateEvent(request, principal, std::string(*request.PathParam("calendar")));
           });
  AddGraph("GET", "/me/events/{id}", Need::kCalendarRead,
           [this](Request& request, const Principal& principal) {
             auto event = events_.Get(principal.account.id, std::string(*request.PathParam("id")));
             if (auto* failure = std::get_if<Failure>(&event)) {
               return FailureResponse(request, *failure);
             }
             Response response;
             sb::Json json =
                 RenderEvent(std::get<Event>(event), ZoneFor(request, &response), false);
             json["@odata.context"] = origin_.UrlFor(request) + "/v1.0/$metadata#users('" +
                                      principal.account.id + "')/events/$entity";
             Response out = GraphJson(200, json);
             for (const auto& [name, value] : response.headers) out.SetHeader(name, value);
             return out;
           });
  AddGraph(
      "PATCH", "/me/events/{id}", Need::kCalendarWrite,
      [this](Request& request, const Principal& principal) {
        const sb::Json body = sb::Json::parse(request.body, nullptr, false);
        if (body.is_discarded() || !body.is_object()) {
          return GraphError(request, 400, "RequestBodyRead",
                            "Invalid JSON. A token was not recognized in the JSON content.");
        }
        std::vector<Change> changes;
        auto updated = events_.Update(principal.account.id, std::string(*request.PathParam("id")),
                                      body, request.Header("If-Match"), Now(), changes);
        if (auto* failure = std::get_if<Failure>(&updated)) {
          return FailureResponse(request, *failure);
        }
        Notify(changes);
        Response response;
        sb::Json json = RenderEvent(std::get<Event>(updated), ZoneFor(request, &response), false);
        json["@odata.context"] = origin_.UrlFor(request) + "/v1.0/$metadata#users('" +
                                 principal.account.id + "')/events/$entity";
        Response out = GraphJson(200, json);
        for (const auto& [name, value] : response.headers) out.SetHeader(name, value);
        return out;
      });
  AddGraph("DELETE", "/me/events/{id}", Need::kCalendarWrite,
           [this](Request& request, const Principal& principal) {
             std::vector<Change> changes;
             if (auto failure = events_.Delete(
                     principal.account.id, std::string(*request.PathParam("id")), Now(), changes)) {
               return FailureResponse(request, *failure);
             }
             Notify(changes);
             return Response::Empty(204);
           });
  // Graph paths are case-insensitive; clients send both spellings (Microsoft's own guide uses
  // the lower-case one).
  for (const char* path : {"/me/calendar/getSchedule", "/me/calendar/getschedule"}) {
    AddGraph("POST", path, Need::kCalendarRead,
             [this](Request& request, const Principal& principal) {
               Response headers;
               const RenderZone zone = ZoneFor(request, &headers);
               Response out = GetSchedule(request, principal, zone);
               for (const auto& [name, value] : headers.headers) out.SetHeader(name, value);
               return out;
             });
  }
  auto delta = [this](Request& request, const Principal& principal) {
    return Delta(request, principal);
  };
  AddGraph("GET", "/me/calendarView/delta", Need::kCalendarRead, delta);
  AddGraph("GET", "/me/calendars/{calendar}/calendarView/delta", Need::kCalendarRead, delta);
}

Response MicrosoftSandbox::Delta(Request& request, const Principal& principal) {
  Response headers;
  const RenderZone zone = ZoneFor(request, &headers);
  size_t page_size = static_cast<size_t>(origin_.settings().Int("default_page_size"));
  const auto prefs = Preferences(request);
  if (const auto it = prefs.find("odata.maxpagesize"); it != prefs.end()) {
    size_t asked = 0;
    const auto [end, error] =
        std::from_chars(it->second.data(), it->second.data() + it->second.size(), asked);
    if (error == std::errc() && asked > 0) {
      page_size = std::min<size_t>(asked, origin_.settings().Int("max_page_size"));
      std::string applied = "odata.maxpagesize=" + std::to_string(page_size);
      if (const auto tz = headers.Header("Preference-Applied")) applied += ", " + std::string(*tz);
      headers.SetHeader("Preference-Applied", applied);
    }
  }
  const std::string base = origin_.UrlFor(request);
  const std::string skip_token(request.Query("$skiptoken").value_or(""));
  const std::string delta_token(request.Query("$deltatoken").value_or(""));
  DeltaState state;
  if (!skip_token.empty() || !delta_token.empty()) {
    auto decoded = DecodeDelta(skip_token.empty() ? delta_token : skip_token);
    if (!decoded || decoded->account_id != principal.account.id) {
      return GraphError(request, 400, "BadRequest", "The delta or skip token is malformed.");
    }
    state = std::move(*decoded);
    if (state.epoch < reset_before_.load()) {
      Response gone = GraphError(request, 410, "resyncRequired",
                                 "Resync required. Replace any local items with the server's "
                                 "items. To avoid data loss, fetch all items again.");
      gone.SetHeader("Location",
                     LinkTo(base, request,
                            {{"startDateTime", sb::caltime::FormatUtcMillis(state.cursor.start_ms)},
                             {"endDateTime", sb::caltime::FormatUtcMillis(state.cursor.end_ms)},
                             {"$deltatoken", ""}}));
      return gone;
    }
    if (state.epoch < expired_before_.load()) {
      return GraphError(request, 410, "syncStateNotFound",
                        "The sync state generation was not found. The delta token is expired; "
                        "data must be resynchronized.");
    }
    if (skip_token.empty()) {
      // delta_replay_changes: the new round starts a few changes early, so recent changes
      // arrive again (Graph documents replays between rounds).
      const int64_t replay = origin_.settings().Int("delta_replay_changes");
      state.cursor.since = std::max<int64_t>(0, state.cursor.snapshot - replay);
      // A lag never moves a round backwards: it only holds back changes not yet reported.
      state.cursor.snapshot = std::max(state.cursor.since, Snapshot(principal.account.id));
      state.cursor.pos_seq = state.cursor.since + 1;
      state.cursor.pos_sub = 0;
    }
  } else {
    const auto start = ParseQueryTime(std::string(request.Query("startDateTime").value_or("")));
    const auto end = ParseQueryTime(std::string(request.Query("endDateTime").value_or("")));
    if (!start || !end) {
      return GraphError(request, 400, "ErrorInvalidParameter",
                        "This request requires a time window specified by the query string "
                        "parameters StartDateTime and EndDateTime.");
    }
    state.account_id = principal.account.id;
    state.cursor = {*start, *end, 0, Snapshot(principal.account.id), 1, 0};
  }
  const Page page = events_.Delta(principal.account.id, state.cursor, page_size, zone);
  state.epoch = delta_epoch_.load();
  sb::Json body = {{"@odata.context", base + "/v1.0/$metadata#Collection(event)"}};
  if (page.more) {
    body["@odata.nextLink"] = LinkTo(base, request, {{"$skiptoken", EncodeDelta(state)}});
  } else {
    body["@odata.deltaLink"] = LinkTo(base, request, {{"$deltatoken", EncodeDelta(state)}});
  }
  Response response = GraphCollection(body, page.items);
  for (const auto& [name, value] : headers.headers) response.SetHeader(name, value);
  return response;
}

}  // namespace sandbox::microsoft
