#include "sb/store/audit/audit_repository.h"

#include <algorithm>

#include "sb/store/internal/repository_helpers.h"
#include "sb/store/internal/row_reader.h"

namespace sb::store {
namespace {

using internal::IsHexSha256;

using internal::CheckTenantScope;

constexpr std::string_view kEntries = "audit_entries";
constexpr std::string_view kHeads = "audit_heads";
constexpr std::string_view kCheckpoints = "audit_checkpoints";

#define SB_AUDIT_ENTRY_COLUMNS                                                              \
  "SELECT tenant_id, seq, id, occurred_at, actor_kind, actor_id, action, target, outcome, " \
  "request_id, details, leaf_hash, chain_hash FROM audit_entries "
#define SB_AUDIT_CHECKPOINT_COLUMNS                                                              \
  "SELECT tenant_id, seq, chain_hash, created_at, prev_checkpoint_hash, key_id, signature FROM " \
  "audit_checkpoints "

constexpr size_t kBodyFirst = 2;  // columns 2..10 of SB_AUDIT_ENTRY_COLUMNS are the body
constexpr size_t kBodyLast = 10;

Status Corrupt(std::string_view table, std::string_view what) {
  return DataLossError("corrupt row in " + std::string(table) + ": " + std::string(what));
}

Result<int64_t> ReadInt(const Row& row, size_t i, std::string_view table) {
  if (i >= row.size()) return Corrupt(table, "missing column");
  const auto* v = std::get_if<int64_t>(&row.at(i));
  if (v == nullptr) return Corrupt(table, "column " + std::to_string(i) + " is not an integer");
  return *v;
}

Result<std::string> ReadHash(const Row& row, size_t i, std::string_view table) {
  SB_ASSIGN_OR_RETURN(std::string hash, internal::ReadText(row, i, table));
  if (!IsHexSha256(hash)) return Corrupt(table, "column " + std::to_string(i) + " is not a hash");
  return hash;
}

Result<TenantId> ReadTenant(const Row& row, const std::optional<TenantId>& expected,
                            std::string_view table) {
  SB_ASSIGN_OR_RETURN(std::string tenant_id, internal::ReadUuid(row, 0, table));
  if (expected && tenant_id != expected->value()) {
    return InternalError(std::string(table) + ": row of another tenant");
  }
  return TenantId(std::move(tenant_id));
}

Result<std::optional<AuditEntryBody>> ParseBody(const Row& row) {
  size_t nulls = 0;
  for (size_t i = kBodyFirst; i <= kBodyLast && i < row.size(); ++i) nulls += row.IsNull(i);
  if (nulls == kBodyLast - kBodyFirst + 1) return std::optional<AuditEntryBody>();
  if (nulls != 0) return Corrupt(kEntries, "partly erased body");
  AuditEntryBody b;
  SB_ASSIGN_OR_RETURN(b.id, internal::ReadUuid(row, 2, kEntries));
  SB_ASSIGN_OR_RETURN(b.occurred_at, internal::ReadTimestamp(row, 3, kEntries));
  SB_ASSIGN_OR_RETURN(b.actor_kind, internal::ReadText(row, 4, kEntries));
  SB_ASSIGN_OR_RETURN(b.actor_id, internal::ReadText(row, 5, kEntries));
  SB_ASSIGN_OR_RETURN(b.action, internal::ReadText(row, 6, kEntries));
  SB_ASSIGN_OR_RETURN(b.target, internal::ReadText(row, 7, kEntries));
  SB_ASSIGN_OR_RETURN(b.outcome, internal::ReadText(row, 8, kEntries));
  SB_ASSIGN_OR_RETURN(b.request_id, internal::ReadText(row, 9, kEntries));
  SB_ASSIGN_OR_RETURN(b.details, internal::ReadText(row, 10, kEntries));
  return std::optional<AuditEntryBody>(std::move(b));
}

Result<AuditEntryRecord> ParseEntry(const Row& row, const TenantId& tenant) {
  AuditEntryRecord r;
  SB_ASSIGN_OR_RETURN(r.tenant_id, ReadTenant(row, tenant, kEntries));
  SB_ASSIGN_OR_RETURN(r.seq, ReadInt(row, 1, kEntries));
  SB_ASSIGN_OR_RETURN(r.body, ParseBody(row));
  SB_ASSIGN_OR_RETURN(r.leaf_hash, ReadHash(row, 11, kEntries));
  SB_ASSIGN_OR_RETURN(r.chain_hash, ReadHash(row, 12, kEntries));
  return r;
}

Result<AuditHeadRecord> ParseHead(const Row& row, const TenantId& tenant) {
  AuditHeadRecord h;
  SB_ASSIGN_OR_RETURN(h.tenant_id, ReadTenant(row, tenant, kHeads));
  SB_ASSIGN_OR_RETURN(h.seq, ReadInt(row, 1, kHeads));
  SB_ASSIGN_OR_RETURN(h.chain_hash, ReadHash(row, 2, kHeads));
  SB_ASSIGN_OR_RETURN(h.last_checkpoint_hash, ReadHash(row, 3, kHeads));
  if (h.seq < 0) return Corrupt(kHeads, "negative seq");
  return h;
}

Result<AuditCheckpointRecord> ParseCheckpoint(const Row& row, const TenantId& tenant) {
  AuditCheckpointRecord c;
  SB_ASSIGN_OR_RETURN(c.tenant_id, ReadTenant(row, tenant, kCheckpoints));
  SB_ASSIGN_OR_RETURN(c.seq, ReadInt(row, 1, kCheckpoints));
  SB_ASSIGN_OR_RETURN(c.chain_hash, ReadHash(row, 2, kCheckpoints));
  SB_ASSIGN_OR_RETURN(c.created_at, internal::ReadTimestamp(row, 3, kCheckpoints));
  SB_ASSIGN_OR_RETURN(c.prev_checkpoint_hash, ReadHash(row, 4, kCheckpoints));
  SB_ASSIGN_OR_RETURN(c.key_id, internal::ReadText(row, 5, kCheckpoints));
  SB_ASSIGN_OR_RETURN(c.signature, internal::ReadText(row, 6, kCheckpoints));
  return c;
}

template <typename T, typename Parse>
Result<std::vector<T>> ParseAll(const std::vector<Row>& rows, const TenantId& tenant, Parse parse) {
  std::vector<T> out;
  out.reserve(rows.size());
  for (const Row& row : rows) {
    SB_ASSIGN_OR_RETURN(T r, parse(row, tenant));
    out.push_back(std::move(r));
  }
  return out;
}

Status ValidateEntry(const TenantId& tenant, const AuditEntryRecord& r) {
  if (r.tenant_id != tenant) return InvalidArgumentError("audit entry tenant_id != tenant");
  if (r.seq < 1) return InvalidArgumentError("audit entry seq must be >= 1");
  if (!r.body) return InvalidArgumentError("audit entry without a body");
  if (!IsCanonicalUuid(r.body->id)) return InvalidArgumentError("invalid audit entry id");
  if (!IsHexSha256(r.leaf_hash) || !IsHexSha256(r.chain_hash)) {
    return InvalidArgumentError("audit entry hashes must be hex SHA-256");
  }
  return OkStatus();
}

// Appends `AND <column> <op> $n` to `sql` for a set filter field.
void AddFilter(std::string& sql, std::vector<Value>& params, std::string_view clause, Value value) {
  params.push_back(std::move(value));
  sql += " AND ";
  sql += clause;
  sql += " $" + std::to_string(params.size());
}

// " AND column = $n", or with `hint` SQLite's " AND likelihood(column = $n, 0.001)" (the same
// condition, marked as one that few rows meet).
void AddSelectiveFilter(std::string& sql, std::vector<Value>& params, std::string_view column,
                        Value value, bool hint) {
  params.push_back(std::move(value));
  const std::string condition = std::string(column) + " = $" + std::to_string(params.size());
  sql += hint ? " AND likelihood(" + condition + ", 0.001)" : " AND " + condition;
}

}  // namespace

Status AuditRepository::InsertEntry(Transaction& tx, const TenantId& tenant,
                                    const AuditEntryRecord& r) {
  SB_RETURN_IF_ERROR(CheckTenantScope(tx, tenant));
  SB_RETURN_IF_ERROR(ValidateEntry(tenant, r));
  const AuditEntryBody& b = *r.body;
  const Value params[] = {tenant.value(), r.seq,        b.id,      ToUnixMicros(b.occurred_at),
                          b.actor_kind,   b.actor_id,   b.action,  b.target,
                          b.outcome,      b.request_id, b.details, r.leaf_hash,
                          r.chain_hash};
  return tx
      .Execute(
          "INSERT INTO audit_entries (tenant_id, seq, id, occurred_at, actor_kind, actor_id, "
          "action, target, outcome, request_id, details, leaf_hash, chain_hash) VALUES ($1, $2, "
          "$3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
          params)
      .status();
}

Result<std::vector<AuditEntryRecord>> AuditRepository::ListEntries(Transaction& tx,
                                                                   const TenantId& tenant,
                                                                   const AuditEntryFilter& f,
                                                                   std::optional<int64_t> after_seq,
                                                                   int limit) {
  SB_RETURN_IF_ERROR(CheckTenantScope(tx, tenant));
  if (limit < 1 || limit > kMaxListLimit) return InvalidArgumentError("list limit out of range");
  std::string sql = SB_AUDIT_ENTRY_COLUMNS "WHERE tenant_id = $1";
  std::vector<Value> params = {tenant.value()};
  const bool newest_first = f.order == AuditOrder::kNewestFirst;
  if (after_seq) AddFilter(sql, params, newest_first ? "seq <" : "seq >", *after_seq);
  if (f.from) AddFilter(sql, params, "occurred_at >=", ToUnixMicros(*f.from));
  if (f.to) AddFilter(sql, params, "occurred_at <", ToUnixMicros(*f.to));
  // Without statistics SQLite walks the primary key in seq order for any filter, which scans
  // the whole chain when the filtered value is rare or absent; telling it that an action or
  // target filter is selective makes it use that column's (tenant_id, column, seq) index, which
  // yields seq order too. PostgreSQL keeps statistics and plans this on its own.
  const bool hint = tx.backend() == Backend::kSqlite;
  if (f.action) AddSelectiveFilter(sql, params, "action", *f.action, hint);
  if (f.actor_kind) AddFilter(sql, params, "actor_kind =", *f.actor_kind);
  if (f.actor_id) AddFilter(sql, params, "actor_id =", *f.actor_id);
  if (f.target) AddSelectiveFilter(sql, params, "target", *f.target, hint);
  if (f.outcome) AddFilter(sql, params, "outcome =", *f.outcome);
  params.push_back(int64_t{limit});
  sql += std::string(newest_first ? " ORDER BY seq DESC" : " ORDER BY seq") + " LIMIT $" +
         std::to_string(params.size());
  SB_ASSIGN_OR_RETURN(auto rows, tx.Query(sql, params));
  return ParseAll<AuditEntryRecord>(rows, tenant, ParseEntry);
}

Result<AuditHeadRecord> AuditRepository::LockHead(Transaction& tx, const TenantId& tenant) {
  SB_RETURN_IF_ERROR(CheckTenantScope(tx, tenant));
  const std::string_view select =
      tx.backend() == Backend::kPostgres
          ? "SELECT tenant_id, seq, chain_hash, last_checkpoint_hash FROM audit_heads WHERE "
            "tenant_id = $1 FOR UPDATE"
          : "SELECT tenant_id, seq, chain_hash, last_checkpoint_hash FROM audit_heads WHERE "
            "tenant_id = $1";
  SB_ASSIGN_OR_RETURN(auto rows, tx.Query(select, {tenant.value()}));
  if (rows.empty()) {
    // The first append of a chain. A concurrent first appender makes this wait for its commit
    // and do nothing; the locking read below then sees its head.
    SB_RETURN_IF_ERROR(
        tx.Execute("INSERT INTO audit_heads (tenant_id, seq, chain_hash, "
                   "last_checkpoint_hash) VALUES ($1, 0, $2, $2) "
                   "ON CONFLICT (tenant_id) DO NOTHING",
                   {tenant.value(), std::string(64, '0')}));
    SB_ASSIGN_OR_RETURN(rows, tx.Query(select, {tenant.value()}));
  }
  if (rows.size() != 1) return InternalError("audit_heads: head row vanished");
  return ParseHead(rows.front(), tenant);
}

Result<std::optional<AuditHeadRecord>> AuditRepository::GetHead(Transaction& tx,
                                                                const TenantId& tenant) {
  SB_RETURN_IF_ERROR(CheckTenantScope(tx, tenant));
  SB_ASSIGN_OR_RETURN(auto rows, tx.Query("SELECT tenant_id, seq, chain_hash, "
                                          "last_checkpoint_hash FROM audit_heads WHERE "
                                          "tenant_id = $1",
                                          {tenant.value()}));
  if (rows.empty()) return std::optional<AuditHeadRecord>();
  SB_ASSIGN_OR_RETURN(AuditHeadRecord head, ParseHead(rows.front(), tenant));
  return std::optional<AuditHeadRecord>(std::move(head));
}

Status AuditRepository::UpsertHead(Transaction& tx, const TenantId& tenant,
                                   const AuditHeadRecord& h) {
  SB_RETURN_IF_ERROR(CheckTenantScope(tx, tenant));
  if (h.tenant_id != tenant) return InvalidArgumentError("audit head tenant_id != tenant");
  if (h.seq < 0 || !IsHexSha256(h.chain_hash) || !IsHexSha256(h.last_checkpoint_hash)) {
    return InvalidArgumentError("invalid audit head");
  }
  return tx
      .Execute(
          "INSERT INTO audit_heads (tenant_id, seq, chain_hash, last_checkpoint_hash) VALUES "
          "($1, $2, $3, $4) ON CONFLICT (tenant_id) DO UPDATE SET seq = excluded.seq, "
          "chain_hash = excluded.chain_hash, last_checkpoint_hash = excluded.last_checkpoint_hash",
          {tenant.value(), h.seq, h.chain_hash, h.last_checkpoint_hash})
      .status();
}

Status AuditRepository::InsertCheckpoint(Transaction& tx, const TenantId& tenant,
                                         const AuditCheckpointRecord& c) {
  SB_RETURN_IF_ERROR(CheckTenantScope(tx, tenant));
  if (c.tenant_id != tenant) return InvalidArgumentError("audit checkpoint tenant_id != tenant");
  if (c.seq < 1 || !IsHexSha256(c.chain_hash) || !IsHexSha256(c.prev_checkpoint_hash) ||
      c.key_id.empty() || c.signature.empty()) {
    return InvalidArgumentError("invalid audit checkpoint");
  }
  return tx
      .Execute(
          "INSERT INTO audit_checkpoints (tenant_id, seq, chain_hash, created_at, "
          "prev_checkpoint_hash, key_id, signature) VALUES ($1, $2, $3, $4, $5, $6, $7)",
          {tenant.value(), c.seq, c.chain_hash, ToUnixMicros(c.created_at), c.prev_checkpoint_hash,
           c.key_id, c.signature})
      .status();
}

Result<std::vector<AuditCheckpointRecord>> AuditRepository::ListCheckpoints(
    Transaction& tx, const TenantId& tenant, std::optional<int64_t> after_seq, int limit) {
  SB_RETURN_IF_ERROR(CheckTenantScope(tx, tenant));
  if (limit < 1 || limit > kMaxListLimit) return InvalidArgumentError("list limit out of range");
  SB_ASSIGN_OR_RETURN(auto rows, tx.Query(SB_AUDIT_CHECKPOINT_COLUMNS
                                          "WHERE tenant_id = $1 AND seq > $2 ORDER BY seq "
                                          "LIMIT $3",
                                          {tenant.value(), after_seq.value_or(0), int64_t{limit}}));
  return ParseAll<AuditCheckpointRecord>(rows, tenant, ParseCheckpoint);
}

Result<std::optional<AuditCheckpointRecord>> AuditRepository::LastCheckpoint(
    Transaction& tx, const TenantId& tenant) {
  SB_RETURN_IF_ERROR(CheckTenantScope(tx, tenant));
  SB_ASSIGN_OR_RETURN(auto rows, tx.Query(SB_AUDIT_CHECKPOINT_COLUMNS
                                          "WHERE tenant_id = $1 ORDER BY seq DESC LIMIT 1",
                                          {tenant.value()}));
  if (rows.empty()) return std::optional<AuditCheckpointRecord>();
  SB_ASSIGN_OR_RETURN(AuditCheckpointRecord c, ParseCheckpoint(rows.front(), tenant));
  return std::optional<AuditCheckpointRecord>(std::move(c));
}

Result<std::vector<TenantId>> AuditRepository::ListChainTenants(Transaction& tx) {
  if (tx.tenant().has_value()) {
    return FailedPreconditionError("ListChainTenants needs an unscoped maintenance transaction");
  }
  // Entries without a head count too: a deleted head must not hide a chain from the verifier.
  SB_ASSIGN_OR_RETURN(auto rows, tx.Query("SELECT tenant_id FROM audit_heads UNION "
                                          "SELECT tenant_id FROM audit_entries ORDER BY 1"));
  std::vector<TenantId> out;
  out.reserve(rows.size());
  for (const Row& row : rows) {
    SB_ASSIGN_OR_RETURN(std::string id, internal::ReadUuid(row, 0, kHeads));
    out.emplace_back(std::move(id));
  }
  return out;
}

#undef SB_AUDIT_ENTRY_COLUMNS
#undef SB_AUDIT_CHECKPOINT_COLUMNS

}  // namespace sb::store
