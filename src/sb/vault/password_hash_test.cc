#include "sb/vault/password_hash.h"

#include <string>

#include <gtest/gtest.h>

#include "sb/base/random.h"

namespace sb::vault {
namespace {

// Small parameters keep the sanitizer build fast; the production defaults are checked once.
constexpr PasswordHashParams kFast{.memory_kib = 64, .iterations = 1, .parallelism = 1};

TEST(PasswordHashTest, VerifiesTheRightPasswordOnly) {
  SystemRandom random;
  Result<std::string> hash = HashPassword("correct horse battery staple", random, kFast);
  ASSERT_TRUE(hash.ok()) << hash.status().ToString();
  EXPECT_TRUE(hash->starts_with("$argon2id$v=19$m=64,t=1,p=1$")) << *hash;
  EXPECT_EQ(hash->find("correct horse"), std::string::npos);
  EXPECT_EQ(VerifyPassword("correct horse battery staple", *hash).value(), true);
  EXPECT_EQ(VerifyPassword("correct horse battery stapl", *hash).value(), false);
  EXPECT_EQ(VerifyPassword("", *hash).value(), false);
  EXPECT_EQ(VerifyPassword(std::string(2000, 'x'), *hash).value(), false);
  // A fresh salt each time: the same password never hashes the same.
  EXPECT_NE(*hash, HashPassword("correct horse battery staple", random, kFast).value());
}

TEST(PasswordHashTest, TheDefaultsAreMemoryHard) {
  SystemRandom random;
  Result<std::string> hash = HashPassword("pw", random);
  ASSERT_TRUE(hash.ok());
  EXPECT_TRUE(hash->starts_with("$argon2id$v=19$m=19456,t=2,p=1$")) << *hash;
  EXPECT_TRUE(VerifyPassword("pw", *hash).value());
  EXPECT_FALSE(NeedsRehash(*hash, PasswordHashParams{}));
  EXPECT_TRUE(NeedsRehash(HashPassword("pw", random, kFast).value(), PasswordHashParams{}));
}

TEST(PasswordHashTest, RefusesBadInputAndHostileStoredHashes) {
  SystemRandom random;
  EXPECT_EQ(HashPassword("", random, kFast).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(HashPassword(std::string(1025, 'a'), random, kFast).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(HashPassword("pw", random, {.memory_kib = 1u << 30}).status().code(),
            StatusCode::kInvalidArgument);
  const std::string good = HashPassword("pw", random, kFast).value();
  const std::string salt_and_hash = good.substr(good.rfind("$", good.rfind('$') - 1));
  for (const std::string& stored :
       {std::string("plain"), std::string("$argon2i$v=19$m=64,t=1,p=1") + salt_and_hash,
        // four GiB of memory or a million passes in a tampered row: refused before any work
        std::string("$argon2id$v=19$m=4194304,t=1,p=1") + salt_and_hash,
        std::string("$argon2id$v=19$m=64,t=1000000,p=1") + salt_and_hash,
        std::string("$argon2id$v=19$m=64,t=1,p=1$$"),
        std::string("$argon2id$v=19$m=,t=1,p=1$a$b")}) {
    EXPECT_EQ(VerifyPassword("pw", stored).status().code(), StatusCode::kDataLoss) << stored;
  }
}

}  // namespace
}  // namespace sb::vault
