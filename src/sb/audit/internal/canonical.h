// The hashing rules of the audit chain (TL-01), shared by the appender and the verifier, and by
// tests that play the attacker.
//
// Canonical serialization of entry `seq` of `tenant`: the compact JSON object (no whitespace,
// keys sorted bytewise, strings as nlohmann::json writes them: UTF-8 unescaped except `"`, `\`
// and control characters) of every stored field except the hashes:
//   {"action":..,"actor_id":..,"actor_kind":..,"details":"<details JSON text, as a string>",
//    "id":..,"occurred_at":<microseconds since the epoch>,"outcome":..,"request_id":..,
//    "seq":<seq>,"target":..,"tenant_id":..}
//   leaf  = SHA-256(0x00 || canonical)                      (RFC 6962 leaf prefix)
//   chain = SHA-256(previous chain || leaf), raw bytes; the chain before entry 1 is 32 zero bytes.
// Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "sb/base/ids.h"
#include "sb/store/audit/audit_repository.h"

namespace sb::audit::internal {

// The canonical text split around the seq value: canonical = prefix + decimal(seq) + suffix,
// so that the verifier can try other positions cheaply. nullopt when a text field is not valid
// UTF-8 (such a body cannot have been written by the appender).
struct CanonicalParts {
  std::string prefix;
  std::string suffix;
  std::string With(int64_t seq) const { return prefix + std::to_string(seq) + suffix; }
};
std::optional<CanonicalParts> CanonicalSplit(const TenantId& tenant,
                                             const store::AuditEntryBody& body);
std::optional<std::string> Canonical(const TenantId& tenant, int64_t seq,
                                     const store::AuditEntryBody& body);

// Raw 32-byte hashes.
std::string LeafHash(std::string_view canonical);
std::string ChainHash(std::string_view previous_chain, std::string_view leaf);
inline std::string ZeroHash() { return std::string(32, '\0'); }

}  // namespace sb::audit::internal
