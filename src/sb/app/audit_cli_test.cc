// `switchboard audit ...` in-process on SQLite: keys created in development (with a warning)
// and refused in production, verify clean, verify after tampering (exit 1 naming tenant, seq,
// id and reason), and exported checkpoints that catch a truncation the database alone hides.
#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "sb/app/cli.h"
#include "sb/audit/audit_log.h"
#include "sb/base/encoding.h"
#include "sb/base/testing/fake_clock.h"
#include "sb/store/open_database.h"

namespace sb::app {
namespace {

struct CliRun {
  int code;
  std::string out;
  std::string err;
};

class AuditCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("sb-audit-cli-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    env_["SWITCHBOARD_DATABASE_URL"] = "sqlite:" + (dir_ / "sb.db").string();
    env_["SWITCHBOARD_AUDIT_KEY_FILE"] = (dir_ / "keys" / "audit.key").string();
    env_["SWITCHBOARD_VAULT_KEY_FILE"] = (dir_ / "keys" / "master.key").string();
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  CliRun Cli(std::vector<std::string> args) {
    std::ostringstream out, err;
    int code = RunCli(args, env_, out, err);
    return {code, out.str(), err.str()};
  }

  std::unique_ptr<store::Database> Db() {
    auto db = store::OpenDatabase({.url = env_["SWITCHBOARD_DATABASE_URL"]});
    EXPECT_TRUE(db.ok()) << db.status().ToString();
    return std::move(db).value();
  }

  // Appends `n` entries to `tenant` with the keys of the key file, as the server would.
  void Append(const TenantId& tenant, int n) {
    auto keys = audit::LoadAuditKeys(env_["SWITCHBOARD_AUDIT_KEY_FILE"]);
    ASSERT_TRUE(keys.ok()) << keys.status().ToString();
    audit::AuditLog log(clock_, ids_, std::move(keys).value(), 10);
    auto db = Db();
    for (int i = 0; i < n; ++i) {
      audit::Event event{audit::Actor{audit::ActorKind::kCli, "ops"},
                         "tenant.update",
                         "tenants/" + tenant.value(),
                         audit::Outcome::kSuccess,
                         "",
                         Json{{"i", i}}};
      ASSERT_TRUE(db->RunInTenant(tenant, [&](store::Transaction& tx) {
                      return log.Append(tx, tenant, event);
                    }).ok());
    }
  }

  void Sql(const std::string& sql) {
    ASSERT_TRUE(
        Db()->RunUnscoped([&](store::Transaction& tx) { return tx.ExecuteScript(sql); }).ok())
        << sql;
  }

  std::filesystem::path dir_;
  config::Environment env_;
  sb::testing::FakeClock clock_;
  SystemRandom random_;
  IdGenerator ids_{clock_, random_};
};

TEST_F(AuditCliTest, PublicKeyCreatesDevelopmentKeysLoudlyAndProductionRefuses) {
  env_["SWITCHBOARD_MODE"] = "production";
  CliRun refused = Cli({"audit", "public-key"});
  EXPECT_EQ(refused.code, 1);
  EXPECT_NE(refused.err.find(env_["SWITCHBOARD_AUDIT_KEY_FILE"]), std::string::npos) << refused.err;
  EXPECT_FALSE(std::filesystem::exists(env_["SWITCHBOARD_AUDIT_KEY_FILE"]));

  env_["SWITCHBOARD_MODE"] = "development";
  CliRun created = Cli({"audit", "public-key"});
  ASSERT_EQ(created.code, 0) << created.err;
  EXPECT_NE(created.err.find("WARNING: generated"), std::string::npos);
  auto raw = Base64Decode(created.out.substr(0, created.out.find('\n')));
  ASSERT_TRUE(raw.has_value());
  EXPECT_EQ(raw->size(), 32u);
  CliRun again = Cli({"audit", "public-key"});
  EXPECT_EQ(again.out, created.out);
  EXPECT_EQ(again.err, "");
  // The key material itself never reaches the output.
  auto keys = audit::LoadAuditKeys(env_["SWITCHBOARD_AUDIT_KEY_FILE"]);
  ASSERT_TRUE(keys.ok());
  EXPECT_EQ(created.out.find(Base64UrlEncode(keys->hmac_key())), std::string::npos);
  EXPECT_EQ(created.err.find(Base64UrlEncode(keys->hmac_key())), std::string::npos);
  EXPECT_EQ(Cli({"audit", "init-keys"}).code, 1);  // never overwrites
  EXPECT_EQ(Cli({"audit", "sideways"}).code, 2);
}

TEST_F(AuditCliTest, VerifyCleanThenAfterTamperingNamesTheEntry) {
  ASSERT_EQ(Cli({"migrate", "up"}).code, 0);
  ASSERT_EQ(Cli({"audit", "init-keys"}).code, 0);
  const TenantId tenant(ids_.NewUuid());
  Append(tenant, 15);
  Append(audit::SystemTenant(), 3);

  CliRun one = Cli({"audit", "verify", "--tenant", tenant.value()});
  EXPECT_EQ(one.code, 0) << one.out << one.err;
  EXPECT_EQ(one.out.rfind("ok: 15 entries in 1 chains", 0), 0u) << one.out;
  CliRun all = Cli({"audit", "verify"});
  EXPECT_EQ(all.code, 0) << all.out << all.err;
  EXPECT_EQ(all.out.rfind("ok: 18 entries in 2 chains", 0), 0u) << all.out;

  std::string id7;
  ASSERT_TRUE(Db()->RunUnscoped([&](store::Transaction& tx) -> Status {
                    SB_ASSIGN_OR_RETURN(auto rows,
                                        tx.Query("SELECT id FROM audit_entries WHERE tenant_id = "
                                                 "$1 AND seq = 7",
                                                 {tenant.value()}));
                    id7 = rows.at(0).GetString(0);
                    return OkStatus();
                  })
                  .ok());
  Sql("UPDATE audit_entries SET details = '{\"i\":70}' WHERE seq = 7 AND tenant_id = '" +
      tenant.value() + "'");
  CliRun bad = Cli({"audit", "verify"});
  EXPECT_EQ(bad.code, 1);
  EXPECT_NE(bad.out.find("FAILED: tenant " + tenant.value() + " seq 7 id " + id7 + ": modified"),
            std::string::npos)
      << bad.out;
  EXPECT_NE(bad.out.find("1 of 2 chains failed"), std::string::npos) << bad.out;
  EXPECT_EQ(Cli({"audit", "verify", "--tenant", tenant.value()}).code, 1);
  EXPECT_EQ(Cli({"audit", "verify", "--tenant", "nope"}).code, 1);
}

TEST_F(AuditCliTest, ExportedCheckpointsCatchATruncationTheDatabaseHides) {
  ASSERT_EQ(Cli({"migrate", "up"}).code, 0);
  ASSERT_EQ(Cli({"audit", "init-keys"}).code, 0);
  const TenantId tenant(ids_.NewUuid());
  Append(tenant, 15);
  EXPECT_EQ(Cli({"audit", "checkpoints"}).code, 2);
  CliRun exported = Cli({"audit", "checkpoints", "--tenant", tenant.value()});
  ASSERT_EQ(exported.code, 0) << exported.err;
  auto checkpoints = audit::ParseCheckpointLines(exported.out);
  ASSERT_TRUE(checkpoints.ok()) << checkpoints.status().ToString();
  ASSERT_EQ(checkpoints->size(), 2u);  // the automatic one at 10, and the head (15) signed now
  EXPECT_EQ((*checkpoints)[1].size, 15);
  const std::string file = (dir_ / "checkpoints.jsonl").string();
  std::ofstream(file) << exported.out;

  // Cut the chain back to 10 entries and make the head and checkpoints agree.
  const std::string t = "'" + tenant.value() + "'";
  Sql("DELETE FROM audit_entries WHERE tenant_id = " + t + " AND seq > 10");
  Sql("DELETE FROM audit_checkpoints WHERE tenant_id = " + t + " AND seq > 10");
  Sql("UPDATE audit_heads SET seq = 10, chain_hash = (SELECT chain_hash FROM audit_entries WHERE "
      "tenant_id = " +
      t + " AND seq = 10), last_checkpoint_hash = '" + audit::CheckpointHash((*checkpoints)[0]) +
      "' WHERE tenant_id = " + t);
  EXPECT_EQ(Cli({"audit", "verify"}).code, 0);  // TL-05: the database alone cannot tell
  CliRun caught = Cli({"audit", "verify", "--checkpoints", file});
  EXPECT_EQ(caught.code, 1);
  EXPECT_NE(caught.out.find("FAILED: tenant " + tenant.value() + " seq 11 id -: deleted"),
            std::string::npos)
      << caught.out;
  EXPECT_EQ(Cli({"audit", "verify", "--checkpoints", (dir_ / "missing").string()}).code, 1);
}

}  // namespace
}  // namespace sb::app

namespace sb::app {
namespace {

// AUD-02: `audit hash` computes the form in which the log records a secret, so that an
// investigator can find a leaked API key's entries without the log ever holding the key.
TEST(AuditHashCli, FindsTheEntriesOfAKnownKey) {
  auto dir =
      std::filesystem::temp_directory_path() / ("sb-audit-hash-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  config::Environment env{{"SWITCHBOARD_DATABASE_URL", "sqlite:" + (dir / "sb.db").string()},
                          {"SWITCHBOARD_AUDIT_KEY_FILE", (dir / "audit.key").string()},
                          {"SWITCHBOARD_VAULT_KEY_FILE", (dir / "master.key").string()}};
  auto run = [&](std::vector<std::string> args, const std::string& input = "") {
    std::istringstream in(input);
    std::ostringstream out, err;
    int code = RunCli(args, env, in, out, err);
    return std::make_tuple(code, out.str(), err.str());
  };
  ASSERT_EQ(std::get<0>(run({"migrate", "up"})), 0);
  auto [t_code, tenant, t_err] = run({"tenant", "create", "--name", "T", "--quiet"});
  ASSERT_EQ(t_code, 0) << t_err;
  tenant.pop_back();
  auto [k_code, key, k_err] =
      run({"apikey", "create", "--tenant", tenant, "--name", "k", "--scopes", "read", "--quiet"});
  ASSERT_EQ(k_code, 0) << k_err;
  key.pop_back();
  auto [h_code, printed, h_err] = run({"audit", "hash"}, key + "\n");
  ASSERT_EQ(h_code, 0) << h_err;
  // A named variable, not a structured binding: the lambda below uses it (clang < 16).
  const std::string hash = printed.substr(0, printed.size() - 1);
  EXPECT_EQ(hash.rfind("hmac-sha256:", 0), 0u);
  EXPECT_EQ(hash.find(key), std::string::npos);
  // The api_key.create entry records exactly that value.
  auto db = store::OpenDatabase({.url = env["SWITCHBOARD_DATABASE_URL"]});
  ASSERT_TRUE(db.ok());
  int64_t matches = 0;
  ASSERT_TRUE((*db)
                  ->RunInTenant(TenantId(tenant),
                                [&](store::Transaction& tx) -> Status {
                                  SB_ASSIGN_OR_RETURN(
                                      auto rows, tx.Query("SELECT details FROM audit_entries WHERE "
                                                          "action = 'api_key.create'"));
                                  for (const auto& row : rows) {
                                    matches += row.GetString(0).find(hash) != std::string::npos;
                                  }
                                  return OkStatus();
                                })
                  .ok());
  EXPECT_EQ(matches, 1);
  EXPECT_EQ(std::get<0>(run({"audit", "hash"}, "")), 2);  // nothing on standard input
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace sb::app
