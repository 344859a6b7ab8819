// SandboxProcess: the real `switchboard-sandbox` binary (Google and Microsoft emulators, see
// sandbox/README.md) as a child process of a test, with a client for its control API.
//
// Start runs `switchboard-sandbox --address 127.0.0.1 --google-port 0 --microsoft-port 0
// --keyed-port 0 --state-dir <fresh temp dir> --auto-consent [extra args]`, reads the JSON line
// it prints once every origin listens and returns. The sandbox's stderr goes to a file in the temp
// dir (stderr_path(), Stderr()) for a test to print on failure. The destructor sends SIGTERM,
// SIGKILL after stop_timeout, reaps the child and removes the temp dir. The child also gets
// SIGKILL when the thread that called Start exits (PR_SET_PDEATHSIG), so a crashed test leaves
// no sandbox behind: start it from a thread that outlives the SandboxProcess.
//
// The binary path is compiled in (SB_SANDBOX_BINARY, set by the sb_app_testing_sandbox target);
// SandboxOptions::binary overrides it.
//
// Thread safety: not thread-safe; the control helpers may be called from one thread at a time.
#pragma once

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <sys/types.h>

#include "sb/base/json.h"
#include "sb/base/status.h"
#include "sb/net/http_client.h"

namespace sb::app::testing {

// kKeyed: the stand-in for every credential provider (API key, basic, fields), each under
// /<provider id>/.
enum class SandboxOrigin { kGoogle, kMicrosoft, kKeyed };

struct SandboxOptions {
  std::vector<std::string> extra_args;              // appended to the command line, e.g. {"--demo"}
  std::string binary;                               // empty: the switchboard-sandbox of this build
  std::chrono::milliseconds start_timeout{20'000};  // until the JSON line is printed
  std::chrono::milliseconds stop_timeout{5'000};    // SIGTERM to SIGKILL
};

class SandboxProcess {
 public:
  // Errors: Unavailable when the process cannot be started or exits (or closes stdout) before
  // printing its JSON line (the message ends with its stderr), DeadlineExceeded after
  // start_timeout, Internal for an unexpected JSON line.
  static Result<std::unique_ptr<SandboxProcess>> Start(SandboxOptions options = {});
  ~SandboxProcess();
  SandboxProcess(const SandboxProcess&) = delete;
  SandboxProcess& operator=(const SandboxProcess&) = delete;

  const std::string& google_url() const { return google_url_; }        // http://127.0.0.1:N
  const std::string& microsoft_url() const { return microsoft_url_; }  // https://127.0.0.1:N
  const std::string& keyed_url() const { return keyed_url_; }          // http://127.0.0.1:N
  const std::string& ca_file() const { return ca_file_; }  // PEM of the sandbox's local CA
  const std::string& url(SandboxOrigin origin) const;
  pid_t pid() const { return pid_; }
  const std::filesystem::path& state_dir() const { return dir_; }
  std::filesystem::path stderr_path() const { return dir_ / "stderr.log"; }
  // What the sandbox wrote to stderr so far.
  std::string Stderr() const;

  // Sends `method` `path` (e.g. "/_sandbox/accounts") to the origin, with `body` as JSON
  // unless it is null, and returns the response body as JSON (an empty object for an empty
  // body). Errors: a non-2xx status as a Status whose code follows the HTTP status (400
  // InvalidArgument, 404 NotFound, 409 AlreadyExists, else Unknown) and whose message holds
  // the response body; transport errors as HttpClient::Send; Internal for a non-JSON body.
  Result<Json> Control(SandboxOrigin origin, std::string_view method, std::string_view path,
                       const Json& body = nullptr);

  // PUT /_sandbox/settings; returns all settings after the change.
  Result<Json> PutSettings(SandboxOrigin origin, const Json& settings);
  // POST /_sandbox/clients (empty `redirect_uris`: any redirect URI is accepted).
  Result<Json> RegisterClient(SandboxOrigin origin, std::string_view client_id,
                              std::string_view client_secret,
                              const std::vector<std::string>& redirect_uris);
  // POST /_sandbox/accounts, e.g. {"email": "a@example.com", "name": "A"}; returns the account.
  Result<Json> CreateAccount(SandboxOrigin origin, const Json& account);
  // GET /_sandbox/accounts; returns the array of accounts.
  Result<Json> Accounts(SandboxOrigin origin);
  // POST /_sandbox/actions/{name}.
  Result<Json> Action(SandboxOrigin origin, std::string_view name,
                      const Json& body = Json::object());
  // GET /_sandbox/requests?path=<path_prefix>; returns the array of logged requests, oldest
  // first (control requests are not logged).
  Result<Json> Requests(SandboxOrigin origin, std::string_view path_prefix = "");

 private:
  SandboxProcess() = default;
  Status Launch(const SandboxOptions& options);
  Status ReadDescription(std::chrono::milliseconds timeout);

  std::chrono::milliseconds stop_timeout_{};
  std::filesystem::path dir_;
  pid_t pid_ = -1;
  int stdout_fd_ = -1;  // read end of the child's stdout, open until the child is reaped
  std::string google_url_;
  std::string microsoft_url_;
  std::string keyed_url_;
  std::string ca_file_;
  std::unique_ptr<net::HttpClient> http_;
};

}  // namespace sb::app::testing
