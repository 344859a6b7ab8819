// Replays one recurrence case against libical (through LibicalRuleIterator) and judges it.
//
// The recurrence set is built as RFC 5545 and dateutil's rruleset do: the instances of every
// RRULE (each from its own DTSTART) and the RDATEs, in order and without duplicates, minus
// EXDATEs and EXRULE instances; with neither RRULE nor RDATE, the DTSTART alone. Whether a
// DTSTART that does not match its rule is an instance is left to libical. Wall times are
// compared as strings ("YYYYMMDDTHHMMSS", a trailing Z dropped).
//
// Thread-compatible. Evaluate may not return when libical loops (libical 3.0.16 searches
// for some rules second by second): run untrusted cases through RunIsolated
// (isolated_runner.h).
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "sb/caltime/conformance/rrule_case.h"

namespace sb::caltime::conformance {

enum class Verdict {
  kPass,
  kFail,         // libical yields other instances than expected
  kError,        // libical refused the rule (or timed out or crashed, see RunIsolated)
  kUnsupported,  // the harness cannot replay the case; Outcome::detail says why
};

std::string_view VerdictName(Verdict verdict);

struct Outcome {
  Verdict verdict = Verdict::kUnsupported;
  std::vector<std::string> got;          // the answer libical's set gives (kPass, kFail)
  std::string detail;                    // why, for anything but kPass
  std::chrono::microseconds elapsed{0};  // set by RunIsolated
};

// Rule steps (libical iterator calls) a case may take in all, so that infinite sets end.
inline constexpr size_t kMaxRuleSteps = 20'000;

Outcome Evaluate(const RruleCase& c);

}  // namespace sb::caltime::conformance
