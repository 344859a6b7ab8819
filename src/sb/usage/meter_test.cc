#include "sb/usage/meter.h"

#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "sb/store/testing/conformance_fixture.h"
#include "sb/store/testing/test_backends.h"

namespace sb::usage {
namespace {

using store::UsageCount;
using store::UsageMetric;

class MeterTest
    : public store::testing::RepositoryConformanceTest<store::testing::SqliteTestBackend> {
 protected:
  std::vector<UsageCount> Counts(const TenantId& tenant) {
    std::vector<UsageCount> out;
    Status s = InTenant(tenant, [&](store::Transaction& tx) -> Status {
      SB_ASSIGN_OR_RETURN(out,
                          store::UsageRepository().List(tx, tenant, "2000-01-01", "2999-12-31"));
      return OkStatus();
    });
    EXPECT_TRUE(s.ok()) << s.ToString();
    return out;
  }
};

TEST_F(MeterTest, CountsAddUpPerTenantDayAndMetricAcrossFlushes) {
  clock_.Set(FromUnixMicros(int64_t{1764201540} * 1'000'000));  // 2025-11-26 23:59 UTC
  Meter meter(*db_, clock_);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 250; ++i) meter.Add(a_, UsageMetric::kApiCalls);
    });
  }
  for (auto& t : threads) t.join();
  meter.Add(a_, UsageMetric::kProxiedCalls, 3);
  meter.Add(b_, UsageMetric::kRefreshes);
  ASSERT_TRUE(meter.Flush().ok());
  clock_.Advance(std::chrono::minutes(2));  // the next UTC day
  meter.Add(a_, UsageMetric::kApiCalls, 5);
  ASSERT_TRUE(meter.Flush().ok());
  ASSERT_TRUE(meter.Flush().ok());  // nothing pending: adds nothing

  EXPECT_EQ(Counts(a_), (std::vector<UsageCount>{
                            {a_, "2025-11-26", UsageMetric::kApiCalls, 1000},
                            {a_, "2025-11-26", UsageMetric::kProxiedCalls, 3},
                            {a_, "2025-11-27", UsageMetric::kApiCalls, 5},
                        }));
  EXPECT_EQ(Counts(b_), (std::vector<UsageCount>{{b_, "2025-11-26", UsageMetric::kRefreshes, 1}}));
}

TEST_F(MeterTest, AnUnknownTenantIsDroppedWithoutLosingOthers) {
  Meter meter(*db_, clock_);
  meter.Add(TenantId(ids_.NewUuid()), UsageMetric::kApiCalls, 2);
  meter.Add(a_, UsageMetric::kApiCalls, 2);
  EXPECT_FALSE(meter.Flush().ok());
  ASSERT_TRUE(meter.Flush().ok());  // the unknown tenant's count is gone, not retried forever
  ASSERT_EQ(Counts(a_).size(), 1u);
  EXPECT_EQ(Counts(a_)[0].count, 2);
}

TEST_F(MeterTest, StopFlushesWhatIsPending) {
  {
    Meter meter(*db_, clock_);
    meter.Start(std::chrono::hours(1));
    meter.Add(a_, UsageMetric::kProxiedCalls, 7);
  }
  ASSERT_EQ(Counts(a_).size(), 1u);
  EXPECT_EQ(Counts(a_)[0].count, 7);
}

}  // namespace
}  // namespace sb::usage
