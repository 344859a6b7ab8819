// The Graph event resource (provider-protocols.md 8.3) as the emulator stores it, how client
// JSON is applied to it (POST/PATCH bodies) and how it is rendered back.
//
// Times are stored as UTC milliseconds plus the IANA zone the client used; all-day events are
// floating dates stored as the UTC midnight of their date. Occurrences of a series are never
// stored: they are expanded from the master's recurrence on demand; stored exceptions (type
// "exception") replace the occurrence whose original start they carry, and a master's
// `cancelled_starts` remove occurrences. Values only; thread-compatible.
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "sb/base/json.h"
#include "sb/base/status.h"
#include "sb/caltime/caltime.h"

namespace sandbox::microsoft {

struct Event {
  std::string id;
  std::string account_id;
  std::string calendar_id;
  std::string type = "singleInstance";  // singleInstance | seriesMaster | exception
  std::string series_master_id;         // exceptions
  int64_t original_start_ms = 0;        // exceptions: the slot they replace
  std::string change_key;
  int64_t created_ms = 0;
  int64_t modified_ms = 0;
  std::string subject;
  std::string body_type = "html";  // html | text
  std::string body;
  int64_t start_ms = 0;
  int64_t end_ms = 0;
  bool all_day = false;
  std::string time_zone = "UTC";           // IANA, for expansion and rendering
  std::string original_time_zone = "UTC";  // as the client named it (Windows or IANA)
  sb::Json recurrence;                     // patternedRecurrence, null when none
  std::vector<std::string> rrule;          // derived from `recurrence`
  sb::Json attendees = sb::Json::array();
  sb::Json organizer;  // {"emailAddress":{name,address}}
  sb::Json location = sb::Json::object();
  std::vector<std::string> categories;
  std::string ical_uid;
  std::string transaction_id;
  std::string show_as = "busy";
  std::string importance = "normal";
  std::string sensitivity = "normal";
  bool is_cancelled = false;
  bool is_reminder_on = true;
  int reminder_minutes = 15;
  std::set<int64_t> cancelled_starts;  // masters: deleted occurrences by original start

  // The last RenderEventText output in UTC (plain and with @odata.type), valid while
  // rendered_seq == seq; written under the store's mutex.
  mutable std::string rendered[2];
  mutable int64_t rendered_seq = -1;

  bool deleted = false;    // a tombstone kept for delta
  int64_t seq = 0;         // store sequence of the last change
  int64_t create_seq = 0;  // store sequence of the creation (list order)
};

// How to render times: the zone of `Prefer: outlook.timezone` (UTC by default).
struct RenderZone {
  std::string iana = "UTC";
  std::string label = "UTC";
};

// Why client JSON was refused: the Graph error code and message.
struct InputError {
  std::string code;
  std::string message;
};

// Applies a POST (`create`) or PATCH body to `event`. On create, subject/start/end are
// required; on patch only present members change. Returns nullopt on success.
std::optional<InputError> ApplyEventJson(const sb::Json& body, bool create, Event& event);

// The RRULE line for a patternedRecurrence, or an error for an unsupported pattern.
sb::Result<std::string> RecurrenceToRrule(const sb::Json& recurrence);

// The recurrence start of a master, as caltime expands it.
sb::caltime::EventTime SeriesStart(const Event& master);

// Graph's occurrence id for the slot of `master_id` starting at `original_start_ms`.
std::string OccurrenceId(const Event& master, int64_t original_start_ms);

// Full resource JSON (with @odata.etag). `with_type` adds "@odata.type" as delta does.
sb::Json RenderEvent(const Event& event, const RenderZone& zone, bool with_type);
// RenderEvent serialized; in UTC (the default zone) the text is cached on the event until it
// changes, since list and delta pages render the same events again and again.
std::string RenderEventText(const Event& event, const RenderZone& zone, bool with_type);
// JSON text with invalid UTF-8 replaced rather than thrown.
std::string Serialize(const sb::Json& json);
// An occurrence of `master` at `start_ms` (its slot): full, or stripped as calendarView delta
// returns occurrences (8.4).
sb::Json RenderOccurrence(const Event& master, int64_t start_ms, const RenderZone& zone,
                          bool stripped);
// {"@odata.type", "id", "@removed":{"reason":"deleted"}}.
sb::Json RenderRemoved(const std::string& id);

// dateTimeTimeZone for an instant (or a floating all-day date) in `zone`.
sb::Json RenderDateTime(int64_t utc_ms, bool all_day, const RenderZone& zone);

}  // namespace sandbox::microsoft
