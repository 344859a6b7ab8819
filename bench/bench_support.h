// Helpers shared by the bench programs that run Switchboard in process against the sandbox:
// fail loudly, unwrap results, time, and set up the tenant every bench works in.
#pragma once

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

#include <errno.h>

#include "sb/app/server_app.h"
#include "sb/app/testing/sandbox_process.h"
#include "sb/app/testing/test_http_client.h"
#include "sb/base/encoding.h"
#include "sb/base/json.h"
#include "sb/net/http_client.h"
#include "sb/net/testing/browser.h"
#include "sb/store/migrations/migrator.h"
#include "sb/store/open_database.h"

namespace sb::bench {

// The OAuth client every bench registers at the sandbox, and the host app's return URL.
inline constexpr char kClientId[] = "bench.apps.googleusercontent.com";
inline constexpr char kSecret[] = "bench-client-secret";
inline constexpr char kReturnUrl[] = "https://app.example/done";

[[noreturn]] inline void Die(const std::string& what) {
  std::fprintf(stderr, "%s: %s\n", program_invocation_short_name, what.c_str());
  std::exit(1);
}

template <typename T>
T Must(Result<T> r, const char* what) {
  if (!r.ok()) Die(std::string(what) + ": " + r.status().ToString());
  return std::move(*r);
}

inline double Seconds(std::chrono::steady_clock::duration d) {
  return std::chrono::duration<double>(d).count();
}

struct BenchTenant {
  TenantId id;
  std::string key;  // read and write
};

// Tenant "bench" (return URLs on https://app.example), a read/write API key, and its
// integration of `provider` ("google", "microsoft") with the bench client (and `services` when
// not null).
inline BenchTenant CreateTenant(app::ServerApp& app, uint16_t port, const Json& services = nullptr,
                                const std::string& provider = "google") {
  audit::Context ctx;
  ctx.actor.kind = audit::ActorKind::kCli;
  ctx.actor.id = "bench";
  BenchTenant t;
  t.id = Must(app.tenants().Create(ctx, "bench"), "tenant").id;
  Must(app.tenants().Update(ctx, t.id, {.return_url_origins = {{"https://app.example"}}}),
       "return_url_origins");
  t.key = Must(app.api_keys().Create(ctx, t.id, "bench",
                                     {tenancy::Scope::kRead, tenancy::Scope::kWrite}),
               "api key")
              .plaintext;
  Json integration{{"client_id", kClientId}, {"client_secret", kSecret}};
  if (!services.is_null()) integration["services"] = services;
  app::testing::TestHttpClient api(port);
  auto put = api.Send("PUT", "/v1/integrations/" + provider, integration.dump(), t.key);
  if (put.status != 201) Die("integration: " + put.body);
  return t;
}

// A server configuration on a migrated SQLite file in `dir` (keys there too), listening on a
// free loopback port, with no rate limit in the way of a bench that calls from 127.0.0.1.
inline config::Config SqliteConfig(const std::filesystem::path& dir, const Clock& clock) {
  const std::string db_url = "sqlite:" + (dir / "sb.db").string();
  {
    auto db = Must(store::OpenDatabase({.url = db_url}), "database");
    Must(store::Migrator(*db, clock).Up(), "migrate");
  }
  config::Config config;
  config.server.listen_address = "127.0.0.1";
  config.server.port = 0;
  config.database.url = config.database.migration_url = db_url;
  config.vault.key_file = (dir / "master.key").string();
  config.audit.key_file = (dir / "audit.key").string();
  config.limits.requests_per_second = 1e9;
  config.limits.burst = 1'000'000'000;
  return config;
}

// SqliteConfig with the sandbox as its providers, and no public rate limit or connect-session
// quota either.
inline config::Config SandboxedSqliteConfig(const std::filesystem::path& dir,
                                            const app::testing::SandboxProcess& sandbox,
                                            const Clock& clock) {
  config::Config config = SqliteConfig(dir, clock);
  config.providers.google_url = sandbox.google_url();
  config.providers.microsoft_url = sandbox.microsoft_url();
  config.providers.keyed_url = sandbox.keyed_url();
  config.providers.ca_file = sandbox.ca_file();
  config.public_limits.requests_per_second = 1e9;  // connect pages, provider notifications
  config.public_limits.burst = 1'000'000'000;
  config.quotas.connect_sessions_per_minute = 100'000;
  return config;
}

// The code exchange (authorization_code with PKCE, the bench client) at the Google sandbox.
inline Result<net::HttpResponse> ExchangeCode(net::HttpClient& http, const std::string& google_url,
                                              const std::string& code, const std::string& redirect,
                                              const std::string& verifier) {
  net::HttpRequest request;
  request.method = "POST";
  request.url = google_url + "/token";
  request.headers = {{"Content-Type", "application/x-www-form-urlencoded"}};
  request.body = FormEncode({{"grant_type", "authorization_code"},
                             {"code", code},
                             {"redirect_uri", redirect},
                             {"client_id", kClientId},
                             {"client_secret", kSecret},
                             {"code_verifier", verifier}});
  return http.Send(request);
}

// `email`'s account at `provider` ("google", "microsoft") connected through the hosted connect
// page (the sandbox consents by itself), granting `service` ("calendar:read", ...): the
// connection id.
inline std::string ConnectAccount(app::testing::TestHttpClient& api, const std::string& key,
                                  const std::string& ca_file, const std::string& provider,
                                  const std::string& email, const std::string& end_user,
                                  const std::string& service) {
  auto session = api.Send(
      "POST", "/v1/connect/sessions",
      Json{{"end_user", {{"id", end_user}, {"email", email}}}, {"return_url", kReturnUrl}}.dump(),
      key);
  if (session.status != 201) Die("session: " + session.body);
  const std::string url = session.JsonBody()["url"];
  net::testing::Browser browser({ca_file});
  browser.StopAt([](std::string_view u) { return u.starts_with(kReturnUrl); });
  auto page = Must(browser.Get(url), "connect page");
  auto done = Must(browser.PostForm(url + "/start",
                                    {{"provider", provider},
                                     {"service", service},
                                     {"csrf", app::testing::HiddenFieldValue(page.body, "csrf")}}),
                   "connect");
  for (const auto& [name, value] : Must(net::testing::ParseQuery(done.url), "return url")) {
    if (name == "connection_id") return value;
  }
  Die("connect did not finish: " + done.url + " " + std::to_string(done.status) + " " +
      done.body.substr(0, 300));
}

inline std::string ConnectGoogle(app::testing::TestHttpClient& api, const std::string& key,
                                 const std::string& ca_file, const std::string& email,
                                 const std::string& end_user, const std::string& service) {
  return ConnectAccount(api, key, ca_file, "google", email, end_user, service);
}

}  // namespace sb::bench
