// WH-01, WH-03, WH-06: deliveries signed by signature.h are accepted by the real
// `standardwebhooks` npm library (tests/interop/webhooks-verify.mjs), the way a host app
// verifies them: one secret, two secrets during a rotation (a receiver holding either one),
// a secret without its prefix, unicode and escaped JSON bodies, a large body. A tampered body,
// a stale timestamp and a wrong secret must be rejected, so that the test can fail.
//
// Needs Node.js on PATH and tests/interop/node_modules (`make test` installs both through
// scripts/install-deps.sh). Without them this test fails with a message saying so: it never
// skips, or a broken setup would pass silently.
#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sb/base/json.h"
#include "sb/base/random.h"
#include "sb/webhooks/signature.h"

namespace sb::webhooks {
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

struct RunResult {
  int exit_code = -1;
  std::vector<std::string> lines;  // stdout, one verdict per item
};

// Runs `node script` with `input` on stdin (from a file, so nothing can deadlock on pipes);
// stderr goes to the test's own stderr.
RunResult RunNode(const fs::path& node, const fs::path& script, const std::string& input,
                  const fs::path& dir) {
  const fs::path input_file = dir / "deliveries.json";
  std::ofstream(input_file, std::ios::binary) << input;
  int out[2];
  if (::pipe(out) != 0) return {};
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
  RunResult result;
  if (pid > 0 && ::waitpid(pid, &status, 0) == pid && WIFEXITED(status)) {
    result.exit_code = WEXITSTATUS(status);
  }
  std::stringstream lines(text);
  for (std::string line; std::getline(lines, line);) result.lines.push_back(line);
  return result;
}

class WebhooksInteropTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const fs::path interop(SB_INTEROP_DIR);
    script_ = interop / "webhooks-verify.mjs";
    std::optional<fs::path> node = FindOnPath("node");
    ASSERT_TRUE(node.has_value())
        << "webhooks_interop needs Node.js on PATH: run `make test` (scripts/install-deps.sh "
           "installs nodejs and npm)";
    node_ = *node;
    ASSERT_TRUE(fs::exists(interop / "node_modules" / "standardwebhooks" / "package.json"))
        << "webhooks_interop needs the npm package standardwebhooks in " << interop
        << "/node_modules: run `npm ci` in tests/interop (`make test` does it when "
           "node_modules is missing)";
    dir_ = fs::temp_directory_path() / ("sb_webhooks_interop_" + std::to_string(::getpid()));
    fs::create_directories(dir_);
    now_ = std::chrono::floor<std::chrono::seconds>(SystemClock().Now().time_since_epoch()).count();
  }

  void TearDown() override {
    std::error_code ignored;
    if (!dir_.empty()) fs::remove_all(dir_, ignored);
  }

  // One delivery as the hub sends it: signed with `signing` (current first), to be verified
  // by a receiver holding `receiver_secret`.
  Json Delivery(const std::vector<std::string>& signing, const std::string& receiver_secret,
                const std::string& body, int64_t timestamp) {
    const std::string id = NewMessageId(random_);
    auto header = SignatureHeader(signing, id, timestamp, body);
    EXPECT_TRUE(header.ok()) << header.status().ToString();
    return Json{{"secret", receiver_secret},
                {"headers",
                 {{std::string(kWebhookIdHeader), id},
                  {std::string(kWebhookTimestampHeader), std::to_string(timestamp)},
                  {std::string(kWebhookSignatureHeader), header.ok() ? *header : ""}}},
                {"body", body}};
  }

  RunResult Verify(const Json& items) { return RunNode(node_, script_, items.dump(), dir_); }

  SystemRandom random_;
  fs::path node_;
  fs::path script_;
  fs::path dir_;
  int64_t now_ = 0;
};

TEST_F(WebhooksInteropTest, TheStandardwebhooksLibraryAcceptsOurDeliveries) {
  const std::string current = GenerateSecret(random_);
  const std::string previous = GenerateSecret(random_);
  const std::string unicode =
      R"({"type":"connection.created","timestamp":"2026-03-01T12:00:00Z","data":{"name":)"
      R"("Zoë Ångström 日本語 🎉","note":"naïve café"}})";
  const std::string escaped =
      R"({"type":"connection.updated","data":{"quote":"\"q\" \\ \/","nl":"a\nb","u":"\u2028"}})";
  std::string large = R"({"type":"sync.completed","data":{"items":[)";
  for (int i = 0; i < 500; ++i) large += (i ? "," : "") + std::string(R"({"i":"€)") + "\"}";
  large += "]}}";
  const Json items = Json::array({
      Delivery({current}, current, unicode, now_),
      // Rotation: both signatures in the header; receivers with either secret accept it.
      Delivery({current, previous}, current, unicode, now_),
      Delivery({current, previous}, previous, escaped, now_),
      // The receiver configured with the bare base64 of the secret.
      Delivery({current}, current.substr(kSecretPrefix.size()), escaped, now_),
      // Four minutes old: within the library's five-minute tolerance, so seconds are seconds.
      Delivery({current}, current, large, now_ - 240),
      Delivery({current}, current, "{}", now_ + 60),
  });
  RunResult run = Verify(items);
  EXPECT_EQ(run.exit_code, 0);
  EXPECT_EQ(run.lines, std::vector<std::string>(items.size(), "ok"));
}

TEST_F(WebhooksInteropTest, TheStandardwebhooksLibraryRejectsTamperedDeliveries) {
  const std::string current = GenerateSecret(random_);
  const std::string body = R"({"type":"connection.deleted","data":{"id":"c1","name":"Zoë"}})";
  Json tampered = Delivery({current}, current, body, now_);
  tampered["body"] = R"({"type":"connection.deleted","data":{"id":"c2","name":"Zoë"}})";
  Json stale = Delivery({current}, current, body, now_ - 600);
  Json wrong_secret = Delivery({current}, GenerateSecret(random_), body, now_);
  const Json items =
      Json::array({Delivery({current}, current, body, now_), tampered, stale, wrong_secret});
  RunResult run = Verify(items);
  EXPECT_EQ(run.exit_code, 1);
  ASSERT_EQ(run.lines.size(), 4u);
  EXPECT_EQ(run.lines[0], "ok");
  for (size_t i = 1; i < run.lines.size(); ++i) {
    EXPECT_NE(run.lines[i], "ok") << i;
    EXPECT_NE(run.lines[i].find("WebhookVerificationError"), std::string::npos) << run.lines[i];
  }
  EXPECT_NE(run.lines[1].find("No matching signature"), std::string::npos) << run.lines[1];
  EXPECT_NE(run.lines[2].find("too old"), std::string::npos) << run.lines[2];
  EXPECT_NE(run.lines[3].find("No matching signature"), std::string::npos) << run.lines[3];
}

}  // namespace
}  // namespace sb::webhooks
