// Operator endpoints (admin scope) and connection health:
//
//   GET  /v1/admin/providers             every catalog provider with its kill-switch state
//   PUT  /v1/admin/providers/{provider}  {"enabled", "tenant_id"?, "reason"?}: the emergency
//                                        kill switch, globally or for one tenant
//   GET  /v1/admin/usage                 per tenant: connections by status, API calls, proxied
//                                        calls and refreshes over [from, to] (UTC days)
//   GET  /v1/connections/{id}/health     stored health and a recovery suggestion; ?live=true
//                                        runs a live identity call first (read scope)
//   GET  /v1/connections/summary         the tenant's connections by status and its open
//                                        health incidents, newest first (read scope)
//
// Usage spans tenants, so it reads through the maintenance database (the BYPASSRLS role on
// PostgreSQL). Thread-safe.
#pragma once

#include "sb/connections/health.h"
#include "sb/connections/provider_switches.h"
#include "sb/http/request.h"
#include "sb/http/response.h"
#include "sb/oauth/catalog.h"
#include "sb/store/database.h"
#include "sb/tenancy/tenants.h"

namespace sb::api {

class AdminHandlers {
 public:
  AdminHandlers(const oauth::ProviderCatalog& catalog, connections::ProviderSwitches& switches,
                tenancy::TenantService& tenants, store::Database& maintenance, const Clock& clock)
      : catalog_(catalog),
        switches_(switches),
        tenants_(tenants),
        maintenance_(maintenance),
        clock_(clock) {}

  http::Response ListProviders(http::Request& request);
  http::Response PutProvider(http::Request& request);
  http::Response Usage(http::Request& request);

 private:
  Result<http::Response> DoListProviders(http::Request& request);
  Result<http::Response> DoPutProvider(http::Request& request);
  Result<http::Response> DoUsage(http::Request& request);

  const oauth::ProviderCatalog& catalog_;
  connections::ProviderSwitches& switches_;
  tenancy::TenantService& tenants_;
  store::Database& maintenance_;
  const Clock& clock_;
};

class HealthHandlers {
 public:
  explicit HealthHandlers(connections::ConnectionHealth& health) : health_(health) {}

  http::Response Get(http::Request& request);
  // GET /v1/connections/{id}/health/incidents: the health history, newest first.
  http::Response ListIncidents(http::Request& request);
  // GET /v1/connections/summary: the caller's tenant's connections by status and its open
  // incidents, newest first (read scope).
  http::Response Summary(http::Request& request);

 private:
  Result<http::Response> DoGet(http::Request& request);
  Result<http::Response> DoListIncidents(http::Request& request);
  Result<http::Response> DoSummary(http::Request& request);

  connections::ConnectionHealth& health_;
};

}  // namespace sb::api
