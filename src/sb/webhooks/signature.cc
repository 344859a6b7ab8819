#include "sb/webhooks/signature.h"

#include <algorithm>
#include <optional>
#include <utility>

#include "sb/base/encoding.h"
#include "sb/vault/digest.h"
#include "sb/vault/secure_buffer.h"

namespace sb::webhooks {
namespace {

constexpr size_t kGeneratedSecretBytes = 32;
constexpr size_t kMessageIdRandomBytes = 16;
// Up to 18 digits always fits int64_t (Unix seconds have 10 until the year 2286).
constexpr size_t kMaxTimestampDigits = 18;

bool IsMessageIdChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

Status ValidateMessage(std::string_view msg_id, int64_t timestamp) {
  if (msg_id.empty() || msg_id.size() > kMaxMessageIdBytes ||
      !std::all_of(msg_id.begin(), msg_id.end(), IsMessageIdChar)) {
    return InvalidArgumentError("webhook message id must be 1..256 characters of [A-Za-z0-9_]");
  }
  if (timestamp < 0) return InvalidArgumentError("webhook timestamp must not be negative");
  return OkStatus();
}

// The HMAC key inside "whsec_<base64>" (or the bare base64). The message never quotes the
// secret.
Result<vault::SecretBytes> DecodeSecret(std::string_view secret) {
  if (secret.starts_with(kSecretPrefix)) secret.remove_prefix(kSecretPrefix.size());
  std::optional<std::string> key = Base64Decode(secret);
  if (!key) return InvalidArgumentError("webhook secret is not whsec_ followed by base64");
  vault::SecretBytes out(*key);
  vault::Wipe(*key);
  if (out.size() < kMinSecretBytes || out.size() > kMaxSecretBytes) {
    return InvalidArgumentError("webhook secret must decode to 24..64 bytes");
  }
  return out;
}

Result<std::vector<vault::SecretBytes>> DecodeSecrets(const std::vector<std::string>& secrets) {
  if (secrets.empty()) return InvalidArgumentError("no webhook secret given");
  std::vector<vault::SecretBytes> keys;
  keys.reserve(secrets.size());
  for (const std::string& secret : secrets) {
    SB_ASSIGN_OR_RETURN(vault::SecretBytes key, DecodeSecret(secret));
    keys.push_back(std::move(key));
  }
  return keys;
}

// base64(HMAC-SHA256(key, "{msg_id}.{timestamp}.{body}")), without the "v1," prefix.
std::string Base64Signature(const vault::SecretBytes& key, std::string_view msg_id,
                            int64_t timestamp, std::string_view body) {
  std::string content;
  content.reserve(msg_id.size() + 22 + body.size());
  content.append(msg_id).append(".").append(std::to_string(timestamp)).append(".").append(body);
  return Base64Encode(vault::HmacSha256(key.view(), content));
}

// A decimal integer of at most kMaxTimestampDigits digits; nullopt otherwise.
std::optional<int64_t> ParseTimestamp(std::string_view text) {
  if (text.empty() || text.size() > kMaxTimestampDigits) return std::nullopt;
  int64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + (c - '0');
  }
  return value;
}

Status CheckTolerance(int64_t timestamp, Timestamp now, std::chrono::seconds tolerance) {
  const int64_t now_seconds =
      std::chrono::floor<std::chrono::seconds>(now.time_since_epoch()).count();
  if (now_seconds - timestamp > tolerance.count()) {
    return UnauthenticatedError("webhook timestamp too old");
  }
  if (timestamp - now_seconds > tolerance.count()) {
    return UnauthenticatedError("webhook timestamp too new");
  }
  return OkStatus();
}

// True when some "v1,<signature>" entry of the space-separated `header` equals one of
// `expected`, compared in constant time.
bool AnySignatureMatches(std::string_view header, const std::vector<std::string>& expected) {
  while (!header.empty()) {
    const size_t space = header.find(' ');
    const std::string_view entry = header.substr(0, space);
    header = space == std::string_view::npos ? std::string_view() : header.substr(space + 1);
    const size_t comma = entry.find(',');
    if (comma == std::string_view::npos || entry.substr(0, comma) != "v1") continue;
    const std::string_view signature = entry.substr(comma + 1);
    for (const std::string& candidate : expected) {
      if (vault::ConstantTimeEquals(signature, candidate)) return true;
    }
  }
  return false;
}

}  // namespace

std::string GenerateSecret(Random& random) {
  std::string bytes = random.Bytes(kGeneratedSecretBytes);
  std::string secret = std::string(kSecretPrefix) + Base64Encode(bytes);
  vault::Wipe(bytes);
  return secret;
}

std::string NewMessageId(Random& random) {
  return "msg_" + HexEncode(random.Bytes(kMessageIdRandomBytes));
}

Result<std::string> Sign(std::string_view secret, std::string_view msg_id, int64_t timestamp,
                         std::string_view body) {
  SB_RETURN_IF_ERROR(ValidateMessage(msg_id, timestamp));
  SB_ASSIGN_OR_RETURN(vault::SecretBytes key, DecodeSecret(secret));
  return "v1," + Base64Signature(key, msg_id, timestamp, body);
}

Result<std::string> SignatureHeader(const std::vector<std::string>& secrets,
                                    std::string_view msg_id, int64_t timestamp,
                                    std::string_view body) {
  SB_RETURN_IF_ERROR(ValidateMessage(msg_id, timestamp));
  SB_ASSIGN_OR_RETURN(std::vector<vault::SecretBytes> keys, DecodeSecrets(secrets));
  std::string header;
  for (const vault::SecretBytes& key : keys) {
    if (!header.empty()) header += ' ';
    header += "v1," + Base64Signature(key, msg_id, timestamp, body);
  }
  return header;
}

Status Verify(const std::vector<std::string>& secrets, std::string_view webhook_id,
              std::string_view webhook_timestamp, std::string_view webhook_signature,
              std::string_view body, Timestamp now, std::chrono::seconds tolerance) {
  SB_ASSIGN_OR_RETURN(std::vector<vault::SecretBytes> keys, DecodeSecrets(secrets));
  if (webhook_id.empty() || webhook_timestamp.empty() || webhook_signature.empty()) {
    return InvalidArgumentError("missing webhook-id, webhook-timestamp or webhook-signature");
  }
  const std::optional<int64_t> timestamp = ParseTimestamp(webhook_timestamp);
  if (!timestamp) return InvalidArgumentError("webhook-timestamp is not Unix seconds");
  SB_RETURN_IF_ERROR(CheckTolerance(*timestamp, now, tolerance));
  std::vector<std::string> expected;
  expected.reserve(keys.size());
  for (const vault::SecretBytes& key : keys) {
    expected.push_back(Base64Signature(key, webhook_id, *timestamp, body));
  }
  if (!AnySignatureMatches(webhook_signature, expected)) {
    return UnauthenticatedError("no matching webhook signature");
  }
  return OkStatus();
}

}  // namespace sb::webhooks
