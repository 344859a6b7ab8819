// HealthScheduler: scheduled connection health checks on the durable job queue.
//
// Every `scheduler_interval` a pass lists connections whose check is due (a new one at once)
// across tenants through the maintenance database, and for each, in one transaction of its
// tenant, moves next_check_at forward, so that no other node takes it too, and, if the
// connection is active, enqueues a "connection.health_check" job (deduplicated per connection). The
// job handler runs ConnectionHealth::Check, which records the outcome and raises at most one
// alert per incident. Checks are spread: each next check comes `interval` later, minus up to a
// tenth as jitter. Start/Stop from one controlling thread.
#pragma once

#include <chrono>

#include "sb/base/clock.h"
#include "sb/base/ids.h"
#include "sb/base/periodic.h"
#include "sb/base/random.h"
#include "sb/connections/health.h"
#include "sb/jobs/runner.h"
#include "sb/store/connections/connect_repository.h"
#include "sb/store/connections/connection_health_repository.h"
#include "sb/store/database.h"

namespace sb::connections {

inline constexpr char kHealthCheckJob[] = "connection.health_check";

struct HealthScheduleOptions {
  std::chrono::seconds interval{21'600};                 // between checks of one connection
  std::chrono::milliseconds scheduler_interval{30'000};  // between passes
  int batch = 100;                                       // connections per pass
};

// What HealthScheduler works with.
struct HealthSchedulerDeps {
  store::Database& db;
  store::Database& maintenance;  // lists due checks across tenants
  ConnectionHealth& health;
  const Clock& clock;
  Random& random;  // jitter of the next check
  IdGenerator& ids;
};

class HealthScheduler {
 public:
  HealthScheduler(HealthSchedulerDeps deps, HealthScheduleOptions options);

  // One pass; returns how many checks it enqueued.
  Result<int> EnqueueDue();
  // The job handler for kHealthCheckJob.
  jobs::JobResult Handle(jobs::JobContext& job);

  void Start() { loop_.Start(); }
  void Stop() { loop_.Stop(); }

 private:
  Timestamp NextCheck();

  store::Database& db_;
  store::Database& maintenance_;
  ConnectionHealth& health_;
  const Clock& clock_;
  Random& random_;
  IdGenerator& ids_;
  const HealthScheduleOptions options_;
  store::ConnectionHealthRepository repo_;
  store::ConnectionRepository connections_;
  Periodic loop_;
};

}  // namespace sb::connections
