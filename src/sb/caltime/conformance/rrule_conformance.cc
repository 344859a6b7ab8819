#include "sb/caltime/conformance/rrule_conformance.h"

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <utility>

namespace sb::caltime::conformance {
namespace {

// A line longer than this is not a case (and is judged as an unreadable one).
constexpr size_t kMaxLineBytes = 4 << 20;

sb::Result<std::vector<RruleCase>> ReadCases(const std::filesystem::path& data_dir,
                                             const std::string& file, CaseFormat format) {
  std::ifstream in(data_dir / file, std::ios::binary);
  if (!in) return sb::NotFoundError("cannot read " + (data_dir / file).string());
  std::vector<RruleCase> cases;
  std::string line;
  for (size_t number = 1; std::getline(in, line); ++number) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    const std::string fallback = file + ":" + std::to_string(number);
    if (line.size() > kMaxLineBytes) line.clear();
    cases.push_back(ParseCase(format, line, fallback));
  }
  if (in.bad()) return sb::DataLossError("error reading " + (data_dir / file).string());
  return cases;
}

std::string Percent(size_t part, size_t whole) {
  if (whole == 0) return "n/a";
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.1f%%",
                100.0 * static_cast<double>(part) / static_cast<double>(whole));
  return buf;
}

std::string Row(const std::string& name, size_t cases, size_t pass, size_t fail, size_t error,
                size_t unsupported) {
  std::ostringstream row;
  row << "| " << name << " | " << cases << " | " << pass << " | " << fail << " | " << error << " | "
      << unsupported << " | " << Percent(pass, cases - unsupported) << " | " << Percent(pass, cases)
      << " |\n";
  return row.str();
}

std::string JoinList(const std::vector<std::string>& items) {
  constexpr size_t kShown = 40;
  std::string out = "[";
  for (size_t i = 0; i < items.size() && i < kShown; ++i) out += (i ? "," : "") + items[i];
  if (items.size() > kShown) out += ",... (" + std::to_string(items.size()) + " in all)";
  return out + "]";
}

}  // namespace

std::vector<Suite> DefaultSuites() {
  return {
      {"dateutil", CaseFormat::kDateutil, {"dateutil/cases.jsonl"}},
      {"rrule.js", CaseFormat::kRruleJs, {"rrule-js/cases.jsonl"}},
      {"libical", CaseFormat::kLibical, {"libical/icalrecur_test.jsonl"}},
      {"libical-rscale", CaseFormat::kLibical, {"libical/icalrecur_test_rscale.jsonl"}},
      {"libical-rscale-icu",
       CaseFormat::kLibical,
       {"libical/icalrecur_test_rscale_withicu.jsonl",
        "libical/icalrecur_test_rscale_withicu_dangi.jsonl"}},
  };
}

size_t SuiteReport::Count(Verdict verdict) const {
  return static_cast<size_t>(
      std::count_if(results.begin(), results.end(),
                    [&](const CaseResult& r) { return r.outcome.verdict == verdict; }));
}

sb::Result<SuiteReport> RunSuite(const std::filesystem::path& data_dir, const Suite& suite,
                                 const IsolationOptions& options) {
  std::vector<RruleCase> cases;
  for (const std::string& file : suite.files) {
    SB_ASSIGN_OR_RETURN(std::vector<RruleCase> more, ReadCases(data_dir, file, suite.format));
    std::move(more.begin(), more.end(), std::back_inserter(cases));
  }
  SB_ASSIGN_OR_RETURN(std::vector<Outcome> outcomes, RunIsolated(cases, options));
  SuiteReport report{suite.name, {}};
  for (size_t i = 0; i < cases.size(); ++i) {
    report.results.push_back({cases[i].id, std::move(outcomes[i]), std::move(cases[i].expected)});
  }
  return report;
}

std::string FormatTable(const std::vector<SuiteReport>& reports) {
  std::string out =
      "| suite | cases | passed | failed | errors | unsupported | pass rate (supported) | "
      "pass rate (all) |\n| --- | --- | --- | --- | --- | --- | --- | --- |\n";
  size_t totals[5] = {};
  for (const SuiteReport& r : reports) {
    const size_t counts[5] = {r.results.size(), r.Count(Verdict::kPass), r.Count(Verdict::kFail),
                              r.Count(Verdict::kError), r.Count(Verdict::kUnsupported)};
    for (int i = 0; i < 5; ++i) totals[i] += counts[i];
    out += Row(r.name, counts[0], counts[1], counts[2], counts[3], counts[4]);
  }
  return out + Row("all", totals[0], totals[1], totals[2], totals[3], totals[4]);
}

std::string FormatNonPassing(const std::vector<SuiteReport>& reports, bool include_unsupported) {
  std::string out;
  for (const SuiteReport& r : reports) {
    for (const CaseResult& c : r.results) {
      const Verdict v = c.outcome.verdict;
      if (v == Verdict::kPass || (v == Verdict::kUnsupported && !include_unsupported)) continue;
      out += std::string(VerdictName(v)) + " " + c.id + ": " + c.outcome.detail + " (" +
             std::to_string(c.outcome.elapsed.count() / 1000) + " ms)\n";
      if (v == Verdict::kUnsupported) continue;
      out += "  got:      " + JoinList(c.outcome.got) + "\n";
      out += "  expected: " + JoinList(c.expected) + "\n";
    }
  }
  return out;
}

std::string FormatSlowest(const std::vector<SuiteReport>& reports, size_t n) {
  std::vector<const CaseResult*> all;
  for (const SuiteReport& r : reports) {
    for (const CaseResult& c : r.results) all.push_back(&c);
  }
  n = std::min(n, all.size());
  std::partial_sort(all.begin(), all.begin() + static_cast<std::ptrdiff_t>(n), all.end(),
                    [](const CaseResult* a, const CaseResult* b) {
                      return a->outcome.elapsed > b->outcome.elapsed;
                    });
  std::string out;
  for (size_t i = 0; i < n; ++i) {
    char ms[32];
    std::snprintf(ms, sizeof(ms), "%8.1f ms ",
                  static_cast<double>(all[i]->outcome.elapsed.count()) / 1000);
    out += ms + std::string(VerdictName(all[i]->outcome.verdict)) + " " + all[i]->id + "\n";
  }
  return out;
}

std::set<std::string> PassingIds(const std::vector<SuiteReport>& reports) {
  std::set<std::string> ids;
  for (const SuiteReport& r : reports) {
    for (const CaseResult& c : r.results) {
      if (c.outcome.verdict == Verdict::kPass) ids.insert(c.id);
    }
  }
  return ids;
}

sb::Result<std::set<std::string>> ReadIdList(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) return sb::NotFoundError("cannot read " + path.string());
  std::set<std::string> ids;
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty() || line.front() == '#') continue;
    ids.insert(line);
  }
  return ids;
}

sb::Status WriteIdList(const std::filesystem::path& path, const std::set<std::string>& ids) {
  std::ofstream out(path, std::ios::trunc);
  out << "# RRULE conformance cases that libical passes today, one id per line. Checked by\n"
         "# rrule_conformance_test; regenerate with SB_UPDATE_RRULE_PASSING=1 (see\n"
         "# docs/benchmarks.md, \"RRULE expansion conformance\").\n";
  for (const std::string& id : ids) out << id << "\n";
  out.close();
  if (!out) return sb::InternalError("cannot write " + path.string());
  return sb::OkStatus();
}

}  // namespace sb::caltime::conformance
