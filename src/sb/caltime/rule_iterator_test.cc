#include "sb/caltime/rule_iterator.h"

#include <memory>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace sb::caltime {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

// Up to `max` instances of the rule; an empty list and a failed test when it cannot start.
std::vector<std::string> Instances(const RuleIteratorOptions& options, size_t max = 100) {
  sb::Result<std::unique_ptr<LibicalRuleIterator>> it = LibicalRuleIterator::Create(options);
  EXPECT_TRUE(it.ok()) << it.status().ToString();
  std::vector<std::string> out;
  if (!it.ok()) return out;
  while (out.size() < max) {
    std::optional<std::string> next = (*it)->Next();
    if (!next) break;
    out.push_back(*next);
  }
  return out;
}

TEST(LibicalRuleIterator, ExpandsFloatingWallTimes) {
  EXPECT_THAT(Instances({"19970902T090000", "", "FREQ=WEEKLY;COUNT=3;BYDAY=TU,TH", ""}),
              ElementsAre("19970902T090000", "19970904T090000", "19970909T090000"));
}

TEST(LibicalRuleIterator, DatesStayDatesAndUtcDropsTheZ) {
  EXPECT_THAT(Instances({"20120229", "", "FREQ=YEARLY;COUNT=2;BYMONTHDAY=-1;BYMONTH=2", ""}),
              ElementsAre("20120229", "20130228"));
  EXPECT_THAT(Instances({"20240101T120000Z", "", "FREQ=DAILY;COUNT=2", ""}),
              ElementsAre("20240101T120000", "20240102T120000"));
}

TEST(LibicalRuleIterator, InfiniteRuleIsBoundedByTheCaller) {
  EXPECT_EQ(Instances({"20240101T120000", "", "FREQ=MINUTELY", ""}, 500).size(), 500u);
}

TEST(LibicalRuleIterator, UtcUntilIsComparedInTheDtstartZone) {
  // 1999-01-01 00:00 in New York is 05:00Z: an UNTIL one second earlier excludes it.
  EXPECT_THAT(
      Instances({"19970101T000000", "America/New_York", "FREQ=YEARLY;UNTIL=19990101T050000Z", ""}),
      ElementsAre("19970101T000000", "19980101T000000", "19990101T000000"));
  EXPECT_THAT(
      Instances({"19970101T000000", "America/New_York", "FREQ=YEARLY;UNTIL=19990101T045959Z", ""}),
      ElementsAre("19970101T000000", "19980101T000000"));
}

TEST(LibicalRuleIterator, StartAtSkipsAhead) {
  EXPECT_THAT(
      Instances({"20170101T090000", "", "FREQ=DAILY;UNTIL=20170105T090000Z", "20170103T090000"}),
      ElementsAre("20170103T090000", "20170104T090000", "20170105T090000"));
}

TEST(LibicalRuleIterator, RefusesMalformedInput) {
  const auto code = [](const RuleIteratorOptions& options) {
    return LibicalRuleIterator::Create(options).status().code();
  };
  EXPECT_EQ(code({"1997090", "", "FREQ=DAILY", ""}), StatusCode::kInvalidArgument);
  EXPECT_EQ(code({"19970931T090000", "", "FREQ=DAILY", ""}), StatusCode::kInvalidArgument);
  EXPECT_EQ(code({"19970902T090000X", "", "FREQ=DAILY", ""}), StatusCode::kInvalidArgument);
  EXPECT_EQ(code({"19970902T090000", "Not/AZone", "FREQ=DAILY", ""}), StatusCode::kInvalidArgument);
  EXPECT_EQ(code({"19970902T090000", "", "FREQ=SOMETIMES", ""}), StatusCode::kInvalidArgument);
  EXPECT_EQ(code({"19970902T090000", "", "", ""}), StatusCode::kInvalidArgument);
  EXPECT_EQ(code({"19970902T090000", "", "FREQ=DAILY", "garbage"}), StatusCode::kInvalidArgument);
}

TEST(LibicalRuleIterator, UnknownRscaleIsUnimplemented) {
  const sb::Status status =
      LibicalRuleIterator::Create({"20131025", "", "RSCALE=RUSSIAN;FREQ=YEARLY", ""}).status();
  EXPECT_EQ(status.code(), StatusCode::kUnimplemented) << status.ToString();
  EXPECT_THAT(status.message(), HasSubstr("not been implemented"));
}

TEST(LibicalRuleIterator, GregorianRscaleExpands) {
  EXPECT_THAT(Instances({"20120229", "", "RSCALE=GREGORIAN;FREQ=YEARLY;COUNT=2", ""}),
              ElementsAre("20120229", "20160229"));
}

}  // namespace
}  // namespace sb::caltime
