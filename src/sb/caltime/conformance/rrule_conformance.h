// The RRULE conformance harness (issue 14): replays the recurrence suites of dateutil,
// rrule.js and libical (../shared/data/rrule/) against libical's expansion and reports the
// pass rate per suite. Used by the rrule_conformance program and by the regression test
// that keeps today's passing cases passing.
//
// Thread-compatible; RunSuite forks (see isolated_runner.h).
#pragma once

#include <cstddef>
#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include "sb/base/status.h"
#include "sb/caltime/conformance/isolated_runner.h"
#include "sb/caltime/conformance/rrule_case.h"
#include "sb/caltime/conformance/rrule_evaluate.h"

namespace sb::caltime::conformance {

struct Suite {
  std::string name;                // "dateutil"
  CaseFormat format;               // dialect of its files
  std::vector<std::string> files;  // relative to the data directory
};

// dateutil, rrule.js, libical, libical-rscale, libical-rscale-icu.
std::vector<Suite> DefaultSuites();

struct CaseResult {
  std::string id;
  Outcome outcome;
  std::vector<std::string> expected;
};

struct SuiteReport {
  std::string name;
  std::vector<CaseResult> results;

  size_t Count(Verdict verdict) const;
};

// Reads the suite's files under `data_dir` and judges every case. NotFound / DataLoss when a
// file cannot be read; Internal when the cases cannot be isolated.
sb::Result<SuiteReport> RunSuite(const std::filesystem::path& data_dir, const Suite& suite,
                                 const IsolationOptions& options);

// Markdown table: suite, cases, passed, failed, errors, unsupported, pass rate of the
// supported cases (all but unsupported) and of all cases.
std::string FormatTable(const std::vector<SuiteReport>& reports);

// One block per case that did not pass (failures and errors; with `include_unsupported`,
// unsupported ones too): id, verdict, detail, got and expected.
std::string FormatNonPassing(const std::vector<SuiteReport>& reports, bool include_unsupported);

// The `n` slowest cases: milliseconds, verdict and id, one per line.
std::string FormatSlowest(const std::vector<SuiteReport>& reports, size_t n);

// Ids of the passing cases of all reports, sorted.
std::set<std::string> PassingIds(const std::vector<SuiteReport>& reports);

// The checked-in list of passing ids: one id per line, '#' comments and blank lines ignored.
sb::Result<std::set<std::string>> ReadIdList(const std::filesystem::path& path);
sb::Status WriteIdList(const std::filesystem::path& path, const std::set<std::string>& ids);

}  // namespace sb::caltime::conformance
