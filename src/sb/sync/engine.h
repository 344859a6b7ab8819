// SyncEngine: runs a connection's sync of one service (calendar; later email, contacts) as
// jobs on the durable queue, generic over capability and provider.
//
// A run is requested (initial, push, schedule, by hand, resync) with RequestRun: it creates a
// sync run record and queues a "sync.run" job in one transaction, unless the connection's run
// of that service is already queued or running, which is returned instead (coalescing: ten
// pushes while a run waits make one run). The job's dedupe and concurrency keys keep it to one
// run at a time per connection and service across nodes.
//
// The job runs the capability's ServiceSync step by step. Each step fetches one provider page
// outside any transaction and applies it with RunContext::Commit, which writes the page's
// items, its changes (the feed and the webhooks outbox), the run's checkpoint and counts and
// the service's cursor in ONE transaction: a node killed mid-run leaves the last committed page,
// and the job, leased again after its lease runs out, resumes from the run's checkpoint, with
// nothing applied twice and nothing skipped.
//
// Provider failures (provider_client.h): rate limits and outages end the job with a retry after
// Retry-After or a backoff, keeping the run's checkpoint; a grant that is gone pauses the sync
// state (reason "reauthorization_required") until the connection is active again, which
// resumes it (OnConnectionEvent); other failures fail the run and leave the next scheduled
// run to try again. Every run's summary and every state change is audited.
//
// Thread-safe.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sb/audit/audit_log.h"
#include "sb/audit/context.h"
#include "sb/base/clock.h"
#include "sb/base/ids.h"
#include "sb/base/metrics.h"
#include "sb/base/periodic.h"
#include "sb/connections/connections.h"
#include "sb/connections/events.h"
#include "sb/jobs/runner.h"
#include "sb/store/connections/connect_repository.h"
#include "sb/store/database.h"
#include "sb/store/sync/sync_repository.h"
#include "sb/sync/provider_client.h"

namespace sb::sync {

inline constexpr char kSyncJob[] = "sync.run";
// A request that found a run already running: one more run after it (HandleFollowUp).
inline constexpr char kSyncFollowUpJob[] = "sync.follow_up";

// Runs `fn` in a read-write transaction of `tenant`, again when it lost a race for the open run
// of a connection's service (ALREADY_EXISTS from RequestRunIn): the retry coalesces.
Status RetryOnOpenRunRace(store::Database& db, const TenantId& tenant,
                          const store::TransactionFn& fn);

// The API's and the change feed's view of a run and of a state.
Json SyncRunJson(const store::SyncRunRecord& run);
Json SyncStateJson(const store::SyncStateRecord& state);
// A change feed entry as the API shows it; its cursor is the seq as a decimal string.
Json ChangeJson(const store::ChangeRecord& change);

// Publishes a change: appended to the tenant's change feed and handed to the webhooks outbox,
// in the caller's transaction.
class ChangePublisher {
 public:
  ChangePublisher(connections::ConnectionEvents* webhooks, const Clock& clock)
      : webhooks_(webhooks), clock_(clock) {}
  Status Publish(store::Transaction& tx, const TenantId& tenant, std::string_view type,
                 const std::string& resource_id, const std::optional<ConnectionId>& connection,
                 Json data);
  // A change to publish later with PublishAll (created_at is set here).
  store::ChangeRecord Pending(std::string_view type, const std::string& resource_id,
                              const std::optional<ConnectionId>& connection, Json data) const;
  // Publishes `changes` in order: consecutive seqs, one counter update, the webhook endpoints
  // read once.
  Status PublishAll(store::Transaction& tx, const TenantId& tenant,
                    std::vector<store::ChangeRecord> changes);

 private:
  connections::ConnectionEvents* webhooks_;
  const Clock& clock_;
  store::SyncRepository repo_;
};

// What a step sees: the run (its checkpoint and counts are the step's to update), the service's
// state (its cursor), the connection, and the provider.
class RunContext {
 public:
  const TenantId& tenant() const { return tenant_; }
  const store::ConnectionRecord& connection() const { return connection_; }
  store::SyncRunRecord& run() { return run_; }
  store::SyncStateRecord& state() { return state_; }
  ProviderClient& provider() { return provider_; }
  ChangePublisher& changes() { return changes_; }
  const Clock& clock() const { return clock_; }

  // Runs `work` and then stores the run and the state as they are now, in one transaction of
  // the tenant. On an error nothing of it is kept (and run()/state() should be reloaded:
  // the engine ends the job with a retry, which does).
  Status Commit(const std::function<Status(store::Transaction&)>& work);

 private:
  friend class SyncEngine;
  RunContext(store::Database& db, const TenantId& tenant, store::ConnectionRecord connection,
             store::SyncRunRecord run, store::SyncStateRecord state, ProviderClient& provider,
             ChangePublisher& changes, const Clock& clock)
      : db_(db),
        tenant_(tenant),
        connection_(std::move(connection)),
        run_(std::move(run)),
        state_(std::move(state)),
        provider_(provider),
        changes_(changes),
        clock_(clock) {}
  store::Database& db_;
  const TenantId tenant_;
  const store::ConnectionRecord connection_;
  store::SyncRunRecord run_;
  store::SyncStateRecord state_;
  ProviderClient& provider_;
  ChangePublisher& changes_;
  const Clock& clock_;
  store::SyncRepository repo_;
};

// A capability's sync for every provider it supports.
class ServiceSync {
 public:
  virtual ~ServiceSync() = default;
  virtual std::string_view service() const = 0;
  // Whether it can sync connections of `provider`.
  virtual bool Supports(std::string_view provider) const = 0;
  // One step of the run: fetch a page and Commit it. true when the run has finished (the
  // step's Commit stored the final cursor); false when there is more. A classified provider
  // failure as a ProviderError; a local one (the database) as the Status.
  virtual Result<Fetched<bool>> Step(RunContext& context) = 0;
  // Inside the transaction that records a successful run (push channels are ensured).
  virtual Status OnSucceeded(store::Transaction& tx, RunContext& context) {
    (void)tx;
    (void)context;
    return OkStatus();
  }
};

struct SyncOptions {
  // The fallback schedule: a successful run schedules the next this much later (push, when it
  // works, triggers runs much sooner); 0 turns the scheduler off.
  std::chrono::milliseconds interval{15 * 60'000};
  std::chrono::milliseconds scheduler_poll{30'000};
  int scheduler_batch = 200;
  int job_max_attempts = 10;
  bool on_connect = true;  // a new connection's services get their initial run at once
  // A push-triggered run starts this much after the notification that asked for it: the
  // notifications meanwhile (a host's burst of writes, each notified back) join it rather than
  // each making a run of its own. 0: at once.
  std::chrono::milliseconds push_delay{20};
};

struct SyncEngineDeps {
  store::Database& db;
  store::Database& maintenance;  // lists due states across tenants (BYPASSRLS on PostgreSQL)
  connections::ConnectionService& connections;
  ProviderClient& provider;
  audit::AuditLog& audit;
  const Clock& clock;
  IdGenerator& ids;
  connections::ConnectionEvents* webhooks = nullptr;  // the outbox; null: no webhooks
  metrics::MetricsRegistry* metrics = nullptr;
  // asks the job runner to poll after this long (0: now); empty: nothing
  std::function<void(std::chrono::milliseconds)> wake_jobs;
};

class SyncEngine {
 public:
  SyncEngine(SyncEngineDeps deps, SyncOptions options);
  ~SyncEngine();

  void Register(std::unique_ptr<ServiceSync> service);

  // Requests a run; the open run when there is one (coalesced). NOT_FOUND for an unknown
  // connection; FAILED_PRECONDITION when the connection was not granted `service` or no
  // registered capability syncs its provider.
  Result<store::SyncRunRecord> RequestRun(const TenantId& tenant, const ConnectionId& connection,
                                          std::string_view service, store::SyncTrigger trigger,
                                          const audit::Context& ctx);
  // The same inside the caller's transaction (nullopt when the service is not synced for the
  // connection's provider).
  Result<std::optional<store::SyncRunRecord>> RequestRunIn(
      store::Transaction& tx, const TenantId& tenant, const store::ConnectionRecord& record,
      std::string_view service, store::SyncTrigger trigger, const audit::Context& ctx);
  // After a caller's transaction with RequestRunIn committed: the job runner polls when the
  // run is due (now, or options.push_delay after a push) rather than at its next idle poll.
  void WakeJobs(store::SyncTrigger trigger = store::SyncTrigger::kManual) const {
    if (wake_jobs_) wake_jobs_(StartDelay(trigger));
  }
  // How long after its request a run of `trigger` starts.
  std::chrono::milliseconds StartDelay(store::SyncTrigger trigger) const {
    return trigger == store::SyncTrigger::kPush ? options_.push_delay
                                                : std::chrono::milliseconds(0);
  }

  Result<std::optional<store::SyncRunRecord>> GetRun(const TenantId& tenant, const SyncRunId& id);
  // The connection's runs, newest first, before the run `before` (exclusive) when given.
  Result<std::vector<store::SyncRunRecord>> Runs(const TenantId& tenant,
                                                 const ConnectionId& connection,
                                                 const std::optional<SyncRunId>& before, int limit);
  Result<std::vector<store::SyncStateRecord>> States(const TenantId& tenant,
                                                     const ConnectionId& connection);

  // The tenant's change feed: the filter's changes in seq order.
  Result<std::vector<store::ChangeRecord>> Changes(const TenantId& tenant,
                                                   const store::ChangeFilter& filter);

  // The job handler of kSyncJob.
  jobs::JobResult Handle(jobs::JobContext& job);
  // The job handler of kSyncFollowUpJob: requests a run (queued behind nothing by then).
  jobs::JobResult HandleFollowUp(jobs::JobContext& job);

  // Connection events (installed in front of the webhooks outbox by the app, inside the
  // change's transaction): a new connection gets its initial runs; a connection that is
  // active again resumes paused states.
  Status OnConnectionEvent(store::Transaction& tx, const TenantId& tenant, std::string_view type,
                           const Json& data);

  // The scheduler: requests a run for every state whose next_run_at has come. Returns how many.
  Result<int> RequestDue();
  void Start();  // the scheduler loop (options.interval > 0)
  void Stop();

 private:
  Status RequestFollowUp(store::Transaction& tx, const TenantId& tenant,
                         const ConnectionId& connection, std::string_view service,
                         store::SyncTrigger trigger);
  ServiceSync* Find(std::string_view service, std::string_view provider) const;
  jobs::JobResult RunSteps(RunContext& context, ServiceSync& service, const store::JobRecord& job);
  Status Begin(RunContext& context);
  Status Finish(RunContext& context, store::SyncRunOutcome outcome, const std::string& error,
                std::optional<std::string> pause_reason, ServiceSync* service = nullptr);
  jobs::JobResult OnFailure(RunContext& context, const ProviderError& error, int attempts);
  // A database failure: retried, and on the job's last attempt the run is closed as failed.
  jobs::JobResult LocalFailure(RunContext& context, const Status& status, int attempts);
  // `ctx`: who asked (the API's caller for a request, SyncAuditContext() for the run's own steps).
  Status Audit(store::Transaction& tx, const TenantId& tenant, const audit::Context& ctx,
               std::string_view action, const store::SyncRunRecord& run, audit::Outcome outcome,
               const std::string& detail);
  void CountRun(const store::ConnectionRecord& connection, const store::SyncRunRecord& run);

  store::Database& db_;
  store::Database& maintenance_;
  ProviderClient& provider_;
  audit::AuditLog& audit_;
  const Clock& clock_;
  IdGenerator& ids_;
  ChangePublisher changes_;
  std::function<void(std::chrono::milliseconds)> wake_jobs_;
  const SyncOptions options_;
  std::vector<std::unique_ptr<ServiceSync>> services_;
  store::SyncRepository repo_;
  store::ConnectionRepository connections_repo_;
  metrics::CounterFamily* runs_total_ = nullptr;
  metrics::CounterFamily* items_total_ = nullptr;
  metrics::HistogramFamily* run_seconds_ = nullptr;
  metrics::HistogramFamily* lag_seconds_ = nullptr;
  std::unique_ptr<Periodic> scheduler_;
};

}  // namespace sb::sync
