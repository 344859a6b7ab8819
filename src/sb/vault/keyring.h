// Keyring: the versioned 256-bit master keys (KMS-01). Loaded from a key file or from
// SWITCHBOARD_MASTER_KEYS, never from the database. Versions are 1..2^31-1 and only grow.
// Text form (key file and environment): entries "<version>:<base64 or base64url of 32 bytes>",
// separated by newlines or commas; blank lines and lines starting with '#' are ignored.
// Immutable once shared (std::shared_ptr<const Keyring>); not thread-safe while being built.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "sb/base/random.h"
#include "sb/base/status.h"
#include "sb/vault/secure_buffer.h"

namespace sb::vault {

class Keyring {
 public:
  static constexpr uint32_t kMaxVersion = 0x7fffffff;

  // INVALID_ARGUMENT for a version outside 1..kMaxVersion or a key that is not 32 bytes,
  // ALREADY_EXISTS for a duplicate version.
  Status Add(uint32_t version, SecretBytes key);
  // nullptr when absent.
  const SecretBytes* Find(uint32_t version) const;
  // 0 when empty.
  uint32_t newest_version() const;
  std::vector<uint32_t> versions() const;  // ascending
  bool empty() const { return keys_.empty(); }
  // The key-file text. Contains key material: callers write it 0600 and wipe it.
  std::string Serialize() const;

 private:
  std::map<uint32_t, SecretBytes> keys_;
};

// Parses the text form. Errors name `source_name` and the entry number, never key material.
Result<Keyring> ParseKeyring(std::string_view text, std::string_view source_name);
// Reads a key file. NOT_FOUND when missing; FAILED_PRECONDITION (naming the path and the mode)
// when group or others may read or write it.
Result<Keyring> LoadKeyFile(const std::string& path);
// Writes atomically: a 0600 temp file in the same directory, fsync, rename, fsync directory.
Status WriteKeyFile(const std::string& path, const Keyring& keyring);
// 32 random bytes.
SecretBytes GenerateMasterKey(Random& random);

}  // namespace sb::vault
