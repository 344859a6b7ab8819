// IntegrationService over SQLite with the real vault and audit log: the client secret goes only
// through the vault (OA-11) and into the audit log only as its HMAC (AUD-02), is never returned,
// services are checked against the catalog, and tenants never see each other's apps.
#include "sb/oauth/integrations.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "sb/audit/audit_keys.h"
#include "sb/audit/testing/security_kit.h"
#include "sb/base/encoding.h"
#include "sb/base/testing/fake_clock.h"
#include "sb/store/tenancy/tenant_repository.h"
#include "sb/store/testing/test_backends.h"
#include "sb/store/vault/secret_repository.h"
#include "sb/vault/envelope.h"
#include "sb/vault/keyring.h"

namespace sb::oauth {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kSecret[] = "GOCSPX-integration-secret-5e1f";

class IntegrationServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = store::testing::OpenMigrated(backend_);
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_ = std::move(*db);
    auto catalog = ProviderCatalog::LoadBuiltIn();
    ASSERT_TRUE(catalog.ok()) << catalog.status().ToString();
    catalog_ = std::make_unique<ProviderCatalog>(std::move(*catalog));
    service_ = std::make_unique<IntegrationService>(IntegrationDeps{.db = *db_,
                                                                    .catalog = *catalog_,
                                                                    .secrets = security_.secrets(),
                                                                    .audit = security_.audit(),
                                                                    .clock = clock_});
    a_ = NewTenant();
    b_ = NewTenant();
  }

  TenantId NewTenant() {
    TenantId id(ids_.NewUuid());
    Status s = db_->RunInTenant(id, [&](store::Transaction& tx) {
      return store::TenantRepository().Insert(tx, id, {id, "t", clock_.Now()});
    });
    EXPECT_TRUE(s.ok()) << s.ToString();
    return id;
  }

  IntegrationInput Google() {
    IntegrationInput input;
    input.provider = "google";
    input.client_id = "123-abc.apps.googleusercontent.com";
    input.client_secret = kSecret;
    input.services = {{"calendar", true}};
    return input;
  }

  std::string AllStoredText(const TenantId& tenant) {
    std::string text;
    Status s =
        db_->RunInTenant(tenant, store::TxMode::kReadOnly, [&](store::Transaction& tx) -> Status {
          SB_ASSIGN_OR_RETURN(auto rows, tx.Query("SELECT ciphertext FROM "
                                                  "vault_secrets",
                                                  {}));
          for (const auto& row : rows) {
            text += std::get<std::string>(row.at(0));
          }
          SB_ASSIGN_OR_RETURN(auto page, security_.audit().List(tx, tenant, {}, std::nullopt, 100));
          for (const auto& entry : page.entries) {
            text += entry.action + " " + entry.details.dump() + "\n";
          }
          return OkStatus();
        });
    EXPECT_TRUE(s.ok()) << s.ToString();
    return text;
  }

  store::testing::SqliteTestBackend backend_;
  sb::testing::FakeClock clock_;
  SystemRandom random_;
  IdGenerator ids_{clock_, random_};
  std::unique_ptr<store::Database> db_;
  std::unique_ptr<ProviderCatalog> catalog_;
  audit::testing::SecurityKit security_{clock_, random_, ids_};
  std::unique_ptr<IntegrationService> service_;
  audit::Context ctx_{audit::Actor{audit::ActorKind::kApiKey, "key-1"}, "req-1"};
  TenantId a_;
  TenantId b_;
};

TEST_F(IntegrationServiceTest, SecretGoesThroughTheVaultAndIsNeverReturnedOrLogged) {
  auto created = service_->Put(a_, Google(), ctx_);
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  EXPECT_TRUE(created->has_client_secret);
  EXPECT_EQ(created->record.version, 1);
  auto got = service_->Get(a_, "google");
  ASSERT_TRUE(got.ok() && got->has_value());
  EXPECT_EQ((*got)->record.client_id, "123-abc.apps.googleusercontent.com");
  EXPECT_TRUE((*got)->has_client_secret);
  const std::string stored = AllStoredText(a_);
  EXPECT_THAT(stored, HasSubstr("integration.create"));
  EXPECT_THAT(stored, HasSubstr("hmac-sha256:"));  // AUD-02
  EXPECT_THAT(stored, HasSubstr("sbv1:"));         // OA-11: ciphertext only
  EXPECT_THAT(stored, Not(HasSubstr(kSecret)));
  auto credentials = service_->Credentials(a_, "google");
  ASSERT_TRUE(credentials.ok()) << credentials.status().ToString();
  EXPECT_EQ(credentials->client_secret.view(), kSecret);
}

TEST_F(IntegrationServiceTest, CreateNeedsASecretAndUpdateMayKeepIt) {
  IntegrationInput no_secret = Google();
  no_secret.client_secret.reset();
  EXPECT_EQ(service_->Put(a_, no_secret, ctx_).status().code(), StatusCode::kInvalidArgument);
  ASSERT_TRUE(service_->Put(a_, Google(), ctx_).ok());
  no_secret.services = {{"calendar", false}, {"contacts", true}};
  auto updated = service_->Put(a_, no_secret, ctx_);
  ASSERT_TRUE(updated.ok()) << updated.status().ToString();
  EXPECT_EQ(updated->record.version, 2);
  EXPECT_EQ(service_->Credentials(a_, "google")->client_secret.view(), kSecret);
  no_secret.expected_version = 1;
  EXPECT_EQ(service_->Put(a_, no_secret, ctx_).status().code(), StatusCode::kAborted);
  EXPECT_THAT(AllStoredText(a_), HasSubstr("integration.update"));
}

TEST_F(IntegrationServiceTest, ConflictPoliciesAreKeptPerServiceAndChecked) {
  IntegrationInput input = Google();
  input.conflict_policies = Json{{"calendar", "manual"}, {"contacts", "provider_wins"}};
  ASSERT_TRUE(service_->Put(a_, input, ctx_).ok());
  EXPECT_EQ((*service_->Get(a_, "google"))->record.conflict_policies, input.conflict_policies);
  for (const Json& bad : {Json{{"calendar", "coin_flip"}}, Json{{"drive", "manual"}},
                          Json{{"calendar", 3}}, Json::array(), Json("manual")}) {
    input.conflict_policies = bad;
    EXPECT_EQ(service_->Put(a_, input, ctx_).status().code(), StatusCode::kInvalidArgument) << bad;
  }
}

TEST_F(IntegrationServiceTest, ProviderAndServicesAreCheckedAgainstTheCatalog) {
  IntegrationInput input = Google();
  input.provider = "no-such-provider";
  EXPECT_EQ(service_->Put(a_, input, ctx_).status().code(), StatusCode::kNotFound);
  input = Google();
  input.services = {{"drive", false}};
  EXPECT_EQ(service_->Put(a_, input, ctx_).status().code(), StatusCode::kInvalidArgument);
  input = Google();
  input.extra_scopes = {"two words"};
  EXPECT_EQ(service_->Put(a_, input, ctx_).status().code(), StatusCode::kInvalidArgument);
  input = Google();
  input.client_secret = "";
  EXPECT_EQ(service_->Put(a_, input, ctx_).status().code(), StatusCode::kInvalidArgument);
}

TEST_F(IntegrationServiceTest, DisabledIntegrationsGiveNoCredentialsAndDeleteRemovesTheSecret) {
  IntegrationInput input = Google();
  input.enabled = false;
  ASSERT_TRUE(service_->Put(a_, input, ctx_).ok());
  EXPECT_EQ(service_->Credentials(a_, "google").status().code(), StatusCode::kFailedPrecondition);
  auto deleted = service_->Delete(a_, "google", ctx_);
  ASSERT_TRUE(deleted.ok());
  EXPECT_TRUE(*deleted);
  EXPECT_FALSE(*service_->Delete(a_, "google", ctx_));
  EXPECT_EQ(service_->Credentials(a_, "google").status().code(), StatusCode::kNotFound);
  const std::string stored = AllStoredText(a_);
  EXPECT_THAT(stored, HasSubstr("integration.delete"));
  EXPECT_THAT(stored, Not(HasSubstr("sbv1:")));  // the secret is gone
}

TEST_F(IntegrationServiceTest, TenantsNeverSeeEachOthersApps) {  // RLS-09
  ASSERT_TRUE(service_->Put(a_, Google(), ctx_).ok());
  auto other = service_->Get(b_, "google");
  ASSERT_TRUE(other.ok());
  EXPECT_FALSE(other->has_value());
  EXPECT_TRUE(service_->List(b_)->empty());
  EXPECT_EQ(service_->List(a_)->size(), 1u);
  EXPECT_EQ(service_->Credentials(b_, "google").status().code(), StatusCode::kNotFound);
  EXPECT_FALSE(*service_->Delete(b_, "google", ctx_));
  EXPECT_TRUE(service_->Get(a_, "google")->has_value());
}

}  // namespace
}  // namespace sb::oauth
