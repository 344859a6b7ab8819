// Config: Switchboard's settings, loaded once at start from an optional TOML file and then
// overridden by SWITCHBOARD_* environment variables, and validated as a whole. Every setting has
// a documented default here; docs/operations.md lists them. A key `section.name` is overridden
// by the variable SWITCHBOARD_SECTION_NAME (e.g. database.url <- SWITCHBOARD_DATABASE_URL).
// A bad value fails loading with INVALID_ARGUMENT naming the key and what is wrong.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "sb/base/status.h"

namespace sb::config {

struct ServerConfig {
  std::string listen_address = "127.0.0.1";  // server.listen: "host:port"
  uint16_t port = 8080;
  int io_threads = 2;       // server.io_threads: 1..256
  int worker_threads = 4;   // server.worker_threads: blocking (DB) pool, 1..1024
  int worker_queue = 4096;  // server.worker_queue: queued requests before 503
  // server.upload_threads: threads for routes that read their body as it arrives (the proxy),
  // so that slow uploads never hold a worker thread; 1..1024.
  int upload_threads = 16;
  int upload_queue = 256;  // server.upload_queue: queued uploads before 503; 1..1000000
  // server.max_connections_per_ip: open connections per client address; 0 = no cap.
  int max_connections_per_ip = 256;
  int64_t max_body_bytes = 1 << 20;                  // server.max_body_bytes
  std::chrono::milliseconds read_timeout{30'000};    // server.read_timeout_ms
  std::chrono::milliseconds write_timeout{30'000};   // server.write_timeout_ms
  std::chrono::milliseconds idle_timeout{60'000};    // server.idle_timeout_ms
  std::chrono::milliseconds shutdown_grace{10'000};  // server.shutdown_grace_ms
  // server.public_url: where browsers and providers reach this hub (hosted connect pages, the
  // OAuth redirect URI <public_url>/connect/callback). Empty: http://<listen address>:<port>.
  std::string public_url;
};

struct DatabaseConfig {
  std::string url = "sqlite:var/switchboard.db";  // database.url: sqlite:PATH | postgres://...
  std::string migration_url;  // database.migration_url: owner role for migrations (default: url)
  // database.maintenance_url: the BYPASSRLS maintenance role for audited cross-tenant work
  // (keys rewrap/status, audit verify of every tenant), RLS-07. Default: url (right for SQLite).
  std::string maintenance_url;
  std::string app_role = "sb_app";                   // database.app_role (PostgreSQL)
  int pool_size = 4;                                 // database.pool_size: 1..1000
  std::chrono::milliseconds acquire_timeout{5'000};  // database.acquire_timeout_ms
};

struct LimitsConfig {
  double requests_per_second = 50;  // limits.requests_per_second: per API key, token refill rate
  int burst = 100;                  // limits.burst: bucket size
  // limits.max_concurrent_requests_per_tenant: requests of one tenant in flight at once
  // (including streamed answers until they end); over it 429. 0 = no cap.
  int max_concurrent_requests_per_tenant = 64;
  // limits.max_concurrent_uploads_per_tenant: of those, streamed-body requests (proxy uploads).
  int max_concurrent_uploads_per_tenant = 8;
};

// public.*: the per-client-host token bucket of the unauthenticated routes (connect pages, the
// OAuth callback, later provider push endpoints), charged before any database work.
struct PublicLimitsConfig {
  double requests_per_second = 5;  // public.requests_per_second: refill rate per client host
  int burst = 60;                  // public.burst: bucket size
};

struct VaultConfig {
  // vault.key_file: the master keyring ("<version>:<base64 of 32 bytes>" per line, mode 0600).
  // SWITCHBOARD_MASTER_KEYS (same entries, comma-separated) replaces the file when set.
  std::string key_file = "var/master.key";
  // The keyring itself, from SWITCHBOARD_MASTER_KEYS only (never from the TOML file, never
  // printed). When set, key_file is not used.
  std::optional<std::string> master_keys;
};

struct AuditConfig {
  // audit.key_file: the audit HMAC key and Ed25519 checkpoint signing key (mode 0600), kept
  // outside the database.
  std::string key_file = "var/audit.key";
  int checkpoint_interval = 1000;  // audit.checkpoint_interval: entries per tenant between
                                   // automatic signed checkpoints, 1..1000000
};

// Where the Google and Microsoft endpoints are. Empty: the real services. Development points
// them at switchboard-sandbox; the provider catalog (oauth/) applies these overrides.
struct ProvidersConfig {
  std::string google_url;     // providers.google_url, e.g. http://127.0.0.1:8081
  std::string microsoft_url;  // providers.microsoft_url, e.g. https://127.0.0.1:8443
  // providers.keyed_url: a stand-in for every credential provider (API key, basic, fields):
  // each one's API base becomes <keyed_url>/<provider id>, e.g. http://127.0.0.1:8082
  std::string keyed_url;
  std::string ca_file;      // providers.ca_file: extra CA (PEM) to trust for provider calls
  std::string catalog_dir;  // providers.catalog_dir: JSON files merged over the built-in catalog
};

// Token refresh (connections::RefreshOptions).
struct RefreshConfig {
  std::chrono::seconds margin{300};  // refresh.margin_seconds: refresh this long before expiry
  std::chrono::seconds jitter{120};  // refresh.jitter_seconds: and up to this much earlier
  std::chrono::milliseconds interval{5'000};  // refresh.interval_ms: scheduler pass; 0 = off
  int batch = 200;                          // refresh.batch: refresh jobs queued per pass, 1..1000
  int max_transient_failures = 5;           // refresh.max_transient_failures: then status error
  std::chrono::milliseconds lease{30'000};  // refresh.lease_ms: per-connection refresh lease
};

// The durable job runner (jobs::JobRunnerOptions): token refreshes, health checks, deliveries.
struct JobsConfig {
  int threads = 4;  // jobs.threads: jobs a node runs at once, 1..64
  // jobs.lease_ms: how long a job stays with the node that leased it without a heartbeat; a
  // node that dies is replaced after this long
  std::chrono::milliseconds lease{30'000};
};

// Webhooks to the host app (webhooks::EndpointPolicy).
struct WebhooksConfig {
  bool allow_http = false;             // webhooks.allow_http: plain http endpoint URLs
  bool allow_private_targets = false;  // webhooks.allow_private_targets: loopback, RFC 1918, ...
  std::chrono::seconds rotation_grace{86'400};  // webhooks.rotation_grace_seconds (WH-03)
  // webhooks.disable_after_days: an endpoint failing for this long is disabled (WH-04); 0 = never
  std::chrono::hours disable_after{5 * 24};
  // webhooks.max_concurrency_per_endpoint: a new endpoint's max_concurrency (WH-05), 1..64
  int max_concurrency_per_endpoint = 4;
};

// Operator controls and connection health (connections::ProviderSwitches, usage::Meter,
// connections::ConnectionHealth, connections::HealthScheduler).
struct AdminConfig {
  // admin.switch_poll_ms: how soon a kill switch set on another node applies here.
  std::chrono::milliseconds switch_poll_interval{1'000};
  // admin.usage_flush_ms: how often usage counts go to the database.
  std::chrono::milliseconds usage_flush_interval{10'000};
};

struct HealthConfig {
  std::chrono::seconds check_interval{21'600};  // health.check_interval_seconds: 0 = no checks
  std::chrono::milliseconds scheduler_interval{30'000};  // health.scheduler_interval_ms
  int batch = 100;               // health.batch: checks enqueued per scheduler pass, 1..1000
  int alert_after_failures = 3;  // health.alert_after_failures: transient failures to an alert
};

// The sync engine (sync::SyncOptions).
struct SyncConfig {
  // sync.interval_seconds: a successful run schedules the next this much later (the fallback
  // when push is missing or unhealthy); 0 = no scheduled runs.
  std::chrono::seconds interval{900};
  std::chrono::milliseconds scheduler_interval{30'000};  // sync.scheduler_interval_ms
  int batch = 200;  // sync.batch: runs requested per scheduler pass, 1..1000
  // sync.on_connect: a new connection's granted services get their initial sync at once.
  bool on_connect = true;
  // sync.push_renew_margin_seconds: push channels (Google) and subscriptions (Graph) expiring
  // within this are renewed
  std::chrono::seconds push_renew_margin{6 * 3'600};
  std::chrono::milliseconds push_renew_interval{60'000};  // sync.push_renew_interval_ms
  // sync.push_delay_ms: a push notification's run starts this much later, and the notifications
  // meanwhile join it (a burst of changes makes one run); 0 = at once
  std::chrono::milliseconds push_delay{20};
};

// The authenticated API proxy (proxy::ProxyOptions).
struct ProxyConfig {
  // proxy.max_request_bytes: largest caller body on /v1/proxy/..., read whole before the call
  // (the route's own limit instead of server.max_body_bytes); 1 KiB..4 GiB.
  int64_t max_request_bytes = int64_t{64} << 20;
  // proxy.max_response_bytes: largest provider answer passed on (streamed, so memory stays
  // about 256 KiB per call whatever this is); 1 KiB..64 GiB.
  int64_t max_response_bytes = int64_t{16} << 20;
};

// Who may read /metrics (api::SystemHandlers). Not public by default: on the API listener it
// answers only with `Authorization: Bearer <metrics.token>`; `metrics.listen` serves it on a
// listener of its own (for a private network or loopback), where the token is required too
// when one is set.
struct MetricsConfig {
  std::string listen_address;  // metrics.listen: "host:port"; empty = no metrics listener
  uint16_t port = 0;
  std::string token;  // metrics.token: at least 32 characters; empty = none
  // metrics.tenant_labels: label per-tenant series with the tenant id (off by default: an
  // operator opts in, knowing that whoever scrapes then sees every tenant's id).
  bool tenant_labels = false;
};

// Per-tenant quotas (issue 13): counts answer 422, rates 429, each problem naming its key.
struct QuotasConfig {
  int webhook_endpoints = 50;             // quotas.webhook_endpoints: endpoints per tenant
  int webhook_endpoints_per_host = 10;    // quotas.webhook_endpoints_per_host: same URL host
  int connect_sessions_per_minute = 60;   // quotas.connect_sessions_per_minute: created per tenant
  int64_t connections = 10'000;           // quotas.connections: a tenant's connections
  int webhook_deliveries_in_flight = 16;  // quotas.webhook_deliveries_in_flight: per tenant
};

// Live updates (GET /v1/live, api::LiveOptions): server-sent events of a tenant's sync runs,
// connection health and webhook deliveries. Each open stream keeps about one upload-pool thread
// busy (it waits there between polls): the server opens at most half of server.upload_threads
// (at least one) whatever live.max_streams says.
struct LiveConfig {
  std::chrono::milliseconds poll_interval{1'000};  // live.poll_interval_ms: 10..10000
  int max_streams_per_tenant = 4;                  // live.max_streams_per_tenant: over it 429
  int max_streams = 8;                             // live.max_streams: all tenants; over it 429
  std::chrono::seconds max_lifetime{600};  // live.max_lifetime_seconds: then clients reconnect
};

// The dashboard's built files (a Vite SPA), served under /dashboard by http::StaticFiles.
struct DashboardConfig {
  // dashboard.assets_dir: the directory of the build (index.html, assets/); relative paths are
  // relative to the working directory. Empty: no dashboard (/dashboard answers 404).
  std::string assets_dir;
  // Sign-in with OpenID Connect (connections::DashboardOidc): the deployment's own OAuth app per
  // provider, with the redirect URI <server.public_url>/v1/session/oidc/callback registered at
  // the provider. A provider is offered when its client id and secret are both set.
  std::string google_client_id;         // dashboard.google_client_id
  std::string google_client_secret;     // dashboard.google_client_secret (never printed)
  std::string microsoft_client_id;      // dashboard.microsoft_client_id
  std::string microsoft_client_secret;  // dashboard.microsoft_client_secret (never printed)
  // dashboard.microsoft_tenants: comma-separated directory ids (tid) whose users may sign in;
  // empty: any directory, linking accounts only by addresses the provider verified.
  std::vector<std::string> microsoft_tenants;
};

struct LogConfig {
  std::string level = "info";  // log.level: debug | info | warn | error
};

struct Config {
  std::string mode = "development";  // mode: development | production
  ServerConfig server;
  DatabaseConfig database;
  LimitsConfig limits;
  PublicLimitsConfig public_limits;  // the [public] section
  VaultConfig vault;
  AuditConfig audit;
  ProvidersConfig providers;
  RefreshConfig refresh;
  JobsConfig jobs;
  WebhooksConfig webhooks;
  AdminConfig admin;
  HealthConfig health;
  SyncConfig sync;
  ProxyConfig proxy;
  MetricsConfig metrics;
  QuotasConfig quotas;
  LiveConfig live;
  DashboardConfig dashboard;
  LogConfig log;
};

using Environment = std::map<std::string, std::string>;

// Loads from `toml_text` (empty for none) then applies `env` overrides, then validates.
// `source_name` names the file in error messages.
Result<Config> ParseConfig(const std::string& toml_text, const std::string& source_name,
                           const Environment& env);

// Reads `path` (when given) and calls ParseConfig. A missing file is an error.
Result<Config> LoadConfig(const std::optional<std::string>& path, const Environment& env);

// Every recognised key with its current value, for `switchboard config check` (no secrets:
// passwords inside database URLs are masked).
std::vector<std::pair<std::string, std::string>> Describe(const Config& config);

// Masks the password of a URL ("postgres://u:secret@h/db" -> "postgres://u:***@h/db").
std::string RedactUrl(const std::string& url);

}  // namespace sb::config
