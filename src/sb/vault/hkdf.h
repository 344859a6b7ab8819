// HKDF-SHA256 (RFC 5869) over OpenSSL's EVP_KDF "HKDF". Thread-safe.
#pragma once

#include <cstddef>
#include <string_view>

#include "sb/base/status.h"
#include "sb/vault/secure_buffer.h"

namespace sb::vault {

// `length` output bytes (1..8160). INVALID_ARGUMENT for an empty IKM or a bad length.
Result<SecretBytes> HkdfSha256(std::string_view ikm, std::string_view salt, std::string_view info,
                               size_t length);

}  // namespace sb::vault
