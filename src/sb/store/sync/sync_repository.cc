#include "sb/store/sync/sync_repository.h"

#include <algorithm>
#include <array>
#include <utility>

#include "sb/store/internal/repository_helpers.h"
#include "sb/store/internal/row_reader.h"

namespace sb::store {
namespace {

using internal::RequireConnection;

using internal::ParseAll;
using internal::ParseFirst;

using internal::CheckTenantScope;
using internal::Corrupt;
using internal::OptionalMicros;
using internal::ReadInt;
using internal::ReadOptionalTimestamp;
using internal::ReadTimestamp;
using internal::ReadUuid;

constexpr std::string_view kStates = "sync_states";
constexpr std::string_view kRuns = "sync_runs";
constexpr std::string_view kChanges = "changes";
constexpr size_t kMaxErrorBytes = 1024;
constexpr size_t kMaxPausedReasonBytes = 256;
constexpr size_t kMaxServiceBytes = 32;
constexpr size_t kMaxPhaseBytes = 32;
constexpr size_t kMaxTypeBytes = 64;
constexpr size_t kMaxChangeDataBytes = size_t{256} * 1024;
// Rows per INSERT of AppendChanges (7 parameters each).
constexpr size_t kMaxChangeRowsPerInsert = 32;

constexpr std::array<std::pair<SyncStatus, std::string_view>, 4> kStatusNames = {{
    {SyncStatus::kIdle, "idle"},
    {SyncStatus::kRunning, "running"},
    {SyncStatus::kFailed, "failed"},
    {SyncStatus::kPaused, "paused"},
}};

constexpr std::array<std::pair<SyncTrigger, std::string_view>, 5> kTriggerNames = {{
    {SyncTrigger::kInitial, "initial"},
    {SyncTrigger::kPush, "push"},
    {SyncTrigger::kSchedule, "schedule"},
    {SyncTrigger::kManual, "manual"},
    {SyncTrigger::kResync, "resync"},
}};

constexpr std::array<std::pair<SyncRunOutcome, std::string_view>, 5> kOutcomeNames = {{
    {SyncRunOutcome::kQueued, "queued"},
    {SyncRunOutcome::kRunning, "running"},
    {SyncRunOutcome::kSucceeded, "succeeded"},
    {SyncRunOutcome::kFailed, "failed"},
    {SyncRunOutcome::kCancelled, "cancelled"},
}};

// ---- Field rules ----

// min..max bytes of [a-z_] plus the characters in `extra`.
bool IsWord(std::string_view s, size_t min, size_t max, std::string_view extra = "") {
  return s.size() >= min && s.size() <= max && std::all_of(s.begin(), s.end(), [&](char c) {
           return (c >= 'a' && c <= 'z') || c == '_' || extra.find(c) != std::string_view::npos;
         });
}

bool IsService(std::string_view s) { return IsWord(s, 1, kMaxServiceBytes); }
bool IsChangeType(std::string_view s) { return IsWord(s, 1, kMaxTypeBytes, "."); }

bool IsStorableMessage(std::string_view s) {
  return s.size() <= kMaxErrorBytes && internal::IsStorableError(s);
}

Status CheckLimit(int limit) {
  if (limit < 1 || limit > SyncRepository::kMaxListLimit) {
    return InvalidArgumentError("list limit out of range");
  }
  return OkStatus();
}

Status CheckConnection(const ConnectionId& connection, std::string_view service) {
  if (!connection.valid()) return InvalidArgumentError("invalid connection id");
  if (!IsService(service)) return InvalidArgumentError("invalid service: [a-z_]{1,32}");
  return OkStatus();
}

// Everything but the cursor, which SerializeObject checks on write and ReadObject on read.
Status ValidateState(const SyncStateRecord& r) {
  if (!r.tenant_id.valid()) return InvalidArgumentError("invalid tenant id");
  SB_RETURN_IF_ERROR(CheckConnection(r.connection_id, r.service));
  if (SyncStatusName(r.status).empty()) return InvalidArgumentError("invalid sync status");
  if (!IsStorableMessage(r.last_error)) {
    return InvalidArgumentError("the error must be UTF-8 text of at most 1024 bytes");
  }
  if (!internal::IsCleanText(r.paused_reason, 0, kMaxPausedReasonBytes)) {
    return InvalidArgumentError("invalid paused reason");
  }
  if (r.items_created < 0 || r.items_updated < 0 || r.items_deleted < 0) {
    return InvalidArgumentError("negative item count");
  }
  if (r.last_run_id && !r.last_run_id->valid()) return InvalidArgumentError("invalid run id");
  return OkStatus();
}

// Everything but the checkpoint (see ValidateState).
Status ValidateRun(const SyncRunRecord& r) {
  if (!r.tenant_id.valid() || !r.id.valid()) return InvalidArgumentError("invalid id");
  SB_RETURN_IF_ERROR(CheckConnection(r.connection_id, r.service));
  if (SyncTriggerName(r.trigger).empty()) return InvalidArgumentError("invalid sync trigger");
  if (SyncRunOutcomeName(r.outcome).empty()) return InvalidArgumentError("invalid run outcome");
  if (!IsWord(r.phase, 0, kMaxPhaseBytes)) return InvalidArgumentError("invalid phase");
  if (r.pages < 0 || r.items_created < 0 || r.items_updated < 0 || r.items_deleted < 0) {
    return InvalidArgumentError("negative run count");
  }
  if (!IsStorableMessage(r.error)) {
    return InvalidArgumentError("the error must be UTF-8 text of at most 1024 bytes");
  }
  return OkStatus();
}

// Everything but the data (see ValidateState).
Status ValidateChange(const ChangeRecord& r) {
  if (!r.tenant_id.valid()) return InvalidArgumentError("invalid tenant id");
  if (!IsChangeType(r.type)) return InvalidArgumentError("invalid change type: [a-z_.]{1,64}");
  if (!IsCanonicalUuid(r.resource_id)) return InvalidArgumentError("invalid resource id");
  if (r.connection_id && !r.connection_id->valid()) {
    return InvalidArgumentError("invalid connection id");
  }
  return OkStatus();
}

Value OptionalId(const std::optional<std::string>& id) {
  return id ? Value(*id) : Value(std::monostate());
}

// ---- Decoding: anything unexpected is DATA_LOSS ----

template <typename Enum, size_t N>
Result<Enum> ReadEnum(const Row& row, size_t i, std::string_view table,
                      const std::array<std::pair<Enum, std::string_view>, N>& names) {
  SB_ASSIGN_OR_RETURN(std::string name, internal::ReadText(row, i, table));
  std::optional<Enum> e = internal::ParseEnum(names, name);
  if (!e) return Corrupt(table);
  return *e;
}

Result<std::optional<std::string>> ReadOptionalUuid(const Row& row, size_t i,
                                                    std::string_view table) {
  if (i < row.size() && row.IsNull(i)) return std::optional<std::string>();
  SB_ASSIGN_OR_RETURN(std::string id, ReadUuid(row, i, table));
  return std::optional<std::string>(std::move(id));
}

#define SB_STATE_COLUMNS                                                                  \
  "tenant_id, connection_id, service, status, cursor, last_success_at, last_error_at, "   \
  "last_error, paused_reason, items_created, items_updated, items_deleted, last_run_id, " \
  "next_run_at, created_at, updated_at"

Result<SyncStateRecord> ParseState(const Row& row, const TenantId& tenant) {
  SyncStateRecord r;
  SB_RETURN_IF_ERROR(internal::ReadTenant(row, tenant, kStates));
  r.tenant_id = tenant;
  SB_ASSIGN_OR_RETURN(std::string connection, ReadUuid(row, 1, kStates));
  r.connection_id = ConnectionId(std::move(connection));
  SB_ASSIGN_OR_RETURN(r.service, internal::ReadText(row, 2, kStates));
  SB_ASSIGN_OR_RETURN(r.status, ReadEnum(row, 3, kStates, kStatusNames));
  SB_ASSIGN_OR_RETURN(r.cursor,
                      internal::ReadObject(row, 4, SyncRepository::kMaxCursorBytes, kStates));
  SB_ASSIGN_OR_RETURN(r.last_success_at, ReadOptionalTimestamp(row, 5, kStates));
  SB_ASSIGN_OR_RETURN(r.last_error_at, ReadOptionalTimestamp(row, 6, kStates));
  SB_ASSIGN_OR_RETURN(r.last_error, internal::ReadText(row, 7, kStates));
  SB_ASSIGN_OR_RETURN(r.paused_reason, internal::ReadText(row, 8, kStates));
  SB_ASSIGN_OR_RETURN(r.items_created, ReadInt(row, 9, kStates));
  SB_ASSIGN_OR_RETURN(r.items_updated, ReadInt(row, 10, kStates));
  SB_ASSIGN_OR_RETURN(r.items_deleted, ReadInt(row, 11, kStates));
  SB_ASSIGN_OR_RETURN(auto last_run, ReadOptionalUuid(row, 12, kStates));
  if (last_run) r.last_run_id = SyncRunId(std::move(*last_run));
  SB_ASSIGN_OR_RETURN(r.next_run_at, ReadOptionalTimestamp(row, 13, kStates));
  SB_ASSIGN_OR_RETURN(r.created_at, ReadTimestamp(row, 14, kStates));
  SB_ASSIGN_OR_RETURN(r.updated_at, ReadTimestamp(row, 15, kStates));
  if (!ValidateState(r).ok()) return Corrupt(kStates);
  return r;
}

#define SB_RUN_COLUMNS                                                                  \
  "tenant_id, id, connection_id, service, triggered_by, outcome, phase, full_sync, "    \
  "checkpoint, pages, items_created, items_updated, items_deleted, error, created_at, " \
  "started_at, finished_at, updated_at"

// Columns 0..5: identity, trigger and outcome.
Status ParseRunIdentity(const Row& row, const TenantId& tenant, SyncRunRecord& r) {
  SB_RETURN_IF_ERROR(internal::ReadTenant(row, tenant, kRuns));
  r.tenant_id = tenant;
  SB_ASSIGN_OR_RETURN(std::string id, ReadUuid(row, 1, kRuns));
  r.id = SyncRunId(std::move(id));
  SB_ASSIGN_OR_RETURN(std::string connection, ReadUuid(row, 2, kRuns));
  r.connection_id = ConnectionId(std::move(connection));
  SB_ASSIGN_OR_RETURN(r.service, internal::ReadText(row, 3, kRuns));
  SB_ASSIGN_OR_RETURN(r.trigger, ReadEnum(row, 4, kRuns, kTriggerNames));
  SB_ASSIGN_OR_RETURN(r.outcome, ReadEnum(row, 5, kRuns, kOutcomeNames));
  return OkStatus();
}

// Columns 6..17: progress and times.
Status ParseRunProgress(const Row& row, SyncRunRecord& r) {
  SB_ASSIGN_OR_RETURN(r.phase, internal::ReadText(row, 6, kRuns));
  SB_ASSIGN_OR_RETURN(int64_t full, ReadInt(row, 7, kRuns));
  if (full != 0 && full != 1) return Corrupt(kRuns);
  r.full = full == 1;
  SB_ASSIGN_OR_RETURN(r.checkpoint,
                      internal::ReadObject(row, 8, SyncRepository::kMaxCursorBytes, kRuns));
  SB_ASSIGN_OR_RETURN(r.pages, ReadInt(row, 9, kRuns));
  SB_ASSIGN_OR_RETURN(r.items_created, ReadInt(row, 10, kRuns));
  SB_ASSIGN_OR_RETURN(r.items_updated, ReadInt(row, 11, kRuns));
  SB_ASSIGN_OR_RETURN(r.items_deleted, ReadInt(row, 12, kRuns));
  SB_ASSIGN_OR_RETURN(r.error, internal::ReadText(row, 13, kRuns));
  SB_ASSIGN_OR_RETURN(r.created_at, ReadTimestamp(row, 14, kRuns));
  SB_ASSIGN_OR_RETURN(r.started_at, ReadOptionalTimestamp(row, 15, kRuns));
  SB_ASSIGN_OR_RETURN(r.finished_at, ReadOptionalTimestamp(row, 16, kRuns));
  SB_ASSIGN_OR_RETURN(r.updated_at, ReadTimestamp(row, 17, kRuns));
  return OkStatus();
}

Result<SyncRunRecord> ParseRun(const Row& row, const TenantId& tenant) {
  SyncRunRecord r;
  SB_RETURN_IF_ERROR(ParseRunIdentity(row, tenant, r));
  SB_RETURN_IF_ERROR(ParseRunProgress(row, r));
  if (!ValidateRun(r).ok()) return Corrupt(kRuns);
  return r;
}

#define SB_CHANGE_COLUMNS "tenant_id, seq, type, resource_id, connection_id, data, created_at"

Result<ChangeRecord> ParseChange(const Row& row, const TenantId& tenant) {
  ChangeRecord r;
  SB_RETURN_IF_ERROR(internal::ReadTenant(row, tenant, kChanges));
  r.tenant_id = tenant;
  SB_ASSIGN_OR_RETURN(r.seq, ReadInt(row, 1, kChanges));
  SB_ASSIGN_OR_RETURN(r.type, internal::ReadText(row, 2, kChanges));
  SB_ASSIGN_OR_RETURN(r.resource_id, ReadUuid(row, 3, kChanges));
  SB_ASSIGN_OR_RETURN(auto connection, ReadOptionalUuid(row, 4, kChanges));
  if (connection) r.connection_id = ConnectionId(std::move(*connection));
  SB_ASSIGN_OR_RETURN(r.data, internal::ReadObject(row, 5, kMaxChangeDataBytes, kChanges));
  SB_ASSIGN_OR_RETURN(r.created_at, ReadTimestamp(row, 6, kChanges));
  if (r.seq < 1 || !ValidateChange(r).ok()) return Corrupt(kChanges);
  return r;
}

}  // namespace

std::string_view SyncStatusName(SyncStatus status) {
  return internal::EnumName(kStatusNames, status);
}
std::optional<SyncStatus> ParseSyncStatus(std::string_view name) {
  return internal::ParseEnum(kStatusNames, name);
}

std::string_view SyncTriggerName(SyncTrigger trigger) {
  return internal::EnumName(kTriggerNames, trigger);
}
std::optional<SyncTrigger> ParseSyncTrigger(std::string_view name) {
  return internal::ParseEnum(kTriggerNames, name);
}

std::string_view SyncRunOutcomeName(SyncRunOutcome outcome) {
  return internal::EnumName(kOutcomeNames, outcome);
}
std::optional<SyncRunOutcome> ParseSyncRunOutcome(std::string_view name) {
  return internal::ParseEnum(kOutcomeNames, name);
}

// ---- States ----

Result<std::optional<SyncStateRecord>> SyncRepository::GetState(Transaction& tx,
                                                                const TenantId& tenant,
                                                                const ConnectionId& connection,
                                                                std::string_view service) {
  SB_RETURN_IF_ERROR(CheckTenantScope(tx, tenant));
  SB_RETURN_IF_ERROR(CheckConnection(connection, service));
  SB_ASSIGN_OR_RETURN(
      auto rows, tx.Query("SELECT " SB_STATE_COLUMNS " FROM sync_states WHERE tenant_id = $1 AND "
                          "connection_id = $2 AND service = $3",
                          {tenant.value(), connection.value(), std::string(service)}));
  return ParseFirst(rows, tenant, &ParseState);
}

Status SyncRepository::PutState(Transaction& tx, const TenantId& tenant, const SyncStateRecord& r) {
  SB_RETURN_IF_ERROR(CheckTenantScope(tx, tenant));
  if (r.tenant_id != tenant) return InvalidArgumentError("sync state tenant_id != tenant");
  SB_RETURN_IF_ERROR(ValidateState(r));
  SB_ASSIGN_OR_RETURN(std::string cursor,
                      internal::SerializeObject(r.cursor, kMaxCursorBytes, "sync cursor"));
  SB_RETURN_IF_ERROR(RequireConnection(tx, tenant, r.connection_id));
  std::optional<std::string> last_run;
  if (r.last_run_id) last_run = r.last_run_id->value();
  return tx
      .Execute(
          "INSERT INTO sync_states (" SB_STATE_COLUMNS
          ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16) "
          "ON CONFLICT (tenant_id, connection_id, service) DO UPDATE SET "
          "status = excluded.status, cursor = excluded.cursor, "
          "last_success_at = excluded.last_success_at, "
          "last_error_at = excluded.last_error_at, last_error = excluded.last_error, "
          "paused_reason = excluded.paused_reason, items_created = excluded.items_created, "
          "items_updated = excluded.items_updated, items_deleted = excluded.items_deleted, "
          "last_run_id = excluded.last_run_id, next_run_at = excluded.next_run_at, "
          "created_at = excluded.created_at, updated_at = excluded.updated_at",
          {tenant.value(), r.connection_id.value(), r.service,
           std::string(SyncStatusName(r.status)), std::move(cursor),
           OptionalMicros(r.last_success_at), OptionalMicros(r.last_error_at), r.last_error,
           r.paused_reason, r.items_created, r.items_updated, r.items_deleted, OptionalId(last_run),
           OptionalMicros(r.next_run_at), ToUnixMicros(r.created_at), ToUnixMicros(r.updated_at)})
      .status();
}

Result<std::vector<SyncStateRecord>> SyncRepository::ListStates(Transaction& tx,
                                                                const TenantId& tenant,
                                                                const ConnectionId& connection) {
  SB_RETURN_IF_ERROR(CheckTenantScope(tx, tenant));
  if (!connection.valid()) return InvalidArgumentError("invalid connection id");
  SB_ASSIGN_OR_RETURN(
      auto rows, tx.Query("SELECT " SB_STATE_COLUMNS " FROM sync_states WHERE tenant_id = $1 AND "
                          "connection_id = $2 ORDER BY service",
                          {tenant.value(), connection.value()}));
  return ParseAll(rows, tenant, &ParseState);
}

Result<std::vector<std::pair<TenantId, std::pair<ConnectionId, std::string>>>>
SyncRepository::MaintenanceListDue(Transaction& tx, Timestamp due, int limit) {
  SB_RETURN_IF_ERROR(internal::RequireUnscoped(tx, "sync state"));
  SB_RETURN_IF_ERROR(CheckLimit(limit));
  // The conditions repeat sync_states_due's predicate, so that both backends use that index.
  SB_ASSIGN_OR_RETURN(
      auto rows,
      tx.Query("SELECT tenant_id, connection_id, service FROM sync_states "
               "WHERE next_run_at IS NOT NULL AND status <> 'paused' AND next_run_at <= $1 "
               "ORDER BY next_run_at, tenant_id, connection_id, service LIMIT $2",
               {ToUnixMicros(due), int64_t{limit}}));
  std::vector<std::pair<TenantId, std::pair<ConnectionId, std::string>>> out;
  out.reserve(rows.size());
  for (const Row& row : rows) {
    SB_ASSIGN_OR_RETURN(std::string tenant_id, ReadUuid(row, 0, kStates));
    SB_ASSIGN_OR_RETURN(std::string id, ReadUuid(row, 1, kStates));
    SB_ASSIGN_OR_RETURN(std::string service, internal::ReadText(row, 2, kStates));
    if (!IsService(service)) return Corrupt(kStates);
    out.emplace_back(TenantId(std::move(tenant_id)),
                     std::make_pair(ConnectionId(std::move(id)), std::move(service)));
  }
  return out;
}

// ---- Runs ----

Status SyncRepository::InsertRun(Transaction& tx, const TenantId& tenant, const SyncRunRecord& r) {
  SB_RETURN_IF_ERROR(CheckTenantScope(tx, tenant));
  if (r.tenant_id != tenant) return InvalidArgumentError("sync run tenant_id != tenant");
  SB_RETURN_IF_ERROR(ValidateRun(r));
  SB_ASSIGN_OR_RETURN(std::string checkpoint,
                      internal::SerializeObject(r.checkpoint, kMaxCursorBytes, "checkpoint"));
  SB_RETURN_IF_ERROR(RequireConnection(tx, tenant, r.connection_id));
  // A duplicate id, or a second open run of the service (sync_runs_open), is ALREADY_EXISTS.
  return tx
      .Execute(
          "INSERT INTO sync_runs (" SB_RUN_COLUMNS
          ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, "
          "$17, $18)",
          {tenant.value(), r.id.value(), r.connection_id.value(), r.service,
           std::string(SyncTriggerName(r.trigger)), std::string(SyncRunOutcomeName(r.outcome)),
           r.phase, int64_t{r.full ? 1 : 0}, std::move(checkpoint), r.pages, r.items_created,
           r.items_updated, r.items_deleted, r.error, ToUnixMicros(r.created_at),
           OptionalMicros(r.started_at), OptionalMicros(r.finished_at), ToUnixMicros(r.updated_at)})
      .status();
}

Status SyncRepository::UpdateRun(Transaction& tx, const TenantId& tenant, const SyncRunRecord& r) {
  SB_RETURN_IF_ERROR(CheckTenantScope(tx, tenant));
  if (r.tenant_id != tenant) return InvalidArgumentError("sync run tenant_id != tenant");
  SB_RETURN_IF_ERROR(ValidateRun(r));
  SB_ASSIGN_OR_RETURN(std::string checkpoint,
                      internal::SerializeObject(r.checkpoint, kMaxCursorBytes, "checkpoint"));
  SB_ASSIGN_OR_RETURN(
      int64_t n,
      tx.Execute("UPDATE sync_runs SET outcome = $3, phase = $4, full_sync = $5, checkpoint = $6, "
                 "pages = $7, items_created = $8, items_updated = $9, items_deleted = $10, "
                 "error = $11, started_at = $12, finished_at = $13, updated_at = $14 "
                 "WHERE tenant_id = $1 AND id = $2",
                 {tenant.value(), r.id.value(), std::string(SyncRunOutcomeName(r.outcome)), r.phase,
                  int64_t{r.full ? 1 : 0}, std::move(checkpoint), r.pages, r.items_created,
                  r.items_updated, r.items_deleted, r.error, OptionalMicros(r.started_at),
                  OptionalMicros(r.finished_at), ToUnixMicros(r.updated_at)}));
  if (n == 0) return NotFoundError("sync run not found");
  return OkStatus();
}

Result<std::optional<SyncRunRecord>> SyncRepository::GetRun(Transaction& tx, const TenantId& tenant,
                                                            const SyncRunId& id) {
  SB_RETURN_IF_ERROR(CheckTenantScope(tx, tenant));
  if (!id.valid()) return InvalidArgumentError("invalid run id");
  SB_ASSIGN_OR_RETURN(auto rows, tx.Query("SELECT " SB_RUN_COLUMNS
                                          " FROM sync_runs WHERE tenant_id = $1 AND id = $2",
                                          {tenant.value(), id.value()}));
  return ParseFirst(rows, tenant, &ParseRun);
}

Result<std::vector<SyncRunRecord>> SyncRepository::ListRunsUpdatedSince(Transaction& tx,
                                                                        const TenantId& tenant,
                                                                        const UpdatedCursor& after,
                                                                        int limit) {
  SB_ASSIGN_OR_RETURN(auto rows, internal::QueryUpdatedSince(
                                     tx, tenant, "SELECT " SB_RUN_COLUMNS " FROM sync_runs ", "id",
                                     after, limit, kMaxListLimit));
  return ParseAll(rows, tenant, &ParseRun);
}

Result<std::vector<SyncRunRecord>> SyncRepository::ListRuns(Transaction& tx, const TenantId& tenant,
                                                            const ConnectionId& connection,
                                                            const std::optional<SyncRunId>& before,
                                                            int limit) {
  SB_RETURN_IF_ERROR(CheckTenantScope(tx, tenant));
  if (!connection.valid()) return InvalidArgumentError("invalid connection id");
  if (before && !before->valid()) return InvalidArgumentError("invalid list cursor");
  SB_RETURN_IF_ERROR(CheckLimit(limit));
  // Run ids are UUIDv7, so descending id order is newest first (sync_runs_by_connection).
  std::string sql =
      "SELECT " SB_RUN_COLUMNS " FROM sync_runs WHERE tenant_id = $1 AND connection_id = $2";
  std::vector<Value> params{tenant.value(), connection.value()};
  if (before) {
    params.push_back(before->value());
    sql += " AND id < $3";
  }
  params.push_back(int64_t{limit});
  sql += " ORDER BY id DESC LIMIT $";
  sql += std::to_string(params.size());
  SB_ASSIGN_OR_RETURN(auto rows, tx.Query(sql, params));
  return ParseAll(rows, tenant, &ParseRun);
}

Result<std::optional<SyncRunRecord>> SyncRepository::FindOpenRun(Transaction& tx,
                                                                 const TenantId& tenant,
                                                                 const ConnectionId& connection,
                                                                 std::string_view service) {
  SB_RETURN_IF_ERROR(CheckTenantScope(tx, tenant));
  SB_RETURN_IF_ERROR(CheckConnection(connection, service));
  SB_ASSIGN_OR_RETURN(auto rows,
                      tx.Query("SELECT " SB_RUN_COLUMNS
                               " FROM sync_runs WHERE tenant_id = $1 AND connection_id = $2 AND "
                               "service = $3 AND outcome IN ('queued', 'running')",
                               {tenant.value(), connection.value(), std::string(service)}));
  return ParseFirst(rows, tenant, &ParseRun);
}

// ---- Changes ----

Result<int64_t> SyncRepository::AppendChange(Transaction& tx, const TenantId& tenant,
                                             ChangeRecord record) {
  SB_RETURN_IF_ERROR(AppendChanges(tx, tenant, std::span<ChangeRecord>(&record, 1)));
  return record.seq;
}

Status SyncRepository::AppendChanges(Transaction& tx, const TenantId& tenant,
                                     std::span<ChangeRecord> records) {
  SB_RETURN_IF_ERROR(CheckTenantScope(tx, tenant));
  if (records.empty()) return OkStatus();
  std::vector<std::string> data;
  data.reserve(records.size());
  for (ChangeRecord& record : records) {
    record.tenant_id = tenant;
    SB_RETURN_IF_ERROR(ValidateChange(record));
    SB_ASSIGN_OR_RETURN(data.emplace_back(),
                        internal::SerializeObject(record.data, kMaxChangeDataBytes, "change data"));
  }
  // The counter row: its update holds the row lock until commit, so a tenant's appenders take
  // seqs one after the other and a reader that saw seq n has seen every committed one below.
  const auto n = static_cast<int64_t>(records.size());
  SB_ASSIGN_OR_RETURN(auto rows,
                      tx.Query("INSERT INTO change_sequences (tenant_id, last_seq) VALUES ($1, $2) "
                               "ON CONFLICT (tenant_id) DO UPDATE SET "
                               "last_seq = change_sequences.last_seq + $2 RETURNING last_seq",
                               {tenant.value(), n}));
  if (rows.size() != 1) return InternalError("change counter returned no row");
  SB_ASSIGN_OR_RETURN(int64_t last, ReadInt(rows.front(), 0, "change_sequences"));
  if (last < n) return Corrupt("change_sequences");
  for (int64_t i = 0; i < n; ++i) records[static_cast<size_t>(i)].seq = last - n + 1 + i;
  constexpr size_t kColumns = 7;
  for (size_t done = 0; done < records.size();) {
    const size_t batch = internal::NextBatch(records.size() - done, kMaxChangeRowsPerInsert);
    std::vector<Value> params;
    params.reserve(batch * kColumns);
    for (size_t i = done; i < done + batch; ++i) {
      const ChangeRecord& r = records[i];
      params.emplace_back(tenant.value());
      params.emplace_back(r.seq);
      params.emplace_back(r.type);
      params.emplace_back(r.resource_id);
      params.push_back(r.connection_id ? Value(r.connection_id->value()) : Value(std::monostate()));
      params.emplace_back(std::move(data[i]));
      params.emplace_back(ToUnixMicros(r.created_at));
    }
    SB_RETURN_IF_ERROR(tx.Execute("INSERT INTO changes (" SB_CHANGE_COLUMNS ") VALUES " +
                                      internal::ValuesPlaceholders(batch, kColumns),
                                  params)
                           .status());
    done += batch;
  }
  return OkStatus();
}

Result<std::vector<ChangeRecord>> SyncRepository::ListChanges(Transaction& tx,
                                                              const TenantId& tenant,
                                                              const ChangeFilter& filter) {
  SB_RETURN_IF_ERROR(CheckTenantScope(tx, tenant));
  if (filter.cursor.value_or(0) < 0) return InvalidArgumentError("negative change cursor");
  const bool newest_first = filter.order == ChangeOrder::kNewestFirst;
  SB_RETURN_IF_ERROR(CheckLimit(filter.limit));
  if (filter.types.size() > kMaxChangeTypes) return InvalidArgumentError("too many change types");
  if (filter.connection && !filter.connection->valid()) {
    return InvalidArgumentError("invalid connection id");
  }
  // Only placeholders go into the text; every value is bound. SQLite, without statistics, reads
  // one connection's changes through the primary key's tenant prefix (every change of the tenant
  // after the cursor) rather than through changes_by_connection; it is told.
  std::string sql = "SELECT " SB_CHANGE_COLUMNS " FROM changes";
  if (filter.connection && tx.backend() == Backend::kSqlite) {
    sql += " INDEXED BY changes_by_connection";
  }
  sql += " WHERE tenant_id = $1";
  std::vector<Value> params{tenant.value()};
  auto placeholder = [&] {  // of the value bound last
    sql += '$';
    sql += std::to_string(params.size());
  };
  if (filter.cursor) {
    params.push_back(*filter.cursor);
    sql += newest_first ? " AND seq < " : " AND seq > ";
    placeholder();
  }
  if (filter.connection) {
    params.push_back(filter.connection->value());
    sql += " AND connection_id = ";
    placeholder();
  }
  for (size_t i = 0; i < filter.types.size(); ++i) {
    if (!IsChangeType(filter.types[i])) return InvalidArgumentError("invalid change type");
    params.push_back(filter.types[i]);
    sql += i == 0 ? " AND type IN (" : ", ";
    placeholder();
  }
  if (!filter.types.empty()) sql += ")";
  params.push_back(int64_t{filter.limit});
  sql += newest_first ? " ORDER BY seq DESC LIMIT " : " ORDER BY seq LIMIT ";
  placeholder();
  SB_ASSIGN_OR_RETURN(auto rows, tx.Query(sql, params));
  return ParseAll(rows, tenant, &ParseChange);
}

#undef SB_STATE_COLUMNS
#undef SB_RUN_COLUMNS
#undef SB_CHANGE_COLUMNS

}  // namespace sb::store
