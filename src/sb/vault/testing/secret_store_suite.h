// Conformance suite of SecretStore and key administration (rotation, rewrap, status, minimum
// decryption version), written once and instantiated on SQLite (vault_store_test) and on
// PostgreSQL (vault_store_pgtest). Requirement ids: KMS-02..05, RLS-07, RLS-10, AUD-03.
#pragma once

#include <atomic>
#include <filesystem>
#include <thread>

#include <gtest/gtest.h>

#include "sb/base/random.h"
#include "sb/base/testing/fake_clock.h"
#include "sb/store/tenancy/tenant_repository.h"
#include "sb/store/testing/test_backends.h"
#include "sb/store/vault/secret_repository.h"
#include "sb/vault/key_admin.h"
#include "sb/vault/key_source.h"
#include "sb/vault/secret_store.h"

namespace sb::vault::testing {

// One "node": a vault and secret store over the shared key file.
struct Node {
  Node(const KeySource& source, const Clock& clock, Random& random) {
    auto keyring = LoadKeyring(source);
    EXPECT_TRUE(keyring.ok()) << keyring.status().ToString();
    vault = std::make_unique<Vault>(std::move(keyring).value(), random);
    secrets =
        std::make_unique<SecretStore>(*vault, clock, [source] { return LoadKeyring(source); });
  }
  std::unique_ptr<Vault> vault;
  std::unique_ptr<SecretStore> secrets;
};

template <typename Backend>
class SecretStoreSuite : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ =
        std::filesystem::temp_directory_path() / ("sb-vault-" + std::to_string(random_.Uint64()));
    std::filesystem::create_directories(dir_);
    source_.file = (dir_ / "master.key").string();
    std::ostringstream warn;
    ASSERT_TRUE(LoadOrCreateKeyring(source_, /*development=*/true, random_, warn).ok());
    auto db = store::testing::OpenMigrated(backend_);
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_ = std::move(db).value();
    auto maint = backend_.OpenMaintenance();
    ASSERT_TRUE(maint.ok()) << maint.status().ToString();
    maint_ = std::move(maint).value();
    // Vault state and the rewrap scan are deployment-wide, and the PostgreSQL database is
    // shared by the tests of this binary (each with its own key file): start from nothing.
    std::unique_ptr<store::Database> admin;
    if constexpr (Backend::kHasRowLevelSecurity) {
      auto su = backend_.OpenSuperuser();
      ASSERT_TRUE(su.ok());
      admin = std::move(su).value();
    } else {
      auto owner = backend_.OpenOwner();
      ASSERT_TRUE(owner.ok());
      admin = std::move(owner).value();
    }
    ASSERT_TRUE(admin
                    ->RunUnscoped([](store::Transaction& tx) {
                      return tx.ExecuteScript("DELETE FROM vault_state; DELETE FROM vault_secrets");
                    })
                    .ok());
    node_ = std::make_unique<Node>(source_, clock_, random_);
    a_ = NewTenant();
    b_ = NewTenant();
  }

  void TearDown() override { std::filesystem::remove_all(dir_); }

  TenantId NewTenant() {
    TenantId id(ids_.NewUuid());
    store::TenantRecord record{id, "t", clock_.Now()};
    EXPECT_TRUE(db_->RunInTenant(
                       id, [&](store::Transaction& tx) { return tenants_.Insert(tx, id, record); })
                    .ok());
    return id;
  }

  Status Put(Node& node, const SecretContext& ctx, const std::string& plaintext) {
    return db_->RunInTenant(
        ctx.tenant, [&](store::Transaction& tx) { return node.secrets->Put(tx, ctx, plaintext); });
  }

  Result<std::optional<std::string>> Get(Node& node, const SecretContext& ctx) {
    std::optional<std::string> out;
    Status s = db_->RunInTenant(ctx.tenant, store::TxMode::kReadOnly,
                                [&](store::Transaction& tx) -> Status {
                                  SB_ASSIGN_OR_RETURN(auto plain, node.secrets->Get(tx, ctx));
                                  if (plain) out = std::string(plain->view());
                                  return OkStatus();
                                });
    SB_RETURN_IF_ERROR(s);
    return out;
  }

  std::optional<store::SecretRecord> Raw(const SecretContext& ctx) {
    std::optional<store::SecretRecord> out;
    EXPECT_TRUE(db_->RunInTenant(ctx.tenant,
                                 [&](store::Transaction& tx) -> Status {
                                   SB_ASSIGN_OR_RETURN(
                                       out, repo_.Get(tx, ctx.tenant, ctx.owner_id, ctx.field));
                                   return OkStatus();
                                 })
                    .ok());
    return out;
  }

  AuditHook RecordingHook() {
    return [this](store::Transaction&, const std::string& action, const Json& details) {
      std::lock_guard<std::mutex> lock(audit_mu_);
      audited_.push_back(action + " " + details.dump());
      return OkStatus();
    };
  }

  std::vector<std::string> Audited() {
    std::lock_guard<std::mutex> lock(audit_mu_);
    return audited_;
  }

  Backend backend_;
  sb::testing::FakeClock clock_;
  SystemRandom random_;
  IdGenerator ids_{clock_, random_};
  std::filesystem::path dir_;
  KeySource source_;
  std::unique_ptr<store::Database> db_;
  std::unique_ptr<store::Database> maint_;
  std::unique_ptr<Node> node_;
  store::TenantRepository tenants_;
  store::SecretRepository repo_;
  TenantId a_;
  TenantId b_;
  std::mutex audit_mu_;
  std::vector<std::string> audited_;
};

TYPED_TEST_SUITE_P(SecretStoreSuite);

// KMS-05 / RLS-10: only ciphertext is stored, bound to tenant, owner and field.
TYPED_TEST_P(SecretStoreSuite, StoresOnlyCiphertextBoundToItsAddress) {
  SecretContext ctx{this->a_, "conn-1", "refresh_token"};
  const std::string plaintext = "1//refresh-token-" + std::to_string(this->random_.Uint64());
  ASSERT_TRUE(this->Put(*this->node_, ctx, plaintext).ok());
  auto raw = this->Raw(ctx);
  ASSERT_TRUE(raw.has_value());
  EXPECT_EQ(raw->ciphertext.rfind("sbv1:1:", 0), 0u) << raw->ciphertext;
  EXPECT_EQ(raw->ciphertext.find(plaintext), std::string::npos);
  EXPECT_EQ(raw->key_version, 1);
  auto got = this->Get(*this->node_, ctx);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(*got, plaintext);
  auto missing = this->Get(*this->node_, SecretContext{this->a_, "conn-1", "access_token"});
  ASSERT_TRUE(missing.ok());
  EXPECT_EQ(*missing, std::nullopt);

  // The same ciphertext copied to another field, owner or tenant does not decrypt.
  for (const SecretContext& other : {SecretContext{this->a_, "conn-1", "access_token"},
                                     SecretContext{this->a_, "conn-2", "refresh_token"},
                                     SecretContext{this->b_, "conn-1", "refresh_token"}}) {
    store::SecretRecord copy = *raw;
    copy.tenant_id = other.tenant;
    copy.owner_id = other.owner_id;
    copy.field = other.field;
    ASSERT_TRUE(this->db_
                    ->RunInTenant(other.tenant,
                                  [&](store::Transaction& tx) {
                                    return this->repo_.Upsert(tx, other.tenant, copy);
                                  })
                    .ok());
    auto stolen = this->Get(*this->node_, other);
    EXPECT_FALSE(stolen.ok()) << other.owner_id << "/" << other.field;
  }
  // Deleting the owner removes its secrets.
  ASSERT_TRUE(
      this->db_
          ->RunInTenant(this->a_,
                        [&](store::Transaction& tx) {
                          return this->node_->secrets->DeleteOwner(tx, this->a_, "conn-1").status();
                        })
          .ok());
  EXPECT_EQ(this->Raw(ctx), std::nullopt);
}

// KMS-02: a rotation on one node is used by every node's next write, and old versions keep
// decrypting.
TYPED_TEST_P(SecretStoreSuite, RotationReachesEveryNodeAtOnce) {
  Node other(this->source_, this->clock_, this->random_);
  SecretContext before{this->a_, "conn-1", "access_token"};
  ASSERT_TRUE(this->Put(other, before, "old secret").ok());
  auto rotated =
      RotateKey(*this->db_, this->source_, this->random_, this->clock_, this->RecordingHook());
  ASSERT_TRUE(rotated.ok()) << rotated.status().ToString();
  EXPECT_EQ(rotated->previous_version, 1u);
  EXPECT_EQ(rotated->new_version, 2u);
  EXPECT_TRUE(rotated->generated);
  EXPECT_EQ(std::filesystem::status(this->source_.file).permissions() & std::filesystem::perms::all,
            std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  // `other` loaded its keyring before the rotation; its next write still uses version 2.
  SecretContext after{this->a_, "conn-2", "access_token"};
  ASSERT_TRUE(this->Put(other, after, "new secret").ok());
  EXPECT_EQ(this->Raw(after)->key_version, 2);
  EXPECT_EQ(this->Raw(before)->key_version, 1);
  for (Node* node : {this->node_.get(), &other}) {
    EXPECT_EQ(*this->Get(*node, before), "old secret");
    EXPECT_EQ(*this->Get(*node, after), "new secret");
  }
  ASSERT_EQ(this->Audited().size(), 1u);
  EXPECT_EQ(this->Audited()[0].rfind("vault.key.rotate ", 0), 0u);
}

// AUD-03: a rotation whose audit entry cannot be written does not happen.
TYPED_TEST_P(SecretStoreSuite, RotationFailsClosedWhenItCannotBeAudited) {
  ASSERT_TRUE(this->Put(*this->node_, {this->a_, "c", "f"}, "x").ok());
  AuditHook broken = [](store::Transaction&, const std::string&, const Json&) {
    return UnavailableError("audit sink down");
  };
  auto rotated = RotateKey(*this->db_, this->source_, this->random_, this->clock_, broken);
  EXPECT_EQ(rotated.status().code(), StatusCode::kUnavailable);
  ASSERT_TRUE(this->Put(*this->node_, {this->a_, "c", "g"}, "y").ok());
  EXPECT_EQ(this->Raw({this->a_, "c", "g"})->key_version, 1);
}

// KMS-04: rewrap moves every secret of every tenant, resumes after an interruption, is
// idempotent, lets concurrent readers keep reading, and loses no concurrent write.
TYPED_TEST_P(SecretStoreSuite, RewrapIsResumableIdempotentAndOnline) {
  std::vector<std::pair<SecretContext, std::string>> all;
  for (const TenantId& t : {this->a_, this->b_}) {
    for (int i = 0; i < 60; ++i) {
      SecretContext ctx{t, "conn-" + std::to_string(i), "refresh_token"};
      std::string plain = "token-" + t.value() + "-" + std::to_string(i);
      ASSERT_TRUE(this->Put(*this->node_, ctx, plain).ok());
      all.emplace_back(ctx, plain);
    }
  }
  ASSERT_TRUE(
      RotateKey(*this->db_, this->source_, this->random_, this->clock_, this->RecordingHook())
          .ok());

  // Readers on another node keep reading every secret while the rewrap runs.
  Node reader(this->source_, this->clock_, this->random_);
  std::atomic<bool> stop{false};
  std::atomic<int64_t> reads{0};
  std::atomic<int64_t> bad_reads{0};
  std::thread readers([&] {
    size_t i = 0;
    while (!stop.load()) {
      const auto& [ctx, plain] = all[i++ % all.size()];
      auto got = this->Get(reader, ctx);
      if (!got.ok() || *got != plain) ++bad_reads;
      ++reads;
    }
  });

  // An interrupted run (as if killed after two batches) ...
  RewrapOptions options;
  options.batch_size = 25;
  options.max_batches = 2;
  auto first =
      Rewrap(*this->maint_, *this->node_->secrets, this->clock_, options, this->RecordingHook());
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(first->rewrapped, 50);
  EXPECT_EQ(first->remaining, 70);
  // ... a writer replacing a secret meanwhile ...
  ASSERT_TRUE(this->Put(*this->node_, all.back().first, "rotated-by-writer").ok());
  all.back().second = "rotated-by-writer";
  // ... and a second run that finishes the job.
  options.max_batches = 0;
  auto second =
      Rewrap(*this->maint_, *this->node_->secrets, this->clock_, options, this->RecordingHook());
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_EQ(second->rewrapped, 69);
  EXPECT_EQ(second->remaining, 0);
  EXPECT_EQ(second->failed, 0);
  auto again =
      Rewrap(*this->maint_, *this->node_->secrets, this->clock_, options, this->RecordingHook());
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->rewrapped, 0);

  while (reads.load() < 50) std::this_thread::yield();
  stop = true;
  readers.join();
  EXPECT_EQ(bad_reads.load(), 0) << "of " << reads.load() << " reads";
  for (const auto& [ctx, plain] : all) {
    EXPECT_EQ(this->Raw(ctx)->key_version, 2);
    EXPECT_EQ(*this->Get(*this->node_, ctx), plain);
  }
  auto status = GetKeyStatus(*this->maint_, *this->node_->vault->keyring());
  ASSERT_TRUE(status.ok()) << status.status().ToString();
  EXPECT_EQ(status->write_version, 2u);
  EXPECT_EQ(status->secrets_by_version.count(1), 0u);
  EXPECT_GE(status->secrets_by_version[2], 120);
  size_t batches = 0;
  for (const auto& a : this->Audited()) batches += a.rfind("vault.rewrap.batch ", 0) == 0;
  EXPECT_EQ(batches, 2u + 3u);  // 50 + 69 secrets in batches of 25
}

// A row that does not decrypt is reported and left untouched; the rest is rewrapped.
TYPED_TEST_P(SecretStoreSuite, RewrapReportsRowsThatDoNotDecrypt) {
  SecretContext good{this->a_, "good", "token"};
  SecretContext moved{this->a_, "moved", "token"};
  ASSERT_TRUE(this->Put(*this->node_, good, "g").ok());
  ASSERT_TRUE(this->Put(*this->node_, moved, "m").ok());
  store::SecretRecord copy = *this->Raw(good);  // good's ciphertext under moved's address
  copy.owner_id = "moved";
  ASSERT_TRUE(this->db_
                  ->RunInTenant(this->a_,
                                [&](store::Transaction& tx) {
                                  return this->repo_.Upsert(tx, this->a_, copy);
                                })
                  .ok());
  ASSERT_TRUE(
      RotateKey(*this->db_, this->source_, this->random_, this->clock_, this->RecordingHook())
          .ok());
  auto result =
      Rewrap(*this->maint_, *this->node_->secrets, this->clock_, {}, this->RecordingHook());
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->failed, 1);
  EXPECT_EQ(result->remaining, 1);
  ASSERT_EQ(result->failures.size(), 1u);
  EXPECT_NE(result->failures[0].find("/moved/token"), std::string::npos) << result->failures[0];
  EXPECT_EQ(this->Raw(moved)->ciphertext, copy.ciphertext);
}

// KMS-03: the minimum decryption version rises only when nothing needs a lower one.
TYPED_TEST_P(SecretStoreSuite, MinimumVersionRisesOnlyAfterRewrap) {
  SecretContext ctx{this->a_, "conn", "token"};
  ASSERT_TRUE(this->Put(*this->node_, ctx, "secret").ok());
  const std::string v1_ciphertext = this->Raw(ctx)->ciphertext;
  ASSERT_TRUE(
      RotateKey(*this->db_, this->source_, this->random_, this->clock_, this->RecordingHook())
          .ok());
  auto& secrets = *this->node_->secrets;
  Status s =
      SetMinDecryptVersion(*this->maint_, secrets, 2, false, this->clock_, this->RecordingHook());
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(s.message().find("1 secrets still use key versions below 2"), std::string::npos)
      << s.ToString();
  EXPECT_EQ(
      SetMinDecryptVersion(*this->maint_, secrets, 3, false, this->clock_, this->RecordingHook())
          .code(),
      StatusCode::kInvalidArgument);
  ASSERT_TRUE(Rewrap(*this->maint_, secrets, this->clock_, {}, this->RecordingHook()).ok());
  s = SetMinDecryptVersion(*this->maint_, secrets, 2, false, this->clock_, this->RecordingHook());
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(*this->Get(*this->node_, ctx), "secret");
  // A restored old copy of the row no longer decrypts on any node.
  store::SecretRecord old = *this->Raw(ctx);
  old.ciphertext = v1_ciphertext;
  old.key_version = 1;
  ASSERT_TRUE(this->db_
                  ->RunInTenant(
                      this->a_,
                      [&](store::Transaction& tx) { return this->repo_.Upsert(tx, this->a_, old); })
                  .ok());
  Node fresh(this->source_, this->clock_, this->random_);
  auto got = this->Get(fresh, ctx);
  EXPECT_FALSE(got.ok());
  EXPECT_NE(got.status().message().find("too old"), std::string::npos) << got.status().ToString();
  // Lowering is break-glass.
  EXPECT_EQ(
      SetMinDecryptVersion(*this->maint_, secrets, 1, false, this->clock_, this->RecordingHook())
          .code(),
      StatusCode::kFailedPrecondition);
  EXPECT_TRUE(
      SetMinDecryptVersion(*this->maint_, secrets, 1, true, this->clock_, this->RecordingHook())
          .ok());
}

REGISTER_TYPED_TEST_SUITE_P(SecretStoreSuite, StoresOnlyCiphertextBoundToItsAddress,
                            RotationReachesEveryNodeAtOnce,
                            RotationFailsClosedWhenItCannotBeAudited,
                            RewrapIsResumableIdempotentAndOnline, RewrapReportsRowsThatDoNotDecrypt,
                            MinimumVersionRisesOnlyAfterRewrap);

}  // namespace sb::vault::testing
