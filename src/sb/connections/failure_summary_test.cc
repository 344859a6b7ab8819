#include "sb/connections/failure_summary.h"

#include <gtest/gtest.h>

namespace sb::connections {
namespace {

using std::chrono::seconds;

const TenantId kTenant("0190a000-0000-7000-8000-000000000001");
const TenantId kOther("0190a000-0000-7000-8000-000000000002");
const Timestamp kStart{std::chrono::minutes(29'000'000)};  // on a window boundary

// Issue 13: one audit entry per tenant, failure code and window; the rest is only counted and
// reported with the next entry.
TEST(FailureSummary, OneEntryPerTenantCodeAndWindowWithTheCountOfTheRest) {
  FailureSummary summary(seconds(60), 100);
  ASSERT_TRUE(summary.WouldAudit(kTenant, "invalid_state", kStart));
  EXPECT_EQ(summary.Claim(kTenant, "invalid_state", kStart), 0);
  for (int i = 0; i < 9; ++i) {
    EXPECT_FALSE(summary.WouldAudit(kTenant, "invalid_state", kStart + seconds(i))) << i;
  }
  // Another code and another tenant have windows of their own.
  EXPECT_TRUE(summary.WouldAudit(kTenant, "state_expired", kStart));
  EXPECT_TRUE(summary.WouldAudit(kOther, "invalid_state", kStart));
  // The next window: one entry again, carrying the 9 that had none.
  ASSERT_TRUE(summary.WouldAudit(kTenant, "invalid_state", kStart + seconds(60)));
  EXPECT_EQ(summary.Claim(kTenant, "invalid_state", kStart + seconds(60)), 9);
  // A second claim of the same window loses (another thread took it) and is counted.
  EXPECT_FALSE(summary.Claim(kTenant, "invalid_state", kStart + seconds(61)));
  ASSERT_TRUE(summary.WouldAudit(kTenant, "invalid_state", kStart + seconds(120)));
  EXPECT_EQ(summary.Claim(kTenant, "invalid_state", kStart + seconds(120)), 1);
}

// Only Claim() takes memory, and the table stays within its bound.
TEST(FailureSummary, MemoryIsBounded) {
  FailureSummary summary(seconds(60), 2);
  EXPECT_TRUE(summary.WouldAudit(kTenant, "a", kStart));
  EXPECT_EQ(summary.size(), 0u);
  EXPECT_EQ(summary.Claim(kTenant, "a", kStart), 0);
  EXPECT_EQ(summary.Claim(kTenant, "b", kStart), 0);
  EXPECT_FALSE(summary.Claim(kTenant, "c", kStart));  // full in this window: counted only
  EXPECT_EQ(summary.size(), 2u);
  // Once the window has passed, old keys make room.
  EXPECT_EQ(summary.Claim(kTenant, "c", kStart + seconds(60)), 0);
  EXPECT_LE(summary.size(), 2u);
}

}  // namespace
}  // namespace sb::connections
