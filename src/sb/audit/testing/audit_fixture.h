// Fixture of the audit log suites (audit_log_suite.h, audit_tamper_suite.h): a migrated app
// database of one backend (SQLite or PostgreSQL), an AuditLog with fresh keys and a checkpoint
// every kInterval entries, two fresh tenants, and the tools of an attacker who can write the
// database directly (SQLite: the file; PostgreSQL: the superuser, which bypasses RLS).
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "sb/audit/audit_log.h"
#include "sb/audit/internal/canonical.h"
#include "sb/base/encoding.h"
#include "sb/base/random.h"
#include "sb/base/testing/fake_clock.h"
#include "sb/store/audit/audit_repository.h"
#include "sb/store/testing/test_backends.h"

namespace sb::audit::testing {

template <typename TestBackend>
class AuditFixture : public ::testing::Test {
 protected:
  static constexpr int kInterval = 10;

  void SetUp() override {
    auto db = store::testing::OpenMigrated(backend_);
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_ = std::move(db).value();
    log_ = std::make_unique<AuditLog>(clock_, ids_, AuditKeys::Generate(random_), kInterval);
    log_->set_verify_page_size(7);  // small pages: classification looks across page ends
    a_ = TenantId(ids_.NewUuid());
    b_ = TenantId(ids_.NewUuid());
  }

  Event MakeEvent(int i) {
    Event e;
    e.actor = Actor{ActorKind::kApiKey, "key-" + std::to_string(i % 3)};
    e.action = i % 2 ? "connection.create" : "connection.delete";
    e.target = "connections/" + std::to_string(i);
    e.outcome = i % 5 ? Outcome::kSuccess : Outcome::kDenied;
    e.request_id = "req-" + std::to_string(i);
    e.details = Json{{"n", i}, {"token", log_->HmacSecret("secret-" + std::to_string(i))}};
    return e;
  }

  // Appends `n` events to `tenant`, one transaction each.
  void AppendN(const TenantId& tenant, int n) {
    for (int i = 0; i < n; ++i) {
      clock_.Advance(std::chrono::milliseconds(1));
      Event event = MakeEvent(i);
      Status s = db_->RunInTenant(
          tenant, [&](store::Transaction& tx) { return log_->Append(tx, tenant, event); });
      ASSERT_TRUE(s.ok()) << s.ToString();
    }
  }

  Result<VerifyReport> Verify(const TenantId& tenant, std::span<const Checkpoint> exported = {}) {
    return log_->Verify(*db_, tenant, exported);
  }

  // Verifies `tenant` and EXPECTs exactly one finding with `reason` at `seq`.
  Finding ExpectFinding(const TenantId& tenant, Reason reason, int64_t seq,
                        std::span<const Checkpoint> exported = {}) {
    auto report = Verify(tenant, exported);
    EXPECT_TRUE(report.ok()) << report.status().ToString();
    if (!report.ok() || report->findings.size() != 1) {
      ADD_FAILURE() << "expected one finding";
      return Finding{};
    }
    const Finding& f = report->findings[0];
    EXPECT_EQ(ReasonName(f.reason), ReasonName(reason)) << f.detail;
    EXPECT_EQ(f.seq, seq) << ReasonName(f.reason) << ": " << f.detail;
    EXPECT_EQ(f.tenant_id, tenant);
    return f;
  }

  // Every entry of `tenant` as stored, read through the app connection.
  std::vector<store::AuditEntryRecord> Rows(const TenantId& tenant) {
    std::vector<store::AuditEntryRecord> rows;
    Status s = db_->RunInTenant(tenant, [&](store::Transaction& tx) -> Status {
      SB_ASSIGN_OR_RETURN(rows, repo_.ListEntries(tx, tenant, {}, std::nullopt, 10'000));
      return OkStatus();
    });
    EXPECT_TRUE(s.ok()) << s.ToString();
    return rows;
  }

  std::vector<Checkpoint> Exported(const TenantId& tenant) {
    std::vector<Checkpoint> out;
    Status s = db_->RunInTenant(tenant, [&](store::Transaction& tx) -> Status {
      SB_ASSIGN_OR_RETURN(out, log_->Checkpoints(tx, tenant, std::nullopt, 1000));
      return OkStatus();
    });
    EXPECT_TRUE(s.ok()) << s.ToString();
    return out;
  }

  std::optional<store::AuditHeadRecord> Head(const TenantId& tenant) {
    std::optional<store::AuditHeadRecord> head;
    Status s = db_->RunInTenant(tenant, [&](store::Transaction& tx) -> Status {
      SB_ASSIGN_OR_RETURN(head, repo_.GetHead(tx, tenant));
      return OkStatus();
    });
    EXPECT_TRUE(s.ok()) << s.ToString();
    return head;
  }

  // --- The attacker: direct writes that bypass the application and RLS. ---

  store::Database& Attacker() {
    if (attacker_ == nullptr) {
      Result<std::unique_ptr<store::Database>> db = [&] {
        if constexpr (TestBackend::kHasRowLevelSecurity) {
          return backend_.OpenSuperuser();
        } else {
          return backend_.OpenOwner();
        }
      }();
      EXPECT_TRUE(db.ok()) << db.status().ToString();
      attacker_ = std::move(db).value();
    }
    return *attacker_;
  }

  void Tamper(std::string_view sql, std::initializer_list<store::Value> params) {
    Status s = Attacker().RunUnscoped(
        [&](store::Transaction& tx) { return tx.Execute(sql, params).status(); });
    ASSERT_TRUE(s.ok()) << sql << ": " << s.ToString();
  }

  // Moves entries with seq >= `from` by `delta` (through a temporary range, so that the
  // primary key never collides).
  void Shift(const TenantId& tenant, int64_t from, int64_t delta) {
    Tamper("UPDATE audit_entries SET seq = seq + 1000000 WHERE tenant_id = $1 AND seq >= $2",
           {tenant.value(), from});
    Tamper(
        "UPDATE audit_entries SET seq = seq - 1000000 + $2 WHERE tenant_id = $1 AND seq >= "
        "1000000",
        {tenant.value(), delta});
  }

  // The hashes an attacker who knows the scheme computes for `body` at `seq` after `prev`.
  static std::pair<std::string, std::string> Forge(const TenantId& tenant, int64_t seq,
                                                   const store::AuditEntryBody& body,
                                                   const std::string& prev_chain_hex) {
    const std::string leaf = internal::LeafHash(internal::Canonical(tenant, seq, body).value());
    const std::string chain = internal::ChainHash(HexDecode(prev_chain_hex).value(), leaf);
    return {HexEncode(leaf), HexEncode(chain)};
  }

  void InsertRow(const store::AuditEntryRecord& r) {
    const store::AuditEntryBody& b = *r.body;
    Status s = Attacker().RunUnscoped([&](store::Transaction& tx) {
      return tx
          .Execute(
              "INSERT INTO audit_entries (tenant_id, seq, id, occurred_at, actor_kind, actor_id, "
              "action, target, outcome, request_id, details, leaf_hash, chain_hash) VALUES ($1, "
              "$2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
              {r.tenant_id.value(), r.seq, b.id, ToUnixMicros(b.occurred_at), b.actor_kind,
               b.actor_id, b.action, b.target, b.outcome, b.request_id, b.details, r.leaf_hash,
               r.chain_hash})
          .status();
    });
    ASSERT_TRUE(s.ok()) << s.ToString();
  }

  TestBackend backend_;
  sb::testing::FakeClock clock_;
  SystemRandom random_;
  IdGenerator ids_{clock_, random_};
  std::unique_ptr<store::Database> db_;
  std::unique_ptr<store::Database> attacker_;
  std::unique_ptr<AuditLog> log_;
  store::AuditRepository repo_;
  TenantId a_;
  TenantId b_;
};

}  // namespace sb::audit::testing
