// AuditRepository: rows of the audit log tables (migration 2): `audit_entries` (the hash-chained
// entries), `audit_heads` (one row per chain: the last seq and chain hash, locked by appenders)
// and `audit_checkpoints` (signed checkpoints). Hashing, signing and verification live in the
// audit module; this layer stores and reads the rows exactly as they are, so that the verifier
// sees what an attacker may have changed. Stateless SQL over a Transaction; thread-safe.
//
// Every call takes the tenant explicitly, filters by tenant_id in its SQL, and refuses
// (PERMISSION_DENIED) a transaction that is not scoped to that tenant. The one exception is the
// clearly named maintenance call ListChainTenants(), which needs an unscoped transaction.
// Malformed rows (wrong types, hashes that are not lowercase hex SHA-256, a partly erased body)
// produce DATA_LOSS. On PostgreSQL the app role may only SELECT and INSERT entries and
// checkpoints (no UPDATE, no DELETE), and SELECT, INSERT and UPDATE the heads.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "sb/base/clock.h"
#include "sb/base/ids.h"
#include "sb/base/status.h"
#include "sb/store/database.h"

namespace sb::store {

// The stored body of an entry: every column except the tenant, the seq and the hashes.
struct AuditEntryBody {
  std::string id;  // canonical UUID
  Timestamp occurred_at;
  std::string actor_kind;
  std::string actor_id;
  std::string action;
  std::string target;
  std::string outcome;
  std::string request_id;
  std::string details;  // JSON text

  friend bool operator==(const AuditEntryBody&, const AuditEntryBody&) = default;
};

struct AuditEntryRecord {
  TenantId tenant_id;
  int64_t seq = 0;                     // 1, 2, 3, ... per tenant
  std::optional<AuditEntryBody> body;  // nullopt: erased for retention, hashes kept (TL-06)
  std::string leaf_hash;               // lowercase hex SHA-256
  std::string chain_hash;              // lowercase hex SHA-256

  friend bool operator==(const AuditEntryRecord&, const AuditEntryRecord&) = default;
};

// The head of one tenant's chain. seq 0 is the empty chain.
struct AuditHeadRecord {
  TenantId tenant_id;
  int64_t seq = 0;
  std::string chain_hash;            // hex; 64 zeros for the empty chain
  std::string last_checkpoint_hash;  // hex; 64 zeros before the first checkpoint

  friend bool operator==(const AuditHeadRecord&, const AuditHeadRecord&) = default;
};

struct AuditCheckpointRecord {
  TenantId tenant_id;
  int64_t seq = 0;         // the chain size it commits to
  std::string chain_hash;  // hex chain hash of entry `seq`
  Timestamp created_at;
  std::string prev_checkpoint_hash;  // hex; 64 zeros for the first checkpoint
  std::string key_id;                // identifies the signing key (format: the audit module)
  std::string signature;             // text form chosen by the audit module

  friend bool operator==(const AuditCheckpointRecord&, const AuditCheckpointRecord&) = default;
};

// In which order ListEntries walks the chain; its cursor continues in that order.
enum class AuditOrder { kOldestFirst, kNewestFirst };

// Filters of ListEntries; unset fields do not filter. Erased entries match only the empty
// filter.
struct AuditEntryFilter {
  std::optional<Timestamp> from;  // occurred_at >= from
  std::optional<Timestamp> to;    // occurred_at < to
  std::optional<std::string> action;
  std::optional<std::string> actor_kind;
  std::optional<std::string> actor_id;
  std::optional<std::string> target;
  std::optional<std::string> outcome;
  AuditOrder order = AuditOrder::kOldestFirst;
};

class AuditRepository {
 public:
  static constexpr int kMaxListLimit = 10'000;

  // Inserts an entry. REQUIRES record.tenant_id == tenant and a body. Errors: INVALID_ARGUMENT
  // (mismatch, seq < 1, hashes not hex, missing body or bad id), ALREADY_EXISTS (seq taken),
  // PERMISSION_DENIED.
  Status InsertEntry(Transaction& tx, const TenantId& tenant, const AuditEntryRecord& record);

  // Up to `limit` (1..kMaxListLimit) entries of `tenant` matching `filter`, in seq order (or
  // reverse seq order for kNewestFirst), after `after_seq` in that order when given (seq >
  // after_seq, or seq < after_seq).
  Result<std::vector<AuditEntryRecord>> ListEntries(Transaction& tx, const TenantId& tenant,
                                                    const AuditEntryFilter& filter,
                                                    std::optional<int64_t> after_seq, int limit);

  // The head, creating the empty head (seq 0) first when the chain has none, and locked until
  // the transaction ends: PostgreSQL `SELECT ... FOR UPDATE` (concurrent appenders wait here,
  // and the creation is `ON CONFLICT DO NOTHING` so that two first appenders do not collide);
  // SQLite read-write transactions are already serialized by BEGIN IMMEDIATE. Needs a
  // read-write transaction.
  Result<AuditHeadRecord> LockHead(Transaction& tx, const TenantId& tenant);
  // The head without locking or creating it; nullopt when the chain has none.
  Result<std::optional<AuditHeadRecord>> GetHead(Transaction& tx, const TenantId& tenant);
  // Inserts or replaces the head. INVALID_ARGUMENT for a mismatched tenant, seq < 0 or hashes
  // that are not hex.
  Status UpsertHead(Transaction& tx, const TenantId& tenant, const AuditHeadRecord& head);

  // Inserts a checkpoint. ALREADY_EXISTS when one exists at that seq.
  Status InsertCheckpoint(Transaction& tx, const TenantId& tenant,
                          const AuditCheckpointRecord& record);
  // Up to `limit` (1..kMaxListLimit) checkpoints in seq order, with seq > `after_seq`.
  Result<std::vector<AuditCheckpointRecord>> ListCheckpoints(Transaction& tx,
                                                             const TenantId& tenant,
                                                             std::optional<int64_t> after_seq,
                                                             int limit);
  // The checkpoint with the highest seq, or nullopt.
  Result<std::optional<AuditCheckpointRecord>> LastCheckpoint(Transaction& tx,
                                                              const TenantId& tenant);

  // --- Maintenance: unscoped transactions only (FAILED_PRECONDITION otherwise). ---

  // The tenant ids that have a chain (a head or entries), sorted. Meant for the BYPASSRLS
  // maintenance connection (RLS-07); with the PostgreSQL app role it returns nothing, because
  // row-level security hides every row from an unscoped transaction.
  Result<std::vector<TenantId>> ListChainTenants(Transaction& tx);
};

}  // namespace sb::store
