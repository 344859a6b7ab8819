// Webhook deliveries to the host app.
//
// Dispatcher is the outbox side (connections::ConnectionEvents): inside the transaction of a change
// it writes one delivery row per enabled endpoint of the tenant that subscribes to the event type,
// each with its `webhook-id` (msg_ + 128 bits, stable across retries, WH-01) and the exact JSON
// body, and enqueues one durable "webhook.deliver" job per delivery. If the change rolls back,
// so do its deliveries.
//
// Deliverer is the job handler: it signs the stored body with the endpoint's current signing
// secrets (two signatures during a rotation's grace period), checks that the endpoint's host
// does not resolve to an internal address unless the deployment allows it (WH-05; redirects are
// never followed), POSTs it with a fresh timestamp and records the attempt. 2xx: succeeded.
// 410 Gone, a disabled or deleted endpoint, or a refused target: dead at once. Anything else
// (other statuses, timeouts, connection failures): retried on a schedule of about three days
// (30 s doubling to 8 h, +-15 % jitter, a longer Retry-After wins), then dead.
//
// Endpoint health (WH-04): every attempt that reaches for the endpoint (not those refused
// because it is disabled or cannot be signed for) records on the endpoint row, in the
// transaction of the attempt's record, a success (last_success_at, failing_since cleared) or a
// failure (failing_since set unless already failing). A failure after the endpoint has been
// failing for options.disable_after disables it (disabled_reason "failing") in that same
// transaction, with an audit entry (webhook_endpoint.auto_disable) and the event
// kEndpointDisabledEvent to the tenant's other enabled endpoints that subscribe to it; then a log
// line and sb_webhook_endpoints_disabled_total{reason}. Its queued deliveries then end as dead.
//
// Concurrency (WH-05): each delivery job carries its endpoint's concurrency key and
// max_concurrency (jobs::JobSpec), so the job queue runs at most that many deliveries to one
// endpoint at once across all nodes; the others wait queued, using no attempt.
// Thread-safe.
#pragma once

#include <chrono>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "sb/audit/audit_log.h"
#include "sb/audit/context.h"
#include "sb/base/clock.h"
#include "sb/base/ids.h"
#include "sb/base/metrics.h"
#include "sb/base/random.h"
#include "sb/connections/events.h"
#include "sb/jobs/runner.h"
#include "sb/net/http_client.h"
#include "sb/store/webhooks/webhook_repository.h"
#include "sb/webhooks/endpoints.h"

namespace sb::webhooks {

inline constexpr char kDeliverJob[] = "webhook.deliver";
// With RetryDelay's schedule (30 s doubling to 8 h), 18 attempts span about three days.
inline constexpr int kDeliveryAttempts = 18;
// Announces an endpoint that was disabled automatically; data: {"endpoint": {id, url,
// disabled_reason, failing_since, last_success_at}}.
inline constexpr char kEndpointDisabledEvent[] = "webhook_endpoint.disabled";

// The tenant's concurrency group of webhook deliveries: its deliveries in flight, whatever the
// endpoint, are capped by `max_in_flight` (quotas.webhook_deliveries_in_flight). A delivery over
// the cap stays queued (no attempt used) until one finishes.
inline constexpr char kDeliveriesGroup[] = "webhook_deliveries";
inline constexpr int kDefaultDeliveriesInFlight = 16;

class Dispatcher final : public connections::ConnectionEvents {
 public:
  // `max_in_flight`: the tenant's deliveries in flight at once
  // (quotas.webhook_deliveries_in_flight).
  Dispatcher(const Clock& clock, Random& random, IdGenerator& ids,
             int max_in_flight = kDefaultDeliveriesInFlight)
      : clock_(clock), random_(random), ids_(ids), max_in_flight_(max_in_flight) {}

  Status Emit(store::Transaction& tx, const TenantId& tenant, std::string_view type,
              const Json& data) override;
  // The tenant's endpoints are read once for all of `events`.
  Status EmitAll(store::Transaction& tx, const TenantId& tenant,
                 std::span<const connections::Announcement> events) override;

 private:
  // Queues the delivery of one event to one endpoint.
  Status Queue(store::Transaction& tx, const TenantId& tenant,
               const store::WebhookEndpointRecord& endpoint, std::string_view type,
               const Json& data, Timestamp now);

  const Clock& clock_;
  Random& random_;
  IdGenerator& ids_;
  const int max_in_flight_;
};

struct DeliveryOptions {
  std::chrono::milliseconds timeout{15'000};
  std::chrono::milliseconds first_retry{30'000};
  std::chrono::milliseconds max_retry{8 * 3'600'000};
  bool allow_private_targets = false;
  // A failing attempt disables an endpoint that has been failing for this long; 0: never.
  std::chrono::hours disable_after{5 * 24};
};

// What Deliverer works with; the pointers are optional (null: not used).
struct DelivererDeps {
  store::Database& db;
  EndpointService& endpoints;
  net::HttpClient& http;
  const Clock& clock;
  Random& random;                               // retry jitter
  audit::AuditLog& audit;                       // records auto-disables
  Dispatcher& events;                           // announces auto-disables
  metrics::MetricsRegistry* metrics = nullptr;  // gets sb_webhook_endpoints_disabled_total{reason}
  // A host's addresses as URL-host strings ("1.2.3.4", "[::1]"); injected so tests need no DNS.
  // Empty: getaddrinfo.
  std::function<Result<std::vector<std::string>>(const std::string& host)> resolve;
};

class Deliverer {
 public:
  Deliverer(DelivererDeps deps, DeliveryOptions options);

  jobs::JobResult Handle(jobs::JobContext& job);

  // The retry delay after `attempts` attempts (jittered).
  std::chrono::milliseconds RetryDelay(int attempts);

 private:
  // Whether an attempt tells anything about the endpoint's health.
  // kGone: the endpoint answered 410 Gone, which disables it at once (reason "gone").
  enum class Reached { kNo, kYes, kGone };
  jobs::JobResult Record(jobs::JobContext& job, const store::WebhookDeliveryRecord& delivery,
                         store::WebhookDeliveryState state, std::optional<int> status,
                         const std::string& error, std::optional<std::chrono::milliseconds> retry,
                         Reached reached = Reached::kYes);
  // In the failed attempt's transaction: marks the endpoint failing and disables it once it has
  // been failing for options_.disable_after. True when this call disabled it.
  // `reason` is kDisabledFailing after days of failure or kDisabledGone after a 410 (at once).
  Result<bool> RecordFailure(store::Transaction& tx, const TenantId& tenant,
                             const WebhookEndpointId& id, Timestamp now, std::string_view reason);
  Status AnnounceDisabled(store::Transaction& tx, const store::WebhookEndpointRecord& endpoint);

  store::Database& db_;
  EndpointService& endpoints_;
  net::HttpClient& http_;
  const Clock& clock_;
  Random& random_;
  const DeliveryOptions options_;
  audit::AuditLog& audit_;
  Dispatcher& events_;
  metrics::CounterFamily* disabled_counter_ = nullptr;
  std::function<Result<std::vector<std::string>>(const std::string&)> resolve_;
  store::WebhookDeliveryRepository deliveries_;
  store::WebhookEndpointRepository endpoint_repo_;
};

// What DeliveryLog works with.
struct DeliveryLogDeps {
  store::Database& db;
  audit::AuditLog& audit;
  const Clock& clock;
  IdGenerator& ids;  // the retries' jobs
};

// The deliveries of a tenant, for `/v1/webhook-deliveries`: list with filters, read, and retry
// (a delivery that succeeded, failed or went dead goes back to pending with a new job; its
// webhook-id stays, so receivers can de-duplicate). Thread-safe.
class DeliveryLog {
 public:
  explicit DeliveryLog(DeliveryLogDeps deps, int max_in_flight = kDefaultDeliveriesInFlight)
      : db_(deps.db),
        audit_(deps.audit),
        clock_(deps.clock),
        ids_(deps.ids),
        max_in_flight_(max_in_flight) {}

  Result<std::vector<store::WebhookDeliveryRecord>> List(
      const TenantId& tenant, const store::WebhookDeliveryFilter& filter,
      const std::optional<WebhookDeliveryId>& after, int limit);
  // NOT_FOUND when the tenant has no such delivery.
  Result<store::WebhookDeliveryRecord> Get(const TenantId& tenant, const WebhookDeliveryId& id);
  // FAILED_PRECONDITION while it is still pending.
  Result<store::WebhookDeliveryRecord> Retry(const TenantId& tenant, const WebhookDeliveryId& id,
                                             const audit::Context& ctx);

 private:
  store::Database& db_;
  audit::AuditLog& audit_;
  const Clock& clock_;
  IdGenerator& ids_;
  const int max_in_flight_;
  store::WebhookDeliveryRepository repo_;
};

}  // namespace sb::webhooks
