#include "sb/sync/calendar/outbound.h"

#include <algorithm>
#include <array>
#include <string>
#include <utility>

#include "sb/caltime/caltime.h"
#include "sb/caltime/recurrence.h"
#include "sb/sync/calendar/fields.h"
#include "sb/sync/calendar/graph_recurrence.h"

namespace sb::sync::calendar {
namespace {

using internal::FieldError;

constexpr std::array<std::string_view, 13> kWritable = {
    "title",     "description_text", "description_html", "location",     "start",
    "end",       "all_day",          "status",           "transparency", "visibility",
    "attendees", "reminders",        "recurrence"};
// Members of the API's event that only Switchboard or the provider set: ignored on the way in.
constexpr std::array<std::string_view, 17> kReadOnly = {"id",
                                                        "connection_id",
                                                        "calendar_id",
                                                        "synced_at",
                                                        "provider_id",
                                                        "version",
                                                        "ical_uid",
                                                        "kind",
                                                        "series_master_provider_id",
                                                        "original_start",
                                                        "organizer",
                                                        "conference_url",
                                                        "created",
                                                        "updated",
                                                        "mapping",
                                                        "external_id",
                                                        "html_link"};
constexpr int kMaxReminderMinutes = 40'320;  // four weeks, Google's bound

bool Listed(std::string_view name, std::span<const std::string_view> names) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

// The host's writable members; INVALID_ARGUMENT for a member that is neither writable nor one
// of the event's read-only members.
Result<Json> WritableMembers(const Json& body) {
  if (!body.is_object()) return InvalidArgumentError("event must be a JSON object");
  Json out = Json::object();
  for (const auto& [name, value] : body.items()) {
    if (Listed(name, kWritable)) {
      out[name] = value;
    } else if (!Listed(name, kReadOnly)) {
      std::string message = "unknown member '";
      message += name.substr(0, 64);
      message += '\'';
      return InvalidArgumentError(message);
    }
  }
  return out;
}

bool PlausibleEmail(std::string_view email) {
  const size_t at = email.find('@');
  if (at == std::string_view::npos || at == 0 || at + 1 == email.size()) return false;
  return std::none_of(email.begin(), email.end(),
                      [](char c) { return c <= 0x20 || c == 0x7f || c == '<' || c == '>'; });
}

Status CheckZone(EventTime& time, std::string_view field) {
  if (time.time_zone.empty()) return OkStatus();
  if (!caltime::IsKnownZone(time.time_zone)) return FieldError(field, "unknown time zone");
  return OkStatus();
}

// Start and end: dates for an all-day event, instants otherwise, the end after the start; a
// timed event's zone defaults to the other end's, else UTC.
Status CheckTimes(Event& e) {
  SB_RETURN_IF_ERROR(CheckZone(e.start, "start.time_zone"));
  SB_RETURN_IF_ERROR(CheckZone(e.end, "end.time_zone"));
  if (e.all_day) {
    if (e.start.date.empty() || e.end.date.empty() || e.start.instant_ms || e.end.instant_ms) {
      return FieldError("start", "an all-day event has dates, not instants");
    }
    if (e.end.date <= e.start.date) return FieldError("end", "must be after start");
    return OkStatus();
  }
  if (!e.start.instant_ms || !e.end.instant_ms || !e.start.date.empty() || !e.end.date.empty()) {
    return FieldError("start", "a timed event has instants, not dates");
  }
  if (*e.end.instant_ms < *e.start.instant_ms) return FieldError("end", "must not be before start");
  if (e.start.time_zone.empty()) e.start.time_zone = e.end.time_zone;
  if (e.end.time_zone.empty()) e.end.time_zone = e.start.time_zone;
  if (e.start.time_zone.empty()) e.start.time_zone = e.end.time_zone = "UTC";
  return OkStatus();
}

Status CheckRecurrence(Event& e) {
  int rules = 0;
  for (const std::string& line : e.recurrence) {
    if (line.starts_with("RRULE:")) {
      ++rules;
    } else if (!line.starts_with("EXDATE") && !line.starts_with("RDATE")) {
      return FieldError("recurrence", "lines are RRULE, EXDATE or RDATE");
    }
  }
  if (rules > 1) return FieldError("recurrence", "at most one RRULE");
  if (!e.recurrence.empty() && rules == 0) return FieldError("recurrence", "an RRULE is needed");
  if (internal::HasUnsafeSubDailyRule(e.recurrence)) {
    return FieldError("recurrence", "sub-daily rules with day parts are not supported");
  }
  SB_RETURN_IF_ERROR(caltime::IsInfiniteRecurrence(e.recurrence).status());
  if (e.kind == EventKind::kSingle || e.kind == EventKind::kSeriesMaster) {
    e.kind = e.recurrence.empty() ? EventKind::kSingle : EventKind::kSeriesMaster;
  } else if (!e.recurrence.empty()) {
    return FieldError("recurrence", "an occurrence of a series has no recurrence of its own");
  }
  return OkStatus();
}

Status CheckPeople(const Event& e) {
  for (const Attendee& a : e.attendees) {
    if (!PlausibleEmail(a.email)) return FieldError("attendees.email", "not an email address");
  }
  for (const Reminder& r : e.reminders) {
    if (r.method != "popup" && r.method != "email") {
      return FieldError("reminders.overrides.method", "must be popup or email");
    }
    if (r.minutes < 0 || r.minutes > kMaxReminderMinutes) {
      return FieldError("reminders.overrides.minutes", "must be 0..40320");
    }
  }
  if (e.reminders.size() > 5) return FieldError("reminders.overrides", "at most 5");
  return OkStatus();
}

Status CheckWritable(Event& e) {
  if (e.status == EventStatus::kCancelled) {
    return FieldError("status", "cancel an event with DELETE");
  }
  SB_RETURN_IF_ERROR(CheckTimes(e));
  SB_RETURN_IF_ERROR(CheckRecurrence(e));
  return CheckPeople(e);
}

// The model's reader wants a provider id; a host's event has none yet.
Result<Event> ParseUnified(Json json, std::string provider_id) {
  json["provider_id"] = provider_id.empty() ? std::string("new") : provider_id;
  SB_ASSIGN_OR_RETURN(Event e, EventFromJson(json));
  e.provider_id = std::move(provider_id);
  return e;
}

Json GoogleTime(const EventTime& t, bool all_day) {
  if (all_day) return {{"date", t.date}};
  const auto text = caltime::FormatRfc3339InZone(*t.instant_ms, t.time_zone);
  return {{"dateTime", text.ok() ? *text : caltime::FormatUtcMillis(*t.instant_ms)},
          {"timeZone", t.time_zone}};
}

std::string_view GoogleResponse(ResponseStatus r) {
  switch (r) {
    case ResponseStatus::kAccepted:
      return "accepted";
    case ResponseStatus::kTentative:
      return "tentative";
    case ResponseStatus::kDeclined:
      return "declined";
    case ResponseStatus::kNeedsAction:
      break;
  }
  return "needsAction";
}

std::string_view GoogleVisibility(Visibility v) {
  switch (v) {
    case Visibility::kPublic:
      return "public";
    case Visibility::kPrivate:
      return "private";
    case Visibility::kConfidential:
      return "confidential";
    case Visibility::kDefault:
      break;
  }
  return "default";
}

Json GoogleAttendees(const Event& e) {
  Json out = Json::array();
  for (const Attendee& a : e.attendees) {
    Json j = {{"email", a.email}, {"responseStatus", GoogleResponse(a.response)}};
    if (!a.name.empty()) j["displayName"] = a.name;
    if (a.optional) j["optional"] = true;
    out.push_back(std::move(j));
  }
  return out;
}

Json GoogleReminders(const Event& e) {
  Json overrides = Json::array();
  for (const Reminder& r : e.reminders) {
    overrides.push_back({{"method", r.method}, {"minutes", r.minutes}});
  }
  if (e.reminders_use_default) return {{"useDefault", true}};
  return {{"useDefault", false}, {"overrides", std::move(overrides)}};
}

Result<Json> GraphTime(const EventTime& t, bool all_day) {
  const std::string zone = t.time_zone.empty() ? "UTC" : t.time_zone;
  if (all_day) return Json{{"dateTime", t.date + "T00:00:00.0000000"}, {"timeZone", zone}};
  SB_ASSIGN_OR_RETURN(std::string local, caltime::FormatGraphDateTime(*t.instant_ms, zone));
  return Json{{"dateTime", std::move(local)}, {"timeZone", zone}};
}

std::string_view GraphShowAs(const Event& e) {
  if (e.transparency == Transparency::kTransparent) return "free";
  return e.status == EventStatus::kTentative ? "tentative" : "busy";
}

std::string_view GraphSensitivity(Visibility v) {
  if (v == Visibility::kPrivate) return "private";
  if (v == Visibility::kConfidential) return "confidential";
  return "normal";
}

Json GraphAttendees(const Event& e) {
  Json out = Json::array();
  for (const Attendee& a : e.attendees) {
    out.push_back({{"emailAddress", {{"address", a.email}, {"name", a.name}}},
                   {"type", a.resource   ? "resource"
                            : a.optional ? "optional"
                                         : "required"}});
  }
  return out;
}

// The series' first local date (all-day) or date-time, for the recurrence range.
Result<std::string> LocalStart(const Event& e) {
  if (e.all_day) return e.start.date;
  const std::string zone = e.start.time_zone.empty() ? "UTC" : e.start.time_zone;
  return caltime::FormatGraphDateTime(*e.start.instant_ms, zone);
}

Result<Json> GraphRecurrence(const Event& e) {
  if (e.recurrence.empty()) return Json(nullptr);
  for (const std::string& line : e.recurrence) {
    if (!line.starts_with("RRULE:")) {
      return FieldError("recurrence",
                        "Microsoft calendars take a rule only: cancel single occurrences instead "
                        "of EXDATE or RDATE lines");
    }
  }
  SB_ASSIGN_OR_RETURN(const std::string start, LocalStart(e));
  const std::string zone = e.start.time_zone.empty() ? "UTC" : e.start.time_zone;
  return RruleToGraphRecurrence(e.recurrence.front(), start, zone);
}

}  // namespace

Result<Event> HostEventFromJson(const Json& body) {
  SB_ASSIGN_OR_RETURN(Json members, WritableMembers(body));
  SB_ASSIGN_OR_RETURN(Event e, ParseUnified(std::move(members), ""));
  SB_RETURN_IF_ERROR(CheckWritable(e));
  return e;
}

Result<Event> ApplyHostPatch(const Event& base, const Json& patch) {
  SB_ASSIGN_OR_RETURN(Json members, WritableMembers(patch));
  Json merged = EventToJson(base);
  for (auto& [name, value] : members.items()) {
    if (value.is_null()) {
      merged.erase(name);
    } else {
      merged[name] = std::move(value);
    }
  }
  SB_ASSIGN_OR_RETURN(Event e, ParseUnified(std::move(merged), base.provider_id));
  SB_RETURN_IF_ERROR(CheckWritable(e));
  return e;
}

Json EventToGoogle(const Event& e, std::string_view provider_id) {
  Json out = {{"summary", e.title},
              {"description", e.description_html.empty() ? e.description_text : e.description_html},
              {"location", e.location},
              {"start", GoogleTime(e.start, e.all_day)},
              {"end", GoogleTime(e.end, e.all_day)},
              {"status", EventStatusName(e.status)},
              {"transparency", TransparencyName(e.transparency)},
              {"visibility", GoogleVisibility(e.visibility)},
              {"attendees", GoogleAttendees(e)},
              {"reminders", GoogleReminders(e)}};
  if (e.kind == EventKind::kSingle || e.kind == EventKind::kSeriesMaster) {
    out["recurrence"] = e.recurrence;
  }
  if (!provider_id.empty()) out["id"] = provider_id;
  return out;
}

Result<Json> EventToGraph(const Event& e) {
  const bool html = !e.description_html.empty();
  Json out = {{"subject", e.title},
              {"body",
               {{"contentType", html ? "html" : "text"},
                {"content", html ? e.description_html : e.description_text}}},
              {"location", {{"displayName", e.location}}},
              {"isAllDay", e.all_day},
              {"showAs", GraphShowAs(e)},
              {"sensitivity", GraphSensitivity(e.visibility)},
              {"attendees", GraphAttendees(e)}};
  SB_ASSIGN_OR_RETURN(out["start"], GraphTime(e.start, e.all_day));
  SB_ASSIGN_OR_RETURN(out["end"], GraphTime(e.end, e.all_day));
  if (!e.reminders_use_default) {
    out["isReminderOn"] = !e.reminders.empty();
    if (!e.reminders.empty()) out["reminderMinutesBeforeStart"] = e.reminders.front().minutes;
  }
  if (e.kind == EventKind::kSingle || e.kind == EventKind::kSeriesMaster) {
    SB_ASSIGN_OR_RETURN(out["recurrence"], GraphRecurrence(e));
  }
  return out;
}

}  // namespace sb::sync::calendar
