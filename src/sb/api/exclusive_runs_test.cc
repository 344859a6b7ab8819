#include "sb/api/exclusive_runs.h"

#include <gtest/gtest.h>

namespace sb::api {
namespace {

TEST(ExclusiveRunsTest, OneRunPerKeyAndAtMostTheTotal) {
  ExclusiveRuns runs(2);
  auto a = runs.Enter("tenant-a");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(runs.Enter("tenant-a"), nullptr) << "a second run of the same key";
  auto b = runs.Enter("tenant-b");
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(runs.Enter("tenant-c"), nullptr) << "over the total";
  a.reset();  // the run ends: its key and its place are free again
  auto c = runs.Enter("tenant-c");
  EXPECT_NE(c, nullptr);
  EXPECT_EQ(runs.Enter("tenant-a"), nullptr) << "the total is full again";
  b.reset();
  EXPECT_NE(runs.Enter("tenant-a"), nullptr);
}

}  // namespace
}  // namespace sb::api
