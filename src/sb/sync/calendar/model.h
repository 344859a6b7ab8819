// The unified calendar model (issue 15, PRODUCT.md section 7): one shape for Google Calendar
// and Microsoft Graph calendars and events, what the host reads from /v1 and what the store
// keeps as JSON (store/calendar/calendar_repository.h), and the translation of each provider's
// wire items into it (provider-protocols.md 3.3, 3.8, 8.2, 8.3, 8.4).
//
// Events are stored as the provider's collection gives them without expanding series: single
// events, series masters (with their recurrence as RFC 5545 lines) and exceptions (moved or
// cancelled occurrences, tied to their master by the master's provider id and their original
// start). Graph's stripped `occurrence` items are not stored: they follow from the master.
//
// Every function here is pure and thread-safe; provider input is hostile and a malformed item
// is an INVALID_ARGUMENT naming the field, never a crash.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sb/base/json.h"
#include "sb/base/status.h"

namespace sb::sync::calendar {

enum class AccessRole { kFreeBusyReader, kReader, kWriter, kOwner };
enum class EventStatus { kConfirmed, kTentative, kCancelled };
enum class EventKind { kSingle, kSeriesMaster, kException, kOccurrence };
enum class Transparency { kOpaque, kTransparent };
enum class Visibility { kDefault, kPublic, kPrivate, kConfidential };
enum class ResponseStatus { kNeedsAction, kAccepted, kTentative, kDeclined };

std::string_view AccessRoleName(AccessRole v);      // "free_busy_reader", "reader", ...
std::string_view EventStatusName(EventStatus v);    // "confirmed", "tentative", "cancelled"
std::string_view EventKindName(EventKind v);        // "single", "series_master", "exception", ...
std::string_view TransparencyName(Transparency v);  // "opaque", "transparent"
std::string_view VisibilityName(Visibility v);      // "default", "public", ...
std::string_view ResponseStatusName(ResponseStatus v);  // "needs_action", "accepted", ...

struct Calendar {
  std::string provider_id;
  std::string name;
  bool primary = false;
  AccessRole access_role = AccessRole::kReader;
  std::string time_zone;  // IANA ("Europe/Zurich"); Windows names mapped; "" when unknown
  std::string color;      // "#rrggbb" or ""
  std::string version;    // etag / changeKey
  bool deleted = false;   // Google calendarList entries with deleted: true
  friend bool operator==(const Calendar&, const Calendar&) = default;
};

// A point in time, or a day for all-day events.
struct EventTime {
  std::optional<int64_t> instant_ms;  // timed events: UTC milliseconds
  std::string date;                   // all-day events: "yyyy-mm-dd" (end: exclusive)
  std::string time_zone;              // IANA; "" when the provider gave none
  friend bool operator==(const EventTime&, const EventTime&) = default;
};

struct Attendee {
  std::string email;
  std::string name;
  ResponseStatus response = ResponseStatus::kNeedsAction;
  bool optional = false;
  bool organizer = false;
  bool resource = false;
  bool self = false;
  friend bool operator==(const Attendee&, const Attendee&) = default;
};

struct Reminder {
  std::string method;  // "popup", "email"
  int minutes = 0;
  friend bool operator==(const Reminder&, const Reminder&) = default;
};

struct Event {
  std::string provider_id;
  std::string version;  // Google etag, Graph changeKey
  std::string ical_uid;
  EventKind kind = EventKind::kSingle;
  std::string series_master_provider_id;    // exceptions and occurrences
  std::optional<EventTime> original_start;  // exceptions: the slot they replace
  EventStatus status = EventStatus::kConfirmed;
  std::string title;
  std::string description_html;  // as the provider has it ("" when it has only text)
  std::string description_text;  // plain text (tags stripped when the provider has HTML)
  std::string location;
  EventTime start;
  EventTime end;
  bool all_day = false;
  Transparency transparency = Transparency::kOpaque;
  Visibility visibility = Visibility::kDefault;
  std::string organizer_email;
  std::string organizer_name;
  std::vector<Attendee> attendees;
  std::string conference_url;  // Google hangoutLink / conferenceData, Graph onlineMeeting
  bool reminders_use_default = true;
  std::vector<Reminder> reminders;
  // Series masters: RFC 5545 lines ("RRULE:...", "EXDATE;TZID=...:...", "RDATE..."); Graph's
  // recurrence pattern and range are translated to an RRULE in the series' zone.
  std::vector<std::string> recurrence;
  std::optional<int64_t> created_ms;
  std::optional<int64_t> updated_ms;
  friend bool operator==(const Event&, const Event&) = default;
};

// One item of a provider page: an event, or the removal of `provider_id` (Google's sparse
// cancelled items that are not exceptions of a live series, Graph's @removed).
struct EventChange {
  std::string provider_id;
  std::optional<Event> event;  // nullopt: removed at the provider
  // Graph: the transactionId the creating client sent (Switchboard's writes send their
  // mapping's id), so the sync recognises an event whose creation is still being settled.
  std::string transaction_id;
  friend bool operator==(const EventChange&, const EventChange&) = default;
};

// Google calendarList entry / events item (`calendar_time_zone`: the calendar's zone, used for
// all-day and floating times).
Result<Calendar> CalendarFromGoogle(const Json& item);
Result<EventChange> EventFromGoogle(const Json& item, std::string_view calendar_time_zone);
// Graph calendar / event (also delta items with @removed).
Result<Calendar> CalendarFromGraph(const Json& item);
Result<EventChange> EventFromGraph(const Json& item);

// The JSON the API shows and the store keeps (snake_case members, enums by name, instants as
// RFC 3339 UTC strings with milliseconds), and back (INVALID_ARGUMENT for a malformed one).
Json CalendarToJson(const Calendar& calendar);
Result<Calendar> CalendarFromJson(const Json& json);
Json EventToJson(const Event& event);
Result<Event> EventFromJson(const Json& json);

// The span [start, end) of an event for window queries, in UTC milliseconds: all-day dates at
// midnight UTC; a series master from its start to the end of its last occurrence (nullopt
// end when the series never ends). INVALID_ARGUMENT when the event has no usable start.
struct Span {
  int64_t start_ms = 0;
  std::optional<int64_t> end_ms;
  friend bool operator==(const Span&, const Span&) = default;
};
Result<Span> EventSpan(const Event& event);

}  // namespace sb::sync::calendar
