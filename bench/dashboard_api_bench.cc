// The dashboard's API calls at realistic size (issue 17): one tenant with N connections
// (default 10,000) and M audit entries (default 1,000,000) on SQLite, the real server in this
// process, and the first-page calls of the connections and audit pages timed from a keep-alive
// client: p50/p99 of each, next to an authenticated GET /v1/tenants/{id} in the same run as the
// baseline (what any authenticated call costs). Prints one table row per call.
//   dashboard_api_bench [connections] [audit entries] [calls per endpoint]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include "bench_support.h"
#include <unistd.h>

#include "sb/app/server_app.h"
#include "sb/app/testing/test_http_client.h"
#include "sb/base/clock.h"
#include "sb/base/encoding.h"
#include "sb/base/logging.h"
#include "sb/base/random.h"
#include "sb/store/connections/connect_repository.h"

namespace {

using Clock = std::chrono::steady_clock;

int Fail(const std::string& what, const sb::Status& s) {
  std::cerr << "dashboard_api_bench: " << what << ": " << s.ToString() << "\n";
  return 1;
}

// N connections in batches of 500, statuses and providers mixed as a real tenant's would be.
sb::Status FillConnections(sb::app::ServerApp& app, const sb::TenantId& tenant, long n,
                           sb::IdGenerator& ids, std::vector<std::string>& out) {
  sb::store::ConnectionRepository repo;
  const sb::Timestamp now = sb::SystemClock().Now();
  for (long done = 0; done < n; done += 500) {
    SB_RETURN_IF_ERROR(app.database().RunInTenant(tenant, [&](sb::store::Transaction& tx) {
      for (long i = done; i < std::min(n, done + 500); ++i) {
        sb::store::ConnectionRecord r;
        r.tenant_id = tenant;
        r.id = sb::ConnectionId(ids.NewUuid());
        r.provider = i % 3 == 0 ? "microsoft" : (i % 3 == 1 ? "google" : "twilio");
        r.end_user_id = "user-" + std::to_string(i);
        r.account_subject = "subject-" + std::to_string(i);
        r.account_email = "user" + std::to_string(i) + "@example.com";
        r.status = i % 50 == 0 ? sb::store::ConnectionStatus::kReauthorizationRequired
                               : sb::store::ConnectionStatus::kActive;
        r.status_reason = "connected";
        r.token_version = 1;
        r.created_at = now;
        r.updated_at = now;
        SB_RETURN_IF_ERROR(repo.Insert(tx, tenant, r));
        out.push_back(r.id.value());
      }
      return sb::OkStatus();
    }));
  }
  return sb::OkStatus();
}

sb::Status FillAudit(sb::app::ServerApp& app, const sb::TenantId& tenant, long entries) {
  static const char* kActions[] = {"connection.refresh", "proxy.call", "connection.create",
                                   "webhook.delivery", "sync.run"};
  for (long done = 0; done < entries; done += 1000) {
    SB_RETURN_IF_ERROR(app.database().RunInTenant(tenant, [&](sb::store::Transaction& tx) {
      for (long i = done; i < std::min(entries, done + 1000); ++i) {
        sb::audit::Event event;
        event.actor.kind = sb::audit::ActorKind::kApiKey;
        event.actor.id = "0190f5a0-0000-7000-8000-00000000000" + std::to_string(i % 10);
        event.action = kActions[i % 5];
        event.target = "connections/" + std::to_string(i % 10'000);
        event.request_id = "req-" + std::to_string(i);
        event.details = {{"attempt", i % 3}, {"provider", "google"}};
        SB_RETURN_IF_ERROR(app.audit_log().Append(tx, tenant, event));
      }
      return sb::OkStatus();
    }));
  }
  return sb::OkStatus();
}

struct Timing {
  double p50_ms = 0;
  double p99_ms = 0;
  int failures = 0;
};

Timing Measure(uint16_t port, const std::string& key, const std::string& target, int calls) {
  sb::app::testing::TestHttpClient client(port);
  std::vector<double> ms;
  Timing t;
  for (int i = 0; i < calls + 5; ++i) {
    const auto start = Clock::now();
    const auto response = client.Send("GET", target, "", key);
    const double elapsed = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
    if (response.status != 200) ++t.failures;
    if (i >= 5) ms.push_back(elapsed);  // the first few warm the caches
  }
  std::sort(ms.begin(), ms.end());
  t.p50_ms = ms[ms.size() / 2];
  t.p99_ms = ms[std::min(ms.size() - 1, ms.size() * 99 / 100)];
  return t;
}

}  // namespace

int main(int argc, char** argv) {
  const long connections = argc > 1 ? std::atol(argv[1]) : 10'000;
  const long entries = argc > 2 ? std::atol(argv[2]) : 1'000'000;
  const int calls = argc > 3 ? std::atoi(argv[3]) : 200;
  sb::log::SetLevel(sb::log::Level::kWarn);
  const auto dir =
      std::filesystem::temp_directory_path() / ("sb-dashboard-bench-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  sb::SystemClock clock;
  sb::SystemRandom random;
  sb::IdGenerator ids(clock, random);
  sb::config::Config config = sb::bench::SqliteConfig(dir, clock);
  // With SB_BENCH_DASHBOARD_DIST (a dashboard build), the program also serves the dashboard and,
  // after its own timings, prints "READY <port> <tenant> <email> <password>" and keeps serving
  // until its standard input closes, for bench/dashboard_render.mjs to time the pages' first
  // render in a browser against the same data.
  const char* dist = std::getenv("SB_BENCH_DASHBOARD_DIST");
  if (dist != nullptr) config.dashboard.assets_dir = dist;
  auto app = sb::app::ServerApp::Create(config, clock, random);
  if (!app.ok()) return Fail("create", app.status());
  auto port = (*app)->Start();
  if (!port.ok()) return Fail("start", port.status());
  sb::audit::Context ctx;
  ctx.actor.kind = sb::audit::ActorKind::kCli;
  ctx.actor.id = "bench";
  auto tenant = (*app)->tenants().Create(ctx, "dashboard");
  if (!tenant.ok()) return Fail("tenant", tenant.status());
  auto key = (*app)->api_keys().Create(ctx, tenant->id, "k",
                                       {sb::tenancy::Scope::kRead, sb::tenancy::Scope::kAdmin});
  if (!key.ok()) return Fail("key", key.status());

  const auto fill_start = Clock::now();
  std::vector<std::string> connection_ids;
  if (auto s = FillConnections(**app, tenant->id, connections, ids, connection_ids); !s.ok()) {
    return Fail("connections", s);
  }
  if (auto s = FillAudit(**app, tenant->id, entries); !s.ok()) return Fail("audit", s);
  const double fill_s = std::chrono::duration<double>(Clock::now() - fill_start).count();
  std::printf("filled %ld connections and %ld audit entries in %.1f s\n\n", connections, entries,
              fill_s);

  constexpr char kEmail[] = "bench@example.com";
  const std::string password = "bench-" + sb::HexEncode(random.Bytes(12));
  if (dist != nullptr) {
    auto user = (*app)->dashboard_users().Create(
        ctx, tenant->id, {kEmail, "Bench", sb::store::DashboardRole::kViewer, password});
    if (!user.ok()) return Fail("dashboard user", user.status());
  }

  const std::string& some = connection_ids[connection_ids.size() / 2];
  // Every call the pages make when they first render (web/dashboard/src/pages), with the
  // parameters they send.
  const std::vector<std::pair<std::string, std::string>> calls_to_time = {
      {"baseline: GET /v1/tenants/{id}", "/v1/tenants/" + tenant->id.value()},
      {"connections, first page", "/v1/connections?limit=50"},
      {"connections, status filter", "/v1/connections?status=reauthorization_required&limit=50"},
      {"connections, provider filter", "/v1/connections?provider=twilio&limit=50"},
      {"connections, one end user (search)", "/v1/connections?end_user_id=user-4242&limit=50"},
      {"connection detail", "/v1/connections/" + some},
      {"connection health", "/v1/connections/" + some + "/health"},
      {"connection health history", "/v1/connections/" + some + "/health/incidents?limit=10"},
      {"connection sync states", "/v1/connections/" + some + "/sync"},
      {"connection sync runs", "/v1/connections/" + some + "/sync-runs?limit=20"},
      {"connection changes, newest first",
       "/v1/changes?connection_id=" + some + "&order=desc&limit=50"},
      {"audit, first page, newest first (the page's default)", "/v1/audit?order=desc&limit=50"},
      {"audit, first page, oldest first", "/v1/audit?limit=50"},
      {"audit, action filter, newest first",
       "/v1/audit?action=connection.create&order=desc&limit=50"},
      {"audit, action filter, oldest first", "/v1/audit?action=connection.create&limit=50"},
      {"audit, action that never happened", "/v1/audit?action=tenant.delete&order=desc&limit=50"},
      {"audit, one target", "/v1/audit?target=connections/42&order=desc&limit=50"},
      {"overview: usage", "/v1/admin/usage"},
      {"overview: connections in error", "/v1/connections?status=error&limit=10"},
      {"overview: failed deliveries", "/v1/webhook-deliveries?state=failed&limit=1000"},
      {"conflicts, open", "/v1/conflicts?status=open&limit=50"},
      {"providers", "/v1/providers"},
  };
  std::printf(
      "| call | p50 ms | p99 ms | p99 / baseline p99 | non-200 |\n| --- | --- | --- | --- | --- "
      "|\n");
  double baseline_p99 = 0;
  for (const auto& [name, target] : calls_to_time) {
    const Timing t = Measure(*port, key->plaintext, target, calls);
    if (baseline_p99 == 0) baseline_p99 = t.p99_ms;
    std::printf("| %s | %.2f | %.2f | %.1f | %d |\n", name.c_str(), t.p50_ms, t.p99_ms,
                t.p99_ms / baseline_p99, t.failures);
  }
  // Not a first-render call: the audit page's "Verify chain" button re-hashes the whole chain.
  const Timing verify = Measure(*port, key->plaintext, "/v1/audit/verification", 3);
  std::printf("| audit chain verification (on demand, 3 calls) | %.2f | %.2f | %.1f | %d |\n",
              verify.p50_ms, verify.p99_ms, verify.p99_ms / baseline_p99, verify.failures);
  if (dist != nullptr) {
    std::printf("READY %d %s %s %s\n", static_cast<int>(*port), tenant->id.value().c_str(), kEmail,
                password.c_str());
    std::fflush(stdout);
    for (std::string line; std::getline(std::cin, line);) {
    }
  }
  (*app)->Stop(std::chrono::milliseconds(1000));
  std::error_code ignored;
  std::filesystem::remove_all(dir, ignored);
  return 0;
}
