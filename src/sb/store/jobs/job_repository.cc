#include "sb/store/jobs/job_repository.h"

#include <algorithm>
#include <array>
#include <limits>
#include <utility>

#include "sb/base/encoding.h"
#include "sb/store/internal/repository_helpers.h"
#include "sb/store/internal/row_reader.h"

namespace sb::store {
using internal::IsCleanText;
using internal::IsControl;
using internal::IsHttpUrl;
using internal::IsPrintable;
using internal::IsStorableError;
using internal::IsStorableJson;
using internal::OptionalMicros;
using internal::ReadInt;
using internal::ReadJson;
using internal::ReadServices;
using internal::ReadStrings;
using internal::ReadTenant;
using internal::RequireUnscoped;
using internal::ServicesJson;
using internal::StorableError;
using internal::StringsJson;

namespace {

using internal::CheckTenantScope;

constexpr std::string_view kJobs = "jobs";
constexpr size_t kMaxKindBytes = 64;
constexpr size_t kMaxDedupeKeyBytes = 200;
constexpr size_t kMaxLeaseOwnerBytes = 200;
constexpr size_t kMaxPayloadBytes = size_t{64} * 1024;
constexpr int kMaxPayloadDepth = 16;
constexpr int kMinPriority = -100;
constexpr int kMaxPriority = 100;
constexpr int kMaxAttempts = 1000;
constexpr int kMaxConcurrencyLimit = 1000;
// How often Enqueue looks for the live duplicate that made its insert a no-op before giving up:
// the duplicate can finish between the two statements (then the insert is retried).
constexpr int kEnqueueRounds = 3;

constexpr std::array<std::pair<JobState, std::string_view>, 4> kStateNames = {{
    {JobState::kQueued, "queued"},
    {JobState::kRunning, "running"},
    {JobState::kDone, "done"},
    {JobState::kDead, "dead"},
}};

#define SB_JOB_FIELDS                                                                           \
  "tenant_id, id, kind, payload, priority, run_at, dedupe_key, attempts, max_attempts, state, " \
  "lease_owner, lease_until, last_error, created_at, updated_at, finished_at, "                 \
  "concurrency_key, concurrency_limit, concurrency_group, group_limit, run_again"

#define SB_JOB_COLUMNS "SELECT " SB_JOB_FIELDS " FROM jobs "

// Due for leasing at $1: queued and not before run_at, or running with an expired lease (the
// node holding it died) and an attempt left.
#define SB_JOB_DUE                                                                   \
  "((state = 'queued' AND run_at <= $1) OR (state = 'running' AND lease_until < $1 " \
  "AND attempts < max_attempts))"

// The SET list that ends a run at `now` (a bound microsecond parameter) in `final_state`: or,
// when a request came while it ran (run_again), back to queued at `now` with no attempts, so
// that it runs once more. One statement, so that a concurrent Enqueue's mark is never lost.
// clang-format off
#define SB_JOB_FINISH(final_state, now)                                                  \
  "state = CASE run_again WHEN 1 THEN 'queued' ELSE " final_state " END, "             \
  "run_at = CASE run_again WHEN 1 THEN CAST(" now " AS BIGINT) ELSE run_at END, "      \
  "attempts = CASE run_again WHEN 1 THEN 0 ELSE attempts END, "                        \
  "finished_at = CASE run_again WHEN 1 THEN NULL ELSE CAST(" now " AS BIGINT) END, "   \
  "run_again = 0, lease_owner = '', lease_until = NULL, updated_at = " now
// clang-format on

// The leasing order, and the per-tenant ranking of the fairness cap.
#define SB_JOB_ORDER "priority DESC, run_at, id"

// ---- Field rules ----

bool IsValidKind(std::string_view s) {
  return !s.empty() && s.size() <= kMaxKindBytes && std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
  });
}

bool IsValidDedupeKey(std::string_view s) {
  return s.size() <= kMaxDedupeKeyBytes && IsValidUtf8(s) &&
         std::none_of(s.begin(), s.end(), IsControl);
}

// Printable ASCII without spaces, 1..max bytes (lease owners: node names).
bool IsValidOwner(std::string_view s) { return IsPrintable(s, kMaxLeaseOwnerBytes); }

// Every string (keys included) valid UTF-8, nesting bounded: what dump() can encode.
Status ValidatePayload(const Json& payload) {
  if (!payload.is_object()) return InvalidArgumentError("payload must be a JSON object");
  if (!IsStorableJson(payload, kMaxPayloadDepth))
    return InvalidArgumentError("payload is not storable JSON");
  if (payload.dump().size() > kMaxPayloadBytes) return InvalidArgumentError("payload too large");
  return OkStatus();
}

// The lease and finish columns agree with the state.
Status ValidateLifecycle(const JobRecord& r) {
  const bool running = r.state == JobState::kRunning;
  const bool finished = r.state == JobState::kDone || r.state == JobState::kDead;
  if (running != (!r.lease_owner.empty() && r.lease_until.has_value()) ||
      (!running && (!r.lease_owner.empty() || r.lease_until.has_value()))) {
    return InvalidArgumentError("lease must be set exactly while running");
  }
  if (finished != r.finished_at.has_value()) {
    return InvalidArgumentError("finished_at must be set exactly when done or dead");
  }
  if (r.run_again && !running) return InvalidArgumentError("only a running job runs again");
  return OkStatus();
}

Status ValidateJob(const JobRecord& r) {
  if (!r.id.valid()) return InvalidArgumentError("invalid job id");
  if (!IsValidKind(r.kind)) return InvalidArgumentError("invalid job kind");
  SB_RETURN_IF_ERROR(ValidatePayload(r.payload));
  if (r.priority < kMinPriority || r.priority > kMaxPriority) {
    return InvalidArgumentError("priority out of range");
  }
  if (!IsValidDedupeKey(r.dedupe_key)) return InvalidArgumentError("invalid dedupe_key");
  if (!IsValidDedupeKey(r.concurrency_key)) return InvalidArgumentError("invalid concurrency_key");
  if (r.concurrency_key.empty()
          ? r.concurrency_limit != 0
          : r.concurrency_limit < 1 || r.concurrency_limit > kMaxConcurrencyLimit) {
    return InvalidArgumentError("concurrency_limit must be 1..1000 with a key, 0 without");
  }
  if (!IsValidDedupeKey(r.concurrency_group)) {
    return InvalidArgumentError("invalid concurrency_group");
  }
  if (r.concurrency_group.empty() ? r.group_limit != 0
                                  : r.group_limit < 1 || r.group_limit > kMaxConcurrencyLimit) {
    return InvalidArgumentError("group_limit must be 1..1000 with a group, 0 without");
  }
  if (r.max_attempts < 1 || r.max_attempts > kMaxAttempts) {
    return InvalidArgumentError("max_attempts out of range");
  }
  if (r.attempts < 0) return InvalidArgumentError("negative attempts");
  if (JobStateName(r.state).empty()) return InvalidArgumentError("invalid state");
  if (!r.lease_owner.empty() && !IsValidOwner(r.lease_owner)) {
    return InvalidArgumentError("invalid lease_owner");
  }
  if (r.last_error.size() > JobRepository::kMaxErrorBytes || !IsStorableError(r.last_error)) {
    return InvalidArgumentError("invalid last_error");
  }
  return ValidateLifecycle(r);
}

Status ValidateLeaseRequest(const std::string& owner, std::chrono::milliseconds lease, int limit,
                            int per_tenant_limit, const std::vector<std::string>& kinds) {
  if (!IsValidOwner(owner)) return InvalidArgumentError("invalid lease owner");
  if (lease <= std::chrono::milliseconds::zero()) {
    return InvalidArgumentError("lease duration must be positive");
  }
  if (limit < 1 || limit > JobRepository::kMaxLeaseLimit) {
    return InvalidArgumentError("lease limit out of range");
  }
  if (per_tenant_limit < 1) return InvalidArgumentError("per-tenant limit must be positive");
  if (kinds.size() > JobRepository::kMaxLeaseKinds) return InvalidArgumentError("too many kinds");
  if (!std::all_of(kinds.begin(), kinds.end(), [](const auto& k) { return IsValidKind(k); })) {
    return InvalidArgumentError("invalid job kind");
  }
  return OkStatus();
}

Status RequireValidId(const JobId& id) {
  return id.valid() ? OkStatus() : InvalidArgumentError("invalid job id");
}

// Maintenance runs unscoped, or scoped to the deployment-wide system tenant (the nil id), like
// SecretRepository's maintenance calls.
// `error` cut to kMaxErrorBytes without splitting a UTF-8 sequence.
// ---- Encoding ----

std::string StateValue(JobState state) { return std::string(JobStateName(state)); }

// " AND kind IN ($n, ...)" binding `kinds` after `params`; "" for every kind.
std::string KindFilter(const std::vector<std::string>& kinds, std::vector<Value>& params) {
  if (kinds.empty()) return "";
  std::string sql = " AND kind IN (";
  for (size_t i = 0; i < kinds.size(); ++i) {
    params.push_back(kinds[i]);
    sql += (i == 0 ? "$" : ", $") + std::to_string(params.size());
  }
  return sql + ")";
}

// ---- Decoding: anything unexpected is DATA_LOSS ----

Status Corrupt() { return DataLossError("corrupt row in " + std::string(kJobs)); }

Result<int> ReadSmallInt(const Row& row, size_t i) {
  if (i >= row.size()) return Corrupt();
  const auto* v = std::get_if<int64_t>(&row.at(i));
  if (v == nullptr || *v < std::numeric_limits<int>::min() ||
      *v > std::numeric_limits<int>::max()) {
    return Corrupt();
  }
  return static_cast<int>(*v);
}

Result<Json> ReadPayload(const Row& row, size_t i) {
  SB_ASSIGN_OR_RETURN(std::string text, internal::ReadText(row, i, kJobs));
  Result<Json> j = ParseJson(text, internal::kStoredJsonLimits);
  if (!j.ok()) return Corrupt();
  return std::move(*j);
}

// Columns 2..20 of SB_JOB_FIELDS.
Status ParseJobBody(const Row& row, JobRecord& r) {
  SB_ASSIGN_OR_RETURN(r.kind, internal::ReadText(row, 2, kJobs));
  SB_ASSIGN_OR_RETURN(r.payload, ReadPayload(row, 3));
  SB_ASSIGN_OR_RETURN(r.priority, ReadSmallInt(row, 4));
  SB_ASSIGN_OR_RETURN(r.run_at, internal::ReadTimestamp(row, 5, kJobs));
  SB_ASSIGN_OR_RETURN(r.dedupe_key, internal::ReadText(row, 6, kJobs));
  SB_ASSIGN_OR_RETURN(r.attempts, ReadSmallInt(row, 7));
  SB_ASSIGN_OR_RETURN(r.max_attempts, ReadSmallInt(row, 8));
  SB_ASSIGN_OR_RETURN(std::string state, internal::ReadText(row, 9, kJobs));
  std::optional<JobState> parsed = ParseJobState(state);
  if (!parsed) return Corrupt();
  r.state = *parsed;
  SB_ASSIGN_OR_RETURN(r.lease_owner, internal::ReadText(row, 10, kJobs));
  SB_ASSIGN_OR_RETURN(r.lease_until, internal::ReadOptionalTimestamp(row, 11, kJobs));
  SB_ASSIGN_OR_RETURN(r.last_error, internal::ReadText(row, 12, kJobs));
  SB_ASSIGN_OR_RETURN(r.created_at, internal::ReadTimestamp(row, 13, kJobs));
  SB_ASSIGN_OR_RETURN(r.updated_at, internal::ReadTimestamp(row, 14, kJobs));
  SB_ASSIGN_OR_RETURN(r.finished_at, internal::ReadOptionalTimestamp(row, 15, kJobs));
  SB_ASSIGN_OR_RETURN(r.concurrency_key, internal::ReadText(row, 16, kJobs));
  SB_ASSIGN_OR_RETURN(r.concurrency_limit, ReadSmallInt(row, 17));
  SB_ASSIGN_OR_RETURN(r.concurrency_group, internal::ReadText(row, 18, kJobs));
  SB_ASSIGN_OR_RETURN(r.group_limit, ReadSmallInt(row, 19));
  SB_ASSIGN_OR_RETURN(const int run_again, ReadSmallInt(row, 20));
  if (run_again != 0 && run_again != 1) return Corrupt();
  r.run_again = run_again == 1;
  return OkStatus();
}

// A row of any tenant (maintenance scans).
Result<JobRecord> ParseAnyJob(const Row& row) {
  JobRecord r;
  SB_ASSIGN_OR_RETURN(std::string tenant_id, internal::ReadUuid(row, 0, kJobs));
  r.tenant_id = TenantId(std::move(tenant_id));
  SB_ASSIGN_OR_RETURN(std::string id, internal::ReadUuid(row, 1, kJobs));
  r.id = JobId(std::move(id));
  SB_RETURN_IF_ERROR(ParseJobBody(row, r));
  if (!ValidateJob(r).ok()) return Corrupt();
  return r;
}

// A row of `tenant`: the SQL filtered by it, so another tenant's row is a bug.
Result<JobRecord> ParseJob(const Row& row, const TenantId& tenant) {
  SB_ASSIGN_OR_RETURN(JobRecord r, ParseAnyJob(row));
  if (r.tenant_id != tenant) return InternalError("jobs: row of another tenant");
  return r;
}

template <typename Parse>
Result<std::vector<JobRecord>> ParseAll(const std::vector<Row>& rows, Parse parse) {
  std::vector<JobRecord> out;
  out.reserve(rows.size());
  for (const Row& row : rows) {
    SB_ASSIGN_OR_RETURN(JobRecord r, parse(row));
    out.push_back(std::move(r));
  }
  return out;
}

// ---- Enqueue ----

// Inserts `r` unless a live job with its dedupe key exists; true when it inserted.
Result<bool> InsertUnlessLiveDuplicate(Transaction& tx, const JobRecord& r) {
  // The conflict target repeats jobs_dedupe's predicate, so that both backends pick that
  // partial index as the arbiter; a duplicate id still fails with ALREADY_EXISTS.
  SB_ASSIGN_OR_RETURN(
      int64_t n,
      tx.Execute("INSERT INTO jobs (" SB_JOB_FIELDS
                 ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, "
                 "$16, $17, $18, $19, $20, $21) ON CONFLICT (tenant_id, kind, dedupe_key) WHERE "
                 "dedupe_key <> '' AND "
                 "state IN ('queued', 'running') DO NOTHING",
                 {r.tenant_id.value(),
                  r.id.value(),
                  r.kind,
                  r.payload.dump(),
                  int64_t{r.priority},
                  ToUnixMicros(r.run_at),
                  r.dedupe_key,
                  int64_t{r.attempts},
                  int64_t{r.max_attempts},
                  StateValue(r.state),
                  r.lease_owner,
                  OptionalMicros(r.lease_until),
                  r.last_error,
                  ToUnixMicros(r.created_at),
                  ToUnixMicros(r.updated_at),
                  OptionalMicros(r.finished_at),
                  r.concurrency_key,
                  int64_t{r.concurrency_limit},
                  r.concurrency_group,
                  int64_t{r.group_limit},
                  int64_t{r.run_again ? 1 : 0}}));
  return n == 1;
}

// Joins `r` to its live duplicate and returns that job: a queued one as it is; a running one as
// it is with kJoin, or marked to run again with kRunAgain. Empty when none is live any more.
Result<std::optional<JobId>> JoinLiveDuplicate(Transaction& tx, const JobRecord& r,
                                               WhileRunning while_running) {
  SB_ASSIGN_OR_RETURN(auto rows, tx.Query("SELECT id, state FROM jobs WHERE tenant_id = $1 AND "
                                          "kind = $2 AND dedupe_key = $3 AND dedupe_key <> '' AND "
                                          "state IN ('queued', 'running')",
                                          {r.tenant_id.value(), r.kind, r.dedupe_key}));
  if (rows.empty()) return std::optional<JobId>();
  SB_ASSIGN_OR_RETURN(std::string id, internal::ReadUuid(rows.front(), 0, kJobs));
  SB_ASSIGN_OR_RETURN(std::string state, internal::ReadText(rows.front(), 1, kJobs));
  if (ParseJobState(state) == JobState::kRunning && while_running == WhileRunning::kRunAgain) {
    // Conditional: on PostgreSQL a concurrent Complete may finish it first (then no row).
    SB_ASSIGN_OR_RETURN(int64_t n, tx.Execute("UPDATE jobs SET run_again = 1 WHERE tenant_id = "
                                              "$1 AND id = $2 AND state = 'running'",
                                              {r.tenant_id.value(), id}));
    if (n == 0) return std::optional<JobId>();
  }
  return std::optional<JobId>(JobId(std::move(id)));
}

// ---- Leasing ----

// Marks dead the running jobs whose lease expired at `now` after their last attempt, so that
// a job that kills its node cannot be leased forever (nor again for a request that came while
// it ran: run_again is dropped). Skips rows other transactions hold.
Status BuryExhausted(Transaction& tx, Timestamp now, const std::vector<std::string>& kinds) {
  std::vector<Value> params{ToUnixMicros(now)};
  const std::string kind_filter = KindFilter(kinds, params);
  const char* lock = tx.backend() == Backend::kPostgres ? " FOR UPDATE SKIP LOCKED" : "";
  return tx
      .Execute(
          "UPDATE jobs SET state = 'dead', lease_owner = '', lease_until = NULL, run_again = 0, "
          "finished_at = $1, updated_at = $1, last_error = 'lease expired after the last "
          "attempt' WHERE state = 'running' AND lease_until < $1 AND attempts >= max_attempts "
          "AND (tenant_id, id) IN (SELECT tenant_id, id FROM jobs WHERE state = 'running' AND "
          "lease_until < $1 AND attempts >= max_attempts" +
              kind_filter + lock + ")",
          params)
      .status();
}

// The candidates' ranking: due jobs (now = $1) of `kinds` (bound after `params`) that fit their
// concurrency key and group, each with `overflow` = 1 past the first `per_tenant` (a placeholder)
// of its tenant, so that leasers take every tenant's first share before more of anyone's (fair
// and work-conserving: a lone tenant still fills a batch). A keyed job fits
// when its rank among the due jobs of its (tenant, key), plus the key's unexpired leases, stays
// within its limit; then the same among the fitting jobs of its (tenant, group). Without
// `keyed`, keyed and grouped jobs are left out altogether.
std::string RankedDueSql(std::string_view per_tenant, bool keyed,
                         const std::vector<std::string>& kinds, std::vector<Value>& params) {
  const std::string overflow =
      "CASE WHEN tenant_rank <= " + std::string(per_tenant) + " THEN 0 ELSE 1 END AS overflow";
  if (!keyed) {
    return "SELECT tenant_id, id, priority, run_at, " + overflow +
           " FROM (SELECT tenant_id, id, priority, run_at, ROW_NUMBER() OVER (PARTITION BY "
           "tenant_id ORDER BY " SB_JOB_ORDER ") AS tenant_rank FROM jobs WHERE " SB_JOB_DUE
           " AND concurrency_key = '' AND concurrency_group = ''" +
           KindFilter(kinds, params) + ") AS ranked";
  }
  const std::string by_key =
      "SELECT j.tenant_id, j.id, j.priority, j.run_at, j.concurrency_key, "
      "j.concurrency_limit, j.concurrency_group, j.group_limit, COALESCE(busy.n, 0) AS busy_n, "
      "ROW_NUMBER() OVER (PARTITION BY j.tenant_id, j.concurrency_key ORDER BY "
      "j.priority DESC, j.run_at, j.id) AS key_rank FROM jobs AS j LEFT JOIN (SELECT "
      "tenant_id, concurrency_key, COUNT(*) AS n FROM jobs WHERE concurrency_key <> '' AND "
      "state = 'running' AND lease_until >= $1 GROUP BY tenant_id, concurrency_key) AS busy "
      "ON busy.tenant_id = j.tenant_id AND busy.concurrency_key = j.concurrency_key WHERE "
      "((j.state = 'queued' AND j.run_at <= $1) OR (j.state = 'running' AND "
      "j.lease_until < $1 AND j.attempts < j.max_attempts))" +
      std::string(keyed ? "" : " AND j.concurrency_key = '' AND j.concurrency_group = ''") +
      KindFilter(kinds, params);
  const std::string by_group =
      "SELECT k.tenant_id, k.id, k.priority, k.run_at, k.concurrency_group, k.group_limit, "
      "COALESCE(gbusy.n, 0) AS gbusy_n, ROW_NUMBER() OVER (PARTITION BY k.tenant_id, "
      "k.concurrency_group ORDER BY k.priority DESC, k.run_at, k.id) AS group_rank FROM (" +
      by_key +
      ") AS k LEFT JOIN (SELECT tenant_id, concurrency_group, COUNT(*) AS n FROM jobs WHERE "
      "concurrency_group <> '' AND state = 'running' AND lease_until >= $1 GROUP BY "
      "tenant_id, concurrency_group) AS gbusy ON gbusy.tenant_id = k.tenant_id AND "
      "gbusy.concurrency_group = k.concurrency_group WHERE k.concurrency_key = '' OR "
      "k.key_rank + k.busy_n <= k.concurrency_limit";
  return "SELECT tenant_id, id, priority, run_at, " + overflow +
         " FROM (SELECT tenant_id, id, priority, run_at, "
         "ROW_NUMBER() OVER (PARTITION BY tenant_id ORDER BY " SB_JOB_ORDER
         ") AS tenant_rank FROM (" +
         by_group +
         ") AS grouped WHERE concurrency_group = '' OR group_rank + gbusy_n <= group_limit) AS "
         "ranked";
}

// PostgreSQL: whether keyed jobs may be leased in `tx`. Two leasers that both counted a key's
// leases before either committed could together exceed its limit, so leasing keyed jobs is
// serialized by one transaction-scoped advisory lock, taken only when keyed jobs are due. The
// lease statement runs after the lock is granted and reads the previous holder's committed
// leases (READ COMMITTED takes a snapshot per statement).
// Whether any due job of `kinds` has a concurrency key or group (most polls have none, and
// then the ranking needs no key or group stage).
Result<bool> AnyKeyedJobDue(Transaction& tx, Timestamp now, const std::vector<std::string>& kinds) {
  std::vector<Value> params{ToUnixMicros(now)};
  const std::string kind_filter = KindFilter(kinds, params);
  SB_ASSIGN_OR_RETURN(auto rows, tx.Query("SELECT 1 FROM jobs WHERE (concurrency_key <> '' OR "
                                          "concurrency_group <> '') AND " SB_JOB_DUE +
                                              kind_filter + " LIMIT 1",
                                          params));
  return !rows.empty();
}

Result<bool> LockForKeyedJobs(Transaction& tx, Timestamp now,
                              const std::vector<std::string>& kinds) {
  SB_ASSIGN_OR_RETURN(const bool keyed, AnyKeyedJobDue(tx, now, kinds));
  if (!keyed) return false;
  SB_RETURN_IF_ERROR(tx.Query("SELECT 1 FROM (SELECT pg_advisory_xact_lock($1::bigint)) AS locked",
                              {int64_t{JobRepository::kConcurrencyLock}})
                         .status());
  return true;
}

// PostgreSQL: one statement. FOR UPDATE cannot share a query level with a window function, so
// the ranking is a subquery and the outer level locks the chosen rows, skipping rows another
// leaser holds. That level repeats the due condition: when a row changed after the statement's
// snapshot, PostgreSQL re-evaluates it on the newest version before locking, so a job another
// leaser has just taken no longer qualifies. MATERIALIZED keeps the locked set to one
// evaluation.
Result<std::vector<Row>> LeasePostgres(Transaction& tx, const std::string& owner, Timestamp now,
                                       Timestamp until, int limit, int per_tenant_limit,
                                       const std::vector<std::string>& kinds) {
  SB_ASSIGN_OR_RETURN(bool keyed, LockForKeyedJobs(tx, now, kinds));
  std::vector<Value> params{ToUnixMicros(now), owner, ToUnixMicros(until),
                            int64_t{per_tenant_limit}, int64_t{limit}};
  const std::string ranked = RankedDueSql("$4", keyed, kinds, params);
  return tx.Query(
      "WITH due AS MATERIALIZED (SELECT tenant_id AS due_tenant, id AS due_id, overflow FROM (" +
          ranked +
          ") AS ranked), picked AS MATERIALIZED (SELECT tenant_id, id FROM jobs JOIN due ON "
          "due.due_tenant = jobs.tenant_id AND due.due_id = jobs.id WHERE " SB_JOB_DUE
          " ORDER BY overflow, " SB_JOB_ORDER
          ", tenant_id LIMIT $5 FOR UPDATE OF jobs SKIP LOCKED), leased AS (UPDATE jobs SET "
          "state = 'running', lease_owner = $2, lease_until = $3, attempts = attempts + 1, "
          "updated_at = $1 WHERE (tenant_id, id) IN (SELECT tenant_id, id FROM picked) "
          "AND " SB_JOB_DUE " RETURNING " SB_JOB_FIELDS ") SELECT " SB_JOB_FIELDS
          " FROM leased ORDER BY " SB_JOB_ORDER ", tenant_id",
      params);
}

// SQLite: the read-write transaction holds the database's one writer lock, so nothing can
// change between choosing the candidates, updating them and reading them back.
Result<std::vector<Row>> LeaseSqlite(Transaction& tx, const std::string& owner, Timestamp now,
                                     Timestamp until, int limit, int per_tenant_limit,
                                     const std::vector<std::string>& kinds) {
  SB_ASSIGN_OR_RETURN(const bool any_keyed, AnyKeyedJobDue(tx, now, kinds));
  std::vector<Value> params{ToUnixMicros(now), int64_t{per_tenant_limit}, int64_t{limit}};
  const std::string ranked = RankedDueSql("$2", any_keyed, kinds, params);
  SB_ASSIGN_OR_RETURN(auto candidates, tx.Query("SELECT tenant_id, id FROM (" + ranked +
                                                    ") AS due ORDER BY overflow, " SB_JOB_ORDER
                                                    ", tenant_id LIMIT $3",
                                                params));
  if (candidates.empty()) return std::vector<Row>();
  std::vector<Value> keyed{ToUnixMicros(now), owner, ToUnixMicros(until)};
  std::string in = "(tenant_id, id) IN (VALUES ";
  for (size_t i = 0; i < candidates.size(); ++i) {
    SB_ASSIGN_OR_RETURN(std::string tenant_id, internal::ReadUuid(candidates[i], 0, kJobs));
    SB_ASSIGN_OR_RETURN(std::string id, internal::ReadUuid(candidates[i], 1, kJobs));
    keyed.push_back(std::move(tenant_id));
    keyed.push_back(std::move(id));
    in += (i == 0 ? "($" : ", ($") + std::to_string(keyed.size() - 1) + ", $" +
          std::to_string(keyed.size()) + ")";
  }
  in += ")";
  SB_RETURN_IF_ERROR(tx.Execute("UPDATE jobs SET state = 'running', lease_owner = $2, "
                                "lease_until = $3, attempts = attempts + 1, updated_at = $1 "
                                "WHERE " SB_JOB_DUE " AND " +
                                    in,
                                keyed)
                         .status());
  return tx.Query(SB_JOB_COLUMNS
                      "WHERE state = 'running' AND lease_owner = $2 AND "
                      "lease_until = $3 AND updated_at = $1 AND " +
                      in + " ORDER BY " SB_JOB_ORDER ", tenant_id",
                  keyed);
}

}  // namespace

std::string_view JobStateName(JobState state) { return internal::EnumName(kStateNames, state); }

std::optional<JobState> ParseJobState(std::string_view name) {
  return internal::ParseEnum(kStateNames, name);
}

Result<EnqueueResult> JobRepository::Enqueue(Transaction& tx, const TenantId& tenant,
                                             const JobRecord& job, WhileRunning while_running) {
  SB_RETURN_IF_ERROR(CheckTenantScope(tx, tenant));
  if (job.tenant_id != tenant) return InvalidArgumentError("job tenant_id != tenant");
  SB_RETURN_IF_ERROR(ValidateJob(job));
  if (job.state != JobState::kQueued || job.attempts != 0 || job.run_again) {
    return InvalidArgumentError("a new job is queued with no attempts");
  }
  for (int round = 0; round < kEnqueueRounds; ++round) {
    SB_ASSIGN_OR_RETURN(bool inserted, InsertUnlessLiveDuplicate(tx, job));
    if (inserted) return EnqueueResult{job.id, true};
    SB_ASSIGN_OR_RETURN(std::optional<JobId> live, JoinLiveDuplicate(tx, job, while_running));
    if (live) return EnqueueResult{*live, false};
    // The duplicate finished after the insert saw it (PostgreSQL, another transaction): retry.
  }
  return AbortedError("jobs: live duplicate kept changing; retry the transaction");
}

Result<std::optional<JobRecord>> JobRepository::Get(Transaction& tx, const TenantId& tenant,
                                                    const JobId& id) {
  SB_RETURN_IF_ERROR(CheckTenantScope(tx, tenant));
  SB_RETURN_IF_ERROR(RequireValidId(id));
  SB_ASSIGN_OR_RETURN(auto rows, tx.Query(SB_JOB_COLUMNS "WHERE tenant_id = $1 AND id = $2",
                                          {tenant.value(), id.value()}));
  if (rows.empty()) return std::optional<JobRecord>();
  SB_ASSIGN_OR_RETURN(JobRecord r, ParseJob(rows.front(), tenant));
  return std::optional<JobRecord>(std::move(r));
}

Result<std::vector<JobRecord>> JobRepository::List(Transaction& tx, const TenantId& tenant,
                                                   std::optional<JobState> state,
                                                   std::optional<std::string> kind,
                                                   const std::optional<JobId>& after, int limit) {
  SB_RETURN_IF_ERROR(CheckTenantScope(tx, tenant));
  if (limit < 1 || limit > kMaxListLimit) return InvalidArgumentError("list limit out of range");
  if (state && JobStateName(*state).empty()) return InvalidArgumentError("invalid state");
  if (kind && !IsValidKind(*kind)) return InvalidArgumentError("invalid job kind");
  if (after && !after->valid()) return InvalidArgumentError("invalid list cursor");
  // Only constant column names go into the text; every value is bound.
  std::string sql = SB_JOB_COLUMNS "WHERE tenant_id = $1";
  std::vector<Value> params{tenant.value()};
  auto add = [&](std::string_view condition, Value value) {
    params.push_back(std::move(value));
    sql += " AND " + std::string(condition) + " $" + std::to_string(params.size());
  };
  if (state) add("state =", StateValue(*state));
  if (kind) add("kind =", *std::move(kind));
  if (after) add("id >", after->value());
  params.push_back(int64_t{limit});
  sql += " ORDER BY id LIMIT $" + std::to_string(params.size());
  SB_ASSIGN_OR_RETURN(auto rows, tx.Query(sql, params));
  return ParseAll(rows, [&](const Row& row) { return ParseJob(row, tenant); });
}

Result<bool> JobRepository::Heartbeat(Transaction& tx, const TenantId& tenant, const JobId& id,
                                      const std::string& owner, Timestamp until) {
  SB_RETURN_IF_ERROR(CheckTenantScope(tx, tenant));
  SB_RETURN_IF_ERROR(RequireValidId(id));
  if (!IsValidOwner(owner)) return InvalidArgumentError("invalid lease owner");
  SB_ASSIGN_OR_RETURN(int64_t n,
                      tx.Execute("UPDATE jobs SET lease_until = $4 WHERE tenant_id = "
                                 "$1 AND id = $2 AND state = 'running' AND "
                                 "lease_owner = $3",
                                 {tenant.value(), id.value(), owner, ToUnixMicros(until)}));
  return n == 1;
}

Result<bool> JobRepository::Complete(Transaction& tx, const TenantId& tenant, const JobId& id,
                                     const std::string& owner, Timestamp now) {
  SB_RETURN_IF_ERROR(CheckTenantScope(tx, tenant));
  SB_RETURN_IF_ERROR(RequireValidId(id));
  if (!IsValidOwner(owner)) return InvalidArgumentError("invalid lease owner");
  // One conditional UPDATE: on PostgreSQL it waits for a concurrent leaser's (or Enqueue's
  // run_again) row lock and then re-checks; SQLite serializes writers.
  SB_ASSIGN_OR_RETURN(int64_t n,
                      tx.Execute("UPDATE jobs SET " SB_JOB_FINISH(
                                     "'done'", "$4") " WHERE tenant_id = $1 AND id = $2 "
                                                     "AND state = 'running' AND lease_owner = $3",
                                 {tenant.value(), id.value(), owner, ToUnixMicros(now)}));
  return n == 1;
}

Result<bool> JobRepository::CompleteQueued(Transaction& tx, const TenantId& tenant,
                                           const std::string& kind, const std::string& dedupe_key,
                                           Timestamp now) {
  SB_RETURN_IF_ERROR(CheckTenantScope(tx, tenant));
  if (kind.empty() || dedupe_key.empty() || !IsValidDedupeKey(dedupe_key)) {
    return InvalidArgumentError("invalid kind or dedupe_key");
  }
  // The WHERE repeats jobs_dedupe's predicate word for word, so that SQLite reads the one row
  // through that partial index rather than every queued job of the tenant (jobs_by_state).
  SB_ASSIGN_OR_RETURN(int64_t n,
                      tx.Execute("UPDATE jobs SET state = 'done', finished_at = $4, updated_at = "
                                 "$4 WHERE tenant_id = $1 AND kind = $2 AND dedupe_key = $3 AND "
                                 "dedupe_key <> '' AND state IN ('queued', 'running') AND "
                                 "state = 'queued'",
                                 {tenant.value(), kind, dedupe_key, ToUnixMicros(now)}));
  return n > 0;
}

Result<bool> JobRepository::Fail(Transaction& tx, const TenantId& tenant, const JobId& id,
                                 const std::string& owner, Timestamp now, const std::string& error,
                                 std::optional<Timestamp> retry_at) {
  SB_RETURN_IF_ERROR(CheckTenantScope(tx, tenant));
  SB_RETURN_IF_ERROR(RequireValidId(id));
  if (!IsValidOwner(owner)) return InvalidArgumentError("invalid lease owner");
  SB_ASSIGN_OR_RETURN(std::string stored, StorableError(error, JobRepository::kMaxErrorBytes));
  if (retry_at) {
    SB_ASSIGN_OR_RETURN(
        int64_t n,
        tx.Execute("UPDATE jobs SET state = 'queued', run_at = $5, lease_owner = '', "
                   "lease_until = NULL, last_error = $6, updated_at = $4, run_again = 0 WHERE "
                   "tenant_id = $1 "
                   "AND id = $2 AND state = 'running' AND lease_owner = $3 AND "
                   "attempts < max_attempts",
                   {tenant.value(), id.value(), owner, ToUnixMicros(now), ToUnixMicros(*retry_at),
                    stored}));
    if (n == 1) return true;
  }
  SB_ASSIGN_OR_RETURN(
      int64_t n,
      tx.Execute("UPDATE jobs SET " SB_JOB_FINISH(
                     "'dead'", "$4") ", last_error = $5 "
                                     "WHERE tenant_id = $1 AND id = $2 AND state = 'running' AND "
                                     "lease_owner = $3",
                 {tenant.value(), id.value(), owner, ToUnixMicros(now), stored}));
  return n == 1;
}

Result<bool> JobRepository::Requeue(Transaction& tx, const TenantId& tenant, const JobId& id,
                                    Timestamp now) {
  SB_RETURN_IF_ERROR(CheckTenantScope(tx, tenant));
  SB_RETURN_IF_ERROR(RequireValidId(id));
  SB_ASSIGN_OR_RETURN(int64_t n,
                      tx.Execute("UPDATE jobs SET state = 'queued', attempts = 0, run_at = $3, "
                                 "finished_at = NULL, updated_at = $3 WHERE tenant_id = $1 AND "
                                 "id = $2 AND state IN ('done', 'dead')",
                                 {tenant.value(), id.value(), ToUnixMicros(now)}));
  return n == 1;
}

Result<int64_t> JobRepository::SetConcurrencyLimit(Transaction& tx, const TenantId& tenant,
                                                   const std::string& key, int limit) {
  SB_RETURN_IF_ERROR(CheckTenantScope(tx, tenant));
  if (key.empty() || !IsValidDedupeKey(key)) return InvalidArgumentError("invalid concurrency key");
  if (limit < 1 || limit > kMaxConcurrencyLimit) {
    return InvalidArgumentError("concurrency limit out of range");
  }
  return tx.Execute(
      "UPDATE jobs SET concurrency_limit = $3 WHERE tenant_id = $1 AND "
      "concurrency_key = $2 AND state IN ('queued', 'running') AND "
      "concurrency_limit <> $3",
      {tenant.value(), key, int64_t{limit}});
}

Result<std::vector<JobRecord>> JobRepository::MaintenanceLease(
    Transaction& tx, const std::string& owner, Timestamp now, std::chrono::milliseconds lease,
    int limit, int per_tenant_limit, const std::vector<std::string>& kinds) {
  SB_RETURN_IF_ERROR(RequireUnscoped(tx, "job"));
  SB_RETURN_IF_ERROR(ValidateLeaseRequest(owner, lease, limit, per_tenant_limit, kinds));
  SB_RETURN_IF_ERROR(BuryExhausted(tx, now, kinds));
  const Timestamp until = now + std::chrono::duration_cast<std::chrono::microseconds>(lease);
  auto lease_fn = tx.backend() == Backend::kPostgres ? &LeasePostgres : &LeaseSqlite;
  SB_ASSIGN_OR_RETURN(auto rows, lease_fn(tx, owner, now, until, limit, per_tenant_limit, kinds));
  return ParseAll(rows, &ParseAnyJob);
}

Result<std::map<std::string, int64_t>> JobRepository::MaintenanceCountByState(Transaction& tx) {
  SB_RETURN_IF_ERROR(RequireUnscoped(tx, "job"));
  SB_ASSIGN_OR_RETURN(auto rows, tx.Query("SELECT state, COUNT(*) FROM jobs GROUP BY state"));
  std::map<std::string, int64_t> out;
  for (const auto& [state, name] : kStateNames) out.emplace(name, 0);
  for (const Row& row : rows) {
    SB_ASSIGN_OR_RETURN(std::string state, internal::ReadText(row, 0, kJobs));
    if (!ParseJobState(state) || row.size() < 2) return Corrupt();
    const auto* count = std::get_if<int64_t>(&row.at(1));
    if (count == nullptr) return Corrupt();
    out[state] = *count;
  }
  return out;
}

#undef SB_JOB_FIELDS
#undef SB_JOB_COLUMNS
#undef SB_JOB_DUE
#undef SB_JOB_ORDER
#undef SB_JOB_FINISH

}  // namespace sb::store
