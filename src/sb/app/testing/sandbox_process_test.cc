// Runs the real switchboard-sandbox through SandboxProcess: both origins answer the control
// API (the Microsoft one over HTTPS with the sandbox's CA), and the process and its temp dir
// are gone after destruction.
#include "sb/app/testing/sandbox_process.h"

#include <cerrno>
#include <filesystem>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>

namespace sb::app::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr SandboxOrigin kBothOrigins[] = {SandboxOrigin::kGoogle, SandboxOrigin::kMicrosoft};

std::unique_ptr<SandboxProcess> StartOrDie(SandboxOptions options = {}) {
  auto sandbox = SandboxProcess::Start(std::move(options));
  EXPECT_TRUE(sandbox.ok()) << sandbox.status().ToString();
  return sandbox.ok() ? std::move(*sandbox) : nullptr;
}

TEST(SandboxProcessTest, ServesBothOriginsAndIsGoneAfterDestruction) {
  auto sandbox = StartOrDie();
  ASSERT_NE(sandbox, nullptr);
  EXPECT_THAT(sandbox->google_url(), StartsWith("http://127.0.0.1:"));
  EXPECT_THAT(sandbox->microsoft_url(), StartsWith("https://127.0.0.1:"));
  EXPECT_TRUE(std::filesystem::exists(sandbox->ca_file()));
  EXPECT_EQ(std::filesystem::path(sandbox->ca_file()).parent_path(), sandbox->state_dir());

  for (SandboxOrigin origin : kBothOrigins) {
    SCOPED_TRACE(sandbox->url(origin));
    auto accounts = sandbox->Accounts(origin);
    ASSERT_TRUE(accounts.ok()) << accounts.status().ToString() << "\n" << sandbox->Stderr();
    EXPECT_TRUE(accounts->empty());
  }
  const pid_t pid = sandbox->pid();
  const std::filesystem::path dir = sandbox->state_dir();
  ASSERT_EQ(::kill(pid, 0), 0);
  sandbox.reset();
  EXPECT_EQ(::kill(pid, 0), -1);
  EXPECT_EQ(errno, ESRCH);
  EXPECT_FALSE(std::filesystem::exists(dir));
}

TEST(SandboxProcessTest, DrivesTheControlApi) {
  auto sandbox = StartOrDie();
  ASSERT_NE(sandbox, nullptr);
  for (SandboxOrigin origin : kBothOrigins) {
    SCOPED_TRACE(sandbox->url(origin));
    auto client =
        sandbox->RegisterClient(origin, "client-1", "secret-1", {"http://127.0.0.1:9/callback"});
    ASSERT_TRUE(client.ok()) << client.status().ToString() << "\n" << sandbox->Stderr();
    EXPECT_EQ(client->value("client_id", ""), "client-1");

    auto account = sandbox->CreateAccount(origin, {{"email", "ada@example.com"}, {"name", "Ada"}});
    ASSERT_TRUE(account.ok()) << account.status().ToString();
    auto accounts = sandbox->Accounts(origin);
    ASSERT_TRUE(accounts.ok()) << accounts.status().ToString();
    ASSERT_EQ(accounts->size(), 1u);
    EXPECT_EQ((*accounts)[0].value("email", ""), "ada@example.com");
    EXPECT_EQ(sandbox->CreateAccount(origin, {{"email", "ada@example.com"}}).status().code(),
              StatusCode::kAlreadyExists);

    auto settings = sandbox->PutSettings(origin, {{"code_ttl_seconds", 5}});
    ASSERT_TRUE(settings.ok()) << settings.status().ToString();
    EXPECT_EQ(settings->value("code_ttl_seconds", 0), 5);
    auto refused = sandbox->PutSettings(origin, {{"no_such_setting", true}});
    EXPECT_EQ(refused.status().code(), StatusCode::kInvalidArgument);

    auto expired = sandbox->Action(origin, "expire-access-tokens");
    ASSERT_TRUE(expired.ok()) << expired.status().ToString();
    EXPECT_TRUE(expired->contains("expired"));
    EXPECT_EQ(sandbox->Action(origin, "no-such-action").status().code(), StatusCode::kNotFound);
  }
}

TEST(SandboxProcessTest, ReadsTheRequestLogByPathPrefix) {
  auto sandbox = StartOrDie();
  ASSERT_NE(sandbox, nullptr);
  ASSERT_TRUE(sandbox->Control(SandboxOrigin::kGoogle, "GET", "/oauth2/v3/certs").ok());
  ASSERT_TRUE(
      sandbox->Control(SandboxOrigin::kGoogle, "GET", "/.well-known/openid-configuration").ok());
  auto requests = sandbox->Requests(SandboxOrigin::kGoogle, "/oauth2/");
  ASSERT_TRUE(requests.ok()) << requests.status().ToString();
  ASSERT_EQ(requests->size(), 1u);  // control requests and other paths are not listed
  EXPECT_EQ((*requests)[0].value("path", ""), "/oauth2/v3/certs");
  EXPECT_EQ((*requests)[0].value("status", 0), 200);
  auto all = sandbox->Requests(SandboxOrigin::kGoogle);
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), 2u);
  EXPECT_THAT(sandbox->Requests(SandboxOrigin::kMicrosoft).value(), ::testing::IsEmpty());
}

TEST(SandboxProcessTest, PassesExtraArguments) {
  auto sandbox = StartOrDie({.extra_args = {"--demo", "--demo-events", "1"}});
  ASSERT_NE(sandbox, nullptr);
  auto accounts = sandbox->Accounts(SandboxOrigin::kMicrosoft);
  ASSERT_TRUE(accounts.ok()) << accounts.status().ToString();
  ASSERT_EQ(accounts->size(), 1u);
  EXPECT_EQ((*accounts)[0].value("email", ""), "demo@contoso.example");
}

TEST(SandboxProcessTest, ReportsAFailedStartWithItsStderr) {
  auto sandbox = SandboxProcess::Start({.extra_args = {"--no-such-flag"}});
  EXPECT_EQ(sandbox.status().code(), StatusCode::kUnavailable);
  EXPECT_THAT(sandbox.status().message(), HasSubstr("usage: switchboard-sandbox"));
}

}  // namespace
}  // namespace sb::app::testing
