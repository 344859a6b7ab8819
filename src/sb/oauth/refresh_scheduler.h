// RefreshScheduler: the background loop that refreshes access tokens before they expire. Every
// `interval` it runs ConnectionService::RefreshDue over the maintenance database; the
// connections' next_refresh_at (margin plus jitter before expiry, or a backoff after a
// failure) is the schedule, so every node can run one: the per-connection lease keeps their
// work apart. Start/Stop from one controlling thread.
#pragma once

#include <chrono>

#include "sb/base/periodic.h"
#include "sb/oauth/connections.h"
#include "sb/store/database.h"

namespace sb::oauth {

class RefreshScheduler {
 public:
  RefreshScheduler(ConnectionService& connections, store::Database& maintenance,
                   std::chrono::milliseconds interval, int batch);

  void Start() { loop_.Start(); }
  // Finishes the pass in progress, then returns.
  void Stop() { loop_.Stop(); }

 private:
  bool Pass();

  ConnectionService& connections_;
  store::Database& maintenance_;
  const int batch_;
  Periodic loop_;
};

}  // namespace sb::oauth
