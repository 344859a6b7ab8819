#include "sb/sync/calendar/availability.h"

#include <algorithm>
#include <string>
#include <utility>

#include "sb/caltime/caltime.h"
#include "sb/sync/calendar/fields.h"

namespace sb::sync::calendar {
namespace {

constexpr int64_t kDayMs = 86'400'000;
constexpr int64_t kMinuteMs = 60'000;

// Monday = 0 for the civil date whose midnight (read as UTC) is `civil_midnight_ms`.
int Weekday(int64_t civil_midnight_ms) {
  int64_t days = civil_midnight_ms / kDayMs;
  if (civil_midnight_ms % kDayMs < 0) --days;
  // 1970-01-01 was a Thursday (3 with Monday first).
  return static_cast<int>(((days + 3) % 7 + 7) % 7);
}

// `minute` minutes after the start of the civil day at `civil_midnight_ms`, as a wall time in
// `zone` (1440 is the next day's midnight).
Result<int64_t> WallToUtc(int64_t civil_midnight_ms, int minute, std::string_view zone) {
  return caltime::LocalToUtc(caltime::UtcMillisToCivil(civil_midnight_ms + minute * kMinuteMs),
                             zone);
}

// The civil midnight (read as UTC) of the local date of `utc_ms` in `zone`.
Result<int64_t> LocalDate(int64_t utc_ms, std::string_view zone) {
  SB_ASSIGN_OR_RETURN(caltime::LocalDateTime local, caltime::UtcToLocal(utc_ms, zone));
  local.hour = local.minute = local.second = local.millisecond = 0;
  return caltime::CivilToUtcMillis(local);
}

Status CheckWindow(int64_t start_ms, int64_t end_ms, std::string_view zone,
                   const WorkingHours& hours) {
  SB_RETURN_IF_ERROR(CheckAvailabilityWindow(start_ms, end_ms, zone));
  if (hours.start_minute < 0 || hours.end_minute > 1440 || hours.start_minute >= hours.end_minute) {
    return InvalidArgumentError("working hours must satisfy 0 <= start < end <= 1440 minutes");
  }
  return OkStatus();
}

// Instant of local midnight in `zone` of the date whose UTC midnight is `utc_midnight_ms`.
int64_t LocalMidnight(int64_t utc_midnight_ms, std::string_view zone) {
  if (zone.empty()) return utc_midnight_ms;
  auto local = caltime::LocalToUtc(caltime::UtcMillisToCivil(utc_midnight_ms), zone);
  return local.ok() ? *local : utc_midnight_ms;
}

bool DeclinedBySelf(const Event& e) {
  return std::any_of(e.attendees.begin(), e.attendees.end(), [](const Attendee& a) {
    return a.self && a.response == ResponseStatus::kDeclined;
  });
}

}  // namespace

Status CheckAvailabilityWindow(int64_t start_ms, int64_t end_ms, std::string_view iana_zone) {
  if (start_ms < internal::kMinInstantMs || end_ms > internal::kMaxInstantMs) {
    return InvalidArgumentError("the window must lie within the years 1..9999");
  }
  if (end_ms <= start_ms) return InvalidArgumentError("the window's end must be after its start");
  if (end_ms - start_ms > kMaxAvailabilityDays * kDayMs) {
    return InvalidArgumentError("the window must be at most 62 days long");
  }
  if (!caltime::IsKnownZone(iana_zone)) return InvalidArgumentError("unknown time zone");
  return OkStatus();
}

std::vector<Interval> MergeIntervals(std::vector<Interval> intervals) {
  std::erase_if(intervals, [](const Interval& i) { return i.end_ms <= i.start_ms; });
  std::sort(intervals.begin(), intervals.end(),
            [](const Interval& a, const Interval& b) { return a.start_ms < b.start_ms; });
  std::vector<Interval> out;
  for (const Interval& i : intervals) {
    if (!out.empty() && i.start_ms <= out.back().end_ms) {
      out.back().end_ms = std::max(out.back().end_ms, i.end_ms);
    } else {
      out.push_back(i);
    }
  }
  return out;
}

Result<std::vector<Interval>> WorkingWindows(int64_t start_ms, int64_t end_ms,
                                             std::string_view iana_zone,
                                             const WorkingHours& hours) {
  SB_RETURN_IF_ERROR(CheckWindow(start_ms, end_ms, iana_zone, hours));
  SB_ASSIGN_OR_RETURN(const int64_t first, LocalDate(start_ms, iana_zone));
  SB_ASSIGN_OR_RETURN(const int64_t last, LocalDate(end_ms, iana_zone));
  std::vector<Interval> out;
  // From the day before: a period of the previous local day may reach into the window only
  // through a DST change, but starting a day early costs nothing and keeps this obviously right.
  for (int64_t day = first - kDayMs; day <= last; day += kDayMs) {
    if (!hours.days[Weekday(day)]) continue;
    SB_ASSIGN_OR_RETURN(const int64_t from, WallToUtc(day, hours.start_minute, iana_zone));
    SB_ASSIGN_OR_RETURN(const int64_t to, WallToUtc(day, hours.end_minute, iana_zone));
    out.push_back({std::max(from, start_ms), std::min(to, end_ms)});
  }
  return MergeIntervals(std::move(out));
}

std::vector<Interval> Subtract(const std::vector<Interval>& from,
                               const std::vector<Interval>& busy) {
  std::vector<Interval> out;
  size_t b = 0;
  for (const Interval& f : from) {
    int64_t cursor = f.start_ms;
    while (b < busy.size() && busy[b].end_ms <= cursor) ++b;
    // Busy intervals overlapping f; the last one may reach into the next free interval, so
    // `b` is not advanced past it.
    for (size_t i = b; i < busy.size() && busy[i].start_ms < f.end_ms; ++i) {
      if (busy[i].start_ms > cursor) out.push_back({cursor, busy[i].start_ms});
      cursor = std::max(cursor, busy[i].end_ms);
    }
    if (cursor < f.end_ms) out.push_back({cursor, f.end_ms});
  }
  return out;
}

std::vector<Interval> Slots(const std::vector<Interval>& free, int64_t slot_ms, int64_t step_ms) {
  std::vector<Interval> out;
  if (slot_ms <= 0) return out;
  if (step_ms <= 0) step_ms = slot_ms;
  for (const Interval& f : free) {
    for (int64_t t = f.start_ms; t < f.end_ms; t += step_ms) {
      // end - t without overflow (t < end): the slot fits when the rest is at least slot_ms.
      if (static_cast<uint64_t>(f.end_ms) - static_cast<uint64_t>(t) <
          static_cast<uint64_t>(slot_ms)) {
        break;
      }
      if (out.size() == kMaxSlots) return out;
      out.push_back({t, t + slot_ms});
      if (t > INT64_MAX - step_ms) break;
    }
  }
  return out;
}

std::optional<Interval> BusyInterval(const Event& e, std::string_view all_day_zone) {
  if (e.status == EventStatus::kCancelled || e.transparency == Transparency::kTransparent ||
      e.kind == EventKind::kSeriesMaster || DeclinedBySelf(e)) {
    return std::nullopt;
  }
  auto span = EventSpan(e);
  if (!span.ok() || !span->end_ms) return std::nullopt;
  Interval out{span->start_ms, *span->end_ms};
  if (e.all_day && caltime::IsKnownZone(all_day_zone)) {
    out = {LocalMidnight(out.start_ms, all_day_zone), LocalMidnight(out.end_ms, all_day_zone)};
  }
  if (out.end_ms <= out.start_ms) return std::nullopt;
  return out;
}

}  // namespace sb::sync::calendar
