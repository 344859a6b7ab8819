// JobRunner over SQLite with a fake clock: handlers run and complete, retries back off with
// jitter and dead-letter after the last attempt, permanent failures dead-letter at once, work
// done through CompleteWith is rolled back when the lease was lost, and only registered kinds
// are leased.
#include "sb/jobs/runner.h"

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <set>
#include <thread>

#include <gtest/gtest.h>

#include "sb/base/testing/fake_clock.h"
#include "sb/store/tenancy/tenant_repository.h"
#include "sb/store/testing/test_backends.h"

namespace sb::jobs {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

class JobRunnerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = store::testing::OpenMigrated(backend_);
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_ = std::move(*db);
    tenant_ = TenantId(ids_.NewUuid());
    ASSERT_TRUE(
        db_->RunInTenant(
               tenant_,
               [&](store::Transaction& tx) {
                 return store::TenantRepository().Insert(tx, tenant_, {tenant_, "t", clock_.Now()});
               })
            .ok());
    ASSERT_TRUE(db_->RunUnscoped([](store::Transaction& tx) {
                     return tx.ExecuteScript("CREATE TABLE effects (job_id TEXT NOT NULL)");
                   })
                    .ok());
  }

  JobRunnerOptions Options(const std::string& owner = "node-a") {
    JobRunnerOptions options;
    options.owner = owner;
    options.threads = 2;
    options.lease = seconds(30);
    options.backoff_base = seconds(10);
    options.backoff_max = seconds(100);
    return options;
  }

  JobId Add(const std::string& kind, int max_attempts = 3, const std::string& dedupe = "") {
    std::optional<JobId> id;
    EXPECT_TRUE(db_->RunInTenant(tenant_,
                                 [&](store::Transaction& tx) -> Status {
                                   JobSpec spec;
                                   spec.kind = kind;
                                   spec.max_attempts = max_attempts;
                                   spec.dedupe_key = dedupe;
                                   SB_ASSIGN_OR_RETURN(auto r,
                                                       Enqueue(tx, tenant_, spec, clock_, ids_));
                                   id = r.id;
                                   return OkStatus();
                                 })
                    .ok());
    return *id;
  }

  store::JobRecord Get(const JobId& id) {
    std::optional<store::JobRecord> out;
    EXPECT_TRUE(db_->RunInTenant(tenant_,
                                 [&](store::Transaction& tx) -> Status {
                                   SB_ASSIGN_OR_RETURN(out,
                                                       store::JobRepository().Get(tx, tenant_, id));
                                   return OkStatus();
                                 })
                    .ok());
    return *out;
  }

  int64_t Effects() {
    int64_t n = 0;
    EXPECT_TRUE(db_->RunUnscoped([&](store::Transaction& tx) -> Status {
                     SB_ASSIGN_OR_RETURN(auto rows, tx.Query("SELECT COUNT(*) FROM effects"));
                     n = std::get<int64_t>(rows.at(0).at(0));
                     return OkStatus();
                   })
                    .ok());
    return n;
  }

  store::testing::SqliteTestBackend backend_;
  std::unique_ptr<store::Database> db_;
  sb::testing::FakeClock clock_;
  SystemRandom random_;
  IdGenerator ids_{clock_, random_};
  metrics::MetricsRegistry metrics_;
  TenantId tenant_;
};

TEST_F(JobRunnerTest, RunsRegisteredKindsAndCompletesThem) {
  JobRunner runner(*db_, *db_, clock_, random_, Options(), &metrics_);
  std::atomic<int> runs{0};
  runner.Register("test.ok", [&](JobContext& job) {
    EXPECT_EQ(job.job().tenant_id, tenant_);
    ++runs;
    return JobResult::Done();
  });
  const JobId a = Add("test.ok");
  const JobId b = Add("test.ok");
  const JobId other = Add("test.unregistered");
  auto ran = runner.RunOnce();
  ASSERT_TRUE(ran.ok()) << ran.status().ToString();
  EXPECT_EQ(*ran, 2);
  EXPECT_EQ(runs.load(), 2);
  EXPECT_EQ(Get(a).state, store::JobState::kDone);
  EXPECT_EQ(Get(b).state, store::JobState::kDone);
  EXPECT_EQ(Get(other).state, store::JobState::kQueued);  // only registered kinds are leased
  EXPECT_EQ(*runner.RunOnce(), 0);
  EXPECT_NE(
      metrics_.RenderPrometheusText().find(R"(sb_jobs_total{kind="test.ok",outcome="done"} 2)"),
      std::string::npos);
}

TEST_F(JobRunnerTest, RetriesBackOffThenDeadLetter) {
  JobRunner runner(*db_, *db_, clock_, random_, Options());
  runner.Register("test.flaky", [](JobContext&) { return JobResult::Retry("provider 503"); });
  const JobId id = Add("test.flaky", /*max_attempts=*/3);
  ASSERT_EQ(*runner.RunOnce(), 1);
  store::JobRecord job = Get(id);
  EXPECT_EQ(job.state, store::JobState::kQueued);
  EXPECT_EQ(job.attempts, 1);
  EXPECT_EQ(job.last_error, "provider 503");
  // 10 s minus up to half as jitter.
  EXPECT_GE(job.run_at - clock_.Now(), seconds(5));
  EXPECT_LE(job.run_at - clock_.Now(), seconds(10));
  EXPECT_EQ(*runner.RunOnce(), 0);  // not due yet

  clock_.Advance(seconds(11));
  ASSERT_EQ(*runner.RunOnce(), 1);
  job = Get(id);
  EXPECT_GE(job.run_at - clock_.Now(), seconds(10));  // 20 s minus up to half
  EXPECT_LE(job.run_at - clock_.Now(), seconds(20));

  clock_.Advance(seconds(21));
  ASSERT_EQ(*runner.RunOnce(), 1);
  EXPECT_EQ(Get(id).state, store::JobState::kDead);  // the third attempt was the last
  clock_.Advance(seconds(1000));
  EXPECT_EQ(*runner.RunOnce(), 0);
}

TEST_F(JobRunnerTest, RetryAfterWinsAndPermanentFailuresDeadLetterAtOnce) {
  JobRunner runner(*db_, *db_, clock_, random_, Options());
  runner.Register("test.limited",
                  [](JobContext&) { return JobResult::Retry("429", milliseconds(600'000)); });
  runner.Register("test.broken", [](JobContext&) { return JobResult::Fail("410 Gone"); });
  const JobId limited = Add("test.limited");
  const JobId broken = Add("test.broken", /*max_attempts=*/10);
  ASSERT_EQ(*runner.RunOnce(), 2);
  EXPECT_GE(Get(limited).run_at - clock_.Now(), seconds(600));
  EXPECT_EQ(Get(broken).state, store::JobState::kDead);
  EXPECT_EQ(Get(broken).last_error, "410 Gone");
}

// A handler that lost a race with a concurrent writer asks for its next attempt at once: due
// now, with no backoff, so the next poll runs it.
TEST_F(JobRunnerTest, ARetryAtOnceIsDueWithoutBackoff) {
  JobRunner runner(*db_, *db_, clock_, random_, Options());
  std::atomic<int> runs{0};
  runner.Register("test.raced", [&](JobContext&) {
    return ++runs == 1 ? JobResult::RetryAtOnce("SQLSTATE 23505") : JobResult::Done();
  });
  const JobId id = Add("test.raced");
  ASSERT_EQ(*runner.RunOnce(), 1);
  store::JobRecord job = Get(id);
  EXPECT_EQ(job.state, store::JobState::kQueued);
  EXPECT_EQ(job.attempts, 1);
  EXPECT_EQ(job.run_at, clock_.Now());
  ASSERT_EQ(*runner.RunOnce(), 1);  // the clock has not moved
  EXPECT_EQ(Get(id).state, store::JobState::kDone);
  EXPECT_EQ(runs.load(), 2);
}

// A handler's database work and the job's completion commit together; when the lease was lost
// (another node took the job after it ran out) the work is rolled back.
TEST_F(JobRunnerTest, CompleteWithIsAtomicAndRefusesALostLease) {
  const JobId id = Add("test.effect");
  auto effect = [&](JobContext& job) -> Status {
    return job.CompleteWith([&](store::Transaction& tx) {
      return tx.Execute("INSERT INTO effects (job_id) VALUES ($1)", {job.job().id.value()})
          .status();
    });
  };
  Status slow_result = OkStatus();
  JobRunner slow(*db_, *db_, clock_, random_, Options("node-slow"));
  JobRunner fast(*db_, *db_, clock_, random_, Options("node-fast"));
  fast.Register("test.effect", [&](JobContext& job) {
    const Status s = effect(job);
    return s.ok() ? JobResult::Done() : JobResult::Retry(s.ToString());
  });
  slow.Register("test.effect", [&](JobContext& job) {
    // While this node works, its lease runs out and another node takes and finishes the job.
    clock_.Advance(seconds(31));
    EXPECT_EQ(*fast.RunOnce(), 1);
    slow_result = effect(job);
    return slow_result.ok() ? JobResult::Done() : JobResult::Retry(slow_result.ToString());
  });
  ASSERT_EQ(*slow.RunOnce(), 1);
  EXPECT_EQ(slow_result.code(), StatusCode::kAborted);
  EXPECT_EQ(Effects(), 1);
  store::JobRecord job = Get(id);
  EXPECT_EQ(job.state, store::JobState::kDone);
  EXPECT_EQ(job.attempts, 2);
}

// Jobs of one concurrency key run at most `limit` at once; the running loop polls again at once
// after a poll that found work, so a backlog of one key drains without waiting out the idle poll
// interval between its slots (here an hour).
TEST_F(JobRunnerTest, AConcurrencyKeyLimitsJobsAtOnceAndTheBacklogDrains) {
  JobRunnerOptions options = Options();
  options.threads = 4;
  options.poll = std::chrono::hours(1);
  JobRunner runner(*db_, *db_, clock_, random_, options);
  std::mutex mu;
  int running = 0, most = 0, done = 0;  // guarded by mu
  std::condition_variable all_done;
  runner.Register("test.keyed", [&](JobContext&) {
    {
      std::lock_guard lock(mu);
      most = std::max(most, ++running);
    }
    std::this_thread::sleep_for(milliseconds(20));
    std::lock_guard lock(mu);
    --running;
    ++done;
    all_done.notify_all();
    return JobResult::Done();
  });
  ASSERT_TRUE(db_->RunInTenant(tenant_,
                               [&](store::Transaction& tx) -> Status {
                                 for (int i = 0; i < 6; ++i) {
                                   JobSpec spec;
                                   spec.kind = "test.keyed";
                                   spec.concurrency_key = "endpoint:1";
                                   spec.concurrency_limit = 2;
                                   SB_RETURN_IF_ERROR(
                                       Enqueue(tx, tenant_, spec, clock_, ids_).status());
                                 }
                                 return OkStatus();
                               })
                  .ok());
  runner.Start();
  {
    std::unique_lock lock(mu);
    EXPECT_TRUE(all_done.wait_for(lock, seconds(30), [&] { return done == 6; }));
    EXPECT_LE(most, 2);
  }
  runner.Stop();
}

// After an empty poll the loop waits options.poll (here an hour) unless a producer wakes it.
// The jobs a "test.ok" handler has run, for tests of when the loop polls.
class RanJobs {
 public:
  explicit RanJobs(JobRunner& runner) {
    runner.Register("test.ok", [this](JobContext& job) {
      std::lock_guard lock(mu_);
      done_.insert(job.job().id.value());
      ran_.notify_all();
      return JobResult::Done();
    });
  }
  // Whether `id` ran within 30 s.
  bool Await(const JobId& id) {
    std::unique_lock lock(mu_);
    return ran_.wait_for(lock, seconds(30), [&] { return done_.contains(id.value()); });
  }

 private:
  std::mutex mu_;
  std::condition_variable ran_;
  std::set<std::string> done_;  // guarded by mu_
};

TEST_F(JobRunnerTest, WakeMakesAnIdleLoopPollAtOnce) {
  JobRunnerOptions options = Options();
  options.poll = std::chrono::hours(1);
  JobRunner runner(*db_, *db_, clock_, random_, options);
  RanJobs ran(runner);
  const JobId first = Add("test.ok");
  runner.Start();
  ASSERT_TRUE(ran.Await(first));
  // Let the loop find the queue empty and begin its hour-long wait.
  std::this_thread::sleep_for(milliseconds(200));
  const JobId second = Add("test.ok");
  runner.Wake();
  EXPECT_TRUE(ran.Await(second));
  runner.Stop();
  EXPECT_EQ(Get(second).state, store::JobState::kDone);
}

// WakeIn: an idle loop polls when the work queued for later is due, not at its next idle poll
// (an hour here), and a later WakeIn does not push back an earlier one.
TEST_F(JobRunnerTest, WakeInMakesAnIdleLoopPollWhenTheWorkIsDue) {
  JobRunnerOptions options = Options();
  options.poll = std::chrono::hours(1);
  JobRunner runner(*db_, *db_, clock_, random_, options);
  RanJobs ran(runner);
  runner.Start();
  // Let the loop find the queue empty and begin its hour-long wait.
  std::this_thread::sleep_for(milliseconds(200));
  const JobId later = Add("test.ok");
  runner.WakeIn(milliseconds(100));
  runner.WakeIn(std::chrono::hours(2));
  EXPECT_TRUE(ran.Await(later));
  runner.Stop();
  EXPECT_EQ(Get(later).state, store::JobState::kDone);
}

TEST_F(JobRunnerTest, DedupeKeepsOneLiveJobPerKey) {
  const JobId first = Add("test.ok", 3, "connection:1");
  EXPECT_EQ(Add("test.ok", 3, "connection:1"), first);
  EXPECT_NE(Add("test.ok", 3, "connection:2"), first);
}

}  // namespace
}  // namespace sb::jobs
