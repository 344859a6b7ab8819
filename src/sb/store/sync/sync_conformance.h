// Conformance suite of the sync engine's storage (SyncRepository), written once and
// instantiated per backend like repository_conformance.h: round trips of states, runs and
// changes, at most one open run per connection and service, change seqs strictly increasing per
// tenant (also under concurrent appenders) and independent across tenants, the change feed's
// filters, the cross-tenant due scan, cross-tenant refusals (RLS-09), validation and corrupt rows
// (DATA_LOSS). The cascade on connection delete is in calendar_conformance.h, which covers every
// table of migration 12. Include in exactly one translation unit per test binary.
#pragma once

#include <algorithm>
#include <atomic>
#include <functional>
#include <latch>
#include <set>
#include <thread>

#include <gtest/gtest.h>

#include "sb/store/connections/connect_repository.h"
#include "sb/store/sync/sync_repository.h"
#include "sb/store/testing/connected_fixture.h"

namespace sb::store::testing {

template <typename TestBackend>
class SyncConformanceTest : public ConnectedConformanceTest<TestBackend> {
 protected:
  // Every field set to something other than its default.
  SyncStateRecord State(const TenantId& tenant, const ConnectionId& connection,
                        std::string service = "calendar") {
    const Timestamp now = this->clock_.Now();
    SyncStateRecord r;
    r.tenant_id = tenant;
    r.connection_id = connection;
    r.service = std::move(service);
    r.status = SyncStatus::kFailed;
    r.cursor = Json{{"primary", "sync-token-1"}, {"work", {{"delta", "https://x/?d=1"}}}};
    r.last_success_at = now - std::chrono::hours(1);
    r.last_error_at = now - std::chrono::minutes(5);
    r.last_error = "provider said 503 – later";
    r.paused_reason = "";
    r.items_created = 10;
    r.items_updated = 20;
    r.items_deleted = 3;
    r.last_run_id = SyncRunId(this->ids_.NewUuid());
    r.next_run_at = now + std::chrono::minutes(15);
    r.created_at = now - std::chrono::hours(24);
    r.updated_at = now;
    return r;
  }

  SyncRunRecord Run(const TenantId& tenant, const ConnectionId& connection,
                    SyncRunOutcome outcome = SyncRunOutcome::kRunning,
                    std::string service = "calendar") {
    this->clock_.Advance(std::chrono::milliseconds(2));  // UUIDv7: distinct, ordered ids
    const Timestamp now = this->clock_.Now();
    SyncRunRecord r;
    r.tenant_id = tenant;
    r.id = SyncRunId(this->ids_.NewUuid());
    r.connection_id = connection;
    r.service = std::move(service);
    r.trigger = SyncTrigger::kPush;
    r.outcome = outcome;
    r.phase = "events";
    r.full = true;
    r.checkpoint = Json{{"page_token", "abc"}, {"calendars_done", Json::array({"primary"})}};
    r.pages = 4;
    r.items_created = 1;
    r.items_updated = 2;
    r.items_deleted = 3;
    r.error = "";
    r.created_at = now;
    r.started_at = now + std::chrono::seconds(1);
    r.updated_at = now + std::chrono::seconds(2);
    return r;
  }

  ChangeRecord Change(const std::string& type, std::optional<ConnectionId> connection) {
    ChangeRecord r;
    r.type = type;
    r.resource_id = this->ids_.NewUuid();
    r.connection_id = std::move(connection);
    r.data = Json{{"event", {{"id", r.resource_id}, {"title", "Standup"}}}};
    r.created_at = this->clock_.Now();
    return r;
  }

  Result<int64_t> Append(const TenantId& tenant, const ChangeRecord& r) {
    return this->Call(tenant, [&](Transaction& tx) { return repo_.AppendChange(tx, tenant, r); });
  }

  Result<std::vector<ChangeRecord>> Changes(const TenantId& tenant, int64_t after,
                                            const std::vector<std::string>& types, int limit,
                                            std::optional<ConnectionId> connection = {}) {
    const ChangeFilter filter{after, types, std::move(connection), limit};
    return this->Call(tenant,
                      [&](Transaction& tx) { return repo_.ListChanges(tx, tenant, filter); });
  }

  Result<std::vector<ChangeRecord>> NewestChanges(const TenantId& tenant,
                                                  std::optional<int64_t> before,
                                                  const std::vector<std::string>& types, int limit,
                                                  std::optional<ConnectionId> connection = {}) {
    ChangeFilter filter{0, types, std::move(connection), limit};
    filter.order = ChangeOrder::kNewestFirst;
    filter.cursor = before;
    return this->Call(tenant,
                      [&](Transaction& tx) { return repo_.ListChanges(tx, tenant, filter); });
  }

  // Runs `sql` with $1 = tenant (and $2 = `value`) to plant a malformed row.
  Status Exec(const TenantId& tenant, const std::string& sql, std::string value = "") {
    return this->InTenant(tenant, [&](Transaction& tx) {
      return value.empty() ? tx.Execute(sql, {tenant.value()}).status()
                           : tx.Execute(sql, {tenant.value(), value}).status();
    });
  }

  SyncRepository repo_;
};

TYPED_TEST_SUITE_P(SyncConformanceTest);

TYPED_TEST_P(SyncConformanceTest, StatesRoundTripReplaceAndList) {
  const TenantId a = this->a_;
  const ConnectionId c = this->PutConnection(a);
  SyncStateRecord cal = this->State(a, c);
  SyncStateRecord mail = this->State(a, c, "email");
  mail.status = SyncStatus::kPaused;
  mail.paused_reason = "reauthorization_required";
  mail.last_run_id = std::nullopt;
  mail.next_run_at = std::nullopt;
  mail.last_success_at = std::nullopt;
  mail.cursor = Json::object();
  for (const SyncStateRecord& s : {mail, cal}) {
    ASSERT_TRUE(
        this->Call(a, [&](Transaction& tx) { return this->repo_.PutState(tx, a, s); }).ok());
  }
  auto got =
      this->Call(a, [&](Transaction& tx) { return this->repo_.GetState(tx, a, c, "calendar"); });
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(*got, cal);
  got = this->Call(a, [&](Transaction& tx) { return this->repo_.GetState(tx, a, c, "contacts"); });
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(*got, std::nullopt);

  cal.status = SyncStatus::kIdle;
  cal.cursor = Json{{"primary", "sync-token-2"}};
  cal.last_error = "";
  cal.items_created = 11;
  cal.updated_at += std::chrono::seconds(30);
  ASSERT_TRUE(
      this->Call(a, [&](Transaction& tx) { return this->repo_.PutState(tx, a, cal); }).ok());
  auto listed = this->Call(a, [&](Transaction& tx) { return this->repo_.ListStates(tx, a, c); });
  ASSERT_TRUE(listed.ok()) << listed.status().ToString();
  EXPECT_EQ(*listed, (std::vector<SyncStateRecord>{cal, mail}));  // by service

  SyncStateRecord orphan = this->State(a, ConnectionId(this->ids_.NewUuid()));
  EXPECT_EQ(
      this->Call(a, [&](Transaction& tx) { return this->repo_.PutState(tx, a, orphan); }).code(),
      StatusCode::kNotFound);
}

TYPED_TEST_P(SyncConformanceTest, RunsRoundTripUpdateListAndFindOpen) {
  const TenantId a = this->a_;
  const ConnectionId c = this->PutConnection(a);
  SyncRunRecord first = this->Run(a, c, SyncRunOutcome::kSucceeded);
  first.trigger = SyncTrigger::kInitial;
  first.finished_at = first.updated_at;
  SyncRunRecord second = this->Run(a, c, SyncRunOutcome::kFailed);
  second.full = false;
  second.error = "token rejected";
  second.trigger = SyncTrigger::kSchedule;
  second.finished_at = second.updated_at;
  SyncRunRecord open = this->Run(a, c, SyncRunOutcome::kQueued);
  open.trigger = SyncTrigger::kResync;
  open.phase = "";
  open.started_at = std::nullopt;
  open.checkpoint = Json::object();
  for (const SyncRunRecord& r : {first, second, open}) {
    ASSERT_TRUE(
        this->Call(a, [&](Transaction& tx) { return this->repo_.InsertRun(tx, a, r); }).ok());
  }
  auto got = this->Call(a, [&](Transaction& tx) { return this->repo_.GetRun(tx, a, second.id); });
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(*got, second);
  EXPECT_EQ(
      this->Call(a, [&](Transaction& tx) { return this->repo_.InsertRun(tx, a, first); }).code(),
      StatusCode::kAlreadyExists);

  auto found =
      this->Call(a, [&](Transaction& tx) { return this->repo_.FindOpenRun(tx, a, c, "calendar"); });
  ASSERT_TRUE(found.ok()) << found.status().ToString();
  EXPECT_EQ(*found, open);
  found =
      this->Call(a, [&](Transaction& tx) { return this->repo_.FindOpenRun(tx, a, c, "email"); });
  ASSERT_TRUE(found.ok());
  EXPECT_EQ(*found, std::nullopt);

  // UpdateRun replaces the mutable fields only.
  SyncRunRecord update = open;
  update.outcome = SyncRunOutcome::kRunning;
  update.phase = "calendars";
  update.full = false;
  update.checkpoint = Json{{"page_token", "next"}};
  update.pages = 9;
  update.items_created = 7;
  update.items_updated = 8;
  update.items_deleted = 9;
  update.error = "retrying after 429";
  update.started_at = update.created_at + std::chrono::seconds(5);
  update.updated_at = update.created_at + std::chrono::seconds(6);
  SyncRunRecord ignored = update;
  ignored.trigger = SyncTrigger::kManual;
  ignored.created_at -= std::chrono::hours(1);
  ASSERT_TRUE(
      this->Call(a, [&](Transaction& tx) { return this->repo_.UpdateRun(tx, a, ignored); }).ok());
  got = this->Call(a, [&](Transaction& tx) { return this->repo_.GetRun(tx, a, open.id); });
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(*got, update);
  SyncRunRecord missing = this->Run(a, c);
  EXPECT_EQ(
      this->Call(a, [&](Transaction& tx) { return this->repo_.UpdateRun(tx, a, missing); }).code(),
      StatusCode::kNotFound);

  auto list = [&](std::optional<SyncRunId> before, int limit) {
    auto runs = this->Call(
        a, [&](Transaction& tx) { return this->repo_.ListRuns(tx, a, c, before, limit); });
    EXPECT_TRUE(runs.ok()) << runs.status().ToString();
    std::vector<SyncRunId> ids;
    if (runs.ok()) {
      for (const auto& r : *runs) ids.push_back(r.id);
    }
    return ids;
  };
  EXPECT_EQ(list(std::nullopt, 10), (std::vector<SyncRunId>{open.id, second.id, first.id}));
  EXPECT_EQ(list(std::nullopt, 2), (std::vector<SyncRunId>{open.id, second.id}));
  EXPECT_EQ(list(second.id, 10), (std::vector<SyncRunId>{first.id}));
  EXPECT_EQ(list(first.id, 10), std::vector<SyncRunId>());

  SyncRunRecord orphan = this->Run(a, ConnectionId(this->ids_.NewUuid()));
  EXPECT_EQ(
      this->Call(a, [&](Transaction& tx) { return this->repo_.InsertRun(tx, a, orphan); }).code(),
      StatusCode::kNotFound);
}

TYPED_TEST_P(SyncConformanceTest, AtMostOneOpenRunPerConnectionAndService) {
  const TenantId a = this->a_;
  const ConnectionId c = this->PutConnection(a);
  const ConnectionId other = this->PutConnection(a);
  auto insert = [&](const SyncRunRecord& r) {
    return this->Call(a, [&](Transaction& tx) { return this->repo_.InsertRun(tx, a, r); });
  };
  SyncRunRecord queued = this->Run(a, c, SyncRunOutcome::kQueued);
  ASSERT_TRUE(insert(queued).ok());
  EXPECT_EQ(insert(this->Run(a, c, SyncRunOutcome::kQueued)).code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(insert(this->Run(a, c, SyncRunOutcome::kRunning)).code(), StatusCode::kAlreadyExists);
  // Finished runs, other services, other connections and other tenants do not count.
  EXPECT_TRUE(insert(this->Run(a, c, SyncRunOutcome::kSucceeded)).ok());
  EXPECT_TRUE(insert(this->Run(a, c, SyncRunOutcome::kQueued, "email")).ok());
  EXPECT_TRUE(insert(this->Run(a, other, SyncRunOutcome::kRunning)).ok());
  const TenantId b = this->b_;
  const ConnectionId cb = this->PutConnection(b);
  EXPECT_TRUE(
      this->Call(b, [&](Transaction& tx) { return this->repo_.InsertRun(tx, b, this->Run(b, cb)); })
          .ok());

  queued.outcome = SyncRunOutcome::kCancelled;
  queued.finished_at = this->clock_.Now();
  ASSERT_TRUE(
      this->Call(a, [&](Transaction& tx) { return this->repo_.UpdateRun(tx, a, queued); }).ok());
  SyncRunRecord next = this->Run(a, c, SyncRunOutcome::kQueued);
  ASSERT_TRUE(insert(next).ok());
  // Reopening the cancelled run while `next` is open is refused too.
  queued.outcome = SyncRunOutcome::kRunning;
  EXPECT_EQ(
      this->Call(a, [&](Transaction& tx) { return this->repo_.UpdateRun(tx, a, queued); }).code(),
      StatusCode::kAlreadyExists);
  auto found =
      this->Call(a, [&](Transaction& tx) { return this->repo_.FindOpenRun(tx, a, c, "calendar"); });
  ASSERT_TRUE(found.ok());
  ASSERT_TRUE(found->has_value());
  EXPECT_EQ((*found)->id, next.id);
}

TYPED_TEST_P(SyncConformanceTest, ChangeSeqsIncreasePerTenantAndRoundTrip) {
  const TenantId a = this->a_;
  const TenantId b = this->b_;
  const ConnectionId c = this->PutConnection(a);
  std::vector<ChangeRecord> written;
  for (int i = 0; i < 5; ++i) {
    ChangeRecord r = this->Change(i % 2 == 0 ? "event.created" : "event.updated",
                                  i == 4 ? std::nullopt : std::optional<ConnectionId>(c));
    r.tenant_id = b;  // ignored: AppendChange sets the tenant
    r.seq = 99;       // and the seq
    auto seq = this->Append(a, r);
    ASSERT_TRUE(seq.ok()) << seq.status().ToString();
    EXPECT_EQ(*seq, i + 1);  // a fresh tenant's feed starts at 1
    r.tenant_id = a;
    r.seq = *seq;
    written.push_back(r);
    if (i % 2 == 0) {
      auto other = this->Append(b, this->Change("sync.started", std::nullopt));
      ASSERT_TRUE(other.ok());
      EXPECT_EQ(*other, i / 2 + 1);  // B's counter is its own
    }
    this->clock_.Advance(std::chrono::seconds(1));
  }
  auto all = this->Changes(a, 0, {}, 100);
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  EXPECT_EQ(*all, written);
  auto b_all = this->Changes(b, 0, {}, 100);
  ASSERT_TRUE(b_all.ok());
  EXPECT_EQ(b_all->size(), 3u);
  for (const ChangeRecord& r : *b_all) EXPECT_EQ(r.tenant_id, b);
}

// AppendChanges: consecutive seqs in order after what is there, over statement batches of
// several sizes; one invalid record and nothing is appended (nor a seq used).
TYPED_TEST_P(SyncConformanceTest, AppendChangesTakesConsecutiveSeqs) {
  const TenantId a = this->a_;
  const ConnectionId c = this->PutConnection(a);
  ASSERT_TRUE(this->Append(a, this->Change("sync.started", std::nullopt)).ok());
  std::vector<ChangeRecord> batch;
  for (int i = 0; i < 75; ++i) {
    batch.push_back(this->Change(i % 2 == 0 ? "event.created" : "event.deleted", c));
    batch.back().data = Json{{"n", i}};
  }
  auto append = [&](std::vector<ChangeRecord>& records) {
    return this->InTenant(
        a, [&](Transaction& tx) { return this->repo_.AppendChanges(tx, a, records); });
  };
  ASSERT_TRUE(append(batch).ok());
  for (size_t i = 0; i < batch.size(); ++i) {
    EXPECT_EQ(batch[i].seq, static_cast<int64_t>(i) + 2);
    EXPECT_EQ(batch[i].tenant_id, a);
  }
  std::vector<ChangeRecord> bad{this->Change("event.created", c), this->Change("Bad Type", c)};
  EXPECT_EQ(append(bad).code(), StatusCode::kInvalidArgument);
  std::vector<ChangeRecord> none;
  EXPECT_TRUE(append(none).ok());
  auto all = this->Changes(a, 1, {}, 1000);
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  EXPECT_EQ(*all, batch);
  auto next = this->Append(a, this->Change("sync.completed", std::nullopt));
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(*next, 77);
}

TYPED_TEST_P(SyncConformanceTest, ListChangesFiltersByCursorTypesAndLimit) {
  const TenantId a = this->a_;
  const std::vector<std::string> types = {"event.created", "event.updated", "event.deleted",
                                          "calendar.created", "sync.completed"};
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(this->Append(a, this->Change(types[i % types.size()], std::nullopt)).ok());
  }
  auto seqs = [&](int64_t after, const std::vector<std::string>& filter, int limit) {
    std::vector<int64_t> out;
    auto got = this->Changes(a, after, filter, limit);
    EXPECT_TRUE(got.ok()) << got.status().ToString();
    if (got.ok()) {
      for (const auto& r : *got) out.push_back(r.seq);
    }
    return out;
  };
  EXPECT_EQ(seqs(7, {}, 100), (std::vector<int64_t>{8, 9, 10}));
  EXPECT_EQ(seqs(0, {}, 3), (std::vector<int64_t>{1, 2, 3}));
  EXPECT_EQ(seqs(10, {}, 100), std::vector<int64_t>());
  EXPECT_EQ(seqs(0, {"event.deleted"}, 100), (std::vector<int64_t>{3, 8}));
  EXPECT_EQ(seqs(0, {"event.created", "sync.completed"}, 100), (std::vector<int64_t>{1, 5, 6, 10}));
  EXPECT_EQ(seqs(1, {"event.created", "sync.completed"}, 2), (std::vector<int64_t>{5, 6}));
  EXPECT_EQ(seqs(0, {"contact.created"}, 100), std::vector<int64_t>());
  std::vector<std::string> twenty(20, "event.created");
  EXPECT_EQ(seqs(0, twenty, 100), (std::vector<int64_t>{1, 6}));
  twenty.push_back("event.updated");
  EXPECT_EQ(this->Changes(a, 0, twenty, 100).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(this->Changes(a, 0, {"Event.Created"}, 100).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(this->Changes(a, 0, {"event.created' OR '1'='1"}, 100).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(this->Changes(a, -1, {}, 100).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(this->Changes(a, 0, {}, 0).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(this->Changes(a, 0, {}, SyncRepository::kMaxListLimit + 1).status().code(),
            StatusCode::kInvalidArgument);
}

// The feed of one connection: its changes only, in order, with the cursor, types and limit
// applied as without it; another tenant's connection id finds nothing of it.
TYPED_TEST_P(SyncConformanceTest, ListChangesFiltersByConnection) {
  const TenantId a = this->a_;
  const TenantId b = this->b_;
  const ConnectionId c1 = this->PutConnection(a);
  const ConnectionId c2 = this->PutConnection(a);
  const ConnectionId theirs = this->PutConnection(b);
  // Seqs 1, 4, 7, 10 are c1's, 2, 5, 8, 11 c2's, the others no connection's; 4-6 and 10-12 are
  // deletions, the others creations.
  const std::optional<ConnectionId> owners[] = {c1, c2, std::nullopt};
  const std::string types[] = {"event.created", "event.deleted"};
  for (int i = 0; i < 12; ++i) {
    ASSERT_TRUE(this->Append(a, this->Change(types[(i / 3) % 2], owners[i % 3])).ok());
  }
  ASSERT_TRUE(this->Append(b, this->Change("event.created", theirs)).ok());
  auto seqs = [&](int64_t after, const std::vector<std::string>& filter, int limit,
                  const ConnectionId& connection) {
    std::vector<int64_t> out;
    auto got = this->Changes(a, after, filter, limit, connection);
    EXPECT_TRUE(got.ok()) << got.status().ToString();
    if (got.ok()) {
      for (const auto& r : *got) {
        EXPECT_EQ(r.connection_id, connection);
        out.push_back(r.seq);
      }
    }
    return out;
  };
  EXPECT_EQ(seqs(0, {}, 100, c1), (std::vector<int64_t>{1, 4, 7, 10}));
  EXPECT_EQ(seqs(0, {}, 100, c2), (std::vector<int64_t>{2, 5, 8, 11}));
  EXPECT_EQ(seqs(4, {}, 2, c1), (std::vector<int64_t>{7, 10}));
  EXPECT_EQ(seqs(0, {"event.deleted"}, 100, c1), (std::vector<int64_t>{4, 10}));
  EXPECT_EQ(seqs(0, {}, 100, theirs), std::vector<int64_t>());
  auto b_feed = this->Changes(b, 0, {}, 100, theirs);
  ASSERT_TRUE(b_feed.ok());
  EXPECT_EQ(b_feed->size(), 1u);
  EXPECT_EQ(this->Changes(a, 0, {}, 100, ConnectionId("not-a-uuid")).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(this->Changes(a, 0, {}, 100, ConnectionId("' OR '1'='1")).status().code(),
            StatusCode::kInvalidArgument);
}

// Newest first: from the newest, or before a cursor, with the same type, connection and limit
// filters; another tenant's changes never show.
TYPED_TEST_P(SyncConformanceTest, ListChangesNewestFirst) {
  const TenantId a = this->a_;
  const ConnectionId c1 = this->PutConnection(a);
  const std::optional<ConnectionId> owners[] = {c1, std::nullopt};
  for (int i = 0; i < 12; ++i) {  // seqs 1, 3, .., 11 are c1's; 7-12 are deletions
    ASSERT_TRUE(
        this->Append(a, this->Change(i < 6 ? "event.created" : "event.deleted", owners[i % 2]))
            .ok());
  }
  ASSERT_TRUE(this->Append(this->b_, this->Change("event.created", std::nullopt)).ok());
  auto seqs = [&](std::optional<int64_t> before, const std::vector<std::string>& types, int limit,
                  std::optional<ConnectionId> connection = {}) {
    std::vector<int64_t> out;
    auto got = this->NewestChanges(a, before, types, limit, connection);
    EXPECT_TRUE(got.ok()) << got.status().ToString();
    for (const auto& r : got.ok() ? *got : std::vector<ChangeRecord>()) out.push_back(r.seq);
    return out;
  };
  EXPECT_EQ(seqs(std::nullopt, {}, 3), (std::vector<int64_t>{12, 11, 10}));
  EXPECT_EQ(seqs(10, {}, 3), (std::vector<int64_t>{9, 8, 7}));
  EXPECT_EQ(seqs(3, {}, 100), (std::vector<int64_t>{2, 1}));
  EXPECT_EQ(seqs(1, {}, 100), std::vector<int64_t>());
  EXPECT_EQ(seqs(std::nullopt, {}, 100, c1), (std::vector<int64_t>{11, 9, 7, 5, 3, 1}));
  EXPECT_EQ(seqs(7, {}, 2, c1), (std::vector<int64_t>{5, 3}));
  EXPECT_EQ(seqs(std::nullopt, {"event.created"}, 2), (std::vector<int64_t>{6, 5}));
  EXPECT_EQ(this->NewestChanges(a, -1, {}, 10).status().code(), StatusCode::kInvalidArgument);
  auto theirs = this->NewestChanges(this->b_, std::nullopt, {}, 100);
  ASSERT_TRUE(theirs.ok());
  EXPECT_EQ(theirs->size(), 1u);
}

// Appenders of one tenant racing in their own transactions get distinct, gapless seqs: the
// counter row serializes them (a backend may abort a loser, which then retries).
TYPED_TEST_P(SyncConformanceTest, ConcurrentAppendsGetDistinctSeqs) {
  const TenantId a = this->a_;
  constexpr int kThreads = 4;
  constexpr int kEach = 10;
  std::atomic<int> failures{0};
  std::vector<std::vector<int64_t>> seqs(kThreads);
  std::latch start(kThreads);
  std::vector<std::thread> threads;
  threads.reserve(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      start.arrive_and_wait();
      for (int i = 0; i < kEach; ++i) {
        ChangeRecord r;
        r.type = "event.created";
        r.resource_id = "00000000-0000-7000-8000-000000000001";
        Result<int64_t> seq = AbortedError("not tried");
        for (int attempt = 0; attempt < 20 && seq.status().code() == StatusCode::kAborted;
             ++attempt) {
          seq = this->Append(a, r);
        }
        if (seq.ok()) {
          seqs[t].push_back(*seq);
        } else {
          ++failures;
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0);
  std::set<int64_t> all;
  for (const auto& per_thread : seqs) {
    EXPECT_TRUE(std::is_sorted(per_thread.begin(), per_thread.end()));
    all.insert(per_thread.begin(), per_thread.end());
  }
  ASSERT_EQ(all.size(), static_cast<size_t>(kThreads * kEach));
  EXPECT_EQ(*all.begin(), 1);
  EXPECT_EQ(*all.rbegin(), kThreads * kEach);
}

TYPED_TEST_P(SyncConformanceTest, MaintenanceListsDueStatesLongestWaitingFirstWithoutPaused) {
  // Fresh tenants and instants long before the fixture clock, so that on the shared PostgreSQL
  // database other tests' rows neither interleave nor crowd ours out.
  const TenantId x = this->NewTenant("x");
  const TenantId y = this->NewTenant("y");
  const Timestamp base =
      FromUnixMicros(1'000'000'000 + static_cast<int64_t>(this->random_.Uint64() % 1'000'000));
  auto put = [&](const TenantId& t, const std::string& service,
                 std::optional<std::chrono::seconds> due, SyncStatus status) {
    const ConnectionId c = this->PutConnection(t);
    SyncStateRecord s = this->State(t, c, service);
    s.status = status;
    s.next_run_at = due ? std::optional<Timestamp>(base + *due) : std::nullopt;
    EXPECT_TRUE(
        this->Call(t, [&](Transaction& tx) { return this->repo_.PutState(tx, t, s); }).ok());
    return std::make_pair(t, std::make_pair(c, service));
  };
  auto late = put(x, "calendar", std::chrono::seconds(30), SyncStatus::kIdle);
  auto early = put(y, "email", std::chrono::seconds(10), SyncStatus::kFailed);
  auto middle = put(x, "contacts", std::chrono::seconds(20), SyncStatus::kRunning);
  put(y, "calendar", std::chrono::seconds(5), SyncStatus::kPaused);
  put(x, "calendar", std::nullopt, SyncStatus::kIdle);
  put(y, "calendar", std::chrono::seconds(41), SyncStatus::kIdle);  // not yet due

  auto listed = this->Maintenance([&](Transaction& tx) {
    return this->repo_.MaintenanceListDue(tx, base + std::chrono::seconds(40), 1000);
  });
  ASSERT_TRUE(listed.ok()) << listed.status().ToString();
  std::vector<std::pair<TenantId, std::pair<ConnectionId, std::string>>> ours;
  for (const auto& entry : *listed) {
    if (entry.first == x || entry.first == y) ours.push_back(entry);
  }
  EXPECT_EQ(ours, (std::vector<std::pair<TenantId, std::pair<ConnectionId, std::string>>>{
                      early, middle, late}));
  EXPECT_EQ(this->Call(x,
                       [&](Transaction& tx) {
                         return this->repo_.MaintenanceListDue(tx, base, 10).status();
                       })
                .code(),
            StatusCode::kFailedPrecondition);
  EXPECT_EQ(this->Maintenance([&](Transaction& tx) {
                  return this->repo_.MaintenanceListDue(tx, base, 0).status();
                })
                .code(),
            StatusCode::kInvalidArgument);
}

TYPED_TEST_P(SyncConformanceTest, CrossTenantAccessIsRefused) {
  const TenantId a = this->a_;
  const TenantId b = this->b_;
  const ConnectionId cb = this->PutConnection(b);
  SyncStateRecord state = this->State(b, cb);
  SyncRunRecord run = this->Run(b, cb);
  ASSERT_TRUE(
      this->Call(b, [&](Transaction& tx) { return this->repo_.PutState(tx, b, state); }).ok());
  ASSERT_TRUE(
      this->Call(b, [&](Transaction& tx) { return this->repo_.InsertRun(tx, b, run); }).ok());
  ASSERT_TRUE(this->Append(b, this->Change("event.created", cb)).ok());
  for (const auto& call : std::vector<std::function<Status(Transaction&)>>{
           [&](Transaction& tx) { return this->repo_.GetState(tx, b, cb, "calendar").status(); },
           [&](Transaction& tx) { return this->repo_.PutState(tx, b, state); },
           [&](Transaction& tx) { return this->repo_.ListStates(tx, b, cb).status(); },
           [&](Transaction& tx) { return this->repo_.InsertRun(tx, b, run); },
           [&](Transaction& tx) { return this->repo_.UpdateRun(tx, b, run); },
           [&](Transaction& tx) { return this->repo_.GetRun(tx, b, run.id).status(); },
           [&](Transaction& tx) {
             return this->repo_.ListRuns(tx, b, cb, std::nullopt, 10).status();
           },
           [&](Transaction& tx) { return this->repo_.FindOpenRun(tx, b, cb, "calendar").status(); },
           [&](Transaction& tx) {
             return this->repo_.AppendChange(tx, b, this->Change("event.created", cb)).status();
           },
           [&](Transaction& tx) {
             return this->repo_.ListChanges(tx, b, {.limit = 10}).status();
           }}) {
    EXPECT_EQ(this->InTenant(a, call).code(), StatusCode::kPermissionDenied);
    EXPECT_EQ(this->db_->RunUnscoped(call).code(), StatusCode::kPermissionDenied);
  }
  // Asked as A for A, B's rows do not exist and cannot be changed.
  Status s = this->InTenant(a, [&](Transaction& tx) -> Status {
    SB_ASSIGN_OR_RETURN(auto got_state, this->repo_.GetState(tx, a, cb, "calendar"));
    EXPECT_EQ(got_state, std::nullopt);
    SB_ASSIGN_OR_RETURN(auto states, this->repo_.ListStates(tx, a, cb));
    EXPECT_TRUE(states.empty());
    SB_ASSIGN_OR_RETURN(auto got_run, this->repo_.GetRun(tx, a, run.id));
    EXPECT_EQ(got_run, std::nullopt);
    SB_ASSIGN_OR_RETURN(got_run, this->repo_.FindOpenRun(tx, a, cb, "calendar"));
    EXPECT_EQ(got_run, std::nullopt);
    SB_ASSIGN_OR_RETURN(auto runs, this->repo_.ListRuns(tx, a, cb, std::nullopt, 10));
    EXPECT_TRUE(runs.empty());
    SB_ASSIGN_OR_RETURN(auto changes, this->repo_.ListChanges(tx, a, {.limit = 10}));
    EXPECT_TRUE(changes.empty());
    return OkStatus();
  });
  ASSERT_TRUE(s.ok()) << s.ToString();
  SyncStateRecord forged_state = state;
  forged_state.tenant_id = a;
  EXPECT_EQ(
      this->Call(a, [&](Transaction& tx) { return this->repo_.PutState(tx, a, forged_state); })
          .code(),
      StatusCode::kNotFound);
  SyncRunRecord forged_run = run;
  forged_run.tenant_id = a;
  forged_run.outcome = SyncRunOutcome::kCancelled;
  EXPECT_EQ(this->Call(a, [&](Transaction& tx) { return this->repo_.UpdateRun(tx, a, forged_run); })
                .code(),
            StatusCode::kNotFound);
  EXPECT_EQ(this->Call(a, [&](Transaction& tx) { return this->repo_.InsertRun(tx, a, forged_run); })
                .code(),
            StatusCode::kNotFound);
  // A record naming another tenant than the call is refused.
  EXPECT_EQ(
      this->Call(a, [&](Transaction& tx) { return this->repo_.PutState(tx, a, state); }).code(),
      StatusCode::kInvalidArgument);
  auto b_state =
      this->Call(b, [&](Transaction& tx) { return this->repo_.GetState(tx, b, cb, "calendar"); });
  ASSERT_TRUE(b_state.ok());
  EXPECT_EQ(*b_state, state);
  auto b_run = this->Call(b, [&](Transaction& tx) { return this->repo_.GetRun(tx, b, run.id); });
  ASSERT_TRUE(b_run.ok());
  EXPECT_EQ(*b_run, run);
}

TYPED_TEST_P(SyncConformanceTest, RejectsMalformedInput) {
  const TenantId a = this->a_;
  const ConnectionId c = this->PutConnection(a);
  auto invalid = [&](const std::function<Status(Transaction&)>& call, const std::string& what) {
    EXPECT_EQ(this->InTenant(a, call).code(), StatusCode::kInvalidArgument) << what;
  };
  const std::string big(SyncRepository::kMaxCursorBytes, 'x');
  Json deep = Json::object();
  for (int i = 0; i < 40; ++i) deep = Json{{"d", deep}};
  std::vector<std::pair<std::string, std::function<void(SyncStateRecord&)>>> states = {
      {"service upper", [](auto& r) { r.service = "Calendar"; }},
      {"service empty", [](auto& r) { r.service = ""; }},
      {"service long", [](auto& r) { r.service = std::string(33, 'a'); }},
      {"error long", [](auto& r) { r.last_error = std::string(1025, 'e'); }},
      {"error utf8", [](auto& r) { r.last_error = "\xff"; }},
      {"paused reason", [](auto& r) { r.paused_reason = "a\nb"; }},
      {"cursor array", [](auto& r) { r.cursor = Json::array(); }},
      {"cursor big",
       [&](auto& r) {
         r.cursor = Json{{"t", big}};
       }},
      {"cursor deep", [&](auto& r) { r.cursor = deep; }},
      {"cursor utf8",
       [](auto& r) {
         r.cursor = Json{{"t", "\xff"}};
       }},
      {"negative", [](auto& r) { r.items_deleted = -1; }},
      {"last run", [](auto& r) { r.last_run_id = SyncRunId("not-a-uuid"); }},
      {"connection", [](auto& r) { r.connection_id = ConnectionId("x"); }},
      {"status", [](auto& r) { r.status = static_cast<SyncStatus>(42); }},
  };
  for (const auto& [what, mutate] : states) {
    SyncStateRecord r = this->State(a, c);
    mutate(r);
    invalid([&](Transaction& tx) { return this->repo_.PutState(tx, a, r); }, what);
  }
  std::vector<std::pair<std::string, std::function<void(SyncRunRecord&)>>> runs = {
      {"id", [](auto& r) { r.id = SyncRunId("x"); }},
      {"service", [](auto& r) { r.service = "e-mail"; }},
      {"phase", [](auto& r) { r.phase = "Events"; }},
      {"phase long", [](auto& r) { r.phase = std::string(33, 'p'); }},
      {"checkpoint", [](auto& r) { r.checkpoint = Json("text"); }},
      {"checkpoint big",
       [&](auto& r) {
         r.checkpoint = Json{{"t", big}};
       }},
      {"pages", [](auto& r) { r.pages = -1; }},
      {"error", [](auto& r) { r.error = std::string(1025, 'e'); }},
      {"trigger", [](auto& r) { r.trigger = static_cast<SyncTrigger>(9); }},
      {"outcome", [](auto& r) { r.outcome = static_cast<SyncRunOutcome>(9); }},
  };
  for (const auto& [what, mutate] : runs) {
    SyncRunRecord r = this->Run(a, c, SyncRunOutcome::kSucceeded);
    mutate(r);
    invalid([&](Transaction& tx) { return this->repo_.InsertRun(tx, a, r); }, "insert " + what);
    invalid([&](Transaction& tx) { return this->repo_.UpdateRun(tx, a, r); }, "update " + what);
  }
  std::vector<std::pair<std::string, std::function<void(ChangeRecord&)>>> changes = {
      {"type", [](auto& r) { r.type = "Event.Created"; }},
      {"type empty", [](auto& r) { r.type = ""; }},
      {"type long", [](auto& r) { r.type = std::string(65, 'a'); }},
      {"resource", [](auto& r) { r.resource_id = "evt-1"; }},
      {"connection", [](auto& r) { r.connection_id = ConnectionId("x"); }},
      {"data", [](auto& r) { r.data = Json::array(); }},
      {"data big",
       [](auto& r) {
         r.data = Json{{"t", std::string(256 * 1024, 'x')}};
       }},
  };
  for (const auto& [what, mutate] : changes) {
    ChangeRecord r = this->Change("event.created", c);
    mutate(r);
    invalid([&](Transaction& tx) { return this->repo_.AppendChange(tx, a, r).status(); }, what);
  }
  const ConnectionId bad("nope");
  invalid([&](Transaction& tx) { return this->repo_.GetState(tx, a, bad, "calendar").status(); },
          "get state id");
  invalid([&](Transaction& tx) { return this->repo_.GetState(tx, a, c, "Calendar").status(); },
          "get state service");
  invalid([&](Transaction& tx) { return this->repo_.ListStates(tx, a, bad).status(); }, "states");
  invalid([&](Transaction& tx) { return this->repo_.GetRun(tx, a, SyncRunId("x")).status(); },
          "get run");
  invalid(
      [&](Transaction& tx) { return this->repo_.ListRuns(tx, a, c, SyncRunId("x"), 10).status(); },
      "runs cursor");
  invalid(
      [&](Transaction& tx) { return this->repo_.ListRuns(tx, a, c, std::nullopt, 1001).status(); },
      "runs limit");
  invalid([&](Transaction& tx) { return this->repo_.FindOpenRun(tx, a, c, "").status(); },
          "open run service");
  invalid(
      [&](Transaction& tx) {
        return this->repo_.GetState(tx, TenantId("x"), c, "calendar").status();
      },
      "tenant");
  // Nothing was written.
  auto listed = this->Call(a, [&](Transaction& tx) { return this->repo_.ListStates(tx, a, c); });
  ASSERT_TRUE(listed.ok());
  EXPECT_TRUE(listed->empty());
  EXPECT_TRUE(this->Changes(a, 0, {}, 10)->empty());
}

TYPED_TEST_P(SyncConformanceTest, CorruptRowsAreDataLoss) {
  const TenantId a = this->a_;
  const ConnectionId c = this->PutConnection(a);
  ASSERT_TRUE(
      this->Call(a, [&](Transaction& tx) { return this->repo_.PutState(tx, a, this->State(a, c)); })
          .ok());
  SyncRunRecord run = this->Run(a, c);
  ASSERT_TRUE(
      this->Call(a, [&](Transaction& tx) { return this->repo_.InsertRun(tx, a, run); }).ok());
  auto state_loss = [&] {
    return this->Call(a, [&](Transaction& tx) { return this->repo_.ListStates(tx, a, c).status(); })
        .code();
  };
  auto run_loss = [&] {
    return this
        ->Call(a, [&](Transaction& tx) { return this->repo_.GetRun(tx, a, run.id).status(); })
        .code();
  };
  ASSERT_TRUE(this->Exec(a, "UPDATE sync_states SET cursor = '[1]' WHERE tenant_id = $1").ok());
  EXPECT_EQ(state_loss(), StatusCode::kDataLoss);
  ASSERT_TRUE(
      this->Exec(a, "UPDATE sync_states SET cursor = '{', last_error = '' WHERE tenant_id = $1")
          .ok());
  EXPECT_EQ(state_loss(), StatusCode::kDataLoss);
  ASSERT_TRUE(this->Exec(a,
                         "UPDATE sync_states SET cursor = '{}', service = 'Cal' "
                         "WHERE tenant_id = $1")
                  .ok());
  EXPECT_EQ(state_loss(), StatusCode::kDataLoss);
  ASSERT_TRUE(this->Exec(a,
                         "UPDATE sync_states SET service = 'calendar', paused_reason = $2 "
                         "WHERE tenant_id = $1",
                         "a\nb")
                  .ok());
  EXPECT_EQ(state_loss(), StatusCode::kDataLoss);

  ASSERT_TRUE(this->Exec(a, "UPDATE sync_runs SET phase = 'Bad Phase' WHERE tenant_id = $1").ok());
  EXPECT_EQ(run_loss(), StatusCode::kDataLoss);
  ASSERT_TRUE(this->Exec(a,
                         "UPDATE sync_runs SET phase = '', checkpoint = '\"x\"' "
                         "WHERE tenant_id = $1")
                  .ok());
  EXPECT_EQ(run_loss(), StatusCode::kDataLoss);
  ASSERT_TRUE(this->Exec(a,
                         "UPDATE sync_runs SET checkpoint = '{}', service = '' "
                         "WHERE tenant_id = $1")
                  .ok());
  EXPECT_EQ(run_loss(), StatusCode::kDataLoss);

  // The feed is append-only for the app role: plant bad rows by INSERT.
  ASSERT_TRUE(this->Exec(a,
                         "INSERT INTO changes (tenant_id, seq, type, resource_id, data, "
                         "created_at) VALUES ($1, 5, 'Bad Type', "
                         "'00000000-0000-7000-8000-000000000001', '{}', 1)")
                  .ok());
  EXPECT_EQ(this->Changes(a, 0, {}, 10).status().code(), StatusCode::kDataLoss);
  EXPECT_TRUE(this->Changes(a, 5, {}, 10).ok());
  ASSERT_TRUE(this->Exec(a,
                         "INSERT INTO changes (tenant_id, seq, type, resource_id, data, "
                         "created_at) VALUES ($1, 6, 'event.created', "
                         "'00000000-0000-7000-8000-000000000001', '[]', 1)")
                  .ok());
  EXPECT_EQ(this->Changes(a, 5, {}, 10).status().code(), StatusCode::kDataLoss);
}

TYPED_TEST_P(SyncConformanceTest, EnumNamesRoundTrip) {
  for (SyncStatus s :
       {SyncStatus::kIdle, SyncStatus::kRunning, SyncStatus::kFailed, SyncStatus::kPaused}) {
    EXPECT_EQ(ParseSyncStatus(SyncStatusName(s)), s);
  }
  for (SyncTrigger t : {SyncTrigger::kInitial, SyncTrigger::kPush, SyncTrigger::kSchedule,
                        SyncTrigger::kManual, SyncTrigger::kResync}) {
    EXPECT_EQ(ParseSyncTrigger(SyncTriggerName(t)), t);
  }
  for (SyncRunOutcome o :
       {SyncRunOutcome::kQueued, SyncRunOutcome::kRunning, SyncRunOutcome::kSucceeded,
        SyncRunOutcome::kFailed, SyncRunOutcome::kCancelled}) {
    EXPECT_EQ(ParseSyncRunOutcome(SyncRunOutcomeName(o)), o);
  }
  EXPECT_EQ(SyncStatusName(SyncStatus::kPaused), "paused");
  EXPECT_EQ(SyncTriggerName(SyncTrigger::kResync), "resync");
  EXPECT_EQ(SyncRunOutcomeName(SyncRunOutcome::kCancelled), "cancelled");
  EXPECT_EQ(ParseSyncStatus("Idle"), std::nullopt);
  EXPECT_EQ(ParseSyncTrigger(""), std::nullopt);
  EXPECT_EQ(ParseSyncRunOutcome("done"), std::nullopt);
  EXPECT_EQ(SyncStatusName(static_cast<SyncStatus>(42)), "");
}

// Live updates (GET /v1/live) read what changed since a keyset position: (updated_at, id)
// order, ties kept apart by the id, strictly after the cursor, only the tenant's runs.
TYPED_TEST_P(SyncConformanceTest, RunsUpdatedSinceInKeysetOrder) {
  const TenantId a = this->a_;
  const ConnectionId c = this->PutConnection(a);
  const ConnectionId other = this->PutConnection(this->b_);
  const Timestamp at = this->clock_.Now() + std::chrono::hours(1);
  std::vector<SyncRunRecord> runs;
  for (int i = 0; i < 3; ++i) {
    SyncRunRecord r = this->Run(a, c, SyncRunOutcome::kSucceeded);
    r.updated_at = at;  // a tie: the id orders them
    runs.push_back(r);
  }
  SyncRunRecord foreign = this->Run(this->b_, other, SyncRunOutcome::kSucceeded);
  foreign.updated_at = at;
  for (const SyncRunRecord& r : runs) {
    ASSERT_TRUE(
        this->Call(a, [&](Transaction& tx) { return this->repo_.InsertRun(tx, a, r); }).ok());
  }
  ASSERT_TRUE(
      this->Call(this->b_,
                 [&](Transaction& tx) { return this->repo_.InsertRun(tx, this->b_, foreign); })
          .ok());
  auto since = [&](const UpdatedCursor& cursor, int limit) {
    return this->Call(
        a, [&](Transaction& tx) { return this->repo_.ListRunsUpdatedSince(tx, a, cursor, limit); });
  };
  auto first = since(UpdatedCursor::At(at), 2);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  ASSERT_EQ(first->size(), 2u);
  EXPECT_EQ((*first)[0], runs[0]);
  EXPECT_EQ((*first)[1], runs[1]);
  auto rest = since(UpdatedCursor{at, runs[1].id.value()}, 10);
  ASSERT_TRUE(rest.ok());
  ASSERT_EQ(rest->size(), 1u);
  EXPECT_EQ((*rest)[0], runs[2]);
  EXPECT_TRUE(since(UpdatedCursor{at, runs[2].id.value()}, 10)->empty());
  EXPECT_TRUE(since(UpdatedCursor::At(at + std::chrono::microseconds(1)), 10)->empty());

  // An update moves the run after the cursor again.
  SyncRunRecord moved = runs[0];
  moved.pages = 5;
  moved.updated_at = at + std::chrono::seconds(1);
  ASSERT_TRUE(
      this->Call(a, [&](Transaction& tx) { return this->repo_.UpdateRun(tx, a, moved); }).ok());
  auto after = since(UpdatedCursor{at, runs[2].id.value()}, 10);
  ASSERT_TRUE(after.ok());
  ASSERT_EQ(after->size(), 1u);
  EXPECT_EQ((*after)[0], moved);

  EXPECT_EQ(since(UpdatedCursor{at, "not-a-uuid"}, 10).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(since(UpdatedCursor::At(at), 0).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(this->Call(this->b_,
                       [&](Transaction& tx) {
                         return this->repo_.ListRunsUpdatedSince(tx, a, UpdatedCursor::At(at), 10);
                       })
                .status()
                .code(),
            StatusCode::kPermissionDenied);
}

REGISTER_TYPED_TEST_SUITE_P(
    SyncConformanceTest, StatesRoundTripReplaceAndList, RunsRoundTripUpdateListAndFindOpen,
    AtMostOneOpenRunPerConnectionAndService, ChangeSeqsIncreasePerTenantAndRoundTrip,
    ListChangesFiltersByCursorTypesAndLimit, ListChangesFiltersByConnection, ListChangesNewestFirst,
    AppendChangesTakesConsecutiveSeqs, ConcurrentAppendsGetDistinctSeqs,
    MaintenanceListsDueStatesLongestWaitingFirstWithoutPaused, CrossTenantAccessIsRefused,
    RejectsMalformedInput, CorruptRowsAreDataLoss, EnumNamesRoundTrip,
    RunsUpdatedSinceInKeysetOrder);

}  // namespace sb::store::testing
