// AES-256-GCM (NIST SP 800-38D) over OpenSSL EVP: 32-byte key, 12-byte nonce, 16-byte tag
// appended to the ciphertext. Thread-safe (no shared state).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "sb/base/status.h"
#include "sb/vault/secure_buffer.h"

namespace sb::vault {

inline constexpr size_t kKeySize = 32;
inline constexpr size_t kNonceSize = 12;
inline constexpr size_t kTagSize = 16;

// ciphertext || tag. INVALID_ARGUMENT for a wrong key or nonce size.
Result<std::string> Aes256GcmSeal(std::string_view key, std::string_view nonce,
                                  std::string_view plaintext, std::string_view aad);
// The plaintext. DATA_LOSS when the tag does not verify (wrong key, nonce, AAD or modified
// bytes), INVALID_ARGUMENT for wrong sizes.
Result<SecretBytes> Aes256GcmOpen(std::string_view key, std::string_view nonce,
                                  std::string_view ciphertext_and_tag, std::string_view aad);

// The same, with the key schedule kept in per-thread cipher contexts for `key_id`, which must
// identify `key` uniquely for the life of the process (never reuse an id for another key; 0 is
// never cached). For hot keys (the vault's cached data keys) this skips the key expansion.
Result<std::string> Aes256GcmSealCached(uint64_t key_id, std::string_view key,
                                        std::string_view nonce, std::string_view plaintext,
                                        std::string_view aad);
Result<SecretBytes> Aes256GcmOpenCached(uint64_t key_id, std::string_view key,
                                        std::string_view nonce, std::string_view ciphertext_and_tag,
                                        std::string_view aad);

}  // namespace sb::vault
