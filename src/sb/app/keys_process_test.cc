// The real `switchboard` binary through a whole key-management flow on SQLite, with `serve`
// running throughout:
//   - KMS-02: `keys rotate` makes a new version the write version;
//   - KMS-04: `keys rewrap` killed with SIGKILL mid-run loses nothing and a second run finishes;
//     requests and secret reads keep succeeding meanwhile, among them forced token refreshes,
//     which make the server decrypt a client secret and a refresh token (sandbox provider) and
//     store new tokens while their rows are being rewrapped;
//   - KMS-03: `keys set-min-version` is refused while secrets need a lower version;
//   - KMS-10: no plaintext secret, master key, audit key or API key appears in any log line,
//     command output or HTTP response of the whole flow (the API key only in the one output that
//     shows it once).
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <regex>
#include <sstream>
#include <string>
#include <thread>

#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include "sb/app/testing/sandbox_process.h"
#include "sb/app/testing/switchboard_process.h"
#include "sb/app/testing/test_http_client.h"
#include "sb/base/clock.h"
#include "sb/base/encoding.h"
#include "sb/base/random.h"
#include "sb/store/connections/connect_repository.h"
#include "sb/store/open_database.h"
#include "sb/vault/key_source.h"
#include "sb/vault/secret_store.h"

namespace sb::app {
namespace {

constexpr int kSecretsPerTenant = 3000;
constexpr int kConnections = 10;
constexpr char kClientId[] = "keys-test.apps.googleusercontent.com";

class KeysProcessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("sb-keys-" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    env_ = {"SWITCHBOARD_DATABASE_URL=sqlite:" + (dir_ / "sb.db").string(),
            "SWITCHBOARD_SERVER_LISTEN=127.0.0.1:0",
            "SWITCHBOARD_SERVER_SHUTDOWN_GRACE_MS=2000",
            "SWITCHBOARD_LIMITS_REQUESTS_PER_SECOND=1000000",  // the flow, not rate limiting,
            "SWITCHBOARD_LIMITS_BURST=1000000",                // is under test here
            "SWITCHBOARD_VAULT_KEY_FILE=" + (dir_ / "master.key").string(),
            "SWITCHBOARD_AUDIT_KEY_FILE=" + (dir_ / "audit.key").string(),
            "SWITCHBOARD_REFRESH_INTERVAL_MS=0",
            "SWITCHBOARD_LOG_LEVEL=debug",  // OA-12: not even debug lines carry a token
            "USER=keys-test"};
    marker_ = "sk-plain-" + HexEncode(random_.Bytes(8));
    auto sandbox = testing::SandboxProcess::Start();
    ASSERT_TRUE(sandbox.ok()) << sandbox.status().ToString();
    sandbox_ = std::move(*sandbox);
    env_.push_back("SWITCHBOARD_PROVIDERS_GOOGLE_URL=" + sandbox_->google_url());
    env_.push_back("SWITCHBOARD_PROVIDERS_MICROSOFT_URL=" + sandbox_->microsoft_url());
    env_.push_back("SWITCHBOARD_PROVIDERS_CA_FILE=" + sandbox_->ca_file());
    processes_ = std::make_unique<testing::SwitchboardProcesses>(SB_SWITCHBOARD_BINARY, dir_, env_);
  }
  void TearDown() override {
    sandbox_.reset();
    std::filesystem::remove_all(dir_);
  }

  // Connections of `tenant` to sandbox Google accounts, written by "another node": an offline
  // grant minted at the sandbox, its tokens through that node's vault. Returns the ids; the
  // refresh tokens go to `refresh_tokens`.
  std::vector<std::string> SeedConnections(store::Database& db, vault::SecretStore& secrets,
                                           const TenantId& tenant,
                                           std::vector<std::string>& refresh_tokens) {
    std::vector<std::string> ids;
    IdGenerator id_gen(clock_, random_);
    for (int i = 0; i < kConnections; ++i) {
      const std::string email = "keys" + std::to_string(i) + "@example.com";
      auto account = sandbox_->CreateAccount(testing::SandboxOrigin::kGoogle, {{"email", email}});
      EXPECT_TRUE(account.ok()) << account.status().ToString();
      auto minted =
          sandbox_->Control(testing::SandboxOrigin::kGoogle, "POST",
                            "/_sandbox/accounts/" + (*account)["id"].get<std::string>() + "/tokens",
                            {{"client_id", kClientId}, {"offline", true}});
      EXPECT_TRUE(minted.ok()) << minted.status().ToString();
      if (!account.ok() || !minted.ok()) return ids;
      store::ConnectionRecord r;
      r.tenant_id = tenant;
      r.id = ConnectionId(id_gen.NewUuid());
      r.provider = "google";
      r.end_user_id = "user-" + std::to_string(i);
      r.account_subject = (*account)["id"].get<std::string>();
      r.account_email = email;
      r.access_expires_at = clock_.Now() + std::chrono::hours(1);
      r.has_refresh_token = true;
      r.token_version = 1;
      r.created_at = r.updated_at = clock_.Now();
      const std::string owner = store::ConnectionSecretOwner(r.id);
      const std::string refresh = (*minted)["refresh_token"];
      refresh_tokens.push_back(refresh);
      EXPECT_TRUE(db.RunInTenant(tenant, [&](store::Transaction& tx) -> Status {
                      SB_RETURN_IF_ERROR(store::ConnectionRepository().Insert(tx, tenant, r));
                      SB_RETURN_IF_ERROR(secrets.Put(tx, {tenant, owner, "access_token"},
                                                     (*minted)["access_token"].get<std::string>()));
                      return secrets.Put(tx, {tenant, owner, "refresh_token"}, refresh);
                    }).ok());
      ids.push_back(r.id.value());
    }
    return ids;
  }

  // The binary's processes (SwitchboardProcesses); outputs_ remembers every name for the
  // final scan of all outputs.
  pid_t Spawn(const std::string& name, const std::vector<std::string>& args) {
    outputs_.push_back(name);
    return processes_->Spawn(name, args);
  }
  static int WaitExit(pid_t pid) { return testing::SwitchboardProcesses::WaitExit(pid); }
  int Run(const std::string& name, const std::vector<std::string>& args) {
    return WaitExit(Spawn(name, args));
  }
  std::string Read(const std::string& file) { return processes_->Read(file); }
  static std::string Trim(std::string s) {
    return testing::SwitchboardProcesses::Trim(std::move(s));
  }

  std::string Plaintext(const std::string& tenant, int i) {
    return marker_ + "-" + tenant.substr(0, 8) + "-" + std::to_string(i);
  }

  std::unique_ptr<store::Database> OpenDb() {
    auto db = store::OpenDatabase({.url = "sqlite:" + (dir_ / "sb.db").string()});
    EXPECT_TRUE(db.ok()) << db.status().ToString();
    return std::move(db).value();
  }

  // A node of our own over the same database and key file, as another server would be.
  struct Node {
    explicit Node(const vault::KeySource& source, const Clock& clock, Random& random)
        : vault(vault::LoadKeyring(source).value(), random),
          secrets(vault, clock, [source] { return vault::LoadKeyring(source); }) {}
    vault::Vault vault;
    vault::SecretStore secrets;
  };

  std::filesystem::path dir_;
  std::vector<std::string> env_;
  std::vector<std::string> outputs_;
  std::unique_ptr<testing::SwitchboardProcesses> processes_;
  std::string marker_;
  std::unique_ptr<testing::SandboxProcess> sandbox_;
  SystemClock clock_;
  SystemRandom random_;
};

TEST_F(KeysProcessTest, RotateRewrapAfterKillMinVersionAndNoSecretInAnyOutput) {
  ASSERT_EQ(Run("migrate", {"migrate", "up"}), 0) << Read("migrate.err");
  ASSERT_EQ(Run("status0", {"keys", "status"}), 0) << Read("status0.err");  // creates dev keys
  EXPECT_NE(Read("status0.err").find("DEVELOPMENT master key"), std::string::npos);
  std::vector<std::string> tenants;
  for (int t = 0; t < 3; ++t) {
    std::string name = "tenant" + std::to_string(t);
    ASSERT_EQ(Run(name, {"tenant", "create", "--name", name, "--quiet"}), 0) << Read(name + ".err");
    tenants.push_back(Trim(Read(name + ".out")));
  }
  ASSERT_EQ(Run("apikey", {"apikey", "create", "--tenant", tenants[0], "--name", "k", "--scopes",
                           "admin,read,write", "--quiet"}),
            0);
  const std::string api_key = Trim(Read("apikey.out"));
  ASSERT_EQ(api_key.rfind("sb_live_", 0), 0u);

  // Secrets written by "another node" sharing the database and key file.
  const vault::KeySource source{(dir_ / "master.key").string(), std::nullopt};
  auto db = OpenDb();
  {
    Node node(source, clock_, random_);
    for (const std::string& t : tenants) {
      TenantId tenant(t);
      for (int start = 0; start < kSecretsPerTenant; start += 500) {
        ASSERT_TRUE(
            db->RunInTenant(tenant, [&](store::Transaction& tx) -> Status {
                for (int i = start; i < start + 500; ++i) {
                  SB_RETURN_IF_ERROR(node.secrets.Put(
                      tx, {tenant, "conn-" + std::to_string(i), "refresh_token"}, Plaintext(t, i)));
                }
                return OkStatus();
              }).ok());
      }
    }
  }

  pid_t server = Spawn("serve", {"serve"});
  int port = 0;
  const std::regex serving("serving on http://127\\.0\\.0\\.1:([0-9]+)");
  for (int i = 0; i < 400 && port == 0; ++i) {
    std::smatch m;
    std::string out = Read("serve.out");
    if (std::regex_search(out, m, serving)) {
      port = std::stoi(m[1]);
    } else {
      std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
  }
  ASSERT_NE(port, 0) << Read("serve.err");
  testing::TestHttpClient client(static_cast<uint16_t>(port));
  std::vector<std::string> responses;
  auto request = [&](const std::string& bearer) {
    auto r = client.Send("GET", "/v1/tenants/" + tenants[0], "", bearer);
    responses.push_back(r.body);
    return r.status;
  };
  EXPECT_EQ(request(api_key), 200);

  // The tenant's Google app (its client secret through the server's vault) and connections
  // whose tokens the server decrypts on every forced refresh.
  const std::string client_secret = marker_ + "-client-secret";
  ASSERT_TRUE(
      sandbox_->RegisterClient(testing::SandboxOrigin::kGoogle, kClientId, client_secret, {}).ok());
  auto put =
      client.Send("PUT", "/v1/integrations/google",
                  Json{{"client_id", kClientId}, {"client_secret", client_secret}}.dump(), api_key);
  ASSERT_EQ(put.status, 201) << put.body;
  responses.push_back(put.body);
  std::vector<std::string> refresh_tokens;
  std::vector<std::string> connections;
  {
    Node node(source, clock_, random_);
    connections = SeedConnections(*db, node.secrets, TenantId(tenants[0]), refresh_tokens);
  }
  ASSERT_EQ(connections.size(), static_cast<size_t>(kConnections));
  auto refresh = [&](size_t i) {
    auto r = client.Send(
        "POST", "/v1/connections/" + connections[i % connections.size()] + "/refresh", "", api_key);
    responses.push_back(r.body);
    return r.status;
  };
  for (size_t i = 0; i < connections.size(); ++i) EXPECT_EQ(refresh(i), 200);

  std::string wrong_key = api_key;
  wrong_key.back() = wrong_key.back() == 'A' ? 'B' : 'A';
  EXPECT_EQ(request(wrong_key), 401);  // a failed authentication, audited

  ASSERT_EQ(Run("rotate", {"keys", "rotate"}), 0) << Read("rotate.err");
  EXPECT_NE(Read("rotate.out").find("version 2 is now the write version"), std::string::npos)
      << Read("rotate.out");

  // Start a rewrap in small batches and kill it hard once it has made progress, while the
  // server answers requests and another node reads secrets.
  pid_t rewrap = Spawn("rewrap1", {"keys", "rewrap", "--batch", "20"});
  Node reader(source, clock_, random_);
  int reads = 0;
  int bad_reads = 0;
  int ok_requests = 0;
  int ok_refreshes = 0;
  bool progressed = false;
  for (int i = 0; i < 4000 && !progressed; ++i) {
    const std::string& t = tenants[i % tenants.size()];
    const int n = (i * 7919) % kSecretsPerTenant;
    std::optional<std::string> got;
    Status s = db->RunInTenant(
        TenantId(t), store::TxMode::kReadOnly, [&](store::Transaction& tx) -> Status {
          SB_ASSIGN_OR_RETURN(
              auto plain,
              reader.secrets.Get(tx, {TenantId(t), "conn-" + std::to_string(n), "refresh_token"}));
          if (plain) got = std::string(plain->view());
          return OkStatus();
        });
    ++reads;
    if (!s.ok() || got != Plaintext(t, n)) ++bad_reads;
    ok_requests += request(api_key) == 200;
    ok_refreshes += refresh(static_cast<size_t>(i)) == 200;
    progressed = Read("rewrap1.out").find("keys: rewrapped") != std::string::npos;
  }
  ASSERT_TRUE(progressed) << Read("rewrap1.err");
  ::kill(rewrap, SIGKILL);
  WaitExit(rewrap);
  EXPECT_EQ(bad_reads, 0) << "of " << reads;
  EXPECT_EQ(ok_requests, reads);
  EXPECT_EQ(ok_refreshes, reads);

  ASSERT_EQ(Run("status1", {"keys", "status"}), 0) << Read("status1.err");
  const std::string status1 = Read("status1.out");
  if (status1.find("  v1: ") != std::string::npos) {  // the kill left work to do (the usual case)
    EXPECT_EQ(Run("setmin1", {"keys", "set-min-version", "2"}), 1);
    EXPECT_NE(Read("setmin1.err").find("still use key versions below 2"), std::string::npos);
  }
  ASSERT_EQ(Run("rewrap2", {"keys", "rewrap", "--batch", "500"}), 0) << Read("rewrap2.err");
  EXPECT_NE(Read("rewrap2.out").find(" failed, 0 remaining below version 2"), std::string::npos)
      << Read("rewrap2.out");
  ASSERT_EQ(Run("setmin2", {"keys", "set-min-version", "2"}), 0) << Read("setmin2.err");
  ASSERT_EQ(Run("status2", {"keys", "status"}), 0);
  EXPECT_NE(Read("status2.out").find("minimum decryption version: 2"), std::string::npos);
  // The seeded secrets, each connection's two tokens and the integration's client secret.
  EXPECT_NE(Read("status2.out")
                .find("  v2: " + std::to_string(3 * kSecretsPerTenant + 2 * kConnections + 1)),
            std::string::npos)
      << Read("status2.out");
  EXPECT_EQ(Read("status2.out").find("  v1: "), std::string::npos);

  // Every secret still reads back, through a node that starts now.
  Node fresh(source, clock_, random_);
  for (const std::string& t : tenants) {
    ASSERT_TRUE(db->RunInTenant(
                      TenantId(t), store::TxMode::kReadOnly,
                      [&](store::Transaction& tx) -> Status {
                        for (int i = 0; i < kSecretsPerTenant; ++i) {
                          SB_ASSIGN_OR_RETURN(
                              auto plain,
                              fresh.secrets.Get(
                                  tx, {TenantId(t), "conn-" + std::to_string(i), "refresh_token"}));
                          EXPECT_TRUE(plain.has_value());
                          if (plain) {
                            EXPECT_EQ(plain->view(), Plaintext(t, i));
                          }
                        }
                        return OkStatus();
                      })
                    .ok());
  }
  EXPECT_EQ(request(api_key), 200);
  // After the rewrap and the new minimum version, the server still reads every token it uses.
  for (size_t i = 0; i < connections.size(); ++i) EXPECT_EQ(refresh(i), 200);
  ::kill(server, SIGTERM);
  EXPECT_EQ(WaitExit(server), 0);

  // KMS-10: search every output of the flow for secret material.
  std::vector<std::string> forbidden = {marker_};
  for (const std::string& token : refresh_tokens) forbidden.push_back(token);
  for (const char* file : {"master.key", "audit.key"}) {
    std::istringstream lines(Read(file));
    for (std::string line; std::getline(lines, line);) {
      auto sep = line.find_first_of(":");
      if (sep == std::string::npos || line[0] == '#') continue;
      std::string value = Trim(line.substr(sep + 1));
      while (!value.empty() && value.front() == ' ') value.erase(0, 1);
      if (value.size() >= 16) forbidden.push_back(value.substr(0, 16));
    }
  }
  ASSERT_GE(forbidden.size(), 4u);  // marker, two master keys, audit HMAC and signing keys
  // sb_live_<tenant hex>_<secret>: the secret is base64url, which may hold '_' itself.
  const std::string key_secret =
      api_key.substr(api_key.find('_', std::string("sb_live_").size()) + 1);
  ASSERT_GE(key_secret.size(), 32u) << "not an sb_live_ key";
  for (const std::string& name : outputs_) {
    for (const std::string ext : {".out", ".err"}) {
      const std::string text = Read(name + ext);
      for (const std::string& f : forbidden) {
        EXPECT_EQ(text.find(f), std::string::npos) << name << ext << " leaks secret material";
      }
      if (!(name == "apikey" && ext == ".out")) {
        EXPECT_EQ(text.find(key_secret), std::string::npos) << name << ext << " leaks the API key";
      }
    }
  }
  for (const std::string& body : responses) {
    for (const std::string& f : forbidden) EXPECT_EQ(body.find(f), std::string::npos);
    EXPECT_EQ(body.find(key_secret), std::string::npos);
  }
}

}  // namespace
}  // namespace sb::app
