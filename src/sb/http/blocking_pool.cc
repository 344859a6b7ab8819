#include "sb/http/blocking_pool.h"

#include <algorithm>

namespace sb::http {

BlockingPool::BlockingPool(BlockingPoolOptions options) : options_(options) {
  const size_t n = std::max<size_t>(1, options_.threads);
  threads_.reserve(n);
  for (size_t i = 0; i < n; ++i) threads_.emplace_back([this] { WorkerLoop(); });
}

BlockingPool::~BlockingPool() { Shutdown(); }

bool BlockingPool::TrySubmit(PoolTask& task) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_ || queue_.size() >= options_.max_queue) {
      ++rejected_;
      return false;
    }
    queue_.push_back(std::move(task));
  }
  cv_.notify_one();
  return true;
}

void BlockingPool::WorkerLoop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
    if (queue_.empty()) return;  // stopping and drained
    PoolTask task = std::move(queue_.front());
    queue_.pop_front();
    ++busy_;
    lock.unlock();
    task(false);
    task = PoolTask();  // destroy captures outside the lock
    lock.lock();
    --busy_;
  }
}

void BlockingPool::Shutdown() {
  std::call_once(shutdown_once_, [this] {
    std::deque<PoolTask> dropped;
    {
      std::lock_guard<std::mutex> lock(mu_);
      stopping_ = true;
      dropped.swap(queue_);
    }
    cv_.notify_all();
    for (PoolTask& task : dropped) task(true);
    for (std::thread& t : threads_) t.join();
  });
}

size_t BlockingPool::queue_depth() const {
  std::lock_guard<std::mutex> lock(mu_);
  return queue_.size();
}

size_t BlockingPool::busy_threads() const {
  std::lock_guard<std::mutex> lock(mu_);
  return busy_;
}

size_t BlockingPool::rejected() const {
  std::lock_guard<std::mutex> lock(mu_);
  return rejected_;
}

}  // namespace sb::http
