#include "sb/base/encoding.h"

#include <array>
#include <cstdint>
#include <cstring>

namespace sb {
namespace {

constexpr char kHex[] = "0123456789abcdef";
constexpr char kHexUpper[] = "0123456789ABCDEF";
constexpr char kB64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr char kB64Url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Base64 for tokens and vault ciphertexts, which pass through here on hot paths. Encoding looks
// up 12 bits at a time in a table of character pairs; decoding ORs four pre-shifted table
// entries per 4 characters and tests the error bit once at the end, so that the loop has no
// data-dependent branch.
struct EncodeTable {
  std::array<uint16_t, 4096> pairs;  // 12 bits -> two characters, in memory order
  const char* alphabet;
};

EncodeTable MakeEncodeTable(const char* alphabet) {
  EncodeTable table{};
  table.alphabet = alphabet;
  for (uint32_t v = 0; v < 4096; ++v) {
    const char chars[2] = {alphabet[v >> 6], alphabet[v & 63]};
    std::memcpy(&table.pairs[v], chars, 2);
  }
  return table;
}

std::string Encode64(std::string_view in, const EncodeTable& table, bool pad) {
  const size_t full = in.size() / 3;
  const size_t rest = in.size() - full * 3;
  size_t size = full * 4;
  if (rest > 0) size += pad ? 4 : rest + 1;
  std::string out(size, '\0');
  const auto* src = reinterpret_cast<const uint8_t*>(in.data());
  char* dst = out.data();
  size_t i = 0;
  // Two groups (6 bytes -> 8 characters) per step from one 8-byte load, while 8 bytes remain.
  for (; i + 2 < full || (i + 2 == full && rest >= 2); i += 2, src += 6, dst += 8) {
    uint64_t word;
    std::memcpy(&word, src, 8);
    word = __builtin_bswap64(word);  // big-endian: the first byte in the top bits
    std::memcpy(dst, &table.pairs[(word >> 52) & 0xFFF], 2);
    std::memcpy(dst + 2, &table.pairs[(word >> 40) & 0xFFF], 2);
    std::memcpy(dst + 4, &table.pairs[(word >> 28) & 0xFFF], 2);
    std::memcpy(dst + 6, &table.pairs[(word >> 16) & 0xFFF], 2);
  }
  for (; i < full; ++i, src += 3, dst += 4) {
    const uint32_t v = (uint32_t(src[0]) << 16) | (uint32_t(src[1]) << 8) | src[2];
    std::memcpy(dst, &table.pairs[v >> 12], 2);
    std::memcpy(dst + 2, &table.pairs[v & 0xFFF], 2);
  }
  const char* alphabet = table.alphabet;
  if (rest > 0) {
    uint32_t v = uint32_t(src[0]) << 16;
    if (rest == 2) v |= uint32_t(src[1]) << 8;
    *dst++ = alphabet[(v >> 18) & 63];
    *dst++ = alphabet[(v >> 12) & 63];
    if (rest == 2) *dst++ = alphabet[(v >> 6) & 63];
    if (pad) {
      if (rest == 1) *dst++ = '=';
      *dst++ = '=';
    }
  }
  return out;
}

// shifted[k][c]: the 6-bit value of character c moved to its place in a 24-bit group for
// position k, or kInvalid (a bit above the group) for characters outside the alphabet.
struct DecodeTable {
  static constexpr uint32_t kInvalid = 1u << 24;
  std::array<std::array<uint32_t, 256>, 4> shifted;
};

DecodeTable MakeDecodeTable(const char* alphabet) {
  DecodeTable table;
  for (auto& row : table.shifted) row.fill(DecodeTable::kInvalid);
  for (uint32_t i = 0; i < 64; ++i) {
    const auto c = uint8_t(alphabet[i]);
    table.shifted[0][c] = i << 18;
    table.shifted[1][c] = i << 12;
    table.shifted[2][c] = i << 6;
    table.shifted[3][c] = i;
  }
  return table;
}

std::optional<std::string> Decode64(std::string_view in, const DecodeTable& table) {
  while (!in.empty() && in.back() == '=') in.remove_suffix(1);
  if (in.size() % 4 == 1) return std::nullopt;
  const size_t full = in.size() / 4;
  const size_t rest = in.size() - full * 4;  // 0, 2 or 3 characters
  std::string out(full * 3 + (rest == 0 ? 0 : rest - 1), '\0');
  const auto* src = reinterpret_cast<const uint8_t*>(in.data());
  char* dst = out.data();
  const auto& t = table.shifted;
  uint32_t errors = 0;
  size_t i = 0;
  const size_t out_size = out.size();
  // Two groups (8 characters -> 6 bytes) per step with one 8-byte store, while the store's two
  // extra bytes still land inside the output (the next step overwrites them).
  for (; i + 1 < full && 3 * i + 8 <= out_size; i += 2, src += 8, dst += 6) {
    const uint32_t a = t[0][src[0]] | t[1][src[1]] | t[2][src[2]] | t[3][src[3]];
    const uint32_t b = t[0][src[4]] | t[1][src[5]] | t[2][src[6]] | t[3][src[7]];
    errors |= a | b;
    const uint64_t word = __builtin_bswap64((uint64_t(a) << 40) | (uint64_t(b & 0xFFFFFF) << 16));
    std::memcpy(dst, &word, 8);
  }
  for (; i < full; ++i, src += 4, dst += 3) {
    const uint32_t v = t[0][src[0]] | t[1][src[1]] | t[2][src[2]] | t[3][src[3]];
    errors |= v;
    dst[0] = char(v >> 16);
    dst[1] = char(v >> 8);
    dst[2] = char(v);
  }
  if (errors & DecodeTable::kInvalid) return std::nullopt;
  if (rest > 0) {
    const uint32_t v = t[0][src[0]] | t[1][src[1]] | (rest == 3 ? t[2][src[2]] : 0);
    if (v & DecodeTable::kInvalid) return std::nullopt;
    dst[0] = char(v >> 16);
    if (rest == 3) dst[1] = char(v >> 8);
    // Leftover bits must be zero (canonical encoding).
    if ((rest == 2 && (v & 0xFFFF) != 0) || (rest == 3 && (v & 0xFF) != 0)) return std::nullopt;
  }
  return out;
}

}  // namespace

std::string HexEncode(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size() * 2);
  for (char c : bytes) {
    out += kHex[(uint8_t(c) >> 4) & 0xF];
    out += kHex[uint8_t(c) & 0xF];
  }
  return out;
}

std::optional<std::string> HexDecode(std::string_view hex) {
  if (hex.size() % 2 != 0) return std::nullopt;
  std::string out;
  out.reserve(hex.size() / 2);
  for (size_t i = 0; i < hex.size(); i += 2) {
    int hi = HexValue(hex[i]);
    int lo = HexValue(hex[i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out += char((hi << 4) | lo);
  }
  return out;
}

std::string Base64Encode(std::string_view bytes) {
  static const EncodeTable table = MakeEncodeTable(kB64);
  return Encode64(bytes, table, true);
}
std::optional<std::string> Base64Decode(std::string_view text) {
  static const DecodeTable table = MakeDecodeTable(kB64);
  return Decode64(text, table);
}
std::string Base64UrlEncode(std::string_view bytes) {
  static const EncodeTable table = MakeEncodeTable(kB64Url);
  return Encode64(bytes, table, false);
}
std::optional<std::string> Base64UrlDecode(std::string_view text) {
  static const DecodeTable table = MakeDecodeTable(kB64Url);
  return Decode64(text, table);
}

std::optional<std::string> PercentDecodeBytes(std::string_view text, bool plus_as_space) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c != '%') {
      out += (plus_as_space && c == '+') ? ' ' : c;
      continue;
    }
    const int hi = i + 2 < text.size() ? HexValue(text[i + 1]) : -1;
    const int lo = hi >= 0 ? HexValue(text[i + 2]) : -1;
    if (lo < 0) return std::nullopt;
    out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  return out;
}

std::string PercentEncode(std::string_view text) {
  std::string out;
  out.reserve(text.size() * 3);
  for (const char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if ((u >= 'A' && u <= 'Z') || (u >= 'a' && u <= 'z') || (u >= '0' && u <= '9') || u == '-' ||
        u == '.' || u == '_' || u == '~') {
      out.push_back(c);
    } else {
      out.push_back('%');
      out.push_back(kHexUpper[u >> 4]);
      out.push_back(kHexUpper[u & 15]);
    }
  }
  return out;
}

std::string FormEncode(const std::vector<std::pair<std::string, std::string>>& fields) {
  std::string out;
  for (const auto& [name, value] : fields) {
    if (!out.empty()) out.push_back('&');
    out.append(PercentEncode(name)).append("=").append(PercentEncode(value));
  }
  return out;
}

bool IsValidUtf8(std::string_view text) {
  size_t i = 0;
  const size_t n = text.size();
  while (i < n) {
    uint8_t c = uint8_t(text[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    int len = 0;
    uint32_t cp = 0;
    if ((c & 0xE0) == 0xC0) {
      len = 2;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      len = 3;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      len = 4;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (i + len > n) return false;
    for (int k = 1; k < len; ++k) {
      uint8_t cc = uint8_t(text[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000)) {
      return false;  // overlong
    }
    if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += len;
  }
  return true;
}

namespace {

std::string Lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

// "host[:port]" -> normalised "host[:port]" without the scheme's default port.
std::optional<std::string> NormaliseAuthority(std::string_view authority,
                                              std::string_view default_port) {
  if (authority.empty() || authority.find('@') != std::string_view::npos) return std::nullopt;
  const size_t bracket = authority.rfind(']');
  size_t colon = authority.rfind(':');
  if (bracket != std::string_view::npos && colon < bracket) colon = std::string_view::npos;
  std::string_view host = authority.substr(0, colon);
  std::string_view port =
      colon == std::string_view::npos ? std::string_view() : authority.substr(colon + 1);
  if (host.empty() || (colon != std::string_view::npos && port.empty()) || port.size() > 5) {
    return std::nullopt;
  }
  for (char c : port) {
    if (c < '0' || c > '9') return std::nullopt;
  }
  while (port.size() > 1 && port.front() == '0') port.remove_prefix(1);
  if (!port.empty() &&
      (std::stoi(std::string(port)) == 0 || std::stoi(std::string(port)) > 65535)) {
    return std::nullopt;
  }
  std::string out = Lower(host);
  // Appended piecewise: g++ 12 -O3 reports a false -Wrestrict on ":" + std::string(...).
  if (!port.empty() && port != default_port) out.append(":").append(port);
  return out;
}

}  // namespace

std::optional<std::string> UrlOrigin(std::string_view url, bool bare) {
  for (char c : url) {
    // A backslash is a path separator to browsers but not to parsers: refused.
    if (static_cast<unsigned char>(c) <= 0x20 || static_cast<unsigned char>(c) >= 0x7f ||
        c == '\\') {
      return std::nullopt;
    }
  }
  const size_t sep = url.find("://");
  if (sep == std::string_view::npos) return std::nullopt;
  const std::string scheme = Lower(url.substr(0, sep));
  if (scheme != "http" && scheme != "https") return std::nullopt;
  const std::string_view rest = url.substr(sep + 3);
  const size_t end = rest.find_first_of("/?#");
  const std::string_view after = end == std::string_view::npos ? "" : rest.substr(end);
  if (bare && !after.empty() && after != "/") return std::nullopt;
  auto authority = NormaliseAuthority(rest.substr(0, end), scheme == "http" ? "80" : "443");
  if (!authority) return std::nullopt;
  return scheme + "://" + *authority;
}

std::string HtmlEscape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out.push_back(c);
    }
  }
  return out;
}

}  // namespace sb
