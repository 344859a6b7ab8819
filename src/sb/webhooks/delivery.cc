#include "sb/webhooks/delivery.h"

#include <algorithm>
#include <utility>

#include <arpa/inet.h>
#include <netdb.h>
#include <sys/socket.h>

#include "sb/base/encoding.h"
#include "sb/base/logging.h"
#include "sb/base/time_format.h"
#include "sb/net/address_policy.h"
#include "sb/oauth/token_client.h"
#include "sb/webhooks/signature.h"

namespace sb::webhooks {
namespace {

using std::chrono::milliseconds;

// The addresses `host` resolves to, as URL hosts ("1.2.3.4", "[2001:db8::1]").
Result<std::vector<std::string>> Resolve(const std::string& host) {
  std::string name = host;
  if (name.size() > 2 && name.front() == '[' && name.back() == ']') {
    name = name.substr(1, name.size() - 2);
  }
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (getaddrinfo(name.c_str(), nullptr, &hints, &found) != 0 || found == nullptr) {
    return UnavailableError("the endpoint's host does not resolve");
  }
  std::vector<std::string> out;
  for (addrinfo* a = found; a != nullptr; a = a->ai_next) {
    char text[INET6_ADDRSTRLEN] = {};
    if (a->ai_family == AF_INET) {
      inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(a->ai_addr)->sin_addr, text, sizeof text);
      out.emplace_back(text);
    } else if (a->ai_family == AF_INET6) {
      inet_ntop(AF_INET6, &reinterpret_cast<sockaddr_in6*>(a->ai_addr)->sin6_addr, text,
                sizeof text);
      out.push_back("[" + std::string(text) + "]");
    }
  }
  freeaddrinfo(found);
  return out;
}

// The delivery job of `delivery` to `endpoint`: its endpoint's concurrency key (WH-05) and the
// tenant's deliveries-in-flight group (quotas.webhook_deliveries_in_flight).
jobs::JobSpec DeliverySpec(const store::WebhookEndpointRecord& endpoint,
                           const WebhookDeliveryId& delivery, int max_in_flight) {
  jobs::JobSpec spec;
  spec.kind = kDeliverJob;
  spec.payload = {{"delivery_id", delivery.value()}};
  spec.max_attempts = kDeliveryAttempts;
  spec.concurrency_key = EndpointConcurrencyKey(endpoint.id);
  spec.concurrency_limit = endpoint.max_concurrency;
  spec.concurrency_group = kDeliveriesGroup;
  spec.group_limit = max_in_flight;
  return spec;
}

}  // namespace

// ---- Dispatcher ----

Status Dispatcher::Emit(store::Transaction& tx, const TenantId& tenant, std::string_view type,
                        const Json& data) {
  const connections::Announcement event{std::string(type), data};
  return EmitAll(tx, tenant, std::span(&event, 1));
}

Status Dispatcher::EmitAll(store::Transaction& tx, const TenantId& tenant,
                           std::span<const connections::Announcement> events) {
  if (events.empty()) return OkStatus();
  store::WebhookEndpointRepository repository;
  std::vector<store::WebhookEndpointRecord> endpoints;
  std::optional<WebhookEndpointId> after;
  while (true) {
    SB_ASSIGN_OR_RETURN(auto page, repository.List(tx, tenant, after, 1000));
    for (auto& endpoint : page) {
      if (endpoint.enabled) endpoints.push_back(std::move(endpoint));
    }
    if (page.size() < 1000) break;
    after = page.back().id;
  }
  const Timestamp now = clock_.Now();
  for (const connections::Announcement& event : events) {
    for (const auto& endpoint : endpoints) {
      const auto& types = endpoint.event_types;
      if (!types.empty() && std::find(types.begin(), types.end(), event.type) == types.end()) {
        continue;
      }
      SB_RETURN_IF_ERROR(Queue(tx, tenant, endpoint, event.type, event.data, now));
    }
  }
  return OkStatus();
}

Status Dispatcher::Queue(store::Transaction& tx, const TenantId& tenant,
                         const store::WebhookEndpointRecord& endpoint, std::string_view type,
                         const Json& data, Timestamp now) {
  store::WebhookDeliveryRecord delivery;
  delivery.tenant_id = tenant;
  delivery.id = WebhookDeliveryId(ids_.NewUuid());
  delivery.endpoint_id = endpoint.id;
  delivery.event_id = NewMessageId(random_);
  delivery.event_type = std::string(type);
  // The Standard Webhooks payload shape: type, timestamp, data. These exact bytes are signed on
  // every attempt.
  delivery.payload = Json{{"type", type}, {"timestamp", FormatRfc3339(now)}, {"data", data}}.dump();
  delivery.created_at = delivery.updated_at = now;
  delivery.next_attempt_at = now;
  const jobs::JobSpec spec = DeliverySpec(endpoint, delivery.id, max_in_flight_);
  SB_ASSIGN_OR_RETURN(auto job, jobs::Enqueue(tx, tenant, spec, clock_, ids_));
  delivery.job_id = job.id;
  return store::WebhookDeliveryRepository().Insert(tx, tenant, delivery);
}

// ---- Deliverer ----

Deliverer::Deliverer(DelivererDeps deps, DeliveryOptions options)
    : db_(deps.db),
      endpoints_(deps.endpoints),
      http_(deps.http),
      clock_(deps.clock),
      random_(deps.random),
      options_(options),
      audit_(deps.audit),
      events_(deps.events),
      resolve_(deps.resolve ? std::move(deps.resolve) : Resolve) {
  if (deps.metrics != nullptr) {
    disabled_counter_ = &deps.metrics->AddCounter(
        "sb_webhook_endpoints_disabled_total",
        "Webhook endpoints disabled automatically, by reason.", {"reason"});
  }
}

milliseconds Deliverer::RetryDelay(int attempts) {
  const int exponent = std::clamp(attempts - 1, 0, 20);
  milliseconds delay =
      std::min(options_.first_retry * (int64_t{1} << exponent), options_.max_retry);
  // +-15 % (WH-04).
  const double factor = 0.85 + 0.30 * random_.Fraction();
  return milliseconds(static_cast<int64_t>(static_cast<double>(delay.count()) * factor));
}

Status Deliverer::AnnounceDisabled(store::Transaction& tx,
                                   const store::WebhookEndpointRecord& endpoint) {
  auto optional_time = [](const std::optional<Timestamp>& t) {
    return t ? Json(FormatRfc3339(*t)) : Json(nullptr);
  };
  const Json about = {{"id", endpoint.id.value()},
                      {"url", endpoint.url},
                      {"disabled_reason", endpoint.disabled_reason},
                      {"failing_since", optional_time(endpoint.failing_since)},
                      {"last_success_at", optional_time(endpoint.last_success_at)}};
  SB_RETURN_IF_ERROR(audit_.Append(
      tx, endpoint.tenant_id,
      audit::Event{audit::Actor{audit::ActorKind::kSystem, "webhook-delivery"},
                   "webhook_endpoint.auto_disable", "webhook_endpoints/" + endpoint.id.value(),
                   audit::Outcome::kSuccess, "",
                   Json{{"reason", endpoint.disabled_reason},
                        {"failing_since", about["failing_since"]},
                        {"last_success_at", about["last_success_at"]},
                        {"disable_after_hours", options_.disable_after.count()}}}));
  // The endpoint is disabled by now, so the Dispatcher leaves it out.
  return events_.Emit(tx, endpoint.tenant_id, kEndpointDisabledEvent, Json{{"endpoint", about}});
}

Result<bool> Deliverer::RecordFailure(store::Transaction& tx, const TenantId& tenant,
                                      const WebhookEndpointId& id, Timestamp now,
                                      std::string_view reason) {
  SB_ASSIGN_OR_RETURN(bool exists, endpoint_repo_.RecordFailure(tx, tenant, id, now));
  const bool gone = reason == kDisabledGone;
  if (!exists || (!gone && options_.disable_after <= std::chrono::hours::zero())) return false;
  // A 410 says the receiver is gone for good: disable at once, whatever the failure clock.
  const Timestamp failing_before = gone ? now : now - options_.disable_after;
  SB_ASSIGN_OR_RETURN(bool disabled, endpoint_repo_.DisableIfFailingSince(
                                         tx, tenant, id, failing_before, reason, now));
  if (!disabled) return false;
  SB_ASSIGN_OR_RETURN(auto endpoint, endpoint_repo_.Get(tx, tenant, id));
  if (!endpoint) return InternalError("the endpoint vanished while it was disabled");
  SB_RETURN_IF_ERROR(AnnounceDisabled(tx, *endpoint));
  return true;
}

jobs::JobResult Deliverer::Record(jobs::JobContext& job,
                                  const store::WebhookDeliveryRecord& delivery,
                                  store::WebhookDeliveryState state, std::optional<int> status,
                                  const std::string& error, std::optional<milliseconds> retry,
                                  Reached reached) {
  const Timestamp now = clock_.Now();
  const TenantId& tenant = delivery.tenant_id;
  store::WebhookAttempt attempt;
  attempt.state = state;
  attempt.status_code = status;
  attempt.error = IsValidUtf8(error) ? error : "(error text was not UTF-8)";
  if (state == store::WebhookDeliveryState::kPending && retry) {
    attempt.next_attempt_at = now + std::chrono::duration_cast<std::chrono::microseconds>(*retry);
  }
  auto record = [&](store::Transaction& tx) -> Status {
    return deliveries_.RecordAttempt(tx, tenant, delivery.id, attempt, now).status();
  };
  if (state == store::WebhookDeliveryState::kSucceeded) {
    const Status s = job.CompleteWith([&](store::Transaction& tx) -> Status {
      SB_RETURN_IF_ERROR(record(tx));
      return endpoint_repo_.RecordSuccess(tx, tenant, delivery.endpoint_id, now).status();
    });
    return s.ok() ? jobs::JobResult::Done() : jobs::JobResult::Retry(s.ToString());
  }
  bool disabled = false;
  const char* reason = reached == Reached::kGone ? kDisabledGone : kDisabledFailing;
  const Status s = db_.RunInTenant(tenant, [&](store::Transaction& tx) -> Status {
    disabled = false;
    SB_RETURN_IF_ERROR(record(tx));
    if (reached == Reached::kNo) return OkStatus();
    SB_ASSIGN_OR_RETURN(disabled, RecordFailure(tx, tenant, delivery.endpoint_id, now, reason));
    return OkStatus();
  });
  if (!s.ok()) {
    log::Warn("webhook.record_failed", {{"delivery", delivery.id.value()}});
  } else if (disabled) {
    // No URL: it may carry a token in its query.
    log::Warn("webhook.endpoint_disabled", {{"tenant", tenant.value()},
                                            {"endpoint", delivery.endpoint_id.value()},
                                            {"reason", reason}});
    if (disabled_counter_ != nullptr) disabled_counter_->WithLabels({reason}).Increment();
  }
  if (state == store::WebhookDeliveryState::kPending) return jobs::JobResult::Retry(error, retry);
  return jobs::JobResult::Fail(error);
}

jobs::JobResult Deliverer::Handle(jobs::JobContext& job) {
  const TenantId tenant = job.job().tenant_id;
  const Json& payload = job.job().payload;
  if (!payload.contains("delivery_id") || !payload["delivery_id"].is_string() ||
      !IsCanonicalUuid(payload["delivery_id"].get<std::string>())) {
    return jobs::JobResult::Fail("malformed job payload");
  }
  const WebhookDeliveryId id(payload["delivery_id"].get<std::string>());
  std::optional<store::WebhookDeliveryRecord> delivery;
  std::optional<store::WebhookEndpointRecord> endpoint;
  std::vector<std::string> secrets;
  const Status read =
      db_.RunInTenant(tenant, store::TxMode::kReadOnly, [&](store::Transaction& tx) -> Status {
        SB_ASSIGN_OR_RETURN(delivery, deliveries_.Get(tx, tenant, id));
        if (!delivery) return OkStatus();
        SB_ASSIGN_OR_RETURN(endpoint, endpoint_repo_.Get(tx, tenant, delivery->endpoint_id));
        if (!endpoint) return OkStatus();
        SB_ASSIGN_OR_RETURN(secrets, endpoints_.SigningSecrets(tx, tenant, *endpoint));
        return OkStatus();
      });
  if (!read.ok()) return jobs::JobResult::Retry("cannot read the delivery: " + read.ToString());
  // Gone with its endpoint (deleted), or already finished: nothing to do.
  if (!delivery || !endpoint || delivery->state != store::WebhookDeliveryState::kPending) {
    return jobs::JobResult::Done();
  }
  const int attempt = job.job().attempts;
  const bool last = attempt >= job.job().max_attempts;
  auto retry_or_dead = [&](std::optional<int> status, const std::string& error,
                           std::optional<milliseconds> after) {
    if (last) {
      return Record(job, *delivery, store::WebhookDeliveryState::kDead, status,
                    error + " (last attempt)", std::nullopt);
    }
    milliseconds delay = RetryDelay(attempt);
    if (after) delay = std::max(delay, *after);
    return Record(job, *delivery, store::WebhookDeliveryState::kPending, status, error, delay);
  };
  if (!endpoint->enabled) {
    return Record(job, *delivery, store::WebhookDeliveryState::kDead, std::nullopt,
                  "the endpoint is disabled", std::nullopt, Reached::kNo);
  }
  // WH-05: every address the host resolves to must be public (unless allowed), and the request
  // goes to exactly those addresses (no second lookup that could answer differently).
  std::vector<std::string> pinned;
  if (!options_.allow_private_targets) {
    const auto host = UrlHost(endpoint->url);
    if (!host) {
      return Record(job, *delivery, store::WebhookDeliveryState::kDead, std::nullopt,
                    "the endpoint URL is malformed", std::nullopt, Reached::kNo);
    }
    auto addresses = resolve_(*host);
    if (!addresses.ok()) return retry_or_dead(std::nullopt, addresses.status().message(), {});
    for (const auto& address : *addresses) {
      if (net::IsInternalHost(address)) {
        return Record(job, *delivery, store::WebhookDeliveryState::kDead, std::nullopt,
                      "the endpoint's host resolves to an internal address", std::nullopt);
      }
    }
    pinned = std::move(*addresses);
  }
  const int64_t timestamp =
      std::chrono::duration_cast<std::chrono::seconds>(clock_.Now().time_since_epoch()).count();
  auto signature = SignatureHeader(secrets, delivery->event_id, timestamp, delivery->payload);
  if (!signature.ok()) {
    return Record(job, *delivery, store::WebhookDeliveryState::kDead, std::nullopt,
                  "cannot sign: " + signature.status().message(), std::nullopt, Reached::kNo);
  }
  net::HttpRequest request;
  request.method = "POST";
  request.url = endpoint->url;
  request.pinned_addresses = std::move(pinned);
  request.timeout = options_.timeout;
  request.body = delivery->payload;
  request.headers = {{"Content-Type", "application/json"},
                     {"webhook-id", delivery->event_id},
                     {"webhook-timestamp", std::to_string(timestamp)},
                     {"webhook-signature", *signature},
                     {"User-Agent", "Switchboard-Webhooks/1"}};
  auto response = http_.Send(request);
  if (!response.ok()) return retry_or_dead(std::nullopt, response.status().message(), {});
  const int status = response->status;
  if (status >= 200 && status < 300) {
    return Record(job, *delivery, store::WebhookDeliveryState::kSucceeded, status, "", {});
  }
  if (status == 410) {
    return Record(job, *delivery, store::WebhookDeliveryState::kDead, status,
                  "the endpoint answered 410 Gone", std::nullopt, Reached::kGone);
  }
  std::optional<milliseconds> after;
  if (auto header = response->Header("Retry-After")) {
    after = oauth::ParseRetryAfter(*header, clock_.Now());
    if (after && *after > std::chrono::hours(24)) after.reset();  // not beyond a day
  }
  return retry_or_dead(status, "the endpoint answered HTTP " + std::to_string(status), after);
}

// ---- DeliveryLog ----

Result<std::vector<store::WebhookDeliveryRecord>> DeliveryLog::List(
    const TenantId& tenant, const store::WebhookDeliveryFilter& filter,
    const std::optional<WebhookDeliveryId>& after, int limit) {
  std::vector<store::WebhookDeliveryRecord> out;
  SB_RETURN_IF_ERROR(
      db_.RunInTenant(tenant, store::TxMode::kReadOnly, [&](store::Transaction& tx) -> Status {
        SB_ASSIGN_OR_RETURN(out, repo_.List(tx, tenant, filter, after, limit));
        return OkStatus();
      }));
  return out;
}

Result<store::WebhookDeliveryRecord> DeliveryLog::Get(const TenantId& tenant,
                                                      const WebhookDeliveryId& id) {
  std::optional<store::WebhookDeliveryRecord> out;
  SB_RETURN_IF_ERROR(
      db_.RunInTenant(tenant, store::TxMode::kReadOnly, [&](store::Transaction& tx) -> Status {
        SB_ASSIGN_OR_RETURN(out, repo_.Get(tx, tenant, id));
        return OkStatus();
      }));
  if (!out) return NotFoundError("webhook delivery not found");
  return std::move(*out);
}

Result<store::WebhookDeliveryRecord> DeliveryLog::Retry(const TenantId& tenant,
                                                        const WebhookDeliveryId& id,
                                                        const audit::Context& ctx) {
  std::optional<store::WebhookDeliveryRecord> out;
  SB_RETURN_IF_ERROR(db_.RunInTenant(tenant, [&](store::Transaction& tx) -> Status {
    SB_ASSIGN_OR_RETURN(auto current, repo_.Get(tx, tenant, id));
    if (!current) return NotFoundError("webhook delivery not found");
    if (current->state == store::WebhookDeliveryState::kPending) {
      return FailedPreconditionError("the delivery is still pending");
    }
    SB_ASSIGN_OR_RETURN(auto endpoint,
                        store::WebhookEndpointRepository().Get(tx, tenant, current->endpoint_id));
    if (!endpoint) return NotFoundError("webhook delivery not found");  // deleted meanwhile
    jobs::JobSpec spec = DeliverySpec(*endpoint, id, max_in_flight_);
    spec.dedupe_key = "delivery:" + id.value();
    SB_ASSIGN_OR_RETURN(auto job, jobs::Enqueue(tx, tenant, spec, clock_, ids_));
    SB_ASSIGN_OR_RETURN(bool marked, repo_.MarkForRetry(tx, tenant, id, job.id, clock_.Now()));
    if (!marked) return AbortedError("the delivery changed meanwhile; retry");
    SB_ASSIGN_OR_RETURN(out, repo_.Get(tx, tenant, id));
    return audit_.Append(
        tx, tenant,
        audit::Event{ctx.actor, "webhook_delivery.retry", "webhook_deliveries/" + id.value(),
                     audit::Outcome::kSuccess, ctx.request_id,
                     Json{{"endpoint", current->endpoint_id.value()},
                          {"event_id", current->event_id},
                          {"previous_state",
                           std::string(store::WebhookDeliveryStateName(current->state))}}});
  }));
  return std::move(*out);
}

}  // namespace sb::webhooks
