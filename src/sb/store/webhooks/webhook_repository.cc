#include "sb/store/webhooks/webhook_repository.h"

#include <algorithm>
#include <array>
#include <limits>
#include <utility>

#include "sb/base/encoding.h"
#include "sb/base/json.h"
#include "sb/store/internal/repository_helpers.h"
#include "sb/store/internal/row_reader.h"

namespace sb::store {
using internal::Corrupt;
using internal::IsCleanText;
using internal::IsControl;
using internal::IsHttpUrl;
using internal::IsPrintable;
using internal::IsStorableError;
using internal::IsStorableJson;
using internal::OptionalMicros;
using internal::ReadInt;
using internal::ReadJson;
using internal::ReadServices;
using internal::ReadStrings;
using internal::ReadTenant;
using internal::RequireUnscoped;
using internal::ServicesJson;
using internal::StorableError;
using internal::StringsJson;

namespace {

using internal::CheckTenantScope;

constexpr std::string_view kEndpoints = "webhook_endpoints";
constexpr std::string_view kDeliveries = "webhook_deliveries";

constexpr size_t kMaxUrlBytes = 2048;
constexpr size_t kMaxDescriptionBytes = 1024;
constexpr size_t kMaxEventTypeBytes = 128;
constexpr size_t kMaxEventIdBytes = 256;
constexpr size_t kMaxReasonBytes = 64;
constexpr size_t kMaxPayloadBytes = size_t{64} * 1024;
constexpr int kMinStatusCode = 100;
constexpr int kMaxStatusCode = 599;

constexpr std::array<std::pair<WebhookDeliveryState, std::string_view>, 4> kStateNames = {{
    {WebhookDeliveryState::kPending, "pending"},
    {WebhookDeliveryState::kSucceeded, "succeeded"},
    {WebhookDeliveryState::kFailed, "failed"},
    {WebhookDeliveryState::kDead, "dead"},
}};

#define SB_ENDPOINT_FIELDS                                                                     \
  "tenant_id, id, url, description, event_types, enabled, secret_version, "                    \
  "previous_secret_until, created_at, updated_at, version, disabled_reason, max_concurrency, " \
  "failing_since, last_success_at"

#define SB_ENDPOINT_COLUMNS "SELECT " SB_ENDPOINT_FIELDS " FROM webhook_endpoints "

#define SB_DELIVERY_FIELDS                                                       \
  "tenant_id, id, endpoint_id, event_id, event_type, payload, state, attempts, " \
  "last_status_code, last_error, next_attempt_at, job_id, created_at, updated_at"

#define SB_DELIVERY_COLUMNS "SELECT " SB_DELIVERY_FIELDS " FROM webhook_deliveries "

// ---- Field rules ----

// UTF-8 of at most `max` bytes without control characters.
// An absolute http(s) URL of printable ASCII without spaces and with a non-empty authority.
bool IsIdentifierChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

// Standard Webhooks event types: full-stop delimited identifiers of [A-Za-z0-9_].
bool IsEventType(std::string_view s) {
  return !s.empty() && s.size() <= kMaxEventTypeBytes &&
         std::all_of(s.begin(), s.end(), [](char c) { return IsIdentifierChar(c) || c == '.'; });
}

// The `webhook-id` charset of WH-01: never a '.', which would make the signed content ambiguous.
bool IsEventId(std::string_view s) {
  return !s.empty() && s.size() <= kMaxEventIdBytes &&
         std::all_of(s.begin(), s.end(), IsIdentifierChar);
}

Status ValidateEventTypes(const std::vector<std::string>& types) {
  if (types.size() > WebhookEndpointRepository::kMaxEventTypes) {
    return InvalidArgumentError("too many event types");
  }
  for (const std::string& type : types) {
    if (!IsEventType(type)) return InvalidArgumentError("invalid event type");
    if (std::count(types.begin(), types.end(), type) > 1) {
      return InvalidArgumentError("event type listed twice: " + type);
    }
  }
  return OkStatus();
}

// A disabled_reason: 1..kMaxReasonBytes of [a-z_].
bool IsReason(std::string_view s) {
  return !s.empty() && s.size() <= kMaxReasonBytes &&
         std::all_of(s.begin(), s.end(), [](char c) { return (c >= 'a' && c <= 'z') || c == '_'; });
}

Status ValidateEndpoint(const WebhookEndpointRecord& r) {
  if (!r.id.valid()) return InvalidArgumentError("invalid webhook endpoint id");
  if (!IsHttpUrl(r.url, kMaxUrlBytes))
    return InvalidArgumentError("url is not an absolute http(s) URL");
  if (!IsCleanText(r.description, 0, kMaxDescriptionBytes)) {
    return InvalidArgumentError("invalid description");
  }
  SB_RETURN_IF_ERROR(ValidateEventTypes(r.event_types));
  if (r.secret_version < 1) return InvalidArgumentError("secret_version must be at least 1");
  if (r.version < 1) return InvalidArgumentError("version must be at least 1");
  if (!r.disabled_reason.empty() && (r.enabled || !IsReason(r.disabled_reason))) {
    return InvalidArgumentError("disabled_reason must be [a-z_] and only on a disabled endpoint");
  }
  if (r.max_concurrency < 1 || r.max_concurrency > WebhookEndpointRepository::kMaxConcurrency) {
    return InvalidArgumentError("max_concurrency out of range");
  }
  return OkStatus();
}

// A JSON object, as UTF-8 text of at most kMaxPayloadBytes (kept byte for byte).
Status ValidatePayload(std::string_view payload) {
  if (payload.size() > kMaxPayloadBytes) return InvalidArgumentError("payload too large");
  if (!IsValidUtf8(payload)) return InvalidArgumentError("payload is not UTF-8");
  const Result<Json> j = ParseJson(payload, internal::kStoredJsonLimits);
  if (!j.ok() || !j->is_object()) {
    return InvalidArgumentError("payload is not a JSON object");
  }
  return OkStatus();
}

bool IsStatusCode(const std::optional<int>& code) {
  return !code || (*code >= kMinStatusCode && *code <= kMaxStatusCode);
}

// next_attempt_at is set exactly while pending.
Status ValidateSchedule(WebhookDeliveryState state, const std::optional<Timestamp>& next) {
  if (WebhookDeliveryStateName(state).empty()) return InvalidArgumentError("invalid state");
  if ((state == WebhookDeliveryState::kPending) != next.has_value()) {
    return InvalidArgumentError("next_attempt_at must be set exactly while pending");
  }
  return OkStatus();
}

Status ValidateDelivery(const WebhookDeliveryRecord& r) {
  if (!r.id.valid()) return InvalidArgumentError("invalid webhook delivery id");
  if (!r.endpoint_id.valid()) return InvalidArgumentError("invalid webhook endpoint id");
  if (!IsEventId(r.event_id)) return InvalidArgumentError("invalid event_id");
  if (!IsEventType(r.event_type)) return InvalidArgumentError("invalid event_type");
  SB_RETURN_IF_ERROR(ValidatePayload(r.payload));
  if (r.attempts < 0) return InvalidArgumentError("negative attempts");
  if (!IsStatusCode(r.last_status_code)) return InvalidArgumentError("invalid last_status_code");
  if (r.last_error.size() > WebhookDeliveryRepository::kMaxErrorBytes ||
      !IsStorableError(r.last_error)) {
    return InvalidArgumentError("invalid last_error");
  }
  if (!r.job_id.valid()) return InvalidArgumentError("invalid job id");
  return ValidateSchedule(r.state, r.next_attempt_at);
}

Status RequireValidId(bool valid) {
  return valid ? OkStatus() : InvalidArgumentError("invalid id");
}

Status RequireListLimit(int limit, int max) {
  return limit >= 1 && limit <= max ? OkStatus() : InvalidArgumentError("list limit out of range");
}

// `error` cut to kMaxErrorBytes without splitting a UTF-8 sequence.
// ---- Encoding ----

Value OptionalInt(const std::optional<int>& v) {
  return v ? Value(int64_t{*v}) : Value(std::monostate());
}

std::string StateValue(WebhookDeliveryState state) {
  return std::string(WebhookDeliveryStateName(state));
}

// Callers validated the strings (ASCII), so dump() cannot throw.
// ---- Decoding: anything unexpected is DATA_LOSS ----

Result<int> ReadSmallInt(const Row& row, size_t i, std::string_view table) {
  SB_ASSIGN_OR_RETURN(int64_t v, ReadInt(row, i, table));
  if (v < std::numeric_limits<int>::min() || v > std::numeric_limits<int>::max()) {
    return Corrupt(table);
  }
  return static_cast<int>(v);
}

Result<std::optional<int>> ReadOptionalSmallInt(const Row& row, size_t i, std::string_view table) {
  if (i < row.size() && row.IsNull(i)) return std::optional<int>();
  SB_ASSIGN_OR_RETURN(int v, ReadSmallInt(row, i, table));
  return std::optional<int>(v);
}

// Reads column 0 and checks it is `tenant`: the SQL filtered by it, so anything else is a bug.
Result<WebhookEndpointRecord> ParseEndpoint(const Row& row, const TenantId& tenant) {
  WebhookEndpointRecord r;
  SB_RETURN_IF_ERROR(ReadTenant(row, tenant, kEndpoints));
  r.tenant_id = tenant;
  SB_ASSIGN_OR_RETURN(std::string id, internal::ReadUuid(row, 1, kEndpoints));
  r.id = WebhookEndpointId(std::move(id));
  SB_ASSIGN_OR_RETURN(r.url, internal::ReadText(row, 2, kEndpoints));
  SB_ASSIGN_OR_RETURN(r.description, internal::ReadText(row, 3, kEndpoints));
  SB_ASSIGN_OR_RETURN(r.event_types, ReadStrings(row, 4, kEndpoints));
  SB_ASSIGN_OR_RETURN(int64_t enabled, ReadInt(row, 5, kEndpoints));
  if (enabled != 0 && enabled != 1) return Corrupt(kEndpoints);
  r.enabled = enabled == 1;
  SB_ASSIGN_OR_RETURN(r.secret_version, ReadInt(row, 6, kEndpoints));
  SB_ASSIGN_OR_RETURN(r.previous_secret_until, internal::ReadOptionalTimestamp(row, 7, kEndpoints));
  SB_ASSIGN_OR_RETURN(r.created_at, internal::ReadTimestamp(row, 8, kEndpoints));
  SB_ASSIGN_OR_RETURN(r.updated_at, internal::ReadTimestamp(row, 9, kEndpoints));
  SB_ASSIGN_OR_RETURN(r.version, ReadInt(row, 10, kEndpoints));
  SB_ASSIGN_OR_RETURN(r.disabled_reason, internal::ReadText(row, 11, kEndpoints));
  SB_ASSIGN_OR_RETURN(r.max_concurrency, ReadSmallInt(row, 12, kEndpoints));
  SB_ASSIGN_OR_RETURN(r.failing_since, internal::ReadOptionalTimestamp(row, 13, kEndpoints));
  SB_ASSIGN_OR_RETURN(r.last_success_at, internal::ReadOptionalTimestamp(row, 14, kEndpoints));
  if (!ValidateEndpoint(r).ok()) return Corrupt(kEndpoints);
  return r;
}

// Columns 1..5 of SB_DELIVERY_FIELDS: what the delivery is.
Status ParseDeliveryIdentity(const Row& row, WebhookDeliveryRecord& r) {
  SB_ASSIGN_OR_RETURN(std::string id, internal::ReadUuid(row, 1, kDeliveries));
  r.id = WebhookDeliveryId(std::move(id));
  SB_ASSIGN_OR_RETURN(std::string endpoint_id, internal::ReadUuid(row, 2, kDeliveries));
  r.endpoint_id = WebhookEndpointId(std::move(endpoint_id));
  SB_ASSIGN_OR_RETURN(r.event_id, internal::ReadText(row, 3, kDeliveries));
  SB_ASSIGN_OR_RETURN(r.event_type, internal::ReadText(row, 4, kDeliveries));
  SB_ASSIGN_OR_RETURN(r.payload, internal::ReadText(row, 5, kDeliveries));
  return OkStatus();
}

// Columns 6..13: where it stands.
Status ParseDeliveryProgress(const Row& row, WebhookDeliveryRecord& r) {
  SB_ASSIGN_OR_RETURN(std::string state, internal::ReadText(row, 6, kDeliveries));
  std::optional<WebhookDeliveryState> parsed = ParseWebhookDeliveryState(state);
  if (!parsed) return Corrupt(kDeliveries);
  r.state = *parsed;
  SB_ASSIGN_OR_RETURN(r.attempts, ReadSmallInt(row, 7, kDeliveries));
  SB_ASSIGN_OR_RETURN(r.last_status_code, ReadOptionalSmallInt(row, 8, kDeliveries));
  SB_ASSIGN_OR_RETURN(r.last_error, internal::ReadText(row, 9, kDeliveries));
  SB_ASSIGN_OR_RETURN(r.next_attempt_at, internal::ReadOptionalTimestamp(row, 10, kDeliveries));
  SB_ASSIGN_OR_RETURN(std::string job_id, internal::ReadUuid(row, 11, kDeliveries));
  r.job_id = JobId(std::move(job_id));
  SB_ASSIGN_OR_RETURN(r.created_at, internal::ReadTimestamp(row, 12, kDeliveries));
  SB_ASSIGN_OR_RETURN(r.updated_at, internal::ReadTimestamp(row, 13, kDeliveries));
  return OkStatus();
}

Result<WebhookDeliveryRecord> ParseDelivery(const Row& row, const TenantId& tenant) {
  WebhookDeliveryRecord r;
  SB_RETURN_IF_ERROR(ReadTenant(row, tenant, kDeliveries));
  r.tenant_id = tenant;
  SB_RETURN_IF_ERROR(ParseDeliveryIdentity(row, r));
  SB_RETURN_IF_ERROR(ParseDeliveryProgress(row, r));
  if (!ValidateDelivery(r).ok()) return Corrupt(kDeliveries);
  return r;
}

template <typename Record>
Result<std::optional<Record>> ParseFirst(const std::vector<Row>& rows, const TenantId& tenant,
                                         Result<Record> (*parse)(const Row&, const TenantId&)) {
  if (rows.empty()) return std::optional<Record>();
  SB_ASSIGN_OR_RETURN(Record r, parse(rows.front(), tenant));
  return std::optional<Record>(std::move(r));
}

template <typename Record>
Result<std::vector<Record>> ParseAll(const std::vector<Row>& rows, const TenantId& tenant,
                                     Result<Record> (*parse)(const Row&, const TenantId&)) {
  std::vector<Record> out;
  out.reserve(rows.size());
  for (const Row& row : rows) {
    SB_ASSIGN_OR_RETURN(Record r, parse(row, tenant));
    out.push_back(std::move(r));
  }
  return out;
}

Status ValidateFilter(const WebhookDeliveryFilter& filter) {
  if (filter.endpoint_id && !filter.endpoint_id->valid()) {
    return InvalidArgumentError("invalid webhook endpoint id");
  }
  if (filter.state && WebhookDeliveryStateName(*filter.state).empty()) {
    return InvalidArgumentError("invalid state");
  }
  if (filter.event_type && !IsEventType(*filter.event_type)) {
    return InvalidArgumentError("invalid event_type");
  }
  return OkStatus();
}

}  // namespace

std::string WebhookEndpointSecretOwner(const WebhookEndpointId& id) {
  return "webhook_endpoint:" + id.value();
}

std::string_view WebhookDeliveryStateName(WebhookDeliveryState state) {
  return internal::EnumName(kStateNames, state);
}

std::optional<WebhookDeliveryState> ParseWebhookDeliveryState(std::string_view name) {
  return internal::ParseEnum(kStateNames, name);
}

// ---- WebhookEndpointRepository ----

Status WebhookEndpointRepository::Insert(Transaction& tx, const TenantId& tenant,
                                         const WebhookEndpointRecord& r) {
  SB_RETURN_IF_ERROR(CheckTenantScope(tx, tenant));
  if (r.tenant_id != tenant) return InvalidArgumentError("webhook endpoint tenant_id != tenant");
  SB_RETURN_IF_ERROR(ValidateEndpoint(r));
  if (r.version != 1) return InvalidArgumentError("a new webhook endpoint has version 1");
  return tx
      .Execute(
          "INSERT INTO webhook_endpoints (" SB_ENDPOINT_FIELDS
          ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
          {tenant.value(), r.id.value(), r.url, r.description, StringsJson(r.event_types),
           int64_t{r.enabled ? 1 : 0}, r.secret_version, OptionalMicros(r.previous_secret_until),
           ToUnixMicros(r.created_at), ToUnixMicros(r.updated_at), r.version, r.disabled_reason,
           int64_t{r.max_concurrency}, OptionalMicros(r.failing_since),
           OptionalMicros(r.last_success_at)})
      .status();
}

Result<std::optional<WebhookEndpointRecord>> WebhookEndpointRepository::Get(
    Transaction& tx, const TenantId& tenant, const WebhookEndpointId& id) {
  SB_RETURN_IF_ERROR(CheckTenantScope(tx, tenant));
  SB_RETURN_IF_ERROR(RequireValidId(id.valid()));
  SB_ASSIGN_OR_RETURN(auto rows, tx.Query(SB_ENDPOINT_COLUMNS "WHERE tenant_id = $1 AND id = $2",
                                          {tenant.value(), id.value()}));
  return ParseFirst(rows, tenant, &ParseEndpoint);
}

Result<std::vector<WebhookEndpointRecord>> WebhookEndpointRepository::List(
    Transaction& tx, const TenantId& tenant, const std::optional<WebhookEndpointId>& after,
    int limit) {
  SB_RETURN_IF_ERROR(CheckTenantScope(tx, tenant));
  SB_RETURN_IF_ERROR(RequireListLimit(limit, kMaxListLimit));
  if (after && !after->valid()) return InvalidArgumentError("invalid list cursor");
  std::vector<Value> params{tenant.value()};
  std::string sql = SB_ENDPOINT_COLUMNS "WHERE tenant_id = $1";
  if (after) {
    params.push_back(after->value());
    sql += " AND id > $2";
  }
  params.push_back(int64_t{limit});
  sql += " ORDER BY id LIMIT $" + std::to_string(params.size());
  SB_ASSIGN_OR_RETURN(auto rows, tx.Query(sql, params));
  return ParseAll(rows, tenant, &ParseEndpoint);
}

Result<std::optional<WebhookEndpointRecord>> WebhookEndpointRepository::Update(
    Transaction& tx, const TenantId& tenant, const WebhookEndpointRecord& r) {
  SB_RETURN_IF_ERROR(CheckTenantScope(tx, tenant));
  if (r.tenant_id != tenant) return InvalidArgumentError("webhook endpoint tenant_id != tenant");
  SB_RETURN_IF_ERROR(ValidateEndpoint(r));
  // One conditional UPDATE: on PostgreSQL a concurrent writer's row lock makes this wait and
  // then re-check the version; SQLite serializes writers. Either way one of two wins.
  SB_ASSIGN_OR_RETURN(
      int64_t n,
      tx.Execute("UPDATE webhook_endpoints SET url = $4, description = $5, event_types = $6, "
                 "enabled = $7, secret_version = $8, previous_secret_until = $9, "
                 "updated_at = $10, disabled_reason = $11, max_concurrency = $12, "
                 "version = version + 1 WHERE tenant_id = $1 AND id = $2 AND version = $3",
                 {tenant.value(), r.id.value(), r.version, r.url, r.description,
                  StringsJson(r.event_types), int64_t{r.enabled ? 1 : 0}, r.secret_version,
                  OptionalMicros(r.previous_secret_until), ToUnixMicros(r.updated_at),
                  r.disabled_reason, int64_t{r.max_concurrency}}));
  if (n != 1) return std::optional<WebhookEndpointRecord>();
  return Get(tx, tenant, r.id);
}

Result<bool> WebhookEndpointRepository::Delete(Transaction& tx, const TenantId& tenant,
                                               const WebhookEndpointId& id) {
  SB_RETURN_IF_ERROR(CheckTenantScope(tx, tenant));
  SB_RETURN_IF_ERROR(RequireValidId(id.valid()));
  SB_ASSIGN_OR_RETURN(int64_t n,
                      tx.Execute("DELETE FROM webhook_endpoints WHERE tenant_id = $1 AND id = $2",
                                 {tenant.value(), id.value()}));
  return n > 0;
}

Result<bool> WebhookEndpointRepository::RecordSuccess(Transaction& tx, const TenantId& tenant,
                                                      const WebhookEndpointId& id, Timestamp now) {
  SB_RETURN_IF_ERROR(CheckTenantScope(tx, tenant));
  SB_RETURN_IF_ERROR(RequireValidId(id.valid()));
  // Writes only when something changes (beyond the resolution), so that a healthy endpoint's
  // deliveries do not all queue up on its row lock.
  const int64_t stale = ToUnixMicros(now - kSuccessResolution);
  SB_ASSIGN_OR_RETURN(int64_t n,
                      tx.Execute("UPDATE webhook_endpoints SET failing_since = NULL, "
                                 "last_success_at = $3 WHERE tenant_id = $1 AND id = $2 AND "
                                 "(failing_since IS NOT NULL OR last_success_at IS NULL OR "
                                 "last_success_at <= $4)",
                                 {tenant.value(), id.value(), ToUnixMicros(now), stale}));
  if (n == 1) return true;
  SB_ASSIGN_OR_RETURN(auto rows,
                      tx.Query("SELECT 1 FROM webhook_endpoints WHERE tenant_id = $1 AND id = $2",
                               {tenant.value(), id.value()}));
  return !rows.empty();
}

Result<bool> WebhookEndpointRepository::RecordFailure(Transaction& tx, const TenantId& tenant,
                                                      const WebhookEndpointId& id, Timestamp now) {
  SB_RETURN_IF_ERROR(CheckTenantScope(tx, tenant));
  SB_RETURN_IF_ERROR(RequireValidId(id.valid()));
  SB_ASSIGN_OR_RETURN(int64_t n, tx.Execute("UPDATE webhook_endpoints SET failing_since = "
                                            "COALESCE(failing_since, $3) WHERE tenant_id = $1 "
                                            "AND id = $2",
                                            {tenant.value(), id.value(), ToUnixMicros(now)}));
  return n == 1;
}

Status WebhookEndpointRepository::ClearFailing(Transaction& tx, const TenantId& tenant,
                                               const WebhookEndpointId& id) {
  SB_RETURN_IF_ERROR(CheckTenantScope(tx, tenant));
  SB_RETURN_IF_ERROR(RequireValidId(id.valid()));
  return tx
      .Execute("UPDATE webhook_endpoints SET failing_since = NULL WHERE tenant_id = $1 AND id = $2",
               {tenant.value(), id.value()})
      .status();
}

Result<bool> WebhookEndpointRepository::DisableIfFailingSince(
    Transaction& tx, const TenantId& tenant, const WebhookEndpointId& id, Timestamp failing_before,
    std::string_view reason, Timestamp now) {
  SB_RETURN_IF_ERROR(CheckTenantScope(tx, tenant));
  SB_RETURN_IF_ERROR(RequireValidId(id.valid()));
  if (!IsReason(reason)) return InvalidArgumentError("invalid disabled_reason");
  SB_ASSIGN_OR_RETURN(
      int64_t n,
      tx.Execute("UPDATE webhook_endpoints SET enabled = 0, disabled_reason = $3, "
                 "updated_at = $4, version = version + 1 WHERE tenant_id = $1 AND id = $2 AND "
                 "enabled = 1 AND failing_since IS NOT NULL AND failing_since <= $5",
                 {tenant.value(), id.value(), std::string(reason), ToUnixMicros(now),
                  ToUnixMicros(failing_before)}));
  return n == 1;
}

// ---- WebhookDeliveryRepository ----

Status WebhookDeliveryRepository::Insert(Transaction& tx, const TenantId& tenant,
                                         const WebhookDeliveryRecord& r) {
  SB_RETURN_IF_ERROR(CheckTenantScope(tx, tenant));
  if (r.tenant_id != tenant) return InvalidArgumentError("webhook delivery tenant_id != tenant");
  SB_RETURN_IF_ERROR(ValidateDelivery(r));
  if (r.state != WebhookDeliveryState::kPending || r.attempts != 0 || r.last_status_code ||
      !r.last_error.empty()) {
    return InvalidArgumentError("a new webhook delivery is pending with no attempts");
  }
  return tx
      .Execute("INSERT INTO webhook_deliveries (" SB_DELIVERY_FIELDS
               ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
               {tenant.value(), r.id.value(), r.endpoint_id.value(), r.event_id, r.event_type,
                r.payload, StateValue(r.state), int64_t{r.attempts},
                OptionalInt(r.last_status_code), r.last_error, OptionalMicros(r.next_attempt_at),
                r.job_id.value(), ToUnixMicros(r.created_at), ToUnixMicros(r.updated_at)})
      .status();
}

Result<std::optional<WebhookDeliveryRecord>> WebhookDeliveryRepository::Get(
    Transaction& tx, const TenantId& tenant, const WebhookDeliveryId& id) {
  SB_RETURN_IF_ERROR(CheckTenantScope(tx, tenant));
  SB_RETURN_IF_ERROR(RequireValidId(id.valid()));
  SB_ASSIGN_OR_RETURN(auto rows, tx.Query(SB_DELIVERY_COLUMNS "WHERE tenant_id = $1 AND id = $2",
                                          {tenant.value(), id.value()}));
  return ParseFirst(rows, tenant, &ParseDelivery);
}

Result<std::vector<WebhookDeliveryRecord>> WebhookDeliveryRepository::List(
    Transaction& tx, const TenantId& tenant, const WebhookDeliveryFilter& filter,
    const std::optional<WebhookDeliveryId>& after, int limit) {
  SB_RETURN_IF_ERROR(CheckTenantScope(tx, tenant));
  SB_RETURN_IF_ERROR(RequireListLimit(limit, kMaxListLimit));
  SB_RETURN_IF_ERROR(ValidateFilter(filter));
  if (after && !after->valid()) return InvalidArgumentError("invalid list cursor");
  // Only constant column names go into the text; every value is bound.
  std::string sql = SB_DELIVERY_COLUMNS "WHERE tenant_id = $1";
  std::vector<Value> params{tenant.value()};
  auto add = [&](std::string_view condition, Value value) {
    params.push_back(std::move(value));
    sql += " AND " + std::string(condition) + " $" + std::to_string(params.size());
  };
  if (filter.endpoint_id) add("endpoint_id =", filter.endpoint_id->value());
  if (filter.state) add("state =", StateValue(*filter.state));
  if (filter.event_type) add("event_type =", *filter.event_type);
  if (after) add("id >", after->value());
  params.push_back(int64_t{limit});
  sql += " ORDER BY id LIMIT $" + std::to_string(params.size());
  SB_ASSIGN_OR_RETURN(auto rows, tx.Query(sql, params));
  return ParseAll(rows, tenant, &ParseDelivery);
}

Result<std::vector<WebhookDeliveryRecord>> WebhookDeliveryRepository::ListUpdatedSince(
    Transaction& tx, const TenantId& tenant, const UpdatedCursor& after, int limit) {
  SB_ASSIGN_OR_RETURN(auto rows, internal::QueryUpdatedSince(tx, tenant, SB_DELIVERY_COLUMNS, "id",
                                                             after, limit, kMaxListLimit));
  return ParseAll(rows, tenant, &ParseDelivery);
}

Result<bool> WebhookDeliveryRepository::RecordAttempt(Transaction& tx, const TenantId& tenant,
                                                      const WebhookDeliveryId& id,
                                                      const WebhookAttempt& attempt,
                                                      Timestamp now) {
  SB_RETURN_IF_ERROR(CheckTenantScope(tx, tenant));
  SB_RETURN_IF_ERROR(RequireValidId(id.valid()));
  SB_RETURN_IF_ERROR(ValidateSchedule(attempt.state, attempt.next_attempt_at));
  if (!IsStatusCode(attempt.status_code)) return InvalidArgumentError("invalid status code");
  SB_ASSIGN_OR_RETURN(std::string error,
                      StorableError(attempt.error, WebhookDeliveryRepository::kMaxErrorBytes));
  // Conditional on pending, so that a repeated run cannot record past the delivery's end.
  SB_ASSIGN_OR_RETURN(
      int64_t n,
      tx.Execute(
          "UPDATE webhook_deliveries SET state = $3, attempts = attempts + 1, "
          "last_status_code = $4, last_error = $5, next_attempt_at = $6, updated_at = $7 "
          "WHERE tenant_id = $1 AND id = $2 AND state = 'pending'",
          {tenant.value(), id.value(), StateValue(attempt.state), OptionalInt(attempt.status_code),
           error, OptionalMicros(attempt.next_attempt_at), ToUnixMicros(now)}));
  return n == 1;
}

Result<bool> WebhookDeliveryRepository::MarkForRetry(Transaction& tx, const TenantId& tenant,
                                                     const WebhookDeliveryId& id,
                                                     const JobId& job_id, Timestamp now) {
  SB_RETURN_IF_ERROR(CheckTenantScope(tx, tenant));
  SB_RETURN_IF_ERROR(RequireValidId(id.valid()));
  if (!job_id.valid()) return InvalidArgumentError("invalid job id");
  SB_ASSIGN_OR_RETURN(int64_t n,
                      tx.Execute("UPDATE webhook_deliveries SET state = 'pending', job_id = $3, "
                                 "next_attempt_at = $4, updated_at = $4 "
                                 "WHERE tenant_id = $1 AND id = $2 AND state <> 'pending'",
                                 {tenant.value(), id.value(), job_id.value(), ToUnixMicros(now)}));
  return n == 1;
}

#undef SB_ENDPOINT_FIELDS
#undef SB_ENDPOINT_COLUMNS
#undef SB_DELIVERY_FIELDS
#undef SB_DELIVERY_COLUMNS

}  // namespace sb::store
