// rrule_conformance: libical's RRULE expansion against the recurrence suites of dateutil,
// rrule.js and libical (issue 14). Prints the per-suite table of docs/benchmarks.md.
//
//   rrule_conformance [--data DIR] [--suite NAME]... [--failures] [--unsupported]
//                     [--slowest N] [--timeout-ms N]
//
// Exit status 0 whatever the pass rate; 2 when a data file cannot be read or on bad usage.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>
#include <string_view>
#include <vector>

#include "sb/caltime/conformance/rrule_conformance.h"

namespace {

using sb::caltime::conformance::Suite;

struct Flags {
  std::string data_dir = SB_RRULE_DATA_DIR;
  std::vector<std::string> suites;
  bool failures = false;
  bool unsupported = false;
  long timeout_ms = 2000;
  long slowest = 0;
};

int Usage() {
  std::cerr << "usage: rrule_conformance [--data DIR] [--suite NAME]... [--failures] "
               "[--unsupported] [--slowest N] [--timeout-ms N]\n"
               "  --failures     list failing and erroring cases with got/expected\n"
               "  --unsupported  list unsupported cases (and why) too\n"
               "  --slowest N    list the N slowest cases\n"
               "  --timeout-ms N time one case may take before it counts as an error "
               "(default 2000)\n";
  return 2;
}

bool ParseFlags(int argc, char** argv, Flags* flags) {
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    const bool has_value = i + 1 < argc;
    if (arg == "--failures") {
      flags->failures = true;
    } else if (arg == "--unsupported") {
      flags->failures = flags->unsupported = true;
    } else if (arg == "--data" && has_value) {
      flags->data_dir = argv[++i];
    } else if (arg == "--suite" && has_value) {
      flags->suites.emplace_back(argv[++i]);
    } else if (arg == "--slowest" && has_value) {
      flags->slowest = std::strtol(argv[++i], nullptr, 10);
      if (flags->slowest <= 0) return false;
    } else if (arg == "--timeout-ms" && has_value) {
      flags->timeout_ms = std::strtol(argv[++i], nullptr, 10);
      if (flags->timeout_ms <= 0) return false;
    } else {
      return false;
    }
  }
  return true;
}

bool Selected(const Flags& flags, const Suite& suite) {
  if (flags.suites.empty()) return true;
  for (const std::string& name : flags.suites) {
    if (name == suite.name) return true;
  }
  return false;
}

}  // namespace

int main(int argc, char** argv) {
  namespace conf = sb::caltime::conformance;
  Flags flags;
  if (!ParseFlags(argc, argv, &flags)) return Usage();
  conf::IsolationOptions options;
  options.case_timeout = std::chrono::milliseconds(flags.timeout_ms);
  std::vector<conf::SuiteReport> reports;
  for (const Suite& suite : conf::DefaultSuites()) {
    if (!Selected(flags, suite)) continue;
    sb::Result<conf::SuiteReport> report = conf::RunSuite(flags.data_dir, suite, options);
    if (!report.ok()) {
      std::cerr << "rrule_conformance: " << report.status().ToString() << "\n";
      return 2;
    }
    reports.push_back(*std::move(report));
  }
  if (reports.empty()) return Usage();
  if (flags.slowest > 0) {
    std::cout << conf::FormatSlowest(reports, static_cast<size_t>(flags.slowest)) << "\n";
  }
  if (flags.failures) std::cout << conf::FormatNonPassing(reports, flags.unsupported) << "\n";
  std::cout << conf::FormatTable(reports);
  return 0;
}
