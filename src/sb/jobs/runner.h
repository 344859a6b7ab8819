// Durable background jobs: one queue in the database (store::JobRepository) for all background
// work, and the JobRunner that executes it.
//
// Producers call Enqueue() inside the transaction of the change that causes the work (outbox),
// so a job exists exactly when the change committed. A runner on every node leases due jobs
// across tenants through the maintenance database (FOR UPDATE SKIP LOCKED on PostgreSQL, the
// single writer on SQLite; every tenant's first `per_tenant` jobs before more of anyone's, so
// one tenant's backlog cannot starve the others while a lone backlog still fills a poll),
// heartbeats their leases while handlers run, and finishes them: done (plain completions a few
// at a time, one transaction per tenant), retried with exponential backoff and
// jitter, or dead-lettered after the last attempt or a permanent failure. A job whose node dies
// is leased again once its lease runs out.
//
// Exactly once in effect: a handler that changes the database does so through
// JobContext::CompleteWith, which runs its work and the job's completion in one transaction
// of the job's tenant and rolls both back if the lease was lost meanwhile. A handler whose
// effect is outside the database (an HTTP delivery) must be idempotent, because a retry after
// a crash can repeat it.
//
// Thread safety: Register before Start; Start/Stop from one controlling thread; RunOnce is for
// tests and must not run concurrently with Start.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "sb/base/clock.h"
#include "sb/base/ids.h"
#include "sb/base/json.h"
#include "sb/base/metrics.h"
#include "sb/base/random.h"
#include "sb/base/status.h"
#include "sb/store/database.h"
#include "sb/store/jobs/job_repository.h"

namespace sb::jobs {

struct JobSpec {
  std::string kind;
  Json payload = Json::object();
  int priority = 0;
  std::optional<Timestamp> run_at;  // default: now
  std::string dedupe_key;           // "": none; else one live job per (tenant, kind, key)
  // When the live job with that key is running: it stands for this request (kJoin), or it runs
  // once more when it ends (kRunAgain: for a job whose handler reads state the request changed).
  store::WhileRunning while_running = store::WhileRunning::kJoin;
  int max_attempts = 10;
  // "": none; else at most concurrency_limit (1..1000) jobs of the tenant with this key run at
  // once, across nodes. A job over the limit waits in the queue: it is not leased, so it uses
  // no attempt and no worker thread (store::JobRepository::MaintenanceLease).
  std::string concurrency_key;
  int concurrency_limit = 0;
  // A second, coarser key with the same rules (both must have room): "" or 1..1000 jobs.
  std::string concurrency_group;
  int group_limit = 0;
};

// Adds a job in `tx` (a read-write transaction of `tenant`); a live job with the same dedupe
// key is returned instead (created = false).
Result<store::EnqueueResult> Enqueue(store::Transaction& tx, const TenantId& tenant,
                                     const JobSpec& spec, const Clock& clock, IdGenerator& ids);

// Retires the queued job of `kind` with `dedupe_key` (done at once, in `tx`): for a producer
// that finished the work another way than the job it queued. False when none is queued (a
// running one is left to finish).
Result<bool> RetireQueued(store::Transaction& tx, const TenantId& tenant, const std::string& kind,
                          const std::string& dedupe_key, const Clock& clock);

// What a handler reports.
struct JobResult {
  enum class Kind { kDone, kRetry, kFail };
  Kind kind = Kind::kDone;
  std::string error;                               // for kRetry and kFail; no secrets
  std::optional<std::chrono::milliseconds> after;  // kRetry: not before (e.g. Retry-After)

  static JobResult Done() { return {}; }
  static JobResult Retry(std::string error, std::optional<std::chrono::milliseconds> after = {}) {
    return {Kind::kRetry, std::move(error), after};
  }
  // Permanent: dead-lettered at once.
  static JobResult Fail(std::string error) { return {Kind::kFail, std::move(error), {}}; }
  // Another attempt, due at once: the handler lost a race with a concurrent writer (a unique
  // key or a serialization failure), and the next attempt reads what the winner committed.
  // Handlers use it for their first few attempts only, then back off as usual.
  static JobResult RetryAtOnce(std::string error) {
    JobResult result{Kind::kRetry, std::move(error), {}};
    result.at_once = true;
    return result;
  }

  bool at_once = false;  // kRetry: no backoff
};

class JobContext {
 public:
  const store::JobRecord& job() const { return job_; }
  // Runs `work` in a read-write transaction of the job's tenant and marks the job done in the
  // same transaction. ABORTED (and nothing of `work` kept) when this node lost the lease.
  Status CompleteWith(const std::function<Status(store::Transaction&)>& work);
  bool completed() const { return completed_; }

 private:
  friend class JobRunner;
  JobContext(store::Database& db, const Clock& clock, store::JobRecord job)
      : db_(db), clock_(clock), job_(std::move(job)) {}
  store::Database& db_;
  const Clock& clock_;
  store::JobRecord job_;
  bool completed_ = false;
};

using JobHandler = std::function<JobResult(JobContext&)>;

struct JobRunnerOptions {
  std::string owner = "node";  // this node's name in leases
  int threads = 4;             // jobs run at once
  int batch = 64;              // jobs leased per poll (every tenant's share first)
  int per_tenant = 8;          // each tenant's share of a poll before anyone gets more
  std::chrono::milliseconds lease{30'000};
  std::chrono::milliseconds poll{500};  // wait after a poll that leased nothing
  // Retry n waits min(base * 2^(n-1), max), minus up to half as jitter.
  std::chrono::milliseconds backoff_base{10'000};
  std::chrono::milliseconds backoff_max{3'600'000};
};

class JobRunner {
 public:
  // `db` runs the handlers' tenant transactions; `maintenance` (the BYPASSRLS role on
  // PostgreSQL, RLS-07) only leases. `metrics` (optional) gets sb_jobs_total{kind,outcome}.
  JobRunner(store::Database& db, store::Database& maintenance, const Clock& clock, Random& random,
            JobRunnerOptions options, metrics::MetricsRegistry* metrics = nullptr);
  ~JobRunner();
  JobRunner(const JobRunner&) = delete;
  JobRunner& operator=(const JobRunner&) = delete;

  void Register(const std::string& kind, JobHandler handler);

  void Start();
  // Stops leasing, lets running handlers finish, then returns.
  void Stop();

  // Asks the running loop to poll now instead of after its idle wait (options.poll): for a
  // producer that has just queued work. A no-op before Start.
  void Wake();
  // The same after `delay` (a producer that has queued work due then): the idle wait ends
  // then at the latest. The earliest of several stands; a delay <= 0 is Wake().
  void WakeIn(std::chrono::milliseconds delay);

  // One poll: leases due jobs of the registered kinds, runs them (options.threads at once) and
  // finishes them. Returns how many ran.
  Result<int> RunOnce();

 private:
  void Loop();
  void IdleWait(std::unique_lock<std::mutex>& lock);
  void Heartbeats();
  // Plain completions a worker commits in one transaction (fewer when the poll runs dry).
  static constexpr size_t kCompleteTogether = 8;
  // A job whose handler returned kDone without completing it, to complete with others.
  struct Ran {
    store::JobRecord job;
    JobResult result;
  };
  // Runs the handler and finishes the job, except a plain kDone, which it returns.
  std::optional<Ran> Run(store::JobRecord job);
  // Completes `done` in one transaction per tenant.
  void CompleteDone(std::vector<Ran> done);
  // Finishes a job whose handler asked for a retry or failed (kDone goes through CompleteDone,
  // or was completed by the handler).
  Status Finish(const store::JobRecord& job, const JobResult& result);
  // Ends a job's run on this node: no more heartbeats, logged when lost or dead, counted.
  void Settle(const store::JobRecord& job, const JobResult& result, const Status& finished);
  std::chrono::milliseconds Backoff(int attempts);

  store::Database& db_;
  store::Database& maintenance_;
  const Clock& clock_;
  Random& random_;
  const JobRunnerOptions options_;
  metrics::CounterFamily* counter_ = nullptr;
  store::JobRepository repo_;
  std::map<std::string, JobHandler> handlers_;  // fixed after Start

  std::mutex mu_;
  std::condition_variable wake_;
  bool stopping_ = false;  // guarded by mu_
  bool woken_ = false;     // guarded by mu_; Wake() since the last idle wait began
  // guarded by mu_; the earliest WakeIn() not yet reached
  std::optional<std::chrono::steady_clock::time_point> wake_at_;
  struct Running {
    TenantId tenant;
    JobId id;
    std::string owner;
  };
  std::map<std::string, Running> running_;  // key: job id; guarded by mu_
  std::atomic<uint64_t> polls_{0};          // each poll leases under its own owner name
  std::thread loop_;
  std::thread heartbeat_;
};

}  // namespace sb::jobs
