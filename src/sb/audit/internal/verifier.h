// The chain verifier behind AuditLog::Verify: walks one tenant's chain in seq order, in pages
// of read-only transactions, keeping only the running chain state (constant memory), checks
// stored and exported checkpoints as their seq goes by, and classifies the first bad entry.
//
// Classification of an entry at expected position p that does not verify (in this order):
//   - its seq is beyond p: deleted (a gap);
//   - body erased, hashes still chain: body missing, hash present (TL-06);
//   - it fits position p-1 and chains from the entry before the previous one: the previous
//     entry was inserted;
//   - its body hashes to its leaf at another position q: deleted when q > p and the next entry
//     fits q+1 (entries removed, later ones renumbered), reordered otherwise;
//   - the next entry fits position p and chains from p-1: this entry was inserted;
//   - its hashes chain but the body does not hash to the leaf, or its body still chains and
//     only the leaf or chain column was rewritten: modified;
//   - otherwise it does not chain from its predecessor: inserted.
// After the last entry the head must record exactly that many entries and that chain hash
// (truncation: deleted; entries beyond the head: inserted), and no stored or exported
// checkpoint may cover more entries than exist.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "sb/audit/audit_log.h"
#include "sb/audit/checkpoint.h"
#include "sb/base/ids.h"
#include "sb/base/status.h"
#include "sb/store/database.h"

namespace sb::audit::internal {

struct ChainResult {
  int64_t entries = 0;
  int64_t checkpoints = 0;
  std::optional<Finding> finding;
};

// `exported` must be the exported checkpoints of `tenant`, sorted by size.
Result<ChainResult> VerifyChain(store::Database& db, const TenantId& tenant,
                                std::string_view public_key,
                                std::span<const Checkpoint* const> exported, int page_size);

}  // namespace sb::audit::internal
