// Runs the real `switchboard` binary: `serve` answers requests and exits 0 on SIGTERM, after
// logging an orderly stop; a bad configuration value exits 2 naming the key.
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <thread>

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sb/app/testing/test_http_client.h"

namespace sb::app {
namespace {

class ServeProcessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("sb-serve-" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // Runs the binary with `args` and SWITCHBOARD_* settings; stdout and stderr go to files.
  pid_t Spawn(const std::vector<std::string>& args, const std::vector<std::string>& env) {
    pid_t pid = ::fork();
    if (pid == 0) {
      std::freopen((dir_ / "out.txt").c_str(), "w", stdout);
      std::freopen((dir_ / "err.txt").c_str(), "w", stderr);
      std::vector<char*> argv{const_cast<char*>(SB_SWITCHBOARD_BINARY)};
      for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
      argv.push_back(nullptr);
      std::vector<char*> envp;
      for (const auto& e : env) envp.push_back(const_cast<char*>(e.c_str()));
      envp.push_back(nullptr);
      ::execve(SB_SWITCHBOARD_BINARY, argv.data(), envp.data());
      ::_exit(127);
    }
    return pid;
  }

  int WaitExit(pid_t pid) {
    int status = 0;
    ::waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

  std::string Read(const std::string& name) {
    std::ifstream in(dir_ / name);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }

  std::filesystem::path dir_;
};

TEST_F(ServeProcessTest, ServesThenStopsGracefullyOnSigterm) {
  const std::vector<std::string> env = {
      "SWITCHBOARD_DATABASE_URL=sqlite:" + (dir_ / "sb.db").string(),
      "SWITCHBOARD_SERVER_LISTEN=127.0.0.1:0", "SWITCHBOARD_SERVER_SHUTDOWN_GRACE_MS=2000",
      "SWITCHBOARD_VAULT_KEY_FILE=" + (dir_ / "master.key").string(),
      "SWITCHBOARD_AUDIT_KEY_FILE=" + (dir_ / "audit.key").string()};
  ASSERT_EQ(WaitExit(Spawn({"migrate", "up"}, env)), 0) << Read("err.txt");
  pid_t server = Spawn({"serve"}, env);
  int port = 0;
  const std::regex serving("serving on http://127\\.0\\.0\\.1:([0-9]+)");
  for (int i = 0; i < 200 && port == 0; ++i) {
    std::smatch m;
    std::string out = Read("out.txt");
    if (std::regex_search(out, m, serving))
      port = std::stoi(m[1]);
    else
      std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  ASSERT_NE(port, 0) << Read("err.txt");
  testing::TestHttpClient client(static_cast<uint16_t>(port));  // a keep-alive connection
  EXPECT_EQ(client.Send("GET", "/healthz").status, 200);
  EXPECT_EQ(client.Send("GET", "/readyz").status, 200);

  const auto start = std::chrono::steady_clock::now();
  ::kill(server, SIGTERM);
  EXPECT_EQ(WaitExit(server), 0);
  // The idle keep-alive connection did not hold the shutdown up for the whole grace period.
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(1900));
  const std::string log = Read("err.txt");
  EXPECT_NE(log.find("\"event\":\"server.stopping\""), std::string::npos) << log;
  EXPECT_NE(log.find("\"signal\":\"SIGTERM\""), std::string::npos);
  EXPECT_NE(log.find("\"event\":\"server.stopped\""), std::string::npos);
  // Access log lines name the route pattern.
  EXPECT_NE(log.find("\"route\":\"/readyz\""), std::string::npos);
}

TEST_F(ServeProcessTest, BadConfigurationExitsWithTheKeyNamed) {
  pid_t p = Spawn({"serve"}, {"SWITCHBOARD_SERVER_LISTEN=localhost"});
  EXPECT_EQ(WaitExit(p), 2);
  EXPECT_NE(Read("err.txt").find("server.listen"), std::string::npos);
}

}  // namespace
}  // namespace sb::app
