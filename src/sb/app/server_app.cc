#include "sb/app/server_app.h"

#include <ostream>
#include <sstream>

#include <signal.h>

#include "sb/api/auth.h"
#include "sb/api/routes.h"
#include "sb/api/system_handlers.h"
#include "sb/api/tenant_handlers.h"
#include "sb/app/security.h"
#include "sb/base/logging.h"
#include "sb/base/metrics.h"
#include "sb/config/config.h"
#include "sb/http/rate_limiter.h"
#include "sb/http/router.h"
#include "sb/http/server.h"
#include "sb/store/open_database.h"
#include "sb/store/role_check.h"

namespace sb::app {

// Every component, in construction order (members are destroyed in reverse).
struct ServerApp::Parts {
  Parts(const config::Config& c, const Clock& clock, Random& random, IdGenerator& id_generator,
        Security security_parts, std::unique_ptr<store::Database> database,
        oauth::ProviderCatalog provider_catalog)
      : config(c),
        ids(id_generator),
        security(std::move(security_parts)),
        db(std::move(database)),
        catalog(std::move(provider_catalog)),
        integrations(*db, catalog, *security.secrets, *security.audit, clock),
        tenants(*db, clock, ids, *security.audit),
        keys(*db, clock, random, ids, *security.audit),
        limiter(clock, http::RateLimiterOptions{c.limits.requests_per_second,
                                                static_cast<double>(c.limits.burst)}),
        // Failed authentications per client host: 20 at once, then one per second.
        auth_failures(clock, http::RateLimiterOptions{1, 20}),
        system(*db, metrics),
        tenant_handlers(tenants, keys),
        audit_handlers(*db, *security.audit),
        integration_handlers(catalog, integrations),
        auth(keys, limiter, auth_failures) {}

  std::shared_ptr<IdGenerator> ids_owner;  // set right after construction
  config::Config config;
  IdGenerator& ids;
  Security security;
  std::unique_ptr<store::Database> db;
  oauth::ProviderCatalog catalog;
  oauth::IntegrationService integrations;
  metrics::MetricsRegistry metrics;
  tenancy::TenantService tenants;
  tenancy::ApiKeyService keys;
  http::RateLimiter limiter;
  http::RateLimiter auth_failures;
  api::SystemHandlers system;
  api::TenantHandlers tenant_handlers;
  api::AuditHandlers audit_handlers;
  api::IntegrationHandlers integration_handlers;
  api::AuthMiddleware auth;
  http::Router router;
  std::unique_ptr<http::Server> server;
};

namespace {

http::ServerOptions ServerOptionsFrom(const config::ServerConfig& s) {
  http::ServerOptions o;
  o.address = s.listen_address;
  o.port = s.port;
  o.io_threads = static_cast<size_t>(s.io_threads);
  o.max_body_bytes = static_cast<size_t>(s.max_body_bytes);
  o.read_timeout = s.read_timeout;
  o.write_timeout = s.write_timeout;
  o.idle_timeout = s.idle_timeout;
  o.pool.threads = static_cast<size_t>(s.worker_threads);
  o.pool.max_queue = static_cast<size_t>(s.worker_queue);
  return o;
}

}  // namespace

Result<oauth::ProviderCatalog> LoadProviderCatalog(const config::ProvidersConfig& providers) {
  SB_ASSIGN_OR_RETURN(oauth::ProviderCatalog catalog, oauth::ProviderCatalog::LoadBuiltIn());
  if (!providers.catalog_dir.empty()) {
    SB_RETURN_IF_ERROR(
        catalog.ApplyOverrides(providers.catalog_dir).WithContext("providers.catalog_dir"));
  }
  // Google's issuer stays https://accounts.google.com (the sandbox signs with it, as Google
  // does); a Microsoft stand-in issues tokens under its own origin, so its issuer moves too.
  if (!providers.google_url.empty()) {
    SB_RETURN_IF_ERROR(catalog
                           .OverrideOrigin("google",
                                           {"accounts.google.com", "oauth2.googleapis.com",
                                            "openidconnect.googleapis.com", "www.googleapis.com"},
                                           providers.google_url, /*rewrite_issuer=*/false)
                           .WithContext("providers.google_url"));
  }
  if (!providers.microsoft_url.empty()) {
    SB_RETURN_IF_ERROR(catalog
                           .OverrideOrigin("microsoft",
                                           {"login.microsoftonline.com", "graph.microsoft.com"},
                                           providers.microsoft_url, /*rewrite_issuer=*/true)
                           .WithContext("providers.microsoft_url"));
  }
  return catalog;
}

Result<std::unique_ptr<ServerApp>> ServerApp::Create(const config::Config& config,
                                                     const Clock& clock, Random& random) {
  store::DatabaseOptions db_options;
  db_options.url = config.database.url;
  db_options.pool_size = config.database.pool_size;
  db_options.acquire_timeout = config.database.acquire_timeout;
  SB_ASSIGN_OR_RETURN(std::unique_ptr<store::Database> db, store::OpenDatabase(db_options));
  // RLS-02: never serve through a role that could bypass row-level security.
  SB_RETURN_IF_ERROR(store::CheckAppRoleIsSafe(*db).WithContext("database.url"));
  // The ids generator outlives Parts (it is referenced by the audit log inside Security).
  auto ids = std::make_shared<IdGenerator>(clock, random);
  std::ostringstream warnings;
  SB_ASSIGN_OR_RETURN(oauth::ProviderCatalog catalog, LoadProviderCatalog(config.providers));
  SB_ASSIGN_OR_RETURN(Security security, SetUpSecurity(config, clock, random, *ids, warnings));
  if (!warnings.str().empty()) log::Warn("keys.generated", {{"warning", warnings.str()}});
  auto parts = std::make_unique<Parts>(config, clock, random, *ids, std::move(security),
                                       std::move(db), std::move(catalog));
  parts->ids_owner = std::move(ids);
  SB_RETURN_IF_ERROR(api::RegisterRoutes(
      parts->router, api::Handlers{parts->system, parts->tenant_handlers, parts->audit_handlers,
                                   parts->integration_handlers, parts->auth}));
  parts->server = std::make_unique<http::Server>(ServerOptionsFrom(config.server), parts->router,
                                                 parts->metrics, clock);
  return std::unique_ptr<ServerApp>(new ServerApp(std::move(parts)));
}

ServerApp::ServerApp(std::unique_ptr<Parts> parts) : parts_(std::move(parts)) {}

ServerApp::~ServerApp() {
  if (parts_ && parts_->server) parts_->server->Stop(std::chrono::milliseconds(0));
}

Result<uint16_t> ServerApp::Start() {
  SB_RETURN_IF_ERROR(parts_->server->Start());
  return parts_->server->port();
}

void ServerApp::Stop(std::chrono::milliseconds grace) { parts_->server->Stop(grace); }

store::Database& ServerApp::database() { return *parts_->db; }
tenancy::TenantService& ServerApp::tenants() { return parts_->tenants; }
tenancy::ApiKeyService& ServerApp::api_keys() { return parts_->keys; }
vault::SecretStore& ServerApp::secrets() { return *parts_->security.secrets; }
audit::AuditLog& ServerApp::audit_log() { return *parts_->security.audit; }

std::vector<std::pair<std::string, std::string>> ServerApp::Routes() const {
  return parts_->router.Routes();
}

int Serve(const config::Config& config, std::ostream& out, std::ostream& err) {
  // Block the shutdown signals before any thread starts, so that every thread inherits the
  // mask and only the sigwait below receives them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  SystemClock clock;
  SystemRandom random;
  auto app = ServerApp::Create(config, clock, random);
  if (!app.ok()) {
    err << "switchboard: cannot start: " << app.status().ToString() << "\n";
    return 1;
  }
  auto port = (*app)->Start();
  if (!port.ok()) {
    err << "switchboard: cannot listen: " << port.status().ToString() << "\n";
    return 1;
  }
  out << "switchboard: serving on http://" << config.server.listen_address << ":" << *port << " ("
      << config.mode << ")" << std::endl;
  log::Info("server.started", {{"address", config.server.listen_address},
                               {"port", *port},
                               {"database", config::RedactUrl(config.database.url)}});
  int received = 0;
  sigwait(&signals, &received);
  log::Info("server.stopping", {{"signal", received == SIGTERM ? "SIGTERM" : "SIGINT"},
                                {"grace_ms", config.server.shutdown_grace.count()}});
  (*app)->Stop(config.server.shutdown_grace);
  log::Info("server.stopped");
  log::Flush();
  return 0;
}

}  // namespace sb::app
