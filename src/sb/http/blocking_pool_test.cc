#include "sb/http/blocking_pool.h"

#include <atomic>
#include <chrono>
#include <future>
#include <memory>
#include <thread>

#include <gtest/gtest.h>

namespace sb::http {
namespace {

TEST(BlockingPool, RunsTasks) {
  BlockingPool pool({.threads = 2, .max_queue = 10});
  std::promise<int> done;
  PoolTask task([&, owned = std::make_unique<int>(7)](bool cancelled) {
    done.set_value(cancelled ? -1 : *owned);
  });
  ASSERT_TRUE(pool.TrySubmit(task));
  EXPECT_EQ(done.get_future().get(), 7);
}

TEST(BlockingPool, FullQueueFailsFastAndKeepsTheTask) {
  BlockingPool pool({.threads = 1, .max_queue = 1});
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::promise<void> started;
  PoolTask blocker([&, released](bool) {
    started.set_value();
    released.wait();
  });
  ASSERT_TRUE(pool.TrySubmit(blocker));
  started.get_future().wait();
  EXPECT_EQ(pool.busy_threads(), 1u);
  std::atomic<int> ran{0};
  std::promise<void> queued_done;
  PoolTask queued([&](bool cancelled) {
    if (!cancelled) ++ran;
    queued_done.set_value();
  });
  ASSERT_TRUE(pool.TrySubmit(queued));
  EXPECT_EQ(pool.queue_depth(), 1u);
  PoolTask overflow([&](bool) { ran += 100; });
  EXPECT_FALSE(pool.TrySubmit(overflow));
  EXPECT_TRUE(static_cast<bool>(overflow));  // untouched: the caller may still use it
  EXPECT_EQ(pool.rejected(), 1u);
  release.set_value();
  queued_done.get_future().wait();
  EXPECT_EQ(ran.load(), 1);
}

TEST(BlockingPool, ShutdownCancelsQueuedTasks) {
  BlockingPool pool({.threads = 1, .max_queue = 4});
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::promise<void> started;
  PoolTask blocker([&, released](bool) {
    started.set_value();
    released.wait();
  });
  ASSERT_TRUE(pool.TrySubmit(blocker));
  started.get_future().wait();
  std::atomic<int> cancelled_count{0};
  for (int i = 0; i < 3; ++i) {
    PoolTask t([&](bool cancelled) {
      if (cancelled) ++cancelled_count;
    });
    ASSERT_TRUE(pool.TrySubmit(t));
  }
  std::thread releaser([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    release.set_value();
  });
  pool.Shutdown();
  releaser.join();
  EXPECT_EQ(cancelled_count.load(), 3);
  PoolTask late([](bool) {});
  EXPECT_FALSE(pool.TrySubmit(late));
}

}  // namespace
}  // namespace sb::http
