// One occurrence of a series, and a series split at one (issue 16): the host changes or
// cancels a single occurrence of a recurring event, or changes the series from an occurrence
// on. Occurrences are named by their original start (the slot the rule gives them): an RFC 3339
// instant for a timed series, a date (yyyy-mm-dd) for an all-day one.
//
// Pure functions; thread-safe. Input is the host's and the store's: INVALID_ARGUMENT or
// NOT_FOUND naming what is wrong, never a crash.
#pragma once

#include <string_view>

#include "sb/base/json.h"
#include "sb/base/status.h"
#include "sb/sync/calendar/model.h"

namespace sb::sync::calendar {

// "2027-01-12T08:00:00Z" (any RFC 3339 offset) or "2027-01-12". INVALID_ARGUMENT otherwise.
Result<EventTime> ParseOriginalStart(std::string_view text);
// The form ParseOriginalStart reads: the date, or the instant in UTC ("...T08:00:00Z").
std::string FormatOriginalStart(const EventTime& slot);
// Whether two slots name the same occurrence (the same instant, or the same date).
bool SameSlot(const EventTime& a, const EventTime& b);

// The occurrence of `master` (a series master) at `slot`, as ExpandSeries makes it: kind
// kOccurrence, provider_id "<master id>_<suffix>" (Google's instance id). NOT_FOUND when the
// rule has no occurrence there; INVALID_ARGUMENT when `master` is not a series.
Result<Event> OccurrenceAt(const Event& master, const EventTime& slot);

// `base` (the occurrence, or its exception) cancelled: a cancelled exception of `master` at
// `slot`, as Google reports a deleted occurrence.
Event CancelledOccurrence(const Event& master, Event base, const EventTime& slot);

// The host's version of one occurrence: `base` (the occurrence, or its exception) with `patch`
// (a merge patch of the writable members, outbound.h; no recurrence), as an exception of
// `master` at `slot`.
Result<Event> PatchedOccurrence(const Event& master, const Event& base, const EventTime& slot,
                                const Json& patch);

// A series split at one of its occurrences: `ended` is the master with its rule ending before
// the occurrence (UNTIL a second before it, or the day before for all-day series); `following`
// is a new series (no provider ids) starting at the occurrence with the same rule (what is left
// of a COUNT, or the same UNTIL). EXDATE and RDATE lines stay with `ended`.
struct SplitSeries {
  Event ended;
  Event following;
};
// INVALID_ARGUMENT when `master` is not a series with one RRULE or `occurrence` is its first
// (change the series itself).
Result<SplitSeries> SplitAt(const Event& master, const Event& occurrence);

}  // namespace sb::sync::calendar
