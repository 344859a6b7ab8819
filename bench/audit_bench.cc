// Audit log throughput on both backends (see the report of the audit change for figures):
//   BM_Append<Backend>/N: N appends per transaction (1: every security event in its own
//     transaction; 100: batches), one tenant, checkpoint every 1000 entries (the default);
//   BM_Verify<Backend>: Verify of one 100k-entry chain, read in pages of 1000.
// SQLite runs on a file in a fresh temp dir; PostgreSQL on the throwaway server of the store
// testing helpers (started once, as the app role sb_app under row-level security).
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include <benchmark/benchmark.h>

#include "sb/audit/audit_log.h"
#include "sb/base/clock.h"
#include "sb/base/random.h"
#include "sb/store/migrations/migrator.h"
#include "sb/store/open_database.h"
#include "sb/store/testing/postgres_server.h"

namespace {

using sb::Status;
using sb::TenantId;

constexpr int kVerifyEntries = 100'000;

struct Env {
  sb::SystemClock clock;
  sb::SystemRandom random;
  sb::IdGenerator ids{clock, random};
  std::unique_ptr<sb::audit::AuditLog> log;
  std::unique_ptr<sb::store::Database> db;
  std::unique_ptr<sb::store::testing::PostgresServer> server;
  std::filesystem::path dir;
  TenantId verify_tenant;
  bool verify_ready = false;

  ~Env() {
    db.reset();
    std::error_code ec;
    if (!dir.empty()) std::filesystem::remove_all(dir, ec);
  }
};

std::unique_ptr<sb::store::Database> OpenMigrated(const std::string& owner_url,
                                                  const std::string& app_url) {
  {
    auto owner = sb::store::OpenDatabase({.url = owner_url});
    if (!owner.ok()) return nullptr;
    sb::store::Migrator migrator(**owner, sb::SystemClock());
    if (!migrator.Up().ok()) return nullptr;
  }
  auto db = sb::store::OpenDatabase({.url = app_url, .pool_size = 4});
  return db.ok() ? std::move(db).value() : nullptr;
}

void MakeLog(Env& env) {
  env.log = std::make_unique<sb::audit::AuditLog>(env.clock, env.ids,
                                                  sb::audit::AuditKeys::Generate(env.random), 1000);
}

// Function-local statics: set up on first use, torn down at exit (temp dirs removed, server
// stopped).
Env* Sqlite() {
  static Env env;
  static const bool ready = [] {
    std::string tmpl = (std::filesystem::temp_directory_path() / "sb-audit-bench-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr) return false;
    env.dir = tmpl;
    const std::string url = "sqlite:" + (env.dir / "bench.db").string();
    env.db = OpenMigrated(url, url);
    MakeLog(env);
    return true;
  }();
  (void)ready;
  return &env;
}

Env* Postgres() {
  static Env env;
  static const bool ready = [] {
    auto server = sb::store::testing::PostgresServer::Start();
    if (!server.ok()) return false;  // db stays null: the benchmark reports the error
    env.server = std::move(server).value();
    env.db = OpenMigrated(env.server->owner_url(), env.server->app_url());
    MakeLog(env);
    return true;
  }();
  (void)ready;
  return &env;
}

sb::audit::Event MakeEvent(Env& env, int i) {
  sb::audit::Event event;
  event.actor =
      sb::audit::Actor{sb::audit::ActorKind::kApiKey, "0190f5a0-0000-7000-8000-00000000002a"};
  event.action = "connection.update";
  event.target = "connections/" + std::to_string(i);
  event.request_id = "req-" + std::to_string(i);
  event.details = sb::Json{{"provider", "google"}, {"token", env.log->HmacSecret("secret")}};
  return event;
}

Status AppendBatch(Env& env, const TenantId& tenant, int n) {
  return env.db->RunInTenant(tenant, [&](sb::store::Transaction& tx) -> Status {
    for (int i = 0; i < n; ++i) SB_RETURN_IF_ERROR(env.log->Append(tx, tenant, MakeEvent(env, i)));
    return sb::OkStatus();
  });
}

void BM_Append(benchmark::State& state, Env* (*get)()) {
  Env* env = get();
  if (env->db == nullptr) return state.SkipWithError("database unavailable");
  const int batch = static_cast<int>(state.range(0));
  const TenantId tenant(env->ids.NewUuid());
  for (auto _ : state) {
    Status s = AppendBatch(*env, tenant, batch);
    if (!s.ok()) return state.SkipWithError(s.ToString().c_str());
  }
  state.SetItemsProcessed(state.iterations() * batch);
}

void BM_Verify(benchmark::State& state, Env* (*get)()) {
  Env* env = get();
  if (env->db == nullptr) return state.SkipWithError("database unavailable");
  if (!env->verify_ready) {  // setup, not timed
    env->verify_tenant = TenantId(env->ids.NewUuid());
    for (int done = 0; done < kVerifyEntries; done += 1000) {
      Status s = AppendBatch(*env, env->verify_tenant, 1000);
      if (!s.ok()) return state.SkipWithError(s.ToString().c_str());
    }
    env->verify_ready = true;
  }
  for (auto _ : state) {
    auto report = env->log->Verify(*env->db, env->verify_tenant);
    if (!report.ok() || !report->ok() || report->entries != kVerifyEntries) {
      return state.SkipWithError("verification failed");
    }
  }
  state.SetItemsProcessed(state.iterations() * kVerifyEntries);
}

BENCHMARK_CAPTURE(BM_Append, Sqlite, Sqlite)
    ->Arg(1)
    ->Arg(100)
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_Append, Postgres, Postgres)
    ->Arg(1)
    ->Arg(100)
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_Verify, Sqlite, Sqlite)
    ->Iterations(3)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Verify, Postgres, Postgres)
    ->Iterations(3)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
