// WH-01..03, WH-06, TST-N3: Standard Webhooks signatures against the published test vector,
// the reference libraries' negative cases, rotation with two secrets, the timestamp tolerance
// and tampering.
#include "sb/webhooks/signature.h"

#include <set>

#include <gtest/gtest.h>

#include "sb/base/encoding.h"

namespace sb::webhooks {
namespace {

// The published vector of the reference libraries (security.md 6.7): repository
// standard-webhooks/standard-webhooks, TestWebhookSign in libraries/go/webhook_test.go and
// "sign function works" in libraries/javascript/src/webhook.test.ts.
constexpr std::string_view kSpecSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
constexpr std::string_view kSpecMsgId = "msg_p5jXN8AQM9LWM0D4loKWxJek";
constexpr int64_t kSpecTimestamp = 1614265330;
constexpr std::string_view kSpecPayload = R"({"test": 2432232314})";
constexpr std::string_view kSpecSignature = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";
// A well-formed signature of something else, from the same tests' "invalid signature" cases.
constexpr std::string_view kOtherSignature = "Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=";

// A Random that returns fixed bytes, to check the encoding of generated values.
class FixedRandom final : public Random {
 public:
  explicit FixedRandom(uint8_t value) : value_(value) {}
  void Fill(uint8_t* out, size_t n) override {
    for (size_t i = 0; i < n; ++i) out[i] = static_cast<uint8_t>(value_ + i);
  }

 private:
  uint8_t value_;
};

Timestamp At(int64_t unix_seconds) { return FromUnixMicros(unix_seconds * 1'000'000); }

class SignatureTest : public ::testing::Test {
 protected:
  // Verifies the spec message (or `body`) with `header` at `now` under the spec secret.
  Status VerifySpec(std::string_view header, Timestamp now, std::string_view body = kSpecPayload,
                    std::string_view timestamp = "1614265330") {
    return Verify({std::string(kSpecSecret)}, kSpecMsgId, timestamp, header, body, now);
  }

  const Timestamp now_ = At(kSpecTimestamp);
};

TEST_F(SignatureTest, SignsThePublishedTestVector) {  // WH-01, WH-06
  auto sig = Sign(kSpecSecret, kSpecMsgId, kSpecTimestamp, kSpecPayload);
  ASSERT_TRUE(sig.ok()) << sig.status().ToString();
  EXPECT_EQ(*sig, kSpecSignature);
  // The reference libraries accept the secret without its prefix too.
  auto bare =
      Sign(kSpecSecret.substr(kSecretPrefix.size()), kSpecMsgId, kSpecTimestamp, kSpecPayload);
  ASSERT_TRUE(bare.ok()) << bare.status().ToString();
  EXPECT_EQ(*bare, kSpecSignature);
  auto header =
      SignatureHeader({std::string(kSpecSecret)}, kSpecMsgId, kSpecTimestamp, kSpecPayload);
  ASSERT_TRUE(header.ok());
  EXPECT_EQ(*header, kSpecSignature);
  // The signature covers every byte of the body: one more space changes it.
  auto spaced = Sign(kSpecSecret, kSpecMsgId, kSpecTimestamp, R"({"test":  2432232314})");
  ASSERT_TRUE(spaced.ok());
  EXPECT_NE(*spaced, kSpecSignature);
}

TEST_F(SignatureTest, VerifiesThePublishedTestVector) {
  EXPECT_TRUE(VerifySpec(kSpecSignature, now_).ok());
  Status bare = Verify({std::string(kSpecSecret.substr(kSecretPrefix.size()))}, kSpecMsgId,
                       "1614265330", kSpecSignature, kSpecPayload, now_);
  EXPECT_TRUE(bare.ok()) << bare.ToString();
}

// The negative cases of libraries/go/webhook_test.go (TestWebhook) and
// libraries/javascript/src/webhook.test.ts.
TEST_F(SignatureTest, RejectsWhatTheReferenceLibrariesReject) {  // TST-N3
  EXPECT_EQ(VerifySpec("v1," + std::string(kOtherSignature), now_).code(),
            StatusCode::kUnauthenticated);
  EXPECT_EQ(VerifySpec("v1,dawfeoifkpqwoekfpqoekf", now_).code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(VerifySpec(kSpecSignature.substr(0, 8), now_).code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(VerifySpec("v1,", now_).code(), StatusCode::kUnauthenticated);
  // Only "v1" is this scheme: the right signature under another version does not count.
  const std::string bare_sig(kSpecSignature.substr(3));
  EXPECT_EQ(VerifySpec("v2," + bare_sig, now_).code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(VerifySpec("v1a," + bare_sig, now_).code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(VerifySpec(bare_sig, now_).code(), StatusCode::kUnauthenticated);
  // Missing headers.
  const std::vector<std::string> secrets{std::string(kSpecSecret)};
  EXPECT_EQ(Verify(secrets, "", "1614265330", kSpecSignature, kSpecPayload, now_).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(Verify(secrets, kSpecMsgId, "", kSpecSignature, kSpecPayload, now_).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(Verify(secrets, kSpecMsgId, "1614265330", "", kSpecPayload, now_).code(),
            StatusCode::kInvalidArgument);
  // Timestamps that are not Unix seconds.
  for (std::string_view ts : {"hello", "-1614265330", "1614265330.0", " 1614265330", "1614265330x",
                              "9999999999999999999"}) {
    EXPECT_EQ(VerifySpec(kSpecSignature, now_, kSpecPayload, ts).code(),
              StatusCode::kInvalidArgument)
        << ts;
  }
}

TEST_F(SignatureTest, AcceptsAListWhereOneSignatureMatches) {
  // "valid multi sig is valid": the valid signature among others and another version.
  const std::string other(kOtherSignature);
  const std::string header =
      "v1," + other + " v2," + other + " " + std::string(kSpecSignature) + " v1," + other;
  Status s = VerifySpec(header, now_);
  EXPECT_TRUE(s.ok()) << s.ToString();
  EXPECT_TRUE(VerifySpec(std::string(kSpecSignature) + "  v1," + other + " ", now_).ok());
}

TEST_F(SignatureTest, TimestampMustBeWithinTheToleranceBothWays) {
  const auto tolerance = kDefaultTolerance;
  EXPECT_EQ(tolerance, std::chrono::minutes(5));
  // Receiver clock ahead of the sender: an old message (a replay).
  EXPECT_TRUE(VerifySpec(kSpecSignature, now_ + tolerance).ok());
  // Sub-second parts of `now` do not matter: both sides count whole seconds.
  EXPECT_TRUE(VerifySpec(kSpecSignature, now_ + tolerance + std::chrono::milliseconds(999)).ok());
  Status old = VerifySpec(kSpecSignature, now_ + tolerance + std::chrono::seconds(1));
  EXPECT_EQ(old.code(), StatusCode::kUnauthenticated);
  EXPECT_NE(old.message().find("too old"), std::string::npos) << old.ToString();
  // Receiver clock behind: a message from the future.
  EXPECT_TRUE(VerifySpec(kSpecSignature, now_ - tolerance).ok());
  Status future = VerifySpec(kSpecSignature, now_ - tolerance - std::chrono::seconds(1));
  EXPECT_EQ(future.code(), StatusCode::kUnauthenticated);
  EXPECT_NE(future.message().find("too new"), std::string::npos) << future.ToString();
  // A tighter tolerance is honoured.
  EXPECT_EQ(Verify({std::string(kSpecSecret)}, kSpecMsgId, "1614265330", kSpecSignature,
                   kSpecPayload, now_ + std::chrono::seconds(31), std::chrono::seconds(30))
                .code(),
            StatusCode::kUnauthenticated);
}

TEST_F(SignatureTest, TamperedBodyIdOrTimestampIsRejected) {
  EXPECT_EQ(VerifySpec(kSpecSignature, now_, R"({"test": 2432232315})").code(),
            StatusCode::kUnauthenticated);
  EXPECT_EQ(VerifySpec(kSpecSignature, now_, R"({"test":2432232314})").code(),
            StatusCode::kUnauthenticated);
  EXPECT_EQ(VerifySpec(kSpecSignature, now_, "").code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(Verify({std::string(kSpecSecret)}, "msg_p5jXN8AQM9LWM0D4loKWxJeK", "1614265330",
                   kSpecSignature, kSpecPayload, now_)
                .code(),
            StatusCode::kUnauthenticated);
  EXPECT_EQ(VerifySpec(kSpecSignature, now_, kSpecPayload, "1614265331").code(),
            StatusCode::kUnauthenticated);
  // The same signature under a different secret.
  FixedRandom fixed(1);
  EXPECT_EQ(
      Verify({GenerateSecret(fixed)}, kSpecMsgId, "1614265330", kSpecSignature, kSpecPayload, now_)
          .code(),
      StatusCode::kUnauthenticated);
}

TEST_F(SignatureTest, RotationSignsWithBothSecretsAndEitherVerifies) {  // WH-03
  SystemRandom random;
  const std::string current = GenerateSecret(random);
  const std::string previous = GenerateSecret(random);
  const std::string unrelated = GenerateSecret(random);
  const std::string body = R"({"type":"connection.created","data":{"name":"Zoë 🎉"}})";
  const int64_t ts = kSpecTimestamp;
  auto header = SignatureHeader({current, previous}, "msg_rotation", ts, body);
  ASSERT_TRUE(header.ok()) << header.status().ToString();
  auto first = Sign(current, "msg_rotation", ts, body);
  auto second = Sign(previous, "msg_rotation", ts, body);
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_EQ(*header, *first + " " + *second);  // current first
  for (const auto& secrets : std::vector<std::vector<std::string>>{
           {current}, {previous}, {current, previous}, {unrelated, previous}}) {
    Status s = Verify(secrets, "msg_rotation", std::to_string(ts), *header, body, now_);
    EXPECT_TRUE(s.ok()) << s.ToString();
  }
  EXPECT_EQ(Verify({unrelated}, "msg_rotation", std::to_string(ts), *header, body, now_).code(),
            StatusCode::kUnauthenticated);
  // After the grace period only the current secret signs: holders of the old one fail.
  EXPECT_EQ(Verify({previous}, "msg_rotation", std::to_string(ts), *first, body, now_).code(),
            StatusCode::kUnauthenticated);
}

TEST_F(SignatureTest, GeneratedSecretsAre32RandomBytesWithThePrefix) {  // WH-02, OA-16
  FixedRandom fixed(0x40);
  const std::string secret = GenerateSecret(fixed);
  ASSERT_TRUE(secret.starts_with("whsec_"));
  auto key = Base64Decode(secret.substr(6));
  ASSERT_TRUE(key.has_value());
  ASSERT_EQ(key->size(), 32u);
  for (size_t i = 0; i < key->size(); ++i) EXPECT_EQ(static_cast<uint8_t>((*key)[i]), 0x40 + i);
  EXPECT_EQ(secret, "whsec_" + Base64Encode(*key));  // standard alphabet, padded
  EXPECT_TRUE(Sign(secret, "msg_1", 1, "{}").ok());

  SystemRandom random;
  std::set<std::string> seen;
  for (int i = 0; i < 100; ++i) seen.insert(GenerateSecret(random));
  EXPECT_EQ(seen.size(), 100u);
}

TEST_F(SignatureTest, MessageIdsAre128BitsInTheSafeCharset) {  // WH-01
  FixedRandom fixed(0xa0);
  EXPECT_EQ(NewMessageId(fixed), "msg_a0a1a2a3a4a5a6a7a8a9aaabacadaeaf");
  SystemRandom random;
  const std::string id = NewMessageId(random);
  EXPECT_EQ(id.size(), 36u);
  EXPECT_TRUE(Sign(kSpecSecret, id, 1, "{}").ok());
  EXPECT_NE(NewMessageId(random), id);
}

TEST_F(SignatureTest, RejectsMalformedInputWithoutQuotingTheSecret) {
  const std::string body = "{}";
  // Message ids: never a '.', which would make `{id}.{timestamp}.{body}` ambiguous.
  for (std::string_view id : {"", "msg.1", "msg 1", "msg-1", "msg/1", "msg_\xc3\xa9"}) {
    EXPECT_EQ(Sign(kSpecSecret, id, 1, body).status().code(), StatusCode::kInvalidArgument) << id;
  }
  EXPECT_EQ(Sign(kSpecSecret, std::string(257, 'm'), 1, body).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_TRUE(Sign(kSpecSecret, std::string(256, 'm'), 1, body).ok());
  EXPECT_EQ(Sign(kSpecSecret, "msg_1", -1, body).status().code(), StatusCode::kInvalidArgument);
  // Secrets: base64 of 24..64 bytes.
  const std::string short_secret = "whsec_" + Base64Encode(std::string(23, 'k'));
  const std::string long_secret = "whsec_" + Base64Encode(std::string(65, 'k'));
  for (const std::string& secret : {short_secret, long_secret, std::string("whsec_"),
                                    std::string("whsec_not base64!"), std::string("")}) {
    Status s = Sign(secret, "msg_1", 1, body).status();
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << secret;
    if (secret.size() > 6) {
      EXPECT_EQ(s.message().find(secret.substr(6)), std::string::npos);
    }
    EXPECT_EQ(Verify({std::string(kSpecSecret), secret}, kSpecMsgId, "1614265330", kSpecSignature,
                     kSpecPayload, now_)
                  .code(),
              StatusCode::kInvalidArgument);
  }
  EXPECT_TRUE(Sign("whsec_" + Base64Encode(std::string(24, 'k')), "msg_1", 1, body).ok());
  EXPECT_TRUE(Sign("whsec_" + Base64Encode(std::string(64, 'k')), "msg_1", 1, body).ok());
  EXPECT_EQ(SignatureHeader({}, "msg_1", 1, body).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(
      SignatureHeader({std::string(kSpecSecret), short_secret}, "msg_1", 1, body).status().code(),
      StatusCode::kInvalidArgument);
  EXPECT_EQ(Verify({}, kSpecMsgId, "1614265330", kSpecSignature, kSpecPayload, now_).code(),
            StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace sb::webhooks
