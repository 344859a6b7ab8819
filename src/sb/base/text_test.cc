#include "sb/base/text.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace sb {
namespace {

using ::testing::ElementsAre;

TEST(ParseDigits, ReadsAFixedWidthFieldAndRefusesAnythingElse) {
  int v = -1;
  EXPECT_TRUE(ParseDigits("20240513T0800", 4, 2, &v));
  EXPECT_EQ(v, 5);
  EXPECT_TRUE(ParseDigits("0000", 0, 4, &v));
  EXPECT_EQ(v, 0);
  v = 7;
  EXPECT_FALSE(ParseDigits("12a4", 0, 4, &v));
  EXPECT_FALSE(ParseDigits("1234", 2, 3, &v));  // past the end
  EXPECT_FALSE(ParseDigits("1234", 9, 1, &v));  // starts past the end
  EXPECT_FALSE(ParseDigits("+123", 0, 4, &v));  // no signs
  EXPECT_EQ(v, 7);                              // untouched on failure
}

TEST(AsciiUpper, ChangesOnlyAsciiLetters) {
  EXPECT_EQ(AsciiUpper("freq=weekly;byday=mo"), "FREQ=WEEKLY;BYDAY=MO");
  EXPECT_EQ(AsciiUpper("caf\xC3\xA9 1-z"), "CAF\xC3\xA9 1-Z");
}

TEST(Split, KeepsEmptyParts) {
  EXPECT_THAT(Split("a,,b", ','), ElementsAre("a", "", "b"));
  EXPECT_THAT(Split("", ','), ElementsAre(""));
  EXPECT_THAT(Split("a,", ','), ElementsAre("a", ""));
}

}  // namespace
}  // namespace sb
