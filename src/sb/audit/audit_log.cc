#include "sb/audit/audit_log.h"

#include <algorithm>

#include "sb/audit/internal/canonical.h"
#include "sb/audit/internal/records.h"
#include "sb/audit/internal/verifier.h"
#include "sb/base/check.h"
#include "sb/base/encoding.h"
#include "sb/vault/digest.h"

namespace sb::audit {
namespace {

constexpr size_t kMaxActionBytes = 128;
constexpr size_t kMaxActorIdBytes = 256;
constexpr size_t kMaxTargetBytes = 1024;
constexpr size_t kMaxRequestIdBytes = 256;
constexpr size_t kMaxDetailsBytes = 64 * 1024;

bool IsActionChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == ':' || c == '/' || c == '-';
}

Status CheckText(std::string_view value, size_t max, std::string_view field) {
  if (value.size() > max || !IsValidUtf8(value)) {
    return InvalidArgumentError("audit event " + std::string(field) + " must be UTF-8 of at most " +
                                std::to_string(max) + " bytes");
  }
  return OkStatus();
}

// Validates `event` and returns its details as compact JSON text.
Result<std::string> ValidateEvent(const Event& event) {
  if (event.action.empty() || event.action.size() > kMaxActionBytes ||
      !std::all_of(event.action.begin(), event.action.end(), IsActionChar)) {
    return InvalidArgumentError("audit event action must be 1..128 characters of [A-Za-z0-9._:/-]");
  }
  if (ActorKindName(event.actor.kind).empty() || OutcomeName(event.outcome).empty()) {
    return InvalidArgumentError("audit event has an unknown actor kind or outcome");
  }
  SB_RETURN_IF_ERROR(CheckText(event.actor.id, kMaxActorIdBytes, "actor id"));
  SB_RETURN_IF_ERROR(CheckText(event.target, kMaxTargetBytes, "target"));
  SB_RETURN_IF_ERROR(CheckText(event.request_id, kMaxRequestIdBytes, "request id"));
  if (event.details.is_null()) return std::string("{}");
  if (!event.details.is_object()) return InvalidArgumentError("audit details must be an object");
  std::string text;
  try {
    text = event.details.dump();  // keys sorted (std::map), compact; throws on invalid UTF-8
  } catch (const Json::exception&) {
    return InvalidArgumentError("audit details must be valid UTF-8");
  }
  if (text.size() > kMaxDetailsBytes) return InvalidArgumentError("audit details exceed 64 KiB");
  return text;
}

store::AuditEntryFilter ToStoreFilter(const Filter& f) {
  store::AuditEntryFilter out;
  out.from = f.from;
  out.to = f.to;
  out.action = f.action;
  if (f.actor_kind) out.actor_kind = std::string(ActorKindName(*f.actor_kind));
  out.actor_id = f.actor_id;
  out.target = f.target;
  if (f.outcome) out.outcome = std::string(OutcomeName(*f.outcome));
  out.order = f.order == Order::kNewestFirst ? store::AuditOrder::kNewestFirst
                                             : store::AuditOrder::kOldestFirst;
  return out;
}

}  // namespace

std::string_view ReasonName(Reason reason) {
  switch (reason) {
    case Reason::kModified:
      return "modified";
    case Reason::kDeleted:
      return "deleted";
    case Reason::kReordered:
      return "reordered";
    case Reason::kInserted:
      return "inserted";
    case Reason::kBodyMissing:
      return "body missing, hash present";
    case Reason::kCheckpointSignatureInvalid:
      return "checkpoint signature invalid";
    case Reason::kCheckpointMismatch:
      return "checkpoint does not match chain";
  }
  return "unknown";
}

AuditLog::AuditLog(const Clock& clock, IdGenerator& ids, AuditKeys keys, int checkpoint_interval)
    : clock_(clock),
      ids_(ids),
      keys_(std::move(keys)),
      public_key_(keys_.PublicKey()),
      key_id_(CheckpointKeyId(public_key_)),
      checkpoint_interval_(checkpoint_interval) {
  SB_CHECK(checkpoint_interval_ >= 1);
}

Status AuditLog::Append(store::Transaction& tx, const TenantId& tenant, const Event& event) {
  SB_ASSIGN_OR_RETURN(std::string details, ValidateEvent(event));
  SB_ASSIGN_OR_RETURN(store::AuditHeadRecord head, repo_.LockHead(tx, tenant));
  store::AuditEntryRecord entry;
  entry.tenant_id = tenant;
  entry.seq = head.seq + 1;
  entry.body = store::AuditEntryBody{ids_.NewUuid(),
                                     clock_.Now(),
                                     std::string(ActorKindName(event.actor.kind)),
                                     event.actor.id,
                                     event.action,
                                     event.target,
                                     std::string(OutcomeName(event.outcome)),
                                     event.request_id,
                                     std::move(details)};
  std::optional<std::string> canonical = internal::Canonical(tenant, entry.seq, *entry.body);
  std::optional<std::string> previous = HexDecode(head.chain_hash);
  if (!canonical || !previous) return InternalError("audit entry cannot be hashed");
  const std::string leaf = internal::LeafHash(*canonical);
  entry.leaf_hash = HexEncode(leaf);
  entry.chain_hash = HexEncode(internal::ChainHash(*previous, leaf));
  SB_RETURN_IF_ERROR(repo_.InsertEntry(tx, tenant, entry));
  head.seq = entry.seq;
  head.chain_hash = entry.chain_hash;
  if (head.seq % checkpoint_interval_ == 0) {
    SB_ASSIGN_OR_RETURN(audit::Checkpoint checkpoint, SignHead(tx, head));
    head.last_checkpoint_hash = CheckpointHash(checkpoint);
  }
  return repo_.UpsertHead(tx, tenant, head);
}

Result<audit::Checkpoint> AuditLog::SignHead(store::Transaction& tx,
                                             const store::AuditHeadRecord& head) {
  // TL-03: never sign a head that disagrees with its last entry or its last checkpoint.
  SB_ASSIGN_OR_RETURN(auto last_entry, repo_.ListEntries(tx, head.tenant_id, {}, head.seq - 1, 1));
  SB_ASSIGN_OR_RETURN(auto last_checkpoint, repo_.LastCheckpoint(tx, head.tenant_id));
  const bool entry_ok = last_entry.size() == 1 && last_entry[0].seq == head.seq &&
                        last_entry[0].chain_hash == head.chain_hash;
  const bool checkpoint_ok =
      last_checkpoint ? last_checkpoint->seq < head.seq &&
                            CheckpointHash(internal::CheckpointFromRecord(*last_checkpoint)) ==
                                head.last_checkpoint_hash
                      : head.last_checkpoint_hash == std::string(64, '0');
  if (!entry_ok || !checkpoint_ok) {
    return DataLossError("refusing to sign an audit checkpoint: the chain head of tenant " +
                         head.tenant_id.value() +
                         " disagrees with the stored chain; run `switchboard audit verify`");
  }
  audit::Checkpoint c{
      head.tenant_id, head.seq, head.chain_hash, clock_.Now(), head.last_checkpoint_hash,
      key_id_,        ""};
  c.signature = Base64Encode(keys_.signing_key().Sign(CheckpointBody(c)));
  SB_RETURN_IF_ERROR(repo_.InsertCheckpoint(tx, head.tenant_id, internal::CheckpointToRecord(c)));
  return c;
}

std::string AuditLog::HmacSecret(std::string_view value) const {
  return "hmac-sha256:" + HexEncode(vault::HmacSha256(keys_.hmac_key(), value));
}

Result<audit::Checkpoint> AuditLog::Checkpoint(store::Database& db, const TenantId& tenant) {
  audit::Checkpoint out;
  Status s = db.RunInTenant(tenant, [&](store::Transaction& tx) -> Status {
    SB_ASSIGN_OR_RETURN(store::AuditHeadRecord head, repo_.LockHead(tx, tenant));
    if (head.seq == 0) {
      return FailedPreconditionError("the audit chain of tenant " + tenant.value() + " is empty");
    }
    SB_ASSIGN_OR_RETURN(auto last, repo_.LastCheckpoint(tx, tenant));
    if (last && last->seq == head.seq) {
      out = internal::CheckpointFromRecord(*last);
      return OkStatus();
    }
    SB_ASSIGN_OR_RETURN(out, SignHead(tx, head));
    head.last_checkpoint_hash = CheckpointHash(out);
    return repo_.UpsertHead(tx, tenant, head);
  });
  if (!s.ok()) return s;
  return out;
}

Result<std::vector<audit::Checkpoint>> AuditLog::Checkpoints(store::Transaction& tx,
                                                             const TenantId& tenant,
                                                             std::optional<int64_t> after_size,
                                                             int limit) {
  if (limit < 1 || limit > kMaxPageSize) return InvalidArgumentError("page size out of range");
  SB_ASSIGN_OR_RETURN(auto rows, repo_.ListCheckpoints(tx, tenant, after_size, limit));
  std::vector<audit::Checkpoint> out;
  out.reserve(rows.size());
  for (const auto& row : rows) out.push_back(internal::CheckpointFromRecord(row));
  return out;
}

Result<Page> AuditLog::List(store::Transaction& tx, const TenantId& tenant, const Filter& filter,
                            std::optional<int64_t> after_seq, int limit) {
  if (limit < 1 || limit > kMaxPageSize) return InvalidArgumentError("page size out of range");
  SB_ASSIGN_OR_RETURN(auto rows,
                      repo_.ListEntries(tx, tenant, ToStoreFilter(filter), after_seq, limit));
  Page page;
  page.entries.reserve(rows.size());
  for (const auto& row : rows) {
    SB_ASSIGN_OR_RETURN(Entry entry, internal::EntryFromRecord(row));
    page.entries.push_back(std::move(entry));
  }
  if (static_cast<int>(rows.size()) == limit) page.next_after_seq = rows.back().seq;
  return page;
}

Result<VerifyReport> AuditLog::Verify(store::Database& db, const TenantId& tenant,
                                      std::span<const audit::Checkpoint> exported) {
  if (!tenant.valid()) return InvalidArgumentError("invalid tenant id");
  std::vector<const audit::Checkpoint*> mine;
  for (const audit::Checkpoint& c : exported) {
    if (c.tenant_id == tenant) mine.push_back(&c);
  }
  std::stable_sort(mine.begin(), mine.end(),
                   [](const auto* a, const auto* b) { return a->size < b->size; });
  SB_ASSIGN_OR_RETURN(internal::ChainResult chain,
                      internal::VerifyChain(db, tenant, public_key_, mine, verify_page_size_));
  VerifyReport report;
  report.chains = 1;
  report.entries = chain.entries;
  report.checkpoints = chain.checkpoints;
  if (chain.finding) report.findings.push_back(std::move(*chain.finding));
  return report;
}

Result<VerifyReport> AuditLog::VerifyAll(store::Database& maintenance_db,
                                         std::span<const audit::Checkpoint> exported) {
  std::vector<TenantId> tenants;
  SB_RETURN_IF_ERROR(
      maintenance_db.RunUnscoped(store::TxMode::kReadOnly, [&](store::Transaction& tx) -> Status {
        SB_ASSIGN_OR_RETURN(tenants, repo_.ListChainTenants(tx));
        return OkStatus();
      }));
  // A chain deleted wholesale (entries and head) is still named by its exported checkpoints.
  for (const audit::Checkpoint& c : exported) tenants.push_back(c.tenant_id);
  std::sort(tenants.begin(), tenants.end());
  tenants.erase(std::unique(tenants.begin(), tenants.end()), tenants.end());
  VerifyReport all;
  for (const TenantId& tenant : tenants) {
    SB_ASSIGN_OR_RETURN(VerifyReport one, Verify(maintenance_db, tenant, exported));
    all.chains += one.chains;
    all.entries += one.entries;
    all.checkpoints += one.checkpoints;
    for (Finding& f : one.findings) all.findings.push_back(std::move(f));
  }
  return all;
}

}  // namespace sb::audit
