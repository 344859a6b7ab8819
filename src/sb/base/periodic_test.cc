#include "sb/base/periodic.h"

#include <atomic>
#include <chrono>
#include <thread>

#include <gtest/gtest.h>

namespace sb {
namespace {

using std::chrono::milliseconds;

TEST(PeriodicTest, RunsAtOnceThenWaitsAndStopsCleanly) {
  std::atomic<int> passes{0};
  Periodic p(milliseconds(60'000), [&] {
    ++passes;
    return false;
  });
  p.Start();
  while (passes.load() < 1) std::this_thread::sleep_for(milliseconds(1));
  // The interval is a minute: only Wake runs another pass.
  std::this_thread::sleep_for(milliseconds(20));
  EXPECT_EQ(passes.load(), 1);
  p.Wake();
  while (passes.load() < 2) std::this_thread::sleep_for(milliseconds(1));
  p.Stop();
  const int after_stop = passes.load();
  std::this_thread::sleep_for(milliseconds(20));
  EXPECT_EQ(passes.load(), after_stop);
}

TEST(PeriodicTest, AFullBatchRunsTheNextPassWithoutWaiting) {
  std::atomic<int> passes{0};
  Periodic p(milliseconds(60'000), [&] { return ++passes < 5; });
  p.Start();
  while (passes.load() < 5) std::this_thread::sleep_for(milliseconds(1));
  p.Stop();
  EXPECT_EQ(passes.load(), 5);
}

}  // namespace
}  // namespace sb
