// Known-answer tests (security.md section 6: NIST AES-256-GCM, RFC 5869 HKDF, RFC 4648 /
// RFC 7515 base64) and the Vault's envelope format, errors and rotation (KMS-01, -02, -05,
// -07, -10).
#include <atomic>
#include <filesystem>
#include <set>
#include <thread>

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "sb/base/encoding.h"
#include "sb/vault/aead.h"
#include "sb/vault/envelope.h"
#include "sb/vault/hkdf.h"
#include "sb/vault/keyring.h"

namespace sb::vault {
namespace {

std::string Hex(std::string_view hex) { return HexDecode(hex).value(); }

struct GcmVector {
  const char* key;
  const char* iv;
  const char* pt;
  const char* aad;
  const char* ct;
  const char* tag;
};

// security.md 6.1: NIST CAVP gcmEncryptExtIV256 (PTlen 0 and 128) and McGrew-Viega TC16.
const GcmVector kGcm[] = {
    {"b52c505a37d78eda5dd34f20c22540ea1b58963cf8e5bf8ffa85f9f2492505b4", "516c33929df5a3284ff463d7",
     "", "", "", "bdc1ac884d332457a1d2664f168c76f0"},
    {"31bdadd96698c204aa9ce1448ea94ae1fb4a9a0b3c9d773b51bb1822666b8f22", "0d18e06c7c725ac9e362e1ce",
     "2db5168e932556f8089a0622981d017d", "", "fa4362189661d163fcd6a56d8bf0405a",
     "d636ac1bbedd5cc3ee727dc2ab4a9489"},
    {"feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308", "cafebabefacedbaddecaf888",
     "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e24"
     "49a6b525b16aedf5aa0de657ba637b39",
     "feedfacedeadbeeffeedfacedeadbeefabaddad2",
     "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa8cb08e48590dbb3da7b08b10"
     "56828838c5f61e6393ba7a0abcc9f662",
     "76fc6ece0f4e1768cddf8853bb2d551b"},
};

TEST(Aes256Gcm, NistVectorsSealAndOpen) {
  for (const GcmVector& v : kGcm) {
    auto sealed = Aes256GcmSeal(Hex(v.key), Hex(v.iv), Hex(v.pt), Hex(v.aad));
    ASSERT_TRUE(sealed.ok());
    EXPECT_EQ(HexEncode(*sealed), std::string(v.ct) + v.tag);
    auto opened = Aes256GcmOpen(Hex(v.key), Hex(v.iv), *sealed, Hex(v.aad));
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    EXPECT_EQ(HexEncode(opened->view()), v.pt);
  }
}

// The cached-context variants give the same answers, also when a context is reused with a new
// nonce, after a failed open, and for several keys in turn.
TEST(Aes256Gcm, CachedContextsMatchTheVectors) {
  for (int round = 0; round < 3; ++round) {
    uint64_t id = 1000;
    for (const GcmVector& v : kGcm) {
      ++id;
      auto sealed = Aes256GcmSealCached(id, Hex(v.key), Hex(v.iv), Hex(v.pt), Hex(v.aad));
      ASSERT_TRUE(sealed.ok());
      EXPECT_EQ(HexEncode(*sealed), std::string(v.ct) + v.tag);
      std::string bad = *sealed;
      bad.back() ^= 1;
      EXPECT_EQ(Aes256GcmOpenCached(id, Hex(v.key), Hex(v.iv), bad, Hex(v.aad)).status().code(),
                StatusCode::kDataLoss);
      auto opened = Aes256GcmOpenCached(id, Hex(v.key), Hex(v.iv), *sealed, Hex(v.aad));
      ASSERT_TRUE(opened.ok()) << opened.status().ToString();
      EXPECT_EQ(HexEncode(opened->view()), v.pt);
    }
  }
  // More keys than a thread caches: every one still right.
  for (uint64_t id = 2000; id < 2020; ++id) {
    const GcmVector& v = kGcm[id % 3];
    EXPECT_EQ(HexEncode(*Aes256GcmSealCached(id, Hex(v.key), Hex(v.iv), Hex(v.pt), Hex(v.aad))),
              std::string(v.ct) + v.tag);
  }
}

TEST(Aes256Gcm, FlippedBitsTruncationAndBadSizesFail) {
  const GcmVector& v = kGcm[2];
  const std::string sealed = *Aes256GcmSeal(Hex(v.key), Hex(v.iv), Hex(v.pt), Hex(v.aad));
  for (size_t i : {size_t{0}, sealed.size() / 2, sealed.size() - 1}) {  // CT and tag bytes
    std::string bad = sealed;
    bad[i] ^= 0x01;
    EXPECT_EQ(Aes256GcmOpen(Hex(v.key), Hex(v.iv), bad, Hex(v.aad)).status().code(),
              StatusCode::kDataLoss);
  }
  std::string aad = Hex(v.aad);
  aad[0] ^= 0x80;
  EXPECT_EQ(Aes256GcmOpen(Hex(v.key), Hex(v.iv), sealed, aad).status().code(),
            StatusCode::kDataLoss);
  EXPECT_EQ(Aes256GcmOpen(Hex(v.key), Hex(v.iv), sealed.substr(0, sealed.size() - 1), Hex(v.aad))
                .status()
                .code(),
            StatusCode::kDataLoss);
  EXPECT_EQ(Aes256GcmSeal(Hex(v.key), "short", "x", "").status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(Aes256GcmSeal("short key", Hex(v.iv), "x", "").status().code(),
            StatusCode::kInvalidArgument);
}

// security.md 6.3: RFC 5869 A.1 and A.3.
TEST(Hkdf, Rfc5869Vectors) {
  auto a1 = HkdfSha256(std::string(22, '\x0b'), Hex("000102030405060708090a0b0c"),
                       Hex("f0f1f2f3f4f5f6f7f8f9"), 42);
  ASSERT_TRUE(a1.ok());
  EXPECT_EQ(HexEncode(a1->view()),
            "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865");
  auto a3 = HkdfSha256(std::string(22, '\x0b'), "", "", 42);
  ASSERT_TRUE(a3.ok());
  EXPECT_EQ(HexEncode(a3->view()),
            "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8");
  EXPECT_EQ(HkdfSha256("", "", "", 32).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(HkdfSha256("k", "", "", 255 * 32 + 1).status().code(), StatusCode::kInvalidArgument);
}

// security.md 6.5: RFC 4648 section 10 and RFC 7515 appendix C.
TEST(Base64, Rfc4648AndRfc7515Vectors) {
  const std::pair<const char*, const char*> kStd[] = {{"", ""},
                                                      {"f", "Zg=="},
                                                      {"fo", "Zm8="},
                                                      {"foo", "Zm9v"},
                                                      {"foob", "Zm9vYg=="},
                                                      {"fooba", "Zm9vYmE="},
                                                      {"foobar", "Zm9vYmFy"}};
  for (const auto& [plain, encoded] : kStd) {
    EXPECT_EQ(Base64Encode(plain), encoded);
    EXPECT_EQ(Base64Decode(encoded), plain);
  }
  const std::string octets("\x03\xec\xff\xe0\xc1", 5);
  EXPECT_EQ(Base64UrlEncode(octets), "A-z_4ME");
  EXPECT_EQ(Base64UrlDecode("A-z_4ME"), octets);
  EXPECT_EQ(Base64UrlDecode("A+z/4ME="), std::nullopt);
}

class VaultTest : public ::testing::Test {
 protected:
  static std::shared_ptr<const Keyring> Ring(std::initializer_list<uint32_t> versions) {
    auto ring = std::make_shared<Keyring>();
    for (uint32_t v : versions) {
      EXPECT_TRUE(ring->Add(v, SecretBytes(std::string(32, static_cast<char>('a' + v)))).ok());
    }
    return ring;
  }

  SystemRandom random_;
  SecretContext ctx_{TenantId("0190f5a0-0000-7000-8000-000000000001"), "conn-1", "refresh_token"};
};

TEST_F(VaultTest, RoundTripWithFreshNoncesAndTheDocumentedFormat) {
  Vault vault(Ring({1}), random_);
  auto a = vault.Encrypt(ctx_, "1//secret-refresh-token");
  auto b = vault.Encrypt(ctx_, "1//secret-refresh-token");
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->rfind("sbv1:1:", 0), 0u);
  EXPECT_NE(*a, *b);  // KMS-05: a fresh random nonce each time
  EXPECT_EQ(a->find("secret"), std::string::npos);
  EXPECT_EQ(Vault::CiphertextVersion(*a).value(), 1u);
  auto plain = vault.Decrypt(ctx_, *a);
  ASSERT_TRUE(plain.ok()) << plain.status().ToString();
  EXPECT_EQ(plain->view(), "1//secret-refresh-token");
  EXPECT_EQ(vault.encryptions(1), 2);
  auto empty = vault.Encrypt(ctx_, "");
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(vault.Decrypt(ctx_, *empty)->size(), 0u);
}

// KMS-01: each malformed or unacceptable ciphertext gets its own error, never a crash.
TEST_F(VaultTest, DistinctErrorsInTheDocumentedOrder) {
  Vault vault(Ring({1}), random_);
  const std::string good = *vault.Encrypt(ctx_, "secret");
  const std::string body = good.substr(std::string("sbv1:1:").size());
  auto message = [&](const std::string& ciphertext) {
    auto r = vault.Decrypt(ctx_, ciphertext);
    EXPECT_FALSE(r.ok()) << ciphertext;
    return std::string(r.status().message());
  };
  std::set<std::string> messages;
  const std::vector<std::pair<std::string, std::string>> cases = {
      {body, "not a vault ciphertext"},
      {"sbv1:" + body, "malformed ciphertext"},
      {"sbv1:1:" + body + ":x", "unexpected ':'"},
      {"sbv1:0:" + body, "malformed key version"},
      {"sbv1:-1:" + body, "malformed key version"},
      {"sbv1:99999999999:" + body, "malformed key version"},
      {"sbv1:2:" + body, "too new"},
      {"sbv1:1:" + body + "*", "not base64url"},
      {"sbv1:1:" + Base64UrlEncode(std::string(27, 'x')), "truncated"},
  };
  for (const auto& [ciphertext, expected] : cases) {
    std::string m = message(ciphertext);
    EXPECT_NE(m.find(expected), std::string::npos) << ciphertext << " -> " << m;
    EXPECT_EQ(m.find(body), std::string::npos);  // never echoes the ciphertext
    messages.insert(m);
  }
  std::string raw = *Base64UrlDecode(body);
  std::string flipped_tag = raw;
  flipped_tag.back() ^= 0x01;
  std::string m = message("sbv1:1:" + Base64UrlEncode(flipped_tag));
  EXPECT_NE(m.find("modified"), std::string::npos) << m;
  messages.insert(m);
  std::string flipped_ct = raw;
  flipped_ct[kNonceSize + 8] ^= 0x01;
  EXPECT_NE(message("sbv1:1:" + Base64UrlEncode(flipped_ct)).find("modified"), std::string::npos);
  for (const SecretContext& other :
       {SecretContext{TenantId("0190f5a0-0000-7000-8000-000000000002"), "conn-1", "refresh_token"},
        SecretContext{ctx_.tenant, "conn-2", "refresh_token"},
        SecretContext{ctx_.tenant, "conn-1", "access_token"}}) {
    auto r = vault.Decrypt(other, good);
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.status().message().find("associated data does not match"), std::string::npos);
    messages.insert(std::string(r.status().message()));
  }
  EXPECT_GE(messages.size(), 9u);
}

// KMS-02 / KMS-03: rotation keeps old versions decrypting; the minimum version cuts them off.
TEST_F(VaultTest, RotationAndMinimumDecryptionVersion) {
  Vault vault(Ring({1}), random_);
  const std::string v1 = *vault.Encrypt(ctx_, "old");
  vault.SetKeyring(Ring({1, 2}));
  EXPECT_EQ(vault.write_version(), 1u);  // the keyring alone does not switch writes
  ASSERT_TRUE(vault.SetVersions(2, 1).ok());
  const std::string v2 = *vault.Encrypt(ctx_, "new");
  EXPECT_EQ(v2.rfind("sbv1:2:", 0), 0u);
  EXPECT_EQ(vault.Decrypt(ctx_, v1)->view(), "old");
  // A relabelled version is caught by the associated data (the version is part of it).
  std::string relabelled = "sbv1:2:" + v1.substr(7);
  EXPECT_FALSE(vault.Decrypt(ctx_, relabelled).ok());
  ASSERT_TRUE(vault.SetVersions(2, 2).ok());
  auto old = vault.Decrypt(ctx_, v1);
  ASSERT_FALSE(old.ok());
  EXPECT_NE(old.status().message().find("too old"), std::string::npos);
  EXPECT_EQ(vault.Decrypt(ctx_, v2)->view(), "new");
  EXPECT_EQ(vault.SetVersions(3, 1).code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(vault.SetVersions(2, 3).code(), StatusCode::kInvalidArgument);
  vault.SetKeyring(Ring({2}));
  auto unknown = vault.Decrypt(ctx_, v1);
  EXPECT_NE(unknown.status().message().find("unknown key version 1"), std::string::npos);
}

// KMS-07: data keys are derived per tenant and purpose; the master key never encrypts data.
TEST_F(VaultTest, MasterKeyIsNeverUsedDirectly) {
  auto ring = Ring({1});
  Vault vault(ring, random_);
  const std::string ciphertext = *vault.Encrypt(ctx_, "secret");
  std::string raw = *Base64UrlDecode(ciphertext.substr(7));
  std::string aad_guess;  // whatever the AAD, the raw master key must not open it
  auto opened = Aes256GcmOpen(ring->Find(1)->view(), raw.substr(0, kNonceSize),
                              raw.substr(kNonceSize + 8), aad_guess);
  EXPECT_FALSE(opened.ok());
}

TEST_F(VaultTest, ConcurrentUseWhileTheKeyringIsSwapped) {
  Vault vault(Ring({1}), random_);
  std::atomic<bool> stop{false};
  std::atomic<int> failures{0};
  std::vector<std::thread> workers;
  for (int t = 0; t < 4; ++t) {
    workers.emplace_back([&, t] {
      SecretContext ctx{ctx_.tenant, "owner-" + std::to_string(t), "token"};
      for (int i = 0; i < 2000; ++i) {
        auto c = vault.Encrypt(ctx, "value");
        if (!c.ok()) continue;  // a swap may drop the write version's key for an instant
        auto p = vault.Decrypt(ctx, *c);
        if (!p.ok() || p->view() != "value") ++failures;
      }
    });
  }
  std::thread swapper([&] {
    for (int i = 0; i < 200 && !stop; ++i) vault.SetKeyring(Ring({1, 2}));
  });
  for (auto& w : workers) w.join();
  stop = true;
  swapper.join();
  EXPECT_EQ(failures.load(), 0);
}

TEST(Keyring, ParsesBothAlphabetsAndNamesBadEntriesWithoutTheKey) {
  const std::string k1 = Base64Encode(std::string(32, '\xfb'));     // has '+' or '/'
  const std::string k2 = Base64UrlEncode(std::string(32, '\x01'));  // url-safe
  auto ring = ParseKeyring("# comment\n1:" + k1 + "\n\n2:" + k2 + "\n", "test");
  ASSERT_TRUE(ring.ok()) << ring.status().ToString();
  EXPECT_EQ(ring->versions(), (std::vector<uint32_t>{1, 2}));
  EXPECT_EQ(ring->newest_version(), 2u);
  EXPECT_TRUE(ParseKeyring("1:" + k1 + ",3:" + k2, "env").ok());
  const std::string short_key = Base64Encode(std::string(16, 'q'));
  for (const std::string& bad : std::vector<std::string>{
           "1:" + k1 + "\n1:" + k2, "x:" + k1, "0:" + k1, "1:" + short_key, "1:***", "1" + k1}) {
    auto r = ParseKeyring(bad, "SWITCHBOARD_MASTER_KEYS");
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_NE(r.status().message().find("SWITCHBOARD_MASTER_KEYS, entry"), std::string::npos);
    EXPECT_EQ(r.status().message().find(k1.substr(0, 12)), std::string::npos);
    EXPECT_EQ(r.status().message().find(short_key.substr(0, 12)), std::string::npos);
  }
}

TEST(Keyring, KeyFileIsWrittenPrivateAndRefusedWhenOthersCanReadIt) {
  auto dir = std::filesystem::temp_directory_path() / ("sb-keyring-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string path = (dir / "master.key").string();
  SystemRandom random;
  Keyring ring;
  ASSERT_TRUE(ring.Add(1, GenerateMasterKey(random)).ok());
  ASSERT_TRUE(ring.Add(2, GenerateMasterKey(random)).ok());
  ASSERT_TRUE(WriteKeyFile(path, ring).ok());
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto loaded = LoadKeyFile(path);
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ(loaded->Find(2)->view(), ring.Find(2)->view());
  ::chmod(path.c_str(), 0644);
  auto refused = LoadKeyFile(path);
  EXPECT_EQ(refused.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(refused.status().message().find("0644"), std::string::npos);
  EXPECT_EQ(LoadKeyFile((dir / "missing").string()).status().code(), StatusCode::kNotFound);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace sb::vault
