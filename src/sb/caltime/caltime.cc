#include "sb/caltime/caltime.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include <libical/ical.h>

#include "sb/base/text.h"

namespace sb::caltime {
namespace {

constexpr int64_t kMsPerSecond = 1000;
constexpr int64_t kMsPerDay = 86'400'000;
// Years 0001..9999: what four-digit wire formats can express.
constexpr int64_t kMinUtcMs = -62'135'596'800'000;  // 0001-01-01T00:00:00Z
constexpr int64_t kMaxUtcMs = 253'402'300'799'999;  // 9999-12-31T23:59:59.999Z

int64_t FloorDiv(int64_t a, int64_t b) {
  const int64_t q = a / b;
  return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

bool InRange(int64_t utc_ms) { return utc_ms >= kMinUtcMs && utc_ms <= kMaxUtcMs; }

bool ValidCivil(const LocalDateTime& t) {
  using namespace std::chrono;  // NOLINT(google-build-using-namespace): local date math
  if (t.year < 1 || t.year > 9999 || t.month < 1 || t.month > 12) return false;
  const year_month_day ymd{year(t.year), month(unsigned(t.month)), day(unsigned(t.day))};
  return ymd.ok() && t.hour >= 0 && t.hour <= 23 && t.minute >= 0 && t.minute <= 59 &&
         t.second >= 0 && t.second <= 59 && t.millisecond >= 0 && t.millisecond <= 999;
}

// Parses "YYYY-MM-DD" at the start of `s` into `out`'s date fields.
bool ParseDatePart(std::string_view s, LocalDateTime* out) {
  return ParseDigits(s, 0, 4, &out->year) && s.size() >= 10 && s[4] == '-' &&
         ParseDigits(s, 5, 2, &out->month) && s[7] == '-' && ParseDigits(s, 8, 2, &out->day);
}

// Parses "YYYY-MM-DDTHH:MM:SS[.f...]" at the start of `s`; returns the index after it.
// Fraction digits beyond milliseconds are dropped (truncation, never rounding up into the
// next second).
std::optional<size_t> ParseLocalPrefix(std::string_view s, LocalDateTime* out) {
  if (!ParseDatePart(s, out) || s.size() < 19 || (s[10] != 'T' && s[10] != 't') ||
      !ParseDigits(s, 11, 2, &out->hour) || s[13] != ':' || !ParseDigits(s, 14, 2, &out->minute) ||
      s[16] != ':' || !ParseDigits(s, 17, 2, &out->second)) {
    return std::nullopt;
  }
  size_t pos = 19;
  out->millisecond = 0;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    int digits = 0;
    int ms = 0;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      if (digits < 3) ms = ms * 10 + (s[pos] - '0');
      ++digits;
      ++pos;
    }
    if (digits == 0) return std::nullopt;
    for (int i = digits; i < 3; ++i) ms *= 10;
    out->millisecond = ms;
  }
  if (!ValidCivil(*out)) return std::nullopt;
  return pos;
}

bool IsUtcAlias(std::string_view zone) {
  return zone == "UTC" || zone == "Etc/UTC" || zone == "GMT" || zone == "Etc/GMT";
}

// libical turns a zone name into a path under /usr/share/zoneinfo, so names from requests are
// screened first: only tzdata's character set, no absolute paths, no "..".
bool IsPlausibleZoneName(std::string_view zone) {
  if (zone.empty() || zone.size() > 64 || zone.front() == '/' ||
      zone.find("..") != std::string_view::npos) {
    return false;
  }
  return std::all_of(zone.begin(), zone.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '/' ||
           c == '_' || c == '-' || c == '+';
  });
}

// A resolved zone. libical caches zones for the life of the process, so the pointer stays
// valid after the mutex is released. nullptr means UTC.
struct Zone {
  icaltimezone* tz = nullptr;
};

// libical finds a builtin zone by a linear scan of its ~600 names; a recurring series asks for
// its zone once per occurrence. The zones found are remembered (at most libical's builtin
// set, so the map is bounded whatever names are asked for); guarded by LibicalMutex.
std::unordered_map<std::string, icaltimezone*>& FoundZones() {
  static auto* zones = new std::unordered_map<std::string, icaltimezone*>();
  return *zones;
}

sb::Result<Zone> LookupZone(std::string_view name) {
  if (IsUtcAlias(name)) return Zone{};
  if (IsPlausibleZoneName(name)) {
    std::string location(name);
    std::lock_guard<std::mutex> lock(internal::LibicalMutex());
    auto& found = FoundZones();
    if (auto it = found.find(location); it != found.end()) return Zone{it->second};
    if (icaltimezone* tz = icaltimezone_get_builtin_timezone(location.c_str())) {
      found.emplace(std::move(location), tz);
      return Zone{tz};
    }
  }
  return sb::InvalidArgumentError("unknown time zone \"" + std::string(name) + "\"");
}

// UTC offset in seconds of `zone` at the instant `utc_seconds`.
int OffsetAt(Zone zone, int64_t utc_seconds) {
  if (zone.tz == nullptr) return 0;
  std::lock_guard<std::mutex> lock(internal::LibicalMutex());
  icaltimetype t = icaltime_from_timet_with_zone(static_cast<time_t>(utc_seconds), 0,
                                                 icaltimezone_get_utc_timezone());
  int is_daylight = 0;
  return icaltimezone_get_utc_offset_of_utc_time(zone.tz, &t, &is_daylight);
}

// Offsets with seconds only occur in pre-1900 local mean time; RFC 3339 offsets have whole
// minutes, so they are truncated and the wall time is rendered with that same offset.
int WholeMinuteOffset(int offset_seconds) { return offset_seconds / 60 * 60; }

std::string FormatLocalSeconds(const LocalDateTime& t) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d", t.year, t.month, t.day, t.hour,
                t.minute, t.second);
  return buf;
}

sb::Status OutOfRangeInstant(int64_t utc_ms) {
  return sb::InvalidArgumentError("instant " + std::to_string(utc_ms) +
                                  " ms is outside the years 0001..9999");
}

}  // namespace

namespace internal {
std::mutex& LibicalMutex() {
  static std::mutex mutex;
  return mutex;
}
}  // namespace internal

LocalDateTime UtcMillisToCivil(int64_t utc_ms) {
  using namespace std::chrono;  // NOLINT(google-build-using-namespace): local date math
  // Clamped so that the calendar arithmetic below cannot overflow on hostile input.
  utc_ms = std::clamp(utc_ms, kMinUtcMs, kMaxUtcMs);
  const int64_t day_number = FloorDiv(utc_ms, kMsPerDay);
  const int64_t ms_of_day = utc_ms - day_number * kMsPerDay;
  const year_month_day ymd{sys_days{days{day_number}}};
  LocalDateTime t;
  t.year = int(ymd.year());
  t.month = int(unsigned(ymd.month()));
  t.day = int(unsigned(ymd.day()));
  t.hour = int(ms_of_day / 3'600'000);
  t.minute = int(ms_of_day / 60'000 % 60);
  t.second = int(ms_of_day / 1000 % 60);
  t.millisecond = int(ms_of_day % 1000);
  return t;
}

int64_t CivilToUtcMillis(const LocalDateTime& t) {
  using namespace std::chrono;  // NOLINT(google-build-using-namespace): local date math
  const sys_days day_point{
      year_month_day{year(t.year), month(unsigned(t.month)), day(unsigned(t.day))}};
  return int64_t(day_point.time_since_epoch().count()) * kMsPerDay +
         ((int64_t(t.hour) * 60 + t.minute) * 60 + t.second) * kMsPerSecond + t.millisecond;
}

sb::Result<int64_t> ParseRfc3339(std::string_view text) {
  const auto malformed = [&] {
    return sb::InvalidArgumentError("malformed RFC 3339 timestamp \"" + std::string(text) +
                                    "\" (want YYYY-MM-DDTHH:MM:SS[.fff](Z|+hh:mm|-hh:mm))");
  };
  LocalDateTime local;
  const std::optional<size_t> end = ParseLocalPrefix(text, &local);
  if (!end) return malformed();
  size_t pos = *end;
  int offset_minutes = 0;
  if (pos < text.size() && (text[pos] == 'Z' || text[pos] == 'z')) {
    ++pos;
  } else if (pos < text.size() && (text[pos] == '+' || text[pos] == '-')) {
    int oh = 0;
    int om = 0;
    if (!ParseDigits(text, pos + 1, 2, &oh) || pos + 3 >= text.size() || text[pos + 3] != ':' ||
        !ParseDigits(text, pos + 4, 2, &om) || oh > 23 || om > 59) {
      return malformed();
    }
    offset_minutes = (text[pos] == '-' ? -1 : 1) * (oh * 60 + om);
    pos += 6;
  } else {
    return malformed();
  }
  if (pos != text.size()) return malformed();
  const int64_t utc_ms = CivilToUtcMillis(local) - int64_t(offset_minutes) * 60'000;
  if (!InRange(utc_ms)) return OutOfRangeInstant(utc_ms);
  return utc_ms;
}

sb::Result<LocalDateTime> UtcToLocal(int64_t utc_ms, std::string_view iana_zone) {
  if (!InRange(utc_ms)) return OutOfRangeInstant(utc_ms);
  SB_ASSIGN_OR_RETURN(const Zone zone, LookupZone(iana_zone));
  const int offset = OffsetAt(zone, FloorDiv(utc_ms, kMsPerSecond));
  return UtcMillisToCivil(utc_ms + int64_t(WholeMinuteOffset(offset)) * kMsPerSecond);
}

sb::Result<std::string> FormatRfc3339InZone(int64_t utc_ms, std::string_view iana_zone) {
  if (!InRange(utc_ms)) return OutOfRangeInstant(utc_ms);
  SB_ASSIGN_OR_RETURN(const Zone zone, LookupZone(iana_zone));
  const int offset = WholeMinuteOffset(OffsetAt(zone, FloorDiv(utc_ms, kMsPerSecond)));
  const LocalDateTime local = UtcMillisToCivil(utc_ms + int64_t(offset) * kMsPerSecond);
  std::string out = FormatLocalSeconds(local);
  if (zone.tz == nullptr) return out + "Z";
  const int abs_minutes = std::abs(offset) / 60;
  char suffix[24];
  std::snprintf(suffix, sizeof(suffix), "%c%02d:%02d", offset < 0 ? '-' : '+', abs_minutes / 60,
                abs_minutes % 60);
  return out + suffix;
}

std::string FormatUtcMillis(int64_t utc_ms) {
  const LocalDateTime t = UtcMillisToCivil(utc_ms);
  char buf[96];
  std::snprintf(buf, sizeof(buf), "%s.%03dZ", FormatLocalSeconds(t).c_str(), t.millisecond);
  return buf;
}

sb::Result<int64_t> LocalToUtc(const LocalDateTime& local, std::string_view iana_zone) {
  if (!ValidCivil(local)) {
    return sb::InvalidArgumentError("invalid local date-time " + FormatLocalSeconds(local));
  }
  SB_ASSIGN_OR_RETURN(const Zone zone, LookupZone(iana_zone));
  LocalDateTime whole_seconds = local;
  whole_seconds.millisecond = 0;
  const int64_t naive = CivilToUtcMillis(whole_seconds) / kMsPerSecond;
  // Offsets a day either side bracket any single transition near the wall time (real offsets
  // stay within ±14h). An offset is a valid reading when the instant it yields has that
  // same offset; two valid readings mean an overlap, none a gap.
  const int before = OffsetAt(zone, naive - 86'400);
  const int after = OffsetAt(zone, naive + 86'400);
  std::optional<int64_t> utc_seconds;
  for (const int candidate : {before, after}) {
    if (OffsetAt(zone, naive - candidate) != candidate) continue;
    const int64_t reading = naive - candidate;
    // Earliest instant = the offset in effect before the transition.
    if (!utc_seconds || reading < *utc_seconds) utc_seconds = reading;
  }
  if (!utc_seconds) {
    // Gap: clocks jumped forward, so the smaller offset is the one before the transition.
    utc_seconds = naive - std::min(before, after);
  }
  return *utc_seconds * kMsPerSecond + local.millisecond;
}

sb::Result<int64_t> LocalToUtc(std::string_view local, std::string_view iana_zone) {
  LocalDateTime fields;
  const std::optional<size_t> end = ParseLocalPrefix(local, &fields);
  if (!end || *end != local.size()) {
    return sb::InvalidArgumentError("malformed local date-time \"" + std::string(local) +
                                    "\" (want YYYY-MM-DDTHH:MM:SS[.fffffff], no offset)");
  }
  return LocalToUtc(fields, iana_zone);
}

sb::Result<std::string> FormatGraphDateTime(int64_t utc_ms, std::string_view iana_zone) {
  SB_ASSIGN_OR_RETURN(const LocalDateTime local, UtcToLocal(utc_ms, iana_zone));
  char buf[96];
  // Graph carries 100 ns ticks; milliseconds are the emulator's precision.
  std::snprintf(buf, sizeof(buf), "%s.%03d0000", FormatLocalSeconds(local).c_str(),
                local.millisecond);
  return std::string(buf);
}

bool IsKnownZone(std::string_view iana) { return LookupZone(iana).ok(); }

sb::Result<int64_t> ParseDate(std::string_view date) {
  LocalDateTime t;
  if (date.size() != 10 || !ParseDatePart(date, &t) || !ValidCivil(t)) {
    return sb::InvalidArgumentError("malformed date \"" + std::string(date) +
                                    "\" (want YYYY-MM-DD)");
  }
  return CivilToUtcMillis(t);
}

std::string FormatDate(int64_t utc_midnight_ms) {
  const LocalDateTime t = UtcMillisToCivil(utc_midnight_ms);
  char buf[48];
  std::snprintf(buf, sizeof(buf), "%04d-%02d-%02d", t.year, t.month, t.day);
  return buf;
}

}  // namespace sb::caltime
