// Deliverer over SQLite with a fake HTTP client and a fake resolver: the request goes only to the
// checked addresses (pinned), a host that resolves inside is refused without any call (WH-05),
// 410 is final, other failures retry with the same webhook-id, and the schedule spans about
// three days.
#include "sb/webhooks/delivery.h"

#include <algorithm>
#include <mutex>
#include <thread>

#include <gtest/gtest.h>

#include "sb/audit/audit_keys.h"
#include "sb/audit/testing/security_kit.h"
#include "sb/base/encoding.h"
#include "sb/base/testing/fake_clock.h"
#include "sb/net/testing/fake_http_client.h"
#include "sb/store/tenancy/tenant_repository.h"
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
    endpoints_ = std::make_unique<EndpointService>(EndpointDeps{.db = *db_,
                                                                .secrets = security_.secrets(),
                                                                .audit = security_.audit(),
                                                                .clock = clock_,
                                                                .random = random_,
                                                                .ids = ids_},
                                                   EndpointPolicy{});
    dispatcher_ = std::make_unique<Dispatcher>(clock_, random_, ids_);
    deliverer_ = std::make_unique<Deliverer>(
        DelivererDeps{
            .db = *db_,
            .endpoints = *endpoints_,
            .http = http_,
            .clock = clock_,
            .random = random_,
            .audit = security_.audit(),
            .events = *dispatcher_,
            .metrics = &metrics_,
            .resolve = [this](const std::string& host) -> Result<std::vector<std::string>> {
              std::lock_guard lock(resolved_mu_);  // deliveries resolve on several threads
              resolved_.push_back(host);
              return addresses_;
            }},
        DeliveryOptions{});
    jobs::JobRunnerOptions options;
    options.backoff_base = milliseconds(1);
    UseRunner(options);
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
    endpoint_ = created->record.id;
    Dispatcher dispatcher(clock_, random_, ids_);
    ASSERT_TRUE(db_->RunInTenant(tenant_,
                                 [&](store::Transaction& tx) {
                                   return dispatcher.Emit(tx, tenant_, "connection.created",
                                                          Json{{"connection", {{"id", "c1"}}}});
                                 })
                    .ok());
  }

  // Emits `type` now, as a connection change would.
  void Emit(std::string_view type = "connection.updated") {
    ASSERT_TRUE(
        db_->RunInTenant(
               tenant_,
               [&](store::Transaction& tx) {
                 return dispatcher_->Emit(tx, tenant_, type, Json{{"connection", {{"id", "c1"}}}});
               })
            .ok());
  }

  // Replaces the runner of delivery jobs with one of `options`.
  void UseRunner(const jobs::JobRunnerOptions& options) {
    runner_ = std::make_unique<jobs::JobRunner>(*db_, *db_, clock_, random_, options);
    runner_->Register(kDeliverJob,
                      [this](jobs::JobContext& job) { return deliverer_->Handle(job); });
  }

  // A runner that leases up to 32 deliveries of the tenant per poll on 8 threads, so that only
  // the concurrency limits under test hold deliveries back.
  void UseWideRunner() {
    jobs::JobRunnerOptions options;
    options.threads = 8;
    options.batch = 32;
    options.per_tenant = 32;
    UseRunner(options);
  }

  // Runs due jobs until none is left; returns how many ran.
  int Drain() {
    int total = 0;
    for (int i = 0; i < 100; ++i) {
      auto ran = runner_->RunOnce();
      EXPECT_TRUE(ran.ok()) << ran.status().ToString();
      if (!ran.ok() || *ran == 0) break;
      total += *ran;
    }
    return total;
  }

  WebhookEndpointId AddEndpoint(const std::string& url, std::vector<std::string> types,
                                std::optional<int> max_concurrency = std::nullopt) {
    EndpointInput input;
    input.url = url;
    input.event_types = std::move(types);
    input.max_concurrency = max_concurrency;
    auto created = endpoints_->Create(tenant_, input, ctx_);
    EXPECT_TRUE(created.ok()) << created.status().ToString();
    return created->record.id;
  }

  store::WebhookEndpointRecord Endpoint(const WebhookEndpointId& id) {
    auto got = endpoints_->Get(tenant_, id);
    EXPECT_TRUE(got.ok()) << got.status().ToString();
    return *got;
  }

  std::vector<store::WebhookDeliveryRecord> Deliveries(const store::WebhookDeliveryFilter& filter) {
    std::vector<store::WebhookDeliveryRecord> all;
    EXPECT_TRUE(db_->RunInTenant(tenant_,
                                 [&](store::Transaction& tx) -> Status {
                                   SB_ASSIGN_OR_RETURN(
                                       all, store::WebhookDeliveryRepository().List(
                                                tx, tenant_, filter, std::nullopt, 1000));
                                   return OkStatus();
                                 })
                    .ok());
    return all;
  }

  int AuditCount(const std::string& action) {
    int n = 0;
    EXPECT_TRUE(db_->RunInTenant(tenant_,
                                 [&](store::Transaction& tx) -> Status {
                                   audit::Filter filter;
                                   filter.action = action;
                                   SB_ASSIGN_OR_RETURN(auto page,
                                                       security_.audit().List(tx, tenant_, filter,
                                                                              std::nullopt, 100));
                                   n = static_cast<int>(page.entries.size());
                                   return OkStatus();
                                 })
                    .ok());
    return n;
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
  audit::testing::SecurityKit security_{clock_, random_, ids_};
  std::unique_ptr<EndpointService> endpoints_;
  net::testing::FakeHttpClient http_;
  std::vector<std::string> addresses_ = {"93.184.216.34"};
  // The endpoint under test was disabled for `reason` exactly once: one audit entry, one
  // metric increment, one signed notice delivered to `watcher` naming it and the reason.
  void ExpectDisabledOnceAndAnnounced(const std::string& reason, const WebhookEndpointId& watcher) {
    EXPECT_EQ(AuditCount("webhook_endpoint.auto_disable"), 1);
    EXPECT_NE(metrics_.RenderPrometheusText().find("sb_webhook_endpoints_disabled_total{reason=\"" +
                                                   reason + "\"} 1"),
              std::string::npos);
    store::WebhookDeliveryFilter notices;
    notices.event_type = kEndpointDisabledEvent;
    auto told = Deliveries(notices);
    ASSERT_EQ(told.size(), 1u);
    EXPECT_EQ(told[0].endpoint_id, watcher);
    EXPECT_EQ(told[0].state, store::WebhookDeliveryState::kSucceeded);
    const Json payload = Json::parse(told[0].payload);
    EXPECT_EQ(payload["type"], kEndpointDisabledEvent);
    EXPECT_EQ(payload["data"]["endpoint"]["id"], endpoint_.value());
    EXPECT_EQ(payload["data"]["endpoint"]["disabled_reason"], reason);
  }

  std::mutex resolved_mu_;
  std::vector<std::string> resolved_;  // guarded by resolved_mu_
  metrics::MetricsRegistry metrics_;
  std::unique_ptr<Dispatcher> dispatcher_;
  std::unique_ptr<Deliverer> deliverer_;
  std::unique_ptr<jobs::JobRunner> runner_;
  const audit::Context ctx_{audit::Actor{audit::ActorKind::kApiKey, "key"}, "req"};
  TenantId tenant_;
  std::string secret_;
  WebhookEndpointId endpoint_;  // every event type, hooks.example.com
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

// 410 Gone means the receiver is gone for good: the endpoint is disabled at once (reason
// "gone"), audited, counted, and the host told through its other endpoints.
TEST_F(DeliveryTest, GoneDisablesTheEndpointAtOnce) {
  const WebhookEndpointId watcher =
      AddEndpoint("https://watcher.example.com/sb", {kEndpointDisabledEvent});
  http_.SetHandler([](const net::HttpRequest& request) -> Result<net::HttpResponse> {
    if (request.url.starts_with("https://hooks.example.com/")) {
      return net::HttpResponse{410, {}, "gone"};
    }
    return net::HttpResponse{204, {}, ""};
  });
  Drain();
  const auto e = Endpoint(endpoint_);
  EXPECT_FALSE(e.enabled);
  EXPECT_EQ(e.disabled_reason, kDisabledGone);
  store::WebhookDeliveryFilter mine;
  mine.endpoint_id = endpoint_;
  const auto to_gone = Deliveries(mine);
  ASSERT_EQ(to_gone.size(), 1u);
  EXPECT_EQ(to_gone[0].state, store::WebhookDeliveryState::kDead);
  EXPECT_EQ(to_gone[0].attempts, 1);
  ExpectDisabledOnceAndAnnounced(kDisabledGone, watcher);
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

// WH-04: an endpoint that has failed for disable_after (5 days) is disabled by the failing
// attempt that crosses it, once: one audit entry, one metric increment, one
// webhook_endpoint.disabled event to the other endpoint that subscribes to it (not to itself,
// not to one that does not subscribe). Its queued deliveries then end as dead, and re-enabling
// clears the failure tracking.
TEST_F(DeliveryTest, AnEndpointFailingForDaysIsDisabledOnceAndTheHostIsTold) {
  const WebhookEndpointId watcher =
      AddEndpoint("https://watcher.example.com/sb", {kEndpointDisabledEvent});
  const WebhookEndpointId bystander =
      AddEndpoint("https://bystander.example.com/sb", {"connection.deleted"});
  http_.SetHandler([](const net::HttpRequest& request) -> Result<net::HttpResponse> {
    if (request.url.starts_with("https://hooks.example.com/"))
      return net::HttpResponse{500, {}, ""};
    return net::HttpResponse{204, {}, ""};
  });
  const Timestamp t0 = clock_.Now();
  EXPECT_EQ(Drain(), 1);
  EXPECT_EQ(Endpoint(endpoint_).failing_since, t0);
  // Failing for four days and then some, with an event a day: still enabled.
  for (int day = 1; day <= 4; ++day) {
    clock_.Advance(hours(24));
    Emit();
    Drain();
    const auto e = Endpoint(endpoint_);
    EXPECT_TRUE(e.enabled) << day;
    EXPECT_EQ(e.failing_since, t0) << day;
  }
  clock_.Advance(hours(23));
  Emit();
  Drain();
  EXPECT_TRUE(Endpoint(endpoint_).enabled);
  EXPECT_EQ(AuditCount("webhook_endpoint.auto_disable"), 0);

  // Five days: the next failure disables it.
  clock_.Advance(hours(1));
  Emit();
  Drain();
  auto e = Endpoint(endpoint_);
  EXPECT_FALSE(e.enabled);
  EXPECT_EQ(e.disabled_reason, kDisabledFailing);
  EXPECT_EQ(e.failing_since, t0);
  EXPECT_EQ(e.last_success_at, std::nullopt);
  ExpectDisabledOnceAndAnnounced(kDisabledFailing, watcher);
  store::WebhookDeliveryFilter notices;
  notices.event_type = kEndpointDisabledEvent;
  store::WebhookDeliveryFilter to_bystander;
  to_bystander.endpoint_id = bystander;
  EXPECT_TRUE(Deliveries(to_bystander).empty());

  // Its queued deliveries end as dead as they come due, without telling anyone again.
  clock_.Advance(hours(72));
  Drain();
  store::WebhookDeliveryFilter mine;
  mine.endpoint_id = endpoint_;
  const auto all = Deliveries(mine);
  EXPECT_EQ(all.size(), 7u);
  for (const auto& d : all) EXPECT_EQ(d.state, store::WebhookDeliveryState::kDead);
  EXPECT_GE(std::count_if(all.begin(), all.end(),
                          [](const auto& d) { return d.last_error == "the endpoint is disabled"; }),
            1);
  EXPECT_EQ(AuditCount("webhook_endpoint.auto_disable"), 1);
  EXPECT_EQ(Deliveries(notices).size(), 1u);
  EXPECT_NE(metrics_.RenderPrometheusText().find(
                "sb_webhook_endpoints_disabled_total{reason=\"failing\"} 1"),
            std::string::npos);

  // PATCH enabled: true clears the reason and the failure clock.
  EndpointInput enable;
  enable.enabled = true;
  auto reenabled = endpoints_->Update(tenant_, endpoint_, enable, ctx_);
  ASSERT_TRUE(reenabled.ok()) << reenabled.status().ToString();
  EXPECT_TRUE(reenabled->enabled);
  EXPECT_EQ(reenabled->disabled_reason, "");
  EXPECT_EQ(reenabled->failing_since, std::nullopt);
  EXPECT_EQ(Endpoint(endpoint_), *reenabled);
}

// A success resets the failure clock: failing for four days, one success, then four more days
// of failure keep the endpoint enabled.
TEST_F(DeliveryTest, ASuccessInBetweenResetsTheFailureClock) {
  bool up = false;
  http_.SetHandler([&](const net::HttpRequest&) -> Result<net::HttpResponse> {
    return net::HttpResponse{up ? 204 : 503, {}, ""};
  });
  const Timestamp t0 = clock_.Now();
  Drain();
  clock_.Advance(hours(96));
  Emit();
  Drain();
  EXPECT_EQ(Endpoint(endpoint_).failing_since, t0);
  up = true;
  Emit();
  Drain();
  auto e = Endpoint(endpoint_);
  EXPECT_EQ(e.failing_since, std::nullopt);
  EXPECT_EQ(e.last_success_at, clock_.Now());
  up = false;
  clock_.Advance(hours(1));
  const Timestamp t1 = clock_.Now();
  Emit();
  Drain();
  EXPECT_EQ(Endpoint(endpoint_).failing_since, t1);
  clock_.Advance(hours(96));
  Emit();
  Drain();
  e = Endpoint(endpoint_);
  EXPECT_TRUE(e.enabled);  // 101 h since t0, but only 96 h since t1
  EXPECT_EQ(e.failing_since, t1);
  EXPECT_EQ(AuditCount("webhook_endpoint.auto_disable"), 0);
}

// disable_after = 0 never disables.
TEST_F(DeliveryTest, ZeroDisableAfterNeverDisables) {
  DeliveryOptions options;
  options.disable_after = hours(0);
  Deliverer never(
      DelivererDeps{.db = *db_,
                    .endpoints = *endpoints_,
                    .http = http_,
                    .clock = clock_,
                    .random = random_,
                    .audit = security_.audit(),
                    .events = *dispatcher_,
                    .resolve = [this](const std::string&) -> Result<std::vector<std::string>> {
                      return addresses_;
                    }},
      options);
  runner_->Register(kDeliverJob, [&](jobs::JobContext& job) { return never.Handle(job); });
  http_.SetHandler([](const net::HttpRequest&) -> Result<net::HttpResponse> {
    return net::HttpResponse{500, {}, ""};
  });
  for (int day = 0; day < 8; ++day) {
    Emit();
    Drain();
    clock_.Advance(hours(24));
  }
  EXPECT_TRUE(Endpoint(endpoint_).enabled);
  EXPECT_TRUE(Endpoint(endpoint_).failing_since.has_value());
}

// WH-05: a burst of deliveries to a slow endpoint never has more than its max_concurrency in
// flight, while another endpoint's deliveries all go out in the same poll; a new limit set by
// PATCH applies to the deliveries already queued. Waiting deliveries use no attempt.
TEST_F(DeliveryTest, AnEndpointNeverHasMoreThanItsLimitInFlight) {
  UseWideRunner();
  const WebhookEndpointId slow = AddEndpoint("https://slow.example.com/sb", {}, 2);
  EndpointInput roomy;  // the other endpoint: room for all of its deliveries at once
  roomy.max_concurrency = 16;
  ASSERT_TRUE(endpoints_->Update(tenant_, endpoint_, roomy, ctx_).ok());
  std::mutex mu;
  int in_flight = 0, max_in_flight = 0;  // at the slow endpoint; guarded by mu
  http_.SetHandler([&](const net::HttpRequest& request) -> Result<net::HttpResponse> {
    if (!request.url.starts_with("https://slow.example.com/")) {
      return net::HttpResponse{204, {}, ""};
    }
    {
      std::lock_guard lock(mu);
      max_in_flight = std::max(max_in_flight, ++in_flight);
    }
    std::this_thread::sleep_for(milliseconds(100));
    std::lock_guard lock(mu);
    --in_flight;
    return net::HttpResponse{204, {}, ""};
  });
  for (int i = 0; i < 10; ++i) Emit();  // 10 events to slow, 11 with SetUp's to the other
  store::WebhookDeliveryFilter to_slow, to_fast;
  to_slow.endpoint_id = slow;
  to_fast.endpoint_id = endpoint_;
  auto succeeded = [&](const store::WebhookDeliveryFilter& filter) {
    const auto all = Deliveries(filter);
    return std::count_if(all.begin(), all.end(), [](const auto& d) {
      return d.state == store::WebhookDeliveryState::kSucceeded;
    });
  };
  // One poll: every fast delivery, and only two slow ones.
  ASSERT_EQ(*runner_->RunOnce(), 13);
  EXPECT_EQ(succeeded(to_fast), 11);
  EXPECT_EQ(succeeded(to_slow), 2);
  EXPECT_LE(max_in_flight, 2);
  for (const auto& d : Deliveries(to_slow)) {
    EXPECT_EQ(d.attempts, d.state == store::WebhookDeliveryState::kSucceeded ? 1 : 0);
  }
  // A higher limit applies to the queued deliveries at once.
  EndpointInput wider;
  wider.max_concurrency = 5;
  ASSERT_TRUE(endpoints_->Update(tenant_, slow, wider, ctx_).ok());
  max_in_flight = 0;
  ASSERT_EQ(*runner_->RunOnce(), 5);
  EXPECT_EQ(succeeded(to_slow), 7);
  EXPECT_LE(max_in_flight, 5);
  EXPECT_GE(max_in_flight, 2);
  EXPECT_EQ(Drain(), 3);
  EXPECT_EQ(succeeded(to_slow), 10);
}

// Issue 13, per-tenant quotas: a tenant's deliveries in flight, across all its endpoints, stay
// within quotas.webhook_deliveries_in_flight; the ones held back wait in the queue without an
// attempt and are all delivered later (nothing is dropped).
TEST_F(DeliveryTest, ATenantsDeliveriesInFlightStayWithinItsQuota) {
  UseWideRunner();
  dispatcher_ = std::make_unique<Dispatcher>(clock_, random_, ids_, /*max_in_flight=*/3);
  AddEndpoint("https://second.example.com/sb", {}, 8);
  EndpointInput roomy;
  roomy.max_concurrency = 8;
  ASSERT_TRUE(endpoints_->Update(tenant_, endpoint_, roomy, ctx_).ok());
  http_.SetHandler([](const net::HttpRequest&) -> Result<net::HttpResponse> {
    return net::HttpResponse{204, {}, ""};
  });
  ASSERT_EQ(Drain(), 1);               // SetUp's delivery, queued with the default limit
  for (int i = 0; i < 5; ++i) Emit();  // 10 deliveries, 5 to each endpoint
  auto delivered = [&] {
    const auto all = Deliveries({});
    return std::count_if(all.begin(), all.end(), [](const auto& d) {
      return d.state == store::WebhookDeliveryState::kSucceeded;
    });
  };
  ASSERT_EQ(*runner_->RunOnce(), 3);
  EXPECT_EQ(delivered(), 4);
  for (const auto& d : Deliveries({})) {
    EXPECT_EQ(d.attempts, d.state == store::WebhookDeliveryState::kSucceeded ? 1 : 0);
  }
  EXPECT_EQ(*runner_->RunOnce(), 3);
  EXPECT_EQ(Drain(), 4);
  EXPECT_EQ(delivered(), 11);
}

}  // namespace
}  // namespace sb::webhooks
