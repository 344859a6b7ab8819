// The audit log's two keys, kept OUTSIDE the database in `audit.key_file` so that whoever can
// rewrite the database can neither recompute the HMACs of secrets (AUD-02) nor sign
// checkpoints (TL-03):
//   - the 32-byte audit HMAC key, for AuditLog::HmacSecret;
//   - the Ed25519 checkpoint signing key (its 32-byte seed).
//
// Key file format (text, mode 0600, written atomically and never overwritten):
//   # comment lines and blank lines are ignored
//   hmac-key: <base64url of 32 bytes>
//   signing-key: <base64url of the 32-byte Ed25519 seed>
//
// Key material is wiped from memory when no longer needed and never appears in a Status or a
// log line: errors name the file, the line and the entry, never a value. AuditKeys is
// move-only and immutable; thread-safe for concurrent readers.
#pragma once

#include <string>
#include <string_view>

#include "sb/base/random.h"
#include "sb/base/status.h"
#include "sb/vault/ed25519.h"

namespace sb::audit {

inline constexpr size_t kAuditHmacKeySize = 32;

class AuditKeys {
 public:
  // Fresh random keys.
  static AuditKeys Generate(Random& random);
  // Keys from raw material. INVALID_ARGUMENT unless both are 32 bytes. The caller wipes its
  // copies.
  static Result<AuditKeys> FromMaterial(std::string_view hmac_key, std::string_view signing_seed);

  AuditKeys(AuditKeys&& other) noexcept;
  AuditKeys& operator=(AuditKeys&& other) noexcept;
  AuditKeys(const AuditKeys&) = delete;
  AuditKeys& operator=(const AuditKeys&) = delete;
  ~AuditKeys();

  std::string_view hmac_key() const { return hmac_key_; }
  const vault::Ed25519PrivateKey& signing_key() const { return signing_key_; }
  // The raw 32-byte Ed25519 public key that verifies checkpoints.
  std::string PublicKey() const { return signing_key_.PublicKey(); }
  // True when LoadOrCreateAuditKeys created the key file just now: the caller must warn loudly
  // (development keys on a shared disk protect nothing).
  bool generated() const { return generated_; }

 private:
  friend Result<AuditKeys> LoadOrCreateAuditKeys(const std::string&, bool, Random&);
  AuditKeys(std::string hmac_key, vault::Ed25519PrivateKey signing_key)
      : hmac_key_(std::move(hmac_key)), signing_key_(std::move(signing_key)) {}

  std::string hmac_key_;  // wiped by the destructor and on move
  vault::Ed25519PrivateKey signing_key_;
  bool generated_ = false;
};

// Reads the key file. Errors: NOT_FOUND (no file), FAILED_PRECONDITION (not a regular file, or
// readable or writable by group or others: `chmod 600` it), INVALID_ARGUMENT (malformed,
// unknown or duplicate entries, a missing key, wrong key sizes), UNAVAILABLE (read errors).
Result<AuditKeys> LoadAuditKeys(const std::string& path);

// Writes `keys` to a new key file at `path`, mode 0600, atomically (a temporary file in the
// same directory, fsync, then link(2) into place, so a concurrent writer can never replace a
// key file another process already uses). ALREADY_EXISTS when `path` exists.
Status WriteAuditKeys(const std::string& path, const AuditKeys& keys);

// LoadAuditKeys, except that a missing key file is created first with fresh keys when
// `development` is true (and the result's generated() is true: warn loudly). In production a
// missing file is FAILED_PRECONDITION naming the key file.
Result<AuditKeys> LoadOrCreateAuditKeys(const std::string& path, bool development, Random& random);

}  // namespace sb::audit
