// Digests and comparisons on secrets: SHA-256, HMAC-SHA256 and constant-time equality.
// Pure functions over OpenSSL (whose home is this module); thread-safe.
#pragma once

#include <string>
#include <string_view>

namespace sb::vault {

// Raw 32-byte SHA-256 digest of `data`.
std::string Sha256(std::string_view data);
// Raw 32-byte HMAC-SHA256 of `data` under `key`.
std::string HmacSha256(std::string_view key, std::string_view data);
// True when a and b are equal; the time taken depends only on their lengths.
bool ConstantTimeEquals(std::string_view a, std::string_view b);

}  // namespace sb::vault
