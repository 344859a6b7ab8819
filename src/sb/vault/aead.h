// AES-256-GCM (NIST SP 800-38D) over OpenSSL EVP: 32-byte key, 12-byte nonce, 16-byte tag
// appended to the ciphertext. Thread-safe (no shared state).
#pragma once

#include <cstddef>
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

}  // namespace sb::vault
