// The outbound private-address filter (security.md WH-05): one case per range of the IANA IPv4
// and IPv6 Special-Purpose Address Registries, each with an address at both ends of the range
// (refused, naming that range) and one just outside it (allowed unless another range holds it).
#include "sb/net/address_policy.h"

#include <cctype>
#include <set>
#include <string>

#include <gtest/gtest.h>

namespace sb::net {
namespace {

struct RangeCase {
  const char* prefix;   // the table entry this case covers
  const char* first;    // the range's first address
  const char* last;     // the range's last address
  const char* outside;  // an ordinary address next to it, or nullptr when none is ordinary
};

constexpr RangeCase kCases[] = {
    {"0.0.0.0/8", "0.0.0.0", "0.255.255.255", "1.0.0.0"},
    {"10.0.0.0/8", "10.0.0.0", "10.255.255.255", "11.0.0.0"},
    {"100.64.0.0/10", "100.64.0.0", "100.127.255.255", "100.128.0.0"},
    {"127.0.0.0/8", "127.0.0.1", "127.255.255.255", "128.0.0.0"},
    {"169.254.0.0/16", "169.254.169.254", "169.254.255.255", "169.255.0.0"},
    {"172.16.0.0/12", "172.16.0.0", "172.31.255.255", "172.32.0.0"},
    {"192.0.0.0/24", "192.0.0.9", "192.0.0.255", "192.0.1.0"},
    {"192.0.2.0/24", "192.0.2.0", "192.0.2.255", "192.0.3.0"},
    {"192.31.196.0/24", "192.31.196.0", "192.31.196.255", "192.31.197.0"},
    {"192.52.193.0/24", "192.52.193.0", "192.52.193.255", "192.52.194.0"},
    {"192.88.99.0/24", "192.88.99.1", "192.88.99.255", "192.88.100.0"},
    {"192.168.0.0/16", "192.168.0.1", "192.168.255.255", "192.169.0.0"},
    {"192.175.48.0/24", "192.175.48.0", "192.175.48.255", "192.175.49.0"},
    {"198.18.0.0/15", "198.18.0.0", "198.19.255.255", "198.20.0.0"},
    {"198.51.100.0/24", "198.51.100.0", "198.51.100.255", "198.51.101.0"},
    {"203.0.113.0/24", "203.0.113.0", "203.0.113.255", "203.0.114.0"},
    {"224.0.0.0/4", "224.0.0.1", "239.255.255.255", "223.255.255.255"},
    {"240.0.0.0/4", "240.0.0.0", "255.255.255.254", nullptr},
    {"255.255.255.255/32", "255.255.255.255", "255.255.255.255", nullptr},
    {"::/128", "::", "::", nullptr},
    {"::1/128", "::1", "::1", nullptr},
    {"::/96", "::2", "::ffff:ffff", "::1:0:0:0"},
    {"::ffff:0:0:0/96", "::ffff:0:0:0", "::ffff:0:ffff:ffff", "::1:0:0:0:0"},
    {"64:ff9b::/96", "64:ff9b::10.0.0.1", "64:ff9b::8.8.8.8", "64:ff9b::1:0:0"},
    {"64:ff9b:1::/48", "64:ff9b:1::", "64:ff9b:1:ffff:ffff:ffff:ffff:ffff", "64:ff9b:2::"},
    {"100::/64", "100::", "100::ffff:ffff:ffff:ffff", "100:0:0:2::"},
    {"100:0:0:1::/64", "100:0:0:1::", "100:0:0:1:ffff:ffff:ffff:ffff", "100:0:0:2::"},
    // Teredo (2001::/32) with an obfuscated private server and client address, and the rest.
    {"2001::/23", "2001:0:4136:e378:8000:63bf:3fff:fdd2", "2001:1ff:ffff:ffff:ffff:ffff:ffff:ffff",
     "2001:200::"},
    {"2001:db8::/32", "2001:db8::", "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", "2001:db9::"},
    // 6to4 of 10.0.0.1 and of 192.168.1.1: refused whole, whatever it embeds.
    {"2002::/16", "2002:a00:1::1", "2002:c0a8:101:ffff:ffff:ffff:ffff:ffff", "2003::"},
    {"2620:4f:8000::/48", "2620:4f:8000::", "2620:4f:8000:ffff:ffff:ffff:ffff:ffff",
     "2620:4f:8001::"},
    {"3fff::/20", "3fff::", "3fff:fff:ffff:ffff:ffff:ffff:ffff:ffff", "3fff:1000::"},
    {"5f00::/16", "5f00::", "5f00:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "5f01::"},
    {"fc00::/7", "fc00::", "fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "fbff:ffff::"},
    {"fe80::/10", "fe80::1", "febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff", nullptr},
    {"fec0::/10", "fec0::1", "feff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", nullptr},
    {"ff00::/8", "ff00::", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "fe7f:ffff::"},
};

class SpecialRangeTest : public ::testing::TestWithParam<RangeCase> {};

TEST_P(SpecialRangeTest, RefusesBothEndsAndAllowsNextDoor) {
  const RangeCase& c = GetParam();
  for (const char* address : {c.first, c.last}) {
    const SpecialRange* found = FindSpecialRange(address);
    ASSERT_NE(found, nullptr) << address;
    EXPECT_EQ(found->prefix, c.prefix) << address;
    const bool v6 = std::string(address).find(':') != std::string::npos;
    const std::string host = v6 ? "[" + std::string(address) + "]" : address;
    EXPECT_TRUE(IsInternalHost(host)) << host;
  }
  if (c.outside != nullptr) {
    EXPECT_EQ(FindSpecialRange(c.outside), nullptr) << c.outside;
    const bool v6 = std::string(c.outside).find(':') != std::string::npos;
    EXPECT_FALSE(IsInternalHost(v6 ? "[" + std::string(c.outside) + "]" : c.outside)) << c.outside;
  }
}

INSTANTIATE_TEST_SUITE_P(IanaRegistries, SpecialRangeTest, ::testing::ValuesIn(kCases),
                         [](const auto& info) {
                           std::string name(info.param.prefix);
                           for (char& c : name) {
                             if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
                           }
                           return name;
                         });

// Adding a range to a table without a case here fails.
TEST(SpecialRangeTableTest, EveryRangeHasACase) {
  std::set<std::string> covered;
  for (const RangeCase& c : kCases) covered.insert(c.prefix);
  size_t ranges = 0;
  for (const auto& table : {SpecialIpv4Ranges(), SpecialIpv6Ranges()}) {
    for (const SpecialRange& range : table) {
      ++ranges;
      EXPECT_TRUE(covered.contains(std::string(range.prefix))) << range.prefix;
    }
  }
  EXPECT_EQ(ranges, covered.size());
}

TEST(AddressPolicyTest, IpvFourMappedIsJudgedAsTheIpvFourAddress) {
  EXPECT_TRUE(IsInternalHost("[::ffff:127.0.0.1]"));
  EXPECT_TRUE(IsInternalHost("[::ffff:10.1.2.3]"));
  EXPECT_TRUE(IsInternalHost("[::ffff:169.254.169.254]"));
  EXPECT_FALSE(IsInternalHost("[::ffff:8.8.8.8]"));
}

TEST(AddressPolicyTest, NamesAndNumericFormsResolversAccept) {
  for (const char* host : {"localhost", "LOCALHOST.", "api.localhost", "2130706433", "0x7f000001",
                           "017700000001", "127.1", "0x7f.1", "[not-v6]", "", "::1"}) {
    EXPECT_TRUE(IsInternalHost(host)) << host;
  }
  for (const char* host : {"hooks.example.com", "93.184.216.34", "8.8.8.8", "[2606:4700::1]",
                           "[2001:4860:4860::8888]", "host-10.example.net", "1e100.net"}) {
    EXPECT_FALSE(IsInternalHost(host)) << host;
  }
}

TEST(AddressPolicyTest, OrdinaryAddressesHaveNoRange) {
  EXPECT_EQ(FindSpecialRange("8.8.8.8"), nullptr);
  EXPECT_EQ(FindSpecialRange("[2606:4700::1]"), nullptr);
  EXPECT_EQ(FindSpecialRange("example.com"), nullptr);
}

}  // namespace
}  // namespace sb::net
