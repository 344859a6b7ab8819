// calendar: getSchedule (POST /v1.0/me/calendar/getSchedule): free/busy of the signed-in
// account's own mailbox, from its default calendar with series expanded. The sandbox knows no
// other mailbox, so any other address gets an ErrorMailRecipientNotFound entry, as Exchange
// answers for an address it cannot resolve.
#include <algorithm>
#include <array>
#include <charconv>

#include "sandbox/microsoft/graph_common.h"
#include "sandbox/microsoft/microsoft.h"

#include "sb/caltime/windows_zones.h"

namespace sandbox::microsoft {
namespace {

using sb::http::Request;
using sb::http::Response;

constexpr size_t kMaxSchedules = 20;
constexpr int64_t kDefaultIntervalMinutes = 30;
constexpr int64_t kMinIntervalMinutes = 5;
constexpr int64_t kMaxIntervalMinutes = 1440;
constexpr int64_t kMinuteMs = 60'000;
// Bounds the availability view (at most 17 856 digits at 5 minutes).
constexpr int64_t kMaxWindowMs = 62 * 1440 * kMinuteMs;
constexpr size_t kMaxOccurrencesPerSeries = 5000;

// The statuses of the availability view: their digit, and their precedence where items
// overlap (Exchange's merged free/busy: oof over busy over tentative over workingElsewhere).
struct Status {
  std::string_view name;
  char digit;
};
constexpr std::array<Status, 4> kByPrecedence = {
    {{"oof", '3'}, {"busy", '2'}, {"tentative", '1'}, {"workingElsewhere", '4'}}};

// The index of the status in kByPrecedence; showAs free and unknown have none.
std::optional<size_t> StatusIndex(std::string_view show_as) {
  for (size_t i = 0; i < kByPrecedence.size(); ++i) {
    if (sb::http::EqualsIgnoreCase(show_as, kByPrecedence[i].name)) return i;
  }
  return std::nullopt;
}

struct ScheduleQuery {
  std::vector<std::string> ids;
  int64_t start_ms = 0;
  int64_t end_ms = 0;
  int64_t interval_ms = kDefaultIntervalMinutes * kMinuteMs;
};

Failure Invalid(std::string message) { return {400, "ErrorInvalidParameter", std::move(message)}; }

// A dateTimeTimeZone member: dateTime as wall time in timeZone (IANA or Windows, default
// UTC), or with an offset of its own.
std::optional<int64_t> ParseDateTimeTimeZone(const sb::Json& body, const char* name) {
  const auto it = body.find(name);
  if (it == body.end() || !it->is_object()) return std::nullopt;
  const auto date_time = it->find("dateTime");
  const auto time_zone = it->find("timeZone");
  if (date_time == it->end() || !date_time->is_string()) return std::nullopt;
  std::string zone = "UTC";
  if (time_zone != it->end() && !time_zone->is_null()) {
    if (!time_zone->is_string()) return std::nullopt;
    auto iana = sb::caltime::ResolveZone(time_zone->get_ref<const std::string&>());
    if (!iana.ok()) return std::nullopt;
    zone = *iana;
  }
  const std::string& text = date_time->get_ref<const std::string&>();
  auto instant = sb::caltime::LocalToUtc(text, zone);
  if (!instant.ok()) instant = sb::caltime::ParseRfc3339(text);
  if (!instant.ok()) return std::nullopt;
  return *instant;
}

// availabilityViewInterval: minutes as a number or a numeric string (Graph takes both).
std::optional<int64_t> ParseInterval(const sb::Json& body) {
  const auto it = body.find("availabilityViewInterval");
  if (it == body.end() || it->is_null()) return kDefaultIntervalMinutes;
  int64_t minutes = 0;
  if (it->is_number_integer()) {
    minutes = it->get<int64_t>();
  } else if (it->is_string()) {
    const std::string& text = it->get_ref<const std::string&>();
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), minutes);
    if (error != std::errc() || end != text.data() + text.size()) return std::nullopt;
  } else {
    return std::nullopt;
  }
  if (minutes < kMinIntervalMinutes || minutes > kMaxIntervalMinutes) return std::nullopt;
  return minutes;
}

std::optional<Failure> ParseSchedules(const sb::Json& body, ScheduleQuery& query) {
  const auto schedules = body.find("schedules");
  if (schedules == body.end() || !schedules->is_array() || schedules->empty()) {
    return Invalid("schedules is required: a collection of SMTP addresses.");
  }
  if (schedules->size() > kMaxSchedules) {
    return Invalid("Too many schedules: at most " + std::to_string(kMaxSchedules) +
                   " can be requested at once.");
  }
  for (const sb::Json& id : *schedules) {
    if (!id.is_string()) return Invalid("schedules must be a collection of strings.");
    query.ids.push_back(id.get<std::string>());
  }
  return std::nullopt;
}

std::variant<ScheduleQuery, Failure> ParseQuery(const sb::Json& body) {
  ScheduleQuery query;
  if (auto failure = ParseSchedules(body, query)) return *failure;
  const auto start = ParseDateTimeTimeZone(body, "startTime");
  const auto end = ParseDateTimeTimeZone(body, "endTime");
  if (!start || !end) {
    return Invalid("startTime and endTime are required: dateTimeTimeZone values.");
  }
  if (*end <= *start) return Invalid("The start time must be before the end time.");
  if (*end - *start > kMaxWindowMs) {
    return Invalid("The time window must not be longer than 62 days.");
  }
  const auto interval = ParseInterval(body);
  if (!interval) {
    return Invalid("availabilityViewInterval must be a number of minutes from " +
                   std::to_string(kMinIntervalMinutes) + " to " +
                   std::to_string(kMaxIntervalMinutes) + ".");
  }
  query.start_ms = *start;
  query.end_ms = *end;
  query.interval_ms = *interval * kMinuteMs;
  return query;
}

// One digit per interval of the window: the status of highest precedence overlapping it.
// Counts per status over the intervals are kept as difference arrays, so the cost is
// items + intervals.
std::string AvailabilityView(const std::vector<ScheduleItem>& items, const ScheduleQuery& query) {
  const int64_t span = query.end_ms - query.start_ms;
  const size_t count = static_cast<size_t>((span + query.interval_ms - 1) / query.interval_ms);
  std::array<std::vector<int>, kByPrecedence.size()> deltas;
  for (auto& delta : deltas) delta.assign(count + 1, 0);
  for (const ScheduleItem& item : items) {
    const auto status = StatusIndex(item.show_as);
    const int64_t from = std::max(item.start_ms, query.start_ms) - query.start_ms;
    const int64_t to = std::min(item.end_ms, query.end_ms) - query.start_ms;
    if (!status || to <= from) continue;
    ++deltas[*status][static_cast<size_t>(from / query.interval_ms)];
    --deltas[*status][static_cast<size_t>((to + query.interval_ms - 1) / query.interval_ms)];
  }
  std::string view(count, '0');
  std::array<int, kByPrecedence.size()> open = {};
  for (size_t i = 0; i < count; ++i) {
    for (size_t s = 0; s < kByPrecedence.size(); ++s) open[s] += deltas[s][i];
    for (size_t s = 0; s < kByPrecedence.size(); ++s) {
      if (open[s] > 0) {
        view[i] = kByPrecedence[s].digit;
        break;
      }
    }
  }
  return view;
}

sb::Json ItemJson(const ScheduleItem& item, const RenderZone& zone) {
  return {{"isPrivate", item.is_private},
          {"status", kByPrecedence[*StatusIndex(item.show_as)].name},
          {"subject", item.subject},
          {"location", item.location},
          {"start", RenderDateTime(item.start_ms, false, zone)},
          {"end", RenderDateTime(item.end_ms, false, zone)}};
}

// The sandbox's mailboxes all work 08:00-17:00 UTC, Monday to Friday.
sb::Json WorkingHours() {
  return {{"daysOfWeek", {"monday", "tuesday", "wednesday", "thursday", "friday"}},
          {"startTime", "08:00:00.0000000"},
          {"endTime", "17:00:00.0000000"},
          {"timeZone", {{"name", "UTC"}}}};
}

sb::Json ScheduleJson(const std::string& id, const std::vector<ScheduleItem>& items,
                      const ScheduleQuery& query, const RenderZone& zone) {
  sb::Json list = sb::Json::array();
  for (const ScheduleItem& item : items) {
    if (StatusIndex(item.show_as)) list.push_back(ItemJson(item, zone));
  }
  return {{"scheduleId", id},
          {"availabilityView", AvailabilityView(items, query)},
          {"scheduleItems", std::move(list)},
          {"workingHours", WorkingHours()}};
}

sb::Json UnknownScheduleJson(const std::string& id) {
  return {{"scheduleId", id},
          {"error",
           {{"message", "The SMTP address has no mailbox associated with it."},
            {"responseCode", "ErrorMailRecipientNotFound"}}}};
}

ScheduleItem ItemOf(const Event& event, int64_t start_ms, int64_t end_ms) {
  const auto name = event.location.find("displayName");
  return {start_ms,
          end_ms,
          event.show_as,
          event.subject,
          name != event.location.end() && name->is_string() ? name->get<std::string>() : "",
          sb::http::EqualsIgnoreCase(event.sensitivity, "private")};
}

}  // namespace

std::vector<ScheduleItem> EventStore::ScheduleItems(const std::string& account_id, int64_t start_ms,
                                                    int64_t end_ms) const {
  std::vector<ScheduleItem> items;
  std::lock_guard<std::mutex> lock(mu_);
  const AccountData* data = Find(account_id);
  if (!data || data->calendars.empty()) return items;
  const std::string& calendar_id = data->calendars.front().id;
  for (const auto& [id, event] : data->events) {
    if (event.deleted || event.is_cancelled || event.calendar_id != calendar_id) continue;
    if (sb::http::EqualsIgnoreCase(event.show_as, "free")) continue;
    if (event.type == "seriesMaster") {
      const int64_t duration = event.end_ms - event.start_ms;
      for (int64_t slot : Slots(*data, event, start_ms, end_ms, kMaxOccurrencesPerSeries)) {
        items.push_back(ItemOf(event, slot, slot + duration));
      }
    } else if (event.start_ms < end_ms && event.end_ms > start_ms) {
      items.push_back(ItemOf(event, event.start_ms, event.end_ms));
    }
  }
  std::sort(items.begin(), items.end(), [](const ScheduleItem& a, const ScheduleItem& b) {
    return a.start_ms != b.start_ms ? a.start_ms < b.start_ms : a.end_ms < b.end_ms;
  });
  return items;
}

Response MicrosoftSandbox::GetSchedule(const Request& request, const Principal& principal,
                                       const RenderZone& zone) const {
  const sb::Json body = sb::Json::parse(request.body, nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded() || !body.is_object()) {
    return GraphError(request, 400, "RequestBodyRead",
                      "Invalid JSON. A token was not recognized in the JSON content.");
  }
  auto parsed = ParseQuery(body);
  if (auto* failure = std::get_if<Failure>(&parsed)) {
    return GraphError(request, failure->status, failure->code, failure->message);
  }
  const ScheduleQuery& query = std::get<ScheduleQuery>(parsed);
  std::optional<std::vector<ScheduleItem>> items;  // the own mailbox's, read once
  sb::Json value = sb::Json::array();
  for (const std::string& id : query.ids) {
    if (!sb::http::EqualsIgnoreCase(id, principal.account.email)) {
      value.push_back(UnknownScheduleJson(id));
      continue;
    }
    if (!items) items = events_.ScheduleItems(principal.account.id, query.start_ms, query.end_ms);
    value.push_back(ScheduleJson(id, *items, query, zone));
  }
  return GraphJson(200, {{"@odata.context", origin_.UrlFor(request) +
                                                "/v1.0/$metadata#Collection(microsoft.graph."
                                                "scheduleInformation)"},
                         {"value", std::move(value)}});
}

}  // namespace sandbox::microsoft
