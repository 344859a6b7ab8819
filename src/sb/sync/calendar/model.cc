// The model's own JSON (what the API shows and the store keeps) and event spans. The provider
// translations are in google_item.cc and graph_item.cc.
#include "sb/sync/calendar/model.h"

#include <algorithm>
#include <array>
#include <utility>

#include "sb/caltime/caltime.h"
#include "sb/caltime/recurrence.h"
#include "sb/sync/calendar/fields.h"

namespace sb::sync::calendar {
namespace {

using internal::ArrayMember;
using internal::BoolMember;
using internal::FieldError;
using internal::FieldName;
using internal::IntMember;
using internal::ObjectMember;
using internal::StringMember;

constexpr int64_t kDayMs = 86'400'000;
// A finite series with more occurrences than this gets an open span: computing its last
// occurrence would cost more than the bound is worth for window queries.
constexpr size_t kMaxSpanOccurrences = 10'000;

template <typename E, size_t N>
using NameTable = std::array<std::pair<E, std::string_view>, N>;

constexpr NameTable<AccessRole, 4> kAccessRoles = {
    {{AccessRole::kFreeBusyReader, "free_busy_reader"},
     {AccessRole::kReader, "reader"},
     {AccessRole::kWriter, "writer"},
     {AccessRole::kOwner, "owner"}}};
constexpr NameTable<EventStatus, 3> kStatuses = {{{EventStatus::kConfirmed, "confirmed"},
                                                  {EventStatus::kTentative, "tentative"},
                                                  {EventStatus::kCancelled, "cancelled"}}};
constexpr NameTable<EventKind, 4> kKinds = {{{EventKind::kSingle, "single"},
                                             {EventKind::kSeriesMaster, "series_master"},
                                             {EventKind::kException, "exception"},
                                             {EventKind::kOccurrence, "occurrence"}}};
constexpr NameTable<Transparency, 2> kTransparencies = {
    {{Transparency::kOpaque, "opaque"}, {Transparency::kTransparent, "transparent"}}};
constexpr NameTable<Visibility, 4> kVisibilities = {{{Visibility::kDefault, "default"},
                                                     {Visibility::kPublic, "public"},
                                                     {Visibility::kPrivate, "private"},
                                                     {Visibility::kConfidential, "confidential"}}};
constexpr NameTable<ResponseStatus, 4> kResponses = {
    {{ResponseStatus::kNeedsAction, "needs_action"},
     {ResponseStatus::kAccepted, "accepted"},
     {ResponseStatus::kTentative, "tentative"},
     {ResponseStatus::kDeclined, "declined"}}};

template <typename E, size_t N>
std::string_view NameOf(const NameTable<E, N>& table, E value) {
  for (const auto& [v, name] : table) {
    if (v == value) return name;
  }
  return "unknown";
}

// The enum named by a string member; INVALID_ARGUMENT for another name.
template <typename E, size_t N>
Result<E> EnumMember(const NameTable<E, N>& table, const Json& json, std::string_view key,
                     E absent_value) {
  SB_ASSIGN_OR_RETURN(const std::string name, StringMember(json, key, 64, key));
  if (name.empty()) return absent_value;
  for (const auto& [v, n] : table) {
    if (n == name) return v;
  }
  return FieldError(key, "unknown value");
}

Json EventTimeToJson(const EventTime& time) {
  Json out = Json::object();
  if (time.instant_ms) out["instant"] = caltime::FormatUtcMillis(*time.instant_ms);
  if (!time.date.empty()) out["date"] = time.date;
  out["time_zone"] = time.time_zone;
  return out;
}

Result<EventTime> EventTimeFromJson(const Json& json, std::string_view field) {
  if (!json.is_object()) return FieldError(field, "must be an object");
  EventTime time;
  SB_ASSIGN_OR_RETURN(time.instant_ms,
                      internal::InstantMember(json, "instant", FieldName(field, "instant")));
  SB_ASSIGN_OR_RETURN(const std::string date, StringMember(json, "date", internal::kMaxTimeBytes,
                                                           FieldName(field, "date")));
  if (!date.empty()) {
    SB_ASSIGN_OR_RETURN(time.date, internal::CheckDate(date, FieldName(field, "date")));
  }
  SB_ASSIGN_OR_RETURN(time.time_zone, StringMember(json, "time_zone", internal::kMaxIdBytes,
                                                   FieldName(field, "time_zone")));
  return time;
}

Result<EventTime> RequiredTime(const Json& json, std::string_view key) {
  SB_ASSIGN_OR_RETURN(const Json* value, ObjectMember(json, key, key));
  if (value == nullptr) return FieldError(key, "missing");
  return EventTimeFromJson(*value, key);
}

Json AttendeeToJson(const Attendee& a) {
  return {{"email", a.email},
          {"name", a.name},
          {"response", ResponseStatusName(a.response)},
          {"optional", a.optional},
          {"organizer", a.organizer},
          {"resource", a.resource},
          {"self", a.self}};
}

Result<Attendee> AttendeeFromJson(const Json& json) {
  if (!json.is_object()) return FieldError("attendees", "items must be objects");
  Attendee a;
  SB_ASSIGN_OR_RETURN(a.email,
                      StringMember(json, "email", internal::kMaxIdBytes, "attendees.email"));
  SB_ASSIGN_OR_RETURN(a.name,
                      StringMember(json, "name", internal::kMaxTitleBytes, "attendees.name"));
  SB_ASSIGN_OR_RETURN(a.response,
                      EnumMember(kResponses, json, "response", ResponseStatus::kNeedsAction));
  SB_ASSIGN_OR_RETURN(a.optional, BoolMember(json, "optional", false, "attendees.optional"));
  SB_ASSIGN_OR_RETURN(a.organizer, BoolMember(json, "organizer", false, "attendees.organizer"));
  SB_ASSIGN_OR_RETURN(a.resource, BoolMember(json, "resource", false, "attendees.resource"));
  SB_ASSIGN_OR_RETURN(a.self, BoolMember(json, "self", false, "attendees.self"));
  return a;
}

Result<std::vector<Attendee>> AttendeesFromJson(const Json& json) {
  SB_ASSIGN_OR_RETURN(const Json* items,
                      ArrayMember(json, "attendees", internal::kMaxAttendees, "attendees"));
  std::vector<Attendee> out;
  if (items == nullptr) return out;
  for (const Json& item : *items) {
    SB_ASSIGN_OR_RETURN(Attendee a, AttendeeFromJson(item));
    out.push_back(std::move(a));
  }
  return out;
}

Result<Reminder> ReminderFromJson(const Json& json) {
  if (!json.is_object()) return FieldError("reminders.overrides", "items must be objects");
  Reminder r;
  SB_ASSIGN_OR_RETURN(
      r.method, StringMember(json, "method", internal::kMaxIdBytes, "reminders.overrides.method"));
  SB_ASSIGN_OR_RETURN(
      const auto minutes,
      IntMember(json, "minutes", 0, internal::kMaxReminderMinutes, "reminders.overrides.minutes"));
  r.minutes = static_cast<int>(minutes.value_or(0));
  return r;
}

// Reads {"use_default": bool, "overrides": [...]} into the event.
Status RemindersFromJson(const Json& json, Event& event) {
  SB_ASSIGN_OR_RETURN(const Json* reminders, ObjectMember(json, "reminders", "reminders"));
  if (reminders == nullptr) return OkStatus();
  SB_ASSIGN_OR_RETURN(event.reminders_use_default,
                      BoolMember(*reminders, "use_default", true, "reminders.use_default"));
  SB_ASSIGN_OR_RETURN(
      const Json* items,
      ArrayMember(*reminders, "overrides", internal::kMaxReminders, "reminders.overrides"));
  if (items == nullptr) return OkStatus();
  for (const Json& item : *items) {
    SB_ASSIGN_OR_RETURN(Reminder r, ReminderFromJson(item));
    event.reminders.push_back(std::move(r));
  }
  return OkStatus();
}

Result<std::vector<std::string>> RecurrenceFromJson(const Json& json) {
  SB_ASSIGN_OR_RETURN(const Json* lines,
                      ArrayMember(json, "recurrence", internal::kMaxRecurrenceLines, "recurrence"));
  std::vector<std::string> out;
  if (lines == nullptr) return out;
  for (const Json& line : *lines) {
    if (!line.is_string()) return FieldError("recurrence", "items must be strings");
    const auto& text = line.get_ref<const std::string&>();
    if (text.size() > internal::kMaxTitleBytes) return FieldError("recurrence", "line too long");
    out.push_back(text);
  }
  return out;
}

// The identity, kind and descriptive members of a stored event.
Status EventHeaderFromJson(const Json& json, Event& e) {
  using internal::kMaxIdBytes;
  using internal::kMaxTitleBytes;
  SB_ASSIGN_OR_RETURN(e.provider_id,
                      internal::RequiredString(json, "provider_id", kMaxIdBytes, "provider_id"));
  SB_ASSIGN_OR_RETURN(e.version, StringMember(json, "version", kMaxIdBytes, "version"));
  SB_ASSIGN_OR_RETURN(e.ical_uid, StringMember(json, "ical_uid", kMaxIdBytes, "ical_uid"));
  SB_ASSIGN_OR_RETURN(e.kind, EnumMember(kKinds, json, "kind", EventKind::kSingle));
  SB_ASSIGN_OR_RETURN(
      e.series_master_provider_id,
      StringMember(json, "series_master_provider_id", kMaxIdBytes, "series_master_provider_id"));
  SB_ASSIGN_OR_RETURN(const Json* original, ObjectMember(json, "original_start", "original_start"));
  if (original != nullptr) {
    SB_ASSIGN_OR_RETURN(e.original_start, EventTimeFromJson(*original, "original_start"));
  }
  SB_ASSIGN_OR_RETURN(e.status, EnumMember(kStatuses, json, "status", EventStatus::kConfirmed));
  SB_ASSIGN_OR_RETURN(e.title, StringMember(json, "title", kMaxTitleBytes, "title"));
  SB_ASSIGN_OR_RETURN(
      e.description_html,
      StringMember(json, "description_html", internal::kMaxTextBytes, "description_html"));
  SB_ASSIGN_OR_RETURN(
      e.description_text,
      StringMember(json, "description_text", internal::kMaxTextBytes, "description_text"));
  SB_ASSIGN_OR_RETURN(e.location, StringMember(json, "location", kMaxTitleBytes, "location"));
  SB_ASSIGN_OR_RETURN(e.conference_url,
                      StringMember(json, "conference_url", kMaxTitleBytes, "conference_url"));
  return OkStatus();
}

// Times, flags, people, reminders and recurrence of a stored event.
Status EventBodyFromJson(const Json& json, Event& e) {
  SB_ASSIGN_OR_RETURN(e.start, RequiredTime(json, "start"));
  SB_ASSIGN_OR_RETURN(e.end, RequiredTime(json, "end"));
  SB_ASSIGN_OR_RETURN(e.all_day, BoolMember(json, "all_day", false, "all_day"));
  SB_ASSIGN_OR_RETURN(e.transparency,
                      EnumMember(kTransparencies, json, "transparency", Transparency::kOpaque));
  SB_ASSIGN_OR_RETURN(e.visibility,
                      EnumMember(kVisibilities, json, "visibility", Visibility::kDefault));
  SB_ASSIGN_OR_RETURN(const Json* organizer, ObjectMember(json, "organizer", "organizer"));
  if (organizer != nullptr) {
    SB_ASSIGN_OR_RETURN(e.organizer_email, StringMember(*organizer, "email", internal::kMaxIdBytes,
                                                        "organizer.email"));
    SB_ASSIGN_OR_RETURN(e.organizer_name, StringMember(*organizer, "name", internal::kMaxTitleBytes,
                                                       "organizer.name"));
  }
  SB_ASSIGN_OR_RETURN(e.attendees, AttendeesFromJson(json));
  SB_RETURN_IF_ERROR(RemindersFromJson(json, e));
  SB_ASSIGN_OR_RETURN(e.recurrence, RecurrenceFromJson(json));
  SB_ASSIGN_OR_RETURN(e.created_ms, internal::InstantMember(json, "created", "created"));
  SB_ASSIGN_OR_RETURN(e.updated_ms, internal::InstantMember(json, "updated", "updated"));
  return OkStatus();
}

// Extends a master's first-occurrence span to the end of its last occurrence; an open end
// when the series never ends, or when its end cannot be computed safely (a malformed or
// guarded rule, or too many occurrences): a window query then over-includes, never misses.
Span SeriesSpan(const Event& master, Span first) {
  const Span open{first.start_ms, std::nullopt};
  if (internal::HasUnsafeSubDailyRule(master.recurrence)) return open;
  const Result<bool> infinite = caltime::IsInfiniteRecurrence(master.recurrence);
  if (!infinite.ok() || *infinite) return open;
  const Result<caltime::EventTime> series_start = internal::SeriesStart(master);
  if (!series_start.ok()) return open;
  const auto starts = caltime::ExpandRecurrence(*series_start, master.recurrence, first.start_ms,
                                                internal::kMaxInstantMs, kMaxSpanOccurrences);
  if (!starts.ok() || starts->size() >= kMaxSpanOccurrences) return open;
  const int64_t duration = *first.end_ms - first.start_ms;
  for (const caltime::EventTime& start : *starts) {
    first.end_ms = std::max(*first.end_ms, start.utc_ms + duration);
  }
  return first;
}

}  // namespace

namespace internal {
// Start and end of a one-off event (or of one occurrence) in UTC ms; end >= start.
Result<Span> SingleSpan(const Event& event) {
  Span span;
  if (event.all_day) {
    SB_ASSIGN_OR_RETURN(const std::string start,
                        internal::CheckDate(event.start.date, "start.date"));
    span.start_ms = *caltime::ParseDate(start);
    span.end_ms = span.start_ms + kDayMs;
    if (!event.end.date.empty()) {
      SB_ASSIGN_OR_RETURN(const std::string end, internal::CheckDate(event.end.date, "end.date"));
      span.end_ms = *caltime::ParseDate(end);
    }
  } else {
    if (!event.start.instant_ms) return FieldError("start", "missing");
    // Events built in code may carry any instant; arithmetic on spans needs the model's range.
    SB_ASSIGN_OR_RETURN(span.start_ms, internal::CheckInstant(*event.start.instant_ms, "start"));
    SB_ASSIGN_OR_RETURN(
        span.end_ms, internal::CheckInstant(event.end.instant_ms.value_or(span.start_ms), "end"));
  }
  span.end_ms = std::max(*span.end_ms, span.start_ms);
  return span;
}

}  // namespace internal

std::string_view AccessRoleName(AccessRole v) { return NameOf(kAccessRoles, v); }
std::string_view EventStatusName(EventStatus v) { return NameOf(kStatuses, v); }
std::string_view EventKindName(EventKind v) { return NameOf(kKinds, v); }
std::string_view TransparencyName(Transparency v) { return NameOf(kTransparencies, v); }
std::string_view VisibilityName(Visibility v) { return NameOf(kVisibilities, v); }
std::string_view ResponseStatusName(ResponseStatus v) { return NameOf(kResponses, v); }

Json CalendarToJson(const Calendar& c) {
  return {{"provider_id", c.provider_id}, {"name", c.name},
          {"primary", c.primary},         {"access_role", AccessRoleName(c.access_role)},
          {"time_zone", c.time_zone},     {"color", c.color},
          {"version", c.version},         {"deleted", c.deleted}};
}

Result<Calendar> CalendarFromJson(const Json& json) {
  using internal::kMaxIdBytes;
  if (!json.is_object()) return InvalidArgumentError("calendar must be a JSON object");
  Calendar c;
  SB_ASSIGN_OR_RETURN(c.provider_id,
                      internal::RequiredString(json, "provider_id", kMaxIdBytes, "provider_id"));
  SB_ASSIGN_OR_RETURN(c.name, StringMember(json, "name", internal::kMaxTitleBytes, "name"));
  SB_ASSIGN_OR_RETURN(c.primary, BoolMember(json, "primary", false, "primary"));
  SB_ASSIGN_OR_RETURN(c.access_role,
                      EnumMember(kAccessRoles, json, "access_role", AccessRole::kReader));
  SB_ASSIGN_OR_RETURN(c.time_zone, StringMember(json, "time_zone", kMaxIdBytes, "time_zone"));
  SB_ASSIGN_OR_RETURN(c.color, StringMember(json, "color", kMaxIdBytes, "color"));
  SB_ASSIGN_OR_RETURN(c.version, StringMember(json, "version", kMaxIdBytes, "version"));
  SB_ASSIGN_OR_RETURN(c.deleted, BoolMember(json, "deleted", false, "deleted"));
  return c;
}

Json EventToJson(const Event& e) {
  Json out = {{"provider_id", e.provider_id},
              {"version", e.version},
              {"ical_uid", e.ical_uid},
              {"kind", EventKindName(e.kind)},
              {"series_master_provider_id", e.series_master_provider_id},
              {"status", EventStatusName(e.status)},
              {"title", e.title},
              {"description_html", e.description_html},
              {"description_text", e.description_text},
              {"location", e.location},
              {"start", EventTimeToJson(e.start)},
              {"end", EventTimeToJson(e.end)},
              {"all_day", e.all_day},
              {"transparency", TransparencyName(e.transparency)},
              {"visibility", VisibilityName(e.visibility)},
              {"organizer", {{"email", e.organizer_email}, {"name", e.organizer_name}}},
              {"conference_url", e.conference_url},
              {"recurrence", e.recurrence}};
  if (e.original_start) out["original_start"] = EventTimeToJson(*e.original_start);
  Json attendees = Json::array();
  for (const Attendee& a : e.attendees) attendees.push_back(AttendeeToJson(a));
  out["attendees"] = std::move(attendees);
  Json overrides = Json::array();
  for (const Reminder& r : e.reminders) {
    overrides.push_back({{"method", r.method}, {"minutes", r.minutes}});
  }
  out["reminders"] = {{"use_default", e.reminders_use_default},
                      {"overrides", std::move(overrides)}};
  if (e.created_ms) out["created"] = caltime::FormatUtcMillis(*e.created_ms);
  if (e.updated_ms) out["updated"] = caltime::FormatUtcMillis(*e.updated_ms);
  return out;
}

Result<Event> EventFromJson(const Json& json) {
  if (!json.is_object()) return InvalidArgumentError("event must be a JSON object");
  Event e;
  SB_RETURN_IF_ERROR(EventHeaderFromJson(json, e));
  SB_RETURN_IF_ERROR(EventBodyFromJson(json, e));
  return e;
}

Result<Span> EventSpan(const Event& event) {
  SB_ASSIGN_OR_RETURN(Span span, internal::SingleSpan(event));
  if (event.recurrence.empty() || event.kind != EventKind::kSeriesMaster) return span;
  return SeriesSpan(event, span);
}

}  // namespace sb::sync::calendar
