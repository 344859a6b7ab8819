// Checked reads of members of untrusted JSON objects for the calendar model's translations
// (model.h). nlohmann::json throws on a wrong-type access, so every read checks the type
// first; a wrong type or an over-long string is INVALID_ARGUMENT naming the field. A member
// that is absent or JSON null reads as absent: Graph sends null for unset members.
//
// Not part of the model's interface: used by model.cc, google_item.cc, graph_item.cc and
// expand.cc only. Pure functions; thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sb/base/json.h"
#include "sb/base/status.h"
#include "sb/caltime/caltime.h"
#include "sb/sync/calendar/model.h"

namespace sb::sync::calendar::internal {

// Bounds on what one item may carry. Real items stay far below them; they exist so that a
// hostile provider answer cannot make the store keep unbounded values.
inline constexpr size_t kMaxIdBytes = 1024;         // ids, etags, emails, zones, colors
inline constexpr size_t kMaxTitleBytes = 8 << 10;   // titles, names, locations, urls, lines
inline constexpr size_t kMaxTextBytes = 256 << 10;  // descriptions
inline constexpr size_t kMaxTimeBytes = 64;         // date and date-time strings
inline constexpr size_t kMaxAttendees = 2000;
inline constexpr size_t kMaxReminders = 100;
inline constexpr size_t kMaxRecurrenceLines = 100;
inline constexpr int kMaxReminderMinutes = 10'000'000;

// "parent.name" (or "name" when parent is empty), for error messages.
std::string FieldName(std::string_view parent, std::string_view name);

// INVALID_ARGUMENT "<field>: <what>".
Status FieldError(std::string_view field, std::string_view what);

// The member, or nullptr when absent or null. REQUIRES: object.is_object().
const Json* Member(const Json& object, std::string_view key);

// A string member ("" when absent or null); error when not a string or longer than max_bytes.
Result<std::string> StringMember(const Json& object, std::string_view key, size_t max_bytes,
                                 std::string_view field);
// A string member that must be present and non-empty.
Result<std::string> RequiredString(const Json& object, std::string_view key, size_t max_bytes,
                                   std::string_view field);
Result<bool> BoolMember(const Json& object, std::string_view key, bool absent_value,
                        std::string_view field);
// An integer member within [min, max]; nullopt when absent or null.
Result<std::optional<int64_t>> IntMember(const Json& object, std::string_view key, int64_t min,
                                         int64_t max, std::string_view field);
// An object (or array) member; nullptr when absent or null, error when of another type.
Result<const Json*> ObjectMember(const Json& object, std::string_view key, std::string_view field);
Result<const Json*> ArrayMember(const Json& object, std::string_view key, size_t max_items,
                                std::string_view field);

// 0001-01-01T00:00:00Z and 9999-12-31T23:59:59.999Z: the instants the model keeps.
inline constexpr int64_t kMinInstantMs = -62'135'596'800'000;
inline constexpr int64_t kMaxInstantMs = 253'402'300'799'999;

// Instants are kept within the years 0001..9999, where RFC 3339 text round-trips.
Result<int64_t> ParseInstant(std::string_view text, std::string_view field);
// `ms` when within those years.
Result<int64_t> CheckInstant(int64_t ms, std::string_view field);
// A "yyyy-mm-dd" date that parses; returns it unchanged.
Result<std::string> CheckDate(std::string_view text, std::string_view field);
// An optional RFC 3339 instant member (Google created/updated, Graph *DateTime).
Result<std::optional<int64_t>> InstantMember(const Json& object, std::string_view key,
                                             std::string_view field);

// Plain text of an HTML description: tags dropped, <br> and </p> as newlines, the basic
// entities (&amp; &lt; &gt; &quot; &#39; &nbsp;) decoded. Not a sanitizer: for search and
// plain-text clients only.
std::string HtmlToText(std::string_view html);

// Whether some RRULE/EXRULE line is sub-daily (FREQ=HOURLY, MINUTELY or SECONDLY) with a
// day-level part (BYDAY, BYMONTHDAY, BYYEARDAY, BYWEEKNO, BYMONTH): libical 3.0.16 steps
// through every hour, minute or second looking for a matching day and did not terminate on
// 14 such rules of dateutil's suite, so they are never handed to it. Likewise BYSECOND=60 (a
// leap second, on which FREQ=SECONDLY never ends). BYHOUR, BYMINUTE and other BYSECOND values
// are fine.
bool HasUnsafeSubDailyRule(const std::vector<std::string>& recurrence);

// The span of the event itself, ignoring any recurrence (model.cc; EventSpan without series).
Result<Span> SingleSpan(const Event& event);

// The series start as caltime expands it (all-day: the date at UTC midnight).
Result<caltime::EventTime> SeriesStart(const Event& master);

}  // namespace sb::sync::calendar::internal
