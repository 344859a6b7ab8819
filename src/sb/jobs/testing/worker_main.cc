// A worker process for jobs_kill_test: runs a JobRunner over a SQLite database until SIGTERM.
// Its one job kind, "test.effect", waits `work_ms` and then, in the job's own transaction,
// records its effect in the test table job_effects and completes the job (exactly once in
// effect, even when a process dies in the middle).
//
//   jobs_worker <sqlite path> <owner> <work_ms> <lease_ms>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>

#include <signal.h>

#include "sb/base/clock.h"
#include "sb/base/random.h"
#include "sb/jobs/runner.h"
#include "sb/store/open_database.h"

int main(int argc, char** argv) {
  if (argc != 5) {
    std::fprintf(stderr, "usage: jobs_worker <sqlite path> <owner> <work_ms> <lease_ms>\n");
    return 2;
  }
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  const std::string owner = argv[2];
  const auto work = std::chrono::milliseconds(std::atoi(argv[3]));
  auto db = sb::store::OpenDatabase({.url = std::string("sqlite:") + argv[1], .pool_size = 4});
  if (!db.ok()) {
    std::fprintf(stderr, "jobs_worker: %s\n", db.status().ToString().c_str());
    return 1;
  }
  sb::SystemClock clock;
  sb::SystemRandom random;
  sb::jobs::JobRunnerOptions options;
  options.owner = owner;
  options.threads = 4;
  options.batch = 8;
  options.per_tenant = 8;
  options.lease = std::chrono::milliseconds(std::atoi(argv[4]));
  options.poll = std::chrono::milliseconds(20);
  options.backoff_base = std::chrono::milliseconds(50);
  sb::jobs::JobRunner runner(**db, **db, clock, random, options);
  runner.Register("test.effect", [&](sb::jobs::JobContext& job) {
    std::this_thread::sleep_for(work);
    const sb::Status s = job.CompleteWith([&](sb::store::Transaction& tx) {
      return tx
          .Execute("INSERT INTO job_effects (job_id, worker) VALUES ($1, $2)",
                   {job.job().id.value(), owner})
          .status();
    });
    return s.ok() ? sb::jobs::JobResult::Done() : sb::jobs::JobResult::Retry(s.ToString());
  });
  runner.Start();
  std::printf("ready\n");
  std::fflush(stdout);
  int received = 0;
  sigwait(&signals, &received);
  runner.Stop();
  return 0;
}
