#include "sb/oauth/refresh_scheduler.h"

#include "sb/base/logging.h"

namespace sb::oauth {

void RefreshScheduler::Start() {
  if (thread_.joinable()) return;
  {
    std::lock_guard lock(mu_);
    stopping_ = false;
  }
  thread_ = std::thread([this] { Run(); });
}

void RefreshScheduler::Stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void RefreshScheduler::Run() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    lock.unlock();
    // A full batch means more are due: go again at once.
    bool more = false;
    auto refreshed = connections_.RefreshDue(maintenance_, batch_);
    if (!refreshed.ok()) {
      log::Warn("refresh.pass_failed", {{"error", refreshed.status().ToString()}});
    } else if (*refreshed > 0) {
      log::Info("refresh.pass", {{"refreshed", *refreshed}});
      more = *refreshed >= batch_;
    }
    lock.lock();
    if (!more) wake_.wait_for(lock, interval_, [this] { return stopping_; });
  }
}

}  // namespace sb::oauth
