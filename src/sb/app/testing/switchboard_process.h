// The real `switchboard` program as child processes of a test: CLI commands and `serve`
// nodes, each with its stdout and stderr in files of the test's directory, under one
// environment of SWITCHBOARD_* settings. Used by the tests that need processes, not threads:
// two nodes racing on one database, a node killed with SIGKILL mid-job.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <sys/types.h>

namespace sb::app::testing {

class SwitchboardProcesses {
 public:
  // `binary`: the switchboard executable; `dir`: where outputs go (it must exist).
  SwitchboardProcesses(std::string binary, std::filesystem::path dir, std::vector<std::string> env);
  ~SwitchboardProcesses();  // stops every node still running (SIGTERM, then waits)

  SwitchboardProcesses(const SwitchboardProcesses&) = delete;
  SwitchboardProcesses& operator=(const SwitchboardProcesses&) = delete;

  std::vector<std::string>& env() { return env_; }  // for processes started afterwards

  // Starts `switchboard args...`; its output goes to `{name}.out` and `{name}.err`.
  pid_t Spawn(const std::string& name, const std::vector<std::string>& args);
  // Runs a CLI command to its end: its exit status (-1 when it did not exit normally).
  int Run(const std::string& name, const std::vector<std::string>& args);
  // Starts `switchboard serve` as `name` and waits for its "serving on" line: the port it
  // listens on, or 0 (with the reason in `{name}.err`) after 20 s.
  uint16_t Serve(const std::string& name);
  // A tenant named `name` and a read/write API key for it, made with the CLI as an operator
  // would (`tenant create`, `apikey create`); both empty when a command failed (its `.err`
  // file says why).
  struct TenantKey {
    std::string tenant;
    std::string key;
  };
  TenantKey CreateTenant(const std::string& name);
  // Ends a node at once, as a crash or power loss would (SIGKILL), and reaps it.
  void Kill(const std::string& name);

  std::string Read(const std::string& file) const;  // "" when there is none
  // The last `bytes` of every `*.err` file, for a failing test's message.
  std::string ErrTails(size_t bytes) const;

  static int WaitExit(pid_t pid);
  static std::string Trim(std::string s);  // without trailing newlines and blanks

 private:
  struct Node {
    std::string name;
    pid_t pid;
  };
  std::string binary_;
  std::filesystem::path dir_;
  std::vector<std::string> env_;
  std::vector<Node> nodes_;
};

}  // namespace sb::app::testing
