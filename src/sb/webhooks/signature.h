// Standard Webhooks signatures (WH-01..03, WH-06): the symmetric "v1" scheme of
// https://www.standardwebhooks.com (spec v1.0.0), which host apps verify with the reference
// libraries (`standardwebhooks`, `svix`) as they are.
//
// A secret is "whsec_" + base64 of 24..64 random bytes; the hub generates 32 (OA-16, WH-02).
// A delivery carries three headers: `webhook-id` (the event's id, the same on every attempt),
// `webhook-timestamp` (Unix seconds of this attempt) and `webhook-signature`, a space-separated
// list of "v1,<base64 HMAC-SHA256 of `{id}.{timestamp}.{body}` keyed with the decoded secret>",
// one per active secret: after a rotation the previous secret keeps signing for a grace period,
// so the header carries two signatures and receivers holding either secret accept it.
//
// Pure functions; thread-safe. Secrets never appear in the returned errors.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "sb/base/clock.h"
#include "sb/base/random.h"
#include "sb/base/status.h"

namespace sb::webhooks {

inline constexpr std::string_view kWebhookIdHeader = "webhook-id";
inline constexpr std::string_view kWebhookTimestampHeader = "webhook-timestamp";
inline constexpr std::string_view kWebhookSignatureHeader = "webhook-signature";
inline constexpr std::string_view kSecretPrefix = "whsec_";
inline constexpr size_t kMinSecretBytes = 24;  // 192 bits, the spec's minimum
inline constexpr size_t kMaxSecretBytes = 64;  // 512 bits, the spec's maximum
inline constexpr size_t kMaxMessageIdBytes = 256;
// The reference libraries' tolerance for `webhook-timestamp`, in either direction.
inline constexpr std::chrono::seconds kDefaultTolerance = std::chrono::minutes(5);

// A new signing secret: "whsec_" + base64 of 32 bytes from `random` (shown to the host app
// once; stored only through the vault).
std::string GenerateSecret(Random& random);

// A new `webhook-id`: "msg_" + 32 lowercase hex digits (128 bits from `random`), within the
// charset [A-Za-z0-9_] of WH-01.
std::string NewMessageId(Random& random);

// The one signature "v1,<base64>" of `body` sent as message `msg_id` at `timestamp` (Unix
// seconds). `secret` is "whsec_<base64>" (the bare base64 is accepted too, as the reference
// libraries do). INVALID_ARGUMENT when the secret is not base64 of 24..64 bytes, when `msg_id`
// is not 1..kMaxMessageIdBytes of [A-Za-z0-9_] (never a '.', which would make the signed
// content ambiguous) or when `timestamp` is negative.
Result<std::string> Sign(std::string_view secret, std::string_view msg_id, int64_t timestamp,
                         std::string_view body);

// The `webhook-signature` header value: the signatures of `body` under each of `secrets`
// (current first, then the previous one during a rotation's grace period), space-separated.
// INVALID_ARGUMENT as for Sign, and when `secrets` is empty.
Result<std::string> SignatureHeader(const std::vector<std::string>& secrets,
                                    std::string_view msg_id, int64_t timestamp,
                                    std::string_view body);

// Verifies a received delivery as the reference libraries do, for tests and for host apps
// written in C++. `webhook_id`, `webhook_timestamp` and `webhook_signature` are the raw header
// values and `body` the exact bytes received (not re-serialized JSON). OK when some "v1"
// signature of the header matches `body` under one of `secrets` (constant-time comparison;
// other versions such as "v1a" are skipped) and the timestamp is within `tolerance` of `now`,
// in either direction (replays and clock skew).
//   INVALID_ARGUMENT: `secrets` empty or one of them malformed (a configuration error), a
//                     header missing (empty) or the timestamp not a decimal integer.
//   UNAUTHENTICATED:  the timestamp is too old or too new, or no signature matches.
Status Verify(const std::vector<std::string>& secrets, std::string_view webhook_id,
              std::string_view webhook_timestamp, std::string_view webhook_signature,
              std::string_view body, Timestamp now,
              std::chrono::seconds tolerance = kDefaultTolerance);

}  // namespace sb::webhooks
