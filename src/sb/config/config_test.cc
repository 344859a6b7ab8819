#include "sb/config/config.h"

#include <gtest/gtest.h>

namespace sb::config {
namespace {

TEST(Config, DefaultsAreValid) {
  auto c = ParseConfig("", "(defaults)", {});
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->server.port, 8080);
  EXPECT_EQ(c->database.migration_url, c->database.url);
}

TEST(Config, TomlThenEnvironmentOverrides) {
  const char* toml = R"(
mode = "production"
[server]
listen = "0.0.0.0:9000"
io_threads = 4
[database]
url = "postgres://app:pw@db/sb"
[limits]
requests_per_second = 12.5
)";
  auto c =
      ParseConfig(toml, "sb.toml",
                  {{"SWITCHBOARD_SERVER_IO_THREADS", "3"}, {"SWITCHBOARD_LOG_LEVEL", "debug"}});
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->mode, "production");
  EXPECT_EQ(c->server.listen_address, "0.0.0.0");
  EXPECT_EQ(c->server.port, 9000);
  EXPECT_EQ(c->server.io_threads, 3);
  EXPECT_EQ(c->log.level, "debug");
  EXPECT_DOUBLE_EQ(c->limits.requests_per_second, 12.5);
  EXPECT_EQ(c->database.url, "postgres://app:pw@db/sb");
}

TEST(Config, ProviderEndpointsPointAtTheSandbox) {
  auto c = ParseConfig(
      "[providers]\ngoogle_url = \"http://127.0.0.1:8081\"\nmicrosoft_url = "
      "\"https://127.0.0.1:8443\"\nkeyed_url = \"http://127.0.0.1:8082\"\nca_file = "
      "\"var/sandbox/ca.pem\"\n",
      "sb.toml", {});
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->providers.google_url, "http://127.0.0.1:8081");
  EXPECT_EQ(c->providers.microsoft_url, "https://127.0.0.1:8443");
  EXPECT_EQ(c->providers.keyed_url, "http://127.0.0.1:8082");
  EXPECT_EQ(c->providers.ca_file, "var/sandbox/ca.pem");
  auto ftp = ParseConfig("", "x", {{"SWITCHBOARD_PROVIDERS_KEYED_URL", "ftp://h"}});
  ASSERT_FALSE(ftp.ok());
  EXPECT_NE(ftp.status().message().find("providers.keyed_url"), std::string::npos);
  // The Graph client needs HTTPS: a plain-http Microsoft endpoint is refused.
  auto plain = ParseConfig("", "x", {{"SWITCHBOARD_PROVIDERS_MICROSOFT_URL", "http://h"}});
  ASSERT_FALSE(plain.ok());
  EXPECT_NE(plain.status().message().find("providers.microsoft_url"), std::string::npos);
}

TEST(Config, WebhookHealthAndConcurrencyKeys) {
  auto defaults = ParseConfig("", "x", {});
  ASSERT_TRUE(defaults.ok());
  EXPECT_EQ(defaults->webhooks.disable_after, std::chrono::hours(120));
  EXPECT_EQ(defaults->webhooks.max_concurrency_per_endpoint, 4);
  auto c = ParseConfig("[webhooks]\ndisable_after_days = 0\n", "sb.toml",
                       {{"SWITCHBOARD_WEBHOOKS_MAX_CONCURRENCY_PER_ENDPOINT", "16"}});
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->webhooks.disable_after, std::chrono::hours(0));
  EXPECT_EQ(c->webhooks.max_concurrency_per_endpoint, 16);
  auto bad = ParseConfig("[webhooks]\nmax_concurrency_per_endpoint = 65\n", "sb.toml", {});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("webhooks.max_concurrency_per_endpoint"),
            std::string::npos);
}

// /metrics is not public by default: no token, no listener of its own, no tenant labels.
TEST(Config, MetricsExposureKeys) {
  auto defaults = ParseConfig("", "x", {});
  ASSERT_TRUE(defaults.ok());
  EXPECT_TRUE(defaults->metrics.token.empty());
  EXPECT_TRUE(defaults->metrics.listen_address.empty());
  EXPECT_FALSE(defaults->metrics.tenant_labels);
  const std::string token(40, 'm');
  auto c = ParseConfig("[metrics]\nlisten = \"127.0.0.1:9090\"\ntenant_labels = true\n", "sb.toml",
                       {{"SWITCHBOARD_METRICS_TOKEN", token}});
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->metrics.listen_address, "127.0.0.1");
  EXPECT_EQ(c->metrics.port, 9090);
  EXPECT_EQ(c->metrics.token, token);
  EXPECT_TRUE(c->metrics.tenant_labels);
  for (const auto& [k, v] : Describe(*c)) EXPECT_EQ(v.find(token), std::string::npos) << k;
  const std::string short_token = "too-short-to-guess-hard";
  auto weak = ParseConfig("", "x", {{"SWITCHBOARD_METRICS_TOKEN", short_token}});
  ASSERT_FALSE(weak.ok());
  EXPECT_NE(weak.status().message().find("metrics.token"), std::string::npos);
  EXPECT_EQ(weak.status().message().find(short_token), std::string::npos);
  EXPECT_FALSE(ParseConfig("[metrics]\nlisten = \"9090\"\n", "sb.toml", {}).ok());
}

// Issue 13: upload pool, per-IP connection cap and per-tenant concurrency caps.
TEST(Config, LiveStreamSettings) {
  auto defaults = ParseConfig("", "x", {});
  ASSERT_TRUE(defaults.ok());
  EXPECT_EQ(defaults->live.poll_interval, std::chrono::milliseconds(1000));
  EXPECT_EQ(defaults->live.max_streams_per_tenant, 4);
  EXPECT_EQ(defaults->live.max_streams, 8);
  EXPECT_EQ(defaults->live.max_lifetime, std::chrono::seconds(600));
  EXPECT_EQ(defaults->dashboard.assets_dir, "");
  auto c = ParseConfig(
      "[live]\npoll_interval_ms = 50\nmax_streams = 3\n[dashboard]\n"
      "assets_dir = \"web/dashboard/dist\"\n",
      "sb.toml",
      {{"SWITCHBOARD_LIVE_MAX_STREAMS_PER_TENANT", "2"},
       {"SWITCHBOARD_DASHBOARD_ASSETS_DIR", "/srv/dashboard"}});
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->live.poll_interval, std::chrono::milliseconds(50));
  EXPECT_EQ(c->live.max_streams, 3);
  EXPECT_EQ(c->live.max_streams_per_tenant, 2);
  EXPECT_EQ(c->dashboard.assets_dir, "/srv/dashboard");  // the environment wins
  EXPECT_FALSE(ParseConfig("[live]\npoll_interval_ms = 5\n", "sb.toml", {}).ok());
  EXPECT_FALSE(ParseConfig("[live]\nmax_streams_per_tenant = 0\n", "sb.toml", {}).ok());
}

TEST(Config, SlowClientAndConcurrencyLimits) {
  auto defaults = ParseConfig("", "x", {});
  ASSERT_TRUE(defaults.ok());
  EXPECT_EQ(defaults->server.upload_threads, 16);
  EXPECT_EQ(defaults->server.upload_queue, 256);
  EXPECT_EQ(defaults->server.max_connections_per_ip, 256);
  EXPECT_EQ(defaults->limits.max_concurrent_requests_per_tenant, 64);
  EXPECT_EQ(defaults->limits.max_concurrent_uploads_per_tenant, 8);
  auto c = ParseConfig(
      "[server]\nupload_threads = 3\nupload_queue = 7\n[limits]\n"
      "max_concurrent_requests_per_tenant = 0\n",
      "sb.toml",
      {{"SWITCHBOARD_SERVER_MAX_CONNECTIONS_PER_IP", "0"},
       {"SWITCHBOARD_LIMITS_MAX_CONCURRENT_UPLOADS_PER_TENANT", "2"}});
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->server.upload_threads, 3);
  EXPECT_EQ(c->server.upload_queue, 7);
  EXPECT_EQ(c->server.max_connections_per_ip, 0);
  EXPECT_EQ(c->limits.max_concurrent_requests_per_tenant, 0);
  EXPECT_EQ(c->limits.max_concurrent_uploads_per_tenant, 2);
  for (const char* bad : {"[server]\nupload_threads = 0\n", "[server]\nupload_queue = 0\n",
                          "[server]\nmax_connections_per_ip = -1\n",
                          "[limits]\nmax_concurrent_uploads_per_tenant = -1\n"}) {
    auto refused = ParseConfig(bad, "sb.toml", {});
    EXPECT_FALSE(refused.ok()) << bad;
  }
}

// Issue 13: the per-client limit of the public routes.
TEST(Config, PublicRouteLimitKeys) {
  auto defaults = ParseConfig("", "x", {});
  ASSERT_TRUE(defaults.ok());
  EXPECT_DOUBLE_EQ(defaults->public_limits.requests_per_second, 5);
  EXPECT_EQ(defaults->public_limits.burst, 60);
  auto c = ParseConfig("[public]\nrequests_per_second = 0.5\n", "sb.toml",
                       {{"SWITCHBOARD_PUBLIC_BURST", "7"}});
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_DOUBLE_EQ(c->public_limits.requests_per_second, 0.5);
  EXPECT_EQ(c->public_limits.burst, 7);
  auto bad = ParseConfig("[public]\nburst = 0\n", "sb.toml", {});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("public.burst"), std::string::npos);
  auto bad_rate = ParseConfig("", "x", {{"SWITCHBOARD_PUBLIC_REQUESTS_PER_SECOND", "0"}});
  ASSERT_FALSE(bad_rate.ok());
  EXPECT_NE(bad_rate.status().message().find("SWITCHBOARD_PUBLIC_REQUESTS_PER_SECOND"),
            std::string::npos);
}

// Issue 13: per-tenant quotas, from the file or SWITCHBOARD_QUOTAS_*, each validated.
TEST(Config, QuotasHaveDefaultsFileValuesAndOverrides) {
  auto defaults = ParseConfig("", "x", {});
  ASSERT_TRUE(defaults.ok());
  EXPECT_EQ(defaults->quotas.webhook_endpoints, 50);
  EXPECT_EQ(defaults->quotas.webhook_endpoints_per_host, 10);
  EXPECT_EQ(defaults->quotas.connect_sessions_per_minute, 60);
  EXPECT_EQ(defaults->quotas.connections, 10'000);
  EXPECT_EQ(defaults->quotas.webhook_deliveries_in_flight, 16);
  auto c = ParseConfig("[quotas]\nwebhook_endpoints = 3\nconnections = 7\n", "sb.toml",
                       {{"SWITCHBOARD_QUOTAS_CONNECT_SESSIONS_PER_MINUTE", "5"},
                        {"SWITCHBOARD_QUOTAS_WEBHOOK_ENDPOINTS_PER_HOST", "2"},
                        {"SWITCHBOARD_QUOTAS_WEBHOOK_DELIVERIES_IN_FLIGHT", "9"}});
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->quotas.webhook_endpoints, 3);
  EXPECT_EQ(c->quotas.connections, 7);
  EXPECT_EQ(c->quotas.connect_sessions_per_minute, 5);
  EXPECT_EQ(c->quotas.webhook_endpoints_per_host, 2);
  EXPECT_EQ(c->quotas.webhook_deliveries_in_flight, 9);
  for (const char* bad : {"webhook_endpoints = 0", "connect_sessions_per_minute = -1",
                          "webhook_deliveries_in_flight = 1001", "sessions = 1"}) {
    auto refused = ParseConfig(std::string("[quotas]\n") + bad + "\n", "sb.toml", {});
    ASSERT_FALSE(refused.ok()) << bad;
    EXPECT_NE(refused.status().message().find("quotas."), std::string::npos) << bad;
  }
}

TEST(Config, BadValuesNameTheKey) {
  auto bad_int = ParseConfig("[server]\nio_threads = 0\n", "sb.toml", {});
  ASSERT_FALSE(bad_int.ok());
  EXPECT_NE(bad_int.status().message().find("server.io_threads"), std::string::npos);
  EXPECT_NE(bad_int.status().message().find("between 1 and 256"), std::string::npos);

  auto bad_env = ParseConfig("", "x", {{"SWITCHBOARD_SERVER_WORKER_THREADS", "many"}});
  ASSERT_FALSE(bad_env.ok());
  EXPECT_NE(bad_env.status().message().find("SWITCHBOARD_SERVER_WORKER_THREADS"),
            std::string::npos);

  auto bad_url = ParseConfig("", "x", {{"SWITCHBOARD_DATABASE_URL", "mysql://u:hunter2@h/db"}});
  ASSERT_FALSE(bad_url.ok());
  EXPECT_NE(bad_url.status().message().find("database.url"), std::string::npos);
  EXPECT_EQ(bad_url.status().message().find("hunter2"), std::string::npos);

  auto unknown = ParseConfig("[server]\nlisten_port = 1\n", "sb.toml", {});
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.status().message().find("server.listen_port"), std::string::npos);

  auto syntax = ParseConfig("[server\n", "sb.toml", {});
  ASSERT_FALSE(syntax.ok());
  EXPECT_NE(syntax.status().message().find("sb.toml:1"), std::string::npos);
}

TEST(Config, DescribeMasksPasswords) {
  auto c = ParseConfig("", "x", {{"SWITCHBOARD_DATABASE_URL", "postgres://u:hunter2@h/db"}});
  ASSERT_TRUE(c.ok());
  for (const auto& [k, v] : Describe(*c)) EXPECT_EQ(v.find("hunter2"), std::string::npos) << k;
  EXPECT_EQ(RedactUrl("postgres://u:pw@h:5432/db"), "postgres://u:***@h:5432/db");
  EXPECT_EQ(RedactUrl("postgres://h/db"), "postgres://h/db");
}

TEST(Config, MasterKeysComeOnlyFromTheEnvironmentAndAreNeverDescribed) {
  const std::string keys = "1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8";
  auto c = ParseConfig("", "x", {{"SWITCHBOARD_MASTER_KEYS", keys}});
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->vault.master_keys, keys);
  for (const auto& [k, v] : Describe(*c)) EXPECT_EQ(v.find("AAECAwQF"), std::string::npos) << k;
  auto in_file = ParseConfig("[vault]\nmaster_keys = \"" + keys + "\"\n", "sb.toml", {});
  ASSERT_FALSE(in_file.ok());
  EXPECT_NE(in_file.status().message().find("vault.master_keys"), std::string::npos);
  EXPECT_EQ(in_file.status().message().find("AAECAwQF"), std::string::npos);
}

TEST(Config, DashboardSignInProvidersNeedIdAndSecretAndNeverShowTheSecret) {
  auto c = ParseConfig(
      "[dashboard]\ngoogle_client_id = \"hub.apps.googleusercontent.com\"\n"
      "microsoft_client_id = \"0d6c1e7a-1111-4000-8000-00000000c0de\"\n"
      "microsoft_tenants = \"72f988bf-86f1-41af-91ab-2d7cd011db47, "
      "00000000-0000-4000-8000-0000000000aa\"\n",
      "sb.toml",
      {{"SWITCHBOARD_DASHBOARD_GOOGLE_CLIENT_SECRET", "g-secret-value"},
       {"SWITCHBOARD_DASHBOARD_MICROSOFT_CLIENT_SECRET", "m-secret-value"}});
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->dashboard.google_client_secret, "g-secret-value");
  EXPECT_EQ(c->dashboard.microsoft_tenants,
            (std::vector<std::string>{"72f988bf-86f1-41af-91ab-2d7cd011db47",
                                      "00000000-0000-4000-8000-0000000000aa"}));
  for (const auto& [k, v] : Describe(*c)) {
    EXPECT_EQ(v.find("secret-value"), std::string::npos) << k;
  }
  // An id without its secret (or the reverse) is refused, naming the key.
  auto half = ParseConfig("[dashboard]\ngoogle_client_id = \"x\"\n", "sb.toml", {});
  ASSERT_FALSE(half.ok());
  EXPECT_NE(half.status().message().find("dashboard.google_client_id"), std::string::npos);
  auto bad = ParseConfig("[dashboard]\nmicrosoft_tenants = \"common\"\n", "sb.toml", {});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("dashboard.microsoft_tenants"), std::string::npos);
}

}  // namespace
}  // namespace sb::config
