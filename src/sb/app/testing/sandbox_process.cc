#include "sb/app/testing/sandbox_process.h"

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>
#include <utility>

#include <fcntl.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sb/base/encoding.h"
#include "sb/net/curl_http_client.h"

#ifndef SB_SANDBOX_BINARY
#error "SB_SANDBOX_BINARY must name the switchboard-sandbox binary"
#endif

namespace sb::app::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

std::string OriginName(SandboxOrigin origin) {
  return origin == SandboxOrigin::kGoogle ? "google" : "microsoft";
}

StatusCode CodeForHttpStatus(int status) {
  switch (status) {
    case 400:
      return StatusCode::kInvalidArgument;
    case 404:
      return StatusCode::kNotFound;
    case 409:
      return StatusCode::kAlreadyExists;
    default:
      return StatusCode::kUnknown;
  }
}

// The array `key` of a control response.
Result<Json> ArrayField(const Json& json, const char* key) {
  const auto it = json.find(key);
  if (it == json.end() || !it->is_array())
    return InternalError(std::string("no ") + key + " array");
  return *it;
}

std::string StringField(const Json& json, const char* key) {
  const auto it = json.find(key);
  return it != json.end() && it->is_string() ? it->get<std::string>() : std::string();
}

}  // namespace

Result<std::unique_ptr<SandboxProcess>> SandboxProcess::Start(SandboxOptions options) {
  std::unique_ptr<SandboxProcess> process(new SandboxProcess());
  process->stop_timeout_ = options.stop_timeout;
  std::string dir = (std::filesystem::temp_directory_path() / "sb-sandbox-XXXXXX").string();
  if (::mkdtemp(dir.data()) == nullptr) {
    return UnavailableError("mkdtemp " + dir + ": " + std::strerror(errno));
  }
  process->dir_ = dir;
  SB_RETURN_IF_ERROR(process->Launch(options));
  SB_RETURN_IF_ERROR(process->ReadDescription(options.start_timeout));
  process->http_ = std::make_unique<net::CurlHttpClient>(
      net::CurlHttpClientOptions{.ca_file = process->ca_file_});
  return process;
}

Status SandboxProcess::Launch(const SandboxOptions& options) {
  const std::string binary = options.binary.empty() ? SB_SANDBOX_BINARY : options.binary;
  std::vector<std::string> args = {binary, "--address",        "127.0.0.1",   "--google-port",
                                   "0",    "--microsoft-port", "0",           "--keyed-port",
                                   "0",    "--state-dir",      dir_.string(), "--auto-consent"};
  args.insert(args.end(), options.extra_args.begin(), options.extra_args.end());
  std::vector<char*> argv;
  for (std::string& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);

  int out[2];
  if (::pipe2(out, O_CLOEXEC) != 0) {
    return UnavailableError(std::string("pipe: ") + std::strerror(errno));
  }
  const int err = ::open(stderr_path().c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  const pid_t parent = ::getpid();
  pid_ = err < 0 ? -1 : ::fork();
  if (pid_ == 0) {  // the child: only async-signal-safe calls until exec
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);  // the parent is gone already
    const int null = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (null >= 0 && ::dup2(null, 0) == 0 && ::dup2(out[1], 1) == 1 && ::dup2(err, 2) == 2) {
      ::execv(argv[0], argv.data());
      constexpr char kMessage[] = "SandboxProcess: cannot execute the sandbox binary\n";
      [[maybe_unused]] const ssize_t ignored = ::write(2, kMessage, sizeof(kMessage) - 1);
    }
    ::_exit(127);
  }
  const int fork_errno = errno;
  ::close(out[1]);
  stdout_fd_ = out[0];
  if (err < 0) return UnavailableError("cannot create " + stderr_path().string());
  ::close(err);
  if (pid_ < 0) return UnavailableError(std::string("fork: ") + std::strerror(fork_errno));
  return OkStatus();
}

Status SandboxProcess::ReadDescription(milliseconds timeout) {
  const auto deadline = steady_clock::now() + timeout;
  std::string output;
  while (output.find('\n') == std::string::npos) {
    const auto left = std::chrono::duration_cast<milliseconds>(deadline - steady_clock::now());
    if (left <= milliseconds::zero()) {
      return DeadlineExceededError("switchboard-sandbox did not start within " +
                                   std::to_string(timeout.count()) + " ms; stderr:\n" + Stderr());
    }
    pollfd ready{.fd = stdout_fd_, .events = POLLIN, .revents = 0};
    if (::poll(&ready, 1, static_cast<int>(left.count())) <= 0) continue;  // timeout or EINTR
    char buffer[1024];
    const ssize_t n = ::read(stdout_fd_, buffer, sizeof(buffer));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      return UnavailableError("switchboard-sandbox exited before it listened; stderr:\n" +
                              Stderr());
    }
    output.append(buffer, static_cast<size_t>(n));
  }
  output.resize(output.find('\n'));
  const Json description = Json::parse(output, nullptr, /*allow_exceptions=*/false);
  google_url_ = StringField(description, "google_url");
  microsoft_url_ = StringField(description, "microsoft_url");
  keyed_url_ = StringField(description, "keyed_url");
  ca_file_ = StringField(description, "ca_file");
  if (google_url_.empty() || microsoft_url_.empty() || keyed_url_.empty() || ca_file_.empty()) {
    return InternalError("unexpected first line from switchboard-sandbox: " + output);
  }
  return OkStatus();
}

SandboxProcess::~SandboxProcess() {
  if (pid_ > 0) {
    ::kill(pid_, SIGTERM);
    const auto deadline = steady_clock::now() + stop_timeout_;
    int status = 0;
    pid_t reaped = 0;
    while ((reaped = ::waitpid(pid_, &status, WNOHANG)) == 0 && steady_clock::now() < deadline) {
      std::this_thread::sleep_for(milliseconds(10));
    }
    if (reaped == 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, &status, 0);
    }
  }
  if (stdout_fd_ >= 0) ::close(stdout_fd_);
  std::error_code ignored;
  if (!dir_.empty()) std::filesystem::remove_all(dir_, ignored);
}

const std::string& SandboxProcess::url(SandboxOrigin origin) const {
  switch (origin) {
    case SandboxOrigin::kGoogle:
      return google_url_;
    case SandboxOrigin::kMicrosoft:
      return microsoft_url_;
    case SandboxOrigin::kKeyed:
      return keyed_url_;
  }
  return google_url_;
}

std::string SandboxProcess::Stderr() const {
  std::ifstream in(stderr_path());
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

Result<Json> SandboxProcess::Control(SandboxOrigin origin, std::string_view method,
                                     std::string_view path, const Json& body) {
  net::HttpRequest request{.method = std::string(method), .url = url(origin) + std::string(path)};
  if (!body.is_null()) {
    request.headers = {{"Content-Type", "application/json"}};
    request.body = body.dump();
  }
  SB_ASSIGN_OR_RETURN(net::HttpResponse response, http_->Send(request));
  const std::string what =
      request.method + " " + std::string(path) + " (" + OriginName(origin) + ")";
  if (response.status < 200 || response.status > 299) {
    return Status(CodeForHttpStatus(response.status),
                  what + ": HTTP " + std::to_string(response.status) + " " + response.body);
  }
  if (response.body.empty()) return Json::object();
  Json json = Json::parse(response.body, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded()) return InternalError(what + ": the response is not JSON");
  return json;
}

Result<Json> SandboxProcess::PutSettings(SandboxOrigin origin, const Json& settings) {
  return Control(origin, "PUT", "/_sandbox/settings", settings);
}

Result<Json> SandboxProcess::RegisterClient(SandboxOrigin origin, std::string_view client_id,
                                            std::string_view client_secret,
                                            const std::vector<std::string>& redirect_uris) {
  return Control(origin, "POST", "/_sandbox/clients",
                 {{"client_id", client_id},
                  {"client_secret", client_secret},
                  {"redirect_uris", redirect_uris}});
}

Result<Json> SandboxProcess::CreateAccount(SandboxOrigin origin, const Json& account) {
  return Control(origin, "POST", "/_sandbox/accounts", account);
}

Result<Json> SandboxProcess::Accounts(SandboxOrigin origin) {
  SB_ASSIGN_OR_RETURN(Json body, Control(origin, "GET", "/_sandbox/accounts"));
  return ArrayField(body, "accounts");
}

Result<Json> SandboxProcess::Action(SandboxOrigin origin, std::string_view name, const Json& body) {
  return Control(origin, "POST", "/_sandbox/actions/" + std::string(name), body);
}

Result<Json> SandboxProcess::Requests(SandboxOrigin origin, std::string_view path_prefix) {
  SB_ASSIGN_OR_RETURN(
      Json body, Control(origin, "GET", "/_sandbox/requests?path=" + PercentEncode(path_prefix)));
  return ArrayField(body, "requests");
}

}  // namespace sb::app::testing
