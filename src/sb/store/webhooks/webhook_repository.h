// Storage of webhooks to the host app (issue 6, WH-*): the tenant's endpoints
// (`webhook_endpoints`) and one delivery per event and endpoint (`webhook_deliveries`), the
// durable outbox that delivery jobs work through. Stateless SQL over a Transaction,
// thread-safe.
//
// Every call takes the tenant explicitly, filters by it and refuses a transaction scoped to
// another tenant (PERMISSION_DENIED); malformed arguments give INVALID_ARGUMENT and malformed
// rows DATA_LOSS. Signing secrets never live in these tables: they go through the vault with
// owner WebhookEndpointSecretOwner(id), field "secret" (current) and "previous_secret" (still
// signing until previous_secret_until after a rotation, WH-03), written in the same transaction
// by the service that owns endpoints. Delivery payloads are the exact JSON text that is sent and
// signed, and never hold secrets.
//
// Deleting an endpoint deletes its deliveries (foreign key, ON DELETE CASCADE); inserting a
// delivery for an unknown endpoint is FAILED_PRECONDITION.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sb/base/clock.h"
#include "sb/base/ids.h"
#include "sb/base/status.h"
#include "sb/store/database.h"
#include "sb/store/updated_cursor.h"

namespace sb::store {

// ---- Endpoints: POST/GET/PATCH/DELETE /v1/webhook-endpoints ----

struct WebhookEndpointRecord {
  TenantId tenant_id;
  WebhookEndpointId id;
  // Absolute http(s) URL of printable ASCII, 1..2048 bytes. Whether plain http or private
  // addresses are allowed is the deployment's policy, checked by the service (WH-05).
  std::string url;
  std::string description;               // at most 1024 bytes of UTF-8, no control characters
  std::vector<std::string> event_types;  // empty: every event type; at most 100, no duplicates
  bool enabled = true;
  // Why it is disabled: "failing" (auto-disabled after failing for days, WH-04), "manual" (by
  // the API), or "" (enabled, or disabled before reasons were kept). Always "" while enabled;
  // otherwise 1..64 of [a-z_].
  std::string disabled_reason;
  // At most this many deliveries to the endpoint in flight at once (WH-05), 1..kMaxConcurrency.
  int max_concurrency = 4;
  // Health (WH-04), written by the delivery side through RecordSuccess / RecordFailure and
  // ClearFailing (Insert stores them as given, Update keeps them): since when the endpoint has been
  // failing (its first failed attempt after its last success; none while healthy) and its last
  // success.
  std::optional<Timestamp> failing_since;
  std::optional<Timestamp> last_success_at;
  int64_t secret_version = 1;  // 1 on creation, +1 on every secret rotation
  // After a rotation the previous secret keeps signing until then (WH-03); none otherwise.
  std::optional<Timestamp> previous_secret_until;
  Timestamp created_at;
  Timestamp updated_at;
  int64_t version = 1;  // 1 on creation, +1 on every change (the API's ETag / If-Match)

  friend bool operator==(const WebhookEndpointRecord&, const WebhookEndpointRecord&) = default;
};

class WebhookEndpointRepository {
 public:
  static constexpr int kMaxListLimit = 1000;
  static constexpr size_t kMaxEventTypes = 100;
  static constexpr int kMaxConcurrency = 64;

  // Stores a new endpoint; `record.version` must be 1. ALREADY_EXISTS for a duplicate id.
  Status Insert(Transaction& tx, const TenantId& tenant, const WebhookEndpointRecord& record);
  Result<std::optional<WebhookEndpointRecord>> Get(Transaction& tx, const TenantId& tenant,
                                                   const WebhookEndpointId& id);
  // Up to `limit` (1..kMaxListLimit) endpoints ordered by id, after `after` when given.
  Result<std::vector<WebhookEndpointRecord>> List(Transaction& tx, const TenantId& tenant,
                                                  const std::optional<WebhookEndpointId>& after,
                                                  int limit);
  // Compare-and-set: when the stored version equals `record.version` (what the caller read,
  // e.g. from If-Match), replaces url, description, event_types, enabled, disabled_reason,
  // max_concurrency, secret_version, previous_secret_until and updated_at with `record`'s,
  // increments the version and returns what is stored now (created_at and the health fields
  // are kept). std::nullopt when the endpoint is gone or its version changed meanwhile.
  Result<std::optional<WebhookEndpointRecord>> Update(Transaction& tx, const TenantId& tenant,
                                                      const WebhookEndpointRecord& record);
  // Deletes the endpoint and its deliveries; false when it did not exist. Its vault secrets are
  // the caller's to delete in the same transaction.
  Result<bool> Delete(Transaction& tx, const TenantId& tenant, const WebhookEndpointId& id);

  // ---- Health (WH-04); none of these changes the version ----
  // A successful attempt at `now`: failing_since cleared, last_success_at = `now`. To spare a
  // write per delivery, last_success_at is only moved forward once it is kSuccessResolution
  // old (it is exact to that much). False when the endpoint is gone.
  static constexpr std::chrono::seconds kSuccessResolution{1};
  Result<bool> RecordSuccess(Transaction& tx, const TenantId& tenant, const WebhookEndpointId& id,
                             Timestamp now);
  // A failed attempt at `now`: failing_since = `now` unless it is failing already. False when
  // the endpoint is gone.
  Result<bool> RecordFailure(Transaction& tx, const TenantId& tenant, const WebhookEndpointId& id,
                             Timestamp now);
  // Forgets the failures (failing_since cleared), e.g. when the endpoint is re-enabled.
  Status ClearFailing(Transaction& tx, const TenantId& tenant, const WebhookEndpointId& id);
  // Disables the endpoint with `reason` (version + 1, updated_at = `now`) if it is enabled and
  // has been failing since `failing_before` or earlier. True for the one call that disabled it;
  // concurrent callers wait for each other (PostgreSQL row lock, SQLite's single writer), so
  // only one sees true.
  Result<bool> DisableIfFailingSince(Transaction& tx, const TenantId& tenant,
                                     const WebhookEndpointId& id, Timestamp failing_before,
                                     std::string_view reason, Timestamp now);
};

// The vault owner id of an endpoint's signing secrets: "webhook_endpoint:<id>".
std::string WebhookEndpointSecretOwner(const WebhookEndpointId& id);

// ---- Deliveries: GET /v1/webhook-deliveries, POST /v1/webhook-deliveries/{id}/retry ----

// pending: an attempt is due at next_attempt_at (the first one, or a retry); succeeded: a 2xx
// answer; failed: given up early on a permanent error; dead: out of attempts (dead letter).
enum class WebhookDeliveryState { kPending, kSucceeded, kFailed, kDead };
std::string_view WebhookDeliveryStateName(WebhookDeliveryState state);  // "pending", ...
std::optional<WebhookDeliveryState> ParseWebhookDeliveryState(std::string_view name);

struct WebhookDeliveryRecord {
  TenantId tenant_id;
  WebhookDeliveryId id;
  WebhookEndpointId endpoint_id;
  // The `webhook-id` header, the same on every attempt (the receiver's idempotency key):
  // 1..256 of [A-Za-z0-9_]. Unique per endpoint.
  std::string event_id;
  std::string event_type;  // e.g. "connection.created": 1..128 of [A-Za-z0-9_.]
  // The body sent and signed, byte for byte: JSON text (an object), at most 64 KiB.
  std::string payload;
  WebhookDeliveryState state = WebhookDeliveryState::kPending;
  int attempts = 0;
  std::optional<int> last_status_code;       // HTTP status of the last answer (100..599), if any
  std::string last_error;                    // at most kMaxErrorBytes of UTF-8
  std::optional<Timestamp> next_attempt_at;  // set exactly while pending
  JobId job_id;                              // the durable job carrying the delivery
  Timestamp created_at;
  Timestamp updated_at;

  friend bool operator==(const WebhookDeliveryRecord&, const WebhookDeliveryRecord&) = default;
};

struct WebhookDeliveryFilter {
  std::optional<WebhookEndpointId> endpoint_id;
  std::optional<WebhookDeliveryState> state;
  std::optional<std::string> event_type;
};

// The outcome of one delivery attempt (RecordAttempt).
struct WebhookAttempt {
  WebhookDeliveryState state = WebhookDeliveryState::kPending;  // after this attempt
  std::optional<int> status_code;                               // none: no HTTP answer
  std::string error;                                            // "" on success
  std::optional<Timestamp> next_attempt_at;                     // exactly when still pending
};

class WebhookDeliveryRepository {
 public:
  static constexpr int kMaxListLimit = 1000;
  static constexpr size_t kMaxErrorBytes = 2048;

  // Stores a new delivery: pending, no attempts, no status code or error, next_attempt_at set.
  // Run it in the transaction that enqueues `record.job_id` (outbox). ALREADY_EXISTS for a
  // duplicate id or a second delivery of the same event_id to the same endpoint;
  // FAILED_PRECONDITION when the endpoint does not exist.
  Status Insert(Transaction& tx, const TenantId& tenant, const WebhookDeliveryRecord& record);
  Result<std::optional<WebhookDeliveryRecord>> Get(Transaction& tx, const TenantId& tenant,
                                                   const WebhookDeliveryId& id);
  // Up to `limit` (1..kMaxListLimit) deliveries matching `filter`, ordered by id, after
  // `after` when given.
  Result<std::vector<WebhookDeliveryRecord>> List(Transaction& tx, const TenantId& tenant,
                                                  const WebhookDeliveryFilter& filter,
                                                  const std::optional<WebhookDeliveryId>& after,
                                                  int limit);
  // Up to `limit` (1..kMaxListLimit) of the tenant's deliveries created or updated after
  // `after`, in (updated_at, id) order (webhook_deliveries_by_update); see updated_cursor.h.
  Result<std::vector<WebhookDeliveryRecord>> ListUpdatedSince(Transaction& tx,
                                                              const TenantId& tenant,
                                                              const UpdatedCursor& after,
                                                              int limit);
  // Records an attempt on a pending delivery: attempts + 1, state, last_status_code,
  // last_error (cut to kMaxErrorBytes at a character boundary; INVALID_ARGUMENT when it is not
  // UTF-8), next_attempt_at and updated_at = `now`. False when the delivery is unknown or no
  // longer pending (another run recorded its end first).
  Result<bool> RecordAttempt(Transaction& tx, const TenantId& tenant, const WebhookDeliveryId& id,
                             const WebhookAttempt& attempt, Timestamp now);
  // A manual retry: a delivery that is not pending goes back to pending with
  // next_attempt_at = updated_at = `now`, carried by `job_id` (attempts and the last outcome
  // kept). False when the delivery is unknown or already pending.
  Result<bool> MarkForRetry(Transaction& tx, const TenantId& tenant, const WebhookDeliveryId& id,
                            const JobId& job_id, Timestamp now);
};

}  // namespace sb::store
