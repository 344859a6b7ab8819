// Expansion of Google-style recurrence lines (RRULE / EXRULE / RDATE / EXDATE, no DTSTART)
// into instance start times, for events.instances, singleEvents=true and calendarView.
//
// Rules are expanded by libical in the series' wall time, so a weekly 10:00 Europe/Zurich
// series stays at 10:00 local across DST changes (08:00Z in summer, 09:00Z in winter).
// All-day series expand by date. As in libical (RFC 5545 leaves it undefined), a series
// start that does not match its RRULE is not itself an instance; with no RRULE at all the
// start is the first instance.
//
// Thread safety: thread-safe; libical calls are serialized by the module's mutex (see
// caltime.h).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "sb/base/status.h"
#include "sb/caltime/caltime.h"

namespace sb::caltime {

// One slot of a series, identified by where the rule put it (Google's originalStartTime,
// Graph's occurrence start).
struct Occurrence {
  EventTime original_start;
};

// Upper bound on rule steps per RRULE/EXRULE, so that rules that are infinite or that match
// rarely (FREQ=SECONDLY, or a window decades after the start) terminate. A rule that reaches
// it contributes only the instances found so far.
inline constexpr size_t kMaxRecurrenceIterations = 100'000;

// Returns the sorted, de-duplicated starts of `series_start`'s recurrence set that lie in
// [window_start_utc_ms, window_end_utc_ms): RRULE instances plus RDATEs, minus EXDATEs and
// EXRULE instances; at most `max_count` of them (the earliest). Callers that want overlap
// rather than start-in-window widen the window by the event duration.
//
// Each result has the kind (all_day) and time_zone of `series_start`; all-day results
// carry `date` and its UTC midnight in `utc_ms`, and the window is compared against that
// midnight. An empty series time_zone means UTC.
//
// recurrence_lines, e.g. "RRULE:FREQ=WEEKLY;BYDAY=MO;UNTIL=20240701T080000Z",
// "EXRULE:FREQ=MONTHLY;BYDAY=1MO", "RDATE;TZID=Europe/Zurich:20240520T100000",
// "RDATE;VALUE=DATE:20240521", "EXDATE:20240520T080000Z" (comma-separated value lists
// allowed). Date-times without Z or TZID are read in the series zone. For a timed series a
// VALUE=DATE entry means that date at the series' start time of day; for an all-day series a
// date-time entry means its date in the series zone. UNTIL is inclusive and read the same
// way (a date UNTIL on a timed series covers that whole local day).
//
// Errors: InvalidArgument naming the offending line for unknown or malformed lines, an
// unparsable rule, an unknown TZID or series zone, or a malformed series start.
sb::Result<std::vector<EventTime>> ExpandRecurrence(
    const EventTime& series_start, const std::vector<std::string>& recurrence_lines,
    int64_t window_start_utc_ms, int64_t window_end_utc_ms, size_t max_count);

// An instant as an RFC 5545 UTC DATE-TIME: "20240513T080000Z" (seconds; milliseconds dropped).
std::string FormatCompactUtc(int64_t utc_ms);

// The instance-id suffix Google uses for a slot: "20240513T080000Z" (UTC) for timed slots,
// "20240513" for all-day ones. Instance ids are "<masterId>_<suffix>".
std::string InstanceIdSuffix(const EventTime& original_start);

// Whether a recurrence set can go on forever: true when some RRULE has neither UNTIL nor
// COUNT. InvalidArgument for malformed lines, as in ExpandRecurrence.
sb::Result<bool> IsInfiniteRecurrence(const std::vector<std::string>& recurrence_lines);

}  // namespace sb::caltime
