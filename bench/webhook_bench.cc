// Webhook delivery throughput (not a test): N connection events for one endpoint are written
// through the outbox (Dispatcher, in batches of 500 per transaction), then the JobRunner
// delivers them: lease, read delivery and secret from the vault, SSRF check, sign, POST to a
// local receiver over keep-alive HTTP, record the attempt and complete the job in one
// transaction. Deliveries per second from the first lease to the last completion, on SQLite and
// on a throwaway PostgreSQL server. Baseline in the same run: the same number of signed POSTs
// sent straight to the receiver with the same concurrency (signing and HTTP only).
//
// The endpoint's max_concurrency (WH-05: deliveries in flight to it at once, enforced by the
// job queue's lease) is the fourth argument, by default as many as runner threads (at most 64).
// The fifth spreads the deliveries over that many endpoints of the tenant (each event goes to
// every endpoint, so deliveries / endpoints events), each with that max_concurrency.
//
//   webhook_bench [deliveries=5000] [threads=8] [backend=sqlite,postgres] [max_concurrency]
//                 [endpoints=1]
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <sstream>
#include <thread>
#include <vector>

#include "sb/audit/testing/security_kit.h"
#include "sb/base/encoding.h"
#include "sb/base/logging.h"
#include "sb/jobs/runner.h"
#include "sb/net/curl_http_client.h"
#include "sb/net/testing/loopback_http_server.h"
#include "sb/store/migrations/migrator.h"
#include "sb/store/open_database.h"
#include "sb/store/tenancy/tenant_repository.h"
#include "sb/store/testing/postgres_server.h"
#include "sb/vault/secret_store.h"
#include "sb/webhooks/delivery.h"
#include "sb/webhooks/endpoints.h"
#include "sb/webhooks/signature.h"

namespace {

using SteadyClock = std::chrono::steady_clock;

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "webhook_bench: %s\n", what.c_str());
  std::exit(1);
}

double Seconds(SteadyClock::duration d) { return std::chrono::duration<double>(d).count(); }

struct Result {
  double deliveries_per_s = 0;
  double baseline_per_s = 0;
  int64_t delivered = 0;
};

Result RunOn(const std::string& app_url, const std::string& owner_url,
             const std::string& maintenance_url, int n, int threads, int max_concurrency,
             int endpoint_count, sb::net::testing::LoopbackHttpServer& receiver) {
  sb::SystemClock clock;
  sb::SystemRandom random;
  sb::IdGenerator ids(clock, random);
  {
    auto owner = sb::store::OpenDatabase({.url = owner_url});
    if (!owner.ok()) Die(owner.status().ToString());
    if (auto up = sb::store::Migrator(**owner, clock).Up(); !up.ok()) Die(up.status().ToString());
  }
  auto db = sb::store::OpenDatabase({.url = app_url, .pool_size = threads + 2});
  auto maintenance = sb::store::OpenDatabase({.url = maintenance_url, .pool_size = 2});
  if (!db.ok() || !maintenance.ok()) Die("cannot open the database");
  sb::audit::testing::SecurityKit security(clock, random, ids);
  sb::vault::SecretStore& secrets = security.secrets();
  sb::audit::AuditLog& audit = security.audit();
  sb::webhooks::EndpointService endpoints(
      sb::webhooks::EndpointDeps{.db = **db,
                                 .secrets = secrets,
                                 .audit = audit,
                                 .clock = clock,
                                 .random = random,
                                 .ids = ids},
      sb::webhooks::EndpointPolicy{.allow_http = true,
                                   .allow_private_targets = true,
                                   .max_endpoints = 1000,
                                   .max_endpoints_per_host = 1000});
  const sb::TenantId tenant(ids.NewUuid());
  sb::audit::Context ctx;
  ctx.actor.kind = sb::audit::ActorKind::kCli;
  ctx.actor.id = "bench";
  if (!(*db)
           ->RunInTenant(tenant,
                         [&](sb::store::Transaction& tx) {
                           return sb::store::TenantRepository().Insert(tx, tenant,
                                                                       {tenant, "b", clock.Now()});
                         })
           .ok()) {
    Die("tenant");
  }
  sb::webhooks::EndpointInput input;
  input.url = receiver.Url("/hooks");
  input.max_concurrency = max_concurrency;
  auto endpoint = endpoints.Create(tenant, input, ctx);
  if (!endpoint.ok()) Die(endpoint.status().ToString());
  for (int e = 1; e < endpoint_count; ++e) {
    if (!endpoints.Create(tenant, input, ctx).ok()) Die("endpoint");
  }
  const int events = n / endpoint_count;

  // The outbox: N events, 500 per transaction.
  sb::webhooks::Dispatcher dispatcher(clock, random, ids);
  const sb::Json data = {{"connection",
                          {{"id", "0190f5a0-0000-7000-8000-00000000002a"},
                           {"provider", "google"},
                           {"status", "active"}}}};
  for (int start = 0; start < events; start += 500) {
    const sb::Status s = (*db)->RunInTenant(tenant, [&](sb::store::Transaction& tx) -> sb::Status {
      for (int i = start; i < std::min(events, start + 500); ++i) {
        SB_RETURN_IF_ERROR(dispatcher.Emit(tx, tenant, "connection.created", data));
      }
      return sb::OkStatus();
    });
    if (!s.ok()) Die("emit: " + s.ToString());
  }

  sb::net::CurlHttpClient http({.max_idle_handles = static_cast<size_t>(threads) + 2});
  sb::webhooks::Deliverer deliverer(sb::webhooks::DelivererDeps{.db = **db,
                                                                .endpoints = endpoints,
                                                                .http = http,
                                                                .clock = clock,
                                                                .random = random,
                                                                .audit = audit,
                                                                .events = dispatcher},
                                    sb::webhooks::DeliveryOptions{.allow_private_targets = true});
  sb::jobs::JobRunnerOptions options;
  options.owner = "bench";
  options.threads = threads;
  options.batch = 200;
  options.per_tenant = 200;
  sb::jobs::JobRunner runner(**db, **maintenance, clock, random, options);
  runner.Register(sb::webhooks::kDeliverJob,
                  [&](sb::jobs::JobContext& job) { return deliverer.Handle(job); });
  Result result;
  const auto start = SteadyClock::now();
  while (result.delivered < n) {
    auto ran = runner.RunOnce();
    if (!ran.ok()) Die("run: " + ran.status().ToString());
    if (*ran == 0) break;
    result.delivered += *ran;
  }
  result.deliveries_per_s =
      static_cast<double>(result.delivered) / Seconds(SteadyClock::now() - start);

  // Baseline: the same POSTs, signed, straight to the receiver.
  std::atomic<int> next{0};
  const auto base_start = SteadyClock::now();
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&] {
      const std::string body = sb::Json{{"type", "connection.created"}, {"data", data}}.dump();
      for (int i = next++; i < n; i = next++) {
        const std::string id = "msg_" + std::to_string(i);
        auto signature = sb::webhooks::SignatureHeader({endpoint->secret}, id, 1'800'000'000, body);
        sb::net::HttpRequest request;
        request.method = "POST";
        request.url = receiver.Url("/hooks");
        request.body = body;
        request.headers = {{"Content-Type", "application/json"},
                           {"webhook-id", id},
                           {"webhook-timestamp", "1800000000"},
                           {"webhook-signature", *signature}};
        (void)http.Send(request);
      }
    });
  }
  for (auto& t : pool) t.join();
  result.baseline_per_s = static_cast<double>(n) / Seconds(SteadyClock::now() - base_start);
  return result;
}

}  // namespace

int main(int argc, char** argv) {
  const int n = argc > 1 ? std::atoi(argv[1]) : 5000;
  const int threads = argc > 2 ? std::atoi(argv[2]) : 8;
  const std::string backends = argc > 3 ? argv[3] : "sqlite,postgres";
  const int max_concurrency = argc > 4 ? std::atoi(argv[4]) : std::min(threads, 64);
  const int endpoint_count = std::max(1, argc > 5 ? std::atoi(argv[5]) : 1);
  sb::log::SetLevel(sb::log::Level::kError);
  std::atomic<int64_t> received{0};
  sb::net::testing::LoopbackHttpServer receiver([&](const sb::net::testing::ServedRequest&) {
    ++received;
    return sb::net::testing::ServedResponse{204, {}, "", false, ""};
  });
  if (!receiver.Start().ok()) Die("receiver");
  std::printf(
      "| backend | deliveries | delivered/s (outbox -> job -> signed POST -> recorded) | "
      "signed POSTs/s alone | ratio |\n| --- | --- | --- | --- | --- |\n");
  std::stringstream list(backends);
  for (std::string backend; std::getline(list, backend, ',');) {
    Result r;
    if (backend == "sqlite") {
      const auto dir = std::filesystem::temp_directory_path() /
                       ("sb-webhook-bench-" + std::to_string(::getpid()));
      std::filesystem::create_directories(dir);
      const std::string url = "sqlite:" + (dir / "bench.db").string();
      r = RunOn(url, url, url, n, threads, max_concurrency, endpoint_count, receiver);
      std::filesystem::remove_all(dir);
    } else if (backend == "postgres") {
      auto server = sb::store::testing::PostgresServer::Start();
      if (!server.ok()) Die("postgres: " + server.status().ToString());
      r = RunOn((*server)->app_url(), (*server)->owner_url(), (*server)->maintenance_url(), n,
                threads, max_concurrency, endpoint_count, receiver);
    } else {
      Die("unknown backend " + backend);
    }
    std::printf("| %s | %lld | %.0f | %.0f | %.2f |\n", backend.c_str(),
                static_cast<long long>(r.delivered), r.deliveries_per_s, r.baseline_per_s,
                r.deliveries_per_s / r.baseline_per_s);
  }
  receiver.Stop();
  return 0;
}
