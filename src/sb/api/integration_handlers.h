// REST handlers for the provider catalog and a tenant's integrations (its OAuth app per
// provider): GET /v1/providers, GET /v1/integrations, GET|PUT|DELETE /v1/integrations/{provider}.
// Client secrets go in, never out. PUT answers with an ETag carrying the version; If-Match with
// that ETag makes the replacement conditional (412 when someone changed it). Thread-safe.
#pragma once

#include "sb/http/request.h"
#include "sb/http/response.h"
#include "sb/oauth/catalog.h"
#include "sb/oauth/integrations.h"

namespace sb::api {

class IntegrationHandlers {
 public:
  IntegrationHandlers(const oauth::ProviderCatalog& catalog, oauth::IntegrationService& service)
      : catalog_(catalog), service_(service) {}

  http::Response ListProviders(http::Request& request);      // GET /v1/providers (read)
  http::Response ListIntegrations(http::Request& request);   // GET /v1/integrations (read)
  http::Response GetIntegration(http::Request& request);     // GET /v1/integrations/{provider}
  http::Response PutIntegration(http::Request& request);     // PUT (write)
  http::Response DeleteIntegration(http::Request& request);  // DELETE (write)

 private:
  Result<http::Response> DoListProviders(http::Request& request);
  Result<http::Response> DoListIntegrations(http::Request& request);
  Result<http::Response> DoGetIntegration(http::Request& request);
  Result<http::Response> DoPutIntegration(http::Request& request);
  Result<http::Response> DoDeleteIntegration(http::Request& request);

  const oauth::ProviderCatalog& catalog_;
  oauth::IntegrationService& service_;
};

}  // namespace sb::api
