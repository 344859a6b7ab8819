// RefreshScheduler: the background loop that refreshes access tokens before they expire. Every
// `interval` it runs ConnectionService::RefreshDue over the maintenance database; the
// connections' next_refresh_at (margin plus jitter before expiry, or a backoff after a
// failure) is the schedule, so every node can run one: the per-connection lease keeps their
// work apart. Start/Stop from one controlling thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "sb/oauth/connections.h"
#include "sb/store/database.h"

namespace sb::oauth {

class RefreshScheduler {
 public:
  RefreshScheduler(ConnectionService& connections, store::Database& maintenance,
                   std::chrono::milliseconds interval, int batch)
      : connections_(connections), maintenance_(maintenance), interval_(interval), batch_(batch) {}
  ~RefreshScheduler() { Stop(); }
  RefreshScheduler(const RefreshScheduler&) = delete;
  RefreshScheduler& operator=(const RefreshScheduler&) = delete;

  void Start();
  // Finishes the pass in progress, then returns.
  void Stop();

 private:
  void Run();

  ConnectionService& connections_;
  store::Database& maintenance_;
  const std::chrono::milliseconds interval_;
  const int batch_;
  std::mutex mu_;
  std::condition_variable wake_;
  bool stopping_ = false;  // guarded by mu_
  std::thread thread_;
};

}  // namespace sb::oauth
