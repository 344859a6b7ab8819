#include "sb/webhooks/testing/standard_webhooks.h"

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sb/base/json.h"

namespace sb::webhooks::testing {
namespace {

namespace fs = std::filesystem;

// The first executable `name` on PATH.
std::optional<fs::path> FindOnPath(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path == nullptr ? "" : path);
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    const fs::path candidate = fs::path(dir.empty() ? "." : dir) / name;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return std::nullopt;
}

// Runs `node script` with `input_file` on stdin (a file, so nothing can deadlock on pipes);
// stderr goes to the test's own stderr.
LibraryVerdicts RunNode(const fs::path& node, const fs::path& script, const fs::path& input_file) {
  LibraryVerdicts result;
  int out[2];
  if (::pipe(out) != 0) return result;
  const pid_t pid = ::fork();
  if (pid == 0) {
    const int in = ::open(input_file.c_str(), O_RDONLY);
    if (in < 0 || ::dup2(in, STDIN_FILENO) < 0 || ::dup2(out[1], STDOUT_FILENO) < 0) _exit(126);
    ::close(out[0]);
    ::execl(node.c_str(), node.c_str(), script.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  ::close(out[1]);
  std::string text;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(out[0], buf, sizeof buf)) > 0 || (n < 0 && errno == EINTR)) {
    if (n > 0) text.append(buf, static_cast<size_t>(n));
  }
  ::close(out[0]);
  int status = 0;
  if (pid > 0 && ::waitpid(pid, &status, 0) == pid && WIFEXITED(status)) {
    result.exit_code = WEXITSTATUS(status);
  }
  std::stringstream lines(text);
  for (std::string line; std::getline(lines, line);) result.lines.push_back(line);
  return result;
}

Json ItemsJson(const std::vector<ReceivedDelivery>& deliveries, std::optional<int64_t> now) {
  Json items = Json::array();
  for (const ReceivedDelivery& d : deliveries) {
    Json item = {{"secret", d.secret},
                 {"headers",
                  {{"webhook-id", d.id},
                   {"webhook-timestamp", d.timestamp},
                   {"webhook-signature", d.signature}}},
                 {"body", d.body}};
    if (now) item["now"] = *now;
    items.push_back(std::move(item));
  }
  return items;
}

}  // namespace

Result<LibraryVerdicts> VerifyWithStandardWebhooks(const std::vector<ReceivedDelivery>& deliveries,
                                                   std::optional<int64_t> now_seconds) {
  const fs::path interop(SB_INTEROP_DIR);
  const std::optional<fs::path> node = FindOnPath("node");
  if (!node) {
    return FailedPreconditionError(
        "verifying with standardwebhooks needs Node.js on PATH: run `make test` "
        "(scripts/install-deps.sh installs nodejs and npm)");
  }
  if (!fs::exists(interop / "node_modules" / "standardwebhooks" / "package.json")) {
    return FailedPreconditionError("the npm package standardwebhooks is missing from " +
                                   interop.string() +
                                   "/node_modules: run `npm ci` there (`make test` does)");
  }
  const fs::path dir =
      fs::temp_directory_path() / ("sb_standard_webhooks_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const fs::path input = dir / "deliveries.json";
  std::ofstream(input, std::ios::binary) << ItemsJson(deliveries, now_seconds).dump();
  LibraryVerdicts verdicts = RunNode(*node, interop / "webhooks-verify.mjs", input);
  std::error_code ignored;
  fs::remove_all(dir, ignored);
  return verdicts;
}

}  // namespace sb::webhooks::testing
