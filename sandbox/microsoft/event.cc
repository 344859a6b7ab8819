#include "sandbox/microsoft/event.h"

#include <cstdio>

#include "sandbox/microsoft/graph_common.h"

#include "sb/caltime/recurrence.h"
#include "sb/caltime/windows_zones.h"

namespace sandbox::microsoft {
namespace {

struct ZonedTime {
  int64_t utc_ms = 0;
  std::string iana;
  std::string label;
};

InputError Invalid(std::string message) { return {"ErrorInvalidRequest", std::move(message)}; }

std::optional<InputError> ParseDateTimeTimeZone(const sb::Json& value, std::string_view name,
                                                bool all_day, ZonedTime& out) {
  if (!value.is_object() || !value.contains("dateTime") || !value["dateTime"].is_string()) {
    return Invalid(std::string(name) + " must be a dateTimeTimeZone with a dateTime");
  }
  const std::string label = value.value("timeZone", std::string("UTC"));
  auto iana = sb::caltime::ResolveZone(label);
  if (!iana.ok()) {
    return InputError{"TimeZoneNotSupportedException",
                      "A valid TimeZone value must be specified. The following TimeZone value "
                      "is not supported: '" +
                          label + "'."};
  }
  std::string text = value["dateTime"].get<std::string>();
  if (all_day) {
    if (text.size() < 10 || (text.size() > 10 && text.substr(10, 9) != "T00:00:00")) {
      return InputError{"ErrorPropertyValidationFailure",
                        "If isAllDay is set to true, start and end must be set to midnight."};
    }
    auto date = sb::caltime::ParseDate(text.substr(0, 10));
    if (!date.ok()) return Invalid("malformed " + std::string(name) + ".dateTime");
    out = {*date, *iana, label};
    return std::nullopt;
  }
  // Clients occasionally send an offset or Z; Graph reads those as instants.
  const bool has_offset = text.size() > 19 && (text.back() == 'Z' || text[text.size() - 3] == ':');
  auto utc = has_offset ? sb::caltime::ParseRfc3339(text) : sb::caltime::LocalToUtc(text, *iana);
  if (!utc.ok()) return Invalid("malformed " + std::string(name) + ".dateTime: " + text);
  out = {*utc, *iana, label};
  return std::nullopt;
}

std::optional<InputError> ApplyTimes(const sb::Json& body, bool create, Event& event) {
  if (body.contains("isAllDay")) {
    if (!body["isAllDay"].is_boolean()) return Invalid("isAllDay must be a boolean");
    event.all_day = body["isAllDay"].get<bool>();
  }
  if (create && (!body.contains("start") || !body.contains("end"))) {
    return Invalid("start and end are required");
  }
  if (!body.contains("start") && !body.contains("end")) return std::nullopt;
  ZonedTime start{event.start_ms, event.time_zone, event.original_time_zone};
  ZonedTime end{event.end_ms, event.time_zone, event.original_time_zone};
  if (body.contains("start")) {
    if (auto error = ParseDateTimeTimeZone(body["start"], "start", event.all_day, start)) {
      return error;
    }
  }
  if (body.contains("end")) {
    if (auto error = ParseDateTimeTimeZone(body["end"], "end", event.all_day, end)) return error;
  }
  if (end.utc_ms < start.utc_ms) return Invalid("The end of the event is before its start.");
  event.start_ms = start.utc_ms;
  event.end_ms = end.utc_ms;
  event.time_zone = start.iana;
  event.original_time_zone = start.label;
  return std::nullopt;
}

std::optional<InputError> ApplyString(const sb::Json& body, const char* key, std::string& out) {
  if (!body.contains(key)) return std::nullopt;
  if (body[key].is_null()) {
    out.clear();
    return std::nullopt;
  }
  if (!body[key].is_string()) return Invalid(std::string(key) + " must be a string");
  out = body[key].get<std::string>();
  return std::nullopt;
}

std::optional<InputError> ApplyBody(const sb::Json& body, Event& event) {
  if (!body.contains("body")) return std::nullopt;
  const sb::Json& value = body["body"];
  if (!value.is_object()) return Invalid("body must be an itemBody");
  std::string type = value.value("contentType", std::string("text"));
  for (char& c : type) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (type != "text" && type != "html") return Invalid("body.contentType must be text or html");
  event.body_type = type;
  event.body = value.value("content", std::string());
  return std::nullopt;
}

std::optional<InputError> ApplyAttendees(const sb::Json& body, Event& event) {
  if (!body.contains("attendees")) return std::nullopt;
  if (!body["attendees"].is_array()) return Invalid("attendees must be an array");
  sb::Json attendees = sb::Json::array();
  for (const sb::Json& attendee : body["attendees"]) {
    if (!attendee.is_object() || !attendee.contains("emailAddress")) {
      return Invalid("every attendee needs an emailAddress");
    }
    sb::Json out = {{"type", attendee.value("type", std::string("required"))},
                    {"status", {{"response", "none"}, {"time", "0001-01-01T00:00:00Z"}}},
                    {"emailAddress", attendee["emailAddress"]}};
    if (attendee.contains("status") && attendee["status"].is_object()) {
      out["status"] = attendee["status"];
    }
    attendees.push_back(std::move(out));
  }
  event.attendees = std::move(attendees);
  return std::nullopt;
}

std::optional<InputError> ApplyRecurrence(const sb::Json& body, Event& event) {
  if (!body.contains("recurrence")) return std::nullopt;
  const sb::Json& value = body["recurrence"];
  if (value.is_null()) {
    event.recurrence = nullptr;
    event.rrule.clear();
    if (event.type == "seriesMaster") event.type = "singleInstance";
    return std::nullopt;
  }
  if (event.type == "exception") return Invalid("An exception cannot have a recurrence.");
  auto rule = RecurrenceToRrule(value);
  if (!rule.ok()) return Invalid(rule.status().message());
  event.recurrence = value;
  event.rrule = {*rule};
  event.type = "seriesMaster";
  return std::nullopt;
}

std::optional<InputError> ApplyMisc(const sb::Json& body, Event& event) {
  for (auto [key, out] : {std::pair{"subject", &event.subject},
                          {"showAs", &event.show_as},
                          {"importance", &event.importance},
                          {"sensitivity", &event.sensitivity},
                          {"transactionId", &event.transaction_id}}) {
    if (auto error = ApplyString(body, key, *out)) return error;
  }
  if (body.contains("location")) {
    if (!body["location"].is_object() && !body["location"].is_null()) {
      return Invalid("location must be an object");
    }
    event.location = body["location"].is_null() ? sb::Json::object() : body["location"];
  }
  if (body.contains("categories")) {
    if (!body["categories"].is_array()) return Invalid("categories must be an array");
    event.categories.clear();
    for (const auto& c : body["categories"]) {
      if (c.is_string()) event.categories.push_back(c.get<std::string>());
    }
  }
  if (body.contains("isReminderOn") && body["isReminderOn"].is_boolean()) {
    event.is_reminder_on = body["isReminderOn"].get<bool>();
  }
  if (body.contains("reminderMinutesBeforeStart") &&
      body["reminderMinutesBeforeStart"].is_number_integer()) {
    event.reminder_minutes = body["reminderMinutesBeforeStart"].get<int>();
  }
  return std::nullopt;
}

std::string Lower(std::string text) {
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

std::string ByDay(const sb::Json& pattern) {
  static const std::pair<const char*, const char*> kDays[] = {
      {"sunday", "SU"},   {"monday", "MO"}, {"tuesday", "TU"}, {"wednesday", "WE"},
      {"thursday", "TH"}, {"friday", "FR"}, {"saturday", "SA"}};
  std::string out;
  for (const auto& day : pattern.value("daysOfWeek", sb::Json::array())) {
    if (!day.is_string()) continue;
    for (const auto& [name, code] : kDays) {
      if (Lower(day.get<std::string>()) == name)
        out += (out.empty() ? "" : ",") + std::string(code);
    }
  }
  return out;
}

int SetPosition(const sb::Json& pattern) {
  const std::string index = Lower(pattern.value("index", std::string("first")));
  if (index == "second") return 2;
  if (index == "third") return 3;
  if (index == "fourth") return 4;
  if (index == "last") return -1;
  return 1;
}

// "HH:MM:SS.fffffff" of a civil time.
std::string FormatGraphLocal(const sb::caltime::LocalDateTime& t) {
  char text[40];
  std::snprintf(text, sizeof(text), "%04d-%02d-%02dT%02d:%02d:%02d.%03d0000", t.year, t.month,
                t.day, t.hour, t.minute, t.second, t.millisecond);
  return text;
}

std::string BodyPreview(const Event& event) {
  std::string out;
  bool in_tag = false;
  bool space = false;
  for (char c : event.body) {
    if (event.body_type == "html" && (c == '<' || (in_tag && c == '>'))) {
      in_tag = c == '<';
      continue;
    }
    if (in_tag) continue;
    if (c == ' ' || c == '\n' || c == '\r' || c == '\t') {
      space = !out.empty();
      continue;
    }
    if (space) out += ' ';
    space = false;
    out += c;
    if (out.size() >= 255) break;
  }
  // Never cut a UTF-8 sequence in half.
  while (!out.empty() && (static_cast<unsigned char>(out.back()) & 0xC0) == 0x80) out.pop_back();
  if (!out.empty() && (static_cast<unsigned char>(out.back()) & 0x80)) out.pop_back();
  return out;
}

std::string OriginalZoneName(const Event& event) {
  if (sb::caltime::WindowsToIana(event.original_time_zone)) return event.original_time_zone;
  return sb::caltime::IanaToWindows(event.time_zone).value_or(event.original_time_zone);
}

}  // namespace

std::optional<InputError> ApplyEventJson(const sb::Json& body, bool create, Event& event) {
  if (!body.is_object()) return InputError{"RequestBodyRead", "The request body is not an event."};
  if (auto error = ApplyMisc(body, event)) return error;
  if (auto error = ApplyBody(body, event)) return error;
  if (auto error = ApplyTimes(body, create, event)) return error;
  if (auto error = ApplyAttendees(body, event)) return error;
  if (auto error = ApplyRecurrence(body, event)) return error;
  return std::nullopt;
}

sb::Result<std::string> RecurrenceToRrule(const sb::Json& recurrence) {
  if (!recurrence.is_object() || !recurrence.contains("pattern") ||
      !recurrence["pattern"].is_object()) {
    return sb::InvalidArgumentError("recurrence needs a pattern");
  }
  const sb::Json& pattern = recurrence["pattern"];
  const sb::Json range = recurrence.value("range", sb::Json::object());
  const std::string type = pattern.value("type", std::string());
  const int interval = std::max(1, pattern.value("interval", 1));
  std::string rule;
  if (type == "daily") {
    rule = "FREQ=DAILY";
  } else if (type == "weekly") {
    const std::string days = ByDay(pattern);
    if (days.empty()) return sb::InvalidArgumentError("weekly recurrence needs daysOfWeek");
    rule = "FREQ=WEEKLY;BYDAY=" + days + ";WKST=SU";
  } else if (type == "absoluteMonthly") {
    rule = "FREQ=MONTHLY;BYMONTHDAY=" + std::to_string(pattern.value("dayOfMonth", 1));
  } else if (type == "relativeMonthly" || type == "relativeYearly") {
    const std::string days = ByDay(pattern);
    if (days.empty()) return sb::InvalidArgumentError(type + " recurrence needs daysOfWeek");
    rule = type == "relativeMonthly"
               ? "FREQ=MONTHLY"
               : "FREQ=YEARLY;BYMONTH=" + std::to_string(pattern.value("month", 1));
    rule += ";BYDAY=" + days + ";BYSETPOS=" + std::to_string(SetPosition(pattern));
  } else if (type == "absoluteYearly") {
    rule = "FREQ=YEARLY;BYMONTH=" + std::to_string(pattern.value("month", 1)) +
           ";BYMONTHDAY=" + std::to_string(pattern.value("dayOfMonth", 1));
  } else {
    return sb::InvalidArgumentError("unsupported recurrence pattern type: " + type);
  }
  rule += ";INTERVAL=" + std::to_string(interval);
  const std::string range_type = range.value("type", std::string("noEnd"));
  if (range_type == "endDate") {
    std::string end = range.value("endDate", std::string());
    if (end.size() != 10) return sb::InvalidArgumentError("endDate range needs endDate");
    rule += ";UNTIL=" + end.substr(0, 4) + end.substr(5, 2) + end.substr(8, 2);
  } else if (range_type == "numbered") {
    rule += ";COUNT=" + std::to_string(std::max(1, range.value("numberOfOccurrences", 1)));
  }
  return "RRULE:" + rule;
}

sb::caltime::EventTime SeriesStart(const Event& master) {
  sb::caltime::EventTime start;
  start.all_day = master.all_day;
  start.utc_ms = master.start_ms;
  start.time_zone = master.all_day ? "UTC" : master.time_zone;
  if (master.all_day) start.date = sb::caltime::FormatDate(master.start_ms);
  return start;
}

std::string OccurrenceId(const Event& master, int64_t original_start_ms) {
  sb::caltime::EventTime slot = SeriesStart(master);
  slot.utc_ms = original_start_ms;
  if (slot.all_day) slot.date = sb::caltime::FormatDate(original_start_ms);
  return master.id + "_" + sb::caltime::InstanceIdSuffix(slot);
}

sb::Json RenderDateTime(int64_t utc_ms, bool all_day, const RenderZone& zone) {
  std::string text;
  if (all_day || zone.iana == "UTC") {
    text = FormatGraphLocal(sb::caltime::UtcMillisToCivil(utc_ms));
  } else {
    auto local = sb::caltime::FormatGraphDateTime(utc_ms, zone.iana);
    text = local.ok() ? *local : FormatGraphLocal(sb::caltime::UtcMillisToCivil(utc_ms));
  }
  return {{"dateTime", std::move(text)}, {"timeZone", zone.label}};
}

std::string Serialize(const sb::Json& json) {
  return json.dump(-1, ' ', false, sb::Json::error_handler_t::replace);
}

std::string RenderEventText(const Event& event, const RenderZone& zone, bool with_type) {
  const bool cacheable = zone.iana == "UTC" && zone.label == "UTC";
  if (!cacheable) return Serialize(RenderEvent(event, zone, with_type));
  if (event.rendered_seq != event.seq) {
    event.rendered[0].clear();
    event.rendered[1].clear();
    event.rendered_seq = event.seq;
  }
  std::string& text = event.rendered[with_type ? 1 : 0];
  if (text.empty()) text = Serialize(RenderEvent(event, zone, with_type));
  return text;
}

sb::Json RenderEvent(const Event& event, const RenderZone& zone, bool with_type) {
  const std::string zone_name = OriginalZoneName(event);
  sb::Json json = {
      {"@odata.etag", "W/\"" + event.change_key + "\""},
      {"id", event.id},
      {"createdDateTime", FormatOffsetDateTime(event.created_ms)},
      {"lastModifiedDateTime", FormatOffsetDateTime(event.modified_ms)},
      {"changeKey", event.change_key},
      {"categories", event.categories},
      {"transactionId", event.transaction_id.empty() ? sb::Json() : sb::Json(event.transaction_id)},
      {"originalStartTimeZone", zone_name},
      {"originalEndTimeZone", zone_name},
      {"iCalUId", event.ical_uid},
      {"reminderMinutesBeforeStart", event.reminder_minutes},
      {"isReminderOn", event.is_reminder_on},
      {"hasAttachments", false},
      {"subject", event.subject},
      {"bodyPreview", BodyPreview(event)},
      {"importance", event.importance},
      {"sensitivity", event.sensitivity},
      {"isAllDay", event.all_day},
      {"isCancelled", event.is_cancelled},
      {"isOrganizer", true},
      {"responseRequested", true},
      {"seriesMasterId",
       event.series_master_id.empty() ? sb::Json() : sb::Json(event.series_master_id)},
      {"showAs", event.show_as},
      {"type", event.type},
      {"webLink",
       "https://outlook.office365.com/owa/?itemid=" + event.id + "&exvsurl=1&path=/calendar/item"},
      {"onlineMeetingUrl", nullptr},
      {"isOnlineMeeting", false},
      {"onlineMeetingProvider", "unknown"},
      {"allowNewTimeProposals", true},
      {"isDraft", false},
      {"hideAttendees", false},
      {"responseStatus", {{"response", "organizer"}, {"time", "0001-01-01T00:00:00Z"}}},
      {"body", {{"contentType", event.body_type}, {"content", event.body}}},
      {"start", RenderDateTime(event.start_ms, event.all_day, zone)},
      {"end", RenderDateTime(event.end_ms, event.all_day, zone)},
      {"location", event.location},
      {"locations", event.location.empty() ? sb::Json::array() : sb::Json::array({event.location})},
      {"recurrence", event.recurrence},
      {"attendees", event.attendees},
      {"organizer", event.organizer},
      {"onlineMeeting", nullptr}};
  // The slot an occurrence or exception stands for (timed series; all-day slots are left to
  // their start, which the sandbox's clients read as the date).
  if ((event.type == "occurrence" || event.type == "exception") && !event.all_day) {
    json["originalStart"] = FormatOffsetDateTime(event.original_start_ms);
  }
  if (with_type) json["@odata.type"] = "#microsoft.graph.event";
  return json;
}

sb::Json RenderOccurrence(const Event& master, int64_t start_ms, const RenderZone& zone,
                          bool stripped) {
  const int64_t end_ms = start_ms + (master.end_ms - master.start_ms);
  const std::string id = OccurrenceId(master, start_ms);
  if (stripped) {
    return {{"@odata.type", "#microsoft.graph.event"},
            {"@odata.etag", "W/\"" + master.change_key + "\""},
            {"id", id},
            {"seriesMasterId", master.id},
            {"type", "occurrence"},
            {"start", RenderDateTime(start_ms, master.all_day, zone)},
            {"end", RenderDateTime(end_ms, master.all_day, zone)}};
  }
  Event occurrence = master;
  occurrence.id = id;
  occurrence.type = "occurrence";
  occurrence.series_master_id = master.id;
  occurrence.start_ms = start_ms;
  occurrence.end_ms = end_ms;
  occurrence.original_start_ms = start_ms;
  occurrence.recurrence = nullptr;
  occurrence.ical_uid = master.ical_uid + id.substr(master.id.size() + 1);
  return RenderEvent(occurrence, zone, false);
}

sb::Json RenderRemoved(const std::string& id) {
  return {
      {"@odata.type", "#microsoft.graph.event"}, {"id", id}, {"@removed", {{"reason", "deleted"}}}};
}

}  // namespace sandbox::microsoft
