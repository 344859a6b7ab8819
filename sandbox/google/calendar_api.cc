// Google Calendar v3 routes (provider-protocols.md section 3) over CalendarStore; freeBusy is
// answered in freebusy.cc.
#include <charconv>

#include "sandbox/core/identity.h"
#include "sandbox/google/google.h"
#include "sandbox/google/google_errors.h"

#include "sb/base/check.h"
#include "sb/base/encoding.h"
#include "sb/caltime/caltime.h"

namespace sandbox::google {
namespace {

using sb::http::Request;
using sb::http::Response;

constexpr std::string_view kCalendarScopes[] = {"https://www.googleapis.com/auth/calendar",
                                                "https://www.googleapis.com/auth/calendar.events"};
constexpr std::string_view kReadOnlyScopes[] = {
    "https://www.googleapis.com/auth/calendar.readonly",
    "https://www.googleapis.com/auth/calendar.events.readonly"};

bool CanRead(const AccessToken& token) {
  for (const std::string& scope : token.scopes) {
    for (std::string_view s : kCalendarScopes)
      if (scope == s) return true;
    for (std::string_view s : kReadOnlyScopes)
      if (scope == s) return true;
  }
  return false;
}

bool CanWrite(const AccessToken& token) {
  for (const std::string& scope : token.scopes) {
    for (std::string_view s : kCalendarScopes)
      if (scope == s) return true;
  }
  return false;
}

Response JsonText(int status, std::string body) {
  return Response::Text(status, std::move(body), kJsonType);
}

Response FromStore(StoreResult result, int success_status = 200) {
  if (auto* error = std::get_if<GoogleError>(&result)) {
    if (error->code == 304) return Response::Empty(304);
    return ErrorResponse(*error);
  }
  std::string& body = std::get<std::string>(result);
  if (body.empty()) return Response::Empty(204);
  Response response = JsonText(success_status, std::move(body));
  return response;
}

bool ParseBool(std::optional<std::string_view> text) { return text && *text == "true"; }

std::vector<std::string> QueryAll(const Request& request, std::string_view name) {
  std::vector<std::string> out;
  for (const auto& [key, value] : request.query) {
    if (key == name) out.push_back(value);
  }
  return out;
}

std::string EtagOf(const std::string& body) {
  const sb::Json json = sb::Json::parse(body, nullptr, false);
  return json.is_object() ? json.value("etag", "") : "";
}

}  // namespace

PushSwitches GoogleSandbox::Switches() const {
  PushSwitches switches;
  switches.drop_rate = origin_.settings().Double("push_drop_rate");
  switches.duplicate = origin_.settings().Bool("push_duplicate");
  switches.delay_ms = origin_.settings().Int("push_delay_ms");
  switches.send_after_stop = origin_.settings().Bool("push_send_after_stop");
  return switches;
}

void GoogleSandbox::NotifyChannels(const std::string& calendar_key) {
  push_.Changed(calendar_key, NowMillis(origin_.clock()), Switches());
}

void GoogleSandbox::RegisterCalendar() {
  sb::http::Router& router = origin_.router();
  // Resolves the bearer token, the scope and the calendar of a request; on failure the
  // response to send.
  struct Target {
    AccessToken token;
    CalendarInfo calendar;
    std::string key;  // push channel key
  };
  auto resolve = [this](const Request& request, bool write) -> std::variant<Target, Response> {
    auto auth = Authenticate(request);
    if (auto* error = std::get_if<Response>(&auth)) return *error;
    AccessToken token = std::get<AccessToken>(auth);
    if (!(write ? CanWrite(token) : CanRead(token))) return InsufficientPermissions();
    const auto account = identity_.FindAccount(token.account_id);
    if (!account) return InvalidCredentials();
    std::string calendar_id(request.PathParam("calendarId").value_or("primary"));
    if (calendar_id == "primary") calendar_id = account->email;
    auto calendar = calendar_.Calendar(account->id, calendar_id);
    if (!calendar) return NotFound();
    return Target{std::move(token), *calendar, ChannelKey(*calendar)};
  };
  auto add = [&](std::string_view method, std::string_view pattern, sb::http::Handler handler) {
    SB_CHECK(router.Add(method, pattern, std::move(handler), {.authenticated = false}).ok());
  };

  add("GET", "/calendar/v3/users/me/calendarList", [this](Request& request) -> Response {
    auto auth = Authenticate(request);
    if (auto* error = std::get_if<Response>(&auth)) return *error;
    const AccessToken& token = std::get<AccessToken>(auth);
    if (!CanRead(token)) return InsufficientPermissions();
    sb::Json items = sb::Json::array();
    for (const CalendarInfo& info : calendar_.Calendars(token.account_id)) {
      items.push_back(calendar_.CalendarListEntry(info));
    }
    return Response::Json(200, {{"kind", "calendar#calendarList"},
                                {"etag", "\"p33f0000000000\""},
                                {"nextSyncToken", sb::Base64UrlEncode("calendarList")},
                                {"items", items}});
  });
  add("POST", "/calendar/v3/freeBusy", [this](Request& request) -> Response {
    auto auth = Authenticate(request);
    if (auto* error = std::get_if<Response>(&auth)) return *error;
    const AccessToken& token = std::get<AccessToken>(auth);
    if (!CanRead(token)) return InsufficientPermissions();
    return FreeBusy(request, token);
  });
  add("GET", "/calendar/v3/users/me/calendarList/{calendarId}",
      [this, resolve](Request& request) -> Response {
        auto target = resolve(request, false);
        if (auto* error = std::get_if<Response>(&target)) return *error;
        return Response::Json(200, calendar_.CalendarListEntry(std::get<Target>(target).calendar));
      });
  add("GET", "/calendar/v3/calendars/{calendarId}", [resolve](Request& request) -> Response {
    auto target = resolve(request, false);
    if (auto* error = std::get_if<Response>(&target)) return *error;
    const CalendarInfo& info = std::get<Target>(target).calendar;
    return Response::Json(200, {{"kind", "calendar#calendar"},
                                {"etag", "\"" + std::to_string(info.id.size()) + "\""},
                                {"id", info.id},
                                {"summary", info.summary},
                                {"timeZone", info.time_zone}});
  });

  // events.list: the query rules of provider-protocols.md 3.1.
  auto parse_list = [this](const Request& request, ListQuery& query) -> std::optional<Response> {
    query.single_events = ParseBool(request.Query("singleEvents"));
    query.show_deleted = ParseBool(request.Query("showDeleted"));
    query.sync_token = std::string(request.Query("syncToken").value_or(""));
    query.page_token = std::string(request.Query("pageToken").value_or(""));
    query.time_zone = std::string(request.Query("timeZone").value_or(""));
    query.q = std::string(request.Query("q").value_or(""));
    query.ical_uid = std::string(request.Query("iCalUID").value_or(""));
    query.event_types = QueryAll(request, "eventTypes");
    query.now_ms = NowMillis(origin_.clock());
    query.sync_token_ttl_ms = origin_.settings().Int("sync_token_ttl_seconds") * 1000;
    query.empty_first_page = origin_.settings().Bool("calendar_empty_pages");
    if (!query.time_zone.empty() && !sb::caltime::IsKnownZone(query.time_zone)) {
      return BadParameter("Invalid time zone definition.", "timeZone", "timeZoneInvalid");
    }
    const int64_t max_page = origin_.settings().Int("calendar_max_page_size");
    query.max_results = static_cast<size_t>(std::min<int64_t>(250, max_page));
    if (const auto text = request.Query("maxResults")) {
      int64_t value = 0;
      const auto [ptr, ec] = std::from_chars(text->data(), text->data() + text->size(), value);
      if (ec != std::errc() || ptr != text->data() + text->size() || value < 1) {
        return BadParameter("Invalid value for: maxResults", "maxResults");
      }
      query.max_results = static_cast<size_t>(std::min(value, max_page));
    }
    const std::string order(request.Query("orderBy").value_or(""));
    if (!order.empty() && order != "startTime" && order != "updated") {
      return BadParameter("Invalid value for: orderBy", "orderBy");
    }
    if (order == "startTime" && !query.single_events) {
      return BadParameter("The requested ordering is not available for the particular query.",
                          "orderBy", "badRequest");
    }
    query.order_by_start = order == "startTime";
    for (const char* name : {"timeMin", "timeMax", "updatedMin"}) {
      const auto text = request.Query(name);
      if (!text) continue;
      auto value = sb::caltime::ParseRfc3339(*text);
      if (!value.ok()) return BadParameter("Bad Request", name, "badRequest");
      if (std::string_view(name) == "timeMin") query.time_min_ms = *value;
      if (std::string_view(name) == "timeMax") query.time_max_ms = *value;
      if (std::string_view(name) == "updatedMin") query.updated_min_ms = *value;
    }
    if (query.time_min_ms && query.time_max_ms && *query.time_min_ms >= *query.time_max_ms) {
      return ErrorResponse({400, "calendar", "timeRangeEmpty", "The specified time range is empty.",
                            "parameter", "timeMax"});
    }
    for (const char* name : {"privateExtendedProperty", "sharedExtendedProperty"}) {
      for (const std::string& pair : QueryAll(request, name)) {
        const size_t eq = pair.find('=');
        if (eq == std::string::npos)
          return BadParameter("Invalid value for: " + std::string(name), name);
        auto& list = std::string_view(name) == "privateExtendedProperty" ? query.private_properties
                                                                         : query.shared_properties;
        list.emplace_back(pair.substr(0, eq), pair.substr(eq + 1));
      }
    }
    if (!query.sync_token.empty()) {
      for (const char* name : {"iCalUID", "orderBy", "privateExtendedProperty", "q",
                               "sharedExtendedProperty", "timeMin", "timeMax", "updatedMin"}) {
        if (request.Query(name)) {
          return BadParameter(
              "The '" + std::string(name) + "' parameter is not compatible with syncToken.", name);
        }
      }
      if (request.Query("showDeleted") == std::optional<std::string_view>("false")) {
        return BadParameter("The 'showDeleted=false' parameter is not compatible with syncToken.",
                            "showDeleted");
      }
    }
    return std::nullopt;
  };

  add("GET", "/calendar/v3/calendars/{calendarId}/events",
      [this, resolve, parse_list](Request& request) -> Response {
        auto target = resolve(request, false);
        if (auto* error = std::get_if<Response>(&target)) return *error;
        ListQuery query;
        if (auto error = parse_list(request, query)) return *error;
        return FromStore(calendar_.List(std::get<Target>(target).calendar, query));
      });
  add("POST", "/calendar/v3/calendars/{calendarId}/events",
      [this, resolve](Request& request) -> Response {
        auto target = resolve(request, true);
        if (auto* error = std::get_if<Response>(&target)) return *error;
        auto body = ParseJsonBody(request);
        if (!body.ok()) return ErrorResponse({400, "global", "parseError", "Parse Error"});
        const Target& t = std::get<Target>(target);
        Response response =
            FromStore(calendar_.Insert(t.calendar, *body, NowMillis(origin_.clock())));
        if (response.status == 200) NotifyChannels(t.key);
        return response;
      });
  add("GET", "/calendar/v3/calendars/{calendarId}/events/{eventId}",
      [this, resolve](Request& request) -> Response {
        auto target = resolve(request, false);
        if (auto* error = std::get_if<Response>(&target)) return *error;
        Response response = FromStore(calendar_.Get(
            std::get<Target>(target).calendar, std::string(*request.PathParam("eventId")),
            std::string(request.Query("timeZone").value_or("")),
            std::string(request.Header("If-None-Match").value_or(""))));
        if (response.status == 200) response.SetHeader("ETag", EtagOf(response.body));
        return response;
      });
  auto write = [this, resolve](bool replace) {
    return [this, resolve, replace](Request& request) -> Response {
      auto target = resolve(request, true);
      if (auto* error = std::get_if<Response>(&target)) return *error;
      auto body = ParseJsonBody(request);
      if (!body.ok()) return ErrorResponse({400, "global", "parseError", "Parse Error"});
      const Target& t = std::get<Target>(target);
      Response response = FromStore(calendar_.Write(
          t.calendar, std::string(*request.PathParam("eventId")), *body, replace,
          std::string(request.Header("If-Match").value_or("")), NowMillis(origin_.clock())));
      if (response.status == 200) NotifyChannels(t.key);
      return response;
    };
  };
  add("PUT", "/calendar/v3/calendars/{calendarId}/events/{eventId}", write(true));
  add("PATCH", "/calendar/v3/calendars/{calendarId}/events/{eventId}", write(false));
  add("DELETE", "/calendar/v3/calendars/{calendarId}/events/{eventId}",
      [this, resolve](Request& request) -> Response {
        auto target = resolve(request, true);
        if (auto* error = std::get_if<Response>(&target)) return *error;
        const Target& t = std::get<Target>(target);
        Response response = FromStore(calendar_.Delete(
            t.calendar, std::string(*request.PathParam("eventId")),
            std::string(request.Header("If-Match").value_or("")), NowMillis(origin_.clock())));
        if (response.status == 204) NotifyChannels(t.key);
        return response;
      });
  add("GET", "/calendar/v3/calendars/{calendarId}/events/{eventId}/instances",
      [this, resolve](Request& request) -> Response {
        auto target = resolve(request, false);
        if (auto* error = std::get_if<Response>(&target)) return *error;
        ListQuery query;
        query.show_deleted = ParseBool(request.Query("showDeleted"));
        query.page_token = std::string(request.Query("pageToken").value_or(""));
        query.time_zone = std::string(request.Query("timeZone").value_or(""));
        if (const auto text = request.Query("maxResults")) {
          int64_t value = 0;
          std::from_chars(text->data(), text->data() + text->size(), value);
          if (value < 1) return BadParameter("Invalid value for: maxResults", "maxResults");
          query.max_results = static_cast<size_t>(std::min<int64_t>(value, 2500));
        }
        for (const char* name : {"timeMin", "timeMax"}) {
          if (const auto text = request.Query(name)) {
            auto value = sb::caltime::ParseRfc3339(*text);
            if (!value.ok()) return BadParameter("Bad Request", name, "badRequest");
            (std::string_view(name) == "timeMin" ? query.time_min_ms : query.time_max_ms) = *value;
          }
        }
        return FromStore(calendar_.Instances(std::get<Target>(target).calendar,
                                             std::string(*request.PathParam("eventId")), query));
      });

  add("POST", "/calendar/v3/calendars/{calendarId}/events/watch",
      [this, resolve](Request& request) -> Response {
        auto target = resolve(request, false);
        if (auto* error = std::get_if<Response>(&target)) return *error;
        const Target& t = std::get<Target>(target);
        auto body = ParseJsonBody(request);
        if (!body.ok() || !body->is_object()) {
          return ErrorResponse({400, "global", "parseError", "Parse Error"});
        }
        Channel channel;
        channel.id = body->value("id", "");
        const std::string type = body->value("type", "");
        channel.address = body->value("address", "");
        channel.token = body->value("token", "");
        if (channel.id.empty() || channel.id.size() > 64) {
          return ErrorResponse({400, "global", "required", "Required", "parameter", "id"});
        }
        if (type != "web_hook" && type != "webhook") {
          return ErrorResponse({400, "push", "pushChannelTypeUnsupported",
                                "Unsupported push channel type: " + type});
        }
        if (!channel.address.starts_with("https://") && !channel.address.starts_with("http://")) {
          return ErrorResponse({400, "push", "pushWebhookBadDomain",
                                "WebHook callback must be HTTPS: " + channel.address});
        }
        if (channel.token.size() > 256) {
          return ErrorResponse({400, "global", "invalid", "Invalid token"});
        }
        const int64_t now = NowMillis(origin_.clock());
        int64_t ttl_s = origin_.settings().Int("channel_default_ttl_seconds");
        if (body->contains("params") && (*body)["params"].contains("ttl")) {
          const auto& ttl = (*body)["params"]["ttl"];
          if (ttl.is_string())
            std::from_chars(
                ttl.get_ref<const std::string&>().data(),
                ttl.get_ref<const std::string&>().data() + ttl.get_ref<const std::string&>().size(),
                ttl_s);
          if (ttl.is_number_integer()) ttl_s = ttl.get<int64_t>();
        }
        int64_t expiration = now + ttl_s * 1000;
        if (body->contains("expiration")) {
          const auto& exp = (*body)["expiration"];
          int64_t requested = 0;
          if (exp.is_string()) {
            const std::string& text = exp.get_ref<const std::string&>();
            std::from_chars(text.data(), text.data() + text.size(), requested);
          } else if (exp.is_number_integer()) {
            requested = exp.get<int64_t>();
          }
          if (requested > now) expiration = requested;
        }
        expiration =
            std::min(expiration, now + origin_.settings().Int("channel_max_ttl_seconds") * 1000);
        channel.expiration_ms = expiration;
        channel.calendar_key = t.key;
        channel.account_id = t.token.account_id;
        channel.resource_id = sb::Base64UrlEncode(Sha256(t.key).substr(0, 15));
        channel.resource_uri = "https://www.googleapis.com/calendar/v3/calendars/" + t.calendar.id +
                               "/events?alt=json";
        if (sb::Status watched = push_.Watch(channel, Switches()); !watched.ok()) {
          return ErrorResponse({400, "push", "channelIdNotUnique", "Channel id not unique"});
        }
        sb::Json out = {{"kind", "api#channel"},
                        {"id", channel.id},
                        {"resourceId", channel.resource_id},
                        {"resourceUri", channel.resource_uri},
                        {"expiration", std::to_string(channel.expiration_ms)}};
        if (!channel.token.empty()) out["token"] = channel.token;
        return Response::Json(200, out);
      });
  add("POST", "/calendar/v3/channels/stop", [this](Request& request) -> Response {
    auto auth = Authenticate(request);
    if (auto* error = std::get_if<Response>(&auth)) return *error;
    auto body = ParseJsonBody(request);
    if (!body.ok() || !body->is_object()) {
      return ErrorResponse({400, "global", "parseError", "Parse Error"});
    }
    const sb::Status stopped = push_.Stop(body->value("id", ""), body->value("resourceId", ""),
                                          std::get<AccessToken>(auth).account_id, Switches());
    if (!stopped.ok()) return ErrorResponse({404, "global", "notFound", stopped.message()});
    return Response::Empty(204);
  });
}

}  // namespace sandbox::google
