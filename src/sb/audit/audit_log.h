// AuditLog: Switchboard's tamper-evident audit log (security.md 1.3 AUD-01..03, 5 TL-01..06).
//
// Every security-relevant change appends an entry INSIDE THE CALLER'S TRANSACTION, so the entry
// commits or rolls back together with the change; any failure to record it is returned and the
// caller's transaction must roll back (AUD-03: fail closed). Each tenant has its own chain, and
// events without a tenant go to the deployment-wide chain of SystemTenant(), the nil id.
//
// Each entry gets the next dense seq of its chain (the chain head row is locked while
// appending) and two hashes (TL-01; exact rules in internal/canonical.h):
//   leaf  = SHA-256(0x00 || canonical sorted-key compact JSON of every stored field but hashes)
//   chain = SHA-256(previous chain || leaf), the previous chain of entry 1 being 32 zero bytes.
// Every `checkpoint_interval` entries, and on demand, a checkpoint is signed with Ed25519
// (TL-03, format in checkpoint.h); it commits to the chain hash and to the previous checkpoint.
// The HMAC key of secret-bearing values and the signing key live outside the database
// (audit_keys.h).
//
// What Verify() proves (TL-05): that the entries, as stored now, are the ones that were
// appended, in order, with none removed, inserted or changed, up to the last checkpoint that
// verifies; and, with exported checkpoints kept outside the database (TL-04), that the chain
// they cover was not rewritten wholesale. What it does NOT prove: that events were recorded
// truthfully or at all (an application that never calls Append leaves no trace); anything about
// entries after the last trusted checkpoint beyond their internal consistency (the chain hash
// is not keyed: someone who can write the database can recompute every hash after a change and
// move the head, which only a signed checkpoint exported earlier exposes); that a whole chain
// (entries and head) was not deleted, unless an exported checkpoint names its tenant; nor
// anything if the key file was stolen. The checkpoint signature proves who signed, not when.
//
// Thread-safe: an AuditLog is immutable after construction; Append may run concurrently from
// many transactions (appenders of one tenant serialize on the chain head).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "sb/audit/audit_keys.h"
#include "sb/audit/checkpoint.h"
#include "sb/audit/context.h"
#include "sb/audit/entry.h"
#include "sb/audit/event.h"
#include "sb/base/clock.h"
#include "sb/base/ids.h"
#include "sb/base/json.h"
#include "sb/base/status.h"
#include "sb/store/audit/audit_repository.h"
#include "sb/store/database.h"

namespace sb::audit {

// The deployment-wide chain for events without a tenant (key rotation, failed authentication
// with an unparseable key): the nil UUID, a valid TenantId on every backend.
inline TenantId SystemTenant() { return TenantId("00000000-0000-0000-0000-000000000000"); }

// Why an entry failed verification.
enum class Reason {
  kModified,                    // body does not hash to its leaf, or leaf/chain columns rewritten
  kDeleted,                     // a seq gap, or fewer entries than the head or a checkpoint records
  kReordered,                   // the entry was written for another position of the chain
  kInserted,                    // an entry that does not chain from its predecessor
  kBodyMissing,                 // the body was erased but its hashes are intact (TL-06)
  kCheckpointSignatureInvalid,  // bad signature, or a key other than ours
  kCheckpointMismatch,          // a stored or exported checkpoint disagrees with the chain
};
// "modified", "deleted", "reordered", "inserted", "body missing, hash present",
// "checkpoint signature invalid", "checkpoint does not match chain".
std::string_view ReasonName(Reason reason);

// The first bad entry of one chain.
struct Finding {
  TenantId tenant_id;
  int64_t seq = 0;       // the bad entry (for checkpoint problems: the checkpoint's size)
  std::string entry_id;  // the id of the entry at `seq`, when there is one
  Reason reason = Reason::kModified;
  std::string detail;  // human-readable explanation; never contains secrets
  // The highest seq proven by a checkpoint that did match before the problem (0 if none): for
  // kCheckpointMismatch the change lies in entries verified_through+1 .. seq.
  int64_t verified_through = 0;
};

struct VerifyReport {
  int64_t chains = 0;             // chains verified
  int64_t entries = 0;            // entries that verified
  int64_t checkpoints = 0;        // stored and exported checkpoints that verified
  std::vector<Finding> findings;  // the first bad entry of each bad chain, in tenant order
  bool ok() const { return findings.empty(); }
};

class AuditLog {
 public:
  static constexpr int kMaxPageSize = 1000;

  // `clock` and `ids` must outlive the log. REQUIRES checkpoint_interval >= 1.
  AuditLog(const Clock& clock, IdGenerator& ids, AuditKeys keys, int checkpoint_interval);

  // Appends `event` to `tenant`'s chain inside `tx` (read-write, scoped to `tenant`), and
  // writes a signed checkpoint in the same transaction when the new seq is a multiple of the
  // checkpoint interval. Errors (the caller must roll back, AUD-03): INVALID_ARGUMENT (bad
  // event: see Event), PERMISSION_DENIED (tx scoped elsewhere), DATA_LOSS (corrupt head), and
  // any database error.
  Status Append(store::Transaction& tx, const TenantId& tenant, const Event& event);

  // "hmac-sha256:<lowercase hex>" of `value` under the audit HMAC key (AUD-02). Put only this
  // form of secret-bearing values (tokens, codes, keys, state, verifiers) into details; an
  // investigator holding the key can compute the same value to search for a known secret.
  std::string HmacSecret(std::string_view value) const;

  // Signs the current head of `tenant`'s chain in its own transaction and returns the new
  // checkpoint, or the latest one when nothing was appended since. FAILED_PRECONDITION for an
  // empty chain.
  Result<audit::Checkpoint> Checkpoint(store::Database& db, const TenantId& tenant);

  // Up to `limit` (1..kMaxPageSize) stored checkpoints of `tenant` with size > `after_size`,
  // in order, read in the caller's transaction (for export, TL-04).
  Result<std::vector<audit::Checkpoint>> Checkpoints(store::Transaction& tx, const TenantId& tenant,
                                                     std::optional<int64_t> after_size, int limit);

  // One page of `tenant`'s entries matching `filter`, in seq order, with seq > `after_seq`,
  // at most `limit` (1..kMaxPageSize), read in the caller's transaction (read-only is fine).
  // DATA_LOSS for a stored row that cannot be an entry (run Verify to locate tampering).
  Result<Page> List(store::Transaction& tx, const TenantId& tenant, const Filter& filter,
                    std::optional<int64_t> after_seq, int limit);

  // Verifies `tenant`'s chain (see the header comment), reading it in pages of read-only
  // transactions (constant memory; appends may continue meanwhile). `exported` may hold
  // checkpoints of any tenant; those of `tenant` are checked too. The report holds at most one
  // finding: the first bad entry in seq order. Errors only for database failures.
  Result<VerifyReport> Verify(store::Database& db, const TenantId& tenant,
                              std::span<const audit::Checkpoint> exported = {});

  // Verifies every chain: the tenants come from AuditRepository::ListChainTenants in an
  // unscoped transaction of `maintenance_db` (on PostgreSQL the BYPASSRLS maintenance role;
  // the app role sees no chains there) plus the tenants named by `exported`; each chain is then
  // verified in its own tenant transactions.
  Result<VerifyReport> VerifyAll(store::Database& maintenance_db,
                                 std::span<const audit::Checkpoint> exported = {});

  // The raw 32-byte Ed25519 public key that verifies this log's checkpoints, and its key id.
  std::string PublicKey() const { return public_key_; }
  const std::string& key_id() const { return key_id_; }

  // Entries per read transaction in Verify (default 1000); tests use small pages.
  void set_verify_page_size(int n) { verify_page_size_ = n < 1 ? 1 : n; }

 private:
  Result<audit::Checkpoint> SignHead(store::Transaction& tx, const store::AuditHeadRecord& head);

  const Clock& clock_;
  IdGenerator& ids_;
  const AuditKeys keys_;
  const std::string public_key_;
  const std::string key_id_;
  const int checkpoint_interval_;
  int verify_page_size_ = 1000;
  store::AuditRepository repo_;
};

}  // namespace sb::audit
