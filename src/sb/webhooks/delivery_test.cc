// Deliverer over SQLite with a fake HTTP client and a fake resolver: the request goes only to the
// checked addresses (pinned), a host that resolves inside is refused without any call (WH-05),
// 410 is final, other failures retry with the same webhook-id, and the schedule spans about
// three days.
#include "sb/webhooks/delivery.h"

#include <gtest/gtest.h>

#include "sb/audit/audit_keys.h"
#include "sb/base/encoding.h"
#include "sb/base/testing/fake_clock.h"
#include "sb/net/testing/fake_http_client.h"
#include "sb/store/tenant_repository.h"
#include "sb/store/testing/test_backends.h"
#include "sb/vault/envelope.h"
#include "sb/vault/keyring.h"
#include "sb/webhooks/signature.h"

namespace sb::webhooks {
namespace {

using std::chrono::hours;
using std::chrono::milliseconds;

class DeliveryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = store::testing::OpenMigrated(backend_);
    ASSERT_TRUE(db.ok());
    db_ = std::move(*db);
    auto keyring = vault::ParseKeyring("1:" + Base64Encode(random_.Bytes(32)), "test");
    auto shared = std::make_shared<const vault::Keyring>(std::move(*keyring));
    vault_ = std::make_unique<vault::Vault>(shared, random_);
    secrets_ = std::make_unique<vault::SecretStore>(
        *vault_, clock_,
        [shared]() -> Result<std::shared_ptr<const vault::Keyring>> { return shared; });
    audit_ =
        std::make_unique<audit::AuditLog>(clock_, ids_, audit::AuditKeys::Generate(random_), 1000);
    endpoints_ = std::make_unique<EndpointService>(*db_, *secrets_, *audit_, clock_, random_, ids_,
                                                   EndpointPolicy{});
    deliverer_ = std::make_unique<Deliverer>(
        *db_, *endpoints_, http_, clock_, random_, DeliveryOptions{},
        [this](const std::string& host) -> Result<std::vector<std::string>> {
          resolved_.push_back(host);
          return addresses_;
        });
    jobs::JobRunnerOptions options;
    options.backoff_base = milliseconds(1);
    runner_ = std::make_unique<jobs::JobRunner>(*db_, *db_, clock_, random_, options);
    runner_->Register(kDeliverJob,
                      [this](jobs::JobContext& job) { return deliverer_->Handle(job); });
    tenant_ = TenantId(ids_.NewUuid());
    ASSERT_TRUE(
        db_->RunInTenant(
               tenant_,
               [&](store::Transaction& tx) {
                 return store::TenantRepository().Insert(tx, tenant_, {tenant_, "t", clock_.Now()});
               })
            .ok());
    EndpointInput input;
    input.url = "https://hooks.example.com/sb";
    auto created = endpoints_->Create(tenant_, input, ctx_);
    ASSERT_TRUE(created.ok()) << created.status().ToString();
    secret_ = created->secret;
    Dispatcher dispatcher(clock_, random_, ids_);
    ASSERT_TRUE(db_->RunInTenant(tenant_,
                                 [&](store::Transaction& tx) {
                                   return dispatcher.Emit(tx, tenant_, "connection.created",
                                                          Json{{"connection", {{"id", "c1"}}}});
                                 })
                    .ok());
  }

  store::WebhookDeliveryRecord Delivery() {
    std::vector<store::WebhookDeliveryRecord> all;
    EXPECT_TRUE(db_->RunInTenant(tenant_,
                                 [&](store::Transaction& tx) -> Status {
                                   SB_ASSIGN_OR_RETURN(all, store::WebhookDeliveryRepository().List(
                                                                tx, tenant_, {}, std::nullopt, 10));
                                   return OkStatus();
                                 })
                    .ok());
    EXPECT_EQ(all.size(), 1u);
    return all.at(0);
  }

  store::testing::SqliteTestBackend backend_;
  std::unique_ptr<store::Database> db_;
  sb::testing::FakeClock clock_{FromUnixMicros(1'800'000'000'000'000)};
  SystemRandom random_;
  IdGenerator ids_{clock_, random_};
  std::unique_ptr<vault::Vault> vault_;
  std::unique_ptr<vault::SecretStore> secrets_;
  std::unique_ptr<audit::AuditLog> audit_;
  std::unique_ptr<EndpointService> endpoints_;
  net::testing::FakeHttpClient http_;
  std::vector<std::string> addresses_ = {"93.184.216.34"};
  std::vector<std::string> resolved_;
  std::unique_ptr<Deliverer> deliverer_;
  std::unique_ptr<jobs::JobRunner> runner_;
  const audit::Context ctx_{audit::Actor{audit::ActorKind::kApiKey, "key"}, "req"};
  TenantId tenant_;
  std::string secret_;
};

TEST_F(DeliveryTest, SignsAndSendsOnlyToTheCheckedAddresses) {
  http_.Enqueue(net::HttpResponse{204, {}, ""});
  ASSERT_EQ(*runner_->RunOnce(), 1);
  ASSERT_EQ(resolved_, std::vector<std::string>{"hooks.example.com"});
  const auto sent = http_.last_request();
  ASSERT_TRUE(sent.has_value());
  EXPECT_EQ(sent->url, "https://hooks.example.com/sb");
  EXPECT_EQ(sent->pinned_addresses, addresses_);
  std::string id, timestamp, signature;
  for (const auto& [n, v] : sent->headers) {
    if (n == "webhook-id") id = v;
    if (n == "webhook-timestamp") timestamp = v;
    if (n == "webhook-signature") signature = v;
  }
  EXPECT_TRUE(Verify({secret_}, id, timestamp, signature, sent->body, clock_.Now()).ok());
  EXPECT_EQ(Delivery().state, store::WebhookDeliveryState::kSucceeded);
}

TEST_F(DeliveryTest, AHostThatResolvesInsideIsRefusedWithoutACall) {
  addresses_ = {"93.184.216.34", "10.0.0.5"};  // one answer points inside: refuse
  ASSERT_EQ(*runner_->RunOnce(), 1);
  EXPECT_TRUE(http_.requests().empty());
  const auto d = Delivery();
  EXPECT_EQ(d.state, store::WebhookDeliveryState::kDead);
  EXPECT_NE(d.last_error.find("internal address"), std::string::npos);
}

TEST_F(DeliveryTest, FailuresRetryWithTheSameIdAndGoneIsFinal) {
  http_.Enqueue(net::HttpResponse{500, {}, "oops"});
  ASSERT_EQ(*runner_->RunOnce(), 1);
  auto d = Delivery();
  EXPECT_EQ(d.state, store::WebhookDeliveryState::kPending);
  EXPECT_EQ(d.last_status_code, 500);
  ASSERT_TRUE(d.next_attempt_at.has_value());
  const auto wait = *d.next_attempt_at - clock_.Now();
  EXPECT_GE(wait, std::chrono::seconds(25));  // 30 s +-15 %
  EXPECT_LE(wait, std::chrono::seconds(35));
  const std::string first_id = d.event_id;
  clock_.Advance(std::chrono::seconds(40));
  http_.Enqueue(net::HttpResponse{410, {}, "gone"});
  ASSERT_EQ(*runner_->RunOnce(), 1);
  d = Delivery();
  EXPECT_EQ(d.state, store::WebhookDeliveryState::kDead);
  EXPECT_EQ(d.attempts, 2);
  EXPECT_EQ(d.event_id, first_id);
  for (const auto& request : http_.requests()) {
    bool same = false;
    for (const auto& [n, v] : request.headers) same |= n == "webhook-id" && v == first_id;
    EXPECT_TRUE(same);
  }
}

TEST_F(DeliveryTest, TheScheduleSpansAboutThreeDays) {
  milliseconds total(0);
  for (int attempt = 1; attempt < kDeliveryAttempts; ++attempt) {
    total += deliverer_->RetryDelay(attempt);
  }
  // 64.5 h nominal (30 s doubling to the 8 h cap, 17 waits); +-15 % jitter on each wait keeps
  // it within 54.8 h .. 74.2 h whatever the draws.
  EXPECT_GE(total, hours(54));
  EXPECT_LE(total, hours(75));
}

}  // namespace
}  // namespace sb::webhooks
