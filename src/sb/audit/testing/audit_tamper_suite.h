// The tampering suite (TL-01, TL-03, TL-05, TL-06): an attacker with direct write access to the
// database (SQLite: the file; PostgreSQL: the superuser) changes, deletes, reorders, inserts,
// erases or rewrites entries and checkpoints; Verify must name the exact entry and the reason.
// Instantiated per backend like audit_log_suite.h.
#pragma once

#include "sb/audit/testing/audit_fixture.h"

namespace sb::audit::testing {

template <typename TestBackend>
using AuditTamperTest = AuditFixture<TestBackend>;
TYPED_TEST_SUITE_P(AuditTamperTest);

TYPED_TEST_P(AuditTamperTest, ChangedDetailsValueIsModified) {
  this->AppendN(this->a_, 12);
  const auto rows = this->Rows(this->a_);
  this->Tamper("UPDATE audit_entries SET details = $1 WHERE tenant_id = $2 AND seq = 5",
               {R"({"n":999,"token":"hmac-sha256:00"})", this->a_.value()});
  Finding f = this->ExpectFinding(this->a_, Reason::kModified, 5);
  EXPECT_EQ(f.entry_id, rows[4].body->id);
  EXPECT_EQ(f.detail, "the body does not hash to its leaf");
}

TYPED_TEST_P(AuditTamperTest, ChangedActionIsModified) {
  this->AppendN(this->a_, 12);
  const auto rows = this->Rows(this->a_);
  this->Tamper(
      "UPDATE audit_entries SET action = 'connection.read' WHERE tenant_id = $1 AND "
      "seq = 3",
      {this->a_.value()});
  EXPECT_EQ(this->ExpectFinding(this->a_, Reason::kModified, 3).entry_id, rows[2].body->id);
}

TYPED_TEST_P(AuditTamperTest, RewrittenHashColumnsAreModified) {
  this->AppendN(this->a_, 12);
  const auto rows = this->Rows(this->a_);
  this->Tamper("UPDATE audit_entries SET leaf_hash = $1 WHERE tenant_id = $2 AND seq = 4",
               {std::string(64, 'a'), this->a_.value()});
  EXPECT_EQ(this->ExpectFinding(this->a_, Reason::kModified, 4).detail,
            "the leaf_hash column was rewritten");
  this->Tamper("UPDATE audit_entries SET leaf_hash = $1 WHERE tenant_id = $2 AND seq = 4",
               {rows[3].leaf_hash, this->a_.value()});
  this->Tamper("UPDATE audit_entries SET chain_hash = $1 WHERE tenant_id = $2 AND seq = 4",
               {std::string(64, 'b'), this->a_.value()});
  EXPECT_EQ(this->ExpectFinding(this->a_, Reason::kModified, 4).detail,
            "the chain_hash column was rewritten");
  this->Tamper("UPDATE audit_entries SET chain_hash = 'not hex' WHERE tenant_id = $1 AND seq = 9",
               {this->a_.value()});
  this->Tamper("UPDATE audit_entries SET chain_hash = $1 WHERE tenant_id = $2 AND seq = 4",
               {rows[3].chain_hash, this->a_.value()});
  this->ExpectFinding(this->a_, Reason::kModified, 9);  // an unreadable row, located exactly
}

TYPED_TEST_P(AuditTamperTest, DeletedMiddleEntryIsDeleted) {
  this->AppendN(this->a_, 12);
  this->Tamper("DELETE FROM audit_entries WHERE tenant_id = $1 AND seq = 6", {this->a_.value()});
  Finding f = this->ExpectFinding(this->a_, Reason::kDeleted, 6);
  EXPECT_EQ(f.entry_id, "");
}

TYPED_TEST_P(AuditTamperTest, DeletedEntryWithLaterEntriesRenumberedIsDeleted) {
  this->AppendN(this->a_, 12);
  this->Tamper("DELETE FROM audit_entries WHERE tenant_id = $1 AND seq IN (6, 7)",
               {this->a_.value()});
  this->Shift(this->a_, 8, -2);
  Finding f = this->ExpectFinding(this->a_, Reason::kDeleted, 6);
  EXPECT_NE(f.detail.find("entries 6..7 were deleted"), std::string::npos) << f.detail;
}

// Truncation, in three escalating forms: only the rows; rows and head; rows, head and the
// stored checkpoints (then only an exported checkpoint still tells).
TYPED_TEST_P(AuditTamperTest, TruncationIsDeletedUntilOnlyExportedCheckpointsRemember) {
  this->AppendN(this->a_, 25);
  const auto exported = this->Exported(this->a_);  // sizes 10 and 20
  const auto rows = this->Rows(this->a_);
  this->Tamper("DELETE FROM audit_entries WHERE tenant_id = $1 AND seq >= 24", {this->a_.value()});
  this->ExpectFinding(this->a_, Reason::kDeleted, 24);

  this->Tamper("DELETE FROM audit_entries WHERE tenant_id = $1 AND seq >= 19", {this->a_.value()});
  this->Tamper("UPDATE audit_heads SET seq = 18, chain_hash = $1 WHERE tenant_id = $2",
               {rows[17].chain_hash, this->a_.value()});
  Finding f = this->ExpectFinding(this->a_, Reason::kDeleted, 19);
  EXPECT_NE(f.detail.find("stored checkpoint covers 20"), std::string::npos) << f.detail;

  this->Tamper("DELETE FROM audit_checkpoints WHERE tenant_id = $1 AND seq = 20",
               {this->a_.value()});
  this->Tamper("UPDATE audit_heads SET last_checkpoint_hash = $1 WHERE tenant_id = $2",
               {CheckpointHash(exported[0]), this->a_.value()});
  auto report = this->Verify(this->a_);
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->ok()) << "TL-05: without exported checkpoints a careful truncation hides";
  f = this->ExpectFinding(this->a_, Reason::kDeleted, 19, exported);
  EXPECT_NE(f.detail.find("exported checkpoint covers 20"), std::string::npos) << f.detail;
}

TYPED_TEST_P(AuditTamperTest, SwappedSeqsAreReordered) {
  this->AppendN(this->a_, 12);
  const auto rows = this->Rows(this->a_);
  const std::string t = this->a_.value();
  auto swap = [&](int64_t x, int64_t y) {
    this->Tamper("UPDATE audit_entries SET seq = 1000 WHERE tenant_id = $1 AND seq = $2", {t, x});
    this->Tamper("UPDATE audit_entries SET seq = $2 WHERE tenant_id = $1 AND seq = $3", {t, x, y});
    this->Tamper("UPDATE audit_entries SET seq = $2 WHERE tenant_id = $1 AND seq = 1000", {t, y});
  };
  swap(4, 8);
  Finding f = this->ExpectFinding(this->a_, Reason::kReordered, 4);
  EXPECT_EQ(f.entry_id, rows[7].body->id);
  EXPECT_EQ(f.detail, "this entry was written as entry 8");
  swap(4, 8);  // back: clean again
  auto report = this->Verify(this->a_);
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->ok());
  swap(6, 7);  // neighbours across a verify page boundary (pages of 7)
  EXPECT_EQ(this->ExpectFinding(this->a_, Reason::kReordered, 6).entry_id, rows[6].body->id);
}

TYPED_TEST_P(AuditTamperTest, SwappedContentsAreModified) {
  this->AppendN(this->a_, 12);
  const auto rows = this->Rows(this->a_);
  const auto& b8 = *rows[7].body;
  // Row 4 gets entry 8's body but keeps its own seq and hashes.
  this->Tamper(
      "UPDATE audit_entries SET id = $1, actor_id = $2, action = $3, target = $4, "
      "request_id = $5, details = $6 WHERE tenant_id = $7 AND seq = 4",
      {b8.id, b8.actor_id, b8.action, b8.target, b8.request_id, b8.details, this->a_.value()});
  EXPECT_EQ(this->ExpectFinding(this->a_, Reason::kModified, 4).entry_id, b8.id);
}

// A forged entry slipped into the middle: the later entries are moved up to make room.
TYPED_TEST_P(AuditTamperTest, ForgedEntryInsertedInTheMiddleIsInserted) {
  this->AppendN(this->a_, 12);
  const auto rows = this->Rows(this->a_);
  this->Shift(this->a_, 5, 1);
  store::AuditEntryRecord forged = rows[4];
  forged.seq = 5;
  forged.body->id = this->ids_.NewUuid();
  forged.body->action = "connection.delete";
  forged.body->details = R"({"forged":true})";
  // A naive forger: made-up hashes.
  forged.leaf_hash = std::string(64, 'c');
  forged.chain_hash = std::string(64, 'd');
  this->InsertRow(forged);
  Finding f = this->ExpectFinding(this->a_, Reason::kInserted, 5);
  EXPECT_EQ(f.entry_id, forged.body->id);
  // A forger who knows the scheme chains it properly: it verifies by itself, and the entry
  // after it gives it away.
  this->Tamper("DELETE FROM audit_entries WHERE tenant_id = $1 AND seq = 5", {this->a_.value()});
  std::tie(forged.leaf_hash, forged.chain_hash) =
      TestFixture::Forge(this->a_, 5, *forged.body, rows[3].chain_hash);
  this->InsertRow(forged);
  f = this->ExpectFinding(this->a_, Reason::kInserted, 5);
  EXPECT_EQ(f.entry_id, forged.body->id);
}

TYPED_TEST_P(AuditTamperTest, ForgedEntryBeyondTheHeadIsInserted) {
  this->AppendN(this->a_, 12);
  const auto rows = this->Rows(this->a_);
  store::AuditEntryRecord forged = rows[11];
  forged.seq = 13;
  forged.body->id = this->ids_.NewUuid();
  std::tie(forged.leaf_hash, forged.chain_hash) =
      TestFixture::Forge(this->a_, 13, *forged.body, rows[11].chain_hash);
  this->InsertRow(forged);
  EXPECT_EQ(this->ExpectFinding(this->a_, Reason::kInserted, 13).entry_id, forged.body->id);
}

// The attacker changes entry 5 and recomputes every later hash, the head, and removes the
// stored checkpoints it cannot re-sign. Only checkpoints exported earlier expose it (TL-04/05).
TYPED_TEST_P(AuditTamperTest, ConsistentRewriteIsCaughtByExportedCheckpointsOnly) {
  this->AppendN(this->a_, 25);
  ASSERT_TRUE(this->log_->Checkpoint(*this->db_, this->a_).ok());
  const auto exported = this->Exported(this->a_);  // sizes 10, 20, 25
  auto rows = this->Rows(this->a_);
  rows[4].body->details = R"({"n":4,"token":"hmac-sha256:rewritten"})";
  std::string prev = rows[3].chain_hash;
  for (size_t i = 4; i < rows.size(); ++i) {
    auto& r = rows[i];
    std::tie(r.leaf_hash, r.chain_hash) = TestFixture::Forge(this->a_, r.seq, *r.body, prev);
    prev = r.chain_hash;
    this->Tamper(
        "UPDATE audit_entries SET details = $1, leaf_hash = $2, chain_hash = $3 WHERE "
        "tenant_id = $4 AND seq = $5",
        {r.body->details, r.leaf_hash, r.chain_hash, this->a_.value(), r.seq});
  }
  this->Tamper("DELETE FROM audit_checkpoints WHERE tenant_id = $1", {this->a_.value()});
  this->Tamper(
      "UPDATE audit_heads SET chain_hash = $1, last_checkpoint_hash = $2 WHERE "
      "tenant_id = $3",
      {prev, std::string(64, '0'), this->a_.value()});
  auto report = this->Verify(this->a_);
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->ok()) << "TL-05: a consistent rewrite needs exported checkpoints";
  Finding f = this->ExpectFinding(this->a_, Reason::kCheckpointMismatch, 10, exported);
  EXPECT_EQ(f.verified_through, 0);  // the change lies in entries 1..10
  EXPECT_EQ(f.entry_id, rows[9].body->id);
}

// TL-06: a body erased for retention is reported distinctly from a hash mismatch.
TYPED_TEST_P(AuditTamperTest, ErasedBodyIsBodyMissingHashPresent) {
  this->AppendN(this->a_, 12);
  this->Tamper(
      "UPDATE audit_entries SET id = NULL, occurred_at = NULL, actor_kind = NULL, "
      "actor_id = NULL, action = NULL, target = NULL, outcome = NULL, request_id = "
      "NULL, details = NULL WHERE tenant_id = $1 AND seq = 3",
      {this->a_.value()});
  Finding f = this->ExpectFinding(this->a_, Reason::kBodyMissing, 3);
  EXPECT_EQ(ReasonName(f.reason), "body missing, hash present");
  EXPECT_EQ(f.entry_id, "");
  // Listing still shows the position, without a body.
  Page page;
  ASSERT_TRUE(this->db_
                  ->RunInTenant(this->a_,
                                [&](store::Transaction& tx) -> Status {
                                  SB_ASSIGN_OR_RETURN(page,
                                                      this->log_->List(tx, this->a_, {}, 2, 1));
                                  return OkStatus();
                                })
                  .ok());
  ASSERT_EQ(page.entries.size(), 1u);
  EXPECT_TRUE(page.entries[0].body_erased);
  EXPECT_EQ(ToJson(page.entries[0])["body_erased"], true);
}

TYPED_TEST_P(AuditTamperTest, CheckpointSignaturesAreChecked) {
  this->AppendN(this->a_, 12);
  // A verifier holding another deployment's key rejects the checkpoint (TL-03).
  SystemRandom random;
  AuditLog other(this->clock_, this->ids_, AuditKeys::Generate(random), TestFixture::kInterval);
  auto report = other.Verify(*this->db_, this->a_);
  ASSERT_TRUE(report.ok());
  ASSERT_EQ(report->findings.size(), 1u);
  EXPECT_EQ(report->findings[0].reason, Reason::kCheckpointSignatureInvalid);
  EXPECT_EQ(report->findings[0].seq, 10);
  // A stored checkpoint whose chain hash was replaced no longer carries a valid signature.
  this->Tamper("UPDATE audit_checkpoints SET chain_hash = $1 WHERE tenant_id = $2 AND seq = 10",
               {std::string(64, 'e'), this->a_.value()});
  this->ExpectFinding(this->a_, Reason::kCheckpointSignatureInvalid, 10);
}

TYPED_TEST_P(AuditTamperTest, DeletedCheckpointBreaksTheCheckpointChain) {
  this->AppendN(this->a_, 25);
  this->Tamper("DELETE FROM audit_checkpoints WHERE tenant_id = $1 AND seq = 10",
               {this->a_.value()});
  Finding f = this->ExpectFinding(this->a_, Reason::kCheckpointMismatch, 20);
  EXPECT_NE(f.detail.find("checkpoint before it"), std::string::npos) << f.detail;
  this->Tamper("DELETE FROM audit_checkpoints WHERE tenant_id = $1", {this->a_.value()});
  this->ExpectFinding(this->a_, Reason::kCheckpointMismatch, 25);  // the head still names it
}

// Deleting a whole chain (entries, head, checkpoints) leaves nothing to verify in the
// database; the exported checkpoints still name the tenant (TL-05). A chain whose head alone
// was deleted is still found, through its entries.
TYPED_TEST_P(AuditTamperTest, WholeChainDeletedIsFoundThroughExportedCheckpoints) {
  this->AppendN(this->a_, 12);
  this->AppendN(this->b_, 3);
  const auto exported = this->Exported(this->a_);
  for (const char* table : {"audit_entries", "audit_heads", "audit_checkpoints"}) {
    this->Tamper(std::string("DELETE FROM ") + table + " WHERE tenant_id = $1", {this->a_.value()});
  }
  this->Tamper("DELETE FROM audit_heads WHERE tenant_id = $1", {this->b_.value()});
  auto maint = this->backend_.OpenMaintenance();
  ASSERT_TRUE(maint.ok());
  auto find = [&](const VerifyReport& report, const TenantId& t) -> const Finding* {
    for (const Finding& f : report.findings) {
      if (f.tenant_id == t) return &f;
    }
    return nullptr;
  };
  auto report = this->log_->VerifyAll(**maint);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(find(*report, this->a_), nullptr) << "TL-05: nothing left to verify";
  const Finding* headless = find(*report, this->b_);
  ASSERT_NE(headless, nullptr);
  EXPECT_EQ(headless->seq, 3);
  EXPECT_EQ(headless->detail, "the chain head row is missing");
  report = this->log_->VerifyAll(**maint, exported);
  ASSERT_TRUE(report.ok());
  const Finding* gone = find(*report, this->a_);
  ASSERT_NE(gone, nullptr);
  EXPECT_EQ(gone->reason, Reason::kDeleted);
  EXPECT_EQ(gone->seq, 1);
}

REGISTER_TYPED_TEST_SUITE_P(AuditTamperTest, ChangedDetailsValueIsModified, ChangedActionIsModified,
                            RewrittenHashColumnsAreModified, DeletedMiddleEntryIsDeleted,
                            DeletedEntryWithLaterEntriesRenumberedIsDeleted,
                            TruncationIsDeletedUntilOnlyExportedCheckpointsRemember,
                            SwappedSeqsAreReordered, SwappedContentsAreModified,
                            ForgedEntryInsertedInTheMiddleIsInserted,
                            ForgedEntryBeyondTheHeadIsInserted,
                            ConsistentRewriteIsCaughtByExportedCheckpointsOnly,
                            ErasedBodyIsBodyMissingHashPresent, CheckpointSignaturesAreChecked,
                            DeletedCheckpointBreaksTheCheckpointChain,
                            WholeChainDeletedIsFoundThroughExportedCheckpoints);

}  // namespace sb::audit::testing
