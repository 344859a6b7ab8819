// BlockingPool: a fixed set of threads for blocking work (database calls, libcurl easy
// handles), with a bounded queue so that overload fails fast instead of piling up latency:
// TrySubmit returns false when the queue is full and the caller answers 503.
//
// A task is a move-only callable `void(bool cancelled)`. It runs once on a pool thread with
// cancelled == false, or, when Shutdown drops it from the queue, once with cancelled == true
// (on the thread calling Shutdown) so that whoever waits on it is always told.
//
// Thread-safe. The destructor calls Shutdown.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

namespace sb::http {

struct BlockingPoolOptions {
  size_t threads = 4;       // workers; size it to the database connection pool
  size_t max_queue = 1024;  // queued (not yet running) tasks before TrySubmit fails
};

class PoolTask {
 public:
  PoolTask() = default;
  template <typename F, typename = std::enable_if_t<!std::is_same_v<std::decay_t<F>, PoolTask>>>
  PoolTask(F&& f)  // NOLINT(google-explicit-constructor)
      : impl_(std::make_unique<Model<std::decay_t<F>>>(std::forward<F>(f))) {}

  explicit operator bool() const { return impl_ != nullptr; }
  void operator()(bool cancelled) { impl_->Run(cancelled); }

 private:
  struct Concept {
    virtual ~Concept() = default;
    virtual void Run(bool cancelled) = 0;
  };
  template <typename F>
  struct Model final : Concept {
    explicit Model(F f) : fn(std::move(f)) {}
    void Run(bool cancelled) override { fn(cancelled); }
    F fn;
  };
  std::unique_ptr<Concept> impl_;
};

class BlockingPool {
 public:
  explicit BlockingPool(BlockingPoolOptions options = {});
  ~BlockingPool();
  BlockingPool(const BlockingPool&) = delete;
  BlockingPool& operator=(const BlockingPool&) = delete;

  // Queues `task`. Returns false, leaving `task` untouched, when the queue is full or the pool
  // is shut down.
  bool TrySubmit(PoolTask& task);

  // Stops accepting, cancels queued tasks (each runs with cancelled == true), waits for
  // running tasks and joins the threads. Idempotent.
  void Shutdown();

  size_t queue_depth() const;
  size_t busy_threads() const;
  size_t rejected() const;  // TrySubmit calls that returned false

 private:
  void WorkerLoop();

  const BlockingPoolOptions options_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<PoolTask> queue_;  // guarded by mu_
  size_t busy_ = 0;             // guarded by mu_
  size_t rejected_ = 0;         // guarded by mu_
  bool stopping_ = false;       // guarded by mu_
  std::vector<std::thread> threads_;
  std::once_flag shutdown_once_;
};

}  // namespace sb::http
