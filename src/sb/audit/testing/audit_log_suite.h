// The audit log suite, written once and instantiated per backend (audit_test: SQLite,
// audit_pgtest: PostgreSQL): appending and verifying (TL-01, TL-03), transaction semantics and
// fail-closed behaviour (AUD-03), cross-tenant isolation, concurrency, checkpoints on demand,
// the system tenant, listing and verification of every chain. Tampering: audit_tamper_suite.h.
// Include in exactly one translation unit per test binary.
#pragma once

#include <algorithm>
#include <thread>

#include "sb/audit/internal/records.h"
#include "sb/audit/testing/audit_fixture.h"
#include "sb/store/tenancy/tenant_repository.h"
#include "sb/vault/digest.h"

namespace sb::audit::testing {

template <typename TestBackend>
using AuditLogTest = AuditFixture<TestBackend>;
TYPED_TEST_SUITE_P(AuditLogTest);

// TL-01: dense seqs, leaf = SHA-256(0x00 || sorted-key compact JSON), chain = SHA-256(prev ||
// leaf); TL-03: a signed checkpoint every kInterval entries.
TYPED_TEST_P(AuditLogTest, Tl01AppendsAHashChainThatVerifies) {
  this->AppendN(this->a_, 25);
  auto report = this->Verify(this->a_);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_TRUE(report->ok()) << report->findings[0].detail;
  EXPECT_EQ(report->entries, 25);
  EXPECT_EQ(report->checkpoints, 2);

  auto rows = this->Rows(this->a_);
  ASSERT_EQ(rows.size(), 25u);
  std::string chain(32, '\0');
  for (size_t i = 0; i < rows.size(); ++i) {
    const store::AuditEntryRecord& r = rows[i];
    EXPECT_EQ(r.seq, int64_t(i + 1));
    // The canonical form is exactly nlohmann's sorted-key compact dump of the stored fields.
    const store::AuditEntryBody& b = *r.body;
    const Json object = {{"tenant_id", this->a_.value()},
                         {"seq", r.seq},
                         {"id", b.id},
                         {"occurred_at", ToUnixMicros(b.occurred_at)},
                         {"actor_kind", b.actor_kind},
                         {"actor_id", b.actor_id},
                         {"action", b.action},
                         {"target", b.target},
                         {"outcome", b.outcome},
                         {"request_id", b.request_id},
                         {"details", b.details}};
    ASSERT_EQ(internal::Canonical(this->a_, r.seq, b), object.dump());
    const std::string leaf = vault::Sha256(std::string(1, '\0') + object.dump());
    EXPECT_EQ(r.leaf_hash, HexEncode(leaf));
    chain = vault::Sha256(chain + leaf);
    EXPECT_EQ(r.chain_hash, HexEncode(chain));
  }
  EXPECT_EQ(rows[0].body->details, Json::parse(rows[0].body->details).dump());
  auto head = this->Head(this->a_);
  ASSERT_TRUE(head.has_value());
  EXPECT_EQ(head->seq, 25);
  EXPECT_EQ(head->chain_hash, rows.back().chain_hash);

  auto checkpoints = this->Exported(this->a_);
  ASSERT_EQ(checkpoints.size(), 2u);
  EXPECT_EQ(checkpoints[0].size, 10);
  EXPECT_EQ(checkpoints[0].chain_hash, rows[9].chain_hash);
  EXPECT_EQ(checkpoints[0].prev_checkpoint_hash, std::string(64, '0'));
  EXPECT_EQ(checkpoints[1].prev_checkpoint_hash, CheckpointHash(checkpoints[0]));
  EXPECT_EQ(head->last_checkpoint_hash, CheckpointHash(checkpoints[1]));
  for (const Checkpoint& c : checkpoints) {
    EXPECT_TRUE(VerifyCheckpointSignature(c, this->log_->PublicKey()));
    EXPECT_EQ(
        CheckpointBody(c).rfind(
            "switchboard-audit/" + this->a_.value() + "\n" + std::to_string(c.size) + "\n", 0),
        0u);
  }
}

// AUD-03: the entry belongs to the caller's transaction.
TYPED_TEST_P(AuditLogTest, Aud03EntriesRollBackWithTheCallersTransaction) {
  this->AppendN(this->a_, 3);
  const auto before = this->Head(this->a_);
  Status s = this->db_->RunInTenant(this->a_, [&](store::Transaction& tx) -> Status {
    SB_RETURN_IF_ERROR(this->log_->Append(tx, this->a_, this->MakeEvent(7)));
    return AbortedError("the change failed after its audit entry was written");
  });
  EXPECT_EQ(s.code(), StatusCode::kAborted);
  EXPECT_EQ(this->Rows(this->a_).size(), 3u);
  EXPECT_EQ(this->Head(this->a_), before);
  this->AppendN(this->a_, 1);
  auto report = this->Verify(this->a_);
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->ok());
  EXPECT_EQ(report->entries, 4);
}

// AUD-03: when the audit entry cannot be written, the operation it records is not committed.
TYPED_TEST_P(AuditLogTest, Aud03FailsClosedWhenTheAuditTableIsUnavailable) {
  this->AppendN(this->a_, 2);
  auto owner = this->backend_.OpenOwner();
  ASSERT_TRUE(owner.ok());
  auto ddl = [&](const char* sql) {
    ASSERT_TRUE(
        (*owner)->RunUnscoped([&](store::Transaction& tx) { return tx.ExecuteScript(sql); }).ok());
  };
  ddl("ALTER TABLE audit_entries RENAME TO audit_entries_away");
  store::TenantRepository tenants;
  const TenantId t = this->a_;
  Status s = this->db_->RunInTenant(t, [&](store::Transaction& tx) -> Status {
    SB_RETURN_IF_ERROR(
        tenants.Insert(tx, t, store::TenantRecord{t, "audited", this->clock_.Now()}));
    Event event = this->MakeEvent(1);
    event.action = "tenant.create";
    return this->log_->Append(tx, t, event);
  });
  EXPECT_FALSE(s.ok());
  ddl("ALTER TABLE audit_entries_away RENAME TO audit_entries");
  std::optional<store::TenantRecord> tenant;
  ASSERT_TRUE(this->db_
                  ->RunInTenant(t,
                                [&](store::Transaction& tx) -> Status {
                                  SB_ASSIGN_OR_RETURN(tenant, tenants.Get(tx, t));
                                  return OkStatus();
                                })
                  .ok());
  EXPECT_FALSE(tenant.has_value()) << "the change committed without its audit entry";
  EXPECT_EQ(this->Head(this->a_)->seq, 2);
  auto report = this->Verify(this->a_);
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->ok());
}

TYPED_TEST_P(AuditLogTest, TenantsCannotReadOrVerifyEachOthersChains) {
  this->AppendN(this->a_, 3);
  this->AppendN(this->b_, 2);
  Status s = this->db_->RunInTenant(this->a_, [&](store::Transaction& tx) {
    return this->log_->List(tx, this->b_, {}, std::nullopt, 10).status();
  });
  EXPECT_EQ(s.code(), StatusCode::kPermissionDenied);
  s = this->db_->RunInTenant(this->a_, [&](store::Transaction& tx) {
    return this->log_->Append(tx, this->b_, this->MakeEvent(1));
  });
  EXPECT_EQ(s.code(), StatusCode::kPermissionDenied);
  Page page;
  ASSERT_TRUE(this->db_
                  ->RunInTenant(this->a_,
                                [&](store::Transaction& tx) -> Status {
                                  SB_ASSIGN_OR_RETURN(
                                      page, this->log_->List(tx, this->a_, {}, std::nullopt, 100));
                                  return OkStatus();
                                })
                  .ok());
  ASSERT_EQ(page.entries.size(), 3u);
  for (const Entry& e : page.entries) EXPECT_EQ(e.tenant_id, this->a_);
  for (const TenantId& t : {this->a_, this->b_}) {
    auto report = this->Verify(t);
    ASSERT_TRUE(report.ok());
    EXPECT_TRUE(report->ok());
  }
  EXPECT_EQ(this->Verify(this->b_)->entries, 2);
}

// Appenders of one tenant serialize on the chain head: the chain stays dense and valid (on
// PostgreSQL with real concurrent transactions waiting on SELECT ... FOR UPDATE).
TYPED_TEST_P(AuditLogTest, ConcurrentAppendsFormADenseValidChain) {
  constexpr int kThreads = 4;
  constexpr int kPerThread = 30;
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        Event event = this->MakeEvent(t * 100 + i);
        Status s = this->db_->RunInTenant(this->a_, [&](store::Transaction& tx) {
          return this->log_->Append(tx, this->a_, event);
        });
        if (!s.ok()) {
          ++failures;
          ADD_FAILURE() << s.ToString();
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  auto rows = this->Rows(this->a_);
  ASSERT_EQ(rows.size(), size_t{kThreads * kPerThread});
  for (size_t i = 0; i < rows.size(); ++i) EXPECT_EQ(rows[i].seq, int64_t(i + 1));
  auto report = this->Verify(this->a_);
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->ok()) << report->findings[0].detail;
  EXPECT_EQ(report->entries, kThreads * kPerThread);
  EXPECT_EQ(report->checkpoints, kThreads * kPerThread / TestFixture::kInterval);
}

TYPED_TEST_P(AuditLogTest, CheckpointOnDemandSignsTheHeadOnce) {
  EXPECT_EQ(this->log_->Checkpoint(*this->db_, this->a_).status().code(),
            StatusCode::kFailedPrecondition);
  this->AppendN(this->a_, 3);
  auto first = this->log_->Checkpoint(*this->db_, this->a_);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(first->size, 3);
  EXPECT_TRUE(VerifyCheckpointSignature(*first, this->log_->PublicKey()));
  auto again = this->log_->Checkpoint(*this->db_, this->a_);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, *first);  // nothing appended since: no new checkpoint
  this->AppendN(this->a_, 1);
  auto second = this->log_->Checkpoint(*this->db_, this->a_);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->size, 4);
  EXPECT_EQ(second->prev_checkpoint_hash, CheckpointHash(*first));
  this->AppendN(this->a_, 6);  // reaches 10: the automatic checkpoint chains from `second`
  auto exported = this->Exported(this->a_);
  ASSERT_EQ(exported.size(), 3u);
  EXPECT_EQ(exported[2].prev_checkpoint_hash, CheckpointHash(*second));
  // The JSON-lines export round-trips.
  std::string lines;
  for (const Checkpoint& c : exported) lines += CheckpointToJson(c).dump() + "\n";
  auto parsed = ParseCheckpointLines(lines);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(*parsed, exported);
  auto report = this->Verify(this->a_, *parsed);
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->ok());
  EXPECT_EQ(report->checkpoints, 6);  // 3 stored + 3 exported
}

TYPED_TEST_P(AuditLogTest, SystemTenantIsTheNilIdAndWorksOnEveryBackend) {
  const TenantId system = SystemTenant();
  EXPECT_TRUE(system.valid());
  EXPECT_EQ(system.value(), "00000000-0000-0000-0000-000000000000");
  this->AppendN(system, 12);
  auto report = this->Verify(system);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_TRUE(report->ok());
  EXPECT_GE(report->entries, 12);
}

TYPED_TEST_P(AuditLogTest, VerifyAllCoversEveryChainThroughTheMaintenanceConnection) {
  this->AppendN(this->a_, 4);
  this->AppendN(this->b_, 11);
  auto maint = this->backend_.OpenMaintenance();
  ASSERT_TRUE(maint.ok());
  auto report = this->log_->VerifyAll(**maint);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  // (PostgreSQL shares one database between the tests of a binary: other tests' chains, some
  // deliberately tampered with, are verified too.)
  EXPECT_GE(report->chains, 2);
  EXPECT_GE(report->entries, 15);
  for (const Finding& f : report->findings) {
    EXPECT_NE(f.tenant_id, this->a_);
    EXPECT_NE(f.tenant_id, this->b_);
  }
  this->Tamper("UPDATE audit_entries SET target = 'elsewhere' WHERE tenant_id = $1 AND seq = 7",
               {this->b_.value()});
  report = this->log_->VerifyAll(**maint);
  ASSERT_TRUE(report.ok());
  auto bad = std::find_if(report->findings.begin(), report->findings.end(),
                          [&](const Finding& f) { return f.tenant_id == this->b_; });
  ASSERT_NE(bad, report->findings.end());
  EXPECT_EQ(bad->seq, 7);
  EXPECT_EQ(bad->reason, Reason::kModified);
  // The app role sees no chain outside a tenant transaction (RLS-04).
  if constexpr (TypeParam::kHasRowLevelSecurity) {
    auto app_report = this->log_->VerifyAll(*this->db_);
    ASSERT_TRUE(app_report.ok());
    EXPECT_EQ(app_report->chains, 0);
  }
}

TYPED_TEST_P(AuditLogTest, ListFiltersPagesAndExports) {
  this->AppendN(this->a_, 12);
  auto list = [&](const Filter& f, std::optional<int64_t> after, int limit) {
    Page page;
    Status s = this->db_->RunInTenant(
        this->a_, store::TxMode::kReadOnly, [&](store::Transaction& tx) -> Status {
          SB_ASSIGN_OR_RETURN(page, this->log_->List(tx, this->a_, f, after, limit));
          return OkStatus();
        });
    EXPECT_TRUE(s.ok()) << s.ToString();
    return page;
  };
  Page first = list({}, std::nullopt, 5);
  ASSERT_EQ(first.entries.size(), 5u);
  ASSERT_EQ(first.next_after_seq, 5);
  Page rest = list({}, first.next_after_seq, 100);
  EXPECT_EQ(rest.entries.size(), 7u);
  EXPECT_FALSE(rest.next_after_seq.has_value());
  EXPECT_EQ(rest.entries.front().seq, 6);

  Filter f;
  f.outcome = Outcome::kDenied;  // events 0, 5, 10
  Page denied = list(f, std::nullopt, 100);
  ASSERT_EQ(denied.entries.size(), 3u);
  EXPECT_EQ(denied.entries[1].target, "connections/5");
  f = {};
  f.action = "connection.create";
  f.actor_kind = ActorKind::kApiKey;
  f.actor_id = "key-1";  // odd i with i % 3 == 1: 1, 7
  EXPECT_EQ(list(f, std::nullopt, 100).entries.size(), 2u);
  f = {};
  f.from = first.entries[2].occurred_at;
  f.to = first.entries[4].occurred_at;
  EXPECT_EQ(list(f, std::nullopt, 100).entries.size(), 2u);

  const Entry& e = first.entries[1];
  EXPECT_EQ(e.actor, (Actor{ActorKind::kApiKey, "key-1"}));
  EXPECT_EQ(e.details["token"], this->log_->HmacSecret("secret-1"));
  const Json line = ToJson(e);
  EXPECT_EQ(line["seq"], 2);
  EXPECT_EQ(line["actor"]["kind"], "api_key");
  EXPECT_EQ(line["details"]["n"], 1);
  const std::string csv = ToCsvRow(e);
  EXPECT_EQ(csv.rfind("2," + e.id + ",", 0), 0u) << csv;
  EXPECT_NE(csv.find(",\"{\"\"n\"\":1,\"\"token\"\":\"\"hmac-sha256:"), std::string::npos) << csv;
  EXPECT_EQ(csv.substr(csv.size() - 2), "\r\n");

  Status s = this->db_->RunInTenant(this->a_, [&](store::Transaction& tx) {
    return this->log_->List(tx, this->a_, {}, std::nullopt, AuditLog::kMaxPageSize + 1).status();
  });
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
}

TYPED_TEST_P(AuditLogTest, AppendRejectsMalformedEventsAndWritesNothing) {
  std::vector<Event> bad(5, this->MakeEvent(1));
  bad[0].action = "";
  bad[1].action = "has space";
  bad[2].target = "\xff\xfe";
  bad[3].details = Json::array({1, 2});
  bad[4].details = Json{{"k", "\xc3\x28"}};
  for (const Event& event : bad) {
    Status s = this->db_->RunInTenant(
        this->a_, [&](store::Transaction& tx) { return this->log_->Append(tx, this->a_, event); });
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << event.action;
  }
  EXPECT_FALSE(this->Head(this->a_).has_value());
  Event null_details = this->MakeEvent(1);
  null_details.details = nullptr;
  ASSERT_TRUE(this->db_
                  ->RunInTenant(this->a_,
                                [&](store::Transaction& tx) {
                                  return this->log_->Append(tx, this->a_, null_details);
                                })
                  .ok());
  EXPECT_EQ(this->Rows(this->a_).at(0).body->details, "{}");
}

REGISTER_TYPED_TEST_SUITE_P(
    AuditLogTest, Tl01AppendsAHashChainThatVerifies, Aud03EntriesRollBackWithTheCallersTransaction,
    Aud03FailsClosedWhenTheAuditTableIsUnavailable, TenantsCannotReadOrVerifyEachOthersChains,
    ConcurrentAppendsFormADenseValidChain, CheckpointOnDemandSignsTheHeadOnce,
    SystemTenantIsTheNilIdAndWorksOnEveryBackend,
    VerifyAllCoversEveryChainThroughTheMaintenanceConnection, ListFiltersPagesAndExports,
    AppendRejectsMalformedEventsAndWritesNothing);

}  // namespace sb::audit::testing
