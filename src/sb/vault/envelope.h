// Vault: envelope encryption of secrets under the master keyring (KMS-01, -05, -07, -10).
//
// Each secret is encrypted with AES-256-GCM under a data key derived per tenant and purpose
// (HKDF-SHA256, IKM = master key of the version, info = "sb/v1|enc|<field>|<tenant>"); the
// master key itself never encrypts data. Every encryption uses a fresh random 96-bit nonce.
// The associated data binds the version, tenant, owner and field, so a ciphertext copied to
// another row, tenant or field does not decrypt. Text form:
//   sbv1:<key version>:<base64url(nonce(12) || ad check(8) || ciphertext || tag(16))>
// The 8-byte "ad check" is a truncated HMAC-SHA256 of the associated data under a second
// derived key; it lets Decrypt tell a ciphertext presented under the wrong address apart from
// one whose bytes were modified (AES-GCM alone cannot).
//
// Decrypt checks in this order and answers each failure with its own message: prefix, field
// split, version syntax, version newer than the keyring ("too new"), version not in the keyring,
// version below the minimum decryption version ("too old"), base64url, length ("truncated"),
// associated data, authentication tag ("modified"). Messages never contain key material,
// plaintext or the ciphertext.
//
// Derived keys are cached in memory (bounded, keyed by version, purpose, field and tenant) as
// SecretBytes: wiped when evicted, when their version leaves the keyring and on destruction;
// they are never logged or returned. Thread-safe.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "sb/base/ids.h"
#include "sb/base/random.h"
#include "sb/base/status.h"
#include "sb/vault/keyring.h"
#include "sb/vault/secure_buffer.h"

namespace sb::vault {

// The address a secret is bound to (its associated data).
struct SecretContext {
  TenantId tenant;
  std::string owner_id;  // e.g. the connection or integration id
  std::string field;     // e.g. "refresh_token", "client_secret"; also the HKDF purpose
};

class Vault {
 public:
  static constexpr size_t kMaxCachedKeys = 4096;

  // Write version = the keyring's newest, minimum decryption version = 1.
  Vault(std::shared_ptr<const Keyring> keyring, Random& random);

  // Replaces the keyring (after a rotation); drops every cached derived key. Keeps the write
  // version when the new keyring still holds it, else moves to the new keyring's newest.
  void SetKeyring(std::shared_ptr<const Keyring> keyring);
  // FAILED_PRECONDITION when write_version is not in the keyring; INVALID_ARGUMENT unless
  // 1 <= min_decrypt_version <= write_version.
  Status SetVersions(uint32_t write_version, uint32_t min_decrypt_version);
  uint32_t write_version() const;
  uint32_t min_decrypt_version() const;
  std::shared_ptr<const Keyring> keyring() const;

  Result<std::string> Encrypt(const SecretContext& ctx, std::string_view plaintext);
  Result<SecretBytes> Decrypt(const SecretContext& ctx, std::string_view ciphertext) const;
  // The key version named by a ciphertext's prefix (no decryption).
  static Result<uint32_t> CiphertextVersion(std::string_view ciphertext);
  // Encrypt calls per version in this process (KMS-05: rotate well before 2^32).
  int64_t encryptions(uint32_t version) const;

 private:
  struct Keys;
  Result<std::shared_ptr<const Keys>> DerivedKeys(const Keyring& keyring, uint32_t version,
                                                  const SecretContext& ctx) const;

  Random& random_;
  mutable std::shared_mutex mu_;
  std::shared_ptr<const Keyring> keyring_;
  uint32_t write_version_ = 0;
  uint32_t min_decrypt_version_ = 1;
  mutable std::unordered_map<std::string, std::shared_ptr<const Keys>> cache_;
  mutable std::mutex count_mu_;
  std::map<uint32_t, int64_t> encryptions_;
};

}  // namespace sb::vault
