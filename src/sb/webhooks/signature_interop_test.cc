// WH-01, WH-03, WH-06: deliveries signed by signature.h are accepted by the real
// `standardwebhooks` npm library (tests/interop/webhooks-verify.mjs), the way a host app
// verifies them: one secret, two secrets during a rotation (a receiver holding either one),
// a secret without its prefix, unicode and escaped JSON bodies, a large body. A tampered body,
// a stale timestamp and a wrong secret must be rejected, so that the test can fail.
//
// Needs Node.js on PATH and tests/interop/node_modules (testing/standard_webhooks.h): without
// them this test fails with a message saying so; it never skips.
#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "sb/base/clock.h"
#include "sb/base/random.h"
#include "sb/webhooks/signature.h"
#include "sb/webhooks/testing/standard_webhooks.h"

namespace sb::webhooks {
namespace {

class WebhooksInteropTest : public ::testing::Test {
 protected:
  void SetUp() override {
    now_ = std::chrono::floor<std::chrono::seconds>(SystemClock().Now().time_since_epoch()).count();
  }

  // One delivery as the hub sends it: signed with `signing` (current first), to be verified
  // by a receiver holding `receiver_secret`.
  testing::ReceivedDelivery Delivery(const std::vector<std::string>& signing,
                                     const std::string& receiver_secret, const std::string& body,
                                     int64_t timestamp) {
    const std::string id = NewMessageId(random_);
    auto header = SignatureHeader(signing, id, timestamp, body);
    EXPECT_TRUE(header.ok()) << header.status().ToString();
    return {receiver_secret, id, std::to_string(timestamp), header.ok() ? *header : "", body};
  }

  // The library's verdicts at the real time; the test fails when Node.js or the package is
  // missing (never skips).
  testing::LibraryVerdicts Verify(const std::vector<testing::ReceivedDelivery>& items) {
    auto verdicts = testing::VerifyWithStandardWebhooks(items, std::nullopt);
    EXPECT_TRUE(verdicts.ok()) << verdicts.status().ToString();
    return verdicts.ok() ? *verdicts : testing::LibraryVerdicts{};
  }

  SystemRandom random_;
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
  const std::vector<testing::ReceivedDelivery> items = {
      Delivery({current}, current, unicode, now_),
      // Rotation: both signatures in the header; receivers with either secret accept it.
      Delivery({current, previous}, current, unicode, now_),
      Delivery({current, previous}, previous, escaped, now_),
      // The receiver configured with the bare base64 of the secret.
      Delivery({current}, current.substr(kSecretPrefix.size()), escaped, now_),
      // Four minutes old: within the library's five-minute tolerance, so seconds are seconds.
      Delivery({current}, current, large, now_ - 240),
      Delivery({current}, current, "{}", now_ + 60),
  };
  testing::LibraryVerdicts run = Verify(items);
  EXPECT_EQ(run.exit_code, 0);
  EXPECT_EQ(run.lines, std::vector<std::string>(items.size(), "ok"));
}

TEST_F(WebhooksInteropTest, TheStandardwebhooksLibraryRejectsTamperedDeliveries) {
  const std::string current = GenerateSecret(random_);
  const std::string body = R"({"type":"connection.deleted","data":{"id":"c1","name":"Zoë"}})";
  testing::ReceivedDelivery tampered = Delivery({current}, current, body, now_);
  tampered.body = R"({"type":"connection.deleted","data":{"id":"c2","name":"Zoë"}})";
  const testing::ReceivedDelivery stale = Delivery({current}, current, body, now_ - 600);
  const testing::ReceivedDelivery wrong_secret =
      Delivery({current}, GenerateSecret(random_), body, now_);
  const std::vector<testing::ReceivedDelivery> items = {Delivery({current}, current, body, now_),
                                                        tampered, stale, wrong_secret};
  testing::LibraryVerdicts run = Verify(items);
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
