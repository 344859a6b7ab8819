// OA-01, OA-02, OA-16: PKCE S256 with the RFC 7636 Appendix B vector, verifier rules, and the
// entropy and form of generated secrets.
#include "sb/oauth/pkce.h"

#include <set>

#include <gtest/gtest.h>

namespace sb::oauth {
namespace {

// A Random that returns fixed bytes, to check the encoding of generated values.
class FixedRandom final : public Random {
 public:
  explicit FixedRandom(uint8_t value) : value_(value) {}
  void Fill(uint8_t* out, size_t n) override {
    for (size_t i = 0; i < n; ++i) out[i] = static_cast<uint8_t>(value_ + i);
  }

 private:
  uint8_t value_;
};

TEST(PkceTest, Rfc7636AppendixBVector) {  // OA-01
  EXPECT_EQ(S256Challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
}

TEST(PkceTest, GeneratedVerifierIs32RandomBytesAndMatchesItsChallenge) {  // OA-01, OA-16
  FixedRandom fixed(0x74);
  const Pkce pkce = NewPkce(fixed);
  // 32 octets in base64url without padding: 43 characters of the unreserved alphabet.
  EXPECT_EQ(pkce.verifier.size(), 43u);
  EXPECT_TRUE(IsValidVerifier(pkce.verifier));
  EXPECT_EQ(pkce.challenge, S256Challenge(pkce.verifier));
  EXPECT_EQ(pkce.verifier.find('='), std::string::npos);
}

TEST(PkceTest, SecretsAreDistinct) {  // OA-16
  SystemRandom random;
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) seen.insert(NewOpaqueSecret(random));
  EXPECT_EQ(seen.size(), 1000u);
  EXPECT_EQ(NewOpaqueSecret(random).size(), 43u);
}

TEST(PkceTest, VerifierRules) {  // RFC 7636 section 4.1
  EXPECT_FALSE(IsValidVerifier(std::string(42, 'a')));
  EXPECT_TRUE(IsValidVerifier(std::string(43, 'a')));
  EXPECT_TRUE(IsValidVerifier(std::string(128, '~')));
  EXPECT_FALSE(IsValidVerifier(std::string(129, 'a')));
  EXPECT_FALSE(IsValidVerifier(std::string(42, 'a') + "+"));
  EXPECT_FALSE(IsValidVerifier(std::string(42, 'a') + "="));
  EXPECT_FALSE(IsValidVerifier(std::string(42, 'a') + " "));
}

}  // namespace
}  // namespace sb::oauth
