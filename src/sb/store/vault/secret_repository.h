// Storage of the token vault: `vault_secrets` (one encrypted secret per tenant, owner and field)
// and `vault_state` (the deployment's key-version state: which version encrypts, the minimum
// version that may still decrypt). Ciphertexts are opaque here: the vault module encrypts and
// decrypts; key material never reaches the database. Stateless SQL over a Transaction,
// thread-safe.
//
// Tenant calls take the tenant explicitly, filter by it and refuse a transaction scoped to
// another tenant (PERMISSION_DENIED). The Maintenance* calls span tenants: they require an
// unscoped transaction, or one scoped to the system tenant (the nil id, whose audit chain
// records maintenance), and are meant for the audited maintenance connection (RLS-07: on
// PostgreSQL a BYPASSRLS role with row_security=off, so that missing rights fail loudly
// instead of silently filtering). Malformed rows produce DATA_LOSS.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "sb/base/clock.h"
#include "sb/base/ids.h"
#include "sb/base/status.h"
#include "sb/store/database.h"

namespace sb::store {

struct SecretRecord {
  TenantId tenant_id;
  std::string owner_id;    // e.g. a connection or integration id; 1..200 bytes
  std::string field;       // e.g. "refresh_token"; 1..100 bytes of [a-z0-9_.-]
  std::string ciphertext;  // the vault's text form; never plaintext
  int64_t key_version = 0;
  Timestamp updated_at;

  friend bool operator==(const SecretRecord&, const SecretRecord&) = default;
};

// Position in the maintenance scan order (tenant, owner, field).
struct SecretCursor {
  TenantId tenant_id;
  std::string owner_id;
  std::string field;
};

class SecretRepository {
 public:
  static constexpr int kMaxBatch = 10'000;

  // Inserts or replaces the secret (tenant, owner, field). INVALID_ARGUMENT for a malformed
  // owner id, field or version, or record.tenant_id != tenant.
  Status Upsert(Transaction& tx, const TenantId& tenant, const SecretRecord& record);
  Result<std::optional<SecretRecord>> Get(Transaction& tx, const TenantId& tenant,
                                          const std::string& owner_id, const std::string& field);
  // Deletes one field; false when it did not exist.
  Result<bool> Delete(Transaction& tx, const TenantId& tenant, const std::string& owner_id,
                      const std::string& field);
  // Deletes every field of the owner; the number deleted.
  Result<int64_t> DeleteOwner(Transaction& tx, const TenantId& tenant, const std::string& owner_id);

  // --- Maintenance: unscoped or system-tenant transactions (FAILED_PRECONDITION otherwise). ---

  // Up to `limit` (1..kMaxBatch) secrets whose key_version < `version`, in (tenant, owner,
  // field) order, strictly after `after` when given.
  Result<std::vector<SecretRecord>> MaintenanceListBelowVersion(
      Transaction& tx, int64_t version, const std::optional<SecretCursor>& after, int limit);
  // Compare-and-set (KMS-04): replaces the ciphertext of (tenant, owner, field) only while it
  // still equals `expected`; false when the row changed or vanished meanwhile.
  Result<bool> MaintenanceReplaceIf(Transaction& tx, const TenantId& tenant,
                                    const std::string& owner_id, const std::string& field,
                                    const std::string& expected, const std::string& ciphertext,
                                    int64_t key_version, Timestamp at);
  // Number of secrets per key version.
  Result<std::map<int64_t, int64_t>> MaintenanceCountByVersion(Transaction& tx);
  // Number of secrets whose key_version < `version`.
  Result<int64_t> MaintenanceCountBelow(Transaction& tx, int64_t version);
};

struct VaultState {
  int64_t write_version = 0;
  int64_t min_decrypt_version = 0;
  Timestamp updated_at;

  friend bool operator==(const VaultState&, const VaultState&) = default;
};

// The single `vault_state` row. Not tenant data: any transaction may read it.
class VaultStateRepository {
 public:
  enum class Lock { kNone, kShare, kUpdate };
  // The state, or nullopt before the first InitializeIfAbsent. kShare / kUpdate take a row lock
  // on PostgreSQL (FOR SHARE lets secret writers proceed together while excluding a concurrent
  // rotation; FOR UPDATE serializes state changes); on SQLite read-write transactions are
  // already serialized. Locks need a read-write transaction.
  Result<std::optional<VaultState>> Get(Transaction& tx, Lock lock = Lock::kNone);
  // Creates the row with `state` unless it exists; returns the row as it is afterwards.
  Result<VaultState> InitializeIfAbsent(Transaction& tx, const VaultState& state);
  // Replaces the row. FAILED_PRECONDITION when it does not exist; INVALID_ARGUMENT when
  // 1 <= min_decrypt_version <= write_version does not hold.
  Status Set(Transaction& tx, const VaultState& state);
};

}  // namespace sb::store
