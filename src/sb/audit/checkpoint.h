// Signed checkpoints of a tenant's audit chain (TL-03), in the style of C2SP tlog-checkpoint
// and signed notes. A checkpoint commits to the first `size` entries of the chain through the
// chain hash of entry `size`, and to the previous checkpoint through its hash (CloudTrail-style
// chaining of digests), so deleting or altering a checkpoint breaks the next one.
//
// The signed message (the note body), every line ending in "\n":
//   switchboard-audit/<tenant id>
//   <size, decimal>
//   <chain hash of entry `size`, standard base64 of 32 bytes>
//   previous <hash of the previous checkpoint, standard base64 of 32 bytes; zeros for none>
// The note is the body, an empty line and one signature line
//   "\u2014 switchboard-audit <base64(key hash || Ed25519 signature)>\n"
// where the key hash is the first 4 bytes of SHA-256("switchboard-audit" || "\n" || 0x01 ||
// public key) (C2SP signed-note key id for Ed25519). A checkpoint's hash is the SHA-256 of
// its note. created_at is informational and not signed.
//
// Exported checkpoints travel as JSON lines (CheckpointToJson / ParseCheckpointLines), e.g. to
// WORM storage outside the database (TL-04); `switchboard audit verify --checkpoints FILE`
// reads them back. Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "sb/base/clock.h"
#include "sb/base/ids.h"
#include "sb/base/json.h"
#include "sb/base/status.h"

namespace sb::audit {

inline constexpr std::string_view kCheckpointKeyName = "switchboard-audit";

struct Checkpoint {
  TenantId tenant_id;
  int64_t size = 0;        // entries 1..size are covered
  std::string chain_hash;  // lowercase hex chain hash of entry `size`
  Timestamp created_at;
  std::string prev_checkpoint_hash;  // lowercase hex; 64 zeros for the first checkpoint
  std::string key_id;                // lowercase hex of the 4-byte key hash
  std::string signature;             // standard base64 of the 64-byte Ed25519 signature

  friend bool operator==(const Checkpoint&, const Checkpoint&) = default;
};

// The signed message (note body) described above. REQUIRES valid hex hashes.
std::string CheckpointBody(const Checkpoint& checkpoint);
// The complete signed note.
std::string CheckpointNote(const Checkpoint& checkpoint);
// Lowercase hex SHA-256 of the note.
std::string CheckpointHash(const Checkpoint& checkpoint);
// The key id (hex of the 4-byte key hash) of a raw 32-byte Ed25519 public key.
std::string CheckpointKeyId(std::string_view public_key);
// True when the checkpoint is well-formed, names the key of `public_key` and carries a valid
// signature of its body under it.
bool VerifyCheckpointSignature(const Checkpoint& checkpoint, std::string_view public_key);

// One JSON object per checkpoint: {"tenant_id", "size", "chain_hash", "created_at" (RFC 3339),
// "prev_checkpoint_hash", "key_id", "signature"}.
Json CheckpointToJson(const Checkpoint& checkpoint);
// INVALID_ARGUMENT naming the field when a member is missing or malformed.
Result<Checkpoint> CheckpointFromJson(const Json& json);
// Parses JSON lines (blank lines ignored). INVALID_ARGUMENT naming the line.
Result<std::vector<Checkpoint>> ParseCheckpointLines(std::string_view text);

}  // namespace sb::audit
