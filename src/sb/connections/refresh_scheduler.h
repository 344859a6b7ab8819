// RefreshScheduler: token refresh on the durable job queue, like health checks.
//
// Every `interval` a pass lists connections whose next_refresh_at has come (margin plus jitter
// before expiry, or a backoff after a failure) across tenants through the maintenance database,
// leaving out those that already have a live refresh job, and queues a "connection.refresh" job
// for each in its own tenant's transaction (deduplicated per connection). The job handler runs
// ConnectionService::Token in RefreshMode::kIfDue, so the per-connection lease still makes a
// refresh single-flight across nodes (OA-10) and a connection refreshed meanwhile (on demand, or
// by another node) is not refreshed twice. Failures are recorded on the connection (status and
// its own retry schedule), so the job is done whatever the provider answered; only a failure
// to reach the database retries the job. Which node runs a refresh, and how many run at once, is
// the job runner's business (jobs.threads per node, leases across nodes). Start/Stop from one
// controlling thread.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <span>
#include <string_view>

#include "sb/base/clock.h"
#include "sb/base/ids.h"
#include "sb/base/periodic.h"
#include "sb/connections/connections.h"
#include "sb/jobs/runner.h"
#include "sb/store/connections/connect_repository.h"
#include "sb/store/database.h"

namespace sb::connections {

inline constexpr char kRefreshJob[] = "connection.refresh";

struct RefreshScheduleOptions {
  std::chrono::milliseconds interval{5'000};  // between passes; 0: no background loop
  int batch = 200;                            // connections listed per pass
};

// What RefreshScheduler works with.
struct RefreshSchedulerDeps {
  store::Database& db;
  store::Database& maintenance;  // lists due connections across tenants
  ConnectionService& connections;
  const Clock& clock;
  IdGenerator& ids;
};

class RefreshScheduler {
 public:
  RefreshScheduler(RefreshSchedulerDeps deps, RefreshScheduleOptions options);

  // One pass; returns how many refresh jobs it queued.
  Result<int> EnqueueDue();
  // The job handler for kRefreshJob.
  jobs::JobResult Handle(jobs::JobContext& job);
  // Refresh jobs this node has handled since it started (whatever their outcome), and those of
  // them that refreshed a token.
  int64_t handled() const { return handled_.load(); }
  int64_t refreshed() const { return refreshed_.load(); }

  void Start();
  // Finishes the pass in progress, then returns.
  void Stop() { loop_.Stop(); }

 private:
  // Due connections queued per transaction.
  static constexpr size_t kEnqueueChunk = 100;
  // Queues a refresh job for each of `connections` (all of `tenant`) in one transaction;
  // returns how many were new (the others already had a live job).
  Result<int> Enqueue(const TenantId& tenant,
                      std::span<const std::pair<TenantId, ConnectionId>> connections);

  store::Database& db_;
  store::Database& maintenance_;
  ConnectionService& connections_;
  const Clock& clock_;
  IdGenerator& ids_;
  const RefreshScheduleOptions options_;
  store::ConnectionRepository repo_;
  std::atomic<int64_t> handled_{0};
  std::atomic<int64_t> refreshed_{0};
  Periodic loop_;
};

}  // namespace sb::connections
