// ProviderSwitches over SQLite: per-tenant and global switches combine, Set audits and applies
// at once on its node, another node learns a change on Reload (its poll), and in-flight calls
// registered with Track are cancelled when their provider is switched off.
#include "sb/connections/provider_switches.h"

#include <thread>

#include <gtest/gtest.h>

#include "sb/audit/audit_keys.h"
#include "sb/base/testing/fake_clock.h"
#include "sb/store/audit/audit_repository.h"
#include "sb/store/tenancy/tenant_repository.h"
#include "sb/store/testing/test_backends.h"

namespace sb::connections {
namespace {

class ProviderSwitchesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = store::testing::OpenMigrated(backend_);
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_ = std::move(*db);
    audit_ =
        std::make_unique<audit::AuditLog>(clock_, ids_, audit::AuditKeys::Generate(random_), 1000);
    for (TenantId* t : {&a_, &b_}) {
      *t = TenantId(ids_.NewUuid());
      ASSERT_TRUE(db_->RunInTenant(
                         *t,
                         [&](store::Transaction& tx) {
                           return store::TenantRepository().Insert(tx, *t, {*t, "t", clock_.Now()});
                         })
                      .ok());
    }
    node_a_ = std::make_unique<ProviderSwitches>(ProviderSwitchesDeps{
        .db = *db_, .maintenance = *db_, .clock = clock_, .audit = *audit_, .metrics = &metrics_});
    node_b_ = std::make_unique<ProviderSwitches>(
        ProviderSwitchesDeps{.db = *db_, .maintenance = *db_, .clock = clock_, .audit = *audit_});
  }

  store::testing::SqliteTestBackend backend_;
  sb::testing::FakeClock clock_;
  SystemRandom random_;
  IdGenerator ids_{clock_, random_};
  metrics::MetricsRegistry metrics_;
  std::unique_ptr<store::Database> db_;
  std::unique_ptr<audit::AuditLog> audit_;
  TenantId a_;
  TenantId b_;
  std::unique_ptr<ProviderSwitches> node_a_;
  std::unique_ptr<ProviderSwitches> node_b_;
  const audit::Context ctx_{audit::Actor{audit::ActorKind::kApiKey, "key-1"}, "req-1"};
};

TEST_F(ProviderSwitchesTest, TenantAndGlobalSwitchesCombine) {
  EXPECT_TRUE(node_a_->Enabled(a_, "google"));
  ASSERT_TRUE(node_a_->Set(ctx_, a_, "google", false, "incident 7").ok());
  Status off = node_a_->Check(a_, "google");
  EXPECT_EQ(off.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(off.message().find("incident 7"), std::string::npos);
  EXPECT_NE(off.message().find("this tenant"), std::string::npos);
  EXPECT_TRUE(node_a_->Enabled(b_, "google"));
  EXPECT_TRUE(node_a_->Enabled(a_, "microsoft"));

  ASSERT_TRUE(node_a_->Set(ctx_, std::nullopt, "microsoft", false, "").ok());
  EXPECT_FALSE(node_a_->Enabled(a_, "microsoft"));
  EXPECT_FALSE(node_a_->Enabled(b_, "microsoft"));
  // A global "enabled" does not lift a tenant's own switch.
  ASSERT_TRUE(node_a_->Set(ctx_, std::nullopt, "google", true, "").ok());
  EXPECT_FALSE(node_a_->Enabled(a_, "google"));
  ASSERT_TRUE(node_a_->Set(ctx_, a_, "google", true, "resolved").ok());
  EXPECT_TRUE(node_a_->Enabled(a_, "google"));
  EXPECT_EQ(node_a_->List().size(), 3u);

  EXPECT_EQ(node_a_->Set(ctx_, a_, "Not A Provider", false, "").status().code(),
            StatusCode::kInvalidArgument);
  // Audited in the tenant's chain, global switches in the system chain.
  int tenant_entries = 0, system_entries = 0;
  ASSERT_TRUE(db_->RunInTenant(a_,
                               [&](store::Transaction& tx) -> Status {
                                 SB_ASSIGN_OR_RETURN(auto entries,
                                                     store::AuditRepository().ListEntries(
                                                         tx, a_, {}, std::nullopt, 100));
                                 tenant_entries = static_cast<int>(entries.size());
                                 return OkStatus();
                               })
                  .ok());
  ASSERT_TRUE(db_->RunInTenant(audit::SystemTenant(),
                               [&](store::Transaction& tx) -> Status {
                                 SB_ASSIGN_OR_RETURN(
                                     auto entries,
                                     store::AuditRepository().ListEntries(tx, audit::SystemTenant(),
                                                                          {}, std::nullopt, 100));
                                 system_entries = static_cast<int>(entries.size());
                                 return OkStatus();
                               })
                  .ok());
  EXPECT_EQ(tenant_entries, 2);
  EXPECT_EQ(system_entries, 2);
}

TEST_F(ProviderSwitchesTest, InFlightCallsAreCancelledHereAtOnceAndElsewhereOnReload) {
  auto on_a = node_a_->Track(a_, "google");
  auto on_b = node_b_->Track(a_, "google");
  auto other_tenant = node_a_->Track(b_, "google");
  auto other_provider = node_a_->Track(a_, "microsoft");
  ASSERT_TRUE(node_a_->Set(ctx_, a_, "google", false, "").ok());
  EXPECT_TRUE(on_a->cancelled()->load());
  EXPECT_FALSE(other_tenant->cancelled()->load());
  EXPECT_FALSE(other_provider->cancelled()->load());
  // Node B learns it from the database.
  EXPECT_FALSE(on_b->cancelled()->load());
  EXPECT_TRUE(node_b_->Enabled(a_, "google"));
  ASSERT_TRUE(node_b_->Reload().ok());
  EXPECT_TRUE(on_b->cancelled()->load());
  EXPECT_FALSE(node_b_->Enabled(a_, "google"));
  // A call that starts while the provider is off is cancelled from the start.
  EXPECT_TRUE(node_b_->Track(a_, "google")->cancelled()->load());
  EXPECT_NE(metrics_.RenderPrometheusText().find(
                "sb_provider_calls_cancelled_total{provider=\"google\"} 1"),
            std::string::npos);
}

TEST_F(ProviderSwitchesTest, ThePollerPicksUpChangesFromOtherNodes) {
  node_b_->Start(std::chrono::milliseconds(10));
  auto call = node_b_->Track(a_, "google");
  ASSERT_TRUE(node_a_->Set(ctx_, std::nullopt, "google", false, "").ok());
  for (int i = 0; i < 500 && !call->cancelled()->load(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_TRUE(call->cancelled()->load());
  node_b_->Stop();
}

}  // namespace
}  // namespace sb::connections
