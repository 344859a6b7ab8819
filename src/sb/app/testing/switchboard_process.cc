#include "sb/app/testing/switchboard_process.h"

#include <chrono>
#include <cstdio>
#include <fstream>
#include <regex>
#include <sstream>
#include <thread>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

namespace sb::app::testing {

SwitchboardProcesses::SwitchboardProcesses(std::string binary, std::filesystem::path dir,
                                           std::vector<std::string> env)
    : binary_(std::move(binary)), dir_(std::move(dir)), env_(std::move(env)) {}

SwitchboardProcesses::~SwitchboardProcesses() {
  for (const Node& node : nodes_) ::kill(node.pid, SIGTERM);
  for (const Node& node : nodes_) WaitExit(node.pid);
}

pid_t SwitchboardProcesses::Spawn(const std::string& name, const std::vector<std::string>& args) {
  // Everything the child needs is built before fork: after it, only exec-safe calls.
  const std::string out = (dir_ / (name + ".out")).string();
  const std::string err = (dir_ / (name + ".err")).string();
  std::vector<char*> argv{binary_.data()};
  std::vector<std::string> copies = args;
  for (auto& a : copies) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<char*> envp;
  for (auto& e : env_) envp.push_back(e.data());
  envp.push_back(nullptr);
  const pid_t pid = ::fork();
  if (pid == 0) {
    if (!std::freopen(out.c_str(), "w", stdout) || !std::freopen(err.c_str(), "w", stderr)) {
      ::_exit(126);
    }
    ::execve(binary_.c_str(), argv.data(), envp.data());
    ::_exit(127);
  }
  return pid;
}

int SwitchboardProcesses::Run(const std::string& name, const std::vector<std::string>& args) {
  return WaitExit(Spawn(name, args));
}

uint16_t SwitchboardProcesses::Serve(const std::string& name) {
  nodes_.push_back({name, Spawn(name, {"serve"})});
  const std::regex serving("serving on http://127\\.0\\.0\\.1:([0-9]+)");
  for (int i = 0; i < 800; ++i) {
    std::smatch m;
    const std::string out = Read(name + ".out");
    if (std::regex_search(out, m, serving)) return static_cast<uint16_t>(std::stoi(m[1]));
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  return 0;
}

SwitchboardProcesses::TenantKey SwitchboardProcesses::CreateTenant(const std::string& name) {
  if (Run("tenant", {"tenant", "create", "--name", name, "--quiet"}) != 0) return {};
  const std::string tenant = Trim(Read("tenant.out"));
  if (Run("apikey", {"apikey", "create", "--tenant", tenant, "--name", "k", "--scopes",
                     "read,write", "--quiet"}) != 0) {
    return {};
  }
  return {tenant, Trim(Read("apikey.out"))};
}

void SwitchboardProcesses::Kill(const std::string& name) {
  for (auto it = nodes_.begin(); it != nodes_.end(); ++it) {
    if (it->name != name) continue;
    ::kill(it->pid, SIGKILL);
    WaitExit(it->pid);
    nodes_.erase(it);
    return;
  }
}

std::string SwitchboardProcesses::Read(const std::string& file) const {
  std::ifstream in(dir_ / file);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string SwitchboardProcesses::ErrTails(size_t bytes) const {
  std::string out;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir_, ec)) {
    if (entry.path().extension() != ".err") continue;
    std::string text = Read(entry.path().filename().string());
    if (text.size() > bytes) text = text.substr(text.size() - bytes);
    out += entry.path().filename().string() + " (tail):\n" + text + "\n";
  }
  return out;
}

int SwitchboardProcesses::WaitExit(pid_t pid) {
  int status = 0;
  if (::waitpid(pid, &status, 0) != pid) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::string SwitchboardProcesses::Trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

}  // namespace sb::app::testing
