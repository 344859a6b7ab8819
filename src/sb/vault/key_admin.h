// Key administration behind `switchboard keys ...` (KMS-02, KMS-03, KMS-04): rotation,
// rewrapping every stored secret to the write version, status, and the minimum decryption
// version. Every state change runs in one transaction together with the caller's AuditHook, so
// that the change and its audit entry commit together or not at all (AUD-03). The vault sits
// below the audit log, hence the hook; the app wires it to audit::AuditLog.
//
// Rewrap and status read every tenant's secrets: they take the maintenance database (RLS-07)
// and run in transactions scoped to the system tenant (the nil id, whose audit chain records
// deployment-wide events).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "sb/base/clock.h"
#include "sb/base/json.h"
#include "sb/base/random.h"
#include "sb/base/status.h"
#include "sb/store/database.h"
#include "sb/vault/key_source.h"
#include "sb/vault/secret_store.h"

namespace sb::vault {

// The nil tenant id: the deployment-wide scope of maintenance and its audit chain.
TenantId SystemTenant();

// Called inside the transaction of each change with an action name ("vault.key.rotate",
// "vault.rewrap.batch", "vault.min_version.set") and non-secret details. An error rolls the
// change back.
using AuditHook =
    std::function<Status(store::Transaction& tx, const std::string& action, const Json& details)>;

struct RotateResult {
  uint32_t previous_version = 0;
  uint32_t new_version = 0;
  bool generated = false;  // a new key was generated into the key file
};

// Makes a newer key version the write version of every node. With a key file: when the file
// already holds a version newer than the active one (added by the operator), that one is
// activated; otherwise a new 256-bit key is generated and appended to the file (atomically,
// 0600) first. With SWITCHBOARD_MASTER_KEYS: activates the newest version present there, or
// fails with FAILED_PRECONDITION telling the operator to add one to every node first.
Result<RotateResult> RotateKey(store::Database& db, const KeySource& source, Random& random,
                               const Clock& clock, const AuditHook& audit);

struct RewrapOptions {
  int batch_size = 500;  // secrets per transaction, 1..SecretRepository::kMaxBatch
  // Stops after this many batches (0: until done); tests use it to simulate a killed run.
  int max_batches = 0;
  // Called after each committed batch with the running totals.
  std::function<void(int64_t rewrapped, int64_t failed)> on_batch;
};

struct RewrapResult {
  uint32_t target_version = 0;
  int64_t rewrapped = 0;  // re-encrypted and replaced
  int64_t changed = 0;    // replaced concurrently by a writer (already on a newer version)
  int64_t failed = 0;     // did not decrypt (corrupt or tampered rows; left untouched)
  int64_t remaining = 0;  // secrets still below target_version afterwards
  std::vector<std::string> failures;  // "tenant/owner/field: reason", at most 100
};

// Re-encrypts every secret below the write version in batches, each batch one transaction with
// a compare-and-set per row, so a writer that replaced a secret meanwhile wins, a killed run
// loses at most its open batch, and running it again continues where it stopped (KMS-04).
// Plaintext exists only inside this process, in wiped buffers.
Result<RewrapResult> Rewrap(store::Database& maintenance_db, SecretStore& secrets,
                            const Clock& clock, const RewrapOptions& options,
                            const AuditHook& audit);

struct KeyStatus {
  uint32_t write_version = 0;        // 0 before the first secret was stored
  uint32_t min_decrypt_version = 0;  // 0 before the first secret was stored
  std::vector<uint32_t> keyring_versions;
  std::map<int64_t, int64_t> secrets_by_version;
};

Result<KeyStatus> GetKeyStatus(store::Database& maintenance_db, const Keyring& keyring);

// Sets the minimum decryption version to `version` (KMS-03). Raising it is refused with
// FAILED_PRECONDITION while secrets still sit on lower versions (run rewrap first); lowering it
// is a break-glass action that needs `allow_lower`. Both are audited.
Status SetMinDecryptVersion(store::Database& maintenance_db, SecretStore& secrets, uint32_t version,
                            bool allow_lower, const Clock& clock, const AuditHook& audit);

}  // namespace sb::vault
