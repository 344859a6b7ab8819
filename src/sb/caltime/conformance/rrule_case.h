// Recurrence test cases of other engines (dateutil, rrule.js, libical's own suite; the files
// under ../shared/data/rrule/, see its README) read into one engine-neutral form, so that the
// RRULE conformance harness can replay them against libical.
//
// Pure functions; thread-safe. Every input line is untrusted: whatever it holds, parsing
// returns a case (possibly marked unsupported), never crashes.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sb::caltime::conformance {

// The JSON Lines dialect of a suite's files.
enum class CaseFormat { kDateutil, kRruleJs, kLibical };

// The question a case asks of the recurrence set, in dateutil's terms.
enum class Method {
  kList,     // every instance (dateutil list(), rrule.js all(), libical's INSTANCES)
  kBetween,  // instances in (a, b), or [a, b] with inc
  kAfter,    // first instance > a (>= with inc)
  kBefore,   // last instance < a (<= with inc)
  kXAfter,   // first `count` instances > a (>= with inc)
};

// An RRULE or EXRULE with the DTSTART it is expanded from.
struct RuleSpec {
  std::string dtstart;  // "YYYYMMDD", "YYYYMMDDTHHMMSS" or "...Z"
  std::string tzid;     // empty: floating (or UTC when dtstart ends in Z)
  std::string rule;     // the rule value, "FREQ=..."
};

struct RruleCase {
  std::string id;
  std::vector<RuleSpec> rrules;
  std::vector<RuleSpec> exrules;
  // Wall times without a trailing Z ("YYYYMMDD" or "YYYYMMDDTHHMMSS").
  std::vector<std::string> rdates;
  std::vector<std::string> exdates;
  // The first DTSTART (wall time without Z): the only instance when there is no RRULE and
  // no RDATE.
  std::string dtstart;
  std::string start_at;  // libical's START-AT: expected starts at the first entry >= it

  Method method = Method::kList;
  std::string arg;      // a of between/after/before/xafter (wall time)
  std::string arg_end;  // b of between
  bool inc = false;
  size_t count = 0;  // xafter

  // Wall times without Z. For kList of a set with an infinite RRULE, the first instances.
  std::vector<std::string> expected;
  // Set when the case expects libical to refuse the rule: the status code name it names
  // ("UNIMPLEMENTED").
  std::optional<std::string> expected_error;
  // Non-empty when the harness cannot replay the case with libical, and why.
  std::string unsupported;
};

// Reads one line of a suite file. `fallback_id` names the case when the line has no usable
// "id" (e.g. "dateutil/cases.jsonl:17").
RruleCase ParseCase(CaseFormat format, std::string_view line, std::string_view fallback_id);

// Drops a trailing 'Z' (or 'z'): cases compare wall times.
std::string WallTime(std::string_view ical_date_time);

// Sort key of a wall time: dates sort as their midnight.
std::string WallTimeKey(std::string_view wall_time);

// Whether the set can go on forever: some RRULE has neither COUNT nor UNTIL.
bool HasInfiniteRule(const RruleCase& c);

}  // namespace sb::caltime::conformance
