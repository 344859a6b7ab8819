// Conformance suite of the connect flow's storage (ConnectSessionRepository,
// OAuthTransactionRepository, ConnectionRepository), written once and instantiated per backend
// like repository_conformance.h: round trips, duplicates (ALREADY_EXISTS), single-use
// transactions (OA-08), compare-and-set token versions and the refresh lease (OA-10, including
// a race of eight threads), the cross-tenant maintenance scan, cross-tenant refusals (RLS-09),
// validation and corrupt rows (DATA_LOSS). Include in exactly one translation unit per test
// binary.
#pragma once

#include <algorithm>
#include <atomic>
#include <functional>
#include <iterator>
#include <latch>
#include <random>
#include <thread>
#include <type_traits>

#include <gtest/gtest.h>

#include "sb/store/connections/connect_repository.h"
#include "sb/store/jobs/job_repository.h"
#include "sb/store/testing/conformance_fixture.h"

namespace sb::store::testing {

template <typename TestBackend>
class ConnectConformanceTest : public RepositoryConformanceTest<TestBackend> {
 protected:
  std::string Hash() { return HexEncode(this->random_.Bytes(32)); }

  ConnectSessionRecord Session(const TenantId& tenant) {
    const Timestamp now = this->clock_.Now();
    return ConnectSessionRecord{tenant,
                                ConnectSessionId(this->ids_.NewUuid()),
                                Hash(),
                                "user-42",
                                "ada@example.com",
                                {"google", "microsoft"},
                                {{"calendar", true}, {"email", false}},
                                "https://app.example/after-connect?x=1",
                                now,
                                now + std::chrono::minutes(30)};
  }

  OAuthTransactionRecord OAuthTx(const TenantId& tenant) {
    const Timestamp now = this->clock_.Now();
    return OAuthTransactionRecord{tenant,
                                  Hash(),
                                  ConnectSessionId(this->ids_.NewUuid()),
                                  "google",
                                  "https://hub.example/oauth/callback",
                                  "https://accounts.google.com",
                                  Hash(),
                                  Hash(),
                                  {{"calendar", true}},
                                  {"openid", "https://www.googleapis.com/auth/calendar"},
                                  now,
                                  now + std::chrono::minutes(10),
                                  std::nullopt};
  }

  ConnectionRecord Connection(const TenantId& tenant, std::string provider = "google",
                              std::string subject = "") {
    ConnectionRecord r;
    r.tenant_id = tenant;
    r.id = ConnectionId(this->ids_.NewUuid());
    r.provider = std::move(provider);
    r.end_user_id = "user-42";
    r.account_subject = subject.empty() ? "sub-" + r.id.value() : std::move(subject);
    r.account_email = "ada@example.com";
    r.services = {{"calendar", true}};
    r.granted_scopes = {"openid", "email"};
    r.missing_scopes = {"https://www.googleapis.com/auth/contacts"};
    r.settings = Json{{"calendars", Json::array({"primary"})}};
    r.access_expires_at = this->clock_.Now() + std::chrono::hours(1);
    r.has_refresh_token = true;
    r.created_at = this->clock_.Now();
    r.updated_at = r.created_at;
    return r;
  }

  Status Put(const ConnectionRecord& r) {
    return this->Call(r.tenant_id,
                      [&](Transaction& tx) { return conns_.Insert(tx, r.tenant_id, r); });
  }

  std::optional<ConnectionRecord> GetConn(const TenantId& tenant, const ConnectionId& id) {
    auto got = this->Call(tenant, [&](Transaction& tx) { return conns_.Get(tx, tenant, id); });
    EXPECT_TRUE(got.ok()) << got.status().ToString();
    return got.ok() ? *got : std::nullopt;
  }

  bool Lease(const ConnectionId& id, const std::string& owner, Timestamp now) {
    auto r = this->Call(this->a_, [&](Transaction& tx) {
      return conns_.TryLease(tx, this->a_, id, owner, now, std::chrono::seconds(30));
    });
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() && *r;
  }

  // Every connection of `tenant` matching `filter`, read in pages of `page`.
  std::vector<ConnectionRecord> ListAll(const TenantId& tenant, const ConnectionFilter& filter,
                                        int page) {
    std::vector<ConnectionRecord> all;
    std::optional<ConnectionId> after;
    while (true) {
      auto batch = this->Call(
          tenant, [&](Transaction& tx) { return conns_.List(tx, tenant, filter, after, page); });
      EXPECT_TRUE(batch.ok()) << batch.status().ToString();
      if (!batch.ok() || batch->empty()) return all;
      EXPECT_LE(batch->size(), static_cast<size_t>(page));
      after = batch->back().id;
      all.insert(all.end(), batch->begin(), batch->end());
    }
  }

  // Writes `sql` (with $1 = tenant, $2 = key) to plant a malformed row.
  void Corrupt(const TenantId& tenant, const std::string& key, const std::string& sql) {
    Status s = this->InTenant(tenant, [&](Transaction& tx) {
      return tx.Execute(sql, {tenant.value(), key}).status();
    });
    ASSERT_TRUE(s.ok()) << s.ToString();
  }

  ConnectSessionRepository sessions_;
  OAuthTransactionRepository oauth_;
  ConnectionRepository conns_;
};

TYPED_TEST_SUITE_P(ConnectConformanceTest);

TYPED_TEST_P(ConnectConformanceTest, SessionsInsertGetFindAndDeleteExpired) {
  const TenantId& a = this->a_;
  ConnectSessionRecord s1 = this->Session(a);
  ConnectSessionRecord s2 = this->Session(a);
  s2.allowed_providers = {};
  s2.services = {};
  s2.end_user_email = "";
  s2.expires_at = s2.created_at + std::chrono::hours(2);
  ConnectSessionRecord in_b = this->Session(this->b_);
  in_b.token_hash = s1.token_hash;  // token hashes are unique per tenant only
  for (const auto& s : {s1, s2, in_b}) {
    Status st = this->Call(
        s.tenant_id, [&](Transaction& tx) { return this->sessions_.Insert(tx, s.tenant_id, s); });
    ASSERT_TRUE(st.ok()) << st.ToString();
  }
  auto get = [&](const ConnectSessionId& id) {
    return this->Call(a, [&](Transaction& tx) { return this->sessions_.Get(tx, a, id); });
  };
  EXPECT_EQ(*get(s1.id), s1);
  EXPECT_EQ(*get(s2.id), s2);
  EXPECT_EQ(*get(ConnectSessionId(this->ids_.NewUuid())), std::nullopt);
  auto found = this->Call(
      a, [&](Transaction& tx) { return this->sessions_.FindByTokenHash(tx, a, s1.token_hash); });
  ASSERT_TRUE(found.ok()) << found.status().ToString();
  EXPECT_EQ(*found, s1);
  found = this->Call(
      a, [&](Transaction& tx) { return this->sessions_.FindByTokenHash(tx, a, this->Hash()); });
  ASSERT_TRUE(found.ok());
  EXPECT_EQ(*found, std::nullopt);

  auto deleted = this->Call(a, [&](Transaction& tx) {
    return this->sessions_.DeleteExpired(tx, a, s1.created_at + std::chrono::hours(1));
  });
  ASSERT_TRUE(deleted.ok()) << deleted.status().ToString();
  EXPECT_EQ(*deleted, 1);  // s1 only: s2 lives on, and b's session is not a's to delete
  EXPECT_EQ(*get(s1.id), std::nullopt);
  EXPECT_EQ(*get(s2.id), s2);
  auto b_session = this->Call(
      this->b_, [&](Transaction& tx) { return this->sessions_.Get(tx, this->b_, in_b.id); });
  EXPECT_EQ(*b_session, in_b);
}

TYPED_TEST_P(ConnectConformanceTest, DuplicateSessionIsAlreadyExists) {
  const TenantId& a = this->a_;
  ConnectSessionRecord s = this->Session(a);
  auto insert = [&](const ConnectSessionRecord& r) {
    return this->Call(a, [&](Transaction& tx) { return this->sessions_.Insert(tx, a, r); });
  };
  ASSERT_TRUE(insert(s).ok());
  ConnectSessionRecord same_id = this->Session(a);
  same_id.id = s.id;
  EXPECT_EQ(insert(same_id).code(), StatusCode::kAlreadyExists);
  ConnectSessionRecord same_token = this->Session(a);
  same_token.token_hash = s.token_hash;
  EXPECT_EQ(insert(same_token).code(), StatusCode::kAlreadyExists);
}

// OA-08: a transaction is consumed at most once.
TYPED_TEST_P(ConnectConformanceTest, TransactionsAreSingleUse) {
  const TenantId& a = this->a_;
  OAuthTransactionRecord t = this->OAuthTx(a);
  OAuthTransactionRecord bare = this->OAuthTx(a);
  bare.issuer = "";
  bare.nonce_hash = "";
  bare.scopes = {};
  bare.expires_at = bare.created_at + std::chrono::minutes(1);
  for (const auto& r : {t, bare}) {
    ASSERT_TRUE(this->Call(a, [&](Transaction& tx) { return this->oauth_.Insert(tx, a, r); }).ok());
  }
  EXPECT_EQ(this->Call(a, [&](Transaction& tx) { return this->oauth_.Insert(tx, a, t); }).code(),
            StatusCode::kAlreadyExists);
  auto get = [&](const std::string& hash) {
    return *this->Call(a, [&](Transaction& tx) { return this->oauth_.Get(tx, a, hash); });
  };
  EXPECT_EQ(get(t.state_hash), t);
  EXPECT_EQ(get(bare.state_hash), bare);
  EXPECT_EQ(get(this->Hash()), std::nullopt);

  const Timestamp at = t.created_at + std::chrono::seconds(20);
  auto consume = [&](const std::string& hash, Timestamp when) {
    auto r =
        this->Call(a, [&](Transaction& tx) { return this->oauth_.Consume(tx, a, hash, when); });
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() && *r;
  };
  EXPECT_TRUE(consume(t.state_hash, at));
  EXPECT_FALSE(consume(t.state_hash, at + std::chrono::seconds(1)));
  EXPECT_FALSE(consume(this->Hash(), at));  // unknown
  EXPECT_EQ(get(t.state_hash)->consumed_at, at);

  // Verifier rows of both transactions; the expired one's goes with it.
  auto verifiers = [&]() {
    return *this->Call(a, [&](Transaction& tx) -> Result<int64_t> {
      SB_ASSIGN_OR_RETURN(auto rows, tx.Query("SELECT owner_id FROM vault_secrets WHERE "
                                              "tenant_id = $1 AND owner_id LIKE 'oauth_tx:%'",
                                              {a.value()}));
      return static_cast<int64_t>(rows.size());
    });
  };
  for (const std::string& hash : {t.state_hash, bare.state_hash}) {
    ASSERT_TRUE(
        this->Call(a,
                   [&](Transaction& tx) {
                     return tx.Execute(
                         "INSERT INTO vault_secrets (tenant_id, owner_id, field, ciphertext, "
                         "key_version, updated_at) VALUES ($1, $2, 'code_verifier', 'x', 1, 0)",
                         {a.value(), TransactionSecretOwner(hash)});
                   })
            .ok());
  }
  EXPECT_EQ(verifiers(), 2);
  auto deleted = this->Call(a, [&](Transaction& tx) {
    return this->oauth_.DeleteExpired(tx, a, bare.expires_at + std::chrono::seconds(1));
  });
  ASSERT_TRUE(deleted.ok());
  EXPECT_EQ(*deleted, 1);
  EXPECT_EQ(get(bare.state_hash), std::nullopt);
  EXPECT_TRUE(get(t.state_hash).has_value());
  EXPECT_EQ(verifiers(), 1);
  EXPECT_EQ(TransactionSecretOwner(t.state_hash), "oauth_tx:" + t.state_hash);
}

TYPED_TEST_P(ConnectConformanceTest, ConnectionsInsertGetFindAndDelete) {
  const TenantId& a = this->a_;
  ConnectionRecord c = this->Connection(a, "microsoft", "oid-1");
  c.provider_tenant_id = "tid-1";
  c.access_expires_at = std::nullopt;
  c.next_refresh_at = this->clock_.Now() + std::chrono::minutes(50);
  ASSERT_TRUE(this->Put(c).ok());
  EXPECT_EQ(this->GetConn(a, c.id), c);
  EXPECT_EQ(this->Put(c).code(), StatusCode::kAlreadyExists);  // same id
  ConnectionRecord same_account = this->Connection(a, "microsoft", "oid-1");
  same_account.provider_tenant_id = "tid-1";
  EXPECT_EQ(this->Put(same_account).code(), StatusCode::kAlreadyExists);
  same_account.provider_tenant_id = "tid-2";  // the same subject in another directory
  EXPECT_TRUE(this->Put(same_account).ok());
  ConnectionRecord in_b = this->Connection(this->b_, "microsoft", "oid-1");
  in_b.provider_tenant_id = "tid-1";
  EXPECT_TRUE(this->Put(in_b).ok());

  auto find = [&](const std::string& provider, const std::string& tid, const std::string& sub) {
    auto r = this->Call(
        a, [&](Transaction& tx) { return this->conns_.FindByAccount(tx, a, provider, tid, sub); });
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : std::nullopt;
  };
  EXPECT_EQ(find("microsoft", "tid-1", "oid-1"), c);
  EXPECT_EQ(find("microsoft", "tid-2", "oid-1"), same_account);
  EXPECT_EQ(find("google", "tid-1", "oid-1"), std::nullopt);

  auto del = [&](const ConnectionId& id) {
    auto r = this->Call(a, [&](Transaction& tx) { return this->conns_.Delete(tx, a, id); });
    return r.ok() && *r;
  };
  EXPECT_TRUE(del(c.id));
  EXPECT_FALSE(del(c.id));
  EXPECT_EQ(this->GetConn(a, c.id), std::nullopt);
  EXPECT_EQ(this->GetConn(this->b_, in_b.id), in_b);
  EXPECT_EQ(ConnectionSecretOwner(c.id), "connection:" + c.id.value());
}

TYPED_TEST_P(ConnectConformanceTest, ListFiltersAndPagesInIdOrder) {
  std::vector<ConnectionRecord> all;
  for (int i = 0; i < 7; ++i) {
    ConnectionRecord r = this->Connection(this->a_, i % 2 == 0 ? "google" : "microsoft");
    r.end_user_id = i < 4 ? "user-1" : "user-2";
    r.status = i % 3 == 0 ? ConnectionStatus::kError : ConnectionStatus::kActive;
    all.push_back(r);
  }
  std::vector<ConnectionRecord> shuffled = all;
  std::shuffle(shuffled.begin(), shuffled.end(), std::mt19937(7));
  for (const auto& r : shuffled) ASSERT_TRUE(this->Put(r).ok());
  ASSERT_TRUE(this->Put(this->Connection(this->b_)).ok());  // noise
  std::sort(all.begin(), all.end(), [](auto& x, auto& y) { return x.id < y.id; });
  auto expected = [&](const std::function<bool(const ConnectionRecord&)>& keep) {
    std::vector<ConnectionRecord> out;
    std::copy_if(all.begin(), all.end(), std::back_inserter(out), keep);
    return out;
  };

  EXPECT_EQ(this->ListAll(this->a_, {}, 3), all);
  EXPECT_EQ(this->ListAll(this->a_, {}, 100), all);
  EXPECT_EQ(this->ListAll(this->a_, {.provider = "google"}, 2),
            expected([](auto& r) { return r.provider == "google"; }));
  EXPECT_EQ(this->ListAll(this->a_, {.status = ConnectionStatus::kError}, 2),
            expected([](auto& r) { return r.status == ConnectionStatus::kError; }));
  EXPECT_EQ(this->ListAll(this->a_, {.end_user_id = "user-2"}, 1),
            expected([](auto& r) { return r.end_user_id == "user-2"; }));
  const ConnectionFilter all_three{"microsoft", ConnectionStatus::kActive, "user-1"};
  auto narrow = expected([](auto& r) {
    return r.provider == "microsoft" && r.status == ConnectionStatus::kActive &&
           r.end_user_id == "user-1";
  });
  EXPECT_EQ(narrow.size(), 1u);  // i = 1 (i = 3 is an error)
  EXPECT_EQ(this->ListAll(this->a_, all_three, 5), narrow);
  EXPECT_TRUE(this->ListAll(this->a_, {.end_user_id = "nobody"}, 5).empty());
}

// OA-10: token changes are compared-and-set on token_version.
TYPED_TEST_P(ConnectConformanceTest, UpdateIfComparesTheTokenVersion) {
  const TenantId& a = this->a_;
  ConnectionRecord c = this->Connection(a);
  ASSERT_TRUE(this->Put(c).ok());
  this->clock_.Advance(std::chrono::minutes(5));
  ConnectionRecord next = c;
  next.end_user_id = "user-43";
  next.account_email = "";
  next.status = ConnectionStatus::kReauthorizationRequired;
  next.status_reason = "invalid_grant: token revoked";
  next.services = {{"calendar", false}, {"contacts", true}};
  next.granted_scopes = {"openid"};
  next.missing_scopes = {};
  next.settings = Json{{"sync", {{"days", 30}}}};
  next.access_expires_at = std::nullopt;
  next.has_refresh_token = false;
  next.token_version = 1;
  next.lease_owner = "node-1";
  next.lease_until = this->clock_.Now() + std::chrono::seconds(30);
  next.next_refresh_at = this->clock_.Now() + std::chrono::minutes(1);
  next.refresh_failures = 2;
  next.updated_at = this->clock_.Now();
  auto update = [&](const ConnectionRecord& r, int64_t expected) {
    auto ok =
        this->Call(a, [&](Transaction& tx) { return this->conns_.UpdateIf(tx, a, r, expected); });
    EXPECT_TRUE(ok.ok()) << ok.status().ToString();
    return ok.ok() && *ok;
  };
  EXPECT_TRUE(update(next, 0));
  EXPECT_EQ(this->GetConn(a, c.id), next);
  ConnectionRecord stale = c;
  stale.token_version = 1;
  EXPECT_FALSE(update(stale, 0));  // another node refreshed meanwhile
  EXPECT_EQ(this->GetConn(a, c.id), next);

  ConnectionRecord identity = next;  // identity columns and created_at are never replaced
  identity.account_subject = "someone-else";
  identity.provider_tenant_id = "tid";
  identity.created_at = this->clock_.Now();
  identity.token_version = 2;
  EXPECT_TRUE(update(identity, 1));
  ConnectionRecord want = next;
  want.token_version = 2;
  EXPECT_EQ(this->GetConn(a, c.id), want);
  ConnectionRecord ghost = this->Connection(a);
  EXPECT_FALSE(update(ghost, 0));  // the row is gone (never was)
}

TYPED_TEST_P(ConnectConformanceTest, LeaseIsTakenWhenFreeExpiredOrOwn) {
  const TenantId& a = this->a_;
  ConnectionRecord c = this->Connection(a);
  ASSERT_TRUE(this->Put(c).ok());
  const Timestamp t0 = this->clock_.Now();
  EXPECT_TRUE(this->Lease(c.id, "node-a", t0));  // free
  auto got = this->GetConn(a, c.id);
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->lease_owner, "node-a");
  EXPECT_EQ(got->lease_until, t0 + std::chrono::seconds(30));
  EXPECT_FALSE(this->Lease(c.id, "node-b", t0 + std::chrono::seconds(10)));  // live, other
  EXPECT_TRUE(this->Lease(c.id, "node-a", t0 + std::chrono::seconds(10)));   // own: renewed
  EXPECT_EQ(this->GetConn(a, c.id)->lease_until, t0 + std::chrono::seconds(40));
  EXPECT_FALSE(this->Lease(c.id, "node-b", t0 + std::chrono::seconds(39)));
  EXPECT_TRUE(this->Lease(c.id, "node-b", t0 + std::chrono::seconds(40)));  // expired
  EXPECT_EQ(this->GetConn(a, c.id)->lease_owner, "node-b");

  auto release = [&](const std::string& owner) {
    return this->Call(
        a, [&](Transaction& tx) { return this->conns_.ReleaseLease(tx, a, c.id, owner); });
  };
  ASSERT_TRUE(release("node-a").ok());  // not the holder: no effect
  EXPECT_EQ(this->GetConn(a, c.id)->lease_owner, "node-b");
  ASSERT_TRUE(release("node-b").ok());
  got = this->GetConn(a, c.id);
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->lease_owner, "");
  EXPECT_EQ(got->lease_until, std::nullopt);
  EXPECT_TRUE(this->Lease(c.id, "node-c", t0 + std::chrono::seconds(41)));      // free again
  EXPECT_FALSE(this->Lease(ConnectionId(this->ids_.NewUuid()), "node-c", t0));  // unknown
}

// OA-10 / OA-08 across nodes: eight transactions racing for the same lease (and the same
// OAuth state) at the same instant produce exactly one winner.
TYPED_TEST_P(ConnectConformanceTest, ConcurrentTryLeaseAndConsumeHaveOneWinner) {
  const TenantId a = this->a_;
  ConnectionRecord c = this->Connection(a);
  ASSERT_TRUE(this->Put(c).ok());
  OAuthTransactionRecord t = this->OAuthTx(a);
  ASSERT_TRUE(this->Call(a, [&](Transaction& tx) { return this->oauth_.Insert(tx, a, t); }).ok());
  constexpr int kThreads = 8;
  const Timestamp now = this->clock_.Now();
  std::atomic<int> leases{0};
  std::atomic<int> consumed{0};
  std::atomic<int> failures{0};
  std::latch start(kThreads);
  std::vector<std::thread> threads;
  threads.reserve(kThreads);
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      start.arrive_and_wait();
      Status s = this->db_->RunInTenant(a, [&](Transaction& tx) -> Status {
        SB_ASSIGN_OR_RETURN(bool leased,
                            this->conns_.TryLease(tx, a, c.id, "node-" + std::to_string(i), now,
                                                  std::chrono::seconds(30)));
        SB_ASSIGN_OR_RETURN(bool used, this->oauth_.Consume(tx, a, t.state_hash, now));
        leases += leased ? 1 : 0;
        consumed += used ? 1 : 0;
        return OkStatus();
      });
      if (!s.ok()) ++failures;
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(leases.load(), 1);
  EXPECT_EQ(consumed.load(), 1);
  auto got = this->GetConn(a, c.id);
  ASSERT_TRUE(got.has_value());
  EXPECT_TRUE(got->lease_owner.starts_with("node-")) << got->lease_owner;
}

TYPED_TEST_P(ConnectConformanceTest, MaintenanceListsDueConnectionsAcrossTenantsSoonestFirst) {
  const std::string kJob = "connection.refresh";
  // Fresh tenants and instants long before the fixture clock, so that on the shared PostgreSQL
  // database other tests' rows can neither interleave nor crowd ours out.
  TenantId x = this->NewTenant("x");
  TenantId y = this->NewTenant("y");
  const Timestamp base =
      FromUnixMicros(1'000'000'000 + static_cast<int64_t>(this->random_.Uint64() % 1'000'000));
  auto add = [&](const TenantId& t, std::optional<std::chrono::seconds> due) {
    ConnectionRecord r = this->Connection(t);
    if (due) r.next_refresh_at = base + *due;
    EXPECT_TRUE(this->Put(r).ok());
    return std::make_pair(t, r.id);
  };
  auto x3 = add(x, std::chrono::seconds(3));
  auto x1 = add(x, std::chrono::seconds(1));
  add(x, std::nullopt);               // never due
  add(x, std::chrono::seconds(100));  // not yet due
  auto y2 = add(y, std::chrono::seconds(2));
  auto y4 = add(y, std::chrono::seconds(4));

  auto maint = this->backend_.OpenMaintenance();
  ASSERT_TRUE(maint.ok()) << maint.status().ToString();
  auto list = [&](int limit) {
    std::vector<std::pair<TenantId, ConnectionId>> out;
    Status s = (*maint)->RunUnscoped([&](Transaction& tx) -> Status {
      SB_ASSIGN_OR_RETURN(
          out, this->conns_.MaintenanceListDue(tx, base + std::chrono::seconds(10), kJob, limit));
      return OkStatus();
    });
    EXPECT_TRUE(s.ok()) << s.ToString();
    return out;
  };
  auto mine = list(ConnectionRepository::kMaxListLimit);
  std::erase_if(mine, [&](const auto& p) { return p.first != x && p.first != y; });
  EXPECT_EQ(mine, (std::vector<std::pair<TenantId, ConnectionId>>{x1, y2, x3, y4}));
  EXPECT_EQ(list(2).size(), 2u);
  // A connection with a live job of the kind (its id as dedupe key) is left out; a job of
  // another kind or a finished one does not count.
  auto queue = [&](const std::pair<TenantId, ConnectionId>& c, std::string kind) {
    JobRecord job;
    job.tenant_id = c.first;
    job.id = JobId(this->ids_.NewUuid());
    job.kind = std::move(kind);
    job.dedupe_key = c.second.value();
    job.run_at = job.created_at = job.updated_at = base;
    ASSERT_TRUE(this->InTenant(c.first,
                               [&](Transaction& tx) {
                                 return JobRepository().Enqueue(tx, c.first, job).status();
                               })
                    .ok());
  };
  queue(x1, kJob);
  queue(y2, "connection.health_check");
  mine = list(ConnectionRepository::kMaxListLimit);
  std::erase_if(mine, [&](const auto& p) { return p.first != x && p.first != y; });
  EXPECT_EQ(mine, (std::vector<std::pair<TenantId, ConnectionId>>{y2, x3, y4}));

  // Only unscoped or system-tenant transactions may scan across tenants.
  Status s = this->InTenant(this->a_, [&](Transaction& tx) {
    return this->conns_.MaintenanceListDue(tx, base, kJob, 10).status();
  });
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition) << s.ToString();
  s = this->db_->RunInTenant(TenantId("00000000-0000-0000-0000-000000000000"),
                             [&](Transaction& tx) {
                               return this->conns_.MaintenanceListDue(tx, base, kJob, 10).status();
                             });
  EXPECT_TRUE(s.ok()) << s.ToString();
  s = (*maint)->RunUnscoped(
      [&](Transaction& tx) { return this->conns_.MaintenanceListDue(tx, base, kJob, 0).status(); });
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
}

// RLS-09: tenant A's transaction never reaches B's sessions, transactions or connections.
TYPED_TEST_P(ConnectConformanceTest, CrossTenantAccessIsRefused) {
  const TenantId& a = this->a_;
  const TenantId& b = this->b_;
  ConnectSessionRecord session = this->Session(b);
  OAuthTransactionRecord otx = this->OAuthTx(b);
  ConnectionRecord conn = this->Connection(b);
  ASSERT_TRUE(
      this->Call(b, [&](Transaction& tx) { return this->sessions_.Insert(tx, b, session); }).ok());
  ASSERT_TRUE(this->Call(b, [&](Transaction& tx) { return this->oauth_.Insert(tx, b, otx); }).ok());
  ASSERT_TRUE(this->Put(conn).ok());
  const Timestamp now = this->clock_.Now();
  for (const auto& call : std::vector<std::function<Status(Transaction&)>>{
           [&](Transaction& tx) { return this->sessions_.Insert(tx, b, session); },
           [&](Transaction& tx) { return this->sessions_.Get(tx, b, session.id).status(); },
           [&](Transaction& tx) {
             return this->sessions_.FindByTokenHash(tx, b, session.token_hash).status();
           },
           [&](Transaction& tx) { return this->sessions_.DeleteExpired(tx, b, now).status(); },
           [&](Transaction& tx) { return this->oauth_.Insert(tx, b, otx); },
           [&](Transaction& tx) { return this->oauth_.Get(tx, b, otx.state_hash).status(); },
           [&](Transaction& tx) {
             return this->oauth_.Consume(tx, b, otx.state_hash, now).status();
           },
           [&](Transaction& tx) { return this->oauth_.DeleteExpired(tx, b, now).status(); },
           [&](Transaction& tx) { return this->conns_.Insert(tx, b, conn); },
           [&](Transaction& tx) { return this->conns_.Get(tx, b, conn.id).status(); },
           [&](Transaction& tx) {
             return this->conns_.FindByAccount(tx, b, "google", "", conn.account_subject).status();
           },
           [&](Transaction& tx) { return this->conns_.List(tx, b, {}, std::nullopt, 10).status(); },
           [&](Transaction& tx) { return this->conns_.UpdateIf(tx, b, conn, 0).status(); },
           [&](Transaction& tx) {
             return this->conns_.TryLease(tx, b, conn.id, "n", now, std::chrono::seconds(1))
                 .status();
           },
           [&](Transaction& tx) { return this->conns_.ReleaseLease(tx, b, conn.id, "n"); },
           [&](Transaction& tx) { return this->conns_.Delete(tx, b, conn.id).status(); }}) {
    EXPECT_EQ(this->InTenant(a, call).code(), StatusCode::kPermissionDenied);
    EXPECT_EQ(this->db_->RunUnscoped(call).code(), StatusCode::kPermissionDenied);
  }
  // Asked as A for A, B's rows do not exist.
  Status s = this->InTenant(a, [&](Transaction& tx) -> Status {
    SB_ASSIGN_OR_RETURN(auto got_session, this->sessions_.Get(tx, a, session.id));
    EXPECT_EQ(got_session, std::nullopt);
    SB_ASSIGN_OR_RETURN(got_session, this->sessions_.FindByTokenHash(tx, a, session.token_hash));
    EXPECT_EQ(got_session, std::nullopt);
    SB_ASSIGN_OR_RETURN(bool used, this->oauth_.Consume(tx, a, otx.state_hash, now));
    EXPECT_FALSE(used);
    ConnectionRecord forged = conn;
    forged.tenant_id = a;
    forged.status = ConnectionStatus::kRevoked;
    SB_ASSIGN_OR_RETURN(bool changed, this->conns_.UpdateIf(tx, a, forged, 0));
    EXPECT_FALSE(changed);
    SB_ASSIGN_OR_RETURN(changed,
                        this->conns_.TryLease(tx, a, conn.id, "n", now, std::chrono::seconds(1)));
    EXPECT_FALSE(changed);
    SB_ASSIGN_OR_RETURN(changed, this->conns_.Delete(tx, a, conn.id));
    EXPECT_FALSE(changed);
    SB_ASSIGN_OR_RETURN(auto listed, this->conns_.List(tx, a, {}, std::nullopt, 100));
    EXPECT_TRUE(listed.empty());
    return OkStatus();
  });
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(this->GetConn(b, conn.id), conn);
  auto b_tx =
      this->Call(b, [&](Transaction& tx) { return this->oauth_.Get(tx, b, otx.state_hash); });
  EXPECT_EQ(*b_tx, otx);  // still unconsumed
}

TYPED_TEST_P(ConnectConformanceTest, RejectsMalformedInput) {
  const TenantId& a = this->a_;
  auto invalid = [&](const std::function<Status(Transaction&)>& call, const char* what) {
    EXPECT_EQ(this->InTenant(a, call).code(), StatusCode::kInvalidArgument) << what;
  };
  std::vector<std::pair<const char*, std::function<void(ConnectSessionRecord&)>>> sessions = {
      {"session id", [](auto& r) { r.id = ConnectSessionId("nope"); }},
      {"upper-case hash", [](auto& r) { r.token_hash[0] = 'A'; }},
      {"empty end user", [](auto& r) { r.end_user_id = ""; }},
      {"long end user", [](auto& r) { r.end_user_id = std::string(257, 'u'); }},
      {"non-UTF-8 end user", [](auto& r) { r.end_user_id = "\xff\xfe"; }},
      {"provider", [](auto& r) { r.allowed_providers = {"Google"}; }},
      {"provider twice",
       [](auto& r) {
         r.allowed_providers = {"google", "google"};
       }},
      {"service",
       [](auto& r) {
         r.services = {{"drive", false}};
       }},
      {"service twice",
       [](auto& r) {
         r.services = {{"email", false}, {"email", true}};
       }},
      {"ftp url", [](auto& r) { r.return_url = "ftp://example.com/"; }},
      {"relative url", [](auto& r) { r.return_url = "/after"; }},
      {"no host", [](auto& r) { r.return_url = "https:///x"; }},
      {"long url", [](auto& r) { r.return_url = "https://x/" + std::string(2048, 'a'); }},
      {"expired", [](auto& r) { r.expires_at = r.created_at; }},
      {"other tenant", [&](auto& r) { r.tenant_id = this->b_; }}};
  for (auto& [what, mutate] : sessions) {
    ConnectSessionRecord r = this->Session(a);
    mutate(r);
    invalid([&](Transaction& tx) { return this->sessions_.Insert(tx, a, r); }, what);
  }
  std::vector<std::pair<const char*, std::function<void(OAuthTransactionRecord&)>>> txs = {
      {"state hash", [](auto& r) { r.state_hash = "abc"; }},
      {"session id", [](auto& r) { r.session_id = ConnectSessionId(""); }},
      {"provider", [](auto& r) { r.provider = "a_b"; }},
      {"redirect", [](auto& r) { r.redirect_uri = "javascript:alert(1)"; }},
      {"nonce hash", [](auto& r) { r.nonce_hash = "xyz"; }},
      {"binding", [](auto& r) { r.browser_binding = ""; }},
      {"scope", [](auto& r) { r.scopes = {"has space"}; }},
      {"lifetime", [](auto& r) { r.expires_at = r.created_at + std::chrono::minutes(11); }}};
  for (auto& [what, mutate] : txs) {
    OAuthTransactionRecord r = this->OAuthTx(a);
    mutate(r);
    invalid([&](Transaction& tx) { return this->oauth_.Insert(tx, a, r); }, what);
  }
  std::vector<std::pair<const char*, std::function<void(ConnectionRecord&)>>> conns = {
      {"connection id", [](auto& r) { r.id = ConnectionId("x"); }},
      {"provider", [](auto& r) { r.provider = std::string(65, 'a'); }},
      {"subject", [](auto& r) { r.account_subject = ""; }},
      {"long subject", [](auto& r) { r.account_subject = std::string(256, 's'); }},
      {"control char", [](auto& r) { r.account_email = "a\nb"; }},
      {"reason", [](auto& r) { r.status_reason = std::string(1025, 'r'); }},
      {"status", [](auto& r) { r.status = static_cast<ConnectionStatus>(42); }},
      {"settings array", [](auto& r) { r.settings = Json::array(); }},
      {"settings string", [](auto& r) { r.settings = "x"; }},
      {"settings UTF-8",
       [](auto& r) {
         r.settings = Json{{"k", "\xc3"}};
       }},
      {"scope", [](auto& r) { r.granted_scopes = {""}; }},
      {"version", [](auto& r) { r.token_version = -1; }},
      {"lease owner", [](auto& r) { r.lease_owner = "node a"; }}};
  for (auto& [what, mutate] : conns) {
    ConnectionRecord r = this->Connection(a);
    mutate(r);
    invalid([&](Transaction& tx) { return this->conns_.Insert(tx, a, r); }, what);
    invalid([&](Transaction& tx) { return this->conns_.UpdateIf(tx, a, r, 0).status(); }, what);
  }
  const ConnectionId id(this->ids_.NewUuid());
  const Timestamp now = this->clock_.Now();
  invalid([&](Transaction& tx) { return this->sessions_.Get(tx, a, ConnectSessionId()).status(); },
          "get session");
  invalid([&](Transaction& tx) { return this->sessions_.FindByTokenHash(tx, a, "x").status(); },
          "find session");
  invalid([&](Transaction& tx) { return this->oauth_.Consume(tx, a, "x", now).status(); },
          "consume");
  invalid([&](Transaction& tx) { return this->conns_.Get(tx, a, ConnectionId("x")).status(); },
          "get connection");
  invalid([&](Transaction& tx) { return this->conns_.List(tx, a, {}, std::nullopt, 0).status(); },
          "limit 0");
  invalid(
      [&](Transaction& tx) { return this->conns_.List(tx, a, {}, std::nullopt, 1001).status(); },
      "limit 1001");
  invalid(
      [&](Transaction& tx) {
        return this->conns_.List(tx, a, {.provider = "UP"}, std::nullopt, 10).status();
      },
      "filter");
  invalid(
      [&](Transaction& tx) { return this->conns_.List(tx, a, {}, ConnectionId("x"), 10).status(); },
      "cursor");
  invalid(
      [&](Transaction& tx) { return this->conns_.FindByAccount(tx, a, "google", "", "").status(); },
      "find account");
  invalid(
      [&](Transaction& tx) {
        return this->conns_.TryLease(tx, a, id, "", now, std::chrono::seconds(1)).status();
      },
      "lease owner");
  invalid(
      [&](Transaction& tx) {
        return this->conns_.TryLease(tx, a, id, "n", now, std::chrono::seconds(0)).status();
      },
      "lease duration");
}

TYPED_TEST_P(ConnectConformanceTest, CorruptRowsAreDataLoss) {
  const TenantId& a = this->a_;
  ConnectSessionRecord session = this->Session(a);
  OAuthTransactionRecord otx = this->OAuthTx(a);
  ConnectionRecord conn = this->Connection(a);
  ASSERT_TRUE(
      this->Call(a, [&](Transaction& tx) { return this->sessions_.Insert(tx, a, session); }).ok());
  ASSERT_TRUE(this->Call(a, [&](Transaction& tx) { return this->oauth_.Insert(tx, a, otx); }).ok());
  ASSERT_TRUE(this->Put(conn).ok());
  auto code = [&](const std::function<Status(Transaction&)>& call) {
    return this->InTenant(a, call).code();
  };
  this->Corrupt(a, session.id.value(),
                "UPDATE connect_sessions SET services = '{not json' WHERE tenant_id = $1 AND "
                "id = $2");
  EXPECT_EQ(code([&](Transaction& tx) { return this->sessions_.Get(tx, a, session.id).status(); }),
            StatusCode::kDataLoss);
  EXPECT_EQ(code([&](Transaction& tx) {
              return this->sessions_.FindByTokenHash(tx, a, session.token_hash).status();
            }),
            StatusCode::kDataLoss);
  this->Corrupt(a, otx.state_hash,
                "UPDATE oauth_transactions SET scopes = '[1]' WHERE tenant_id = $1 AND "
                "state_hash = $2");
  EXPECT_EQ(code([&](Transaction& tx) { return this->oauth_.Get(tx, a, otx.state_hash).status(); }),
            StatusCode::kDataLoss);
  for (const char* sql :
       {"UPDATE connections SET settings = '[]' WHERE tenant_id = $1 AND id = $2",
        "UPDATE connections SET settings = '{}', granted_scopes = 'nope' WHERE tenant_id = $1 "
        "AND id = $2",
        "UPDATE connections SET granted_scopes = '[]', services = '[{\"service\": \"drive\", "
        "\"write\": true}]' WHERE tenant_id = $1 AND id = $2"}) {
    this->Corrupt(a, conn.id.value(), sql);
    EXPECT_EQ(code([&](Transaction& tx) { return this->conns_.Get(tx, a, conn.id).status(); }),
              StatusCode::kDataLoss)
        << sql;
    EXPECT_EQ(code([&](Transaction& tx) {
                return this->conns_.List(tx, a, {}, std::nullopt, 10).status();
              }),
              StatusCode::kDataLoss)
        << sql;
  }
}

TYPED_TEST_P(ConnectConformanceTest, StatusNamesRoundTrip) {
  for (ConnectionStatus s : {ConnectionStatus::kActive, ConnectionStatus::kRefreshing,
                             ConnectionStatus::kError, ConnectionStatus::kReauthorizationRequired,
                             ConnectionStatus::kDisabled, ConnectionStatus::kRevoked}) {
    EXPECT_EQ(ParseConnectionStatus(ConnectionStatusName(s)), s);
    ConnectionRecord r = this->Connection(this->a_);
    r.status = s;
    ASSERT_TRUE(this->Put(r).ok());
    EXPECT_EQ(this->GetConn(this->a_, r.id)->status, s);
  }
  EXPECT_EQ(ConnectionStatusName(ConnectionStatus::kReauthorizationRequired),
            "reauthorization_required");
  EXPECT_EQ(ParseConnectionStatus("Active"), std::nullopt);
  EXPECT_EQ(ParseConnectionStatus(""), std::nullopt);
}

REGISTER_TYPED_TEST_SUITE_P(ConnectConformanceTest, SessionsInsertGetFindAndDeleteExpired,
                            DuplicateSessionIsAlreadyExists, TransactionsAreSingleUse,
                            ConnectionsInsertGetFindAndDelete, ListFiltersAndPagesInIdOrder,
                            UpdateIfComparesTheTokenVersion, LeaseIsTakenWhenFreeExpiredOrOwn,
                            ConcurrentTryLeaseAndConsumeHaveOneWinner,
                            MaintenanceListsDueConnectionsAcrossTenantsSoonestFirst,
                            CrossTenantAccessIsRefused, RejectsMalformedInput,
                            CorruptRowsAreDataLoss, StatusNamesRoundTrip);

}  // namespace sb::store::testing
