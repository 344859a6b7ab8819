#include "sb/caltime/conformance/rrule_conformance.h"

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <set>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace sb::caltime::conformance {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

Outcome Judge(CaseFormat format, const std::string& line) {
  return Evaluate(ParseCase(format, line, "test:1"));
}

TEST(RruleCase, ReadsRruleJsSetsAndArguments) {
  const RruleCase c = ParseCase(
      CaseFormat::kRruleJs,
      R"({"id":"x","ical":"DTSTART:19970902T090000Z\nRRULE:FREQ=YEARLY;COUNT=6;BYDAY=TU,TH\n)"
      R"(EXDATE:19970904T090000Z,19970911T090000Z","method":"between",)"
      R"("method_args":["19970902T090000","19970920T090000",true],"expected":["19970902T090000"]})",
      "fallback");
  EXPECT_EQ(c.id, "x");
  EXPECT_THAT(c.unsupported, IsEmpty());
  ASSERT_EQ(c.rrules.size(), 1u);
  EXPECT_EQ(c.rrules[0].dtstart, "19970902T090000Z");
  EXPECT_THAT(c.exdates, ElementsAre("19970904T090000", "19970911T090000"));
  EXPECT_EQ(c.method, Method::kBetween);
  EXPECT_TRUE(c.inc);
  EXPECT_EQ(c.arg_end, "19970920T090000");
}

TEST(RruleCase, HostileLinesBecomeUnsupportedCases) {
  for (const std::string& line : std::vector<std::string>{
           "", "not json", "[1,2]", "{\"id\":5}", std::string(1000, '['), "{\"ical\":7}",
           R"({"ical":"RRULE:FREQ=DAILY","expected":[]})",
           R"({"ical":"DTSTART:1\nRRULE:FREQ=DAILY","method":"between","method_args":[1]})",
           R"({"ical":"DTSTART:19970902T090000\nX-FOO:1","expected":[]})"}) {
    const RruleCase c = ParseCase(CaseFormat::kRruleJs, line, "f:1");
    EXPECT_THAT(c.unsupported, Not(IsEmpty())) << line;
    EXPECT_EQ(Evaluate(c).verdict, Verdict::kUnsupported) << line;
  }
}

TEST(RruleCase, FlagsDateutilExtensions) {
  const RruleCase c = ParseCase(
      CaseFormat::kDateutil,
      R"({"id":"d","kind":"rrule","ical":"DTSTART:19970902T090000\nRRULE:FREQ=DAILY;BYEASTER=0",)"
      R"("method":"list","method_args":null,"flags":["non-standard:BYEASTER"],"expected":[]})",
      "f:1");
  EXPECT_THAT(c.unsupported, HasSubstr("BYEASTER"));
}

TEST(Evaluate, SetsCombineRulesDatesAndExclusions) {
  const Outcome o =
      Judge(CaseFormat::kRruleJs,
            R"({"ical":"DTSTART:19970902T090000Z\nRRULE:FREQ=YEARLY;COUNT=6;BYDAY=TU,TH\n)"
            R"(EXRULE:FREQ=YEARLY;COUNT=3;BYDAY=TH\nRDATE:19970903T090000Z","method":"all",)"
            R"("method_args":[],"expected":["19970902T090000","19970903T090000","19970909T090000",)"
            R"("19970916T090000"]})");
  EXPECT_EQ(o.verdict, Verdict::kPass) << o.detail;
}

TEST(Evaluate, MethodsOverAnInfiniteRule) {
  const std::string head = R"({"ical":"DTSTART:19970902T090000\nRRULE:FREQ=DAILY",)";
  EXPECT_EQ(
      Judge(CaseFormat::kRruleJs, head + R"("method":"after","method_args":)"
                                         R"(["19970904T090000"],"expected":["19970905T090000"]})")
          .verdict,
      Verdict::kPass);
  EXPECT_EQ(Judge(CaseFormat::kRruleJs,
                  head + R"("method":"before","method_args":)"
                         R"(["19970905T090000",true],"expected":["19970905T090000"]})")
                .verdict,
            Verdict::kPass);
  // A list of an infinite set compares its first instances.
  EXPECT_EQ(Judge(CaseFormat::kRruleJs,
                  head + R"("method":"all","method_args":[],"expected":["19970902T090000"]})")
                .verdict,
            Verdict::kPass);
  const Outcome wrong =
      Judge(CaseFormat::kRruleJs, head + R"("method":"between","method_args":)"
                                         R"(["19970902T090000","19970904T090000"],)"
                                         R"("expected":["19970902T090000"]})");
  EXPECT_EQ(wrong.verdict, Verdict::kFail);
  EXPECT_THAT(wrong.got, ElementsAre("19970903T090000"));
}

TEST(Evaluate, RefusalsAreErrorsUnlessExpected) {
  EXPECT_EQ(Judge(CaseFormat::kLibical,
                  R"({"dtstart":"20131025","rrule":"RSCALE=RUSSIAN;FREQ=YEARLY","expected":[],)"
                  R"("expected_error":"UNIMPLEMENTED: This feature has not been implemented"})")
                .verdict,
            Verdict::kPass);
  const Outcome o =
      Judge(CaseFormat::kLibical, R"({"dtstart":"20131025","rrule":"FREQ=NEVER","expected":[]})");
  EXPECT_EQ(o.verdict, Verdict::kError);
  EXPECT_THAT(o.detail, HasSubstr("INVALID_ARGUMENT"));
}

TEST(RunIsolated, ARuleLibicalSpinsOnCostsOneCase) {
  // libical 3.0.16 steps second by second through four months for this rule.
  std::vector<RruleCase> cases;
  cases.push_back(ParseCase(CaseFormat::kLibical,
                            R"({"dtstart":"19970902T090000","rrule":"FREQ=SECONDLY;COUNT=3;)"
                            R"(BYMONTH=1","expected":["19980101T000000"]})",
                            "slow"));
  cases.push_back(ParseCase(CaseFormat::kLibical,
                            R"({"dtstart":"19970902T090000","rrule":"FREQ=DAILY;COUNT=1",)"
                            R"("expected":["19970902T090000"]})",
                            "fast"));
  IsolationOptions options;
  options.case_timeout = std::chrono::milliseconds(200);
  sb::Result<std::vector<Outcome>> outcomes = RunIsolated(cases, options);
  ASSERT_TRUE(outcomes.ok()) << outcomes.status().ToString();
  ASSERT_EQ(outcomes->size(), 2u);
  EXPECT_EQ((*outcomes)[0].verdict, Verdict::kError);
  EXPECT_THAT((*outcomes)[0].detail, HasSubstr("did not return"));
  EXPECT_EQ((*outcomes)[1].verdict, Verdict::kPass) << (*outcomes)[1].detail;
}

// Every suite in ../shared/data/rrule; the cases listed in testdata/rrule_passing.txt must
// still pass. SB_UPDATE_RRULE_PASSING=1 rewrites the list from this run.
TEST(RruleConformance, ListedCasesStillPass) {
  const std::filesystem::path data_dir = SB_RRULE_DATA_DIR;
  if (!std::filesystem::is_directory(data_dir)) {
    GTEST_SKIP() << "no recurrence suites at " << data_dir
                 << " (the project's ../shared/data/rrule); nothing to check";
  }
  sb::Result<std::set<std::string>> listed = ReadIdList(SB_RRULE_PASSING_FILE);
  ASSERT_TRUE(listed.ok()) << listed.status().ToString();
  const char* update = std::getenv("SB_UPDATE_RRULE_PASSING");
  const bool updating = update != nullptr && std::string(update) == "1";
  // Listed cases must pass, however loaded the machine: they get plenty of time (the slowest
  // take about half a second, inside libical). The others run only to hint at newly passing
  // ones, and about 40 of them make libical 3.0.16 spin for seconds or forever: a short
  // leash keeps the test at a few seconds. The update mode gives every case the program's
  // default, so that the list is what rrule_conformance reports.
  IsolationOptions options;
  options.timeout_for = [&](const RruleCase& c) {
    if (updating) return std::chrono::milliseconds(2000);
    return std::chrono::milliseconds(listed->count(c.id) != 0 ? 10'000 : 20);
  };
  std::vector<SuiteReport> reports;
  for (const Suite& suite : DefaultSuites()) {
    sb::Result<SuiteReport> report = RunSuite(data_dir, suite, options);
    ASSERT_TRUE(report.ok()) << report.status().ToString();
    reports.push_back(*std::move(report));
  }
  const std::set<std::string> passing = PassingIds(reports);
  if (updating) {
    ASSERT_TRUE(WriteIdList(SB_RRULE_PASSING_FILE, passing).ok());
    std::cout << "wrote " << passing.size() << " ids to " << SB_RRULE_PASSING_FILE << "\n";
    *listed = passing;
  }
  for (const std::string& id : *listed) {
    EXPECT_TRUE(passing.count(id) != 0) << "no longer passes: " << id;
  }
  for (const std::string& id : passing) {
    if (listed->count(id) == 0) {
      std::cout << "newly passing (add it: SB_UPDATE_RRULE_PASSING=1): " << id << "\n";
    }
  }
  std::cout << FormatTable(reports);
}

}  // namespace
}  // namespace sb::caltime::conformance
