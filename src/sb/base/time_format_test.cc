#include "sb/base/time_format.h"

#include <gtest/gtest.h>

namespace sb {
namespace {

TEST(TimeFormat, FormatsUtc) {
  EXPECT_EQ(FormatRfc3339(FromUnixMicros(0)), "1970-01-01T00:00:00Z");
  EXPECT_EQ(FormatRfc3339(FromUnixMicros(1'700'000'000'123'456)), "2023-11-14T22:13:20.123456Z");
}

TEST(TimeFormat, ParsesOffsetsAndFractions) {
  EXPECT_EQ(ToUnixMicros(*ParseRfc3339("2023-11-14T22:13:20.123456Z")), 1'700'000'000'123'456);
  EXPECT_EQ(ToUnixMicros(*ParseRfc3339("2023-11-14T23:13:20+01:00")), 1'700'000'000'000'000);
  EXPECT_EQ(ToUnixMicros(*ParseRfc3339("2023-11-14T22:13:20.5Z")), 1'700'000'000'500'000);
}

TEST(TimeFormat, RejectsMalformed) {
  for (const char* bad :
       {"", "2023-11-14", "2023-13-01T00:00:00Z", "2023-02-30T00:00:00Z", "2023-11-14T22:13:20",
        "2023-11-14T22:13:20.Z", "2023-11-14T22:13:20Zx", "2023-11-14T24:00:00Z"}) {
    EXPECT_FALSE(ParseRfc3339(bad).has_value()) << bad;
  }
}

}  // namespace
}  // namespace sb
