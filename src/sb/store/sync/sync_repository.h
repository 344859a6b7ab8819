// Storage of the sync engine (issue 15): one sync state per connection and service
// (`sync_states`), one record per sync run (`sync_runs`), and the tenant-wide, ordered change
// feed (`changes`) that the host reads with a cursor and that webhooks announce.
//
// Rows go with their connection (foreign key, cascade), except changes, which outlive it (the
// feed tells the host that a disconnected connection's events were deleted).
//
// Stateless SQL over a Transaction, thread-safe; tenant scoping, maintenance calls and error
// codes as in admin_repository.h.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "sb/base/clock.h"
#include "sb/base/ids.h"
#include "sb/base/json.h"
#include "sb/base/status.h"
#include "sb/store/database.h"
#include "sb/store/updated_cursor.h"

namespace sb::store {

enum class SyncStatus { kIdle, kRunning, kFailed, kPaused };
std::string_view SyncStatusName(SyncStatus status);  // "idle", "running", "failed", "paused"
std::optional<SyncStatus> ParseSyncStatus(std::string_view name);

// Per connection and service ("calendar", later "email", "contacts").
struct SyncStateRecord {
  TenantId tenant_id;
  ConnectionId connection_id;
  std::string service;  // [a-z_]{1,32}
  SyncStatus status = SyncStatus::kIdle;
  // The provider cursors the service keeps between runs (Google syncTokens, Graph delta links
  // per calendar), opaque to the engine; an object, at most 256 KiB serialized. {} before the
  // first complete run.
  Json cursor = Json::object();
  std::optional<Timestamp> last_success_at;
  std::optional<Timestamp> last_error_at;
  std::string last_error;     // for people, never a token; at most 1024 bytes
  std::string paused_reason;  // why the state is paused ("reauthorization_required", ...);
                              // at most 256 bytes, no control characters
  int64_t items_created = 0;  // totals over every run
  int64_t items_updated = 0;
  int64_t items_deleted = 0;
  std::optional<SyncRunId> last_run_id;
  std::optional<Timestamp> next_run_at;  // the scheduled fallback run; none: not scheduled
  Timestamp created_at;
  Timestamp updated_at;

  friend bool operator==(const SyncStateRecord&, const SyncStateRecord&) = default;
};

enum class SyncTrigger { kInitial, kPush, kSchedule, kManual, kResync };
std::string_view SyncTriggerName(SyncTrigger trigger);  // "initial", "push", ...
std::optional<SyncTrigger> ParseSyncTrigger(std::string_view name);

// queued -> running -> succeeded | failed | cancelled
enum class SyncRunOutcome { kQueued, kRunning, kSucceeded, kFailed, kCancelled };
std::string_view SyncRunOutcomeName(SyncRunOutcome outcome);  // "queued", "running", ...
std::optional<SyncRunOutcome> ParseSyncRunOutcome(std::string_view name);

struct SyncRunRecord {
  TenantId tenant_id;
  SyncRunId id;
  ConnectionId connection_id;
  std::string service;
  SyncTrigger trigger = SyncTrigger::kManual;
  SyncRunOutcome outcome = SyncRunOutcome::kQueued;
  std::string phase;  // what the run does now, [a-z_]{0,32} ("calendars", "events", "done")
  bool full = false;  // a full (re)sync rather than an incremental one
  // Where a run resumes after its node died: the service's position within the run (page
  // tokens, calendars done, the full sync's seen set marker), opaque to the engine; an object,
  // at most 256 KiB serialized.
  Json checkpoint = Json::object();
  int64_t pages = 0;
  int64_t items_created = 0;
  int64_t items_updated = 0;
  int64_t items_deleted = 0;
  std::string error;  // for people, never a token; at most 1024 bytes
  Timestamp created_at;
  std::optional<Timestamp> started_at;
  std::optional<Timestamp> finished_at;
  Timestamp updated_at;

  friend bool operator==(const SyncRunRecord&, const SyncRunRecord&) = default;
};

// One entry of the change feed. `seq` orders a tenant's changes: it is assigned by Append from
// a per-tenant counter in the appending transaction, so that a reader that saw seq n has seen
// every committed change below n (the counter row serializes a tenant's appenders).
struct ChangeRecord {
  TenantId tenant_id;
  int64_t seq = 0;          // assigned by Append; > 0
  std::string type;         // "event.created", "event.updated", "event.deleted", "calendar.*",
                            // "sync.started", "sync.completed", "sync.failed"; [a-z_.]{1,64}
  std::string resource_id;  // the event's, calendar's or run's id (UUID)
  std::optional<ConnectionId> connection_id;
  Json data = Json::object();  // what the host gets; at most 256 KiB serialized
  Timestamp created_at;

  friend bool operator==(const ChangeRecord&, const ChangeRecord&) = default;
};

// Which changes ListChanges reads.
enum class ChangeOrder { kOldestFirst, kNewestFirst };

struct ChangeFilter {
  // The last seq read: oldest first, the changes after it; newest first, those before it.
  // None: from the start (oldest first) or from the newest.
  std::optional<int64_t> cursor;
  std::vector<std::string> types;          // empty: all
  std::optional<ConnectionId> connection;  // none: every connection's and none's
  int limit = 100;
  ChangeOrder order = ChangeOrder::kOldestFirst;
};

class SyncRepository {
 public:
  static constexpr int kMaxListLimit = 1000;
  static constexpr size_t kMaxCursorBytes = 256 * 1024;
  static constexpr size_t kMaxChangeTypes = 20;  // the IN list of ListChanges

  Result<std::optional<SyncStateRecord>> GetState(Transaction& tx, const TenantId& tenant,
                                                  const ConnectionId& connection,
                                                  std::string_view service);
  // Inserts or replaces. NOT_FOUND when the connection does not exist.
  Status PutState(Transaction& tx, const TenantId& tenant, const SyncStateRecord& record);
  // Every state of a connection, by service.
  Result<std::vector<SyncStateRecord>> ListStates(Transaction& tx, const TenantId& tenant,
                                                  const ConnectionId& connection);
  // Maintenance: up to `limit` states whose next_run_at has come and that are not paused, the
  // longest-waiting first, for the sync scheduler.
  Result<std::vector<std::pair<TenantId, std::pair<ConnectionId, std::string>>>> MaintenanceListDue(
      Transaction& tx, Timestamp due, int limit);

  // ALREADY_EXISTS for a duplicate id, and for a second open (queued or running) run of the
  // connection and service (a partial unique index: at most one is open, even across nodes);
  // NOT_FOUND when the connection does not exist.
  Status InsertRun(Transaction& tx, const TenantId& tenant, const SyncRunRecord& record);
  // Replaces the mutable fields (outcome, phase, full, checkpoint, counts, error, times).
  // NOT_FOUND when there is no such run; ALREADY_EXISTS when it would reopen a run while
  // another of its connection and service is open.
  Status UpdateRun(Transaction& tx, const TenantId& tenant, const SyncRunRecord& record);
  Result<std::optional<SyncRunRecord>> GetRun(Transaction& tx, const TenantId& tenant,
                                              const SyncRunId& id);
  // A connection's runs, newest first (descending id: run ids are UUIDv7), after `before` (an
  // id, exclusive) when given.
  Result<std::vector<SyncRunRecord>> ListRuns(Transaction& tx, const TenantId& tenant,
                                              const ConnectionId& connection,
                                              const std::optional<SyncRunId>& before, int limit);
  // Up to `limit` (1..kMaxListLimit) of the tenant's runs created or updated after `after`,
  // in (updated_at, id) order (sync_runs_by_update); see updated_cursor.h.
  Result<std::vector<SyncRunRecord>> ListRunsUpdatedSince(Transaction& tx, const TenantId& tenant,
                                                          const UpdatedCursor& after, int limit);
  // The connection's run of `service` that is queued or running, if any (at most one is).
  Result<std::optional<SyncRunRecord>> FindOpenRun(Transaction& tx, const TenantId& tenant,
                                                   const ConnectionId& connection,
                                                   std::string_view service);

  // Appends `record` (its seq and tenant set here) and returns the seq it got.
  Result<int64_t> AppendChange(Transaction& tx, const TenantId& tenant, ChangeRecord record);
  // Appends `records` in order with consecutive seqs (each record's seq and tenant set here):
  // one counter update and a few multi-row inserts. All are validated before anything is
  // written; on an error none is appended.
  Status AppendChanges(Transaction& tx, const TenantId& tenant, std::span<ChangeRecord> records);
  // The filter's changes in seq order (newest first: descending), past the cursor, at most
  // `limit`. INVALID_ARGUMENT for more than kMaxChangeTypes types, a malformed type or
  // connection id, or a negative cursor.
  Result<std::vector<ChangeRecord>> ListChanges(Transaction& tx, const TenantId& tenant,
                                                const ChangeFilter& filter);
};

}  // namespace sb::store
