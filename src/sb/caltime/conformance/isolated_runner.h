// Runs recurrence cases in a child process, so that a rule on which libical loops or crashes
// costs one case (judged kError) instead of the whole run.
//
// The child is forked (no exec) and evaluates the cases in order, writing one outcome per
// line to a pipe; the parent gives each case `case_timeout`. When a case runs out of time
// (the child is killed) or the child dies, that case is an error and a new child carries on
// with the next case.
//
// REQUIRES: no other thread of the process uses libical while RunIsolated forks (the child
// inherits the module mutex in whatever state it is). Not for use in the server.
#pragma once

#include <chrono>
#include <functional>
#include <vector>

#include "sb/base/status.h"
#include "sb/caltime/conformance/rrule_case.h"
#include "sb/caltime/conformance/rrule_evaluate.h"

namespace sb::caltime::conformance {

struct IsolationOptions {
  // Wall-clock time one case may take. Cases take microseconds to milliseconds; libical
  // 3.0.16 needs many seconds (or forever) for a few rules, which this bound turns into
  // errors.
  std::chrono::milliseconds case_timeout{2000};
  // When set, the time for each case instead (e.g. generous for cases known to pass, short
  // for the rest).
  std::function<std::chrono::milliseconds(const RruleCase&)> timeout_for;
};

// One outcome per case, in order. Internal when the process cannot fork or make a pipe.
sb::Result<std::vector<Outcome>> RunIsolated(const std::vector<RruleCase>& cases,
                                             const IsolationOptions& options);

}  // namespace sb::caltime::conformance
