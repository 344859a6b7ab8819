// Microsoft Graph calendars and events (also calendarView delta items) into the model
// (provider-protocols.md 8.2, 8.3, 8.4).
#include <cctype>
#include <string>
#include <string_view>
#include <utility>

#include "sb/caltime/caltime.h"
#include "sb/caltime/windows_zones.h"
#include "sb/sync/calendar/fields.h"
#include "sb/sync/calendar/graph_recurrence.h"
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

std::string Lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

ResponseStatus GraphResponse(std::string_view s) {
  if (s == "accepted" || s == "organizer") return ResponseStatus::kAccepted;
  if (s == "tentativelyAccepted") return ResponseStatus::kTentative;
  if (s == "declined") return ResponseStatus::kDeclined;
  return ResponseStatus::kNeedsAction;  // none, notResponded, and values added later
}

Visibility GraphVisibility(std::string_view sensitivity) {
  if (sensitivity == "private" || sensitivity == "personal") return Visibility::kPrivate;
  if (sensitivity == "confidential") return Visibility::kConfidential;
  return Visibility::kDefault;
}

Result<EventKind> GraphKind(const Json& item) {
  SB_ASSIGN_OR_RETURN(const std::string type, StringMember(item, "type", kMaxIdBytes, "type"));
  if (type.empty() || type == "singleInstance") return EventKind::kSingle;
  if (type == "seriesMaster") return EventKind::kSeriesMaster;
  if (type == "exception") return EventKind::kException;
  if (type == "occurrence") return EventKind::kOccurrence;
  return FieldError("type", "unknown value");
}

// A known zone name (IANA or Windows) as IANA; nullopt when absent or unknown.
Result<std::optional<std::string>> OptionalZone(const Json& object, std::string_view key,
                                                std::string_view field) {
  SB_ASSIGN_OR_RETURN(const std::string name, StringMember(object, key, kMaxIdBytes, field));
  if (name.empty()) return std::optional<std::string>();
  Result<std::string> iana = caltime::ResolveZone(name);
  if (!iana.ok()) return std::optional<std::string>();
  return std::optional<std::string>(*std::move(iana));
}

// A dateTimeTimeZone: wall time without offset in `timeZone` (UTC when absent). All-day
// events keep the local date. `event_zone` is the zone the event was made in, kept as its
// time_zone (Graph renders times in UTC unless asked otherwise).
Result<EventTime> GraphTime(const Json& item, std::string_view key, bool all_day,
                            const std::optional<std::string>& event_zone) {
  SB_ASSIGN_OR_RETURN(const Json* value, ObjectMember(item, key, key));
  if (value == nullptr) return FieldError(key, "missing");
  const std::string zone_field = FieldName(key, "timeZone");
  SB_ASSIGN_OR_RETURN(const std::string name,
                      StringMember(*value, "timeZone", kMaxIdBytes, zone_field));
  Result<std::string> zone = caltime::ResolveZone(name.empty() ? "UTC" : name);
  if (!zone.ok()) return FieldError(zone_field, "unknown time zone");
  const std::string text_field = FieldName(key, "dateTime");
  SB_ASSIGN_OR_RETURN(
      const std::string text,
      internal::RequiredString(*value, "dateTime", internal::kMaxTimeBytes, text_field));
  EventTime time;
  time.time_zone = event_zone.value_or(*zone);
  if (all_day) {
    SB_ASSIGN_OR_RETURN(time.date, internal::CheckDate(text.substr(0, 10), text_field));
    return time;
  }
  const Result<int64_t> utc = caltime::LocalToUtc(text, *zone);
  if (!utc.ok()) return FieldError(text_field, "malformed date-time");
  SB_ASSIGN_OR_RETURN(time.instant_ms, internal::CheckInstant(*utc, text_field));
  return time;
}

// originalStart (exceptions and occurrences): a DateTimeOffset; all-day slots as their date
// in the event's zone.
Status GraphOriginalStart(const Json& item, Event& e) {
  SB_ASSIGN_OR_RETURN(const std::optional<int64_t> original,
                      internal::InstantMember(item, "originalStart", "originalStart"));
  if (!original) {
    if (e.kind == EventKind::kOccurrence) e.original_start = e.start;
    return OkStatus();
  }
  EventTime slot;
  slot.time_zone = e.start.time_zone;
  if (e.all_day) {
    const Result<caltime::LocalDateTime> local =
        caltime::UtcToLocal(*original, slot.time_zone.empty() ? "UTC" : slot.time_zone);
    if (!local.ok()) return FieldError("originalStart", "out of range");
    char buf[16];
    std::snprintf(buf, sizeof(buf), "%04d-%02d-%02d", local->year, local->month, local->day);
    SB_ASSIGN_OR_RETURN(slot.date, internal::CheckDate(buf, "originalStart"));
  } else {
    slot.instant_ms = *original;
  }
  e.original_start = std::move(slot);
  return OkStatus();
}

Status GraphTimes(const Json& item, Event& e) {
  SB_ASSIGN_OR_RETURN(e.all_day, BoolMember(item, "isAllDay", false, "isAllDay"));
  // The zone the event was created in; masters expand in their recurrence's zone.
  SB_ASSIGN_OR_RETURN(std::optional<std::string> zone,
                      OptionalZone(item, "originalStartTimeZone", "originalStartTimeZone"));
  SB_ASSIGN_OR_RETURN(const Json* recurrence, ObjectMember(item, "recurrence", "recurrence"));
  if (recurrence != nullptr) {
    SB_ASSIGN_OR_RETURN(const std::string series_zone,
                        GraphRecurrenceZone(*recurrence, zone.value_or("")));
    if (!series_zone.empty()) zone = series_zone;
  }
  SB_ASSIGN_OR_RETURN(e.start, GraphTime(item, "start", e.all_day, zone));
  SB_ASSIGN_OR_RETURN(e.end, GraphTime(item, "end", e.all_day, zone));
  if (e.all_day ? e.end.date < e.start.date : *e.end.instant_ms < *e.start.instant_ms) {
    return FieldError("end", "before start");
  }
  if (recurrence != nullptr && e.kind == EventKind::kSeriesMaster) {
    SB_ASSIGN_OR_RETURN(std::string rule,
                        GraphRecurrenceToRrule(*recurrence, e.start.time_zone, e.all_day));
    e.recurrence.push_back(std::move(rule));
  }
  return GraphOriginalStart(item, e);
}

Result<std::pair<std::string, std::string>> EmailAddress(const Json& holder,
                                                         std::string_view field) {
  SB_ASSIGN_OR_RETURN(const Json* address,
                      ObjectMember(holder, "emailAddress", FieldName(field, "emailAddress")));
  if (address == nullptr) return std::pair<std::string, std::string>();
  SB_ASSIGN_OR_RETURN(std::string email, StringMember(*address, "address", kMaxIdBytes,
                                                      FieldName(field, "emailAddress.address")));
  SB_ASSIGN_OR_RETURN(std::string name, StringMember(*address, "name", kMaxTitleBytes,
                                                     FieldName(field, "emailAddress.name")));
  return std::pair{std::move(email), std::move(name)};
}

Result<Attendee> GraphAttendee(const Json& item, const std::string& organizer_email) {
  if (!item.is_object()) return FieldError("attendees", "items must be objects");
  Attendee a;
  SB_ASSIGN_OR_RETURN(auto address, EmailAddress(item, "attendees"));
  a.email = std::move(address.first);
  a.name = std::move(address.second);
  // Read through the Result rather than a copy: g++ 12 at -O3 reports a false
  // maybe-uninitialized on the moved-out string here.
  const Result<std::string> type = StringMember(item, "type", kMaxIdBytes, "attendees.type");
  if (!type.ok()) return type.status();
  a.optional = type.value() == "optional";
  a.resource = type.value() == "resource";
  SB_ASSIGN_OR_RETURN(const Json* status, ObjectMember(item, "status", "attendees.status"));
  std::string response;
  if (status != nullptr) {
    SB_ASSIGN_OR_RETURN(
        response, StringMember(*status, "response", kMaxIdBytes, "attendees.status.response"));
  }
  a.response = GraphResponse(response);
  a.organizer =
      response == "organizer" || (!a.email.empty() && Lower(a.email) == Lower(organizer_email));
  return a;
}

Status GraphPeople(const Json& item, Event& e) {
  SB_ASSIGN_OR_RETURN(const Json* organizer, ObjectMember(item, "organizer", "organizer"));
  if (organizer != nullptr) {
    SB_ASSIGN_OR_RETURN(auto address, EmailAddress(*organizer, "organizer"));
    e.organizer_email = std::move(address.first);
    e.organizer_name = std::move(address.second);
  }
  SB_ASSIGN_OR_RETURN(const Json* attendees,
                      ArrayMember(item, "attendees", internal::kMaxAttendees, "attendees"));
  if (attendees == nullptr) return OkStatus();
  for (const Json& attendee : *attendees) {
    SB_ASSIGN_OR_RETURN(Attendee a, GraphAttendee(attendee, e.organizer_email));
    e.attendees.push_back(std::move(a));
  }
  return OkStatus();
}

Status GraphBody(const Json& item, Event& e) {
  SB_ASSIGN_OR_RETURN(const Json* body, ObjectMember(item, "body", "body"));
  if (body == nullptr) return OkStatus();
  SB_ASSIGN_OR_RETURN(const std::string type,
                      StringMember(*body, "contentType", kMaxIdBytes, "body.contentType"));
  SB_ASSIGN_OR_RETURN(std::string content,
                      StringMember(*body, "content", internal::kMaxTextBytes, "body.content"));
  if (Lower(type) == "html") {
    e.description_text = internal::HtmlToText(content);
    e.description_html = std::move(content);
  } else {
    e.description_text = std::move(content);
  }
  return OkStatus();
}

// onlineMeeting.joinUrl, else onlineMeetingUrl.
Result<std::string> GraphConference(const Json& item) {
  SB_ASSIGN_OR_RETURN(const Json* meeting, ObjectMember(item, "onlineMeeting", "onlineMeeting"));
  if (meeting != nullptr) {
    SB_ASSIGN_OR_RETURN(std::string url,
                        StringMember(*meeting, "joinUrl", kMaxTitleBytes, "onlineMeeting.joinUrl"));
    if (!url.empty()) return url;
  }
  return StringMember(item, "onlineMeetingUrl", kMaxTitleBytes, "onlineMeetingUrl");
}

Status GraphReminders(const Json& item, Event& e) {
  SB_ASSIGN_OR_RETURN(const bool on, BoolMember(item, "isReminderOn", false, "isReminderOn"));
  SB_ASSIGN_OR_RETURN(const std::optional<int64_t> minutes,
                      IntMember(item, "reminderMinutesBeforeStart", 0,
                                internal::kMaxReminderMinutes, "reminderMinutesBeforeStart"));
  e.reminders_use_default = false;
  if (on) e.reminders.push_back({"popup", static_cast<int>(minutes.value_or(0))});
  return OkStatus();
}

// changeKey, else the one inside @odata.etag (W/"<changeKey>"): stripped occurrences carry
// only the latter.
Result<std::string> GraphVersion(const Json& item) {
  SB_ASSIGN_OR_RETURN(std::string key, StringMember(item, "changeKey", kMaxIdBytes, "changeKey"));
  if (!key.empty()) return key;
  SB_ASSIGN_OR_RETURN(std::string etag,
                      StringMember(item, "@odata.etag", kMaxIdBytes, "@odata.etag"));
  if (etag.size() >= 4 && etag.compare(0, 3, "W/\"") == 0 && etag.back() == '"') {
    return etag.substr(3, etag.size() - 4);
  }
  return etag;
}

Status GraphText(const Json& item, Event& e) {
  SB_ASSIGN_OR_RETURN(e.ical_uid, StringMember(item, "iCalUId", kMaxIdBytes, "iCalUId"));
  SB_ASSIGN_OR_RETURN(e.title, StringMember(item, "subject", kMaxTitleBytes, "subject"));
  SB_RETURN_IF_ERROR(GraphBody(item, e));
  SB_ASSIGN_OR_RETURN(const Json* location, ObjectMember(item, "location", "location"));
  if (location != nullptr) {
    SB_ASSIGN_OR_RETURN(
        e.location, StringMember(*location, "displayName", kMaxTitleBytes, "location.displayName"));
  }
  SB_ASSIGN_OR_RETURN(e.conference_url, GraphConference(item));
  SB_ASSIGN_OR_RETURN(const std::string show_as,
                      StringMember(item, "showAs", kMaxIdBytes, "showAs"));
  e.transparency = show_as == "free" ? Transparency::kTransparent : Transparency::kOpaque;
  SB_ASSIGN_OR_RETURN(const std::string sensitivity,
                      StringMember(item, "sensitivity", kMaxIdBytes, "sensitivity"));
  e.visibility = GraphVisibility(sensitivity);
  SB_ASSIGN_OR_RETURN(const bool cancelled, BoolMember(item, "isCancelled", false, "isCancelled"));
  if (cancelled) e.status = EventStatus::kCancelled;
  SB_ASSIGN_OR_RETURN(e.created_ms,
                      internal::InstantMember(item, "createdDateTime", "createdDateTime"));
  SB_ASSIGN_OR_RETURN(
      e.updated_ms, internal::InstantMember(item, "lastModifiedDateTime", "lastModifiedDateTime"));
  return OkStatus();
}

}  // namespace

Result<Calendar> CalendarFromGraph(const Json& item) {
  if (!item.is_object()) return InvalidArgumentError("calendar must be an object");
  Calendar c;
  SB_ASSIGN_OR_RETURN(c.provider_id, internal::RequiredString(item, "id", kMaxIdBytes, "id"));
  SB_ASSIGN_OR_RETURN(c.name, StringMember(item, "name", kMaxTitleBytes, "name"));
  SB_ASSIGN_OR_RETURN(c.primary, BoolMember(item, "isDefaultCalendar", false, "isDefaultCalendar"));
  SB_ASSIGN_OR_RETURN(const bool can_edit, BoolMember(item, "canEdit", false, "canEdit"));
  c.access_role = c.primary  ? AccessRole::kOwner
                  : can_edit ? AccessRole::kWriter
                             : AccessRole::kReader;
  SB_ASSIGN_OR_RETURN(const std::string color,
                      StringMember(item, "hexColor", kMaxIdBytes, "hexColor"));
  if (color.size() == 7 && color[0] == '#') c.color = color;
  SB_ASSIGN_OR_RETURN(c.version, StringMember(item, "changeKey", kMaxIdBytes, "changeKey"));
  return c;
}

Result<EventChange> EventFromGraph(const Json& item) {
  if (!item.is_object()) return InvalidArgumentError("event must be an object");
  EventChange change;
  SB_ASSIGN_OR_RETURN(change.provider_id, internal::RequiredString(item, "id", kMaxIdBytes, "id"));
  if (item.contains("@removed")) return change;
  SB_ASSIGN_OR_RETURN(change.transaction_id,
                      StringMember(item, "transactionId", kMaxIdBytes, "transactionId"));
  Event e;
  e.provider_id = change.provider_id;
  SB_ASSIGN_OR_RETURN(e.kind, GraphKind(item));
  SB_ASSIGN_OR_RETURN(e.series_master_provider_id,
                      StringMember(item, "seriesMasterId", kMaxIdBytes, "seriesMasterId"));
  if ((e.kind == EventKind::kException || e.kind == EventKind::kOccurrence) &&
      e.series_master_provider_id.empty()) {
    return FieldError("seriesMasterId", "missing");
  }
  SB_ASSIGN_OR_RETURN(e.version, GraphVersion(item));
  SB_RETURN_IF_ERROR(GraphTimes(item, e));
  SB_RETURN_IF_ERROR(GraphText(item, e));
  SB_RETURN_IF_ERROR(GraphPeople(item, e));
  SB_RETURN_IF_ERROR(GraphReminders(item, e));
  change.event = std::move(e);
  return change;
}

}  // namespace sb::sync::calendar
