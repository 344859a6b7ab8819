// Google Calendar v3 calendarList entries and event items into the model
// (provider-protocols.md 3.3, 3.8).
#include <cctype>
#include <string>
#include <string_view>
#include <utility>

#include "sb/caltime/caltime.h"
#include "sb/caltime/windows_zones.h"
#include "sb/sync/calendar/fields.h"
#include "sb/sync/calendar/model.h"

namespace sb::sync::calendar {
namespace {

using internal::ArrayMember;
using internal::BoolMember;
using internal::FieldError;
using internal::FieldName;
using internal::IntMember;
using internal::kMaxIdBytes;
using internal::kMaxTitleBytes;
using internal::ObjectMember;
using internal::StringMember;

// Google names; an unknown name (Google adds values over time) reads as the default.
EventStatus GoogleStatus(std::string_view s) {
  if (s == "tentative") return EventStatus::kTentative;
  if (s == "cancelled") return EventStatus::kCancelled;
  return EventStatus::kConfirmed;
}

ResponseStatus GoogleResponse(std::string_view s) {
  if (s == "accepted") return ResponseStatus::kAccepted;
  if (s == "tentative") return ResponseStatus::kTentative;
  if (s == "declined") return ResponseStatus::kDeclined;
  return ResponseStatus::kNeedsAction;
}

Visibility GoogleVisibility(std::string_view s) {
  if (s == "public") return Visibility::kPublic;
  if (s == "private") return Visibility::kPrivate;
  if (s == "confidential") return Visibility::kConfidential;
  return Visibility::kDefault;
}

// Unknown roles get the least access.
AccessRole GoogleAccessRole(std::string_view s) {
  if (s == "owner") return AccessRole::kOwner;
  if (s == "writer") return AccessRole::kWriter;
  if (s == "reader") return AccessRole::kReader;
  return AccessRole::kFreeBusyReader;
}

bool IsHexColor(std::string_view s) {
  if (s.size() != 7 || s[0] != '#') return false;
  for (const char c : s.substr(1)) {
    if (!std::isxdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

// An IANA zone for a zone member: "" stays "", anything unknown is an error.
Result<std::string> ZoneMember(const Json& object, std::string_view field) {
  SB_ASSIGN_OR_RETURN(std::string zone, StringMember(object, "timeZone", kMaxIdBytes, field));
  if (zone.empty()) return zone;
  Result<std::string> iana = caltime::ResolveZone(zone);
  if (!iana.ok()) return FieldError(field, "unknown time zone");
  return *std::move(iana);
}

// An EventDateTime: {"date"} (all-day) or {"dateTime", "timeZone"?}. A dateTime without an
// offset is wall time in its timeZone, else in the calendar's zone.
Result<EventTime> GoogleTime(const Json& value, std::string_view field,
                             const std::string& calendar_zone) {
  if (!value.is_object()) return FieldError(field, "must be an object");
  SB_ASSIGN_OR_RETURN(const std::string zone, ZoneMember(value, FieldName(field, "timeZone")));
  const std::string zone_or_calendar = zone.empty() ? calendar_zone : zone;
  EventTime time;
  SB_ASSIGN_OR_RETURN(const std::string date, StringMember(value, "date", internal::kMaxTimeBytes,
                                                           FieldName(field, "date")));
  if (!date.empty()) {
    SB_ASSIGN_OR_RETURN(time.date, internal::CheckDate(date, FieldName(field, "date")));
    time.time_zone = zone_or_calendar;
    return time;
  }
  const std::string date_time_field = FieldName(field, "dateTime");
  SB_ASSIGN_OR_RETURN(
      const std::string text,
      internal::RequiredString(value, "dateTime", internal::kMaxTimeBytes, date_time_field));
  Result<int64_t> instant = internal::ParseInstant(text, date_time_field);
  if (!instant.ok() && !zone_or_calendar.empty()) {
    const Result<int64_t> local = caltime::LocalToUtc(text, zone_or_calendar);
    if (local.ok()) instant = internal::CheckInstant(*local, date_time_field);
  }
  SB_RETURN_IF_ERROR(instant.status());
  time.instant_ms = *instant;
  time.time_zone = zone;
  return time;
}

Result<Attendee> GoogleAttendee(const Json& item) {
  if (!item.is_object()) return FieldError("attendees", "items must be objects");
  Attendee a;
  SB_ASSIGN_OR_RETURN(a.email, StringMember(item, "email", kMaxIdBytes, "attendees.email"));
  SB_ASSIGN_OR_RETURN(a.name,
                      StringMember(item, "displayName", kMaxTitleBytes, "attendees.displayName"));
  SB_ASSIGN_OR_RETURN(const std::string response, StringMember(item, "responseStatus", kMaxIdBytes,
                                                               "attendees.responseStatus"));
  a.response = GoogleResponse(response);
  SB_ASSIGN_OR_RETURN(a.optional, BoolMember(item, "optional", false, "attendees.optional"));
  SB_ASSIGN_OR_RETURN(a.organizer, BoolMember(item, "organizer", false, "attendees.organizer"));
  SB_ASSIGN_OR_RETURN(a.resource, BoolMember(item, "resource", false, "attendees.resource"));
  SB_ASSIGN_OR_RETURN(a.self, BoolMember(item, "self", false, "attendees.self"));
  return a;
}

Status GooglePeople(const Json& item, Event& e) {
  SB_ASSIGN_OR_RETURN(const Json* organizer, ObjectMember(item, "organizer", "organizer"));
  if (organizer != nullptr) {
    SB_ASSIGN_OR_RETURN(e.organizer_email,
                        StringMember(*organizer, "email", kMaxIdBytes, "organizer.email"));
    SB_ASSIGN_OR_RETURN(e.organizer_name, StringMember(*organizer, "displayName", kMaxTitleBytes,
                                                       "organizer.displayName"));
  }
  SB_ASSIGN_OR_RETURN(const Json* attendees,
                      ArrayMember(item, "attendees", internal::kMaxAttendees, "attendees"));
  if (attendees == nullptr) return OkStatus();
  for (const Json& attendee : *attendees) {
    SB_ASSIGN_OR_RETURN(Attendee a, GoogleAttendee(attendee));
    e.attendees.push_back(std::move(a));
  }
  return OkStatus();
}

Status GoogleReminders(const Json& item, Event& e) {
  SB_ASSIGN_OR_RETURN(const Json* reminders, ObjectMember(item, "reminders", "reminders"));
  if (reminders == nullptr) return OkStatus();
  SB_ASSIGN_OR_RETURN(e.reminders_use_default,
                      BoolMember(*reminders, "useDefault", true, "reminders.useDefault"));
  SB_ASSIGN_OR_RETURN(
      const Json* overrides,
      ArrayMember(*reminders, "overrides", internal::kMaxReminders, "reminders.overrides"));
  if (overrides == nullptr) return OkStatus();
  for (const Json& o : *overrides) {
    if (!o.is_object()) return FieldError("reminders.overrides", "items must be objects");
    Reminder r;
    SB_ASSIGN_OR_RETURN(r.method,
                        StringMember(o, "method", kMaxIdBytes, "reminders.overrides.method"));
    SB_ASSIGN_OR_RETURN(
        const auto minutes,
        IntMember(o, "minutes", 0, internal::kMaxReminderMinutes, "reminders.overrides.minutes"));
    r.minutes = static_cast<int>(minutes.value_or(0));
    e.reminders.push_back(std::move(r));
  }
  return OkStatus();
}

// hangoutLink, else the first video entry point of conferenceData.
Result<std::string> GoogleConference(const Json& item) {
  SB_ASSIGN_OR_RETURN(std::string link,
                      StringMember(item, "hangoutLink", kMaxTitleBytes, "hangoutLink"));
  if (!link.empty()) return link;
  SB_ASSIGN_OR_RETURN(const Json* data, ObjectMember(item, "conferenceData", "conferenceData"));
  if (data == nullptr) return link;
  SB_ASSIGN_OR_RETURN(const Json* points,
                      ArrayMember(*data, "entryPoints", 100, "conferenceData.entryPoints"));
  if (points == nullptr) return link;
  for (const Json& point : *points) {
    if (!point.is_object()) return FieldError("conferenceData.entryPoints", "must be objects");
    SB_ASSIGN_OR_RETURN(const std::string type,
                        StringMember(point, "entryPointType", kMaxIdBytes,
                                     "conferenceData.entryPoints.entryPointType"));
    if (type != "video") continue;
    return StringMember(point, "uri", kMaxTitleBytes, "conferenceData.entryPoints.uri");
  }
  return link;
}

Result<std::vector<std::string>> GoogleRecurrence(const Json& item) {
  SB_ASSIGN_OR_RETURN(const Json* lines,
                      ArrayMember(item, "recurrence", internal::kMaxRecurrenceLines, "recurrence"));
  std::vector<std::string> out;
  if (lines == nullptr) return out;
  for (const Json& line : *lines) {
    if (!line.is_string()) return FieldError("recurrence", "items must be strings");
    const auto& text = line.get_ref<const std::string&>();
    if (text.size() > kMaxTitleBytes) return FieldError("recurrence", "line too long");
    out.push_back(text);
  }
  return out;
}

Status GoogleText(const Json& item, Event& e) {
  SB_ASSIGN_OR_RETURN(e.version, StringMember(item, "etag", kMaxIdBytes, "etag"));
  SB_ASSIGN_OR_RETURN(e.ical_uid, StringMember(item, "iCalUID", kMaxIdBytes, "iCalUID"));
  SB_ASSIGN_OR_RETURN(e.title, StringMember(item, "summary", kMaxTitleBytes, "summary"));
  SB_ASSIGN_OR_RETURN(e.description_html,
                      StringMember(item, "description", internal::kMaxTextBytes, "description"));
  e.description_text = internal::HtmlToText(e.description_html);
  SB_ASSIGN_OR_RETURN(e.location, StringMember(item, "location", kMaxTitleBytes, "location"));
  SB_ASSIGN_OR_RETURN(e.conference_url, GoogleConference(item));
  SB_ASSIGN_OR_RETURN(const std::string transparency,
                      StringMember(item, "transparency", kMaxIdBytes, "transparency"));
  e.transparency =
      transparency == "transparent" ? Transparency::kTransparent : Transparency::kOpaque;
  SB_ASSIGN_OR_RETURN(const std::string visibility,
                      StringMember(item, "visibility", kMaxIdBytes, "visibility"));
  e.visibility = GoogleVisibility(visibility);
  SB_ASSIGN_OR_RETURN(e.created_ms, internal::InstantMember(item, "created", "created"));
  SB_ASSIGN_OR_RETURN(e.updated_ms, internal::InstantMember(item, "updated", "updated"));
  return OkStatus();
}

// start, end and originalStartTime. A sparse cancelled exception has only the latter: its
// start and end are then that slot (zero length), so that it still has a span.
Status GoogleTimes(const Json& item, const std::string& calendar_zone, Event& e) {
  SB_ASSIGN_OR_RETURN(const Json* original,
                      ObjectMember(item, "originalStartTime", "originalStartTime"));
  if (original != nullptr) {
    SB_ASSIGN_OR_RETURN(e.original_start,
                        GoogleTime(*original, "originalStartTime", calendar_zone));
  }
  if (e.kind == EventKind::kException && !e.original_start) {
    return FieldError("originalStartTime", "missing");
  }
  SB_ASSIGN_OR_RETURN(const Json* start, ObjectMember(item, "start", "start"));
  SB_ASSIGN_OR_RETURN(const Json* end, ObjectMember(item, "end", "end"));
  if (start == nullptr && end == nullptr && e.status == EventStatus::kCancelled &&
      e.original_start) {
    e.start = e.end = *e.original_start;
  } else {
    if (start == nullptr) return FieldError("start", "missing");
    if (end == nullptr) return FieldError("end", "missing");
    SB_ASSIGN_OR_RETURN(e.start, GoogleTime(*start, "start", calendar_zone));
    SB_ASSIGN_OR_RETURN(e.end, GoogleTime(*end, "end", calendar_zone));
  }
  e.all_day = !e.start.date.empty();
  if (e.all_day != !e.end.date.empty()) return FieldError("end", "all-day and timed mixed");
  if (e.all_day ? e.end.date < e.start.date : *e.end.instant_ms < *e.start.instant_ms) {
    return FieldError("end", "before start");
  }
  return OkStatus();
}

}  // namespace

Result<Calendar> CalendarFromGoogle(const Json& item) {
  if (!item.is_object()) return InvalidArgumentError("calendarList entry must be an object");
  Calendar c;
  SB_ASSIGN_OR_RETURN(c.provider_id, internal::RequiredString(item, "id", kMaxIdBytes, "id"));
  SB_ASSIGN_OR_RETURN(c.name, StringMember(item, "summary", kMaxTitleBytes, "summary"));
  SB_ASSIGN_OR_RETURN(c.primary, BoolMember(item, "primary", false, "primary"));
  SB_ASSIGN_OR_RETURN(const std::string role,
                      StringMember(item, "accessRole", kMaxIdBytes, "accessRole"));
  c.access_role = GoogleAccessRole(role);
  // A zone this host does not know is kept as unknown rather than failing the calendar: the
  // calendar is still usable, its events carry their own zones.
  SB_ASSIGN_OR_RETURN(const std::string zone,
                      StringMember(item, "timeZone", kMaxIdBytes, "timeZone"));
  if (const auto iana = caltime::ResolveZone(zone); !zone.empty() && iana.ok()) c.time_zone = *iana;
  SB_ASSIGN_OR_RETURN(const std::string color,
                      StringMember(item, "backgroundColor", kMaxIdBytes, "backgroundColor"));
  c.color = IsHexColor(color) ? color : "";
  SB_ASSIGN_OR_RETURN(c.version, StringMember(item, "etag", kMaxIdBytes, "etag"));
  SB_ASSIGN_OR_RETURN(c.deleted, BoolMember(item, "deleted", false, "deleted"));
  return c;
}

Result<EventChange> EventFromGoogle(const Json& item, std::string_view calendar_time_zone) {
  if (!item.is_object()) return InvalidArgumentError("event item must be an object");
  EventChange change;
  SB_ASSIGN_OR_RETURN(change.provider_id, internal::RequiredString(item, "id", kMaxIdBytes, "id"));
  SB_ASSIGN_OR_RETURN(const std::string status,
                      StringMember(item, "status", kMaxIdBytes, "status"));
  Event e;
  e.provider_id = change.provider_id;
  e.status = GoogleStatus(status);
  SB_ASSIGN_OR_RETURN(e.series_master_provider_id,
                      StringMember(item, "recurringEventId", kMaxIdBytes, "recurringEventId"));
  // Deleted events carry only their id; a cancelled instance of a live series is an exception.
  if (e.status == EventStatus::kCancelled && e.series_master_provider_id.empty()) return change;
  SB_ASSIGN_OR_RETURN(e.recurrence, GoogleRecurrence(item));
  if (!e.recurrence.empty() && !e.series_master_provider_id.empty()) {
    return FieldError("recurrence", "on an instance of a series");
  }
  e.kind = !e.recurrence.empty()                  ? EventKind::kSeriesMaster
           : !e.series_master_provider_id.empty() ? EventKind::kException
                                                  : EventKind::kSingle;
  // A calendar zone this host does not know cannot interpret floating times.
  std::string calendar_zone;
  if (calendar_time_zone.size() <= kMaxIdBytes) {
    if (const auto iana = caltime::ResolveZone(calendar_time_zone); iana.ok()) {
      calendar_zone = *iana;
    }
  }
  SB_RETURN_IF_ERROR(GoogleTimes(item, calendar_zone, e));
  SB_RETURN_IF_ERROR(GoogleText(item, e));
  SB_RETURN_IF_ERROR(GooglePeople(item, e));
  SB_RETURN_IF_ERROR(GoogleReminders(item, e));
  change.event = std::move(e);
  return change;
}

}  // namespace sb::sync::calendar
