#include "sb/oauth/refresh_scheduler.h"

#include "sb/base/logging.h"

namespace sb::oauth {

RefreshScheduler::RefreshScheduler(ConnectionService& connections, store::Database& maintenance,
                                   std::chrono::milliseconds interval, int batch)
    : connections_(connections),
      maintenance_(maintenance),
      batch_(batch),
      loop_(interval, [this] { return Pass(); }) {}

bool RefreshScheduler::Pass() {
  auto refreshed = connections_.RefreshDue(maintenance_, batch_);
  if (!refreshed.ok()) {
    log::Warn("refresh.pass_failed", {{"error", refreshed.status().ToString()}});
    return false;
  }
  if (*refreshed > 0) log::Info("refresh.pass", {{"refreshed", *refreshed}});
  // A full batch means more are due: go again at once.
  return *refreshed >= batch_;
}

}  // namespace sb::oauth
