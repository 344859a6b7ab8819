#include "sb/base/encoding.h"

#include <gtest/gtest.h>

namespace sb {
namespace {

// RFC 4648 section 10 vectors (security.md 6.5).
TEST(Encoding, Base64Rfc4648Vectors) {
  const char* plain[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
  const char* encoded[] = {"", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
  for (int i = 0; i < 7; ++i) {
    EXPECT_EQ(Base64Encode(plain[i]), encoded[i]);
    EXPECT_EQ(Base64Decode(encoded[i]).value(), plain[i]);
  }
}

TEST(Encoding, Base64UrlUsesUrlAlphabetWithoutPadding) {
  EXPECT_EQ(Base64UrlEncode("\xfb\xff\xbf"), "-_-_");
  EXPECT_EQ(Base64UrlEncode("f"), "Zg");
  EXPECT_EQ(Base64UrlDecode("Zg").value(), "f");
  EXPECT_FALSE(Base64UrlDecode("Z").has_value());
  EXPECT_FALSE(Base64UrlDecode("Zh").has_value());  // non-zero trailing bits
  EXPECT_FALSE(Base64UrlDecode("a+b/").has_value());
}

TEST(Encoding, HexRoundTrip) {
  EXPECT_EQ(HexEncode("\x01\xab"), "01ab");
  EXPECT_EQ(HexDecode("01AB").value(), "\x01\xab");
  EXPECT_FALSE(HexDecode("0g").has_value());
  EXPECT_FALSE(HexDecode("abc").has_value());
}

TEST(Encoding, Utf8Validation) {
  EXPECT_TRUE(IsValidUtf8("plain ascii"));
  EXPECT_TRUE(IsValidUtf8("Zürich \xe2\x82\xac \xf0\x9f\x98\x80"));
  EXPECT_FALSE(IsValidUtf8("\xc0\xaf"));          // overlong '/'
  EXPECT_FALSE(IsValidUtf8("\xed\xa0\x80"));      // surrogate
  EXPECT_FALSE(IsValidUtf8("\xf4\x90\x80\x80"));  // > U+10FFFF
  EXPECT_FALSE(IsValidUtf8("\xe2\x82"));          // truncated
  EXPECT_FALSE(IsValidUtf8("\xff"));
}

}  // namespace
}  // namespace sb

namespace sb {
namespace {

// A plain bit-by-bit base64url encoder, to check the table-driven one at every length (the
// fast paths handle 6 bytes / 8 characters per step and hand the tail to the slow path).
std::string ReferenceBase64Url(std::string_view in) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  uint32_t buffer = 0;
  int bits = 0;
  for (const char c : in) {
    buffer = (buffer << 8) | static_cast<uint8_t>(c);
    bits += 8;
    while (bits >= 6) {
      out.push_back(kAlphabet[(buffer >> (bits - 6)) & 63]);
      bits -= 6;
    }
  }
  if (bits > 0) out.push_back(kAlphabet[(buffer << (6 - bits)) & 63]);
  return out;
}

TEST(Encoding, Base64UrlMatchesTheReferenceAtEveryLengthAndRoundTrips) {
  std::string bytes;
  for (int n = 0; n < 300; ++n) {
    const std::string encoded = Base64UrlEncode(bytes);
    ASSERT_EQ(encoded, ReferenceBase64Url(bytes)) << n;
    const auto decoded = Base64UrlDecode(encoded);
    ASSERT_TRUE(decoded.has_value()) << n;
    ASSERT_EQ(*decoded, bytes) << n;
    const auto standard = Base64Decode(Base64Encode(bytes));
    ASSERT_TRUE(standard.has_value()) << n;
    ASSERT_EQ(*standard, bytes) << n;
    bytes.push_back(static_cast<char>((n * 151 + 7) & 0xFF));
  }
}

TEST(Encoding, Base64RejectsABadCharacterAnywhere) {
  const std::string good = Base64UrlEncode(std::string(120, '\xA5'));
  for (size_t i = 0; i < good.size(); ++i) {
    for (const char bad : {'=', '+', '/', '*', ' ', '\0', '\x80'}) {
      std::string text = good;
      text[i] = bad;
      if (bad == '=' && i + 1 == text.size()) continue;  // trailing padding is tolerated
      EXPECT_FALSE(Base64UrlDecode(text).has_value()) << i << " " << int(bad);
    }
  }
}

}  // namespace
}  // namespace sb

namespace sb {
namespace {

TEST(Encoding, PercentAndFormEncoding) {
  EXPECT_EQ(PercentEncode("AZaz09-._~"), "AZaz09-._~");
  EXPECT_EQ(PercentEncode("a b/c:d?e=f&g+h"), "a%20b%2Fc%3Ad%3Fe%3Df%26g%2Bh");
  EXPECT_EQ(PercentEncode("\xC3\xA9"), "%C3%A9");
  EXPECT_EQ(FormEncode({{"redirect_uri", "https://h/cb"}, {"scope", "a b"}}),
            "redirect_uri=https%3A%2F%2Fh%2Fcb&scope=a%20b");
  EXPECT_EQ(FormEncode({}), "");
}

TEST(Encoding, PercentDecodeBytesKeepsAnyByteAndRefusesMalformedEscapes) {
  EXPECT_EQ(PercentDecodeBytes("a%2Fb%2e%ff"), std::string("a/b.\xff"));
  EXPECT_EQ(PercentDecodeBytes("a+b", /*plus_as_space=*/true), "a b");
  EXPECT_EQ(PercentDecodeBytes("a+b"), "a+b");
  EXPECT_EQ(PercentDecodeBytes(PercentEncode("x y/z\xC3\xA9")), "x y/z\xC3\xA9");
  for (const char* bad : {"%", "%2", "%zz", "a%g0"})
    EXPECT_EQ(PercentDecodeBytes(bad), std::nullopt) << bad;
}

TEST(Encoding, HtmlEscapeEscapesTheFiveSpecialCharactersAndNothingElse) {
  EXPECT_EQ(HtmlEscape("<a href=\"x\" title='y'>Tom & Jerry</a>"),
            "&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;Tom &amp; Jerry&lt;/a&gt;");
  // Already-escaped text is escaped again (no double-unescape surprises), other bytes stay.
  EXPECT_EQ(HtmlEscape("&amp;"), "&amp;amp;");
  EXPECT_EQ(HtmlEscape("caf\xC3\xA9 /?=;`"), "caf\xC3\xA9 /?=;`");
  EXPECT_EQ(HtmlEscape(std::string_view("a\0b", 3)), std::string("a\0b", 3));
  EXPECT_EQ(HtmlEscape(""), "");
}

// OA-06: return URLs are compared with a tenant's allowed origins after normalisation.
TEST(UrlOrigin, NormalisesSchemeHostAndDefaultPort) {
  EXPECT_EQ(UrlOrigin("HTTPS://App.Example:443/x?y#z"), "https://app.example");
  EXPECT_EQ(UrlOrigin("http://app.example:80"), "http://app.example");
  EXPECT_EQ(UrlOrigin("https://app.example:8443/cb"), "https://app.example:8443");
  EXPECT_EQ(UrlOrigin("http://[::1]:8080/"), "http://[::1]:8080");
  EXPECT_EQ(UrlOrigin("https://app.example?x=1"), "https://app.example");
  EXPECT_EQ(UrlOrigin("https://app.example", /*bare=*/true), "https://app.example");
  EXPECT_EQ(UrlOrigin("https://app.example/", /*bare=*/true), "https://app.example");
  EXPECT_FALSE(UrlOrigin("https://app.example/cb", /*bare=*/true));
  EXPECT_FALSE(UrlOrigin("ftp://app.example"));
  EXPECT_FALSE(UrlOrigin("https://user@evil.example"));
  EXPECT_FALSE(UrlOrigin("https://app.example:99999"));
  EXPECT_FALSE(UrlOrigin("https://app.example:"));
  EXPECT_FALSE(UrlOrigin("https:///path"));
  EXPECT_FALSE(UrlOrigin("https://app.example\\@evil.example"));
  EXPECT_FALSE(UrlOrigin("javascript:alert(1)"));
}

}  // namespace
}  // namespace sb
