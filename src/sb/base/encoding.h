// Byte encodings: hex, base64 and base64url (RFC 4648), percent-encoding (RFC 3986) and
// application/x-www-form-urlencoded bodies, UTF-8 validation, HTML escaping. Pure functions.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sb {

std::string HexEncode(std::string_view bytes);
std::optional<std::string> HexDecode(std::string_view hex);

std::string Base64Encode(std::string_view bytes);
std::optional<std::string> Base64Decode(std::string_view text);
// URL-safe alphabet, no padding on encode; decode accepts missing or present padding.
std::string Base64UrlEncode(std::string_view bytes);
std::optional<std::string> Base64UrlDecode(std::string_view text);

// Percent-encodes every byte but the RFC 3986 unreserved characters (so '/', ':', ' ' too).
std::string PercentEncode(std::string_view text);
// Decodes %XX escapes into raw bytes (any byte value; no UTF-8 check); with `plus_as_space`
// (query strings) '+' becomes ' '. nullopt on a malformed escape.
std::optional<std::string> PercentDecodeBytes(std::string_view text, bool plus_as_space = false);
// "a=1&b=2" with every name and value percent-encoded (spaces as %20, which form decoders
// accept as well as '+').
std::string FormEncode(const std::vector<std::pair<std::string, std::string>>& fields);

// The RFC 6454 origin of an absolute http(s) URL, normalised: lower-case scheme and host, the
// default port (80, 443) dropped, e.g. "HTTPS://App.Example:443/x?y" -> "https://app.example".
// nullopt for other schemes, a missing or empty host, userinfo ('@'), a bad port, a backslash,
// or bytes outside printable ASCII. With `bare`, the URL may carry nothing after the authority but
// an optional "/" (for lists of origins).
std::optional<std::string> UrlOrigin(std::string_view url, bool bare = false);

// True when `text` is well-formed UTF-8 (no overlongs, surrogates or code points > U+10FFFF).
bool IsValidUtf8(std::string_view text);

// Escapes & < > " ' (as &amp; &lt; &gt; &quot; &#39;) for HTML text and quoted attribute
// values; every other byte is copied unchanged.
std::string HtmlEscape(std::string_view text);

}  // namespace sb
