#include "sb/webhooks/endpoints.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstring>

#include "sb/base/quota.h"
#include "sb/base/time_format.h"
#include "sb/net/address_policy.h"
#include "sb/store/jobs/job_repository.h"
#include "sb/store/tenancy/tenant_repository.h"
#include "sb/webhooks/signature.h"

namespace sb::webhooks {
namespace {

constexpr char kSecretField[] = "secret";
constexpr char kPreviousSecretField[] = "previous_secret";

vault::SecretContext SecretOf(const TenantId& tenant, const WebhookEndpointId& id,
                              const char* field) {
  return {tenant, store::WebhookEndpointSecretOwner(id), field};
}

std::string Target(const WebhookEndpointId& id) { return "webhook_endpoints/" + id.value(); }

Status CheckMaxConcurrency(const std::optional<int>& n) {
  if (n && (*n < 1 || *n > store::WebhookEndpointRepository::kMaxConcurrency)) {
    return InvalidArgumentError("max_concurrency must be 1..64");
  }
  return OkStatus();
}

// Host names compare case-insensitively.
std::string Lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

}  // namespace

std::string EndpointConcurrencyKey(const WebhookEndpointId& id) {
  return "webhook_endpoint:" + id.value();
}

std::optional<std::string> UrlHost(std::string_view url) {
  const size_t scheme = url.find("://");
  if (scheme == std::string_view::npos) return std::nullopt;
  std::string_view rest = url.substr(scheme + 3);
  rest = rest.substr(0, rest.find_first_of("/?#"));
  if (rest.empty() || rest.find('@') != std::string_view::npos) return std::nullopt;
  if (rest.front() == '[') {
    const size_t close = rest.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    return std::string(rest.substr(0, close + 1));
  }
  return std::string(rest.substr(0, rest.find(':')));
}

Status EndpointService::CheckUrl(const std::string& url) const {
  const bool https = url.starts_with("https://");
  const bool http = url.starts_with("http://");
  if (!https && !(http && policy_.allow_http)) {
    return InvalidArgumentError(http ? "the endpoint URL must use https"
                                     : "the endpoint URL must be an absolute https URL");
  }
  const auto host = UrlHost(url);
  if (!host) return InvalidArgumentError("the endpoint URL has no valid host (or has userinfo)");
  if (!policy_.allow_private_targets && net::IsInternalHost(*host)) {
    return InvalidArgumentError(
        "the endpoint URL points at a loopback, private or link-local address");
  }
  return OkStatus();
}

Status EndpointService::CheckQuotas(store::Transaction& tx, const TenantId& tenant,
                                    const std::string& url,
                                    const std::optional<WebhookEndpointId>& self) {
  SB_RETURN_IF_ERROR(store::TenantRepository().LockForQuota(tx, tenant));
  const std::string host = Lower(UrlHost(url).value_or(""));
  int total = 0;
  int same_host = 0;
  std::optional<WebhookEndpointId> after;
  while (true) {
    SB_ASSIGN_OR_RETURN(
        auto page, repo_.List(tx, tenant, after, store::WebhookEndpointRepository::kMaxListLimit));
    for (const auto& e : page) {
      if (self && e.id == *self) continue;
      ++total;
      same_host += Lower(UrlHost(e.url).value_or("")) == host;
    }
    if (page.size() < store::WebhookEndpointRepository::kMaxListLimit) break;
    after = page.back().id;
  }
  if (!self && total >= policy_.max_endpoints) {
    return QuotaExceededError(
        QuotaKind::kCount, "quotas.webhook_endpoints", policy_.max_endpoints,
        "the tenant has as many webhook endpoints as it may; delete one first");
  }
  if (same_host >= policy_.max_endpoints_per_host) {
    return QuotaExceededError(QuotaKind::kCount, "quotas.webhook_endpoints_per_host",
                              policy_.max_endpoints_per_host,
                              "the tenant has as many webhook endpoints on this host as it may");
  }
  return OkStatus();
}

Result<EndpointWithSecret> EndpointService::Create(const TenantId& tenant,
                                                   const EndpointInput& input,
                                                   const audit::Context& ctx) {
  if (!input.url) return InvalidArgumentError("field 'url' is required");
  SB_RETURN_IF_ERROR(CheckUrl(*input.url));
  SB_RETURN_IF_ERROR(CheckMaxConcurrency(input.max_concurrency));
  EndpointWithSecret out;
  store::WebhookEndpointRecord& r = out.record;
  r.tenant_id = tenant;
  r.id = WebhookEndpointId(ids_.NewUuid());
  r.url = *input.url;
  r.description = input.description.value_or("");
  r.event_types = input.event_types.value_or(std::vector<std::string>{});
  r.enabled = input.enabled.value_or(true);
  if (!r.enabled) r.disabled_reason = kDisabledManual;
  r.max_concurrency = input.max_concurrency.value_or(policy_.default_max_concurrency);
  r.created_at = r.updated_at = clock_.Now();
  out.secret = GenerateSecret(random_);
  SB_RETURN_IF_ERROR(db_.RunInTenant(tenant, [&](store::Transaction& tx) -> Status {
    SB_RETURN_IF_ERROR(CheckQuotas(tx, tenant, r.url, std::nullopt));
    SB_RETURN_IF_ERROR(repo_.Insert(tx, tenant, r));
    SB_RETURN_IF_ERROR(secrets_.Put(tx, SecretOf(tenant, r.id, kSecretField), out.secret));
    return audit_.Append(tx, tenant,
                         audit::Event{ctx.actor, "webhook_endpoint.create", Target(r.id),
                                      audit::Outcome::kSuccess, ctx.request_id,
                                      Json{{"url", r.url},
                                           {"event_types", r.event_types},
                                           {"enabled", r.enabled},
                                           {"max_concurrency", r.max_concurrency},
                                           {"secret", audit_.HmacSecret(out.secret)}}});
  }));
  return out;
}

Result<std::vector<store::WebhookEndpointRecord>> EndpointService::List(
    const TenantId& tenant, const std::optional<WebhookEndpointId>& after, int limit) {
  std::vector<store::WebhookEndpointRecord> out;
  SB_RETURN_IF_ERROR(
      db_.RunInTenant(tenant, store::TxMode::kReadOnly, [&](store::Transaction& tx) -> Status {
        SB_ASSIGN_OR_RETURN(out, repo_.List(tx, tenant, after, limit));
        return OkStatus();
      }));
  return out;
}

Result<store::WebhookEndpointRecord> EndpointService::Get(const TenantId& tenant,
                                                          const WebhookEndpointId& id) {
  std::optional<store::WebhookEndpointRecord> out;
  SB_RETURN_IF_ERROR(
      db_.RunInTenant(tenant, store::TxMode::kReadOnly, [&](store::Transaction& tx) -> Status {
        SB_ASSIGN_OR_RETURN(out, repo_.Get(tx, tenant, id));
        return OkStatus();
      }));
  if (!out) return NotFoundError("webhook endpoint not found");
  return std::move(*out);
}

Result<store::WebhookEndpointRecord> EndpointService::Update(const TenantId& tenant,
                                                             const WebhookEndpointId& id,
                                                             const EndpointInput& input,
                                                             const audit::Context& ctx) {
  if (input.url) SB_RETURN_IF_ERROR(CheckUrl(*input.url));
  SB_RETURN_IF_ERROR(CheckMaxConcurrency(input.max_concurrency));
  std::optional<store::WebhookEndpointRecord> out;
  SB_RETURN_IF_ERROR(db_.RunInTenant(tenant, [&](store::Transaction& tx) -> Status {
    SB_ASSIGN_OR_RETURN(auto current, repo_.Get(tx, tenant, id));
    if (!current) return NotFoundError("webhook endpoint not found");
    if (input.expected_version && *input.expected_version != current->version) {
      return AbortedError("the webhook endpoint changed since the ETag in If-Match");
    }
    if (input.url && UrlHost(*input.url) != UrlHost(current->url)) {
      SB_RETURN_IF_ERROR(CheckQuotas(tx, tenant, *input.url, id));
    }
    store::WebhookEndpointRecord next = *current;
    Json changed = Json::object();
    if (input.url) next.url = *input.url, changed["url"] = *input.url;
    if (input.description) next.description = *input.description, changed["description"] = true;
    if (input.event_types) {
      next.event_types = *input.event_types;
      changed["event_types"] = *input.event_types;
    }
    if (input.enabled) next.enabled = *input.enabled, changed["enabled"] = *input.enabled;
    // Re-enabling forgets why it was disabled and how long it had been failing (WH-04).
    const bool reenabled = next.enabled && !current->enabled;
    if (next.enabled) next.disabled_reason.clear();
    if (!next.enabled && current->enabled) next.disabled_reason = kDisabledManual;
    if (input.max_concurrency) {
      next.max_concurrency = *input.max_concurrency;
      changed["max_concurrency"] = *input.max_concurrency;
    }
    next.updated_at = clock_.Now();
    SB_ASSIGN_OR_RETURN(out, repo_.Update(tx, tenant, next));
    if (!out) return AbortedError("the webhook endpoint changed meanwhile; retry");
    if (reenabled && out->failing_since) {
      SB_RETURN_IF_ERROR(repo_.ClearFailing(tx, tenant, id));
      out->failing_since.reset();
    }
    if (next.max_concurrency != current->max_concurrency) {
      SB_RETURN_IF_ERROR(
          store::JobRepository()
              .SetConcurrencyLimit(tx, tenant, EndpointConcurrencyKey(id), next.max_concurrency)
              .status());
    }
    return audit_.Append(
        tx, tenant,
        audit::Event{ctx.actor, "webhook_endpoint.update", Target(id), audit::Outcome::kSuccess,
                     ctx.request_id, Json{{"changed", changed}}});
  }));
  return std::move(*out);
}

Result<bool> EndpointService::Delete(const TenantId& tenant, const WebhookEndpointId& id,
                                     const audit::Context& ctx) {
  bool existed = false;
  SB_RETURN_IF_ERROR(db_.RunInTenant(tenant, [&](store::Transaction& tx) -> Status {
    SB_ASSIGN_OR_RETURN(existed, repo_.Delete(tx, tenant, id));
    if (!existed) return OkStatus();
    SB_RETURN_IF_ERROR(
        secrets_.DeleteOwner(tx, tenant, store::WebhookEndpointSecretOwner(id)).status());
    return audit_.Append(tx, tenant,
                         audit::Event{ctx.actor, "webhook_endpoint.delete", Target(id),
                                      audit::Outcome::kSuccess, ctx.request_id, Json::object()});
  }));
  return existed;
}

Result<EndpointWithSecret> EndpointService::RotateSecret(const TenantId& tenant,
                                                         const WebhookEndpointId& id,
                                                         const audit::Context& ctx) {
  EndpointWithSecret out;
  out.secret = GenerateSecret(random_);
  SB_RETURN_IF_ERROR(db_.RunInTenant(tenant, [&](store::Transaction& tx) -> Status {
    SB_ASSIGN_OR_RETURN(auto current, repo_.Get(tx, tenant, id));
    if (!current) return NotFoundError("webhook endpoint not found");
    SB_ASSIGN_OR_RETURN(auto old, secrets_.Get(tx, SecretOf(tenant, id, kSecretField)));
    if (!old) return DataLossError("the webhook endpoint has no stored secret");
    SB_RETURN_IF_ERROR(secrets_.Put(tx, SecretOf(tenant, id, kPreviousSecretField), old->view()));
    SB_RETURN_IF_ERROR(secrets_.Put(tx, SecretOf(tenant, id, kSecretField), out.secret));
    store::WebhookEndpointRecord next = *current;
    const Timestamp now = clock_.Now();
    next.secret_version += 1;
    next.previous_secret_until = now + policy_.rotation_grace;
    next.updated_at = now;
    SB_ASSIGN_OR_RETURN(auto stored, repo_.Update(tx, tenant, next));
    if (!stored) return AbortedError("the webhook endpoint changed meanwhile; retry");
    out.record = std::move(*stored);
    return audit_.Append(tx, tenant,
                         audit::Event{ctx.actor, "webhook_endpoint.rotate_secret", Target(id),
                                      audit::Outcome::kSuccess, ctx.request_id,
                                      Json{{"secret_version", out.record.secret_version},
                                           {"previous_secret_signs_until",
                                            FormatRfc3339(*out.record.previous_secret_until)},
                                           {"secret", audit_.HmacSecret(out.secret)}}});
  }));
  return out;
}

Result<std::vector<std::string>> EndpointService::SigningSecrets(
    store::Transaction& tx, const TenantId& tenant, const store::WebhookEndpointRecord& endpoint) {
  std::vector<std::string> out;
  SB_ASSIGN_OR_RETURN(auto current, secrets_.Get(tx, SecretOf(tenant, endpoint.id, kSecretField)));
  if (!current) return DataLossError("the webhook endpoint has no stored secret");
  out.emplace_back(current->view());
  if (endpoint.previous_secret_until && *endpoint.previous_secret_until > clock_.Now()) {
    SB_ASSIGN_OR_RETURN(auto previous,
                        secrets_.Get(tx, SecretOf(tenant, endpoint.id, kPreviousSecretField)));
    if (previous) out.emplace_back(previous->view());
  }
  return out;
}

}  // namespace sb::webhooks
