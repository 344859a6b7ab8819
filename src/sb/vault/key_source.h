// Where the master keyring comes from: SWITCHBOARD_MASTER_KEYS when set, otherwise the key file
// (vault.key_file). Never the database. In development a missing key file is generated (one
// fresh 256-bit key, mode 0600) with a loud warning; in production a missing keyring is an
// error that stops start-up.
#pragma once

#include <memory>
#include <optional>
#include <ostream>
#include <string>

#include "sb/base/random.h"
#include "sb/base/status.h"
#include "sb/vault/keyring.h"

namespace sb::vault {

struct KeySource {
  std::string file;                      // vault.key_file
  std::optional<std::string> env_value;  // SWITCHBOARD_MASTER_KEYS, when set

  bool from_env() const { return env_value.has_value(); }
  // "SWITCHBOARD_MASTER_KEYS" or the file path: for messages (never the keys).
  std::string Describe() const;
};

// Loads the keyring. Errors: NOT_FOUND (no file), FAILED_PRECONDITION (file readable by others),
// INVALID_ARGUMENT (malformed entries; the message names the entry, never the key), and
// FAILED_PRECONDITION for an empty keyring.
Result<std::shared_ptr<const Keyring>> LoadKeyring(const KeySource& source);

// LoadKeyring, except that in development a missing key file is created first and `warn`
// receives a loud warning. In production a missing keyring is FAILED_PRECONDITION with a
// message that says how to provide one.
Result<std::shared_ptr<const Keyring>> LoadOrCreateKeyring(const KeySource& source,
                                                           bool development, Random& random,
                                                           std::ostream& warn);

}  // namespace sb::vault
