// Ed25519 against RFC 8032 section 7.1 (TEST 1 and TEST 2; recomputed with OpenSSL 3 and
// Python `cryptography`), plus round trips and negative cases.
#include "sb/vault/ed25519.h"

#include <array>

#include <gtest/gtest.h>

#include "sb/base/encoding.h"

namespace sb::vault {
namespace {

struct Rfc8032Vector {
  const char* secret_key;
  const char* public_key;
  const char* message;
  const char* signature;
};

constexpr Rfc8032Vector kVectors[] = {
    {"9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
     "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", "",
     "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b"
     "4"
     "6bd25bf5f0595bbe24655141438e7a100b"},
    {"4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
     "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c", "72",
     "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11"
     "d"
     "8c387b2eaeb4302aeeb00d291612bb0c00"},
};

std::string Unhex(const char* hex) { return HexDecode(hex).value(); }

TEST(Ed25519, Rfc8032Section71Vectors) {
  for (const Rfc8032Vector& v : kVectors) {
    auto key = Ed25519PrivateKey::FromSeed(Unhex(v.secret_key));
    ASSERT_TRUE(key.ok()) << key.status().ToString();
    EXPECT_EQ(HexEncode(key->PublicKey()), v.public_key);
    const std::string message = Unhex(v.message);
    EXPECT_EQ(HexEncode(key->Sign(message)), v.signature);
    EXPECT_TRUE(Ed25519Verify(Unhex(v.public_key), message, Unhex(v.signature)));
  }
}

TEST(Ed25519, VerifyRejectsAnyChangeAndWrongLengths) {
  const Rfc8032Vector& v = kVectors[1];
  const std::string pub = Unhex(v.public_key);
  const std::string sig = Unhex(v.signature);
  const std::string message = Unhex(v.message);
  std::string flipped = sig;
  flipped[10] ^= 0x01;
  EXPECT_FALSE(Ed25519Verify(pub, message, flipped));
  EXPECT_FALSE(Ed25519Verify(pub, "\x73", sig));
  EXPECT_FALSE(Ed25519Verify(Unhex(kVectors[0].public_key), message, sig));  // wrong key
  EXPECT_FALSE(Ed25519Verify(pub.substr(1), message, sig));
  EXPECT_FALSE(Ed25519Verify(pub, message, sig.substr(1)));
  EXPECT_FALSE(Ed25519Verify(pub, message, ""));
}

TEST(Ed25519, GeneratedKeysSignAndExportTheirSeed) {
  SystemRandom random;
  Ed25519PrivateKey key = Ed25519PrivateKey::Generate(random);
  Ed25519PrivateKey other = Ed25519PrivateKey::Generate(random);
  EXPECT_NE(key.PublicKey(), other.PublicKey());
  const std::string signature = key.Sign("checkpoint");
  EXPECT_EQ(signature.size(), kEd25519SignatureSize);
  EXPECT_TRUE(Ed25519Verify(key.PublicKey(), "checkpoint", signature));
  EXPECT_FALSE(Ed25519Verify(other.PublicKey(), "checkpoint", signature));

  std::array<uint8_t, kEd25519SeedSize> seed{};
  key.ExportSeed(seed);
  auto restored =
      Ed25519PrivateKey::FromSeed(std::string_view(reinterpret_cast<char*>(seed.data()), 32));
  ASSERT_TRUE(restored.ok());
  EXPECT_EQ(restored->PublicKey(), key.PublicKey());
  // Ed25519 is deterministic: the same seed gives the same signature.
  EXPECT_EQ(restored->Sign("checkpoint"), signature);

  Ed25519PrivateKey moved = std::move(key);
  EXPECT_TRUE(Ed25519Verify(moved.PublicKey(), "x", moved.Sign("x")));
}

TEST(Ed25519, FromSeedNeedsThirtyTwoBytes) {
  EXPECT_EQ(Ed25519PrivateKey::FromSeed(std::string(31, 'a')).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(Ed25519PrivateKey::FromSeed(std::string(33, 'a')).status().code(),
            StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace sb::vault
