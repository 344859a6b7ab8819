// Calendar time for Switchboard: the instants, dates and zoned wall times that calendar
// providers put on the wire (Google Calendar v3, Microsoft Graph). The provider sandbox's
// emulators use it, and calendar sync is to use the same functions, so that both read and
// write provider times the same way.
//
// Instants are int64 milliseconds since the Unix epoch (UTC). Zone rules come from libical,
// which on Debian reads the system tzdata (/usr/share/zoneinfo). Zone parameters take IANA
// names ("Europe/Zurich"); "UTC", "Etc/UTC", "GMT" and "Etc/GMT" are always known. Use
// ResolveZone() in windows_zones.h first when a name may be a Windows zone. libical is used
// only inside this folder (scripts/check-layers.sh enforces it).
//
// Thread safety: every function may be called from any thread. libical keeps process-wide
// zone caches that it fills lazily, so all libical calls of this module are serialized by
// one mutex (internal::LibicalMutex()). Other code in the process must not call libical's
// zone functions concurrently without holding it.
//
// Limitation: libical expands zone rules up to about the year 2037 and uses the last known
// rule after that, so offsets of wall times beyond that horizon follow the last rule.
#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>

#include "sb/base/status.h"

namespace sb::caltime {

// Start (or end) of an event as the providers model it.
struct EventTime {
  bool all_day = false;
  // "YYYY-MM-DD" when all_day, empty otherwise.
  std::string date;
  // The instant when !all_day; for all-day events the UTC midnight of `date`.
  int64_t utc_ms = 0;
  // IANA zone of the event (expansion zone of a series); may be empty.
  std::string time_zone;

  friend bool operator==(const EventTime&, const EventTime&) = default;
};

// A civil (wall-clock) date and time without a zone.
struct LocalDateTime {
  int year = 1970;
  int month = 1;  // 1..12
  int day = 1;    // 1..31
  int hour = 0;
  int minute = 0;
  int second = 0;
  int millisecond = 0;

  friend bool operator==(const LocalDateTime&, const LocalDateTime&) = default;
};

// Parses RFC 3339 "YYYY-MM-DDTHH:MM:SS[.fff...](Z|±hh:mm)". The offset is mandatory;
// fractional seconds beyond milliseconds are truncated. InvalidArgument when malformed.
sb::Result<int64_t> ParseRfc3339(std::string_view text);

// Formats the instant as wall time in `iana_zone` with its offset, whole seconds (the
// fraction is truncated): "2024-05-06T10:00:00+02:00". UTC zones render as "...Z", like
// Google does. InvalidArgument for an unknown zone.
sb::Result<std::string> FormatRfc3339InZone(int64_t utc_ms, std::string_view iana_zone);

// "2024-05-01T09:05:12.345Z": always three fraction digits (Google's `updated`, `created`).
std::string FormatUtcMillis(int64_t utc_ms);

// Converts a wall time in `iana_zone` to an instant. `local` is
// "YYYY-MM-DDTHH:MM:SS[.f...]" (up to 7 fraction digits as Graph sends, kept to ms; no
// offset). Wall times that do not exist (DST gap) or exist twice (DST overlap) are read
// with the offset in effect *before* the transition, as RFC 5545 prescribes for gaps and
// Google does for both: in an overlap that is the earlier of the two instants, in a gap the
// result lies after the gap (02:30 on a spring-forward night in Zurich becomes 03:30 CEST).
// InvalidArgument when malformed or the zone is unknown.
sb::Result<int64_t> LocalToUtc(std::string_view local, std::string_view iana_zone);
// Same, from fields. InvalidArgument when a field is out of range or the zone is unknown.
sb::Result<int64_t> LocalToUtc(const LocalDateTime& local, std::string_view iana_zone);

// The wall time of an instant in `iana_zone`. InvalidArgument for an unknown zone.
sb::Result<LocalDateTime> UtcToLocal(int64_t utc_ms, std::string_view iana_zone);

// Graph's dateTimeTimeZone.dateTime: local wall time in the zone, no offset, seven fraction
// digits: "2016-12-09T20:30:00.0000000". InvalidArgument for an unknown zone.
sb::Result<std::string> FormatGraphDateTime(int64_t utc_ms, std::string_view iana_zone);

// True when the IANA name can be resolved to zone rules (case-sensitive, as tzdata is).
bool IsKnownZone(std::string_view iana);

// "YYYY-MM-DD" -> milliseconds of that date's UTC midnight. InvalidArgument when malformed.
sb::Result<int64_t> ParseDate(std::string_view date);
// UTC date of the instant as "YYYY-MM-DD" (normally given a UTC midnight).
std::string FormatDate(int64_t utc_midnight_ms);

// Zone-free civil conversions (the civil time read as UTC). REQUIRES: fields in range for
// CivilToUtcMillis (use LocalToUtc(local, "UTC") to validate untrusted fields).
LocalDateTime UtcMillisToCivil(int64_t utc_ms);
int64_t CivilToUtcMillis(const LocalDateTime& civil);

namespace internal {
// The one mutex serializing libical calls in this module (recurrence.cc takes it too).
// Not for use outside sb/caltime. Never held while calling a public function above.
std::mutex& LibicalMutex();
}  // namespace internal

}  // namespace sb::caltime
