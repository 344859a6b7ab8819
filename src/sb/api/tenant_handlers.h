// REST handlers for /v1/tenants and /v1/api-keys. Each returns a Response; failures become
// problem+json through the one Status mapping. Thread-safe (stateless over the services).
#pragma once

#include "sb/base/quota.h"
#include "sb/http/request.h"
#include "sb/http/response.h"
#include "sb/tenancy/api_keys.h"
#include "sb/tenancy/tenants.h"

namespace sb::api {

class TenantHandlers {
 public:
  TenantHandlers(tenancy::TenantService& tenants, tenancy::ApiKeyService& keys)
      : tenants_(tenants), keys_(keys) {}

  http::Response CreateTenant(http::Request& request);  // POST /v1/tenants (admin)
  http::Response ListTenants(http::Request& request);   // GET /v1/tenants
  http::Response GetTenant(http::Request& request);     // GET /v1/tenants/{id}
  // PATCH /v1/tenants/{id} (admin, or write on its own tenant): return_url_origins.
  http::Response PatchTenant(http::Request& request);
  http::Response CreateApiKey(http::Request& request);  // POST /v1/api-keys (write)
  http::Response ListApiKeys(http::Request& request);   // GET /v1/api-keys (read)
  http::Response GetApiKey(http::Request& request);     // GET /v1/api-keys/{id} (read)
  http::Response RevokeApiKey(http::Request& request);  // DELETE /v1/api-keys/{id} (write)

 private:
  Result<http::Response> DoCreateTenant(http::Request& request);
  Result<http::Response> DoListTenants(http::Request& request);
  Result<http::Response> DoGetTenant(http::Request& request);
  Result<http::Response> DoPatchTenant(http::Request& request);
  Result<http::Response> DoCreateApiKey(http::Request& request);
  Result<http::Response> DoListApiKeys(http::Request& request);
  Result<http::Response> DoGetApiKey(http::Request& request);
  Result<http::Response> DoRevokeApiKey(http::Request& request);

  tenancy::TenantService& tenants_;
  tenancy::ApiKeyService& keys_;
};

// Runs `fn` and maps an error to problem+json; a quota (sb::QuotaOf) becomes QuotaProblem.
http::Response Respond(const http::Request& request, const Result<http::Response>& result);

// A per-tenant quota the request would exceed: 422 for a count, 429 with Retry-After for a
// rate, type ".../quota-exceeded", the detail naming the quota's configuration key.
http::Response QuotaProblem(const http::Request& request, const Status& status,
                            const QuotaExceeded& quota);

}  // namespace sb::api
