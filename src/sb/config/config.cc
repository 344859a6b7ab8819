#include "sb/config/config.h"

#include <algorithm>
#include <charconv>
#include <fstream>
#include <functional>
#include <sstream>

#include <toml++/toml.h>

#include "sb/base/ids.h"
#include "sb/base/text.h"

namespace sb::config {
namespace {

using Flat = std::map<std::string, std::string>;

// One recognised key: how to apply its text value to the Config.
struct KeySpec {
  const char* key;
  std::function<Status(Config&, const std::string&)> apply;
  std::function<std::string(const Config&)> show;
};

Status Bad(const std::string& key, const std::string& what) {
  return InvalidArgumentError("config key '" + key + "': " + what);
}

Result<int64_t> ParseInt(const std::string& key, const std::string& text, int64_t lo, int64_t hi) {
  int64_t v = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || ptr != text.data() + text.size()) {
    return Bad(key, "expected an integer, got '" + text + "'");
  }
  if (v < lo || v > hi) {
    return Bad(key, "must be between " + std::to_string(lo) + " and " + std::to_string(hi) +
                        ", got " + text);
  }
  return v;
}

Result<double> ParseDouble(const std::string& key, const std::string& text, double lo, double hi) {
  double v = 0;
  std::istringstream in(text);
  in >> v;
  if (in.fail() || !in.eof()) return Bad(key, "expected a number, got '" + text + "'");
  if (v < lo || v > hi) {
    return Bad(key, "must be between " + std::to_string(lo) + " and " + std::to_string(hi) +
                        ", got " + text);
  }
  return v;
}

template <typename T>
std::function<Status(Config&, const std::string&)> IntField(const char* key, T Config::*sect,
                                                            int64_t lo, int64_t hi, auto setter) {
  return [=](Config& c, const std::string& text) -> Status {
    SB_ASSIGN_OR_RETURN(int64_t v, ParseInt(key, text, lo, hi));
    setter(c.*sect, v);
    return OkStatus();
  };
}

Status ApplyListen(Config& c, const std::string& text) {
  auto colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0) {
    return Bad("server.listen", "expected host:port, got '" + text + "'");
  }
  SB_ASSIGN_OR_RETURN(int64_t port, ParseInt("server.listen", text.substr(colon + 1), 0, 65535));
  c.server.listen_address = text.substr(0, colon);
  c.server.port = static_cast<uint16_t>(port);
  return OkStatus();
}

Status ApplyMetricsListen(Config& c, const std::string& text) {
  if (text.empty()) {
    c.metrics.listen_address.clear();
    c.metrics.port = 0;
    return OkStatus();
  }
  const auto colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0) {
    return Bad("metrics.listen", "expected host:port or empty, got '" + text + "'");
  }
  SB_ASSIGN_OR_RETURN(int64_t port, ParseInt("metrics.listen", text.substr(colon + 1), 0, 65535));
  c.metrics.listen_address = text.substr(0, colon);
  c.metrics.port = static_cast<uint16_t>(port);
  return OkStatus();
}

std::string SetOrNot(const std::string& secret) { return secret.empty() ? "(not set)" : "(set)"; }

// An OAuth client id or secret: printable ASCII without spaces, at most 512 bytes.
std::function<Status(Config&, const std::string&)> OidcText(const char* key,
                                                            std::string DashboardConfig::*field) {
  return [=](Config& c, const std::string& text) -> Status {
    if (text.size() > 512) return Bad(key, "must be at most 512 bytes");
    for (const char ch : text) {
      if (ch <= ' ' || ch > '~') return Bad(key, "must be printable ASCII without spaces");
    }
    c.dashboard.*field = text;
    return OkStatus();
  };
}

Status ApplyMicrosoftTenants(Config& c, const std::string& text) {
  c.dashboard.microsoft_tenants.clear();
  if (text.empty()) return OkStatus();
  for (std::string_view id : Split(text, ',')) {
    while (!id.empty() && id.front() == ' ') id.remove_prefix(1);
    while (!id.empty() && id.back() == ' ') id.remove_suffix(1);
    // Tokens carry `tid` as a lower-case GUID; anything else could never match one.
    if (!IsCanonicalUuid(id)) {
      return Bad("dashboard.microsoft_tenants",
                 "expected directory ids (lower-case GUIDs), comma-separated");
    }
    c.dashboard.microsoft_tenants.emplace_back(id);
  }
  return OkStatus();
}

Status ApplyMetricsToken(Config& c, const std::string& text) {
  constexpr size_t kMinLength = 32;
  if (!text.empty() && text.size() < kMinLength) {
    return Bad("metrics.token", "must be empty or at least 32 characters long");
  }
  for (const char ch : text) {
    if (ch <= ' ' || ch > '~')
      return Bad("metrics.token", "must be printable ASCII without spaces");
  }
  c.metrics.token = text;
  return OkStatus();
}

Status ApplyDatabaseUrl(std::string& field, const char* key, const std::string& text) {
  if (text.rfind("sqlite:", 0) == 0 && text.size() > 7) {
    field = text;
    return OkStatus();
  }
  if (text.rfind("postgres://", 0) == 0 || text.rfind("postgresql://", 0) == 0) {
    field = text;
    return OkStatus();
  }
  return Bad(key, "expected sqlite:PATH or postgres://..., got '" + RedactUrl(text) + "'");
}

std::string Ms(std::chrono::milliseconds d) { return std::to_string(d.count()); }

// The table of every key: long by nature, one entry per setting.
const std::vector<KeySpec>& Keys() {  // NOLINT(readability-function-size)
  using std::chrono::milliseconds;
  static const std::vector<KeySpec> keys = {
      {"mode",
       [](Config& c, const std::string& v) -> Status {
         if (v != "development" && v != "production") {
           return Bad("mode", "expected development or production, got '" + v + "'");
         }
         c.mode = v;
         return OkStatus();
       },
       [](const Config& c) { return c.mode; }},
      {"server.listen", ApplyListen,
       [](const Config& c) {
         return c.server.listen_address + ":" + std::to_string(c.server.port);
       }},
      {"server.io_threads",
       IntField("server.io_threads", &Config::server, 1, 256,
                [](ServerConfig& s, int64_t v) { s.io_threads = int(v); }),
       [](const Config& c) { return std::to_string(c.server.io_threads); }},
      {"server.worker_threads",
       IntField("server.worker_threads", &Config::server, 1, 1024,
                [](ServerConfig& s, int64_t v) { s.worker_threads = int(v); }),
       [](const Config& c) { return std::to_string(c.server.worker_threads); }},
      {"server.worker_queue",
       IntField("server.worker_queue", &Config::server, 1, 1'000'000,
                [](ServerConfig& s, int64_t v) { s.worker_queue = int(v); }),
       [](const Config& c) { return std::to_string(c.server.worker_queue); }},
      {"server.upload_threads",
       IntField("server.upload_threads", &Config::server, 1, 1024,
                [](ServerConfig& s, int64_t v) { s.upload_threads = int(v); }),
       [](const Config& c) { return std::to_string(c.server.upload_threads); }},
      {"server.upload_queue",
       IntField("server.upload_queue", &Config::server, 1, 1'000'000,
                [](ServerConfig& s, int64_t v) { s.upload_queue = int(v); }),
       [](const Config& c) { return std::to_string(c.server.upload_queue); }},
      {"server.max_connections_per_ip",
       IntField("server.max_connections_per_ip", &Config::server, 0, 1'000'000,
                [](ServerConfig& s, int64_t v) { s.max_connections_per_ip = int(v); }),
       [](const Config& c) { return std::to_string(c.server.max_connections_per_ip); }},
      {"server.max_body_bytes",
       IntField("server.max_body_bytes", &Config::server, 1024, int64_t{1} << 32,
                [](ServerConfig& s, int64_t v) { s.max_body_bytes = v; }),
       [](const Config& c) { return std::to_string(c.server.max_body_bytes); }},
      {"server.read_timeout_ms",
       IntField("server.read_timeout_ms", &Config::server, 10, 3'600'000,
                [](ServerConfig& s, int64_t v) { s.read_timeout = milliseconds(v); }),
       [](const Config& c) { return Ms(c.server.read_timeout); }},
      {"server.write_timeout_ms",
       IntField("server.write_timeout_ms", &Config::server, 10, 3'600'000,
                [](ServerConfig& s, int64_t v) { s.write_timeout = milliseconds(v); }),
       [](const Config& c) { return Ms(c.server.write_timeout); }},
      {"server.idle_timeout_ms",
       IntField("server.idle_timeout_ms", &Config::server, 10, 3'600'000,
                [](ServerConfig& s, int64_t v) { s.idle_timeout = milliseconds(v); }),
       [](const Config& c) { return Ms(c.server.idle_timeout); }},
      {"server.shutdown_grace_ms",
       IntField("server.shutdown_grace_ms", &Config::server, 0, 600'000,
                [](ServerConfig& s, int64_t v) { s.shutdown_grace = milliseconds(v); }),
       [](const Config& c) { return Ms(c.server.shutdown_grace); }},
      {"database.url",
       [](Config& c, const std::string& v) {
         return ApplyDatabaseUrl(c.database.url, "database.url", v);
       },
       [](const Config& c) { return RedactUrl(c.database.url); }},
      {"database.migration_url",
       [](Config& c, const std::string& v) {
         return ApplyDatabaseUrl(c.database.migration_url, "database.migration_url", v);
       },
       [](const Config& c) { return RedactUrl(c.database.migration_url); }},
      {"database.maintenance_url",
       [](Config& c, const std::string& v) {
         return ApplyDatabaseUrl(c.database.maintenance_url, "database.maintenance_url", v);
       },
       [](const Config& c) { return RedactUrl(c.database.maintenance_url); }},
      {"database.app_role",
       [](Config& c, const std::string& v) -> Status {
         bool ok = !v.empty() && v.size() <= 63;
         for (char ch : v)
           ok = ok && ((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_');
         if (!ok) return Bad("database.app_role", "expected a lowercase SQL identifier");
         c.database.app_role = v;
         return OkStatus();
       },
       [](const Config& c) { return c.database.app_role; }},
      {"database.pool_size",
       IntField("database.pool_size", &Config::database, 1, 1000,
                [](DatabaseConfig& d, int64_t v) { d.pool_size = int(v); }),
       [](const Config& c) { return std::to_string(c.database.pool_size); }},
      {"database.acquire_timeout_ms",
       IntField("database.acquire_timeout_ms", &Config::database, 1, 600'000,
                [](DatabaseConfig& d, int64_t v) { d.acquire_timeout = milliseconds(v); }),
       [](const Config& c) { return Ms(c.database.acquire_timeout); }},
      {"limits.requests_per_second",
       [](Config& c, const std::string& v) -> Status {
         SB_ASSIGN_OR_RETURN(c.limits.requests_per_second,
                             ParseDouble("limits.requests_per_second", v, 0.001, 1e9));
         return OkStatus();
       },
       [](const Config& c) { return std::to_string(c.limits.requests_per_second); }},
      {"limits.burst",
       IntField("limits.burst", &Config::limits, 1, 1'000'000'000,
                [](LimitsConfig& l, int64_t v) { l.burst = int(v); }),
       [](const Config& c) { return std::to_string(c.limits.burst); }},
      {"limits.max_concurrent_requests_per_tenant",
       IntField("limits.max_concurrent_requests_per_tenant", &Config::limits, 0, 1'000'000,
                [](LimitsConfig& l, int64_t v) { l.max_concurrent_requests_per_tenant = int(v); }),
       [](const Config& c) { return std::to_string(c.limits.max_concurrent_requests_per_tenant); }},
      {"limits.max_concurrent_uploads_per_tenant",
       IntField("limits.max_concurrent_uploads_per_tenant", &Config::limits, 0, 1'000'000,
                [](LimitsConfig& l, int64_t v) { l.max_concurrent_uploads_per_tenant = int(v); }),
       [](const Config& c) { return std::to_string(c.limits.max_concurrent_uploads_per_tenant); }},
      {"public.requests_per_second",
       [](Config& c, const std::string& v) -> Status {
         SB_ASSIGN_OR_RETURN(c.public_limits.requests_per_second,
                             ParseDouble("public.requests_per_second", v, 0.001, 1e9));
         return OkStatus();
       },
       [](const Config& c) { return std::to_string(c.public_limits.requests_per_second); }},
      {"public.burst",
       IntField("public.burst", &Config::public_limits, 1, 1'000'000'000,
                [](PublicLimitsConfig& l, int64_t v) { l.burst = int(v); }),
       [](const Config& c) { return std::to_string(c.public_limits.burst); }},
      {"vault.key_file",
       [](Config& c, const std::string& v) -> Status {
         if (v.empty()) return Bad("vault.key_file", "expected a file path");
         c.vault.key_file = v;
         return OkStatus();
       },
       [](const Config& c) { return c.vault.key_file; }},
      {"audit.key_file",
       [](Config& c, const std::string& v) -> Status {
         if (v.empty()) return Bad("audit.key_file", "expected a file path");
         c.audit.key_file = v;
         return OkStatus();
       },
       [](const Config& c) { return c.audit.key_file; }},
      {"providers.google_url",
       [](Config& c, const std::string& v) -> Status {
         if (!v.empty() && !v.starts_with("http://") && !v.starts_with("https://")) {
           return Bad("providers.google_url", "expected an http(s) URL");
         }
         c.providers.google_url = v;
         return OkStatus();
       },
       [](const Config& c) { return c.providers.google_url; }},
      {"providers.microsoft_url",
       [](Config& c, const std::string& v) -> Status {
         if (!v.empty() && !v.starts_with("https://")) {
           return Bad("providers.microsoft_url", "expected an https URL");
         }
         c.providers.microsoft_url = v;
         return OkStatus();
       },
       [](const Config& c) { return c.providers.microsoft_url; }},
      {"providers.keyed_url",
       [](Config& c, const std::string& v) -> Status {
         if (!v.empty() && !v.starts_with("http://") && !v.starts_with("https://")) {
           return Bad("providers.keyed_url", "expected an http(s) URL");
         }
         c.providers.keyed_url = v;
         return OkStatus();
       },
       [](const Config& c) { return c.providers.keyed_url; }},
      {"providers.catalog_dir",
       [](Config& c, const std::string& v) -> Status {
         c.providers.catalog_dir = v;
         return OkStatus();
       },
       [](const Config& c) { return c.providers.catalog_dir; }},
      {"dashboard.assets_dir",
       [](Config& c, const std::string& v) -> Status {
         c.dashboard.assets_dir = v;
         return OkStatus();
       },
       [](const Config& c) { return c.dashboard.assets_dir; }},
      {"dashboard.google_client_id", OidcText("dashboard.google_client_id",
                                              &DashboardConfig::google_client_id),
       [](const Config& c) { return c.dashboard.google_client_id; }},
      {"dashboard.google_client_secret", OidcText("dashboard.google_client_secret",
                                                  &DashboardConfig::google_client_secret),
       [](const Config& c) { return SetOrNot(c.dashboard.google_client_secret); }},
      {"dashboard.microsoft_client_id", OidcText("dashboard.microsoft_client_id",
                                                 &DashboardConfig::microsoft_client_id),
       [](const Config& c) { return c.dashboard.microsoft_client_id; }},
      {"dashboard.microsoft_client_secret", OidcText("dashboard.microsoft_client_secret",
                                                     &DashboardConfig::microsoft_client_secret),
       [](const Config& c) { return SetOrNot(c.dashboard.microsoft_client_secret); }},
      {"dashboard.microsoft_tenants", ApplyMicrosoftTenants,
       [](const Config& c) {
         std::string out;
         for (const auto& t : c.dashboard.microsoft_tenants) out += (out.empty() ? "" : ",") + t;
         return out;
       }},
      {"providers.ca_file",
       [](Config& c, const std::string& v) -> Status {
         c.providers.ca_file = v;
         return OkStatus();
       },
       [](const Config& c) { return c.providers.ca_file; }},
      {"server.public_url",
       [](Config& c, const std::string& v) -> Status {
         const bool scheme = v.starts_with("http://") || v.starts_with("https://");
         if (!v.empty() && (!scheme || v.ends_with("/") || v.find_first_of("?# ") != v.npos)) {
           return Bad("server.public_url",
                      "expected an http(s) origin or base URL without a trailing slash");
         }
         c.server.public_url = v;
         return OkStatus();
       },
       [](const Config& c) { return c.server.public_url; }},
      {"refresh.margin_seconds",
       IntField("refresh.margin_seconds", &Config::refresh, 0, 86'400,
                [](RefreshConfig& r, int64_t v) { r.margin = std::chrono::seconds(v); }),
       [](const Config& c) { return std::to_string(c.refresh.margin.count()); }},
      {"refresh.jitter_seconds",
       IntField("refresh.jitter_seconds", &Config::refresh, 0, 86'400,
                [](RefreshConfig& r, int64_t v) { r.jitter = std::chrono::seconds(v); }),
       [](const Config& c) { return std::to_string(c.refresh.jitter.count()); }},
      {"refresh.interval_ms",
       IntField("refresh.interval_ms", &Config::refresh, 0, 3'600'000,
                [](RefreshConfig& r, int64_t v) { r.interval = milliseconds(v); }),
       [](const Config& c) { return Ms(c.refresh.interval); }},
      {"admin.switch_poll_ms",
       IntField("admin.switch_poll_ms", &Config::admin, 50, 600'000,
                [](AdminConfig& a, int64_t v) { a.switch_poll_interval = milliseconds(v); }),
       [](const Config& c) { return Ms(c.admin.switch_poll_interval); }},
      {"admin.usage_flush_ms",
       IntField("admin.usage_flush_ms", &Config::admin, 100, 3'600'000,
                [](AdminConfig& a, int64_t v) { a.usage_flush_interval = milliseconds(v); }),
       [](const Config& c) { return Ms(c.admin.usage_flush_interval); }},
      {"health.check_interval_seconds",
       IntField("health.check_interval_seconds", &Config::health, 0, 30 * 86'400,
                [](HealthConfig& h, int64_t v) { h.check_interval = std::chrono::seconds(v); }),
       [](const Config& c) { return std::to_string(c.health.check_interval.count()); }},
      {"live.poll_interval_ms",
       IntField("live.poll_interval_ms", &Config::live, 10, 10'000,
                [](LiveConfig& l, int64_t v) { l.poll_interval = milliseconds(v); }),
       [](const Config& c) { return Ms(c.live.poll_interval); }},
      {"live.max_streams_per_tenant",
       IntField("live.max_streams_per_tenant", &Config::live, 1, 1000,
                [](LiveConfig& l, int64_t v) { l.max_streams_per_tenant = int(v); }),
       [](const Config& c) { return std::to_string(c.live.max_streams_per_tenant); }},
      {"live.max_streams",
       IntField("live.max_streams", &Config::live, 1, 1000,
                [](LiveConfig& l, int64_t v) { l.max_streams = int(v); }),
       [](const Config& c) { return std::to_string(c.live.max_streams); }},
      {"live.max_lifetime_seconds",
       IntField("live.max_lifetime_seconds", &Config::live, 10, 86'400,
                [](LiveConfig& l, int64_t v) { l.max_lifetime = std::chrono::seconds(v); }),
       [](const Config& c) { return std::to_string(c.live.max_lifetime.count()); }},
      {"health.scheduler_interval_ms",
       IntField("health.scheduler_interval_ms", &Config::health, 10, 3'600'000,
                [](HealthConfig& h, int64_t v) { h.scheduler_interval = milliseconds(v); }),
       [](const Config& c) { return Ms(c.health.scheduler_interval); }},
      {"health.batch",
       IntField("health.batch", &Config::health, 1, 1000,
                [](HealthConfig& h, int64_t v) { h.batch = int(v); }),
       [](const Config& c) { return std::to_string(c.health.batch); }},
      {"health.alert_after_failures",
       IntField("health.alert_after_failures", &Config::health, 1, 100,
                [](HealthConfig& h, int64_t v) { h.alert_after_failures = int(v); }),
       [](const Config& c) { return std::to_string(c.health.alert_after_failures); }},
      {"sync.interval_seconds",
       IntField("sync.interval_seconds", &Config::sync, 0, 7 * 86'400,
                [](SyncConfig& y, int64_t v) { y.interval = std::chrono::seconds(v); }),
       [](const Config& c) { return std::to_string(c.sync.interval.count()); }},
      {"sync.scheduler_interval_ms",
       IntField("sync.scheduler_interval_ms", &Config::sync, 10, 3'600'000,
                [](SyncConfig& y, int64_t v) { y.scheduler_interval = milliseconds(v); }),
       [](const Config& c) { return Ms(c.sync.scheduler_interval); }},
      {"sync.push_delay_ms",
       IntField("sync.push_delay_ms", &Config::sync, 0, 60'000,
                [](SyncConfig& y, int64_t v) { y.push_delay = milliseconds(v); }),
       [](const Config& c) { return Ms(c.sync.push_delay); }},
      {"sync.push_renew_margin_seconds",
       IntField("sync.push_renew_margin_seconds", &Config::sync, 60, 86'400,
                [](SyncConfig& y, int64_t v) { y.push_renew_margin = std::chrono::seconds(v); }),
       [](const Config& c) { return std::to_string(c.sync.push_renew_margin.count()); }},
      {"sync.push_renew_interval_ms",
       IntField("sync.push_renew_interval_ms", &Config::sync, 10, 3'600'000,
                [](SyncConfig& y, int64_t v) { y.push_renew_interval = milliseconds(v); }),
       [](const Config& c) { return Ms(c.sync.push_renew_interval); }},
      {"sync.batch",
       IntField("sync.batch", &Config::sync, 1, 1000,
                [](SyncConfig& y, int64_t v) { y.batch = int(v); }),
       [](const Config& c) { return std::to_string(c.sync.batch); }},
      {"refresh.batch",
       IntField("refresh.batch", &Config::refresh, 1, 1000,
                [](RefreshConfig& r, int64_t v) { r.batch = int(v); }),
       [](const Config& c) { return std::to_string(c.refresh.batch); }},
      {"jobs.threads",
       IntField("jobs.threads", &Config::jobs, 1, 64,
                [](JobsConfig& j, int64_t v) { j.threads = int(v); }),
       [](const Config& c) { return std::to_string(c.jobs.threads); }},
      {"jobs.lease_ms",
       IntField("jobs.lease_ms", &Config::jobs, 1000, 600'000,
                [](JobsConfig& j, int64_t v) { j.lease = milliseconds(v); }),
       [](const Config& c) { return Ms(c.jobs.lease); }},
      {"refresh.max_transient_failures",
       IntField("refresh.max_transient_failures", &Config::refresh, 1, 100,
                [](RefreshConfig& r, int64_t v) { r.max_transient_failures = int(v); }),
       [](const Config& c) { return std::to_string(c.refresh.max_transient_failures); }},
      {"refresh.lease_ms",
       IntField("refresh.lease_ms", &Config::refresh, 1000, 600'000,
                [](RefreshConfig& r, int64_t v) { r.lease = milliseconds(v); }),
       [](const Config& c) { return Ms(c.refresh.lease); }},
      {"sync.on_connect",
       [](Config& c, const std::string& v) -> Status {
         if (v != "true" && v != "false") return Bad("sync.on_connect", "expected true or false");
         c.sync.on_connect = v == "true";
         return OkStatus();
       },
       [](const Config& c) { return std::string(c.sync.on_connect ? "true" : "false"); }},
      {"webhooks.allow_http",
       [](Config& c, const std::string& v) -> Status {
         if (v != "true" && v != "false")
           return Bad("webhooks.allow_http", "expected true or false");
         c.webhooks.allow_http = v == "true";
         return OkStatus();
       },
       [](const Config& c) { return std::string(c.webhooks.allow_http ? "true" : "false"); }},
      {"webhooks.allow_private_targets",
       [](Config& c, const std::string& v) -> Status {
         if (v != "true" && v != "false") {
           return Bad("webhooks.allow_private_targets", "expected true or false");
         }
         c.webhooks.allow_private_targets = v == "true";
         return OkStatus();
       },
       [](const Config& c) {
         return std::string(c.webhooks.allow_private_targets ? "true" : "false");
       }},
      {"webhooks.rotation_grace_seconds",
       IntField("webhooks.rotation_grace_seconds", &Config::webhooks, 0, 30 * 86'400,
                [](WebhooksConfig& w, int64_t v) { w.rotation_grace = std::chrono::seconds(v); }),
       [](const Config& c) { return std::to_string(c.webhooks.rotation_grace.count()); }},
      {"proxy.max_request_bytes",
       IntField("proxy.max_request_bytes", &Config::proxy, 1024, int64_t{1} << 32,
                [](ProxyConfig& p, int64_t v) { p.max_request_bytes = v; }),
       [](const Config& c) { return std::to_string(c.proxy.max_request_bytes); }},
      {"proxy.max_response_bytes",
       IntField("proxy.max_response_bytes", &Config::proxy, 1024, int64_t{1} << 36,
                [](ProxyConfig& p, int64_t v) { p.max_response_bytes = v; }),
       [](const Config& c) { return std::to_string(c.proxy.max_response_bytes); }},
      {"quotas.webhook_endpoints",
       IntField("quotas.webhook_endpoints", &Config::quotas, 1, 10'000,
                [](QuotasConfig& q, int64_t v) { q.webhook_endpoints = int(v); }),
       [](const Config& c) { return std::to_string(c.quotas.webhook_endpoints); }},
      {"quotas.webhook_endpoints_per_host",
       IntField("quotas.webhook_endpoints_per_host", &Config::quotas, 1, 10'000,
                [](QuotasConfig& q, int64_t v) { q.webhook_endpoints_per_host = int(v); }),
       [](const Config& c) { return std::to_string(c.quotas.webhook_endpoints_per_host); }},
      {"quotas.connect_sessions_per_minute",
       IntField("quotas.connect_sessions_per_minute", &Config::quotas, 1, 100'000,
                [](QuotasConfig& q, int64_t v) { q.connect_sessions_per_minute = int(v); }),
       [](const Config& c) { return std::to_string(c.quotas.connect_sessions_per_minute); }},
      {"quotas.connections",
       IntField("quotas.connections", &Config::quotas, 1, 100'000'000,
                [](QuotasConfig& q, int64_t v) { q.connections = v; }),
       [](const Config& c) { return std::to_string(c.quotas.connections); }},
      {"quotas.webhook_deliveries_in_flight",
       IntField("quotas.webhook_deliveries_in_flight", &Config::quotas, 1, 1000,
                [](QuotasConfig& q, int64_t v) { q.webhook_deliveries_in_flight = int(v); }),
       [](const Config& c) { return std::to_string(c.quotas.webhook_deliveries_in_flight); }},
      {"webhooks.disable_after_days",
       IntField("webhooks.disable_after_days", &Config::webhooks, 0, 365,
                [](WebhooksConfig& w, int64_t v) { w.disable_after = std::chrono::hours(24 * v); }),
       [](const Config& c) { return std::to_string(c.webhooks.disable_after.count() / 24); }},
      {"webhooks.max_concurrency_per_endpoint",
       IntField("webhooks.max_concurrency_per_endpoint", &Config::webhooks, 1, 64,
                [](WebhooksConfig& w, int64_t v) { w.max_concurrency_per_endpoint = int(v); }),
       [](const Config& c) { return std::to_string(c.webhooks.max_concurrency_per_endpoint); }},
      {"audit.checkpoint_interval",
       IntField("audit.checkpoint_interval", &Config::audit, 1, 1'000'000,
                [](AuditConfig& a, int64_t v) { a.checkpoint_interval = int(v); }),
       [](const Config& c) { return std::to_string(c.audit.checkpoint_interval); }},
      {"metrics.listen", ApplyMetricsListen,
       [](const Config& c) {
         return c.metrics.listen_address.empty()
                    ? std::string()
                    : c.metrics.listen_address + ":" + std::to_string(c.metrics.port);
       }},
      {"metrics.token", ApplyMetricsToken,
       [](const Config& c) { return std::string(c.metrics.token.empty() ? "(not set)" : "(set)"); }},
      {"metrics.tenant_labels",
       [](Config& c, const std::string& v) -> Status {
         if (v != "true" && v != "false") return Bad("metrics.tenant_labels", "expected true or false");
         c.metrics.tenant_labels = v == "true";
         return OkStatus();
       },
       [](const Config& c) { return std::string(c.metrics.tenant_labels ? "true" : "false"); }},
      {"log.level",
       [](Config& c, const std::string& v) -> Status {
         if (v != "debug" && v != "info" && v != "warn" && v != "error") {
           return Bad("log.level", "expected debug, info, warn or error, got '" + v + "'");
         }
         c.log.level = v;
         return OkStatus();
       },
       [](const Config& c) { return c.log.level; }},
  };
  return keys;
}

// Flattens a TOML table into "section.key" -> text; rejects nested tables deeper than one level
// and non-scalar values.
Status Flatten(const toml::table& table, const std::string& prefix, Flat& out) {
  for (const auto& [k, node] : table) {
    std::string key = prefix.empty() ? std::string(k.str()) : prefix + "." + std::string(k.str());
    if (const auto* sub = node.as_table()) {
      if (!prefix.empty()) return Bad(key, "nested tables are not supported");
      SB_RETURN_IF_ERROR(Flatten(*sub, key, out));
    } else if (const auto* s = node.as_string()) {
      out[key] = s->get();
    } else if (const auto* i = node.as_integer()) {
      out[key] = std::to_string(i->get());
    } else if (const auto* f = node.as_floating_point()) {
      std::ostringstream os;
      os << f->get();
      out[key] = os.str();
    } else if (const auto* b = node.as_boolean()) {
      out[key] = b->get() ? "true" : "false";
    } else {
      return Bad(key, "expected a string, number or boolean");
    }
  }
  return OkStatus();
}

std::string EnvName(const std::string& key) {
  std::string env = "SWITCHBOARD_";
  for (char c : key) env += (c == '.') ? '_' : static_cast<char>(std::toupper(c));
  return env;
}

Status ValidateWhole(const Config& c) {
  if (c.mode == "production" && c.database.url.rfind("sqlite:", 0) == 0) {
    // Allowed: a single-node production deployment on SQLite is a supported setup.
  }
  if (c.limits.burst < 1) return Bad("limits.burst", "must be at least 1");
  if (c.dashboard.google_client_id.empty() != c.dashboard.google_client_secret.empty()) {
    return Bad("dashboard.google_client_id", "needs dashboard.google_client_secret, and back");
  }
  if (c.dashboard.microsoft_client_id.empty() != c.dashboard.microsoft_client_secret.empty()) {
    return Bad("dashboard.microsoft_client_id",
               "needs dashboard.microsoft_client_secret, and back");
  }
  return OkStatus();
}

}  // namespace

Result<Config> ParseConfig(const std::string& toml_text, const std::string& source_name,
                           const Environment& env) {
  Flat flat;
  if (!toml_text.empty()) {
    // Debian's toml++ is built with exceptions; they stay inside this function.
    toml::table parsed;
    try {
      parsed = toml::parse(toml_text, source_name);
    } catch (const toml::parse_error& err) {
      return InvalidArgumentError(source_name + ":" + std::to_string(err.source().begin.line) +
                                  ": invalid TOML: " + std::string(err.description()));
    }
    SB_RETURN_IF_ERROR(Flatten(parsed, "", flat));
  }
  Config config;
  std::map<std::string, const KeySpec*> known;
  for (const KeySpec& spec : Keys()) known[spec.key] = &spec;
  for (const auto& [key, value] : flat) {
    if (!known.count(key)) return Bad(key, "unknown key in " + source_name);
  }
  for (const KeySpec& spec : Keys()) {
    auto env_it = env.find(EnvName(spec.key));
    if (env_it != env.end()) {
      SB_RETURN_IF_ERROR(spec.apply(config, env_it->second).WithContext(EnvName(spec.key)));
    } else if (auto it = flat.find(spec.key); it != flat.end()) {
      SB_RETURN_IF_ERROR(spec.apply(config, it->second));
    }
  }
  if (config.database.migration_url.empty()) config.database.migration_url = config.database.url;
  if (auto keys = env.find("SWITCHBOARD_MASTER_KEYS"); keys != env.end()) {
    config.vault.master_keys = keys->second;
  }
  if (config.database.maintenance_url.empty()) {
    config.database.maintenance_url = config.database.url;
  }
  SB_RETURN_IF_ERROR(ValidateWhole(config));
  return config;
}

Result<Config> LoadConfig(const std::optional<std::string>& path, const Environment& env) {
  std::string text;
  std::string source = "(defaults)";
  if (path) {
    std::ifstream in(*path);
    if (!in) return InvalidArgumentError("config file '" + *path + "' cannot be read");
    std::stringstream buffer;
    buffer << in.rdbuf();
    text = buffer.str();
    source = *path;
  }
  return ParseConfig(text, source, env);
}

std::vector<std::pair<std::string, std::string>> Describe(const Config& config) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const KeySpec& spec : Keys()) out.emplace_back(spec.key, spec.show(config));
  out.emplace_back("SWITCHBOARD_MASTER_KEYS",
                   config.vault.master_keys ? "(set; replaces vault.key_file)" : "(not set)");
  return out;
}

std::string RedactUrl(const std::string& url) {
  auto scheme = url.find("://");
  if (scheme == std::string::npos) return url;
  auto at = url.find('@', scheme + 3);
  if (at == std::string::npos) return url;
  auto colon = url.find(':', scheme + 3);
  if (colon == std::string::npos || colon > at) return url;
  return url.substr(0, colon + 1) + "***" + url.substr(at);
}

}  // namespace sb::config
