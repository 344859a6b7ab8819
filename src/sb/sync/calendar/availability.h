// Free/busy arithmetic (issue 16): busy intervals of unified events (model.h), working hours
// of a zone as UTC intervals, and the free time and bookable slots between them. The service
// that reads them from the synced store is AvailabilityReader (availability_reader.h).
//
// Instants are UTC milliseconds; intervals are half-open [start_ms, end_ms). Every function
// here is pure and thread-safe (zone rules through sb/caltime, which serializes libical).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sb/base/json.h"
#include "sb/base/status.h"
#include "sb/sync/calendar/model.h"

namespace sb::sync::calendar {

struct Interval {
  int64_t start_ms = 0;
  int64_t end_ms = 0;
  friend bool operator==(const Interval&, const Interval&) = default;
};

// Sorted by start, overlapping and touching intervals joined, empty (end <= start) ones dropped.
std::vector<Interval> MergeIntervals(std::vector<Interval> intervals);

// Working hours of every working day in local wall time: [start_minute, end_minute) minutes
// after local midnight (0 <= start < end <= 1440), on the days marked in `days` (Monday first).
struct WorkingHours {
  int start_minute = 540;  // 09:00
  int end_minute = 1020;   // 17:00
  std::array<bool, 7> days{true, true, true, true, true, false, false};
  friend bool operator==(const WorkingHours&, const WorkingHours&) = default;
};

inline constexpr int64_t kMaxAvailabilityDays = 62;
inline constexpr size_t kMaxSlots = 10'000;

// OK for a query window [start_ms, end_ms) in `iana_zone`: within the model's years, not
// empty, at most kMaxAvailabilityDays, a known zone; INVALID_ARGUMENT naming the rule otherwise.
Status CheckAvailabilityWindow(int64_t start_ms, int64_t end_ms, std::string_view iana_zone);

// The working periods of each local day in `iana_zone` clipped to [start_ms, end_ms), merged.
// Each day's bounds are that day's wall times converted with caltime::LocalToUtc, so a period
// follows the offset of its own day across DST changes. A bound that falls into a DST gap is
// read with the offset before the transition (it lands after the gap: 02:30 on Zurich's
// spring-forward night is 03:30 CEST); one that exists twice is the earlier instant.
// INVALID_ARGUMENT for an empty window, one longer than kMaxAvailabilityDays, an unknown zone,
// or hours out of range.
Result<std::vector<Interval>> WorkingWindows(int64_t start_ms, int64_t end_ms,
                                             std::string_view iana_zone, const WorkingHours& hours);

// `from` minus `busy`; both merged (MergeIntervals). The result is merged.
std::vector<Interval> Subtract(const std::vector<Interval>& from,
                               const std::vector<Interval>& busy);

// Slots of `slot_ms` inside the merged `free` intervals: in each, one starting at its start and
// then every `step_ms` (`slot_ms` when step_ms <= 0) while the slot ends within the interval.
// Empty when slot_ms <= 0; at most kMaxSlots (the earliest).
std::vector<Interval> Slots(const std::vector<Interval>& free, int64_t slot_ms,
                            int64_t step_ms = 0);

// The time `e` makes its calendar's owner busy, or nullopt when it does not: cancelled,
// transparent ("show as free"), declined by the `self` attendee, a series master (expand it
// first: its span is the whole series), without a usable start, or of no length. Timed events
// cover EventSpan; all-day events cover their dates (end exclusive) from local midnight in
// `all_day_zone` (caltime::LocalToUtc), or from midnight UTC as EventSpan places them when the
// zone is empty or unknown (callers validate it: an all-day event is never dropped for it).
std::optional<Interval> BusyInterval(const Event& e, std::string_view all_day_zone = "");

// Providers' own free/busy answers read into busy time within [from, to), merged:
// Google's calendar.freebusy.query answer for `calendars` (a calendar missing or with errors
// fails the answer), and Graph's getSchedule answer for one mailbox (its busy, tentative and
// out-of-office items). The answers are hostile: INVALID_ARGUMENT naming what is wrong.
Result<std::vector<Interval>> FreeBusyFromGoogle(const Json& answer,
                                                 const std::vector<std::string>& calendars,
                                                 int64_t from, int64_t to);
Result<std::vector<Interval>> FreeBusyFromGraph(const Json& answer, int64_t from, int64_t to);

}  // namespace sb::sync::calendar
