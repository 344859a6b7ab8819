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
    audit_ =
        std::make_unique<audit::AuditLog>(clock_, ids_, audit::AuditKeys::Generate(random_), 1000);
    tenants_ = std::make_unique<TenantService>(
        TenantDeps{.db = *db_, .clock = clock_, .ids = ids_, .audit = *audit_});
    keys_ = std::make_unique<ApiKeyService>(
        ApiKeyDeps{.db = *db_, .clock = clock_, .random = random_, .ids = ids_, .audit = *audit_});
  }

  TenantId NewTenant(const std::string& name) {
    auto t = tenants_->Create(ctx_, name);
    EXPECT_TRUE(t.ok()) << t.status().ToString();
    return t->id;
  }

  store::testing::SqliteTestBackend backend_;
  sb::testing::FakeClock clock_;
  SystemRandom random_;
  IdGenerator ids_{clock_, random_};
  std::unique_ptr<store::Database> db_;
  audit::Context ctx_{audit::Actor{audit::ActorKind::kCli, "tester"}, "req-1"};
  std::unique_ptr<audit::AuditLog> audit_;
  std::unique_ptr<TenantService> tenants_;
  std::unique_ptr<ApiKeyService> keys_;

  std::vector<audit::Entry> Entries(const TenantId& tenant) {
    std::vector<audit::Entry> out;
    Status s =
        db_->RunInTenant(tenant, store::TxMode::kReadOnly, [&](store::Transaction& tx) -> Status {
          SB_ASSIGN_OR_RETURN(auto page, audit_->List(tx, tenant, {}, std::nullopt, 1000));
          out = std::move(page.entries);
          return OkStatus();
        });
    EXPECT_TRUE(s.ok()) << s.ToString();
    return out;
  }
};

TEST_F(ApiKeyServiceTest, IssuedKeyAuthenticatesToItsTenantAndScopes) {
  TenantId tenant = NewTenant("Acme");
  auto issued = keys_->Create(ctx_, tenant, "backend", {Scope::kRead, Scope::kWrite});
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
  auto key = keys_->Create(ctx_, a, "k", {Scope::kRead});
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
  auto key = keys_->Create(ctx_, tenant, "k", {Scope::kRead});
  ASSERT_TRUE(key.ok());
  ASSERT_TRUE(keys_->Authenticate(key->plaintext).ok());
  ASSERT_TRUE(keys_->Revoke(ctx_, tenant, key->record.id).ok());
  EXPECT_EQ(keys_->Authenticate(key->plaintext).status().code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(keys_->Revoke(ctx_, tenant, key->record.id).code(), StatusCode::kNotFound);
}

TEST_F(ApiKeyServiceTest, OtherTenantCannotRevokeOrRead) {
  TenantId a = NewTenant("A");
  TenantId b = NewTenant("B");
  auto key = keys_->Create(ctx_, a, "k", {Scope::kRead});
  ASSERT_TRUE(key.ok());
  EXPECT_EQ(keys_->Revoke(ctx_, b, key->record.id).code(), StatusCode::kNotFound);
  EXPECT_EQ(keys_->Get(b, key->record.id).status().code(), StatusCode::kNotFound);
  auto listed = keys_->List(b, std::nullopt, 10);
  ASSERT_TRUE(listed.ok());
  EXPECT_TRUE(listed->empty());
  EXPECT_TRUE(keys_->Authenticate(key->plaintext).ok());
}

TEST_F(ApiKeyServiceTest, LastUsedIsRecordedAtMostOncePerResolution) {
  TenantId tenant = NewTenant("Acme");
  auto key = keys_->Create(ctx_, tenant, "k", {Scope::kRead});
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
  EXPECT_EQ(keys_->Create(ctx_, tenant, "k", {}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(keys_->Create(ctx_, tenant, "", {Scope::kRead}).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(keys_->Create(ctx_, tenant, "bad\xff", {Scope::kRead}).status().code(),
            StatusCode::kInvalidArgument);
  TenantId missing(ids_.NewUuid());
  EXPECT_EQ(keys_->Create(ctx_, missing, "k", {Scope::kRead}).status().code(),
            StatusCode::kNotFound);
  EXPECT_EQ(tenants_->Create(ctx_, "").status().code(), StatusCode::kInvalidArgument);
}

// AUD-01/02/03: creation, revocation and failed authentication are audited; the key itself
// appears only as its HMAC.
TEST_F(ApiKeyServiceTest, ChangesAndFailedAuthenticationAreAudited) {
  TenantId tenant = NewTenant("Audited");
  auto issued = keys_->Create(ctx_, tenant, "k", {Scope::kRead});
  ASSERT_TRUE(issued.ok());
  ASSERT_TRUE(keys_->Revoke(ctx_, tenant, issued->record.id).ok());
  std::string reason;
  EXPECT_FALSE(keys_->Authenticate(issued->plaintext, &reason).ok());
  EXPECT_EQ(reason, "revoked key");
  keys_->RecordFailure(issued->plaintext, {"req-2", "10.0.0.1:5"}, reason);
  EXPECT_FALSE(keys_->Authenticate("sb_live_garbage", &reason).ok());
  EXPECT_EQ(reason, "malformed key");
  keys_->RecordFailure("sb_live_garbage", {"req-3", "10.0.0.2:5"}, reason);

  auto entries = Entries(tenant);
  ASSERT_EQ(entries.size(), 4u);
  EXPECT_EQ(entries[0].action, "tenant.create");
  EXPECT_EQ(entries[1].action, "api_key.create");
  EXPECT_EQ(entries[1].actor, (audit::Actor{audit::ActorKind::kCli, "tester"}));
  EXPECT_EQ(entries[1].request_id, "req-1");
  EXPECT_EQ(entries[1].details["key"], audit_->HmacSecret(issued->plaintext));
  EXPECT_EQ(entries[2].action, "api_key.revoke");
  EXPECT_EQ(entries[3].action, "auth.failure");
  EXPECT_EQ(entries[3].outcome, audit::Outcome::kDenied);
  EXPECT_EQ(entries[3].details["reason"], "revoked key");
  EXPECT_EQ(entries[3].details["remote"], "10.0.0.1:5");
  for (const auto& e : entries) {
    EXPECT_EQ(e.details.dump().find(issued->plaintext.substr(41)), std::string::npos);
  }
  // The malformed key has no tenant: the system chain records it.
  auto system = Entries(audit::SystemTenant());
  ASSERT_FALSE(system.empty());
  EXPECT_EQ(system.back().action, "auth.failure");
  EXPECT_EQ(system.back().request_id, "req-3");
  EXPECT_EQ(system.back().details["key"], audit_->HmacSecret("sb_live_garbage"));
}

// AUD-03: when the audit entry cannot be written, the change does not happen.
TEST_F(ApiKeyServiceTest, KeyCreationFailsClosedWithoutTheAuditLog) {
  TenantId tenant = NewTenant("Closed");
  ASSERT_TRUE(db_->RunUnscoped([](store::Transaction& tx) {
                   return tx.ExecuteScript("ALTER TABLE audit_entries RENAME TO audit_gone");
                 })
                  .ok());
  auto issued = keys_->Create(ctx_, tenant, "k", {Scope::kRead});
  EXPECT_FALSE(issued.ok());
  ASSERT_TRUE(db_->RunUnscoped([](store::Transaction& tx) {
                   return tx.ExecuteScript("ALTER TABLE audit_gone RENAME TO audit_entries");
                 })
                  .ok());
  auto listed = keys_->List(tenant, std::nullopt, 10);
  ASSERT_TRUE(listed.ok());
  EXPECT_TRUE(listed->empty());
}

}  // namespace
}  // namespace sb::tenancy
