#include "sb/base/encoding.h"

#include <array>
#include <cstdint>

namespace sb {
namespace {

constexpr char kHex[] = "0123456789abcdef";
constexpr char kB64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr char kB64Url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Writes into a pre-sized buffer, 3 bytes -> 4 characters per step (tokens and ciphertexts
// go through here on hot paths).
std::string Encode64(std::string_view in, const char* alphabet, bool pad) {
  const size_t full = in.size() / 3;
  const size_t rest = in.size() - full * 3;
  size_t size = full * 4;
  if (rest > 0) size += pad ? 4 : rest + 1;
  std::string out(size, '\0');
  const auto* src = reinterpret_cast<const uint8_t*>(in.data());
  char* dst = out.data();
  for (size_t i = 0; i < full; ++i, src += 3, dst += 4) {
    const uint32_t v = (uint32_t(src[0]) << 16) | (uint32_t(src[1]) << 8) | src[2];
    dst[0] = alphabet[(v >> 18) & 63];
    dst[1] = alphabet[(v >> 12) & 63];
    dst[2] = alphabet[(v >> 6) & 63];
    dst[3] = alphabet[v & 63];
  }
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

using DecodeTable = std::array<int8_t, 256>;

DecodeTable MakeTable(const char* alphabet) {
  DecodeTable table;
  table.fill(-1);
  for (int i = 0; i < 64; ++i) table[uint8_t(alphabet[i])] = int8_t(i);
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
  for (size_t i = 0; i < full; ++i, src += 4, dst += 3) {
    const int a = table[src[0]], b = table[src[1]], c = table[src[2]], d = table[src[3]];
    if ((a | b | c | d) < 0) return std::nullopt;
    const uint32_t v = (uint32_t(a) << 18) | (uint32_t(b) << 12) | (uint32_t(c) << 6) | d;
    dst[0] = char(v >> 16);
    dst[1] = char(v >> 8);
    dst[2] = char(v);
  }
  if (rest > 0) {
    const int a = table[src[0]], b = table[src[1]], c = rest == 3 ? table[src[2]] : 0;
    if ((a | b | c) < 0) return std::nullopt;
    const uint32_t v = (uint32_t(a) << 18) | (uint32_t(b) << 12) | (uint32_t(c) << 6);
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

std::string Base64Encode(std::string_view bytes) { return Encode64(bytes, kB64, true); }
std::optional<std::string> Base64Decode(std::string_view text) {
  static const DecodeTable table = MakeTable(kB64);
  return Decode64(text, table);
}
std::string Base64UrlEncode(std::string_view bytes) { return Encode64(bytes, kB64Url, false); }
std::optional<std::string> Base64UrlDecode(std::string_view text) {
  static const DecodeTable table = MakeTable(kB64Url);
  return Decode64(text, table);
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

}  // namespace sb
