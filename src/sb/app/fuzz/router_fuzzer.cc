// libFuzzer target: the WHOLE router with its real handlers and middlewares (ServerApp, as
// `switchboard serve` wires it), in-process: SQLite in a temp directory, a fake provider behind
// net::HttpClient, a seeded tenant with an admin key and a read/write key (security.md TST-F1).
//
// Input: byte 0 picks the method, byte 1 the credentials and content type (bits 0-1: the
// tenant's key, the operator's, a wrong key, none; with none, bit 3 adds a dashboard session
// cookie and bit 4 its CSRF token; bit 2 drops the JSON content type); the rest is the
// request target, then header lines, then (after an empty line) the body, each line ending in
// '\n'. "$T" in the target or body becomes the seeded tenant's id. The request is serialized and
// parsed by http::ParseRequest (the server's parser), then dispatched by ServerApp::Dispatch.
// Every answer must be a valid HTTP status; a crash, sanitizer report or leak fails the run.
//
// Growth: the app and its database are rebuilt every kRebuildEvery inputs, so a long run does not
// slow to a halt on tables the fuzzer filled.
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <string_view>

#include "sb/app/server_app.h"
#include "sb/base/check.h"
#include "sb/base/random.h"
#include "sb/base/testing/fake_clock.h"
#include "sb/http/parse.h"
#include "sb/net/testing/fake_http_client.h"
#include "sb/store/migrations/migrator.h"
#include "sb/store/open_database.h"

namespace {

constexpr int kRebuildEvery = 2000;
constexpr std::array<std::string_view, 9> kMethods = {"GET",  "POST",    "PUT",   "PATCH", "DELETE",
                                                      "HEAD", "OPTIONS", "TRACE", "PoST"};

// A provider that answers every call: tokens for POSTs, a small JSON object otherwise.
sb::Result<sb::net::HttpResponse> FakeProvider(const sb::net::HttpRequest& request) {
  using sb::net::testing::FakeHttpClient;
  if (request.method == "POST") {
    return FakeHttpClient::MakeResponse(
        200, R"({"access_token":"at","token_type":"Bearer","expires_in":3600,"scope":"openid"})",
        {{"Content-Type", "application/json"}});
  }
  return FakeHttpClient::MakeResponse(200, R"({"sub":"1","email":"a@example.com","keys":[]})",
                                      {{"Content-Type", "application/json"}});
}

struct World {
  std::filesystem::path dir;
  sb::testing::FakeClock clock;
  sb::SystemRandom random;
  sb::net::testing::FakeHttpClient provider{FakeProvider};
  std::unique_ptr<sb::app::ServerApp> app;
  std::string tenant_id;
  std::string admin_key;
  std::string tenant_key;
  std::string session_token;  // a dashboard admin of the seeded tenant, signed in
  std::string csrf_token;
  int inputs = 0;

  World() {
    dir = std::filesystem::temp_directory_path() /
          ("sb-router-fuzzer-" + std::to_string(random.Uint64()));
    Build();
  }
  ~World() {
    app.reset();
    std::filesystem::remove_all(dir);
  }

  void Build() {
    app.reset();
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    sb::config::Config config;
    config.database.url = "sqlite:" + (dir / "hub.db").string();
    config.database.migration_url = config.database.url;
    config.database.maintenance_url = config.database.url;
    config.vault.key_file = (dir / "master.key").string();
    config.audit.key_file = (dir / "audit.key").string();
    config.server.public_url = "https://hub.example";
    config.limits.requests_per_second = 1'000'000'000;
    config.limits.burst = 1'000'000'000;
    // Every input comes from its own client address (below), so the per-client limits of the
    // public routes and of failed authentications never shut the handlers off for later inputs.
    config.public_limits.requests_per_second = 1'000'000'000;
    config.public_limits.burst = 1'000'000'000;
    config.refresh.interval = std::chrono::seconds(0);
    config.health.check_interval = std::chrono::seconds(0);
    // A small dashboard build, so that /dashboard/... reaches the file checks (the key files
    // beside it are outside the build).
    std::filesystem::create_directories(dir / "dashboard" / "assets");
    std::ofstream(dir / "dashboard" / "index.html") << "<!doctype html>";
    std::ofstream(dir / "dashboard" / "assets" / "index.js") << "export {};";
    config.dashboard.assets_dir = (dir / "dashboard").string();
    // Sign-in with a provider, so that /v1/session/oidc/... reaches its checks and the store
    // (no provider is ever called: no fuzzed state is known).
    config.dashboard.google_client_id = "fuzz.apps.googleusercontent.com";
    config.dashboard.google_client_secret = "fuzz-secret";
    {
      auto owner = sb::store::OpenDatabase({.url = config.database.url, .pool_size = 1});
      SB_CHECK(owner.ok());
      sb::store::Migrator migrator(**owner, clock);
      SB_CHECK(migrator.Up().ok());
    }
    auto created = sb::app::ServerApp::Create(config, clock, random, &provider);
    SB_CHECK(created.ok());
    app = std::move(*created);
    const sb::audit::Context setup{sb::audit::Actor{sb::audit::ActorKind::kCli, "fuzz"}, ""};
    auto tenant = app->tenants().Create(setup, "Fuzz");
    SB_CHECK(tenant.ok());
    tenant_id = tenant->id.value();
    sb::tenancy::TenantPatch origins;
    origins.return_url_origins = std::vector<std::string>{"https://app.example"};
    SB_CHECK(app->tenants().Update(setup, tenant->id, origins).ok());
    // The "admin" key is the deployment operator's, so that operator routes are reached too.
    auto system = app->tenants().CreateSystem(setup, "Operator");
    SB_CHECK(system.ok());
    using sb::tenancy::Scope;
    auto admin =
        app->api_keys().Create(setup, system->id, "operator",
                               {Scope::kOperator, Scope::kAdmin, Scope::kRead, Scope::kWrite});
    auto writer = app->api_keys().Create(setup, tenant->id, "rw", {Scope::kRead, Scope::kWrite});
    SB_CHECK(admin.ok() && writer.ok());
    admin_key = admin->plaintext;
    tenant_key = writer->plaintext;
    auto& users = app->dashboard_users();
    SB_CHECK(users
                 .Create(setup, tenant->id,
                         {"fuzz@example.com", "Fuzz", sb::store::DashboardRole::kAdmin,
                          std::string("fuzzing password")})
                 .ok());
    auto session =
        users.SignIn({tenant->id, "fuzz@example.com", "fuzzing password", {"fuzz", "127.0.0.1:1"}});
    SB_CHECK(session.ok());
    session_token = session->token;
    csrf_token = session->csrf_token;
  }
};

World* world_for_exit = nullptr;

World& TheWorld() {
  // Lives for the process; libFuzzer ends with exit(), so the temp directory goes at exit.
  static World* world = [] {
    world_for_exit = new World();
    std::atexit([] { std::filesystem::remove_all(world_for_exit->dir); });
    return world_for_exit;
  }();
  return *world;
}

std::string Substitute(std::string_view text, const std::string& tenant_id) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '$' && i + 1 < text.size() && text[i + 1] == 'T') {
      out += tenant_id;
      ++i;
    } else {
      out.push_back(text[i]);
    }
  }
  return out;
}

// Takes the next '\n'-terminated line from `rest` (all of it when there is no '\n').
std::string_view NextLine(std::string_view& rest) {
  const size_t end = rest.find('\n');
  std::string_view line = rest.substr(0, end);
  rest.remove_prefix(end == std::string_view::npos ? rest.size() : end + 1);
  return line;
}

std::string RawRequest(const World& world, const uint8_t* data, size_t size) {
  const std::string_view method = kMethods[data[0] % kMethods.size()];
  const uint8_t flags = data[1];
  std::string_view rest(reinterpret_cast<const char*>(data) + 2, size - 2);
  std::string target = Substitute(NextLine(rest), world.tenant_id);
  if (target.empty() || target[0] != '/') target.insert(target.begin(), '/');
  std::string raw = std::string(method) + " " + target + " HTTP/1.1\r\nHost: hub.example\r\n";
  switch (flags & 3) {  // mostly a valid key, so that handlers are reached
    case 0:
      raw += "Authorization: Bearer " + world.tenant_key + "\r\n";
      break;
    case 1:
      raw += "Authorization: Bearer " + world.admin_key + "\r\n";
      break;
    case 2:
      raw += "Authorization: Bearer " + world.tenant_key + "x\r\n";
      break;
    default:  // no key: a dashboard session cookie when bit 3 is set, its CSRF token on bit 4
      if ((flags & 8) != 0) raw += "Cookie: sb_session=" + world.session_token + "\r\n";
      if ((flags & 16) != 0) raw += "X-CSRF-Token: " + world.csrf_token + "\r\n";
      break;
  }
  if ((flags & 4) == 0) raw += "Content-Type: application/json\r\n";
  for (std::string_view line = NextLine(rest); !line.empty(); line = NextLine(rest)) {
    raw += std::string(line) + "\r\n";
  }
  const std::string body = Substitute(rest, world.tenant_id);
  raw += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  return raw;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  World& world = TheWorld();
  if (++world.inputs % kRebuildEvery == 0) world.Build();
  const sb::http::ParseLimits limits{.max_header_bytes = 16 * 1024, .max_body_bytes = 1024 * 1024};
  sb::Result<sb::http::Request> request =
      sb::http::ParseRequest(RawRequest(world, data, size), limits);
  if (!request.ok()) return 0;  // the request parser has its own fuzzer (http_request_fuzzer)
  request->request_id = "fuzz";
  const uint64_t n = world.inputs;
  request->remote_address = "10." + std::to_string((n >> 16) & 255) + "." +
                            std::to_string((n >> 8) & 255) + "." + std::to_string(n & 255) +
                            ":40000";
  const sb::http::Response response = world.app->Dispatch(*request);
  SB_CHECK(response.status >= 100 && response.status < 600);
  return 0;
}
