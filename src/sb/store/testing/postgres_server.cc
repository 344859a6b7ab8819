#include "sb/store/testing/postgres_server.h"

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>
#include <vector>

#include <arpa/inet.h>
#include <fcntl.h>
#include <grp.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

namespace sb::store::testing {
namespace {

namespace fs = std::filesystem;

struct RunAs {
  bool drop = false;  // true when root: switch to the postgres user
  uid_t uid = 0;
  gid_t gid = 0;
};

RunAs PostgresUser() {
  RunAs as;
  if (geteuid() != 0) return as;
  if (const passwd* pw = getpwnam("postgres"); pw != nullptr) {
    as = {true, pw->pw_uid, pw->pw_gid};
  }
  return as;
}

// fork + exec with stdout/stderr appended to `log`. Only async-signal-safe calls in the child.
pid_t Spawn(const std::vector<std::string>& args, const RunAs& as, const std::string& log,
            bool die_with_parent) {
  std::vector<char*> argv;
  for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  const pid_t parent = getpid();
  pid_t pid = fork();
  if (pid != 0) return pid;
  int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  if (fd >= 0) {
    dup2(fd, STDOUT_FILENO);
    dup2(fd, STDERR_FILENO);
    close(fd);
  }
  if (as.drop && (setgroups(0, nullptr) != 0 || setgid(as.gid) != 0 || setuid(as.uid) != 0)) {
    _exit(126);
  }
  // After setuid: a credential change clears the parent-death signal.
  if (die_with_parent && (prctl(PR_SET_PDEATHSIG, SIGQUIT) != 0 || getppid() != parent)) {
    _exit(125);
  }
  execv(argv[0], argv.data());
  _exit(127);
}

int WaitExit(pid_t pid) {
  int status = 0;
  if (waitpid(pid, &status, 0) != pid) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

int Run(const std::vector<std::string>& args, const RunAs& as, const std::string& log) {
  pid_t pid = Spawn(args, as, log, false);
  return pid < 0 ? -1 : WaitExit(pid);
}

// Binds port 0 and releases it; the small race with other processes is covered by retries.
int PickFreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return 0;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  int port = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  close(fd);
  return port;
}

std::string LogTail(const fs::path& log) {
  std::ifstream in(log);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string text = ss.str();
  return text.size() > 2000 ? text.substr(text.size() - 2000) : text;
}

Status Chown(const fs::path& path, const RunAs& as) {
  if (as.drop && chown(path.c_str(), as.uid, as.gid) != 0) {
    return UnavailableError("chown " + path.string() + " failed");
  }
  return OkStatus();
}

}  // namespace

Result<std::unique_ptr<PostgresServer>> PostgresServer::Start(
    const PostgresServerOptions& options) {
  if (!fs::exists(fs::path(options.bin_dir) / "postgres")) {
    return UnavailableError("postgres binaries not found in " + options.bin_dir);
  }
  std::string tmpl = (fs::temp_directory_path() / "sb-pgtest-XXXXXX").string();
  if (mkdtemp(tmpl.data()) == nullptr) return UnavailableError("mkdtemp failed");
  std::unique_ptr<PostgresServer> server(new PostgresServer(options, tmpl));
  SB_RETURN_IF_ERROR(Chown(server->dir_, PostgresUser()));
  SB_RETURN_IF_ERROR(server->InitDb());
  Status launched;
  for (int attempt = 0; attempt < 5; ++attempt) {
    launched = server->Launch();
    if (launched.ok()) launched = server->WaitReady();
    if (launched.ok()) break;
    server->Stop();
  }
  SB_RETURN_IF_ERROR(launched);
  SB_RETURN_IF_ERROR(server->CreateRoles());
  return server;
}

PostgresServer::~PostgresServer() {
  Stop();
  std::error_code ec;
  fs::remove_all(dir_, ec);
}

std::string PostgresServer::Url(const std::string& role) const {
  return "postgresql://" + role + "@127.0.0.1:" + std::to_string(port_) + "/" + options_.database;
}

Status PostgresServer::InitDb() {
  const std::string log = (dir_ / "initdb.log").string();
  int rc = Run({options_.bin_dir + "/initdb", "-D", (dir_ / "data").string(), "-U", "postgres",
                "--auth=trust", "--no-sync", "--encoding=UTF8", "--locale=C"},
               PostgresUser(), log);
  if (rc != 0) return UnavailableError("initdb failed:\n" + LogTail(log));
  return OkStatus();
}

Status PostgresServer::Launch() {
  port_ = PickFreePort();
  if (port_ == 0) return UnavailableError("no free port");
  const fs::path sock = dir_ / "sock";
  fs::create_directories(sock);
  SB_RETURN_IF_ERROR(Chown(sock, PostgresUser()));
  const std::string log = (dir_ / "server.log").string();
  pid_ = Spawn({options_.bin_dir + "/postgres", "-D", (dir_ / "data").string(), "-p",
                std::to_string(port_), "-k", sock.string(), "-c", "listen_addresses=127.0.0.1",
                "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
                "-c", "max_connections=64", "-c", "shared_buffers=16MB"},
               PostgresUser(), log, /*die_with_parent=*/true);
  if (pid_ < 0) return UnavailableError("fork failed");
  return OkStatus();
}

Status PostgresServer::WaitReady() {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  const std::string log = (dir_ / "ready.log").string();
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return UnavailableError("postgres exited during startup:\n" + LogTail(dir_ / "server.log"));
    }
    if (Run({options_.bin_dir + "/pg_isready", "-q", "-h", "127.0.0.1", "-p", std::to_string(port_),
             "-U", "postgres"},
            RunAs{}, log) == 0) {
      return OkStatus();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return UnavailableError("postgres did not become ready:\n" + LogTail(dir_ / "server.log"));
}

Status PostgresServer::CreateRoles() {
  const std::string log = (dir_ / "setup.log").string();
  int rc = Run({options_.bin_dir + "/psql",
                "-X",
                "-q",
                "-v",
                "ON_ERROR_STOP=1",
                "-h",
                "127.0.0.1",
                "-p",
                std::to_string(port_),
                "-U",
                "postgres",
                "-d",
                "postgres",
                "-c",
                "CREATE ROLE sb_owner LOGIN NOSUPERUSER NOBYPASSRLS",
                "-c",
                "CREATE ROLE sb_app LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEROLE NOCREATEDB",
                "-c",
                "CREATE ROLE sb_maint LOGIN NOSUPERUSER BYPASSRLS NOCREATEROLE NOCREATEDB",
                "-c",
                "GRANT sb_app TO sb_maint",
                "-c",
                "CREATE DATABASE " + options_.database + " OWNER sb_owner"},
               RunAs{}, log);
  if (rc != 0) return UnavailableError("creating roles failed:\n" + LogTail(log));
  return OkStatus();
}

void PostgresServer::Stop() {
  if (pid_ <= 0) return;
  kill(pid_, SIGINT);  // fast shutdown: disconnects clients, no checkpoint wait on fsync=off
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  int status = 0;
  while (waitpid(pid_, &status, WNOHANG) == 0) {
    if (std::chrono::steady_clock::now() > deadline) {
      kill(pid_, SIGKILL);
      waitpid(pid_, &status, 0);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  pid_ = -1;
}

}  // namespace sb::store::testing
