// Microsoft Graph's patternedRecurrence ({pattern, range}, provider-protocols.md 8.3) as an
// RFC 5545 RRULE line, so that Graph series are stored and expanded like Google's, and back,
// so that recurring events can be written to Graph.
//
//   daily              FREQ=DAILY
//   weekly             FREQ=WEEKLY;BYDAY=<daysOfWeek>;WKST=<firstDayOfWeek>
//   absoluteMonthly    FREQ=MONTHLY;BYMONTHDAY=<dayOfMonth>
//   relativeMonthly    FREQ=MONTHLY;BYDAY=<n><day> (one day) or BYDAY=<days>;BYSETPOS=<n>
//   absoluteYearly     FREQ=YEARLY;BYMONTH=<month>;BYMONTHDAY=<dayOfMonth>
//   relativeYearly     FREQ=YEARLY;BYMONTH=<month>;BYDAY=... as relativeMonthly
// with INTERVAL when above 1 and n = 1..4 for index first..fourth, -1 for last. The range
// gives UNTIL (endDate: the end of that day in the recurrence zone, as UTC
// "yyyymmddThhmmssZ"; a DATE "yyyymmdd" for all-day series, whose instances are dates),
// COUNT (numbered) or nothing (noEnd).
//
// Known difference: Outlook puts an absoluteMonthly dayOfMonth 31 on the last day of shorter
// months, RFC 5545 skips those months; the RRULE follows RFC 5545.
//
// Pure functions; thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "sb/base/json.h"
#include "sb/base/status.h"

namespace sb::sync::calendar {

// The IANA zone of a recurrence: range.recurrenceTimeZone (IANA or Windows name) when it
// names a known zone, else `fallback`. INVALID_ARGUMENT when the members have wrong types.
Result<std::string> GraphRecurrenceZone(const Json& recurrence, std::string_view fallback);

// "RRULE:..." for a Graph recurrence object. `zone`: the IANA zone of the series (see
// GraphRecurrenceZone), used to place UNTIL. INVALID_ARGUMENT naming the member for a
// malformed or unknown pattern or range.
Result<std::string> GraphRecurrenceToRrule(const Json& recurrence, std::string_view zone,
                                           bool all_day);

// The Graph patternedRecurrence ({pattern, range}) of an "RRULE:..." line, for an event that
// starts at `start` (the first occurrence's local date in `zone`, "yyyy-mm-dd", or its local
// date-time "yyyy-mm-ddThh:mm:ss...", so that an UNTIL earlier in its day than the series'
// time ends Graph's date-only range the day before) in the IANA zone `zone` (written as
// range.recurrenceTimeZone). The inverse of GraphRecurrenceToRrule for
// every rule it produces. INVALID_ARGUMENT naming the rule part for what Graph cannot express
// (FREQ other than DAILY/WEEKLY/MONTHLY/YEARLY, BYHOUR/BYMINUTE/BYSECOND/BYWEEKNO/BYYEARDAY,
// several BYMONTHDAY values, BYSETPOS with a single BYDAY with its own ordinal, COUNT with
// UNTIL, malformed values). FREQ=DAILY with BYDAY and no INTERVAL ("every weekday") becomes
// Graph's weekly pattern.
Result<Json> RruleToGraphRecurrence(std::string_view rrule_line, std::string_view start,
                                    std::string_view zone);

}  // namespace sb::sync::calendar
