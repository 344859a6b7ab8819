// One RRULE expanded by libical as it stands: the wall times libical's iterator yields for a
// DTSTART and a rule, without ExpandRecurrence's series handling (there, UNTIL is applied in
// the series zone and instants are computed; here COUNT, UNTIL, RSCALE and the treatment of
// a DTSTART that does not match the rule are all libical's). It exists to measure libical
// (the RRULE conformance harness in conformance/) and for callers that need a rule's wall
// times rather than instants.
//
// Thread safety: an iterator is thread-compatible (one thread at a time); different
// iterators may be used concurrently, libical calls are serialized by the module's mutex.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>

#include "sb/base/status.h"

namespace sb::caltime {

struct RuleIteratorOptions {
  // "YYYYMMDD" (DATE), "YYYYMMDDTHHMMSS" (floating or in `tzid`) or "YYYYMMDDTHHMMSSZ" (UTC).
  std::string dtstart;
  // IANA zone of a date-time `dtstart` without Z; empty means floating wall time.
  std::string tzid;
  // The RRULE value, e.g. "FREQ=WEEKLY;COUNT=3;BYDAY=MO". RSCALE is accepted when libical
  // was built with ICU (see LibicalSupportsRscale).
  std::string rule;
  // Optional, same forms as `dtstart`: libical's icalrecur_iterator_set_start, which skips
  // to the first instance at or after it (libical refuses it for rules with COUNT).
  std::string start_at;
};

// Whether this libical can expand RSCALE rules other than GREGORIAN (it needs ICU).
bool LibicalSupportsRscale();

class LibicalRuleIterator {
 public:
  // Errors: InvalidArgument when `dtstart`, `tzid`, `start_at` or the rule is malformed or
  // libical refuses to iterate it (the message carries libical's error text), Unimplemented
  // when libical reports the rule's feature as not implemented (e.g. an unknown RSCALE).
  static sb::Result<std::unique_ptr<LibicalRuleIterator>> Create(
      const RuleIteratorOptions& options);

  LibicalRuleIterator(const LibicalRuleIterator&) = delete;
  LibicalRuleIterator& operator=(const LibicalRuleIterator&) = delete;
  ~LibicalRuleIterator();

  // The next instance as libical yields it, formatted like `dtstart` without a trailing Z
  // ("YYYYMMDD" or "YYYYMMDDTHHMMSS", in the dtstart's zone); nullopt once the rule has
  // ended. Each call is one libical step: libical may search for a long time inside it for
  // rules that match rarely (callers that take hostile rules bound it from outside).
  std::optional<std::string> Next();

 private:
  struct State;
  explicit LibicalRuleIterator(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace sb::caltime
