#include "sb/net/address_policy.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include <arpa/inet.h>

namespace sb::net {
namespace {

// IANA IPv4 Special-Purpose Address Registry, and multicast (RFC 5771).
constexpr SpecialRange kIpv4[] = {
    {"0.0.0.0/8", "this network"},
    {"10.0.0.0/8", "private use"},
    {"100.64.0.0/10", "shared address space (CGNAT)"},
    {"127.0.0.0/8", "loopback"},
    {"169.254.0.0/16", "link local (cloud metadata)"},
    {"172.16.0.0/12", "private use"},
    {"192.0.0.0/24", "IETF protocol assignments (DS-Lite, PCP and TURN anycast, NAT64 discovery)"},
    {"192.0.2.0/24", "documentation (TEST-NET-1)"},
    {"192.31.196.0/24", "AS112-v4"},
    {"192.52.193.0/24", "AMT"},
    {"192.88.99.0/24", "deprecated 6to4 relay anycast"},
    {"192.168.0.0/16", "private use"},
    {"192.175.48.0/24", "direct delegation AS112 service"},
    {"198.18.0.0/15", "benchmarking"},
    {"198.51.100.0/24", "documentation (TEST-NET-2)"},
    {"203.0.113.0/24", "documentation (TEST-NET-3)"},
    {"224.0.0.0/4", "multicast"},
    {"240.0.0.0/4", "reserved"},
    {"255.255.255.255/32", "limited broadcast"},
};

// IANA IPv6 Special-Purpose Address Registry, plus deprecated ranges that still route somewhere
// on old stacks, and multicast (RFC 4291).
constexpr SpecialRange kIpv6[] = {
    {"::/128", "unspecified"},
    {"::1/128", "loopback"},
    {"::/96", "IPv4-compatible (deprecated)"},
    {"::ffff:0:0:0/96", "IPv4-translated (SIIT)"},
    {"64:ff9b::/96", "IPv4-IPv6 translation (NAT64 well-known prefix)"},
    {"64:ff9b:1::/48", "IPv4-IPv6 translation (local use)"},
    {"100::/64", "discard only"},
    {"100:0:0:1::/64", "dummy prefix"},
    {"2001::/23", "IETF protocol assignments (Teredo, PCP and TURN anycast, AMT, ORCHID)"},
    {"2001:db8::/32", "documentation"},
    {"2002::/16", "6to4"},
    {"2620:4f:8000::/48", "direct delegation AS112 service"},
    {"3fff::/20", "documentation"},
    {"5f00::/16", "segment routing (SRv6) SIDs"},
    {"fc00::/7", "unique local"},
    {"fe80::/10", "link local"},
    {"fec0::/10", "site local (deprecated)"},
    {"ff00::/8", "multicast"},
};

constexpr uint8_t kMappedPrefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

// Parses "address/bits" of the given family into `bytes`; false on malformed text.
bool ParsePrefix(std::string_view prefix, int family, uint8_t* bytes, int& bits) {
  const size_t slash = prefix.find('/');
  if (slash == std::string_view::npos) return false;
  const std::string address(prefix.substr(0, slash));
  const std::string_view length = prefix.substr(slash + 1);
  const auto [end, ec] = std::from_chars(length.data(), length.data() + length.size(), bits);
  return ec == std::errc() && end == length.data() + length.size() &&
         inet_pton(family, address.c_str(), bytes) == 1;
}

bool PrefixMatches(const uint8_t* address, const uint8_t* prefix, int bits) {
  const int whole = bits / 8;
  if (std::memcmp(address, prefix, whole) != 0) return false;
  const int rest = bits % 8;
  if (rest == 0) return true;
  const uint8_t mask = static_cast<uint8_t>(0xff << (8 - rest));
  return (address[whole] & mask) == (prefix[whole] & mask);
}

struct ParsedRange {
  uint8_t prefix[16] = {};
  int bits = 0;
  const SpecialRange* range = nullptr;
};

// The table's prefixes in binary, parsed once. A malformed entry is a programming error that
// the tests catch (every entry has a test address).
std::vector<ParsedRange> Parse(std::span<const SpecialRange> table, int family) {
  std::vector<ParsedRange> out;
  for (const SpecialRange& range : table) {
    ParsedRange parsed;
    if (ParsePrefix(range.prefix, family, parsed.prefix, parsed.bits)) {
      parsed.range = &range;
      out.push_back(parsed);
    }
  }
  return out;
}

// The most specific range of `table` containing `address`, or nullptr.
const SpecialRange* Lookup(const std::vector<ParsedRange>& table, const uint8_t* address) {
  const ParsedRange* best = nullptr;
  for (const ParsedRange& parsed : table) {
    if ((best == nullptr || parsed.bits > best->bits) &&
        PrefixMatches(address, parsed.prefix, parsed.bits)) {
      best = &parsed;
    }
  }
  return best == nullptr ? nullptr : best->range;
}

const SpecialRange* LookupV4(const uint8_t a[4]) {
  static const std::vector<ParsedRange>* const kTable = new auto(Parse(kIpv4, AF_INET));
  return Lookup(*kTable, a);
}

const SpecialRange* LookupV6(const uint8_t a[16]) {
  // IPv4-mapped: the IPv4 address itself on a dual-stack socket.
  if (std::memcmp(a, kMappedPrefix, sizeof(kMappedPrefix)) == 0) {
    return LookupV4(a + 12);
  }
  static const std::vector<ParsedRange>* const kTable = new auto(Parse(kIpv6, AF_INET6));
  return Lookup(*kTable, a);
}

std::string Lowercase(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

// True when every dot-separated label is decimal or 0x-hex digits: a numeric host that
// resolvers read as an IPv4 address in a form inet_pton does not accept.
bool IsNumericHost(std::string_view h) {
  size_t start = 0;
  while (start <= h.size()) {
    size_t end = h.find('.', start);
    if (end == std::string_view::npos) end = h.size();
    std::string_view label = h.substr(start, end - start);
    const bool hex = label.starts_with("0x");
    if (hex) label.remove_prefix(2);
    const bool digits = !label.empty() && std::all_of(label.begin(), label.end(), [&](char c) {
      return hex ? std::isxdigit(static_cast<unsigned char>(c)) != 0
                 : std::isdigit(static_cast<unsigned char>(c)) != 0;
    });
    if (!digits) return false;
    start = end + 1;
  }
  return true;
}

}  // namespace

std::span<const SpecialRange> SpecialIpv4Ranges() { return kIpv4; }
std::span<const SpecialRange> SpecialIpv6Ranges() { return kIpv6; }

const SpecialRange* FindSpecialRange(std::string_view address) {
  if (address.size() >= 2 && address.front() == '[' && address.back() == ']') {
    address = address.substr(1, address.size() - 2);
  }
  const std::string text(address);
  uint8_t bytes[16];
  if (inet_pton(AF_INET, text.c_str(), bytes) == 1) return LookupV4(bytes);
  if (inet_pton(AF_INET6, text.c_str(), bytes) == 1) return LookupV6(bytes);
  return nullptr;
}

bool IsInternalHost(std::string_view host) {
  std::string h = Lowercase(host);
  while (!h.empty() && h.back() == '.') h.pop_back();
  if (h.empty() || h == "localhost" || h.ends_with(".localhost")) return true;
  uint8_t bytes[16];
  if (h.front() == '[' && h.back() == ']') {
    const std::string literal = h.substr(1, h.size() - 2);
    if (inet_pton(AF_INET6, literal.c_str(), bytes) != 1) return true;  // unparsable: refuse
    return LookupV6(bytes) != nullptr;
  }
  if (inet_pton(AF_INET, h.c_str(), bytes) == 1) return LookupV4(bytes) != nullptr;
  if (inet_pton(AF_INET6, h.c_str(), bytes) == 1) return LookupV6(bytes) != nullptr;
  return IsNumericHost(h);
}

}  // namespace sb::net
