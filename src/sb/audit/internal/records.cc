#include "sb/audit/internal/records.h"

#include "sb/base/encoding.h"

namespace sb::audit::internal {

Checkpoint CheckpointFromRecord(const store::AuditCheckpointRecord& r) {
  return Checkpoint{r.tenant_id, r.seq,      r.chain_hash, r.created_at, r.prev_checkpoint_hash,
                    r.key_id,    r.signature};
}

store::AuditCheckpointRecord CheckpointToRecord(const Checkpoint& c) {
  return store::AuditCheckpointRecord{
      c.tenant_id, c.size,     c.chain_hash, c.created_at, c.prev_checkpoint_hash,
      c.key_id,    c.signature};
}

Result<Entry> EntryFromRecord(const store::AuditEntryRecord& r) {
  Entry e;
  e.tenant_id = r.tenant_id;
  e.seq = r.seq;
  e.leaf_hash = r.leaf_hash;
  e.chain_hash = r.chain_hash;
  if (!r.body) {
    e.body_erased = true;
    return e;
  }
  const store::AuditEntryBody& b = *r.body;
  const Status corrupt = DataLossError("audit entry " + std::to_string(r.seq) +
                                       " cannot be read back: run `switchboard audit verify`");
  std::optional<ActorKind> kind = ParseActorKind(b.actor_kind);
  std::optional<Outcome> outcome = ParseOutcome(b.outcome);
  if (!kind || !outcome) return corrupt;
  for (const std::string* s : {&b.actor_id, &b.action, &b.target, &b.request_id, &b.details}) {
    if (!IsValidUtf8(*s)) return corrupt;
  }
  // Details are written small and shallow; only the depth (what a later copy or dump recurses
  // on) is held close. A row past these limits was not written by us.
  constexpr JsonLimits kDetailsLimits{.max_bytes = 16 << 20,
                                      .max_depth = 32,
                                      .max_string_bytes = 16 << 20,
                                      .max_members = 1 << 20,
                                      .max_values = 1 << 22};
  Result<Json> details = ParseJson(b.details, kDetailsLimits);
  if (!details.ok() || !details->is_object()) return corrupt;
  e.details = std::move(*details);
  e.id = b.id;
  e.occurred_at = b.occurred_at;
  e.actor = Actor{*kind, b.actor_id};
  e.action = b.action;
  e.target = b.target;
  e.outcome = *outcome;
  e.request_id = b.request_id;
  return e;
}

}  // namespace sb::audit::internal
