#include "sb/app/cli.h"

#include <filesystem>
#include <sstream>

#include <gtest/gtest.h>

#include "sb/base/ids.h"

namespace sb::app {
namespace {

struct CliRun {
  int code;
  std::string out;
  std::string err;
};

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("sb-cli-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    env_["SWITCHBOARD_DATABASE_URL"] = "sqlite:" + (dir_ / "sb.db").string();
    env_["SWITCHBOARD_VAULT_KEY_FILE"] = (dir_ / "master.key").string();
    env_["SWITCHBOARD_AUDIT_KEY_FILE"] = (dir_ / "audit.key").string();
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  CliRun Cli(std::vector<std::string> args) {
    std::ostringstream out, err;
    int code = RunCli(args, env_, out, err);
    return {code, out.str(), err.str()};
  }

  std::filesystem::path dir_;
  config::Environment env_;
};

TEST_F(CliTest, VersionAndUsage) {
  CliRun v = Cli({"version"});
  EXPECT_EQ(v.code, 0);
  EXPECT_EQ(v.out.rfind("switchboard ", 0), 0u);
  CliRun none = Cli({});
  EXPECT_EQ(none.code, 2);
  EXPECT_NE(none.err.find("usage:"), std::string::npos);
  EXPECT_EQ(Cli({"frobnicate"}).code, 2);
}

TEST_F(CliTest, ConfigCheckNamesTheBadKey) {
  CliRun ok = Cli({"config", "check"});
  EXPECT_EQ(ok.code, 0) << ok.err;
  EXPECT_NE(ok.out.find("database.url = sqlite:"), std::string::npos);
  env_["SWITCHBOARD_SERVER_IO_THREADS"] = "zero";
  CliRun bad = Cli({"config", "check"});
  EXPECT_EQ(bad.code, 2);
  EXPECT_NE(bad.err.find("SWITCHBOARD_SERVER_IO_THREADS"), std::string::npos);
  EXPECT_NE(bad.err.find("server.io_threads"), std::string::npos);
  CliRun missing = Cli({"--config", (dir_ / "nope.toml").string(), "config", "check"});
  EXPECT_EQ(missing.code, 2);
  EXPECT_NE(missing.err.find("nope.toml"), std::string::npos);
}

TEST_F(CliTest, MigrateUpStatusDown) {
  CliRun up = Cli({"migrate", "up"});
  ASSERT_EQ(up.code, 0) << up.err;
  CliRun status = Cli({"migrate", "status"});
  EXPECT_NE(status.out.find("applied"), std::string::npos);
  EXPECT_EQ(status.out.find("pending"), std::string::npos);
  ASSERT_EQ(Cli({"migrate", "down"}).code, 0);
  EXPECT_NE(Cli({"migrate", "status"}).out.find("pending"), std::string::npos);
  EXPECT_EQ(Cli({"migrate", "sideways"}).code, 2);
}

TEST_F(CliTest, UserCommandsCreateDashboardUsersWithAPasswordShownOnce) {
  ASSERT_EQ(Cli({"migrate", "up"}).code, 0);
  CliRun tenant = Cli({"tenant", "create", "--name", "Acme", "--quiet"});
  ASSERT_EQ(tenant.code, 0) << tenant.err;
  const std::string id = tenant.out.substr(0, tenant.out.find('\n'));
  CliRun created = Cli({"user", "create", "--tenant", id, "--email", "Ops@Example.com", "--role",
                        "admin", "--quiet"});
  ASSERT_EQ(created.code, 0) << created.err;
  const std::string password = created.out.substr(0, created.out.find('\n'));
  EXPECT_EQ(password.size(), 32u);  // 192 bits in base64url
  CliRun second =
      Cli({"user", "create", "--tenant", id, "--email", "viewer@example.com", "--role", "viewer"});
  ASSERT_EQ(second.code, 0) << second.err;
  EXPECT_NE(second.out.find("shown once"), std::string::npos);
  EXPECT_EQ(second.out.find(password), std::string::npos);
  CliRun list = Cli({"user", "list", "--tenant", id});
  ASSERT_EQ(list.code, 0) << list.err;
  EXPECT_NE(list.out.find("ops@example.com  admin"), std::string::npos) << list.out;
  EXPECT_NE(list.out.find("viewer@example.com  viewer"), std::string::npos) << list.out;
  EXPECT_EQ(list.out.find(password), std::string::npos);
  // Operators belong to the system tenant; unknown roles and missing flags are usage errors.
  EXPECT_EQ(
      Cli({"user", "create", "--tenant", id, "--email", "o@example.com", "--role", "operator"})
          .code,
      1);
  EXPECT_EQ(
      Cli({"user", "create", "--tenant", id, "--email", "o@example.com", "--role", "root"}).code,
      2);
  EXPECT_EQ(Cli({"user", "create", "--tenant", id, "--role", "admin"}).code, 2);
}

TEST_F(CliTest, TenantAndApiKeyCommands) {
  ASSERT_EQ(Cli({"migrate", "up"}).code, 0);
  CliRun tenant = Cli({"tenant", "create", "--name", "Acme", "--quiet"});
  ASSERT_EQ(tenant.code, 0) << tenant.err;
  std::string id = tenant.out.substr(0, tenant.out.find('\n'));
  EXPECT_TRUE(IsCanonicalUuid(id)) << id;

  CliRun key = Cli(
      {"apikey", "create", "--tenant", id, "--name", "ops", "--scopes", "admin,read", "--quiet"});
  ASSERT_EQ(key.code, 0) << key.err;
  EXPECT_EQ(key.out.rfind("sb_live_", 0), 0u);

  CliRun list = Cli({"apikey", "list", "--tenant", id});
  ASSERT_EQ(list.code, 0);
  EXPECT_NE(list.out.find("ops  admin,read  active"), std::string::npos) << list.out;
  // The listing never shows the key itself.
  EXPECT_EQ(list.out.find("sb_live_"), std::string::npos);
  std::string key_id = list.out.substr(0, 36);
  ASSERT_EQ(Cli({"apikey", "revoke", "--tenant", id, "--id", key_id}).code, 0);
  EXPECT_NE(Cli({"apikey", "list", "--tenant", id}).out.find("revoked"), std::string::npos);
  EXPECT_EQ(Cli({"apikey", "revoke", "--tenant", id, "--id", key_id}).code, 1);

  EXPECT_EQ(Cli({"apikey", "create", "--tenant", id, "--name", "x", "--scopes", "root"}).code, 1);
  EXPECT_EQ(Cli({"apikey", "list", "--tenant", "not-a-uuid"}).code, 2);
  EXPECT_EQ(Cli({"tenant", "create"}).code, 2);
}

// Issue 13, operator role: the operator scope exists only on keys of the system tenant.
TEST_F(CliTest, OperatorKeysOnlyInTheSystemTenant) {
  ASSERT_EQ(Cli({"migrate", "up"}).code, 0);
  CliRun tenant = Cli({"tenant", "create", "--name", "Acme", "--quiet"});
  ASSERT_EQ(tenant.code, 0) << tenant.err;
  const std::string id = tenant.out.substr(0, tenant.out.find('\n'));
  CliRun refused =
      Cli({"apikey", "create", "--tenant", id, "--name", "x", "--scopes", "operator,admin"});
  EXPECT_EQ(refused.code, 1);
  EXPECT_NE(refused.err.find("system tenant"), std::string::npos) << refused.err;

  CliRun system = Cli({"tenant", "create", "--system", "--name", "Operator", "--quiet"});
  ASSERT_EQ(system.code, 0) << system.err;
  EXPECT_EQ(system.out, "00000000-0000-0000-0000-000000000000\n");
  EXPECT_EQ(Cli({"tenant", "create", "--system", "--name", "Again"}).code, 1);
  CliRun key = Cli({"apikey", "create", "--tenant", "00000000-0000-0000-0000-000000000000",
                    "--name", "operator", "--scopes", "operator,admin,read,write", "--quiet"});
  ASSERT_EQ(key.code, 0) << key.err;
  EXPECT_EQ(key.out.rfind("sb_live_00000000000000000000000000000000_", 0), 0u);
}

}  // namespace
}  // namespace sb::app
