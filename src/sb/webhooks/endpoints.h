// EndpointService: a tenant's webhook endpoints, the `/v1/webhook-endpoints` resource.
//
// Each endpoint has its own signing secret (WH-02): 32 random bytes, returned once as
// `whsec_<base64>` when the endpoint is created or its secret rotated, stored only through the
// vault (owner "webhook_endpoint:<id>", field "secret") and audited only as its HMAC. Rotation
// makes the new secret sign at once while the previous one keeps signing until the grace period
// ends (WH-03: field "previous_secret"), so deliveries carry both signatures meanwhile.
//
// URLs must be absolute https URLs (plain http only when the deployment allows it, for tests and
// local development) whose host is not a loopback, private, link-local or otherwise internal
// address literal, nor "localhost", unless the deployment allows private targets (WH-05; the
// delivery re-checks resolved addresses, which catches names that point inside). Thread-safe.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "sb/audit/audit_log.h"
#include "sb/audit/context.h"
#include "sb/base/clock.h"
#include "sb/base/ids.h"
#include "sb/base/random.h"
#include "sb/store/database.h"
#include "sb/store/webhooks/webhook_repository.h"
#include "sb/vault/secret_store.h"

namespace sb::webhooks {

struct EndpointPolicy {
  bool allow_http = false;             // plain http targets
  bool allow_private_targets = false;  // loopback, RFC 1918, link-local, ULA, "localhost"
  std::chrono::seconds rotation_grace{86'400};
  int default_max_concurrency = 4;  // an endpoint's max_concurrency unless the API sets one
  int max_endpoints = 50;           // quotas.webhook_endpoints: endpoints per tenant
  // quotas.webhook_endpoints_per_host: a tenant's endpoints whose URL has the same host, so that
  // event fan-out to one third party stays bounded.
  int max_endpoints_per_host = 10;
};

// Why an endpoint is disabled (store::WebhookEndpointRecord::disabled_reason).
inline constexpr char kDisabledFailing[] = "failing";  // by the Deliverer, after days of failure
inline constexpr char kDisabledGone[] = "gone";        // by the Deliverer, after a 410 Gone answer
inline constexpr char kDisabledManual[] = "manual";    // by PATCH enabled: false

struct EndpointInput {
  std::optional<std::string> url;  // required on create
  std::optional<std::string> description;
  std::optional<std::vector<std::string>> event_types;
  std::optional<bool> enabled;
  std::optional<int> max_concurrency;       // 1..64
  std::optional<int64_t> expected_version;  // If-Match on update
};

struct EndpointWithSecret {
  store::WebhookEndpointRecord record;
  std::string secret;  // shown once; never stored in clear
};

// What EndpointService works with.
struct EndpointDeps {
  store::Database& db;
  vault::SecretStore& secrets;  // holds the signing secrets
  audit::AuditLog& audit;
  const Clock& clock;
  Random& random;  // new signing secrets
  IdGenerator& ids;
};

class EndpointService {
 public:
  EndpointService(EndpointDeps deps, EndpointPolicy policy)
      : db_(deps.db),
        secrets_(deps.secrets),
        audit_(deps.audit),
        clock_(deps.clock),
        random_(deps.random),
        ids_(deps.ids),
        policy_(policy) {}

  // INVALID_ARGUMENT for a bad or refused URL, description or event type; RESOURCE_EXHAUSTED
  // (QuotaOf: quotas.webhook_endpoints, quotas.webhook_endpoints_per_host) at a quota.
  Result<EndpointWithSecret> Create(const TenantId& tenant, const EndpointInput& input,
                                    const audit::Context& ctx);
  Result<std::vector<store::WebhookEndpointRecord>> List(
      const TenantId& tenant, const std::optional<WebhookEndpointId>& after, int limit);
  // NOT_FOUND when the tenant has no such endpoint.
  Result<store::WebhookEndpointRecord> Get(const TenantId& tenant, const WebhookEndpointId& id);
  // Changes the fields `input` sets; ABORTED for a stale expected_version. Disabling records
  // the reason "manual"; re-enabling a disabled endpoint clears the reason and failing_since.
  // A new max_concurrency also applies to the endpoint's queued deliveries.
  Result<store::WebhookEndpointRecord> Update(const TenantId& tenant, const WebhookEndpointId& id,
                                              const EndpointInput& input,
                                              const audit::Context& ctx);
  // Deletes the endpoint, its deliveries and its secrets; false when there was none.
  Result<bool> Delete(const TenantId& tenant, const WebhookEndpointId& id,
                      const audit::Context& ctx);
  // A new secret, active at once; the current one keeps signing for policy.rotation_grace.
  Result<EndpointWithSecret> RotateSecret(const TenantId& tenant, const WebhookEndpointId& id,
                                          const audit::Context& ctx);
  // The secrets that sign a delivery now: the current one, then the previous one while its
  // grace period lasts. REQUIRES a transaction of `tenant`.
  Result<std::vector<std::string>> SigningSecrets(store::Transaction& tx, const TenantId& tenant,
                                                  const store::WebhookEndpointRecord& endpoint);

 private:
  // The tenant's endpoint quotas for an endpoint at `url` (other than `self`), in `tx`.
  Status CheckQuotas(store::Transaction& tx, const TenantId& tenant, const std::string& url,
                     const std::optional<WebhookEndpointId>& self);

  Status CheckUrl(const std::string& url) const;

  store::Database& db_;
  vault::SecretStore& secrets_;
  audit::AuditLog& audit_;
  const Clock& clock_;
  Random& random_;
  IdGenerator& ids_;
  const EndpointPolicy policy_;
  store::WebhookEndpointRepository repo_;
};

// The job concurrency key of an endpoint's deliveries (jobs::JobSpec::concurrency_key):
// "webhook_endpoint:<id>".
std::string EndpointConcurrencyKey(const WebhookEndpointId& id);

// The host of an absolute URL ("name", "1.2.3.4" or "[v6]", without the port); nullopt when
// malformed or when it carries userinfo.
std::optional<std::string> UrlHost(std::string_view url);

}  // namespace sb::webhooks
