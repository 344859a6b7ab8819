// Storage of the durable job queue (issue 6): one row per job in `jobs`. Stateless SQL over a
// Transaction, thread-safe.
//
// Tenant-scoped calls (Enqueue, Get, List, Heartbeat, Complete, Fail, Requeue) take the tenant
// explicitly, filter by it and refuse a transaction scoped to another tenant (PERMISSION_DENIED).
// Enqueue runs in the caller's tenant transaction, so a job can be enqueued atomically with the
// change that caused it (outbox pattern); Complete and Fail likewise run in the transaction of
// the handler's effects, so that a handler whose lease was lost rolls its effects back.
// The Maintenance* calls span tenants and need an unscoped (or system-tenant) transaction; on
// PostgreSQL that is the BYPASSRLS maintenance role (RLS-07).
//
// Malformed arguments give INVALID_ARGUMENT, malformed rows DATA_LOSS. Payloads never hold
// secrets: callers keep those in the vault and put a reference in the payload.
//
// Lifecycle: queued -> running (MaintenanceLease) -> done (Complete) | queued (Fail with a retry)
// | dead (Fail without a retry or out of attempts); done and dead go back to queued through
// Requeue. A running job asked for again (Enqueue with WhileRunning::kRunAgain) goes back to
// queued instead of done or dead when it ends, once, with its attempts reset. A running job
// whose lease expired (its node died) is leased again, unless it used its last attempt, in
// which case MaintenanceLease marks it dead. A lease owner names one leasing process instance
// (node id plus a boot nonce), never a whole node across restarts.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sb/base/clock.h"
#include "sb/base/ids.h"
#include "sb/base/json.h"
#include "sb/base/status.h"
#include "sb/store/database.h"

namespace sb::store {

enum class JobState { kQueued, kRunning, kDone, kDead };

// What Enqueue does when the live job with the same dedupe key is running: its handler may have
// read its input before the change that asks for the job now.
enum class WhileRunning {
  kJoin,      // the running job stands for the request (the request is dropped)
  kRunAgain,  // the running job runs once more when it ends (JobRecord::run_again)
};
std::string_view JobStateName(JobState state);  // "queued", "running", "done", "dead"
std::optional<JobState> ParseJobState(std::string_view name);

struct JobRecord {
  TenantId tenant_id;
  JobId id;
  std::string kind;               // [a-z0-9_.-], 1..64 bytes, e.g. "webhook.deliver"
  Json payload = Json::object();  // a JSON object, at most 64 KiB serialized; never secrets
  int priority = 0;               // higher runs first; -100..100
  Timestamp run_at;               // not before
  std::string dedupe_key;         // "" = none; at most 200 bytes, UTF-8 without control chars
  // "" = none. Otherwise at most `concurrency_limit` (1..1000) jobs of the tenant with this key
  // (of any kind) hold an unexpired lease at once: MaintenanceLease leaves the others queued,
  // without taking an attempt. Same rules as dedupe_key; the limit is 0 exactly when the key
  // is "".
  std::string concurrency_key;
  int concurrency_limit = 0;
  // A second, coarser key with the same rules (e.g. every webhook delivery of the tenant): a
  // job is leased only while both its key and its group have room. "" and 0 for none.
  std::string concurrency_group;
  int group_limit = 0;
  int attempts = 0;       // leases taken so far
  int max_attempts = 10;  // 1..1000
  JobState state = JobState::kQueued;
  std::string lease_owner;               // "" when not running
  std::optional<Timestamp> lease_until;  // set exactly when running
  std::string last_error;                // at most 2048 bytes of UTF-8
  Timestamp created_at;
  Timestamp updated_at;
  std::optional<Timestamp> finished_at;  // set exactly when done or dead
  // Only while running: a request came meanwhile (WhileRunning::kRunAgain), so Complete and Fail
  // put the job back to queued (run_at = now, attempts 0) instead of ending it.
  bool run_again = false;

  friend bool operator==(const JobRecord&, const JobRecord&) = default;
};

struct EnqueueResult {
  JobId id;      // the new job, or the live job with the same dedupe key
  bool created;  // false when an existing live job was returned instead

  friend bool operator==(const EnqueueResult&, const EnqueueResult&) = default;
};

class JobRepository {
 public:
  static constexpr int kMaxListLimit = 1000;
  static constexpr int kMaxLeaseLimit = 1000;
  static constexpr size_t kMaxLeaseKinds = 100;
  static constexpr size_t kMaxErrorBytes = 2048;

  // Inserts `job`, a new job: state queued, attempts 0, no lease, not finished, with a fresh
  // id. When `job.dedupe_key` is not empty and a live (queued or running) job of the same
  // tenant and kind has that key, inserts nothing and returns that job's id with
  // created = false; a running one is first marked run_again when `while_running` says so.
  // ALREADY_EXISTS for a duplicate id; ABORTED when the live duplicate kept vanishing under
  // concurrent updates (retry the transaction).
  Result<EnqueueResult> Enqueue(Transaction& tx, const TenantId& tenant, const JobRecord& job,
                                WhileRunning while_running = WhileRunning::kJoin);

  Result<std::optional<JobRecord>> Get(Transaction& tx, const TenantId& tenant, const JobId& id);
  // Up to `limit` (1..kMaxListLimit) jobs of `tenant`, optionally only in `state` and of `kind`,
  // ordered by id, after `after` when given.
  Result<std::vector<JobRecord>> List(Transaction& tx, const TenantId& tenant,
                                      std::optional<JobState> state,
                                      std::optional<std::string> kind,
                                      const std::optional<JobId>& after, int limit);

  // Extends the lease to `until` while `owner` holds it (state running); false otherwise.
  Result<bool> Heartbeat(Transaction& tx, const TenantId& tenant, const JobId& id,
                         const std::string& owner, Timestamp until);
  // Marks the job done (finished_at = now, lease cleared) if `owner` holds its lease, or queued
  // again when run_again; false when the lease was lost, in which case the caller must roll
  // back its own work.
  Result<bool> Complete(Transaction& tx, const TenantId& tenant, const JobId& id,
                        const std::string& owner, Timestamp now);
  // If `owner` holds the lease: with `retry_at` and attempts < max_attempts, back to queued
  // with run_at = retry_at (attempts kept); otherwise dead (finished_at = now), or queued again
  // at now with attempts 0 when run_again. Either way the lease and run_again are cleared and
  // last_error = `error`, cut to kMaxErrorBytes at a character boundary (INVALID_ARGUMENT when
  // it is not UTF-8). False when the lease was lost.
  Result<bool> Fail(Transaction& tx, const TenantId& tenant, const JobId& id,
                    const std::string& owner, Timestamp now, const std::string& error,
                    std::optional<Timestamp> retry_at);
  // Marks the queued (not leased) job of `kind` with `dedupe_key` (not "") done at `now`: a
  // producer that finished the work another way retires the job it queued as a safety net.
  // False when there is none queued (never queued, done, or already leased and running).
  Result<bool> CompleteQueued(Transaction& tx, const TenantId& tenant, const std::string& kind,
                              const std::string& dedupe_key, Timestamp now);
  // A done or dead job back to queued with attempts = 0 and run_at = now (last_error kept);
  // false when the job is unknown or still live. ALREADY_EXISTS when a live job with the same
  // kind and dedupe key exists.
  Result<bool> Requeue(Transaction& tx, const TenantId& tenant, const JobId& id, Timestamp now);

  // Sets the concurrency limit (1..1000) of the tenant's live (queued or running) jobs with
  // concurrency key `key` (not ""); returns how many changed. Jobs enqueued later carry their
  // own limit.
  Result<int64_t> SetConcurrencyLimit(Transaction& tx, const TenantId& tenant,
                                      const std::string& key, int limit);

  // Maintenance (unscoped or system-tenant transactions). Leases up to `limit`
  // (1..kMaxLeaseLimit) due jobs across tenants, only of `kinds` (empty: every kind): first the
  // best `per_tenant_limit` (>= 1) of every tenant, then, while the batch has room, more of
  // anyone's (fair, and a lone tenant still fills a batch); within each tier best first by
  // priority (descending), run_at, id.
  // Due means queued with run_at <= now, or running with lease_until < now (its node died) and
  // attempts left; running jobs with an expired lease and no attempt left are marked dead first.
  // Each leased job becomes running with lease_owner = `owner`, lease_until = now + `lease` and
  // attempts + 1; returns them in that order. A job with a concurrency key is due only while
  // fewer than its limit of jobs with that (tenant, key) hold an unexpired lease, counting the
  // ones this call leases; the per-tenant share counts only jobs that fit. Safe with concurrent
  // leasers: on PostgreSQL rows are locked with FOR UPDATE SKIP LOCKED, and a leaser that may
  // lease keyed jobs first takes a transaction-scoped advisory lock (kConcurrencyLock), so two
  // leasers cannot both fill the last slot of a key; SQLite serializes writers. No job is
  // leased twice, no key goes over its limit.
  static constexpr int64_t kConcurrencyLock = 0x5342'4a6f'6243'4b31;  // "SBJobCK1"
  Result<std::vector<JobRecord>> MaintenanceLease(Transaction& tx, const std::string& owner,
                                                  Timestamp now, std::chrono::milliseconds lease,
                                                  int limit, int per_tenant_limit,
                                                  const std::vector<std::string>& kinds);
  // The number of jobs in each state across tenants, keyed by JobStateName (every state
  // present, 0 when none).
  Result<std::map<std::string, int64_t>> MaintenanceCountByState(Transaction& tx);
};

}  // namespace sb::store
