// EndpointService over SQLite with the real vault and audit log: secrets shown once and kept only
// in the vault (WH-02), rotation with a grace period in which both secrets sign (WH-03), URL
// policy (WH-05), If-Match, and tenants kept apart.
#include "sb/webhooks/endpoints.h"

#include <gtest/gtest.h>

#include "sb/audit/audit_keys.h"
#include "sb/audit/testing/security_kit.h"
#include "sb/base/encoding.h"
#include "sb/base/testing/fake_clock.h"
#include "sb/store/tenancy/tenant_repository.h"
#include "sb/store/testing/test_backends.h"
#include "sb/vault/envelope.h"
#include "sb/vault/keyring.h"
#include "sb/webhooks/signature.h"

namespace sb::webhooks {
namespace {

class EndpointServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = store::testing::OpenMigrated(backend_);
    ASSERT_TRUE(db.ok());
    db_ = std::move(*db);
    service_ = std::make_unique<EndpointService>(EndpointDeps{.db = *db_,
                                                              .secrets = security_.secrets(),
                                                              .audit = security_.audit(),
                                                              .clock = clock_,
                                                              .random = random_,
                                                              .ids = ids_},
                                                 EndpointPolicy{});
    a_ = NewTenant();
    b_ = NewTenant();
  }

  TenantId NewTenant() {
    TenantId id(ids_.NewUuid());
    EXPECT_TRUE(
        db_->RunInTenant(id,
                         [&](store::Transaction& tx) {
                           return store::TenantRepository().Insert(tx, id, {id, "t", clock_.Now()});
                         })
            .ok());
    return id;
  }

  std::vector<std::string> Signing(const TenantId& tenant, const store::WebhookEndpointRecord& e) {
    std::vector<std::string> out;
    EXPECT_TRUE(db_->RunInTenant(tenant,
                                 [&](store::Transaction& tx) -> Status {
                                   SB_ASSIGN_OR_RETURN(out,
                                                       service_->SigningSecrets(tx, tenant, e));
                                   return OkStatus();
                                 })
                    .ok());
    return out;
  }

  // Every stored byte of the tenant: vault ciphertexts and audit details.
  std::string Stored(const TenantId& tenant) {
    std::string text;
    EXPECT_TRUE(db_->RunInTenant(tenant,
                                 [&](store::Transaction& tx) -> Status {
                                   SB_ASSIGN_OR_RETURN(
                                       auto rows, tx.Query("SELECT ciphertext FROM vault_secrets"));
                                   for (const auto& row : rows)
                                     text += std::get<std::string>(row.at(0));
                                   SB_ASSIGN_OR_RETURN(
                                       auto page,
                                       security_.audit().List(tx, tenant, {}, std::nullopt, 100));
                                   for (const auto& e : page.entries) text += e.details.dump();
                                   return OkStatus();
                                 })
                    .ok());
    return text;
  }

  EndpointInput Input(std::string url) {
    EndpointInput in;
    in.url = std::move(url);
    in.event_types = std::vector<std::string>{"connection.created"};
    return in;
  }

  store::testing::SqliteTestBackend backend_;
  std::unique_ptr<store::Database> db_;
  sb::testing::FakeClock clock_;
  SystemRandom random_;
  IdGenerator ids_{clock_, random_};
  audit::testing::SecurityKit security_{clock_, random_, ids_};
  std::unique_ptr<EndpointService> service_;
  const audit::Context ctx_{audit::Actor{audit::ActorKind::kApiKey, "key"}, "req"};
  TenantId a_;
  TenantId b_;
};

TEST_F(EndpointServiceTest, SecretIsShownOnceAndStoredOnlyEncrypted) {
  auto created = service_->Create(a_, Input("https://hooks.example.com/sb"), ctx_);
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  EXPECT_TRUE(created->secret.starts_with("whsec_"));
  EXPECT_EQ(Base64Decode(created->secret.substr(6))->size(), 32u);
  EXPECT_EQ(Signing(a_, created->record), std::vector<std::string>{created->secret});
  const std::string stored = Stored(a_);
  EXPECT_EQ(stored.find(created->secret.substr(6)), std::string::npos);
  EXPECT_NE(stored.find("hmac-sha256:"), std::string::npos);
  // Another tenant sees nothing.
  EXPECT_EQ(service_->Get(b_, created->record.id).status().code(), StatusCode::kNotFound);
  EXPECT_FALSE(*service_->Delete(b_, created->record.id, ctx_));
  EXPECT_TRUE(service_->List(b_, std::nullopt, 10)->empty());
}

TEST_F(EndpointServiceTest, RotationSignsWithBothSecretsDuringTheGracePeriod) {
  auto created = service_->Create(a_, Input("https://hooks.example.com/sb"), ctx_);
  ASSERT_TRUE(created.ok());
  auto rotated = service_->RotateSecret(a_, created->record.id, ctx_);
  ASSERT_TRUE(rotated.ok()) << rotated.status().ToString();
  EXPECT_NE(rotated->secret, created->secret);
  EXPECT_EQ(rotated->record.secret_version, 2);
  const auto both = Signing(a_, rotated->record);
  EXPECT_EQ(both, (std::vector<std::string>{rotated->secret, created->secret}));
  // A delivery signed now verifies with either secret.
  auto header = SignatureHeader(both, "msg_1", 1'700'000'000, "{}");
  ASSERT_TRUE(header.ok());
  EXPECT_EQ(std::count(header->begin(), header->end(), ' '), 1);
  clock_.Advance(std::chrono::hours(25));  // past the default 24 h grace
  EXPECT_EQ(Signing(a_, rotated->record), std::vector<std::string>{rotated->secret});
}

TEST_F(EndpointServiceTest, UrlPolicyAndUpdates) {
  for (const char* url :
       {"http://hooks.example.com/x", "https://127.0.0.1/x", "https://localhost:8443/x",
        "https://[::1]/x", "https://169.254.169.254/latest", "https://user:pw@hooks.example.com/",
        "ftp://hooks.example.com", "hooks.example.com"}) {
    EXPECT_EQ(service_->Create(a_, Input(url), ctx_).status().code(), StatusCode::kInvalidArgument)
        << url;
  }
  auto created = service_->Create(a_, Input("https://hooks.example.com/a"), ctx_);
  ASSERT_TRUE(created.ok());
  EndpointInput change;
  change.enabled = false;
  change.expected_version = created->record.version;
  auto updated = service_->Update(a_, created->record.id, change, ctx_);
  ASSERT_TRUE(updated.ok()) << updated.status().ToString();
  EXPECT_FALSE(updated->enabled);
  EXPECT_EQ(updated->version, 2);
  EXPECT_EQ(service_->Update(a_, created->record.id, change, ctx_).status().code(),
            StatusCode::kAborted);  // stale If-Match
  EndpointInput inside;
  inside.url = "https://10.1.2.3/hook";
  EXPECT_EQ(service_->Update(a_, created->record.id, inside, ctx_).status().code(),
            StatusCode::kInvalidArgument);

  // A deployment that allows them (tests, local development) takes http and loopback.
  EndpointService open(EndpointDeps{.db = *db_,
                                    .secrets = security_.secrets(),
                                    .audit = security_.audit(),
                                    .clock = clock_,
                                    .random = random_,
                                    .ids = ids_},
                       EndpointPolicy{true, true, std::chrono::hours(1)});
  EXPECT_TRUE(open.Create(a_, Input("http://127.0.0.1:9000/hook"), ctx_).ok());

  EXPECT_TRUE(*service_->Delete(a_, created->record.id, ctx_));
  EXPECT_EQ(Stored(a_).find(created->secret.substr(6)), std::string::npos);
}

}  // namespace
}  // namespace sb::webhooks
