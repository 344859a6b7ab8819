// ConnectionService's token lifecycle over SQLite with the real vault and audit log and a fake
// token endpoint: single-flight refresh (OA-10), rotation and "keep the old refresh token",
// invalid_grant, transient backoff into error, and the schedule with jitter.
#include "sb/connections/connections.h"

#include <atomic>
#include <thread>

#include <gtest/gtest.h>

#include "sb/audit/audit_keys.h"
#include "sb/audit/testing/security_kit.h"
#include "sb/base/encoding.h"
#include "sb/base/testing/fake_clock.h"
#include "sb/connections/health.h"
#include "sb/connections/refresh_scheduler.h"
#include "sb/jobs/runner.h"
#include "sb/net/testing/fake_http_client.h"
#include "sb/store/tenancy/tenant_repository.h"
#include "sb/store/testing/test_backends.h"
#include "sb/vault/envelope.h"
#include "sb/vault/keyring.h"

namespace sb::connections {
namespace {

using std::chrono::minutes;
using std::chrono::seconds;

net::HttpResponse TokenJson(const std::string& access, const std::string& refresh = "") {
  Json body = {{"access_token", access}, {"token_type", "Bearer"}, {"expires_in", 3600}};
  if (!refresh.empty()) body["refresh_token"] = refresh;
  return net::HttpResponse{200, {{"Content-Type", "application/json"}}, body.dump()};
}

net::HttpResponse OAuthError(int status, const std::string& error) {
  return net::HttpResponse{
      status, {{"Content-Type", "application/json"}}, Json{{"error", error}}.dump()};
}

// The refresh_token form field of a token request.
std::string RefreshTokenSent(const net::HttpRequest& request) {
  const std::string key = "refresh_token=";
  const size_t at = request.body.find(key);
  if (at == std::string::npos) return "";
  const size_t end = request.body.find('&', at);
  return request.body.substr(at + key.size(),
                             end == std::string::npos ? end : end - at - key.size());
}

class ConnectionServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = store::testing::OpenMigrated(backend_);
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_ = std::move(*db);
    auto catalog = oauth::ProviderCatalog::LoadBuiltIn();
    ASSERT_TRUE(catalog.ok());
    catalog_ = std::make_unique<oauth::ProviderCatalog>(std::move(*catalog));
    integrations_ = std::make_unique<oauth::IntegrationService>(
        oauth::IntegrationDeps{.db = *db_,
                               .catalog = *catalog_,
                               .secrets = security_.secrets(),
                               .audit = security_.audit(),
                               .clock = clock_});
    tokens_ = std::make_unique<oauth::TokenClient>(http_);
    RefreshOptions options;
    options.max_transient_failures = 3;
    options.poll = std::chrono::milliseconds(5);
    options.node_id = "node-a";
    service_ = std::make_unique<ConnectionService>(ConnectionDeps{.db = *db_,
                                                                  .catalog = *catalog_,
                                                                  .integrations = *integrations_,
                                                                  .secrets = security_.secrets(),
                                                                  .audit = security_.audit(),
                                                                  .tokens = *tokens_,
                                                                  .clock = clock_,
                                                                  .random = random_},
                                                   options);

    scheduler_ = std::make_unique<RefreshScheduler>(RefreshSchedulerDeps{.db = *db_,
                                                                         .maintenance = *db_,
                                                                         .connections = *service_,
                                                                         .clock = clock_,
                                                                         .ids = ids_},
                                                    RefreshScheduleOptions{});
    runner_ = std::make_unique<jobs::JobRunner>(*db_, *db_, clock_, random_,
                                                jobs::JobRunnerOptions{.threads = 4});
    runner_->Register(kRefreshJob,
                      [this](jobs::JobContext& job) { return scheduler_->Handle(job); });

    tenant_ = TenantId(ids_.NewUuid());
    ASSERT_TRUE(
        db_->RunInTenant(
               tenant_,
               [&](store::Transaction& tx) {
                 return store::TenantRepository().Insert(tx, tenant_, {tenant_, "t", clock_.Now()});
               })
            .ok());
    oauth::IntegrationInput google;
    google.provider = "google";
    google.client_id = "cid.apps.googleusercontent.com";
    google.client_secret = "client-secret";
    google.services = {{"calendar", true}};
    ASSERT_TRUE(integrations_->Put(tenant_, google, ctx_).ok());
    id_ = NewConnection("rt-0");
  }

  // An active Google connection whose token expires in an hour.
  ConnectionId NewConnection(const std::string& refresh_token) {
    ConnectionId id(ids_.NewUuid());
    store::ConnectionRecord r;
    r.tenant_id = tenant_;
    r.id = id;
    r.provider = "google";
    r.end_user_id = "u";
    r.account_subject = "sub-" + id.value();
    r.access_expires_at = clock_.Now() + minutes(60);
    r.has_refresh_token = true;
    r.token_version = 1;
    r.next_refresh_at =
        NextRefreshAt(service_->options(), clock_.Now(), *r.access_expires_at, random_);
    r.created_at = r.updated_at = clock_.Now();
    const std::string owner = store::ConnectionSecretOwner(id);
    EXPECT_TRUE(db_->RunInTenant(tenant_,
                                 [&](store::Transaction& tx) -> Status {
                                   SB_RETURN_IF_ERROR(
                                       store::ConnectionRepository().Insert(tx, tenant_, r));
                                   SB_RETURN_IF_ERROR(security_.secrets().Put(
                                       tx, {tenant_, owner, kAccessTokenField}, "at-0"));
                                   return security_.secrets().Put(
                                       tx, {tenant_, owner, kRefreshTokenField}, refresh_token);
                                 })
                    .ok());
    return id;
  }

  store::ConnectionRecord Record() {
    auto r = service_->Get(tenant_, id_);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return *r;
  }

  Result<AccessToken> Force() { return service_->Token(tenant_, id_, RefreshMode::kForce, ctx_); }

  // One refresh scheduler pass and the refresh jobs it queued; returns how many it queued.
  int ScheduledRefreshes() {
    auto queued = scheduler_->EnqueueDue();
    EXPECT_TRUE(queued.ok()) << queued.status().ToString();
    for (auto ran = runner_->RunOnce(); ran.ok() && *ran > 0; ran = runner_->RunOnce()) {
    }
    auto again = scheduler_->EnqueueDue();
    EXPECT_TRUE(again.ok() && *again == 0) << "a refresh job left its connection due";
    return queued.ok() ? *queued : -1;
  }

  store::testing::SqliteTestBackend backend_;
  std::unique_ptr<store::Database> db_;
  sb::testing::FakeClock clock_;
  SystemRandom random_;
  IdGenerator ids_{clock_, random_};
  std::unique_ptr<oauth::ProviderCatalog> catalog_;
  std::unique_ptr<RefreshScheduler> scheduler_;
  std::unique_ptr<jobs::JobRunner> runner_;
  audit::testing::SecurityKit security_{clock_, random_, ids_};
  std::unique_ptr<oauth::IntegrationService> integrations_;
  net::testing::FakeHttpClient http_;
  std::unique_ptr<oauth::TokenClient> tokens_;
  std::unique_ptr<ConnectionService> service_;
  const audit::Context ctx_{audit::Actor{audit::ActorKind::kSystem, "test"}, ""};
  TenantId tenant_;
  ConnectionId id_;
};

TEST_F(ConnectionServiceTest, OnDemandUsesTheStoredTokenUntilItNearlyExpires) {
  auto token = service_->Token(tenant_, id_, RefreshMode::kIfNeeded, ctx_);
  ASSERT_TRUE(token.ok());
  EXPECT_EQ(token->token.view(), "at-0");
  EXPECT_FALSE(token->refreshed);
  EXPECT_TRUE(http_.requests().empty());
  clock_.Advance(minutes(59) + seconds(30));  // within the on-demand margin
  http_.Enqueue(TokenJson("at-1"));
  token = service_->Token(tenant_, id_, RefreshMode::kIfNeeded, ctx_);
  ASSERT_TRUE(token.ok()) << token.status().ToString();
  EXPECT_EQ(token->token.view(), "at-1");
  EXPECT_TRUE(token->refreshed);
}

// OA-10: a response without a refresh token keeps the old one; a rotated one replaces it and
// the old value is never sent again.
TEST_F(ConnectionServiceTest, RotationReplacesAndAbsenceKeepsTheRefreshToken) {
  http_.Enqueue(TokenJson("at-1"));                // Google: no refresh token on refresh
  http_.Enqueue(TokenJson("at-2", "rt-rotated"));  // a rotating provider
  http_.Enqueue(TokenJson("at-3"));
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(Force().ok());
  auto sent = http_.requests();
  ASSERT_EQ(sent.size(), 3u);
  EXPECT_EQ(RefreshTokenSent(sent[0]), "rt-0");
  EXPECT_EQ(RefreshTokenSent(sent[1]), "rt-0");
  EXPECT_EQ(RefreshTokenSent(sent[2]), "rt-rotated");
  EXPECT_EQ(Record().token_version, 4);
  EXPECT_EQ(Record().status, store::ConnectionStatus::kActive);
}

// OA-10: concurrent refreshes of one connection make exactly one call to the token endpoint;
// the others wait and use the winner's token.
TEST_F(ConnectionServiceTest, ConcurrentRefreshesMakeOneTokenCall) {
  std::atomic<int> calls{0};
  http_.SetHandler([&](const net::HttpRequest&) -> Result<net::HttpResponse> {
    ++calls;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    return TokenJson("at-winner", "rt-winner");
  });
  constexpr int kThreads = 6;
  std::vector<std::string> got(kThreads);
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      auto token = Force();
      got[i] = token.ok() ? std::string(token->token.view()) : token.status().ToString();
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(calls.load(), 1);
  for (const auto& g : got) EXPECT_EQ(g, "at-winner");
  EXPECT_EQ(Record().token_version, 2);
  EXPECT_TRUE(Record().lease_owner.empty());
}

TEST_F(ConnectionServiceTest, InvalidGrantNeedsReauthorizationWithoutRetries) {
  http_.Enqueue(OAuthError(400, "invalid_grant"));
  auto token = Force();
  EXPECT_EQ(token.status().code(), StatusCode::kFailedPrecondition);
  auto r = Record();
  EXPECT_EQ(r.status, store::ConnectionStatus::kReauthorizationRequired);
  EXPECT_FALSE(r.next_refresh_at.has_value());
  EXPECT_TRUE(r.lease_owner.empty());
  // Nothing asks the provider again, on demand or scheduled.
  clock_.Advance(std::chrono::hours(3));
  EXPECT_EQ(service_->Token(tenant_, id_, RefreshMode::kIfNeeded, ctx_).status().code(),
            StatusCode::kFailedPrecondition);
  EXPECT_EQ(ScheduledRefreshes(), 0);
  EXPECT_EQ(http_.requests().size(), 1u);
}

// Transient failures back off exponentially (Retry-After wins when longer), then mark the
// connection error; a later success makes it active again.
TEST_F(ConnectionServiceTest, TransientFailuresBackOffThenMarkError) {
  net::HttpResponse limited = OAuthError(429, "rate_limited");
  limited.headers.emplace_back("Retry-After", "600");
  http_.Enqueue(OAuthError(503, "temporarily_unavailable"));
  http_.Enqueue(limited);
  http_.Enqueue(OAuthError(503, "temporarily_unavailable"));
  auto first = Force();
  EXPECT_EQ(first.status().code(), StatusCode::kUnavailable);
  auto r = Record();
  EXPECT_EQ(r.status, store::ConnectionStatus::kActive);
  EXPECT_EQ(r.refresh_failures, 1);
  ASSERT_TRUE(r.next_refresh_at.has_value());
  const auto delay1 = *r.next_refresh_at - clock_.Now();
  EXPECT_GE(delay1, seconds(15));  // 30 s minus up to half as jitter
  EXPECT_LE(delay1, seconds(30));

  EXPECT_EQ(Force().status().code(), StatusCode::kUnavailable);
  r = Record();
  EXPECT_EQ(r.refresh_failures, 2);
  EXPECT_GE(*r.next_refresh_at - clock_.Now(), seconds(600));  // Retry-After

  EXPECT_EQ(Force().status().code(), StatusCode::kUnavailable);
  r = Record();
  EXPECT_EQ(r.status, store::ConnectionStatus::kError);
  EXPECT_NE(r.status_reason.find("3 times"), std::string::npos) << r.status_reason;

  http_.Enqueue(TokenJson("at-1"));
  ASSERT_TRUE(Force().ok());
  r = Record();
  EXPECT_EQ(r.status, store::ConnectionStatus::kActive);
  EXPECT_EQ(r.refresh_failures, 0);
}

// The scheduler refreshes what is due, each connection at margin + jitter before expiry, through
// refresh jobs on the durable queue (one per connection, each run once).
TEST_F(ConnectionServiceTest, SchedulerRefreshesWhatIsDueSpreadByJitter) {
  std::vector<ConnectionId> ids = {id_};
  for (int i = 0; i < 19; ++i) ids.push_back(NewConnection("rt-" + std::to_string(i)));
  std::set<int64_t> planned;
  for (const auto& id : ids) {
    auto r = service_->Get(tenant_, id);
    ASSERT_TRUE(r.ok());
    const auto before_expiry = *r->access_expires_at - *r->next_refresh_at;
    EXPECT_GE(before_expiry, seconds(300));
    EXPECT_LE(before_expiry, seconds(420));
    planned.insert(ToUnixMicros(*r->next_refresh_at));
  }
  EXPECT_GT(planned.size(), 15u);  // spread, not one burst
  http_.SetHandler(
      [](const net::HttpRequest&) -> Result<net::HttpResponse> { return TokenJson("fresh"); });
  EXPECT_EQ(ScheduledRefreshes(), 0);
  clock_.Advance(minutes(56));  // past every planned time (at most 55 minutes in)
  EXPECT_EQ(ScheduledRefreshes(), 20);
  EXPECT_EQ(http_.requests().size(), 20u);  // each refreshed once, on the job queue
  for (const auto& id : ids) EXPECT_EQ(service_->Get(tenant_, id)->token_version, 2);
  EXPECT_EQ(ScheduledRefreshes(), 0);
}

TEST(NextRefreshAtTest, ShortLivedTokensRefreshAtHalfTheirLife) {
  RefreshOptions options;
  SystemRandom random;
  const Timestamp now = FromUnixMicros(1'800'000'000'000'000);
  const Timestamp at = NextRefreshAt(options, now, now + minutes(4), random);
  EXPECT_EQ(at, now + minutes(2));
}

// Health error kinds are enums in the domain and names in the store: every kind round-trips,
// and "" (no error) or a name of another version is no kind.
TEST(HealthErrorKindTest, NamesRoundTripAndUnknownNamesAreNoKind) {
  for (HealthErrorKind kind :
       {HealthErrorKind::kTokenRejected, HealthErrorKind::kReauthorizationRequired,
        HealthErrorKind::kRateLimited, HealthErrorKind::kProviderUnavailable,
        HealthErrorKind::kRefreshFailing, HealthErrorKind::kProviderError}) {
    EXPECT_EQ(ParseHealthErrorKind(HealthErrorKindName(kind)), kind);
  }
  EXPECT_EQ(HealthErrorKindName(HealthErrorKind::kRateLimited), "rate_limited");
  EXPECT_EQ(ParseHealthErrorKind(""), std::nullopt);
  EXPECT_EQ(ParseHealthErrorKind("quota_melted"), std::nullopt);
  EXPECT_EQ(HealthStatusName(HealthStatus::kDegraded), "degraded");
}

}  // namespace
}  // namespace sb::connections
