// Byte encodings: hex, base64 and base64url (RFC 4648), UTF-8 validation. Pure functions.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace sb {

std::string HexEncode(std::string_view bytes);
std::optional<std::string> HexDecode(std::string_view hex);

std::string Base64Encode(std::string_view bytes);
std::optional<std::string> Base64Decode(std::string_view text);
// URL-safe alphabet, no padding on encode; decode accepts missing or present padding.
std::string Base64UrlEncode(std::string_view bytes);
std::optional<std::string> Base64UrlDecode(std::string_view text);

// True when `text` is well-formed UTF-8 (no overlongs, surrogates or code points > U+10FFFF).
bool IsValidUtf8(std::string_view text);

}  // namespace sb
