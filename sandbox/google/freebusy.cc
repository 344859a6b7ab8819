// calendar.freebusy.query (POST /calendar/v3/freeBusy): the busy time of the account's
// calendars, computed from CalendarStore's events with series expanded. Calendars the account
// does not have get a notFound entry rather than failing the request, as Google does.
#include <algorithm>

#include "sandbox/core/identity.h"
#include "sandbox/google/google.h"
#include "sandbox/google/google_errors.h"

#include "sb/caltime/recurrence.h"

namespace sandbox::google {
namespace {

using sb::http::Request;
using sb::http::Response;
using Event = CalendarStore::Event;

constexpr int64_t kMaxCalendars = 50;        // calendarExpansionMax's documented maximum
constexpr int64_t kMaxGroupExpansion = 100;  // groupExpansionMax's documented maximum
constexpr size_t kMaxInstancesPerSeries = 730;
constexpr int64_t kDayMs = 86'400'000;

// Whether the event takes time: not cancelled, opaque, not a working-location marker and not
// declined by the calendar's owner. The resource is client JSON, so types are checked.
bool Blocks(const Event& event) {
  if (event.cancelled) return false;
  const sb::Json& resource = event.resource;
  const auto transparency = resource.find("transparency");
  if (transparency != resource.end() && *transparency == "transparent") return false;
  const auto type = resource.find("eventType");
  if (type != resource.end() && *type == "workingLocation") return false;
  const auto attendees = resource.find("attendees");
  if (attendees == resource.end() || !attendees->is_array()) return true;
  for (const sb::Json& attendee : *attendees) {
    if (!attendee.is_object()) continue;
    const auto self = attendee.find("self");
    const auto response = attendee.find("responseStatus");
    if (self != attendee.end() && *self == true && response != attendee.end() &&
        *response == "declined") {
      return false;
    }
  }
  return true;
}

// The instant an event time stands for: an all-day date begins at midnight in `zone`.
int64_t InstantOf(const sb::caltime::EventTime& time, const std::string& zone) {
  if (!time.all_day) return time.utc_ms;
  const auto midnight =
      sb::caltime::LocalToUtc(sb::caltime::FormatDate(time.utc_ms) + "T00:00:00", zone);
  return midnight.ok() ? *midnight : time.utc_ms;
}

// The instances of `series` near [from_ms, to_ms) that have no exception of their own (the
// exception, moved or cancelled, speaks for its slot).
void AddInstances(const Event& series, const CalendarStore::Data& data, int64_t from_ms,
                  int64_t to_ms, std::vector<BusyInterval>& out) {
  const int64_t duration = series.end.utc_ms - series.start.utc_ms;
  // A day of slack each side: all-day slots are UTC midnights, the zone moves them.
  const int64_t from = std::max(from_ms - duration - kDayMs, series.start.utc_ms);
  auto starts = sb::caltime::ExpandRecurrence(series.start, series.recurrence, from, to_ms + kDayMs,
                                              kMaxInstancesPerSeries);
  if (!starts.ok()) return;
  const std::string& zone = data.info.time_zone;
  for (const sb::caltime::EventTime& slot : *starts) {
    if (data.events.count(series.id + "_" + sb::caltime::InstanceIdSuffix(slot))) continue;
    sb::caltime::EventTime end = slot;
    end.utc_ms += duration;
    out.push_back({InstantOf(slot, zone), InstantOf(end, zone)});
  }
}

// Clips the spans to [from_ms, to_ms), sorts them and merges those that overlap or touch.
std::vector<BusyInterval> Merge(std::vector<BusyInterval> spans, int64_t from_ms, int64_t to_ms) {
  for (BusyInterval& span : spans) {
    span.start_ms = std::max(span.start_ms, from_ms);
    span.end_ms = std::min(span.end_ms, to_ms);
  }
  std::erase_if(spans, [](const BusyInterval& span) { return span.end_ms <= span.start_ms; });
  std::sort(spans.begin(), spans.end(),
            [](const BusyInterval& a, const BusyInterval& b) { return a.start_ms < b.start_ms; });
  std::vector<BusyInterval> merged;
  for (const BusyInterval& span : spans) {
    if (!merged.empty() && span.start_ms <= merged.back().end_ms) {
      merged.back().end_ms = std::max(merged.back().end_ms, span.end_ms);
    } else {
      merged.push_back(span);
    }
  }
  return merged;
}

struct FreeBusyQuery {
  int64_t min_ms = 0;
  int64_t max_ms = 0;
  std::string time_zone = "UTC";
  std::vector<std::string> ids;  // as requested ("primary" stays "primary")
};

GoogleError ParameterError(std::string domain, std::string reason, std::string message,
                           std::string name) {
  GoogleError error{400, std::move(domain), std::move(reason), std::move(message)};
  error.location_type = "parameter";
  error.location = std::move(name);
  return error;
}

GoogleError Required(const std::string& name) {
  return ParameterError("global", "required", "Missing " + name + " parameter.", name);
}

GoogleError InvalidValue(const std::string& name) {
  return ParameterError("global", "invalid", "Invalid value for: " + name, name);
}

GoogleError TooManyCalendars() {
  return {400, "calendar", "tooManyCalendarsRequested",
          "The number of calendars requested is too large for a single query."};
}

std::variant<int64_t, GoogleError> ParseInstant(const sb::Json& body, const std::string& name) {
  const auto it = body.find(name);
  if (it == body.end() || it->is_null()) return Required(name);
  if (!it->is_string()) return InvalidValue(name);
  const auto value = sb::caltime::ParseRfc3339(it->get_ref<const std::string&>());
  if (!value.ok()) return InvalidValue(name);
  return *value;
}

// Checks an optional expansion limit: an integer in 1..`max`; its value, or `max` when absent.
std::variant<int64_t, GoogleError> ParseLimit(const sb::Json& body, const std::string& name,
                                              int64_t max) {
  const auto it = body.find(name);
  if (it == body.end() || it->is_null()) return max;
  if (!it->is_number_integer()) return InvalidValue(name);
  const int64_t value = it->get<int64_t>();
  if (value < 1 || value > max) return InvalidValue(name);
  return value;
}

std::optional<GoogleError> ParseItems(const sb::Json& body, FreeBusyQuery& query) {
  const auto items = body.find("items");
  if (items == body.end() || items->is_null()) return std::nullopt;
  if (!items->is_array()) return InvalidValue("items");
  if (items->size() > static_cast<size_t>(kMaxCalendars)) return TooManyCalendars();
  for (const sb::Json& item : *items) {
    if (!item.is_object()) return InvalidValue("items");
    const auto id = item.find("id");
    if (id == item.end() || !id->is_string() || id->get_ref<const std::string&>().empty()) {
      return Required("items.id");
    }
    query.ids.push_back(id->get<std::string>());
  }
  return std::nullopt;
}

std::variant<FreeBusyQuery, GoogleError> ParseQuery(const sb::Json& body) {
  if (!body.is_object()) return GoogleError{400, "global", "parseError", "Parse Error"};
  FreeBusyQuery query;
  auto min = ParseInstant(body, "timeMin");
  if (auto* error = std::get_if<GoogleError>(&min)) return *error;
  auto max = ParseInstant(body, "timeMax");
  if (auto* error = std::get_if<GoogleError>(&max)) return *error;
  query.min_ms = std::get<int64_t>(min);
  query.max_ms = std::get<int64_t>(max);
  if (query.max_ms <= query.min_ms) {
    return ParameterError("calendar", "timeRangeEmpty", "The specified time range is empty.",
                          "timeMax");
  }
  if (const auto zone = body.find("timeZone"); zone != body.end() && !zone->is_null()) {
    if (!zone->is_string() || !sb::caltime::IsKnownZone(zone->get_ref<const std::string&>())) {
      return ParameterError("calendar", "timeZoneInvalid", "Invalid time zone definition.",
                            "timeZone");
    }
    query.time_zone = zone->get<std::string>();
  }
  auto groups = ParseLimit(body, "groupExpansionMax", kMaxGroupExpansion);
  if (auto* error = std::get_if<GoogleError>(&groups)) return *error;
  auto calendars = ParseLimit(body, "calendarExpansionMax", kMaxCalendars);
  if (auto* error = std::get_if<GoogleError>(&calendars)) return *error;
  if (auto error = ParseItems(body, query)) return *error;
  if (static_cast<int64_t>(query.ids.size()) > std::get<int64_t>(calendars)) {
    return TooManyCalendars();
  }
  return query;
}

std::string FormatIn(int64_t utc_ms, const std::string& zone) {
  auto text = sb::caltime::FormatRfc3339InZone(utc_ms, zone);
  return text.ok() ? *text : sb::caltime::FormatUtcMillis(utc_ms);
}

sb::Json BusyJson(const std::vector<BusyInterval>& spans, const std::string& zone) {
  sb::Json busy = sb::Json::array();
  for (const BusyInterval& span : spans) {
    busy.push_back(
        {{"start", FormatIn(span.start_ms, zone)}, {"end", FormatIn(span.end_ms, zone)}});
  }
  return busy;
}

sb::Json NotFoundEntry() {
  return {{"errors", sb::Json::array({{{"domain", "global"}, {"reason", "notFound"}}})},
          {"busy", sb::Json::array()}};
}

}  // namespace

std::vector<BusyInterval> CalendarStore::Busy(const CalendarInfo& calendar, int64_t from_ms,
                                              int64_t to_ms) const {
  std::vector<BusyInterval> spans;
  std::lock_guard<std::mutex> lock(mu_);
  const Data* data = Find(calendar);
  if (!data) return spans;
  for (const auto& [id, event] : data->events) {
    if (!Blocks(event)) continue;
    if (event.master) {
      AddInstances(event, *data, from_ms, to_ms, spans);
    } else {
      spans.push_back({InstantOf(event.start, data->info.time_zone),
                       InstantOf(event.end, data->info.time_zone)});
    }
  }
  return Merge(std::move(spans), from_ms, to_ms);
}

Response GoogleSandbox::FreeBusy(const Request& request, const AccessToken& token) {
  auto body = ParseJsonBody(request);
  if (!body.ok()) return ErrorResponse({400, "global", "parseError", "Parse Error"});
  auto parsed = ParseQuery(*body);
  if (auto* error = std::get_if<GoogleError>(&parsed)) return ErrorResponse(*error);
  const FreeBusyQuery& query = std::get<FreeBusyQuery>(parsed);
  const auto account = identity_.FindAccount(token.account_id);
  if (!account) return InvalidCredentials();
  sb::Json calendars = sb::Json::object();
  for (const std::string& id : query.ids) {
    const auto calendar = calendar_.Calendar(account->id, id == "primary" ? account->email : id);
    if (!calendar) {
      calendars[id] = NotFoundEntry();
      continue;
    }
    const auto busy = calendar_.Busy(*calendar, query.min_ms, query.max_ms);
    calendars[id] = {{"busy", BusyJson(busy, query.time_zone)}};
  }
  const sb::Json out = {{"kind", "calendar#freeBusy"},
                        {"timeMin", sb::caltime::FormatUtcMillis(query.min_ms)},
                        {"timeMax", sb::caltime::FormatUtcMillis(query.max_ms)},
                        {"calendars", calendars}};
  return Response::Text(200, out.dump(-1, ' ', false, sb::Json::error_handler_t::replace),
                        kJsonType);
}

}  // namespace sandbox::google
