#include "sb/caltime/conformance/isolated_runner.h"

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <utility>

#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sb/base/json.h"

namespace sb::caltime::conformance {
namespace {

using Clock = std::chrono::steady_clock;

std::chrono::milliseconds TimeoutFor(const IsolationOptions& options, const RruleCase& c) {
  return options.timeout_for ? options.timeout_for(c) : options.case_timeout;
}

std::string Encode(size_t index, const Outcome& outcome) {
  Json line = {{"i", index},
               {"v", static_cast<int>(outcome.verdict)},
               {"got", outcome.got},
               {"detail", outcome.detail},
               {"us", outcome.elapsed.count()}};
  return line.dump(-1, ' ', false, Json::error_handler_t::replace) + "\n";
}

// Decodes a child's line; nullopt when it is not one (never expected).
std::optional<std::pair<size_t, Outcome>> Decode(std::string_view text) {
  JsonLimits limits;
  limits.max_bytes = 64 << 20;
  limits.max_members = 1'000'000;
  limits.max_values = 2'000'000;
  sb::Result<Json> line = ParseJson(text, limits);
  if (!line.ok()) return std::nullopt;
  try {
    Outcome outcome;
    outcome.verdict = static_cast<Verdict>(line->at("v").get<int>());
    outcome.got = line->at("got").get<std::vector<std::string>>();
    outcome.detail = line->at("detail").get<std::string>();
    outcome.elapsed = std::chrono::microseconds(line->at("us").get<int64_t>());
    return std::make_pair(line->at("i").get<size_t>(), std::move(outcome));
  } catch (const Json::exception&) {
    return std::nullopt;
  }
}

bool WriteAll(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

[[noreturn]] void ChildMain(const std::vector<RruleCase>& cases, size_t first, int fd) {
  for (size_t i = first; i < cases.size(); ++i) {
    const Clock::time_point start = Clock::now();
    Outcome outcome = Evaluate(cases[i]);
    outcome.elapsed = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - start);
    if (!WriteAll(fd, Encode(i, outcome))) break;
  }
  // _exit: no atexit handlers (nor a leak check) in the copy of the parent.
  ::_exit(0);
}

// Reads the child's outcomes into `out` until it ends, dies or overruns a case's time.
// Returns the index of the first case without an outcome and why it has none ("" when the
// child got through all of them).
std::pair<size_t, std::string> Collect(int fd, size_t next, const std::vector<RruleCase>& cases,
                                       const IsolationOptions& options, std::vector<Outcome>* out) {
  std::string buffer;
  Clock::time_point deadline = Clock::now() + TimeoutFor(options, cases[next]);
  char chunk[65536];
  while (next < out->size()) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) return {next, "timeout"};
    pollfd p{fd, POLLIN, 0};
    const int ready = ::poll(&p, 1, static_cast<int>(left.count()));
    if (ready < 0 && errno == EINTR) continue;
    if (ready == 0) return {next, "timeout"};
    const ssize_t n = ::read(fd, chunk, sizeof(chunk));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return {next, "crash"};
    buffer.append(chunk, static_cast<size_t>(n));
    for (size_t nl; (nl = buffer.find('\n')) != std::string::npos; buffer.erase(0, nl + 1)) {
      std::optional<std::pair<size_t, Outcome>> decoded =
          Decode(std::string_view(buffer).substr(0, nl));
      if (!decoded || decoded->first != next) return {next, "garbled answer"};
      (*out)[next++] = std::move(decoded->second);
      if (next < cases.size()) deadline = Clock::now() + TimeoutFor(options, cases[next]);
    }
  }
  return {next, ""};
}

std::string Describe(const std::string& why, int wait_status, std::chrono::milliseconds timeout) {
  if (why == "timeout") {
    return "libical did not return within " + std::to_string(timeout.count()) + " ms (killed)";
  }
  if (WIFSIGNALED(wait_status)) {
    return "libical crashed (signal " + std::to_string(WTERMSIG(wait_status)) + ")";
  }
  return "evaluation ended without an answer (" + why + ")";
}

}  // namespace

sb::Result<std::vector<Outcome>> RunIsolated(const std::vector<RruleCase>& cases,
                                             const IsolationOptions& options) {
  std::vector<Outcome> out(cases.size());
  size_t next = 0;
  while (next < cases.size()) {
    int fds[2];
    if (::pipe(fds) != 0) return sb::InternalError(std::string("pipe: ") + std::strerror(errno));
    const pid_t pid = ::fork();
    if (pid < 0) {
      ::close(fds[0]);
      ::close(fds[1]);
      return sb::InternalError(std::string("fork: ") + std::strerror(errno));
    }
    if (pid == 0) {
      ::close(fds[0]);
      ChildMain(cases, next, fds[1]);
    }
    ::close(fds[1]);
    auto [stopped_at, why] = Collect(fds[0], next, cases, options, &out);
    ::close(fds[0]);
    if (!why.empty()) ::kill(pid, SIGKILL);
    int wait_status = 0;
    while (::waitpid(pid, &wait_status, 0) < 0 && errno == EINTR) {
    }
    next = stopped_at;
    if (!why.empty()) {
      const std::chrono::milliseconds timeout = TimeoutFor(options, cases[next]);
      out[next++] = Outcome{Verdict::kError, {}, Describe(why, wait_status, timeout), timeout};
    }
  }
  return out;
}

}  // namespace sb::caltime::conformance
