#include "sb/sync/calendar/availability.h"

#include <algorithm>
#include <string>
#include <utility>

#include "sb/base/time_format.h"
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

namespace {

// A busy span clipped to the window [from, to); nullopt when it lies outside it.
std::optional<Interval> Clipped(int64_t start, int64_t end, int64_t from, int64_t to) {
  start = std::max(start, from);
  end = std::min(end, to);
  if (start >= end) return std::nullopt;
  return Interval{start, end};
}

std::optional<int64_t> Rfc3339Ms(const Json& value) {
  if (!value.is_string()) return std::nullopt;
  const auto t = ParseRfc3339(value.get_ref<const std::string&>());
  if (!t) return std::nullopt;
  return std::chrono::duration_cast<std::chrono::milliseconds>(t->time_since_epoch()).count();
}

Status BadAnswer(std::string_view message) { return InvalidArgumentError(std::string(message)); }

// A member of a provider's object: the value, or null when absent.
const Json& Member(const Json& object, const char* key) {
  static const Json kNull;
  const auto it = object.find(key);
  return it == object.end() ? kNull : *it;
}

// A string member, or `fallback` when absent or not a string.
std::string StringMember(const Json& object, const char* key, const char* fallback) {
  const Json& v = Member(object, key);
  return v.is_string() ? v.get<std::string>() : std::string(fallback);
}

}  // namespace

Result<std::vector<Interval>> FreeBusyFromGoogle(const Json& answer,
                                                 const std::vector<std::string>& calendars,
                                                 int64_t from, int64_t to) {
  if (!answer.is_object() || !answer.contains("calendars") || !answer["calendars"].is_object()) {
    return BadAnswer("freeBusy: no calendars in the answer");
  }
  const Json& all = answer["calendars"];
  std::vector<Interval> busy;
  for (const std::string& id : calendars) {
    const auto it = all.find(id);
    if (it == all.end() || !it->is_object()) return BadAnswer("freeBusy: a calendar is missing");
    if (it->contains("errors") && (*it)["errors"].is_array() && !(*it)["errors"].empty()) {
      return BadAnswer("freeBusy: a calendar could not be read");
    }
    if (!it->contains("busy")) continue;
    if (!(*it)["busy"].is_array()) return BadAnswer("freeBusy: busy is not a list");
    for (const Json& span : (*it)["busy"]) {
      if (!span.is_object()) return BadAnswer("freeBusy: a malformed busy span");
      const auto start = Rfc3339Ms(Member(span, "start"));
      const auto end = Rfc3339Ms(Member(span, "end"));
      if (!start || !end) return BadAnswer("freeBusy: a malformed busy span");
      if (auto clipped = Clipped(*start, *end, from, to)) busy.push_back(*clipped);
    }
  }
  return MergeIntervals(std::move(busy));
}

namespace {

std::optional<int64_t> GraphTimeMs(const Json& time) {
  if (!time.is_object() || !time.contains("dateTime") || !time["dateTime"].is_string()) {
    return std::nullopt;
  }
  const std::string zone = StringMember(time, "timeZone", "UTC");
  const auto ms = caltime::LocalToUtc(time["dateTime"].get_ref<const std::string&>(),
                                      zone.empty() ? "UTC" : zone);
  if (!ms.ok()) return std::nullopt;
  return *ms;
}

}  // namespace

Result<std::vector<Interval>> FreeBusyFromGraph(const Json& answer, int64_t from, int64_t to) {
  if (!answer.is_object() || !answer.contains("value") || !answer["value"].is_array() ||
      answer["value"].size() != 1 || !answer["value"][0].is_object()) {
    return BadAnswer("getSchedule: not one schedule in the answer");
  }
  const Json& schedule = answer["value"][0];
  if (schedule.contains("error")) return BadAnswer("getSchedule: the mailbox could not be read");
  if (!schedule.contains("scheduleItems") || !schedule["scheduleItems"].is_array()) {
    return BadAnswer("getSchedule: no scheduleItems");
  }
  std::vector<Interval> busy;
  for (const Json& item : schedule["scheduleItems"]) {
    if (!item.is_object()) return BadAnswer("getSchedule: a malformed item");
    const std::string status = StringMember(item, "status", "busy");
    if (status == "free" || status == "workingElsewhere") continue;
    const auto start = GraphTimeMs(Member(item, "start"));
    const auto end = GraphTimeMs(Member(item, "end"));
    if (!start || !end) return BadAnswer("getSchedule: a malformed item");
    if (auto clipped = Clipped(*start, *end, from, to)) busy.push_back(*clipped);
  }
  return MergeIntervals(std::move(busy));
}

}  // namespace sb::sync::calendar
