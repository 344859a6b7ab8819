// Conformance suite of the durable job queue's storage (JobRepository), written once and
// instantiated per backend like repository_conformance.h: enqueue/get/list, dedupe of live
// jobs, the outbox property (a rolled-back enqueue leaves nothing), leasing order, due times,
// per-tenant fairness, expired leases taken over (and the old owner locked out), heartbeats,
// retries and dead letters, requeue, counts, cross-tenant refusals (RLS-09), validation and
// corrupt rows (DATA_LOSS), and on PostgreSQL concurrent leasers that never share a job.
//
// The PostgreSQL database is shared by the tests of one binary and leasing spans tenants, so
// every test leases only its own fresh job kind. Include in exactly one translation unit per
// test binary.
#pragma once

#include <algorithm>
#include <atomic>
#include <barrier>
#include <functional>
#include <iterator>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <string_view>
#include <thread>
#include <type_traits>

#include <gtest/gtest.h>

#include "sb/store/jobs/job_repository.h"
#include "sb/store/testing/conformance_fixture.h"

namespace sb::store::testing {

template <typename TestBackend>
class JobConformanceTest : public RepositoryConformanceTest<TestBackend> {
 protected:
  void SetUp() override {
    RepositoryConformanceTest<TestBackend>::SetUp();
    auto maint = this->backend_.OpenMaintenance();
    ASSERT_TRUE(maint.ok()) << maint.status().ToString();
    maint_ = std::move(maint).value();
    kind_ = "test." + HexEncode(this->random_.Bytes(6));
  }

  static constexpr bool kIsSqlite = std::string_view(TestBackend::kName) == "sqlite";

  JobRecord Job(const TenantId& tenant, std::string kind = "") {
    JobRecord r;
    r.tenant_id = tenant;
    r.id = JobId(this->ids_.NewUuid());
    r.kind = kind.empty() ? kind_ : std::move(kind);
    r.payload = Json{{"url", "https://hooks.example/x"}, {"n", 7}, {"tags", {"a", "b"}}};
    r.run_at = this->clock_.Now();
    r.created_at = this->clock_.Now();
    r.updated_at = r.created_at;
    return r;
  }

  // Runs `fn` in its own transaction of `tenant` and returns what it returned (a Status or a
  // Result), or the transaction's error.
  template <typename Fn>
  auto Call(const TenantId& tenant, Fn fn) {
    using R = std::invoke_result_t<Fn, Transaction&>;
    std::optional<R> out;
    Status s = this->InTenant(tenant, [&](Transaction& tx) -> Status {
      out.emplace(fn(tx));
      return ::sb::internal::AsStatus(*out);
    });
    if (!s.ok() || !out.has_value()) return R(s);
    return std::move(*out);
  }

  Result<EnqueueResult> Enqueue(const JobRecord& r) {
    return Call(r.tenant_id, [&](Transaction& tx) { return jobs_.Enqueue(tx, r.tenant_id, r); });
  }

  // Enqueues `r` and EXPECTs a new job.
  void Put(const JobRecord& r) {
    auto got = Enqueue(r);
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    EXPECT_EQ(*got, (EnqueueResult{r.id, true}));
  }

  std::optional<JobRecord> GetJob(const TenantId& tenant, const JobId& id) {
    auto got = Call(tenant, [&](Transaction& tx) { return jobs_.Get(tx, tenant, id); });
    EXPECT_TRUE(got.ok()) << got.status().ToString();
    return got.ok() ? *got : std::nullopt;
  }

  // MaintenanceLease of this test's kind (or `kinds`) in its own maintenance transaction.
  std::vector<JobRecord> Lease(const std::string& owner, Timestamp now, int limit = 100,
                               int per_tenant = 100,
                               std::chrono::milliseconds lease = std::chrono::seconds(30),
                               std::optional<std::vector<std::string>> kinds = std::nullopt) {
    std::vector<JobRecord> out;
    Status s = maint_->RunUnscoped([&](Transaction& tx) -> Status {
      SB_ASSIGN_OR_RETURN(out, jobs_.MaintenanceLease(tx, owner, now, lease, limit, per_tenant,
                                                      kinds.value_or(std::vector{kind_})));
      return OkStatus();
    });
    EXPECT_TRUE(s.ok()) << s.ToString();
    return out;
  }

  bool Complete(const TenantId& tenant, const JobId& id, const std::string& owner, Timestamp now) {
    auto r =
        Call(tenant, [&](Transaction& tx) { return jobs_.Complete(tx, tenant, id, owner, now); });
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() && *r;
  }

  bool Fail(const TenantId& tenant, const JobId& id, const std::string& owner, Timestamp now,
            const std::string& error, std::optional<Timestamp> retry_at) {
    auto r = Call(tenant, [&](Transaction& tx) {
      return jobs_.Fail(tx, tenant, id, owner, now, error, retry_at);
    });
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() && *r;
  }

  bool Heartbeat(const TenantId& tenant, const JobId& id, const std::string& owner,
                 Timestamp until) {
    auto r = Call(tenant,
                  [&](Transaction& tx) { return jobs_.Heartbeat(tx, tenant, id, owner, until); });
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() && *r;
  }

  // Every job of `tenant` matching the filters, read in pages of `page`.
  std::vector<JobRecord> ListAll(const TenantId& tenant, std::optional<JobState> state,
                                 std::optional<std::string> kind, int page) {
    std::vector<JobRecord> all;
    std::optional<JobId> after;
    while (true) {
      auto batch = Call(tenant, [&](Transaction& tx) {
        return jobs_.List(tx, tenant, state, kind, after, page);
      });
      EXPECT_TRUE(batch.ok()) << batch.status().ToString();
      if (!batch.ok() || batch->empty()) return all;
      EXPECT_LE(batch->size(), static_cast<size_t>(page));
      after = batch->back().id;
      all.insert(all.end(), batch->begin(), batch->end());
    }
  }

  static std::vector<JobId> Ids(const std::vector<JobRecord>& jobs) {
    std::vector<JobId> out;
    for (const JobRecord& j : jobs) out.push_back(j.id);
    return out;
  }

  std::unique_ptr<Database> maint_;
  std::string kind_;
  JobRepository jobs_;
};

TYPED_TEST_SUITE_P(JobConformanceTest);

TYPED_TEST_P(JobConformanceTest, EnqueueGetAndListInIdOrder) {
  const TenantId& a = this->a_;
  std::vector<JobRecord> all;
  for (int i = 0; i < 7; ++i) {
    JobRecord r = this->Job(a, i % 2 == 0 ? this->kind_ : this->kind_ + ".other");
    r.priority = i * 10 - 30;
    r.run_at = this->clock_.Now() + std::chrono::seconds(i);
    r.max_attempts = i + 1;
    r.last_error = i == 3 ? "carried over" : "";
    r.payload = i == 4 ? Json::object() : Json{{"i", i}, {"s", "\xc3\xa9t\xc3\xa9"}};
    all.push_back(r);
  }
  std::vector<JobRecord> shuffled = all;
  std::shuffle(shuffled.begin(), shuffled.end(), std::mt19937(7));
  for (const JobRecord& r : shuffled) this->Put(r);
  this->Put(this->Job(this->b_));  // noise
  std::sort(all.begin(), all.end(), [](auto& x, auto& y) { return x.id < y.id; });

  for (const JobRecord& r : all) EXPECT_EQ(this->GetJob(a, r.id), r);
  EXPECT_EQ(this->GetJob(a, JobId(this->ids_.NewUuid())), std::nullopt);
  EXPECT_EQ(this->ListAll(a, std::nullopt, std::nullopt, 3), all);
  EXPECT_EQ(this->ListAll(a, JobState::kQueued, std::nullopt, 100), all);
  EXPECT_TRUE(this->ListAll(a, JobState::kRunning, std::nullopt, 100).empty());
  std::vector<JobRecord> other;
  std::copy_if(all.begin(), all.end(), std::back_inserter(other),
               [&](const JobRecord& r) { return r.kind != this->kind_; });
  EXPECT_EQ(other.size(), 3u);
  EXPECT_EQ(this->ListAll(a, JobState::kQueued, this->kind_ + ".other", 2), other);
  EXPECT_EQ(this->ListAll(this->b_, std::nullopt, std::nullopt, 10).size(), 1u);

  // Listing by state follows the lifecycle.
  auto leased = this->Lease("node-1", this->clock_.Now() + std::chrono::minutes(1));
  EXPECT_EQ(leased.size(), 5u);  // a's four of kind_, and b's one
  auto running = this->ListAll(a, JobState::kRunning, std::nullopt, 2);
  EXPECT_EQ(running.size(), 4u);
  for (const JobRecord& r : running) EXPECT_EQ(r.kind, this->kind_);

  EXPECT_EQ(this->Enqueue(all[0]).status().code(), StatusCode::kAlreadyExists);  // same id
}

// The outbox pattern: a job enqueued in a transaction that rolls back never existed.
TYPED_TEST_P(JobConformanceTest, EnqueueIsPartOfTheCallersTransaction) {
  const TenantId& a = this->a_;
  JobRecord r = this->Job(a);
  Status s = this->InTenant(a, [&](Transaction& tx) -> Status {
    SB_ASSIGN_OR_RETURN(EnqueueResult got, this->jobs_.Enqueue(tx, a, r));
    EXPECT_TRUE(got.created);
    SB_ASSIGN_OR_RETURN(auto seen, this->jobs_.Get(tx, a, r.id));
    EXPECT_EQ(seen, r);
    return AbortedError("the caller's change failed");
  });
  EXPECT_EQ(s.code(), StatusCode::kAborted);
  EXPECT_EQ(this->GetJob(a, r.id), std::nullopt);
  EXPECT_TRUE(this->Lease("node-1", this->clock_.Now()).empty());
}

TYPED_TEST_P(JobConformanceTest, DedupeReturnsTheLiveJobUntilItFinishes) {
  const TenantId& a = this->a_;
  auto keyed = [&](const TenantId& t, const std::string& key, std::string kind = "") {
    JobRecord r = this->Job(t, std::move(kind));
    r.dedupe_key = key;
    return r;
  };
  JobRecord first = keyed(a, "connection:42");
  first.priority = 10;  // leased before the others below
  this->Put(first);
  JobRecord again = keyed(a, "connection:42");
  auto got = this->Enqueue(again);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(*got, (EnqueueResult{first.id, false}));
  EXPECT_EQ(this->GetJob(a, again.id), std::nullopt);            // nothing inserted
  this->Put(keyed(a, "connection:42", this->kind_ + ".other"));  // keys are per kind
  this->Put(keyed(this->b_, "connection:42"));                   // and per tenant
  this->Put(keyed(a, ""));                                       // "" is no key
  this->Put(keyed(a, ""));

  // A running job is still live.
  const Timestamp now = this->clock_.Now();
  auto leased = this->Lease("node-1", now, 1);
  ASSERT_EQ(this->Ids(leased), std::vector<JobId>{first.id});
  got = this->Enqueue(keyed(a, "connection:42"));
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(*got, (EnqueueResult{first.id, false}));

  // Once it is done, the key is free again.
  EXPECT_TRUE(this->Complete(a, first.id, "node-1", now));
  this->Put(keyed(a, "connection:42"));
  // Requeueing the finished one would make a second live job with the key.
  auto requeue =
      this->Call(a, [&](Transaction& tx) { return this->jobs_.Requeue(tx, a, first.id, now); });
  EXPECT_EQ(requeue.status().code(), StatusCode::kAlreadyExists) << requeue.status().ToString();
  EXPECT_EQ(this->GetJob(a, first.id)->state, JobState::kDone);
}

// CompleteQueued retires a queued job by kind and dedupe key (the calendar writer's safety net
// once its inline send settled); a running one, another kind's or another tenant's stays.
TYPED_TEST_P(JobConformanceTest, CompleteQueuedRetiresOnlyTheQueuedJobOfTheKey) {
  const TenantId& a = this->a_;
  const Timestamp now = this->clock_.Now();
  auto keyed = [&](const TenantId& t, const std::string& key, std::string kind = "") {
    JobRecord r = this->Job(t, std::move(kind));
    r.dedupe_key = key;
    return r;
  };
  auto retire = [&](const TenantId& t, const std::string& kind, const std::string& key) {
    return this->Call(
        t, [&](Transaction& tx) { return this->jobs_.CompleteQueued(tx, t, kind, key, now); });
  };
  const JobRecord queued = keyed(a, "mapping:1");
  const JobRecord other_kind = keyed(a, "mapping:1", this->kind_ + ".other");
  const JobRecord other_tenant = keyed(this->b_, "mapping:1");
  for (const JobRecord& r : {queued, other_kind, other_tenant}) this->Put(r);
  auto done = retire(a, this->kind_, "mapping:1");
  ASSERT_TRUE(done.ok()) << done.status().ToString();
  EXPECT_TRUE(*done);
  EXPECT_EQ(this->GetJob(a, queued.id)->state, JobState::kDone);
  EXPECT_EQ(this->GetJob(a, queued.id)->finished_at, now);
  EXPECT_EQ(this->GetJob(a, other_kind.id)->state, JobState::kQueued);
  EXPECT_EQ(this->GetJob(this->b_, other_tenant.id)->state, JobState::kQueued);
  // Nothing queued any more: false. A running job of the key is left to finish.
  EXPECT_FALSE(*retire(a, this->kind_, "mapping:1"));
  JobRecord running = keyed(a, "mapping:2");
  running.priority = 10;
  this->Put(running);
  ASSERT_EQ(this->Ids(this->Lease("node-1", now, 1)), std::vector<JobId>{running.id});
  EXPECT_FALSE(*retire(a, this->kind_, "mapping:2"));
  EXPECT_EQ(this->GetJob(a, running.id)->state, JobState::kRunning);
  // No key, or a malformed one, is refused.
  EXPECT_EQ(retire(a, this->kind_, "").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(retire(a, "", "mapping:1").status().code(), StatusCode::kInvalidArgument);
}

TYPED_TEST_P(JobConformanceTest, LeasesByPriorityThenRunAtAndNotBeforeDue) {
  const TenantId& a = this->a_;
  const Timestamp t = this->clock_.Now();
  auto add = [&](int priority, std::chrono::seconds offset) {
    JobRecord r = this->Job(a);
    r.priority = priority;
    r.run_at = t + offset;
    this->Put(r);
    return r;
  };
  JobRecord low = add(-1, std::chrono::seconds(-5));
  JobRecord mid = add(0, std::chrono::seconds(-3));
  JobRecord high_late = add(5, std::chrono::seconds(-1));
  JobRecord high_early = add(5, std::chrono::seconds(-2));
  JobRecord future = add(100, std::chrono::seconds(1));  // not due yet, whatever its priority

  auto leased = this->Lease("node-1", t, 2);
  EXPECT_EQ(this->Ids(leased), (std::vector<JobId>{high_early.id, high_late.id}));
  leased = this->Lease("node-2", t, 10, 10, std::chrono::seconds(45));
  EXPECT_EQ(this->Ids(leased), (std::vector<JobId>{mid.id, low.id}));
  ASSERT_FALSE(leased.empty());
  JobRecord want = mid;
  want.state = JobState::kRunning;
  want.lease_owner = "node-2";
  want.lease_until = t + std::chrono::seconds(45);
  want.attempts = 1;
  want.updated_at = t;
  EXPECT_EQ(leased[0], want);
  EXPECT_EQ(this->GetJob(a, mid.id), want);
  EXPECT_EQ(this->GetJob(a, future.id)->state, JobState::kQueued);

  EXPECT_TRUE(this->Lease("node-3", t).empty());  // everything due is running
  EXPECT_TRUE(this->Lease("node-3", t + std::chrono::milliseconds(999)).empty());
  leased = this->Lease("node-3", t + std::chrono::seconds(1));
  EXPECT_EQ(this->Ids(leased), (std::vector<JobId>{future.id}));
}

TYPED_TEST_P(JobConformanceTest, LeaseIsFairAcrossTenantsAndFiltersKinds) {
  const TenantId& a = this->a_;
  const TenantId& b = this->b_;
  const Timestamp t = this->clock_.Now();
  for (int i = 0; i < 50; ++i) {
    JobRecord r = this->Job(a);
    r.run_at = t - std::chrono::seconds(100 - i);  // a's backlog is older than b's jobs
    r.priority = i < 3 ? 1 : 0;
    this->Put(r);
  }
  for (int i = 0; i < 2; ++i) this->Put(this->Job(b));
  JobRecord other_kind = this->Job(b, this->kind_ + ".other");
  this->Put(other_kind);

  // Every tenant's best five first (a's five, b's two), then the batch fills up with a's next:
  // b is not starved by a's older, bigger backlog, and a lone backlog still fills a batch.
  auto leased = this->Lease("node-1", t, 10, 5);
  std::map<TenantId, int> per_tenant;
  for (const JobRecord& r : leased) ++per_tenant[r.tenant_id];
  EXPECT_EQ(leased.size(), 10u);
  EXPECT_EQ(per_tenant[a], 8);
  EXPECT_EQ(per_tenant[b], 2);
  // Returned best first: a's three of priority 1, then by age (a's backlog before b's two).
  ASSERT_EQ(leased.size(), 10u);
  for (int i = 0; i < 10; ++i) EXPECT_EQ(leased[i].tenant_id, i < 8 ? a : b) << i;
  for (int i = 0; i < 3; ++i) EXPECT_EQ(leased[i].priority, 1) << i;
  EXPECT_EQ(leased[3].run_at, t - std::chrono::seconds(97));
  EXPECT_EQ(leased[7].run_at, t - std::chrono::seconds(93));
  EXPECT_EQ(std::count_if(leased.begin(), leased.end(),
                          [&](const JobRecord& r) { return r.id == other_kind.id; }),
            0);

  leased = this->Lease("node-1", t, 10, 5);
  EXPECT_EQ(leased.size(), 10u);  // only a has due jobs of this kind left: all ten are a's
  EXPECT_EQ(leased.front().run_at, t - std::chrono::seconds(92));
  leased = this->Lease("node-1", t, 100, 100);
  EXPECT_EQ(leased.size(), 32u);
  // Every kind: the other kind's job (and whatever other tests left behind on a shared server).
  leased = this->Lease("node-1", t, JobRepository::kMaxLeaseLimit, JobRepository::kMaxLeaseLimit,
                       std::chrono::seconds(30), std::vector<std::string>{});
  EXPECT_EQ(std::count_if(leased.begin(), leased.end(),
                          [&](const JobRecord& r) { return r.tenant_id == a || r.tenant_id == b; }),
            1);
}

TYPED_TEST_P(JobConformanceTest, ExpiredLeaseIsTakenOverAndTheOldOwnerLosesIt) {
  const TenantId& a = this->a_;
  JobRecord r = this->Job(a);
  this->Put(r);
  const Timestamp t0 = this->clock_.Now();
  ASSERT_EQ(this->Lease("node-a", t0).size(), 1u);
  EXPECT_TRUE(this->Lease("node-b", t0 + std::chrono::seconds(29)).empty());
  EXPECT_TRUE(this->Lease("node-b", t0 + std::chrono::seconds(30)).empty());  // not before it ends
  const Timestamp t1 = t0 + std::chrono::seconds(31);
  auto taken = this->Lease("node-b", t1);
  ASSERT_EQ(taken.size(), 1u);
  EXPECT_EQ(taken[0].lease_owner, "node-b");
  EXPECT_EQ(taken[0].attempts, 2);
  EXPECT_EQ(taken[0].lease_until, t1 + std::chrono::seconds(30));

  // node-a's handler finishes late: every write of it is refused.
  EXPECT_FALSE(this->Complete(a, r.id, "node-a", t1));
  EXPECT_FALSE(this->Heartbeat(a, r.id, "node-a", t1 + std::chrono::minutes(5)));
  EXPECT_FALSE(this->Fail(a, r.id, "node-a", t1, "boom", std::nullopt));
  EXPECT_EQ(this->GetJob(a, r.id), taken[0]);

  const Timestamp t2 = t1 + std::chrono::seconds(3);
  EXPECT_TRUE(this->Complete(a, r.id, "node-b", t2));
  JobRecord want = taken[0];
  want.state = JobState::kDone;
  want.lease_owner = "";
  want.lease_until = std::nullopt;
  want.finished_at = t2;
  want.updated_at = t2;
  EXPECT_EQ(this->GetJob(a, r.id), want);
  EXPECT_FALSE(this->Complete(a, r.id, "node-b", t2));  // once
  EXPECT_TRUE(this->Lease("node-c", t2 + std::chrono::hours(1)).empty());
}

TYPED_TEST_P(JobConformanceTest, HeartbeatExtendsTheLease) {
  const TenantId& a = this->a_;
  JobRecord r = this->Job(a);
  this->Put(r);
  const Timestamp t0 = this->clock_.Now();
  ASSERT_EQ(this->Lease("node-a", t0).size(), 1u);
  EXPECT_TRUE(this->Heartbeat(a, r.id, "node-a", t0 + std::chrono::seconds(90)));
  EXPECT_FALSE(this->Heartbeat(a, r.id, "node-b", t0 + std::chrono::hours(1)));
  EXPECT_FALSE(this->Heartbeat(a, JobId(this->ids_.NewUuid()), "node-a", t0));
  EXPECT_EQ(this->GetJob(a, r.id)->lease_until, t0 + std::chrono::seconds(90));
  EXPECT_TRUE(this->Lease("node-b", t0 + std::chrono::seconds(60)).empty());
  EXPECT_TRUE(this->Complete(a, r.id, "node-a", t0 + std::chrono::seconds(80)));
  EXPECT_FALSE(this->Heartbeat(a, r.id, "node-a", t0 + std::chrono::seconds(120)));
}

TYPED_TEST_P(JobConformanceTest, FailRetriesUntilMaxAttemptsThenDies) {
  const TenantId& a = this->a_;
  JobRecord r = this->Job(a);
  r.max_attempts = 3;
  this->Put(r);
  Timestamp now = this->clock_.Now();
  for (int attempt = 1; attempt <= 3; ++attempt) {
    auto leased = this->Lease("node-1", now);
    ASSERT_EQ(leased.size(), 1u) << attempt;
    EXPECT_EQ(leased[0].attempts, attempt);
    const Timestamp retry_at = now + std::chrono::seconds(10 * attempt);
    const std::string error = "HTTP 503 #" + std::to_string(attempt);
    EXPECT_TRUE(this->Fail(a, r.id, "node-1", now, error, retry_at));
    auto got = this->GetJob(a, r.id);
    ASSERT_TRUE(got.has_value());
    EXPECT_EQ(got->attempts, attempt);
    EXPECT_EQ(got->last_error, error);
    EXPECT_EQ(got->lease_owner, "");
    EXPECT_EQ(got->lease_until, std::nullopt);
    EXPECT_EQ(got->updated_at, now);
    if (attempt < 3) {
      EXPECT_EQ(got->state, JobState::kQueued);
      EXPECT_EQ(got->run_at, retry_at);
      EXPECT_EQ(got->finished_at, std::nullopt);
      EXPECT_TRUE(this->Lease("node-1", retry_at - std::chrono::microseconds(1)).empty());
      now = retry_at;
    } else {
      EXPECT_EQ(got->state, JobState::kDead);  // out of attempts: the retry is not taken
      EXPECT_EQ(got->finished_at, now);
    }
  }
  EXPECT_TRUE(this->Lease("node-1", now + std::chrono::hours(1)).empty());
  EXPECT_FALSE(this->Fail(a, r.id, "node-1", now, "again", std::nullopt));

  // Without a retry a job dies at once; overlong errors are cut at a character boundary.
  JobRecord once = this->Job(a);
  this->Put(once);
  ASSERT_EQ(this->Lease("node-1", now).size(), 1u);
  std::string accented;
  for (int i = 0; i < 1100; ++i) accented += "\xc3\xa9";  // 2200 bytes of "é"
  EXPECT_TRUE(this->Fail(a, once.id, "node-1", now, "x" + accented, std::nullopt));
  auto dead = this->GetJob(a, once.id);
  ASSERT_TRUE(dead.has_value());
  EXPECT_EQ(dead->state, JobState::kDead);
  EXPECT_EQ(dead->attempts, 1);
  EXPECT_EQ(dead->last_error.size(), 2047u);  // "x" and 1023 whole characters
  EXPECT_EQ(dead->last_error, ("x" + accented).substr(0, 2047));
}

// A job whose node died during its last attempt is buried, not leased forever.
TYPED_TEST_P(JobConformanceTest, ExpiredLeaseWithoutAttemptsLeftGoesDead) {
  const TenantId& a = this->a_;
  JobRecord r = this->Job(a);
  r.max_attempts = 1;
  this->Put(r);
  const Timestamp t0 = this->clock_.Now();
  ASSERT_EQ(this->Lease("node-a", t0).size(), 1u);
  const Timestamp t1 = t0 + std::chrono::minutes(1);
  EXPECT_TRUE(this->Lease("node-b", t1).empty());
  auto got = this->GetJob(a, r.id);
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->state, JobState::kDead);
  EXPECT_EQ(got->finished_at, t1);
  EXPECT_EQ(got->lease_owner, "");
  EXPECT_EQ(got->last_error, "lease expired after the last attempt");
  EXPECT_FALSE(this->Complete(a, r.id, "node-a", t1));
}

TYPED_TEST_P(JobConformanceTest, RequeueRevivesDoneAndDeadJobs) {
  const TenantId& a = this->a_;
  JobRecord dead = this->Job(a);
  dead.priority = 10;
  JobRecord done = this->Job(a);
  done.priority = 5;
  JobRecord queued = this->Job(a);
  for (const auto& r : {dead, done, queued}) this->Put(r);
  const Timestamp t0 = this->clock_.Now();
  ASSERT_EQ(this->Ids(this->Lease("node-1", t0, 2)), (std::vector<JobId>{dead.id, done.id}));
  EXPECT_TRUE(this->Fail(a, dead.id, "node-1", t0, "gone", std::nullopt));
  EXPECT_TRUE(this->Complete(a, done.id, "node-1", t0));
  auto requeue = [&](const JobId& id, Timestamp now) {
    auto r = this->Call(a, [&](Transaction& tx) { return this->jobs_.Requeue(tx, a, id, now); });
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() && *r;
  };
  EXPECT_FALSE(requeue(queued.id, t0));  // still live
  EXPECT_FALSE(requeue(JobId(this->ids_.NewUuid()), t0));

  const Timestamp t1 = t0 + std::chrono::minutes(5);
  EXPECT_TRUE(requeue(dead.id, t1));
  EXPECT_TRUE(requeue(done.id, t1));
  EXPECT_FALSE(requeue(dead.id, t1));  // queued now
  auto got = this->GetJob(a, dead.id);
  ASSERT_TRUE(got.has_value());
  JobRecord want = dead;
  want.run_at = t1;
  want.updated_at = t1;
  want.last_error = "gone";  // history kept
  EXPECT_EQ(got, want);
  EXPECT_EQ(this->GetJob(a, done.id)->state, JobState::kQueued);

  EXPECT_EQ(this->Ids(this->Lease("node-2", t1 - std::chrono::seconds(1))),
            std::vector<JobId>{queued.id});  // the requeued ones wait for their run_at
  EXPECT_EQ(this->Ids(this->Lease("node-2", t1)), (std::vector<JobId>{dead.id, done.id}));
  EXPECT_EQ(this->GetJob(a, dead.id)->attempts, 1);
}

TYPED_TEST_P(JobConformanceTest, MaintenanceCountsByStateAndNeedsAnUnscopedTransaction) {
  auto counts = [&]() {
    std::map<std::string, int64_t> out;
    Status s = this->maint_->RunUnscoped([&](Transaction& tx) -> Status {
      SB_ASSIGN_OR_RETURN(out, this->jobs_.MaintenanceCountByState(tx));
      return OkStatus();
    });
    EXPECT_TRUE(s.ok()) << s.ToString();
    return out;
  };
  const auto before = counts();
  EXPECT_EQ(before.size(), 4u);
  for (const char* state : {"queued", "running", "done", "dead"}) {
    EXPECT_TRUE(before.contains(state)) << state;
  }
  for (int i = 0; i < 4; ++i) this->Put(this->Job(i < 3 ? this->a_ : this->b_));
  const Timestamp now = this->clock_.Now();
  auto leased = this->Lease("node-1", now, 2);
  ASSERT_EQ(leased.size(), 2u);
  EXPECT_TRUE(this->Complete(leased[0].tenant_id, leased[0].id, "node-1", now));
  const auto after = counts();
  EXPECT_EQ(after.at("queued") - before.at("queued"), 2);
  EXPECT_EQ(after.at("running") - before.at("running"), 1);
  EXPECT_EQ(after.at("done") - before.at("done"), 1);
  EXPECT_EQ(after.at("dead") - before.at("dead"), 0);

  // Only unscoped or system-tenant transactions may work across tenants.
  for (const auto& call : std::vector<std::function<Status(Transaction&)>>{
           [&](Transaction& tx) { return this->jobs_.MaintenanceCountByState(tx).status(); },
           [&](Transaction& tx) {
             return this->jobs_
                 .MaintenanceLease(tx, "n", now, std::chrono::seconds(1), 1, 1, {this->kind_})
                 .status();
           }}) {
    EXPECT_EQ(this->InTenant(this->a_, call).code(), StatusCode::kFailedPrecondition);
    Status s = this->db_->RunInTenant(TenantId("00000000-0000-0000-0000-000000000000"), call);
    EXPECT_TRUE(s.ok()) << s.ToString();
  }
}

// RLS-09: tenant A's transaction never reaches B's jobs.
TYPED_TEST_P(JobConformanceTest, CrossTenantAccessIsRefused) {
  const TenantId& a = this->a_;
  const TenantId& b = this->b_;
  JobRecord job = this->Job(b);
  this->Put(job);
  const Timestamp now = this->clock_.Now();
  ASSERT_EQ(this->Lease("node-1", now).size(), 1u);
  for (const auto& call : std::vector<std::function<Status(Transaction&)>>{
           [&](Transaction& tx) { return this->jobs_.Enqueue(tx, b, job).status(); },
           [&](Transaction& tx) { return this->jobs_.Get(tx, b, job.id).status(); },
           [&](Transaction& tx) {
             return this->jobs_.List(tx, b, std::nullopt, std::nullopt, std::nullopt, 10).status();
           },
           [&](Transaction& tx) {
             return this->jobs_.Heartbeat(tx, b, job.id, "node-1", now).status();
           },
           [&](Transaction& tx) {
             return this->jobs_.Complete(tx, b, job.id, "node-1", now).status();
           },
           [&](Transaction& tx) {
             return this->jobs_.Fail(tx, b, job.id, "node-1", now, "x", std::nullopt).status();
           },
           [&](Transaction& tx) { return this->jobs_.Requeue(tx, b, job.id, now).status(); }}) {
    EXPECT_EQ(this->InTenant(a, call).code(), StatusCode::kPermissionDenied);
    EXPECT_EQ(this->db_->RunUnscoped(call).code(), StatusCode::kPermissionDenied);
  }
  // Asked as A for A, B's job does not exist.
  Status s = this->InTenant(a, [&](Transaction& tx) -> Status {
    SB_ASSIGN_OR_RETURN(auto got, this->jobs_.Get(tx, a, job.id));
    EXPECT_EQ(got, std::nullopt);
    SB_ASSIGN_OR_RETURN(bool changed, this->jobs_.Heartbeat(tx, a, job.id, "node-1", now));
    EXPECT_FALSE(changed);
    SB_ASSIGN_OR_RETURN(changed, this->jobs_.Complete(tx, a, job.id, "node-1", now));
    EXPECT_FALSE(changed);
    SB_ASSIGN_OR_RETURN(changed, this->jobs_.Fail(tx, a, job.id, "node-1", now, "x", now));
    EXPECT_FALSE(changed);
    SB_ASSIGN_OR_RETURN(auto listed,
                        this->jobs_.List(tx, a, std::nullopt, std::nullopt, std::nullopt, 100));
    EXPECT_TRUE(listed.empty());
    EXPECT_EQ(this->jobs_.Enqueue(tx, a, job).status().code(), StatusCode::kInvalidArgument);
    return OkStatus();
  });
  ASSERT_TRUE(s.ok()) << s.ToString();
  auto still = this->GetJob(b, job.id);
  ASSERT_TRUE(still.has_value());
  EXPECT_EQ(still->state, JobState::kRunning);
  EXPECT_EQ(still->lease_owner, "node-1");
}

TYPED_TEST_P(JobConformanceTest, RejectsMalformedInput) {
  const TenantId& a = this->a_;
  auto invalid = [&](const std::function<Status(Transaction&)>& call, const char* what) {
    EXPECT_EQ(this->InTenant(a, call).code(), StatusCode::kInvalidArgument) << what;
  };
  const Timestamp now = this->clock_.Now();
  std::vector<std::pair<const char*, std::function<void(JobRecord&)>>> jobs = {
      {"id", [](auto& r) { r.id = JobId("nope"); }},
      {"empty kind", [](auto& r) { r.kind = ""; }},
      {"upper-case kind", [](auto& r) { r.kind = "Webhook.deliver"; }},
      {"kind with space", [](auto& r) { r.kind = "webhook deliver"; }},
      {"long kind", [](auto& r) { r.kind = std::string(65, 'k'); }},
      {"payload array", [](auto& r) { r.payload = Json::array(); }},
      {"payload null", [](auto& r) { r.payload = Json(); }},
      {"payload UTF-8",
       [](auto& r) {
         r.payload = Json{{"k", "\xc3"}};
       }},
      {"payload size",
       [](auto& r) {
         r.payload = Json{{"k", std::string(64 * 1024, 'p')}};
       }},
      {"priority high", [](auto& r) { r.priority = 101; }},
      {"priority low", [](auto& r) { r.priority = -101; }},
      {"dedupe key size", [](auto& r) { r.dedupe_key = std::string(201, 'd'); }},
      {"dedupe key control", [](auto& r) { r.dedupe_key = "a\nb"; }},
      {"max attempts 0", [](auto& r) { r.max_attempts = 0; }},
      {"max attempts 1001", [](auto& r) { r.max_attempts = 1001; }},
      {"attempts", [](auto& r) { r.attempts = 1; }},
      {"state", [](auto& r) { r.state = JobState::kDone; }},
      {"unknown state", [](auto& r) { r.state = static_cast<JobState>(42); }},
      {"lease owner", [](auto& r) { r.lease_owner = "node-1"; }},
      {"lease until", [&](auto& r) { r.lease_until = now; }},
      {"finished", [&](auto& r) { r.finished_at = now; }},
      {"last error size", [](auto& r) { r.last_error = std::string(2049, 'e'); }},
      {"other tenant", [&](auto& r) { r.tenant_id = this->b_; }}};
  for (auto& [what, mutate] : jobs) {
    JobRecord r = this->Job(a);
    mutate(r);
    invalid([&](Transaction& tx) { return this->jobs_.Enqueue(tx, a, r).status(); }, what);
  }
  JobRecord edge = this->Job(a);  // the limits themselves are fine
  edge.kind = std::string(64, 'k');
  edge.priority = -100;
  edge.dedupe_key = std::string(200, 'd');
  edge.max_attempts = 1000;
  edge.last_error = std::string(2048, 'e');
  this->Put(edge);
  EXPECT_EQ(this->GetJob(a, edge.id), edge);

  const JobId id(this->ids_.NewUuid());
  invalid([&](Transaction& tx) { return this->jobs_.Get(tx, a, JobId("x")).status(); }, "get");
  invalid([&](Transaction& tx) { return this->jobs_.Requeue(tx, a, JobId(), now).status(); },
          "requeue");
  invalid(
      [&](Transaction& tx) {
        return this->jobs_.List(tx, a, std::nullopt, std::nullopt, std::nullopt, 0).status();
      },
      "limit 0");
  invalid(
      [&](Transaction& tx) {
        return this->jobs_.List(tx, a, std::nullopt, std::nullopt, std::nullopt, 1001).status();
      },
      "limit 1001");
  invalid(
      [&](Transaction& tx) {
        return this->jobs_.List(tx, a, std::nullopt, "Bad", std::nullopt, 10).status();
      },
      "list kind");
  invalid(
      [&](Transaction& tx) {
        return this->jobs_.List(tx, a, std::nullopt, std::nullopt, JobId("x"), 10).status();
      },
      "cursor");
  invalid([&](Transaction& tx) { return this->jobs_.Heartbeat(tx, a, id, "", now).status(); },
          "heartbeat owner");
  invalid([&](Transaction& tx) { return this->jobs_.Complete(tx, a, id, "a b", now).status(); },
          "complete owner");
  invalid(
      [&](Transaction& tx) {
        return this->jobs_.Fail(tx, a, id, "n", now, "\xff", std::nullopt).status();
      },
      "fail error");

  auto lease_code = [&](const std::string& owner, std::chrono::milliseconds lease, int limit,
                        int per_tenant, const std::vector<std::string>& kinds) {
    return this->maint_
        ->RunUnscoped([&](Transaction& tx) {
          return this->jobs_.MaintenanceLease(tx, owner, now, lease, limit, per_tenant, kinds)
              .status();
        })
        .code();
  };
  const std::vector<std::string> kinds{this->kind_};
  const auto sec = std::chrono::milliseconds(1000);
  EXPECT_EQ(lease_code("", sec, 1, 1, kinds), StatusCode::kInvalidArgument);
  EXPECT_EQ(lease_code("n", std::chrono::milliseconds(0), 1, 1, kinds),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(lease_code("n", sec, 0, 1, kinds), StatusCode::kInvalidArgument);
  EXPECT_EQ(lease_code("n", sec, 1001, 1, kinds), StatusCode::kInvalidArgument);
  EXPECT_EQ(lease_code("n", sec, 1, 0, kinds), StatusCode::kInvalidArgument);
  EXPECT_EQ(lease_code("n", sec, 1, 1, {"Bad kind"}), StatusCode::kInvalidArgument);
  EXPECT_EQ(lease_code("n", sec, 1, 1, std::vector<std::string>(101, this->kind_)),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(lease_code("n", sec, 1, 1, std::vector<std::string>(100, this->kind_)),
            StatusCode::kOk);
}

TYPED_TEST_P(JobConformanceTest, CorruptRowsAreDataLoss) {
  const TenantId& a = this->a_;
  JobRecord r = this->Job(a);
  this->Put(r);
  auto code = [&](const std::function<Status(Transaction&)>& call) {
    return this->InTenant(a, call).code();
  };
  for (const char* sql :
       {"UPDATE jobs SET payload = '{not json' WHERE tenant_id = $1 AND id = $2",
        "UPDATE jobs SET payload = '[1]' WHERE tenant_id = $1 AND id = $2",
        "UPDATE jobs SET payload = '{}', lease_owner = 'node-1' WHERE tenant_id = $1 AND id = $2",
        "UPDATE jobs SET lease_owner = '', kind = 'UPPER' WHERE tenant_id = $1 AND id = $2",
        "UPDATE jobs SET kind = 'ok', state = 'done' WHERE tenant_id = $1 AND id = $2",
        // Only a running job may be marked to run again.
        "UPDATE jobs SET state = 'queued', run_again = 1 WHERE tenant_id = $1 AND id = $2"}) {
    Status s = this->InTenant(a, [&](Transaction& tx) {
      return tx.Execute(sql, {a.value(), r.id.value()}).status();
    });
    ASSERT_TRUE(s.ok()) << s.ToString();
    EXPECT_EQ(code([&](Transaction& tx) { return this->jobs_.Get(tx, a, r.id).status(); }),
              StatusCode::kDataLoss)
        << sql;
    EXPECT_EQ(
        code([&](Transaction& tx) {
          return this->jobs_.List(tx, a, std::nullopt, std::nullopt, std::nullopt, 10).status();
        }),
        StatusCode::kDataLoss)
        << sql;
  }
}

TYPED_TEST_P(JobConformanceTest, StateNamesRoundTrip) {
  for (JobState s : {JobState::kQueued, JobState::kRunning, JobState::kDone, JobState::kDead}) {
    EXPECT_EQ(ParseJobState(JobStateName(s)), s);
  }
  EXPECT_EQ(JobStateName(JobState::kDead), "dead");
  EXPECT_EQ(JobStateName(static_cast<JobState>(42)), "");
  EXPECT_EQ(ParseJobState("Queued"), std::nullopt);
  EXPECT_EQ(ParseJobState(""), std::nullopt);
}

// Concurrent leasers on separate connections never receive the same job (PostgreSQL: FOR
// UPDATE SKIP LOCKED). SQLite serializes writers within one process and is not run here.
TYPED_TEST_P(JobConformanceTest, ConcurrentLeasersNeverShareAJob) {
  if constexpr (TestFixture::kIsSqlite) {
    GTEST_SKIP() << "PostgreSQL only";
  } else {
    constexpr int kThreads = 4;
    constexpr int kTenants = 4;
    constexpr int kJobsPerTenant = 50;
    std::set<JobId> enqueued;
    for (int t = 0; t < kTenants; ++t) {
      const TenantId tenant = this->NewTenant("busy " + std::to_string(t));
      Status s = this->InTenant(tenant, [&](Transaction& tx) -> Status {
        for (int i = 0; i < kJobsPerTenant; ++i) {
          JobRecord r = this->Job(tenant);
          r.priority = i % 3;
          SB_RETURN_IF_ERROR(this->jobs_.Enqueue(tx, tenant, r).status());
          enqueued.insert(r.id);
        }
        return OkStatus();
      });
      ASSERT_TRUE(s.ok()) << s.ToString();
    }
    const Timestamp now = this->clock_.Now();
    std::vector<std::unique_ptr<Database>> dbs;  // one pool (connection) per leaser
    for (int i = 0; i < kThreads; ++i) {
      auto db = this->backend_.OpenMaintenance();
      ASSERT_TRUE(db.ok()) << db.status().ToString();
      dbs.push_back(std::move(db).value());
    }
    // Lockstep rounds, so that the leasers really overlap: in each round every thread leases
    // one batch at the same time. An empty batch is no reason to stop (SKIP LOCKED may hide
    // rows another leaser holds); the rounds end when 200 jobs were handed out (more, with
    // duplicates), at a deadline (fewer, with lost jobs) or at the first error.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    std::vector<std::vector<JobRecord>> got(kThreads);
    std::atomic<size_t> handed_out{0};
    std::atomic<int> failures{0};
    bool done = false;
    std::barrier round(kThreads, [&]() noexcept {
      done = handed_out.load() >= enqueued.size() || failures.load() > 0 ||
             std::chrono::steady_clock::now() > deadline;
    });
    std::vector<std::thread> threads;
    for (int i = 0; i < kThreads; ++i) {
      threads.emplace_back([&, i] {
        const std::string owner = "node-" + std::to_string(i);
        while (true) {
          round.arrive_and_wait();
          if (done) return;
          std::vector<JobRecord> batch;
          Status s = dbs[i]->RunUnscoped([&](Transaction& tx) -> Status {
            SB_ASSIGN_OR_RETURN(
                batch, this->jobs_.MaintenanceLease(tx, owner, now, std::chrono::minutes(5), 10, 10,
                                                    {this->kind_}));
            return OkStatus();
          });
          if (!s.ok()) ++failures;
          handed_out += batch.size();
          got[i].insert(got[i].end(), batch.begin(), batch.end());
        }
      });
    }
    for (auto& thread : threads) thread.join();
    EXPECT_EQ(failures.load(), 0);
    EXPECT_GE(std::count_if(got.begin(), got.end(), [](const auto& g) { return !g.empty(); }), 2)
        << "the leasers did not overlap";
    std::set<JobId> leased;
    size_t total = 0;
    for (int i = 0; i < kThreads; ++i) {
      total += got[i].size();
      for (const JobRecord& r : got[i]) {
        leased.insert(r.id);
        EXPECT_EQ(r.lease_owner, "node-" + std::to_string(i));
        EXPECT_EQ(r.attempts, 1);
      }
    }
    EXPECT_EQ(total, enqueued.size());  // no job twice
    EXPECT_EQ(leased, enqueued);        // and every job once
    EXPECT_TRUE(this->Lease("node-x", now).empty());
  }
}

// A request for a running job's key (WhileRunning::kRunAgain) marks it to run once more: it goes
// back to queued, with its attempts reset, when it completes or dies; a retry is a run anyway.
// kJoin, and a queued duplicate, leave the mark alone.
TYPED_TEST_P(JobConformanceTest, ARequestWhileRunningRunsTheJobOnceMore) {
  const TenantId& a = this->a_;
  const auto request = [&](WhileRunning while_running) {
    JobRecord r = this->Job(a);
    r.dedupe_key = "push:7";
    return this->Call(
        a, [&](Transaction& tx) { return this->jobs_.Enqueue(tx, a, r, while_running); });
  };
  JobRecord first = this->Job(a);
  first.dedupe_key = "push:7";
  this->Put(first);
  auto got = request(WhileRunning::kRunAgain);  // queued: it will read the change anyway
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(*got, (EnqueueResult{first.id, false}));
  EXPECT_FALSE(this->GetJob(a, first.id)->run_again);

  Timestamp t = this->clock_.Now();
  ASSERT_EQ(this->Ids(this->Lease("node-1", t)), std::vector<JobId>{first.id});
  EXPECT_EQ(*request(WhileRunning::kJoin), (EnqueueResult{first.id, false}));
  EXPECT_FALSE(this->GetJob(a, first.id)->run_again);
  for (int i = 0; i < 2; ++i) {  // twice: still one more run
    EXPECT_EQ(*request(WhileRunning::kRunAgain), (EnqueueResult{first.id, false}));
  }
  JobRecord marked = *this->GetJob(a, first.id);
  EXPECT_TRUE(marked.run_again);
  EXPECT_EQ(marked.state, JobState::kRunning);

  // Complete: queued again at once, attempts reset, not finished.
  t += std::chrono::seconds(3);
  EXPECT_TRUE(this->Complete(a, first.id, "node-1", t));
  JobRecord again = *this->GetJob(a, first.id);
  EXPECT_EQ(again.state, JobState::kQueued);
  EXPECT_EQ(again.run_at, t);
  EXPECT_EQ(again.attempts, 0);
  EXPECT_FALSE(again.run_again);
  EXPECT_EQ(again.finished_at, std::nullopt);
  EXPECT_EQ(again.lease_owner, "");

  // A permanent failure with a request meanwhile runs again too; a retry clears the mark.
  ASSERT_EQ(this->Ids(this->Lease("node-2", t)), std::vector<JobId>{first.id});
  EXPECT_EQ(*request(WhileRunning::kRunAgain), (EnqueueResult{first.id, false}));
  EXPECT_TRUE(this->Fail(a, first.id, "node-2", t, "gone", std::nullopt));
  again = *this->GetJob(a, first.id);
  EXPECT_EQ(again.state, JobState::kQueued);
  EXPECT_EQ(again.attempts, 0);
  EXPECT_EQ(again.last_error, "gone");
  ASSERT_EQ(this->Ids(this->Lease("node-3", t)), std::vector<JobId>{first.id});
  EXPECT_EQ(*request(WhileRunning::kRunAgain), (EnqueueResult{first.id, false}));
  const Timestamp later = t + std::chrono::seconds(30);
  EXPECT_TRUE(this->Fail(a, first.id, "node-3", t, "busy", later));
  again = *this->GetJob(a, first.id);
  EXPECT_EQ(again.state, JobState::kQueued);
  EXPECT_EQ(again.run_at, later);
  EXPECT_EQ(again.attempts, 1);
  EXPECT_FALSE(again.run_again);

  // Without a mark, the job ends and the key is free.
  ASSERT_EQ(this->Ids(this->Lease("node-4", later)), std::vector<JobId>{first.id});
  EXPECT_TRUE(this->Complete(a, first.id, "node-4", later));
  EXPECT_EQ(this->GetJob(a, first.id)->state, JobState::kDone);
  got = request(WhileRunning::kRunAgain);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_TRUE(got->created);
}

// PostgreSQL: a request racing with the running job's Complete is never lost: afterwards the
// key has exactly one queued job (the old one queued again, or a new one).
TYPED_TEST_P(JobConformanceTest, ARequestRacingTheEndOfARunIsNeverLost) {
  if constexpr (TestFixture::kIsSqlite) {
    GTEST_SKIP() << "PostgreSQL only (SQLite serializes writers)";
  } else {
    const TenantId& a = this->a_;
    auto requester = this->backend_.OpenApp();
    ASSERT_TRUE(requester.ok()) << requester.status().ToString();
    constexpr int kRounds = 40;
    int requeued = 0;
    for (int round = 0; round < kRounds; ++round) {
      JobRecord job = this->Job(a);
      job.dedupe_key = "race:" + std::to_string(round);
      this->Put(job);
      const Timestamp t = this->clock_.Now();
      ASSERT_EQ(this->Ids(this->Lease("node-1", t)), std::vector<JobId>{job.id});
      std::barrier start(2);
      Status enqueued;
      std::thread request([&] {
        JobRecord r = this->Job(a);
        r.dedupe_key = job.dedupe_key;
        start.arrive_and_wait();
        enqueued = (*requester)->RunInTenant(a, [&](Transaction& tx) {
          return this->jobs_.Enqueue(tx, a, r, WhileRunning::kRunAgain).status();
        });
      });
      start.arrive_and_wait();
      // Staggered so that the rounds cover the request before, during and after the end.
      std::this_thread::sleep_for(std::chrono::microseconds(250 * (round % 20)));
      EXPECT_TRUE(this->Complete(a, job.id, "node-1", t));
      request.join();
      ASSERT_TRUE(enqueued.ok()) << enqueued.ToString();
      int queued = 0;
      for (const JobRecord& r : this->ListAll(a, JobState::kQueued, this->kind_, 100)) {
        if (r.dedupe_key == job.dedupe_key) ++queued;
      }
      EXPECT_EQ(queued, 1) << "round " << round;
      if (this->GetJob(a, job.id)->state == JobState::kQueued) ++requeued;
      // Leave nothing due for the next round's lease.
      for (const JobRecord& r : this->Lease("node-2", t)) {
        EXPECT_TRUE(this->Complete(a, r.id, "node-2", t));
      }
    }
    this->RecordProperty("requeued", requeued);  // how often the request came before the end
  }
}

// A concurrency key caps the jobs of a (tenant, key) holding an unexpired lease, counting the
// ones a lease takes; jobs over the cap stay queued without using an attempt, jobs of other keys
// (and the tenant's next jobs under the per-tenant cap) are not held up, and a new limit applies
// to the live jobs.
TYPED_TEST_P(JobConformanceTest, ConcurrencyKeyCapsRunningLeases) {
  const TenantId& a = this->a_;
  const TenantId& b = this->b_;
  Timestamp now = this->clock_.Now();
  auto keyed = [&](const TenantId& tenant, const std::string& key, int limit, int priority = 0) {
    JobRecord r = this->Job(tenant);
    r.concurrency_key = key;
    r.concurrency_limit = limit;
    r.priority = priority;
    this->Put(r);
    return r;
  };
  std::vector<JobRecord> k1, k2;
  for (int i = 0; i < 6; ++i) k1.push_back(keyed(a, "endpoint:1", 2, 5));
  for (int i = 0; i < 3; ++i) k2.push_back(keyed(a, "endpoint:2", 1, 5));
  keyed(b, "endpoint:1", 1);  // the same key in another tenant is another key
  this->Put(this->Job(a));
  auto count = [](const std::vector<JobRecord>& jobs, const std::string& key) {
    return std::count_if(jobs.begin(), jobs.end(),
                         [&](const JobRecord& j) { return j.concurrency_key == key; });
  };
  auto first = this->Lease("node-1", now);
  EXPECT_EQ(first.size(), 5u);  // 2 of endpoint:1, 1 of endpoint:2, b's, a's unkeyed one
  EXPECT_EQ(count(first, "endpoint:1"), 3);
  EXPECT_EQ(count(first, "endpoint:2"), 1);
  EXPECT_TRUE(this->Lease("node-2", now).empty());
  // The ones left behind used no attempt.
  for (const JobRecord& j : this->ListAll(a, JobState::kQueued, this->kind_, 100)) {
    EXPECT_EQ(j.attempts, 0);
  }
  EXPECT_EQ(this->ListAll(a, JobState::kQueued, this->kind_, 100).size(), 6u);

  // A finished job frees its slot.
  const auto done = std::find_if(first.begin(), first.end(), [&](const JobRecord& j) {
    return j.tenant_id == a && j.concurrency_key == "endpoint:1";
  });
  ASSERT_TRUE(this->Complete(a, done->id, done->lease_owner, now));
  auto second = this->Lease("node-2", now);
  ASSERT_EQ(second.size(), 1u);
  EXPECT_EQ(second[0].concurrency_key, "endpoint:1");
  EXPECT_EQ(second[0].concurrency_limit, 2);

  // A higher limit applies to the live jobs at once.
  auto changed = this->Call(
      a, [&](Transaction& tx) { return this->jobs_.SetConcurrencyLimit(tx, a, "endpoint:1", 4); });
  ASSERT_TRUE(changed.ok()) << changed.status().ToString();
  EXPECT_EQ(*changed, 5);  // 2 running, 3 queued
  auto third = this->Lease("node-3", now);
  EXPECT_EQ(third.size(), 2u);
  EXPECT_EQ(count(third, "endpoint:1"), 2);

  // An expired lease no longer holds a slot (its job is due again itself).
  now += std::chrono::minutes(1);
  auto fourth = this->Lease("node-4", now);
  EXPECT_EQ(count(fourth, "endpoint:1"), 5);  // 4 of a's 5, b's one
  EXPECT_EQ(count(fourth, "endpoint:2"), 1);

  // Per-tenant fairness counts only jobs that fit: c's best job waits for its key, its next
  // one is leased under a per-tenant cap of 1.
  const TenantId c = this->NewTenant("c");
  JobRecord busy = keyed(c, "endpoint:9", 1, 10);
  ASSERT_EQ(this->Lease("node-5", now, 100, 1).size(), 1u);
  keyed(c, "endpoint:9", 1, 10);
  JobRecord other = this->Job(c);
  this->Put(other);
  auto fifth = this->Lease("node-6", now, 100, 1);
  ASSERT_EQ(fifth.size(), 1u);
  EXPECT_EQ(fifth[0].id, other.id);

  // Key and limit go together.
  JobRecord bad = this->Job(a);
  bad.concurrency_key = "k";
  EXPECT_EQ(this->Enqueue(bad).status().code(), StatusCode::kInvalidArgument);
  bad.concurrency_limit = 1001;
  EXPECT_EQ(this->Enqueue(bad).status().code(), StatusCode::kInvalidArgument);
  bad.concurrency_key = "";
  bad.concurrency_limit = 1;
  EXPECT_EQ(this->Enqueue(bad).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(this->Call(a,
                       [&](Transaction& tx) {
                         return this->jobs_.SetConcurrencyLimit(tx, a, "", 2).status();
                       })
                .code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(this->Call(a,
                       [&](Transaction& tx) {
                         return this->jobs_.SetConcurrencyLimit(tx, a, "k", 0).status();
                       })
                .code(),
            StatusCode::kInvalidArgument);
}

// Concurrent leasers on separate connections never hold more leases of one key than its limit
// at once (PostgreSQL: the advisory lock; SQLite: the single writer), and every job runs once.
TYPED_TEST_P(JobConformanceTest, ConcurrentLeasersRespectConcurrencyKeys) {
  constexpr int kThreads = 4;
  const TenantId& a = this->a_;
  const std::map<std::string, int> limits = {{"slow", 3}, {"other", 2}};
  std::set<JobId> enqueued;
  Status s = this->InTenant(a, [&](Transaction& tx) -> Status {
    for (int i = 0; i < 40; ++i) {
      JobRecord r = this->Job(a);
      r.concurrency_key = i < 30 ? "slow" : "other";
      r.concurrency_limit = limits.at(r.concurrency_key);
      // Half of the slow jobs rank first but are due only for the leasers whose clock is ahead
      // (below), so leasers that read the queue at the same time pick different jobs of the
      // key: only the lock keeps them from exceeding its limit together.
      if (i % 2 == 1 && i < 30) {
        r.run_at += std::chrono::seconds(10);
        r.priority = 5;
      }
      SB_RETURN_IF_ERROR(this->jobs_.Enqueue(tx, a, r).status());
      enqueued.insert(r.id);
    }
    return OkStatus();
  });
  ASSERT_TRUE(s.ok()) << s.ToString();
  std::vector<std::unique_ptr<Database>> dbs;
  for (int i = 0; i < kThreads; ++i) {
    auto db = this->backend_.OpenMaintenance();
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    dbs.push_back(std::move(db).value());
  }
  // Lockstep rounds, so that the leasers really race: all lease at once, then the leases held
  // are counted, then all complete theirs. A round without any lease is no reason to stop
  // (SQLite's busy writers, SKIP LOCKED); the rounds end when every job ran, at a deadline or
  // at the first error.
  std::mutex mu;
  std::map<std::string, int> in_flight, max_in_flight;  // guarded by mu
  std::multiset<JobId> ran;                             // guarded by mu
  std::atomic<int> failures{0};
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  bool done = false;
  std::barrier leased_all(kThreads, [&]() noexcept {
    for (const auto& [key, n] : in_flight) max_in_flight[key] = std::max(max_in_flight[key], n);
  });
  std::barrier round(kThreads, [&]() noexcept {
    done = ran.size() >= enqueued.size() || failures.load() > 0 ||
           std::chrono::steady_clock::now() > deadline;
  });
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      const std::string owner = "node-" + std::to_string(i);
      const Timestamp now = this->clock_.Now() + std::chrono::seconds(i % 2 == 0 ? 0 : 10);
      while (true) {
        round.arrive_and_wait();
        if (done) return;
        std::vector<JobRecord> batch;
        Status leased = dbs[i]->RunUnscoped([&](Transaction& tx) -> Status {
          SB_ASSIGN_OR_RETURN(
              batch, this->jobs_.MaintenanceLease(tx, owner, now, std::chrono::minutes(5), 3, 3,
                                                  {this->kind_}));
          return OkStatus();
        });
        if (!leased.ok()) ++failures;
        {
          std::lock_guard lock(mu);
          for (const JobRecord& j : batch) {
            ran.insert(j.id);
            ++in_flight[j.concurrency_key];
          }
        }
        leased_all.arrive_and_wait();
        for (const JobRecord& j : batch) {
          {
            std::lock_guard lock(mu);
            --in_flight[j.concurrency_key];
          }
          if (!this->Complete(a, j.id, owner, now)) ++failures;
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(ran.size(), enqueued.size());  // each job once
  EXPECT_EQ(std::set<JobId>(ran.begin(), ran.end()), enqueued);
  EXPECT_LE(max_in_flight["slow"], 3);
  EXPECT_LE(max_in_flight["other"], 2);
  EXPECT_EQ(max_in_flight["slow"], 3) << "the leasers never filled the key";
}

// Issue 13 (per-tenant quotas: deliveries in flight): a concurrency group caps the jobs of a
// (tenant, group) holding an unexpired lease across their keys; a job is leased only while its
// key and its group both have room, jobs blocked by their key do not take group slots, jobs
// over the cap stay queued without an attempt (nothing is dropped), and other tenants' groups
// are separate.
TYPED_TEST_P(JobConformanceTest, ConcurrencyGroupCapsRunningLeasesAcrossKeys) {
  const TenantId& a = this->a_;
  const TenantId& b = this->b_;
  const Timestamp now = this->clock_.Now();
  auto grouped = [&](const TenantId& tenant, const std::string& key, int key_limit, int group_limit,
                     int priority) {
    JobRecord r = this->Job(tenant);
    r.concurrency_key = key;
    r.concurrency_limit = key_limit;
    r.concurrency_group = "deliveries";
    r.group_limit = group_limit;
    r.priority = priority;
    this->Put(r);
    return r;
  };
  // Endpoint 1's jobs rank first, but its key lets one run: the group's other slots go to the
  // other endpoints' jobs.
  for (int i = 0; i < 4; ++i) grouped(a, "endpoint:1", 1, 3, 9);
  for (int i = 0; i < 4; ++i) grouped(a, "endpoint:2", 4, 3, 5);
  for (int i = 0; i < 4; ++i) grouped(a, "endpoint:3", 4, 3, 1);
  grouped(b, "endpoint:1", 4, 3, 0);
  auto first = this->Lease("node-1", now);
  int of_a = 0;
  for (const JobRecord& j : first) of_a += j.tenant_id == a;
  EXPECT_EQ(of_a, 3);
  EXPECT_EQ(first.size(), 4u);  // and b's one
  EXPECT_EQ(std::count_if(first.begin(), first.end(),
                          [&](const JobRecord& j) { return j.concurrency_key == "endpoint:1"; }),
            2);  // a's one and b's one
  EXPECT_TRUE(this->Lease("node-2", now).empty());
  for (const JobRecord& j : this->ListAll(a, JobState::kQueued, this->kind_, 100)) {
    EXPECT_EQ(j.attempts, 0);
  }
  EXPECT_EQ(this->ListAll(a, JobState::kQueued, this->kind_, 100).size(), 9u);
  // Each finished job frees one group slot; every job runs in the end.
  size_t ran = 0;
  std::vector<JobRecord> running;
  for (const JobRecord& j : first) {
    if (j.tenant_id == a) running.push_back(j);
  }
  for (int round = 0; round < 20 && !running.empty(); ++round) {
    const JobRecord done = running.front();
    running.erase(running.begin());
    ASSERT_TRUE(this->Complete(a, done.id, done.lease_owner, now));
    ++ran;
    for (const JobRecord& j : this->Lease("node-r" + std::to_string(round), now)) {
      running.push_back(j);
    }
    EXPECT_LE(running.size(), 3u);
  }
  EXPECT_EQ(ran, 12u);
  // Group and limit go together.
  JobRecord bad = this->Job(a);
  bad.concurrency_group = "g";
  EXPECT_EQ(this->Enqueue(bad).status().code(), StatusCode::kInvalidArgument);
  bad.group_limit = 1001;
  EXPECT_EQ(this->Enqueue(bad).status().code(), StatusCode::kInvalidArgument);
  bad.concurrency_group = "";
  bad.group_limit = 1;
  EXPECT_EQ(this->Enqueue(bad).status().code(), StatusCode::kInvalidArgument);
}

REGISTER_TYPED_TEST_SUITE_P(
    JobConformanceTest, EnqueueGetAndListInIdOrder, EnqueueIsPartOfTheCallersTransaction,
    DedupeReturnsTheLiveJobUntilItFinishes, CompleteQueuedRetiresOnlyTheQueuedJobOfTheKey,
    ARequestWhileRunningRunsTheJobOnceMore, ARequestRacingTheEndOfARunIsNeverLost,
    LeasesByPriorityThenRunAtAndNotBeforeDue, LeaseIsFairAcrossTenantsAndFiltersKinds,
    ExpiredLeaseIsTakenOverAndTheOldOwnerLosesIt, HeartbeatExtendsTheLease,
    FailRetriesUntilMaxAttemptsThenDies, ExpiredLeaseWithoutAttemptsLeftGoesDead,
    RequeueRevivesDoneAndDeadJobs, MaintenanceCountsByStateAndNeedsAnUnscopedTransaction,
    CrossTenantAccessIsRefused, RejectsMalformedInput, CorruptRowsAreDataLoss, StateNamesRoundTrip,
    ConcurrentLeasersNeverShareAJob, ConcurrencyKeyCapsRunningLeases,
    ConcurrentLeasersRespectConcurrencyKeys, ConcurrencyGroupCapsRunningLeasesAcrossKeys);

}  // namespace sb::store::testing
