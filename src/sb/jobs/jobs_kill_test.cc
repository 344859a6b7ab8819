// Durable jobs survive a dead worker: 200 jobs, two worker processes (jobs_worker) on one SQLite
// database; one is killed with SIGKILL in the middle of its jobs and a third starts. Every job
// ends done, and every job's effect (a row the handler writes in the job's own transaction)
// exists exactly once: the killed worker's leased jobs were leased again after their lease ran
// out, and its uncommitted work vanished with it.
#include <chrono>
#include <filesystem>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sb/base/clock.h"
#include "sb/base/ids.h"
#include "sb/base/random.h"
#include "sb/jobs/runner.h"
#include "sb/store/migrations/migrator.h"
#include "sb/store/open_database.h"
#include "sb/store/tenancy/tenant_repository.h"

namespace sb::jobs {
namespace {

constexpr int kJobs = 200;

class JobsKillTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ =
        std::filesystem::temp_directory_path() / ("sb-jobs-kill-" + std::to_string(::getpid()) +
                                                  "-" + std::to_string(random_.Uint64() % 100000));
    std::filesystem::create_directories(dir_);
    path_ = (dir_ / "jobs.db").string();
    auto db = store::OpenDatabase({.url = "sqlite:" + path_});
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_ = std::move(*db);
    ASSERT_TRUE(store::Migrator(*db_, clock_).Up().ok());
    ASSERT_TRUE(db_->RunUnscoped([](store::Transaction& tx) {
                     return tx.ExecuteScript(
                         "CREATE TABLE job_effects (job_id TEXT NOT NULL, worker TEXT NOT NULL)");
                   })
                    .ok());
  }
  void TearDown() override {
    for (pid_t pid : workers_) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
    }
    std::filesystem::remove_all(dir_);
  }

  pid_t StartWorker(const std::string& owner) {
    const std::string log = (dir_ / (owner + ".log")).string();
    pid_t pid = ::fork();
    if (pid == 0) {
      std::freopen(log.c_str(), "w", stdout);
      std::freopen(log.c_str(), "a", stderr);
      // 40 ms per job, 1 s leases: a dead worker's jobs come back within a second.
      ::execl(SB_JOBS_WORKER_BINARY, SB_JOBS_WORKER_BINARY, path_.c_str(), owner.c_str(), "40",
              "1000", static_cast<char*>(nullptr));
      ::_exit(127);
    }
    workers_.push_back(pid);
    return pid;
  }

  int64_t Count(const std::string& sql) {
    int64_t n = -1;
    EXPECT_TRUE(db_->RunUnscoped(store::TxMode::kReadOnly,
                                 [&](store::Transaction& tx) -> Status {
                                   SB_ASSIGN_OR_RETURN(auto rows, tx.Query(sql));
                                   n = std::get<int64_t>(rows.at(0).at(0));
                                   return OkStatus();
                                 })
                    .ok());
    return n;
  }

  std::filesystem::path dir_;
  std::string path_;
  std::unique_ptr<store::Database> db_;
  SystemClock clock_;
  SystemRandom random_;
  std::vector<pid_t> workers_;
};

TEST_F(JobsKillTest, EveryJobFinishesExactlyOnceInEffectAfterAWorkerIsKilled) {
  // Two tenants' jobs, enqueued the way producers do: inside a tenant transaction.
  IdGenerator ids(clock_, random_);
  std::vector<TenantId> tenants = {TenantId(ids.NewUuid()), TenantId(ids.NewUuid())};
  for (const TenantId& tenant : tenants) {
    ASSERT_TRUE(db_->RunInTenant(tenant,
                                 [&](store::Transaction& tx) -> Status {
                                   SB_RETURN_IF_ERROR(store::TenantRepository().Insert(
                                       tx, tenant, {tenant, "t", clock_.Now()}));
                                   for (int i = 0; i < kJobs / 2; ++i) {
                                     JobSpec spec;
                                     spec.kind = "test.effect";
                                     spec.payload = {{"n", i}};
                                     SB_RETURN_IF_ERROR(
                                         Enqueue(tx, tenant, spec, clock_, ids).status());
                                   }
                                   return OkStatus();
                                 })
                    .ok());
  }

  const pid_t a = StartWorker("worker-a");
  StartWorker("worker-b");
  // Kill A once work is under way (it is then holding leases on jobs in progress).
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (Count("SELECT COUNT(*) FROM job_effects WHERE worker = 'worker-a'") < 20 &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_EQ(::kill(a, SIGKILL), 0);
  ::waitpid(a, nullptr, 0);
  workers_.erase(workers_.begin());
  const int64_t running_at_kill =
      Count("SELECT COUNT(*) FROM jobs WHERE state = 'running' AND lease_owner LIKE 'worker-a/%'");
  StartWorker("worker-c");

  while (Count("SELECT COUNT(*) FROM jobs WHERE state = 'done'") < kJobs &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_EQ(Count("SELECT COUNT(*) FROM jobs WHERE state = 'done'"), kJobs);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM job_effects"), kJobs);
  EXPECT_EQ(Count("SELECT COUNT(DISTINCT job_id) FROM job_effects"), kJobs);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM jobs WHERE state = 'dead'"), 0);
  // The killed worker left jobs in progress, and they were done by the others.
  EXPECT_GT(running_at_kill, 0);
  EXPECT_GT(Count("SELECT COUNT(*) FROM job_effects WHERE worker = 'worker-c'"), 0);
  EXPECT_GT(Count("SELECT COUNT(*) FROM jobs WHERE attempts > 1"), 0);
}

}  // namespace
}  // namespace sb::jobs
