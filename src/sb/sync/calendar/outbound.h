// Events on their way out (issue 16): the host's JSON for an event it writes, and the provider
// bodies that write it to Google Calendar (events.insert / patch) and Microsoft Graph (POST /
// PATCH event).
//
// The host writes the unified shape it reads (model.h's EventToJson), limited to the members a
// host can set:
//   title, description_text, description_html, location, start, end, all_day, status
//   (confirmed, tentative), transparency, visibility, attendees [{email, name, optional}],
//   reminders {use_default, overrides [{method, minutes}]}, recurrence (RRULE / EXDATE / RDATE
//   lines; a series)
// Members only Switchboard or the provider set (id, provider_id, version, kind, organizer, ...)
// are ignored, so an event read from the API can be written back; any other member is refused.
// Times are {"instant": RFC 3339, "time_zone": IANA} or, all-day, {"date": "yyyy-mm-dd"} (end
// exclusive). A timed event without a zone is in UTC.
//
// Pure functions; thread-safe. The host's JSON is hostile input: INVALID_ARGUMENT naming the
// member, never a crash.
#pragma once

#include <string_view>

#include "sb/base/json.h"
#include "sb/base/status.h"
#include "sb/sync/calendar/model.h"

namespace sb::sync::calendar {

// A new event from the host's JSON (every writable member; those absent take their defaults).
Result<Event> HostEventFromJson(const Json& body);
// `base` with the members `patch` names replaced (a JSON merge patch of the writable members).
Result<Event> ApplyHostPatch(const Event& base, const Json& patch);

// The events.insert / events.patch body of `event` (every writable member, so that a patch
// clears what the host cleared). `provider_id`, when not empty, is sent as the new event's id.
Json EventToGoogle(const Event& event, std::string_view provider_id = "");
// The Graph event body. INVALID_ARGUMENT for what Graph cannot hold (an EXDATE or RDATE line,
// a rule Graph has no pattern for).
Result<Json> EventToGraph(const Event& event);

}  // namespace sb::sync::calendar
