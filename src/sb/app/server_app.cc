#include "sb/app/server_app.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <ostream>
#include <sstream>
#include <thread>

#include <signal.h>
#include <unistd.h>

#include "sb/api/auth.h"
#include "sb/api/public_limit.h"
#include "sb/api/routes.h"
#include "sb/api/system_handlers.h"
#include "sb/api/tenant_handlers.h"
#include "sb/app/security.h"
#include "sb/base/encoding.h"
#include "sb/base/logging.h"
#include "sb/base/metrics.h"
#include "sb/config/config.h"
#include "sb/connections/connect.h"
#include "sb/connections/connections.h"
#include "sb/connections/dashboard_oidc.h"
#include "sb/connections/health.h"
#include "sb/connections/health_scheduler.h"
#include "sb/connections/provider_switches.h"
#include "sb/connections/refresh_scheduler.h"
#include "sb/http/rate_limiter.h"
#include "sb/http/router.h"
#include "sb/http/server.h"
#include "sb/http/static_files.h"
#include "sb/jobs/runner.h"
#include "sb/net/curl_http_client.h"
#include "sb/oauth/jwks_cache.h"
#include "sb/oauth/token_client.h"
#include "sb/proxy/proxy.h"
#include "sb/store/open_database.h"
#include "sb/store/role_check.h"
#include "sb/sync/calendar/calendar_sync.h"
#include "sb/sync/calendar/push.h"
#include "sb/sync/calendar/reader.h"
#include "sb/sync/engine.h"
#include "sb/sync/provider_client.h"
#include "sb/usage/meter.h"
#include "sb/webhooks/delivery.h"
#include "sb/webhooks/endpoints.h"

namespace sb::app {

namespace {

net::CurlHttpClientOptions HttpClientOptionsFrom(const config::ProvidersConfig& p) {
  net::CurlHttpClientOptions o;
  o.ca_file = p.ca_file;
  o.max_response_bytes = 1 << 20;  // token, JWKS and userinfo answers are small
  return o;
}

proxy::ProxyOptions ProxyOptionsFrom(const config::ProxyConfig& p, const config::MetricsConfig& m) {
  proxy::ProxyOptions o;
  o.tenant_label = m.tenant_labels;
  o.max_request_bytes = static_cast<size_t>(p.max_request_bytes);
  o.max_response_bytes = static_cast<size_t>(p.max_response_bytes);
  return o;
}

connections::ConnectOptions ConnectOptionsFrom(const config::Config& c, const Security& security) {
  connections::ConnectOptions o;
  o.public_url = c.server.public_url;
  o.csrf_key = std::string(security.connect_csrf_key.view());
  o.sessions_per_minute = c.quotas.connect_sessions_per_minute;
  o.max_connections = c.quotas.connections;
  return o;
}

connections::DashboardOidcOptions DashboardOidcOptionsFrom(const config::Config& c) {
  connections::DashboardOidcOptions o;
  o.public_url = c.server.public_url;
  const config::DashboardConfig& d = c.dashboard;
  if (!d.google_client_id.empty()) {
    o.providers.push_back({"google", d.google_client_id, d.google_client_secret, {}});
  }
  if (!d.microsoft_client_id.empty()) {
    o.providers.push_back(
        {"microsoft", d.microsoft_client_id, d.microsoft_client_secret, d.microsoft_tenants});
  }
  return o;
}

net::CurlHttpClientOptions ProxyHttpOptionsFrom(const config::Config& c) {
  net::CurlHttpClientOptions o;
  o.ca_file = c.providers.ca_file;
  // Headers on top of the proxy's own body limit, which gives the clearer error.
  o.max_response_bytes = static_cast<size_t>(c.proxy.max_response_bytes) + (64 << 10);
  o.max_idle_handles = 64;
  return o;
}

net::CurlHttpClientOptions WebhookHttpOptions() {
  net::CurlHttpClientOptions o;
  o.follow_redirects = false;  // WH-05: a redirect could lead anywhere
  o.max_response_bytes = 64 << 10;
  o.user_agent = "Switchboard-Webhooks/1";
  return o;
}

jobs::JobRunnerOptions JobRunnerOptionsFrom(const config::JobsConfig& j, Random& random) {
  jobs::JobRunnerOptions o;
  o.owner = "jobs-" + HexEncode(random.Bytes(6));
  o.threads = j.threads;
  o.lease = j.lease;
  return o;
}

// This process's name in refresh leases: host, pid and a random part (unique per start).
std::string NodeId(Random& random) {
  char host[256] = {};
  gethostname(host, sizeof(host) - 1);
  return std::string(host) + "-" + std::to_string(getpid()) + "-" + HexEncode(random.Bytes(4));
}

connections::RefreshOptions RefreshOptionsFrom(const config::RefreshConfig& r, Random& random) {
  connections::RefreshOptions o;
  o.margin = r.margin;
  o.jitter = r.jitter;
  o.max_transient_failures = r.max_transient_failures;
  o.lease = r.lease;
  o.node_id = NodeId(random);
  return o;
}

// The three outbound clients (token/JWKS/userinfo, proxy, webhooks): libcurl ones, or one
// injected client standing in for all three.
struct OutboundClients {
  OutboundClients(const config::Config& c, net::HttpClient* injected) {
    if (injected == nullptr) {
      owned = {std::make_unique<net::CurlHttpClient>(HttpClientOptionsFrom(c.providers)),
               std::make_unique<net::CurlHttpClient>(ProxyHttpOptionsFrom(c)),
               std::make_unique<net::CurlHttpClient>(WebhookHttpOptions())};
    }
    provider = injected ? injected : owned[0].get();
    proxy = injected ? injected : owned[1].get();
    webhooks = injected ? injected : owned[2].get();
  }
  std::array<std::unique_ptr<net::HttpClient>, 3> owned;  // empty when injected
  net::HttpClient* provider;
  net::HttpClient* proxy;     // larger answers than token calls
  net::HttpClient* webhooks;  // deliveries: no redirects, small answers
};

// Every open stream keeps about one upload-pool thread busy: at most half of them stream.
api::LiveOptions LiveOptionsFrom(const config::LiveConfig& l, const config::ServerConfig& s) {
  api::LiveOptions o;
  o.poll_interval = l.poll_interval;
  o.max_lifetime = l.max_lifetime;
  o.max_streams_per_tenant = static_cast<size_t>(l.max_streams_per_tenant);
  o.max_streams = static_cast<size_t>(std::min(l.max_streams, std::max(1, s.upload_threads / 2)));
  return o;
}

// The dashboard's files, or null when dashboard.assets_dir is empty or not a directory (a
// development checkout before the first dashboard build): the server still starts, /dashboard
// answers 404, and the reason is logged.
std::unique_ptr<http::StaticFiles> OpenDashboard(const config::DashboardConfig& d) {
  if (d.assets_dir.empty()) return nullptr;
  auto files = http::StaticFiles::Open({.root = d.assets_dir});
  if (!files.ok()) {
    log::Warn("dashboard.unavailable",
              {{"assets_dir", d.assets_dir}, {"error", files.status().ToString()}});
    return nullptr;
  }
  return std::move(files).value();
}

}  // namespace

// Connection events go to the sync engine (a new connection's initial runs, a reconnected one's
// paused syncs) and to the webhooks outbox, in the transaction of the change.
class ConnectionEventFanout final : public connections::ConnectionEvents {
 public:
  explicit ConnectionEventFanout(connections::ConnectionEvents& webhooks) : webhooks_(webhooks) {}
  void SetSync(sync::SyncEngine* engine) { sync_ = engine; }
  Status Emit(store::Transaction& tx, const TenantId& tenant, std::string_view type,
              const Json& data) override {
    if (sync_ != nullptr) SB_RETURN_IF_ERROR(sync_->OnConnectionEvent(tx, tenant, type, data));
    return webhooks_.Emit(tx, tenant, type, data);
  }

 private:
  connections::ConnectionEvents& webhooks_;
  sync::SyncEngine* sync_ = nullptr;
};

// Every component, in construction order (members are destroyed in reverse).
struct ServerApp::Parts {
  Parts(const config::Config& c, const Clock& clock, Random& random, IdGenerator& id_generator,
        Security security_parts, std::unique_ptr<store::Database> database,
        std::unique_ptr<store::Database> maintenance_database,
        oauth::ProviderCatalog provider_catalog, net::HttpClient* outbound)
      : config(c),
        ids(id_generator),
        security(std::move(security_parts)),
        db(std::move(database)),
        maintenance_db(std::move(maintenance_database)),
        catalog(std::move(provider_catalog)),
        integrations(oauth::IntegrationDeps{.db = *db,
                                            .catalog = catalog,
                                            .secrets = *security.secrets,
                                            .audit = *security.audit,
                                            .clock = clock}),
        dispatcher(clock, random, ids, c.quotas.webhook_deliveries_in_flight),
        connection_events(dispatcher),
        refresh_options(RefreshOptionsFrom(c.refresh, random)),
        outbound_clients(c, outbound),
        http_client(*outbound_clients.provider),
        token_client(http_client),
        jwks(http_client, clock),
        switches(
            connections::ProviderSwitchesDeps{.db = *db,
                                              .maintenance = maintenance_db ? *maintenance_db : *db,
                                              .clock = clock,
                                              .audit = *security.audit,
                                              .metrics = &metrics}),
        usage(*db, clock),
        connections(
            connections::ConnectionDeps{
                .db = *db,
                .catalog = catalog,
                .integrations = integrations,
                .secrets = *security.secrets,
                .audit = *security.audit,
                .tokens = token_client,
                .clock = clock,
                .random = random,
                .metrics = &metrics,
                .events = &connection_events,
                .switches = &switches,
                .usage = &usage,
                // Push channels stop while the token works.
                .before_delete = [this](const TenantId& t,
                                        const ConnectionId& id) { calendar_push.StopAll(t, id); }},
            refresh_options),
        connect(connections::ConnectDeps{.db = *db,
                                         .catalog = catalog,
                                         .integrations = integrations,
                                         .secrets = *security.secrets,
                                         .audit = *security.audit,
                                         .tokens = token_client,
                                         .jwks = jwks,
                                         .http = http_client,
                                         .clock = clock,
                                         .random = random,
                                         .ids = ids,
                                         .metrics = &metrics,
                                         .events = &connection_events,
                                         .switches = &switches},
                ConnectOptionsFrom(c, security), refresh_options),
        tenants(tenancy::TenantDeps{.db = *db,
                                    .clock = clock,
                                    .ids = ids,
                                    .audit = *security.audit,
                                    .maintenance = maintenance_db.get()}),
        keys(tenancy::ApiKeyDeps{
            .db = *db, .clock = clock, .random = random, .ids = ids, .audit = *security.audit}),
        dashboard_users(tenancy::DashboardUserDeps{
            .db = *db, .clock = clock, .random = random, .ids = ids, .audit = *security.audit}),
        dashboard_oidc(connections::DashboardOidcDeps{.db = *db,
                                                      .catalog = catalog,
                                                      .tokens = token_client,
                                                      .jwks = jwks,
                                                      .http = http_client,
                                                      .secrets = *security.secrets,
                                                      .users = dashboard_users,
                                                      .clock = clock,
                                                      .random = random},
                       DashboardOidcOptionsFrom(c)),
        limiter(clock, http::RateLimiterOptions{c.limits.requests_per_second,
                                                static_cast<double>(c.limits.burst)}),
        // Failed authentications per client host: 20 at once, then one per second.
        auth_failures(clock, http::RateLimiterOptions{1, 20}),
        public_requests(clock,
                        http::RateLimiterOptions{c.public_limits.requests_per_second,
                                                 static_cast<double>(c.public_limits.burst)}),
        public_limit(public_requests),
        system(*db, metrics, c.metrics.token),
        tenant_handlers(tenants, keys),
        session_handlers(dashboard_users, auth_failures,
                         c.server.public_url.starts_with("https://"), &dashboard_oidc),
        audit_handlers(*db, *security.audit),
        integration_handlers(catalog, integrations),
        proxy_http(*outbound_clients.proxy),
        proxy(proxy::ProxyDeps{.catalog = catalog,
                               .connections = connections,
                               .http = proxy_http,
                               .metrics = metrics,
                               .switches = &switches},
              ProxyOptionsFrom(c.proxy, c.metrics)),
        health(connections::HealthDeps{.db = *db,
                                       .catalog = catalog,
                                       .connections = connections,
                                       .http = proxy_http,
                                       .clock = clock,
                                       .metrics = &metrics,
                                       .events = &dispatcher,
                                       .switches = &switches},
               connections::HealthOptions{.alert_after_failures = c.health.alert_after_failures}),
        connect_handlers(connect, connections),
        proxy_handlers(proxy, &usage, &health),
        admin_handlers(catalog, switches, tenants, maintenance_db ? *maintenance_db : *db, clock),
        health_handlers(health),
        sync_provider(sync::ProviderClientDeps{.connections = connections,
                                               .catalog = catalog,
                                               .http = proxy_http,
                                               .clock = clock,
                                               .health = &health},
                      sync::ProviderClientOptions{}),
        sync_engine(
            sync::SyncEngineDeps{
                .db = *db,
                .maintenance = maintenance_db ? *maintenance_db : *db,
                .connections = connections,
                .provider = sync_provider,
                .audit = *security.audit,
                .clock = clock,
                .ids = ids,
                .webhooks = &dispatcher,
                .metrics = &metrics,
                .wake_jobs = [this](std::chrono::milliseconds delay) { job_runner.WakeIn(delay); }},
            sync::SyncOptions{.interval = c.sync.interval,
                              .scheduler_poll = c.sync.scheduler_interval,
                              .scheduler_batch = c.sync.batch,
                              .on_connect = c.sync.on_connect,
                              .push_delay = c.sync.push_delay}),
        calendar_push(
            sync::calendar::PushDeps{.db = *db,
                                     .maintenance = maintenance_db ? *maintenance_db : *db,
                                     .engine = sync_engine,
                                     .provider = sync_provider,
                                     .clock = clock,
                                     .random = random,
                                     .ids = ids,
                                     .health = &health,
                                     .metrics = &metrics},
            sync::calendar::PushOptions{.public_url = c.server.public_url,
                                        .renew_margin = c.sync.push_renew_margin,
                                        .renew_poll = c.sync.push_renew_interval}),
        calendar_reader(*db),
        sync_handlers(sync_engine, calendar_reader),
        push_handlers(calendar_push),
        write_changes(&dispatcher, clock),
        event_writer(sync::calendar::EventWriterDeps{.db = *db,
                                                     .provider = sync_provider,
                                                     .clock = clock,
                                                     .ids = ids,
                                                     .changes = write_changes,
                                                     .audit = security.audit.get(),
                                                     .metrics = &metrics},
                     sync::calendar::EventWriterOptions{}),
        idempotent_writes(*db, maintenance_db ? *maintenance_db : *db, clock),
        event_handlers(event_writer, idempotent_writes),
        availability_reader(*db, clock, &sync_provider),
        availability_handlers(availability_reader),
        webhook_endpoints(webhooks::EndpointDeps{.db = *db,
                                                 .secrets = *security.secrets,
                                                 .audit = *security.audit,
                                                 .clock = clock,
                                                 .random = random,
                                                 .ids = ids},
                          webhooks::EndpointPolicy{
                              c.webhooks.allow_http, c.webhooks.allow_private_targets,
                              c.webhooks.rotation_grace, c.webhooks.max_concurrency_per_endpoint,
                              c.quotas.webhook_endpoints, c.quotas.webhook_endpoints_per_host}),
        delivery_log(
            webhooks::DeliveryLogDeps{
                .db = *db, .audit = *security.audit, .clock = clock, .ids = ids},
            c.quotas.webhook_deliveries_in_flight),
        webhook_handlers(webhook_endpoints, delivery_log),
        webhook_http(*outbound_clients.webhooks),
        deliverer(
            webhooks::DelivererDeps{.db = *db,
                                    .endpoints = webhook_endpoints,
                                    .http = webhook_http,
                                    .clock = clock,
                                    .random = random,
                                    .audit = *security.audit,
                                    .events = dispatcher,
                                    .metrics = &metrics},
            webhooks::DeliveryOptions{.allow_private_targets = c.webhooks.allow_private_targets,
                                      .disable_after = c.webhooks.disable_after}),
        job_runner(*db, maintenance_db ? *maintenance_db : *db, clock, random,
                   JobRunnerOptionsFrom(c.jobs, random), &metrics),
        auth(keys, limiter, auth_failures, &usage, &dashboard_users),
        concurrency(api::TenantConcurrencyOptions{
            static_cast<size_t>(c.limits.max_concurrent_requests_per_tenant),
            static_cast<size_t>(c.limits.max_concurrent_uploads_per_tenant)}),
        dashboard_files(OpenDashboard(c.dashboard)),
        dashboard_handlers(dashboard_files.get()),
        live_handlers(*db, health, clock, LiveOptionsFrom(c.live, c.server)) {
    job_runner.Register(webhooks::kDeliverJob,
                        [this](jobs::JobContext& job) { return deliverer.Handle(job); });
    auto calendar_sync = std::make_unique<sync::calendar::CalendarSync>(sync_provider, clock, ids);
    calendar_sync->SetPush(&calendar_push);
    sync_engine.Register(std::move(calendar_sync));
    job_runner.Register(sync::calendar::kPushEnsureJob,
                        [this](jobs::JobContext& job) { return calendar_push.HandleEnsure(job); });
    job_runner.Register(sync::kSyncJob,
                        [this](jobs::JobContext& job) { return sync_engine.Handle(job); });
    job_runner.Register(sync::kSyncFollowUpJob,
                        [this](jobs::JobContext& job) { return sync_engine.HandleFollowUp(job); });
    job_runner.Register(sync::calendar::kEventWriteJob,
                        [this](jobs::JobContext& job) { return event_writer.HandleWrite(job); });
    connection_events.SetSync(&sync_engine);
    if (c.health.check_interval.count() > 0) {
      health_scheduler = std::make_unique<connections::HealthScheduler>(
          connections::HealthSchedulerDeps{.db = *db,
                                           .maintenance = maintenance_db ? *maintenance_db : *db,
                                           .health = health,
                                           .clock = clock,
                                           .random = random,
                                           .ids = ids},
          connections::HealthScheduleOptions{c.health.check_interval, c.health.scheduler_interval,
                                             c.health.batch});
    }
    // Registered even without the scheduler, so that queued checks still run.
    job_runner.Register(connections::kHealthCheckJob, [this](jobs::JobContext& job) {
      if (health_scheduler) return health_scheduler->Handle(job);
      return jobs::JobResult::Done();
    });
    // Always built (the loop runs only with refresh.interval_ms > 0), so that queued refresh
    // jobs still run and RunDueRefreshes works.
    refresh_scheduler = std::make_unique<connections::RefreshScheduler>(
        connections::RefreshSchedulerDeps{.db = *db,
                                          .maintenance = maintenance_db ? *maintenance_db : *db,
                                          .connections = connections,
                                          .clock = clock,
                                          .ids = ids},
        connections::RefreshScheduleOptions{c.refresh.interval, c.refresh.batch});
    job_runner.Register(connections::kRefreshJob,
                        [this](jobs::JobContext& job) { return refresh_scheduler->Handle(job); });
  }

  std::shared_ptr<IdGenerator> ids_owner;  // set right after construction
  config::Config config;
  IdGenerator& ids;
  Security security;
  std::unique_ptr<store::Database> db;
  std::unique_ptr<store::Database> maintenance_db;  // null: db serves maintenance too (SQLite)
  oauth::ProviderCatalog catalog;
  oauth::IntegrationService integrations;
  metrics::MetricsRegistry metrics;         // before every component that registers metrics
  webhooks::Dispatcher dispatcher;          // announces connection changes as webhook deliveries
  ConnectionEventFanout connection_events;  // the sync engine, then the dispatcher
  connections::RefreshOptions refresh_options;  // one node id for this process
  OutboundClients outbound_clients;
  net::HttpClient& http_client;
  oauth::TokenClient token_client;
  oauth::JwksCache jwks;
  connections::ProviderSwitches switches;  // the kill switch, polled from the database
  usage::Meter usage;                      // per-tenant usage, flushed to the database
  connections::ConnectionService connections;
  connections::ConnectService connect;
  tenancy::TenantService tenants;
  tenancy::ApiKeyService keys;
  tenancy::DashboardUserService dashboard_users;
  connections::DashboardOidc dashboard_oidc;
  http::RateLimiter limiter;
  http::RateLimiter auth_failures;
  http::RateLimiter public_requests;  // per client host, on the public routes
  api::PublicRateLimit public_limit;
  api::SystemHandlers system;
  api::TenantHandlers tenant_handlers;
  api::SessionHandlers session_handlers;
  api::AuditHandlers audit_handlers;
  api::IntegrationHandlers integration_handlers;
  net::HttpClient& proxy_http;
  proxy::ProxyService proxy;
  connections::ConnectionHealth health;
  api::ConnectHandlers connect_handlers;
  api::ProxyHandlers proxy_handlers;
  api::AdminHandlers admin_handlers;
  api::HealthHandlers health_handlers;
  sync::ProviderClient sync_provider;
  sync::SyncEngine sync_engine;
  sync::calendar::CalendarPush calendar_push;
  sync::calendar::CalendarReader calendar_reader;
  api::SyncHandlers sync_handlers;
  api::PushHandlers push_handlers;
  sync::ChangePublisher write_changes;  // what host writes publish (failures, conflicts)
  sync::calendar::EventWriter event_writer;
  api::IdempotentWrites idempotent_writes;
  api::EventHandlers event_handlers;
  sync::calendar::AvailabilityReader availability_reader;
  api::AvailabilityHandlers availability_handlers;
  webhooks::EndpointService webhook_endpoints;
  webhooks::DeliveryLog delivery_log;
  api::WebhookHandlers webhook_handlers;
  net::HttpClient& webhook_http;
  webhooks::Deliverer deliverer;
  jobs::JobRunner job_runner;
  api::AuthMiddleware auth;
  api::TenantConcurrencyLimiter concurrency;           // outlives the server's streams
  std::unique_ptr<http::StaticFiles> dashboard_files;  // null: no dashboard
  api::DashboardHandlers dashboard_handlers;
  api::LiveHandlers live_handlers;  // outlives the server's streams
  std::unique_ptr<connections::RefreshScheduler> refresh_scheduler;
  std::atomic<bool> started{false};  // the job runner and schedulers run (Start)
  std::unique_ptr<connections::HealthScheduler> health_scheduler;
  http::Router router;
  std::unique_ptr<http::Server> server;
  // The metrics listener (metrics.listen), when configured: GET /metrics only.
  http::Router metrics_router;
  std::unique_ptr<http::Server> metrics_server;
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
  o.upload_pool.threads = static_cast<size_t>(s.upload_threads);
  o.upload_pool.max_queue = static_cast<size_t>(s.upload_queue);
  o.max_connections_per_ip = static_cast<size_t>(s.max_connections_per_ip);
  return o;
}

// A small listener of its own for GET /metrics (metrics.listen): one I/O and one pool thread.
Result<std::unique_ptr<http::Server>> MetricsServer(const config::MetricsConfig& m,
                                                    api::SystemHandlers& system,
                                                    http::Router& router,
                                                    metrics::MetricsRegistry& registry,
                                                    const Clock& clock) {
  if (m.listen_address.empty()) return std::unique_ptr<http::Server>();
  SB_RETURN_IF_ERROR(router.Add(
      "GET", "/metrics", [&system](http::Request& r) { return system.PrivateMetrics(r); },
      http::RouteOptions{/*authenticated=*/false, http::Execution::kBlockingPool}));
  http::ServerOptions o;
  o.address = m.listen_address;
  o.port = m.port;
  o.io_threads = 1;
  o.max_body_bytes = 1024;
  o.pool.threads = 1;
  o.pool.max_queue = 16;
  return std::make_unique<http::Server>(o, router, registry, clock);
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
  if (!providers.keyed_url.empty()) {
    std::string_view base = providers.keyed_url;
    while (base.ends_with('/')) base.remove_suffix(1);
    std::vector<std::string> keyed;  // ids first: an override replaces the entry
    for (const oauth::ProviderEntry* entry : catalog.All()) {
      if (!entry->uses_oauth()) keyed.push_back(entry->id);
    }
    for (const std::string& id : keyed) {
      SB_RETURN_IF_ERROR(catalog.OverrideApiBase(id, std::string(base) + "/" + id)
                             .WithContext("providers.keyed_url"));
    }
  }
  return catalog;
}

Result<std::unique_ptr<ServerApp>> ServerApp::Create(const config::Config& config,
                                                     const Clock& clock, Random& random,
                                                     net::HttpClient* outbound) {
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
  // Cross-tenant refresh scheduling reads only (tenant, connection) ids, through the BYPASSRLS
  // maintenance role when one is configured (RLS-07).
  std::unique_ptr<store::Database> maintenance;
  if (!config.database.maintenance_url.empty() &&
      config.database.maintenance_url != config.database.url) {
    store::DatabaseOptions maint_options = db_options;
    maint_options.url = config.database.maintenance_url;
    maint_options.pool_size = 1;
    SB_ASSIGN_OR_RETURN(maintenance, store::OpenDatabase(maint_options));
  } else if (db->backend() == store::Backend::kPostgres && config.refresh.interval.count() > 0) {
    log::Warn("refresh.no_maintenance_role",
              {{"warning",
                "database.maintenance_url is not set: row-level security hides connections from "
                "the refresh scheduler, so tokens refresh only on demand"}});
  }
  auto parts =
      std::make_unique<Parts>(config, clock, random, *ids, std::move(security), std::move(db),
                              std::move(maintenance), std::move(catalog), outbound);
  parts->ids_owner = std::move(ids);
  SB_RETURN_IF_ERROR(api::RegisterRoutes(
      parts->router,
      api::Handlers{parts->system, parts->tenant_handlers, parts->audit_handlers,
                    parts->integration_handlers, parts->connect_handlers, parts->proxy_handlers,
                    parts->webhook_handlers, parts->admin_handlers, parts->health_handlers,
                    parts->sync_handlers, parts->event_handlers, parts->availability_handlers,
                    parts->push_handlers, parts->session_handlers, parts->auth, parts->concurrency,
                    parts->public_limit, parts->dashboard_handlers, parts->live_handlers}));
  parts->server = std::make_unique<http::Server>(ServerOptionsFrom(config.server), parts->router,
                                                 parts->metrics, clock);
  SB_ASSIGN_OR_RETURN(
      parts->metrics_server,
      MetricsServer(config.metrics, parts->system, parts->metrics_router, parts->metrics, clock));
  return std::unique_ptr<ServerApp>(new ServerApp(std::move(parts)));
}

ServerApp::ServerApp(std::unique_ptr<Parts> parts) : parts_(std::move(parts)) {}

ServerApp::~ServerApp() {
  if (parts_ && parts_->refresh_scheduler) parts_->refresh_scheduler->Stop();
  if (parts_ && parts_->health_scheduler) parts_->health_scheduler->Stop();
  if (parts_) parts_->sync_engine.Stop();
  if (parts_) parts_->calendar_push.Stop();
  if (parts_) parts_->job_runner.Stop();
  if (parts_ && parts_->server) parts_->server->Stop(std::chrono::milliseconds(0));
  if (parts_ && parts_->metrics_server) parts_->metrics_server->Stop(std::chrono::milliseconds(0));
  if (parts_) parts_->switches.Stop();
  if (parts_) parts_->usage.Stop();
}

Result<uint16_t> ServerApp::Start() {
  SB_RETURN_IF_ERROR(parts_->server->Start());
  if (parts_->metrics_server) {
    SB_RETURN_IF_ERROR(parts_->metrics_server->Start().WithContext("metrics.listen"));
  }
  const uint16_t port = parts_->server->port();
  if (parts_->config.server.public_url.empty()) {
    const std::string local =
        "http://" + parts_->config.server.listen_address + ":" + std::to_string(port);
    parts_->connect.SetPublicUrl(local);
    parts_->dashboard_oidc.SetPublicUrl(local);
    // Push needs an address the provider reaches: only the local sandbox reaches this one.
    const auto& providers = parts_->config.providers;
    if (!providers.google_url.empty() || !providers.microsoft_url.empty()) {
      parts_->calendar_push.SetPublicUrl(local);
    }
  }
  SB_RETURN_IF_ERROR(parts_->switches.Reload().WithContext("provider switches"));
  parts_->switches.Start(parts_->config.admin.switch_poll_interval);
  parts_->usage.Start(parts_->config.admin.usage_flush_interval);
  parts_->refresh_scheduler->Start();
  if (parts_->health_scheduler) parts_->health_scheduler->Start();
  parts_->sync_engine.Start();
  parts_->calendar_push.Start();
  parts_->job_runner.Start();
  parts_->started = true;
  return port;
}

void ServerApp::Stop(std::chrono::milliseconds grace) {
  parts_->started = false;
  parts_->refresh_scheduler->Stop();
  if (parts_->health_scheduler) parts_->health_scheduler->Stop();
  parts_->sync_engine.Stop();
  parts_->calendar_push.Stop();
  parts_->job_runner.Stop();
  parts_->server->Stop(grace);
  if (parts_->metrics_server) parts_->metrics_server->Stop(grace);
  parts_->switches.Stop();
  parts_->usage.Stop();
}

uint16_t ServerApp::metrics_port() const {
  return parts_->metrics_server ? parts_->metrics_server->port() : 0;
}

store::Database& ServerApp::database() { return *parts_->db; }
tenancy::TenantService& ServerApp::tenants() { return parts_->tenants; }
tenancy::ApiKeyService& ServerApp::api_keys() { return parts_->keys; }
tenancy::DashboardUserService& ServerApp::dashboard_users() { return parts_->dashboard_users; }
vault::SecretStore& ServerApp::secrets() { return *parts_->security.secrets; }
audit::AuditLog& ServerApp::audit_log() { return *parts_->security.audit; }
connections::ConnectionService& ServerApp::connections() { return parts_->connections; }

Result<int> ServerApp::RunDueRefreshes(std::chrono::milliseconds timeout) {
  connections::RefreshScheduler& scheduler = *parts_->refresh_scheduler;
  const int64_t before = scheduler.handled();
  const int64_t refreshed_before = scheduler.refreshed();
  SB_ASSIGN_OR_RETURN(int queued, scheduler.EnqueueDue());
  if (queued > 0) parts_->job_runner.Wake();
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (scheduler.handled() - before < queued) {
    if (std::chrono::steady_clock::now() >= deadline) {
      return DeadlineExceededError("refresh jobs did not finish in time");
    }
    if (parts_->started) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    } else {
      SB_RETURN_IF_ERROR(parts_->job_runner.RunOnce().status());
    }
  }
  return static_cast<int>(scheduler.refreshed() - refreshed_before);
}

http::Response ServerApp::Dispatch(http::Request& request) {
  return parts_->router.Dispatch(request);
}

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
