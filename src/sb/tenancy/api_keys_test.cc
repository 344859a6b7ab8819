#include "sb/tenancy/api_keys.h"

#include <gtest/gtest.h>

#include "sb/base/testing/fake_clock.h"
#include "sb/store/testing/test_backends.h"
#include "sb/tenancy/tenants.h"

namespace sb::tenancy {
namespace {

class ApiKeyServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = store::testing::OpenMigrated(backend_);
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_ = std::move(*db);
    tenants_ = std::make_unique<TenantService>(*db_, clock_, ids_);
    keys_ = std::make_unique<ApiKeyService>(*db_, clock_, random_, ids_);
  }

  TenantId NewTenant(const std::string& name) {
    auto t = tenants_->Create(name);
    EXPECT_TRUE(t.ok()) << t.status().ToString();
    return t->id;
  }

  store::testing::SqliteTestBackend backend_;
  sb::testing::FakeClock clock_;
  SystemRandom random_;
  IdGenerator ids_{clock_, random_};
  std::unique_ptr<store::Database> db_;
  std::unique_ptr<TenantService> tenants_;
  std::unique_ptr<ApiKeyService> keys_;
};

TEST_F(ApiKeyServiceTest, IssuedKeyAuthenticatesToItsTenantAndScopes) {
  TenantId tenant = NewTenant("Acme");
  auto issued = keys_->Create(tenant, "backend", {Scope::kRead, Scope::kWrite});
  ASSERT_TRUE(issued.ok()) << issued.status().ToString();
  EXPECT_EQ(issued->plaintext.rfind("sb_live_", 0), 0u);
  EXPECT_EQ(issued->plaintext.size(), 8u + 32 + 1 + 43);
  // Only the hash is stored.
  EXPECT_EQ(issued->record.key_hash.size(), 64u);
  EXPECT_EQ(issued->record.key_hash.find(issued->plaintext), std::string::npos);

  auto principal = keys_->Authenticate(issued->plaintext);
  ASSERT_TRUE(principal.ok()) << principal.status().ToString();
  EXPECT_EQ(principal->tenant_id, tenant);
  EXPECT_EQ(principal->key_id, issued->record.id);
  EXPECT_TRUE(principal->Has(Scope::kRead));
  EXPECT_TRUE(principal->Has(Scope::kWrite));
  EXPECT_FALSE(principal->Has(Scope::kAdmin));
}

TEST_F(ApiKeyServiceTest, WrongMalformedAndForeignKeysFailAlike) {
  TenantId a = NewTenant("A");
  TenantId b = NewTenant("B");
  auto key = keys_->Create(a, "k", {Scope::kRead});
  ASSERT_TRUE(key.ok());
  std::string tampered = key->plaintext;
  tampered.back() = tampered.back() == 'A' ? 'B' : 'A';
  // The same secret presented under tenant B's id must not authenticate anywhere.
  std::string b_hex;
  for (char c : b.value())
    if (c != '-') b_hex += c;
  std::string moved = "sb_live_" + b_hex + key->plaintext.substr(8 + 32);
  for (const std::string& bad : {tampered, moved, std::string("sb_live_"), std::string(""),
                                 std::string("Bearer x"), key->plaintext + "x"}) {
    auto r = keys_->Authenticate(bad);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), StatusCode::kUnauthenticated);
    EXPECT_EQ(r.status().message(), "invalid or revoked API key");
  }
}

TEST_F(ApiKeyServiceTest, RevocationTakesEffectImmediately) {
  TenantId tenant = NewTenant("Acme");
  auto key = keys_->Create(tenant, "k", {Scope::kRead});
  ASSERT_TRUE(key.ok());
  ASSERT_TRUE(keys_->Authenticate(key->plaintext).ok());
  ASSERT_TRUE(keys_->Revoke(tenant, key->record.id).ok());
  EXPECT_EQ(keys_->Authenticate(key->plaintext).status().code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(keys_->Revoke(tenant, key->record.id).code(), StatusCode::kNotFound);
}

TEST_F(ApiKeyServiceTest, OtherTenantCannotRevokeOrRead) {
  TenantId a = NewTenant("A");
  TenantId b = NewTenant("B");
  auto key = keys_->Create(a, "k", {Scope::kRead});
  ASSERT_TRUE(key.ok());
  EXPECT_EQ(keys_->Revoke(b, key->record.id).code(), StatusCode::kNotFound);
  EXPECT_EQ(keys_->Get(b, key->record.id).status().code(), StatusCode::kNotFound);
  auto listed = keys_->List(b, std::nullopt, 10);
  ASSERT_TRUE(listed.ok());
  EXPECT_TRUE(listed->empty());
  EXPECT_TRUE(keys_->Authenticate(key->plaintext).ok());
}

TEST_F(ApiKeyServiceTest, LastUsedIsRecordedAtMostOncePerResolution) {
  TenantId tenant = NewTenant("Acme");
  auto key = keys_->Create(tenant, "k", {Scope::kRead});
  ASSERT_TRUE(key.ok());
  ASSERT_TRUE(keys_->Authenticate(key->plaintext).ok());
  const Timestamp first = *keys_->Get(tenant, key->record.id)->last_used_at;
  EXPECT_EQ(first, clock_.Now());
  clock_.Advance(std::chrono::seconds(30));
  ASSERT_TRUE(keys_->Authenticate(key->plaintext).ok());
  EXPECT_EQ(*keys_->Get(tenant, key->record.id)->last_used_at, first);
  clock_.Advance(std::chrono::seconds(31));
  ASSERT_TRUE(keys_->Authenticate(key->plaintext).ok());
  EXPECT_EQ(*keys_->Get(tenant, key->record.id)->last_used_at, clock_.Now());
}

TEST_F(ApiKeyServiceTest, CreateValidatesInput) {
  TenantId tenant = NewTenant("Acme");
  EXPECT_EQ(keys_->Create(tenant, "k", {}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(keys_->Create(tenant, "", {Scope::kRead}).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(keys_->Create(tenant, "bad\xff", {Scope::kRead}).status().code(),
            StatusCode::kInvalidArgument);
  TenantId missing(ids_.NewUuid());
  EXPECT_EQ(keys_->Create(missing, "k", {Scope::kRead}).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(tenants_->Create("").status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace sb::tenancy
