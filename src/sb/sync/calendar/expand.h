// Expansion of a stored series (a master and its exceptions, model.h) into the occurrences
// that overlap a window: what calendarView-style queries show.
//
// Pure function; thread-safe (libical calls are serialized inside sb/caltime).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "sb/base/status.h"
#include "sb/sync/calendar/model.h"

namespace sb::sync::calendar {

// The instances of `master` overlapping [window_start_ms, window_end_ms), sorted by start, at
// most `max_instances` (the earliest). Each slot of the recurrence is an occurrence: a copy
// of the master with kind kOccurrence, provider_id "<master id>_<slot>" (Google's instance id
// form, caltime::InstanceIdSuffix), series_master_provider_id the master's id, original_start
// the slot, no recurrence, and start/end moved to the slot (same duration; all-day by days).
// An exception of the master (same series_master_provider_id) whose original_start is a slot
// replaces it: a cancelled one removes it, another appears at its own time when that overlaps
// the window (also when its slot lies outside the window). Overlap is start < window end and
// end > window start; a zero-length instance overlaps when it starts in the window.
//
// An event without recurrence is returned as it is when it overlaps the window.
//
// Errors: INVALID_ARGUMENT for an empty window (end before start), a master without a usable
// start, recurrence lines caltime rejects, and sub-daily rules with day-level BY* parts
// ("unsupported recurrence"; BYDAY, BYMONTHDAY, BYYEARDAY, BYWEEKNO, BYMONTH), which libical
// 3.0.16 cannot be trusted to expand in bounded time.
Result<std::vector<Event>> ExpandSeries(const Event& master, const std::vector<Event>& exceptions,
                                        int64_t window_start_ms, int64_t window_end_ms,
                                        size_t max_instances);

}  // namespace sb::sync::calendar
