// ServerApp: the composition root of `switchboard serve`. Builds every concrete component from
// a validated Config (database, services, router with middlewares, HTTP server) and owns them.
// Integration tests start the real server through this same wiring.
// Thread-safe for Start/Stop from one controlling thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <iosfwd>
#include <memory>

#include "sb/base/clock.h"
#include "sb/base/random.h"
#include "sb/base/status.h"
#include "sb/config/config.h"
#include "sb/connections/connections.h"
#include "sb/http/request.h"
#include "sb/http/response.h"
#include "sb/net/http_client.h"
#include "sb/oauth/catalog.h"
#include "sb/store/database.h"
#include "sb/tenancy/api_keys.h"
#include "sb/tenancy/dashboard_users.h"
#include "sb/tenancy/tenants.h"
#include "sb/vault/secret_store.h"

namespace sb::app {

// The built-in provider catalog with providers.catalog_dir merged over it and the Google and
// Microsoft entries moved to providers.google_url / providers.microsoft_url when set (how
// development points them at switchboard-sandbox). Errors name the configuration key.
Result<oauth::ProviderCatalog> LoadProviderCatalog(const config::ProvidersConfig& providers);

class ServerApp {
 public:
  // Opens the database (and, on PostgreSQL, refuses an app role that could bypass row-level
  // security, RLS-02), loads the master keyring and the audit keys (generating them with a
  // logged warning in development; refusing to start without them in production) and wires
  // every component. `clock` and `random` must outlive the app.
  // `outbound`, when set, carries every outbound call (token, JWKS and userinfo requests, the
  // proxy, webhook deliveries) instead of the libcurl clients, and must outlive the app: how
  // tests and fuzzers put a fake provider behind the whole app.
  static Result<std::unique_ptr<ServerApp>> Create(const config::Config& config, const Clock& clock,
                                                   Random& random,
                                                   net::HttpClient* outbound = nullptr);
  ~ServerApp();
  ServerApp(const ServerApp&) = delete;
  ServerApp& operator=(const ServerApp&) = delete;

  // Binds and starts serving. Returns the bound port (config port 0 picks a free one).
  Result<uint16_t> Start();
  // Stops accepting at once, lets in-flight requests finish within `grace`, then stops.
  void Stop(std::chrono::milliseconds grace);

  // The metrics listener's bound port; 0 when metrics.listen is not set. REQUIRES: Start.
  uint16_t metrics_port() const;

  store::Database& database();
  tenancy::TenantService& tenants();
  tenancy::ApiKeyService& api_keys();
  tenancy::DashboardUserService& dashboard_users();
  vault::SecretStore& secrets();
  audit::AuditLog& audit_log();
  connections::ConnectionService& connections();
  // One token-refresh scheduler pass, then waits (up to `timeout`) until the job runner has run
  // the refresh jobs it queued: on this thread before Start, by the running job runner after.
  // For tests and benchmarks, which set refresh.interval_ms = 0. Returns how many of those jobs
  // refreshed a token (failures are recorded on the connections).
  Result<int> RunDueRefreshes(std::chrono::milliseconds timeout = std::chrono::seconds(60));
  // Handles one parsed request in-process as the server would after parsing it: the router with
  // its middlewares (authentication, rate limits) and the real handlers; no sockets. The caller
  // sets what the server would (request_id, client address). Streamed-body routes get the body
  // in `request.body`.
  http::Response Dispatch(http::Request& request);
  // Every registered (method, pattern) route, for the OpenAPI conformance test.
  std::vector<std::pair<std::string, std::string>> Routes() const;

 private:
  struct Parts;
  explicit ServerApp(std::unique_ptr<Parts> parts);
  std::unique_ptr<Parts> parts_;
};

// Runs the server until SIGTERM or SIGINT, then shuts down gracefully within
// config.server.shutdown_grace. Returns the process exit code.
int Serve(const config::Config& config, std::ostream& out, std::ostream& err);

}  // namespace sb::app
