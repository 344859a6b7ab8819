// Which addresses an outbound call to a host that a tenant chose (a webhook endpoint) may reach.
//
// The deny list is every range of the IANA IPv4 and IPv6 Special-Purpose Address Registries
// (plus IPv4 multicast and the deprecated IPv6 site-local and IPv4-compatible ranges), as one
// table per family: loopback, private and shared (CGNAT) space, link-local (cloud metadata at
// 169.254.169.254), documentation, benchmarking, reserved, anycast service addresses, and the
// translation and tunnelling prefixes that carry an IPv4 address inside an IPv6 one (NAT64
// 64:ff9b::/96 and 64:ff9b:1::/48, 6to4 2002::/16, Teredo in 2001::/23, IPv4-translated
// ::ffff:0:0:0/96). Those are refused whole, whatever IPv4 address they embed, because the
// gateway that unwraps them decides where they lead. IPv4-mapped addresses (::ffff:a.b.c.d) are
// the IPv4 address itself on a dual-stack socket and are judged as that address.
// security.md WH-05. Pure functions; thread-safe.
#pragma once

#include <span>
#include <string_view>

namespace sb::net {

// One registry range: `prefix` (text, e.g. "100.64.0.0/10" or "64:ff9b::/96") and what it is.
struct SpecialRange {
  std::string_view prefix;
  std::string_view name;
};

// The tables the checks use, for documentation and tests.
std::span<const SpecialRange> SpecialIpv4Ranges();
std::span<const SpecialRange> SpecialIpv6Ranges();

// The special range that the IP literal `address` ("1.2.3.4", "::1" or "[::1]") falls in, or
// nullptr for an ordinary global unicast address. A string that is not an IP literal: nullptr.
const SpecialRange* FindSpecialRange(std::string_view address);

// True when `host` (a URL's host: name, IPv4 literal or bracketed IPv6 literal) must not be
// called: any special-purpose address, "localhost" and "*.localhost", an unparsable bracketed
// literal, and numeric forms resolvers accept but inet_pton does not (2130706433, 0x7f000001,
// 017700000001, 127.1), which are refused whatever they denote.
bool IsInternalHost(std::string_view host);

}  // namespace sb::net
