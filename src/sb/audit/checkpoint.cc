#include "sb/audit/checkpoint.h"

#include <algorithm>

#include "sb/base/encoding.h"
#include "sb/base/time_format.h"
#include "sb/vault/digest.h"
#include "sb/vault/ed25519.h"

namespace sb::audit {
namespace {

constexpr std::string_view kSignaturePrefix = "\xE2\x80\x94 ";  // U+2014 EM DASH, space

bool IsLowerHex(std::string_view s, size_t size) {
  return s.size() == size && std::all_of(s.begin(), s.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

std::string Base64OfHex(const std::string& hex) {
  return Base64Encode(HexDecode(hex).value_or(""));
}

std::string KeyHash(std::string_view public_key) {
  std::string input(kCheckpointKeyName);
  input += '\n';
  input += '\x01';  // C2SP signed-note signature type: Ed25519
  input += public_key;
  return vault::Sha256(input).substr(0, 4);
}

bool WellFormed(const Checkpoint& c) {
  return c.tenant_id.valid() && c.size >= 1 && IsLowerHex(c.chain_hash, 64) &&
         IsLowerHex(c.prev_checkpoint_hash, 64) && IsLowerHex(c.key_id, 8);
}

Result<std::string> StringField(const Json& json, const char* name) {
  auto it = json.find(name);
  if (it == json.end() || !it->is_string()) {
    return InvalidArgumentError(std::string("checkpoint: missing or malformed ") + name);
  }
  return it->get<std::string>();
}

}  // namespace

std::string CheckpointBody(const Checkpoint& c) {
  std::string body(kCheckpointKeyName);
  body += '/' + c.tenant_id.value() + '\n';
  body += std::to_string(c.size) + '\n';
  body += Base64OfHex(c.chain_hash) + '\n';
  body += "previous " + Base64OfHex(c.prev_checkpoint_hash) + '\n';
  return body;
}

std::string CheckpointNote(const Checkpoint& c) {
  const std::string key_hash = HexDecode(c.key_id).value_or("");
  const std::string signature = Base64Decode(c.signature).value_or("");
  return CheckpointBody(c) + "\n" + std::string(kSignaturePrefix) +
         std::string(kCheckpointKeyName) + " " + Base64Encode(key_hash + signature) + "\n";
}

std::string CheckpointHash(const Checkpoint& c) {
  return HexEncode(vault::Sha256(CheckpointNote(c)));
}

std::string CheckpointKeyId(std::string_view public_key) { return HexEncode(KeyHash(public_key)); }

bool VerifyCheckpointSignature(const Checkpoint& c, std::string_view public_key) {
  if (!WellFormed(c) || c.key_id != CheckpointKeyId(public_key)) return false;
  const std::optional<std::string> signature = Base64Decode(c.signature);
  if (!signature) return false;
  return vault::Ed25519Verify(public_key, CheckpointBody(c), *signature);
}

Json CheckpointToJson(const Checkpoint& c) {
  return Json{{"tenant_id", c.tenant_id.value()},
              {"size", c.size},
              {"chain_hash", c.chain_hash},
              {"created_at", FormatRfc3339(c.created_at)},
              {"prev_checkpoint_hash", c.prev_checkpoint_hash},
              {"key_id", c.key_id},
              {"signature", c.signature}};
}

Result<Checkpoint> CheckpointFromJson(const Json& json) {
  if (!json.is_object()) return InvalidArgumentError("checkpoint: not a JSON object");
  Checkpoint c;
  SB_ASSIGN_OR_RETURN(std::string tenant, StringField(json, "tenant_id"));
  c.tenant_id = TenantId(std::move(tenant));
  auto size = json.find("size");
  if (size == json.end() || !size->is_number_integer()) {
    return InvalidArgumentError("checkpoint: missing or malformed size");
  }
  c.size = size->get<int64_t>();
  SB_ASSIGN_OR_RETURN(c.chain_hash, StringField(json, "chain_hash"));
  SB_ASSIGN_OR_RETURN(std::string created, StringField(json, "created_at"));
  std::optional<Timestamp> created_at = ParseRfc3339(created);
  if (!created_at) return InvalidArgumentError("checkpoint: malformed created_at");
  c.created_at = *created_at;
  SB_ASSIGN_OR_RETURN(c.prev_checkpoint_hash, StringField(json, "prev_checkpoint_hash"));
  SB_ASSIGN_OR_RETURN(c.key_id, StringField(json, "key_id"));
  SB_ASSIGN_OR_RETURN(c.signature, StringField(json, "signature"));
  if (!WellFormed(c)) return InvalidArgumentError("checkpoint: malformed tenant, size or hashes");
  return c;
}

Result<std::vector<Checkpoint>> ParseCheckpointLines(std::string_view text) {
  std::vector<Checkpoint> out;
  size_t line_no = 0;
  while (!text.empty()) {
    ++line_no;
    const size_t eol = text.find('\n');
    std::string_view line = text.substr(0, eol);
    text = eol == std::string_view::npos ? std::string_view() : text.substr(eol + 1);
    if (line.find_first_not_of(" \t\r") == std::string_view::npos) continue;
    // Checkpoint files come from outside (an operator's copy): bounded like any other input.
    Result<Json> json = ParseJson(line, JsonLimits{.max_depth = 4});
    Result<Checkpoint> c =
        json.ok() ? CheckpointFromJson(*json) : Result<Checkpoint>(json.status());
    if (!c.ok()) return c.status().WithContext("line " + std::to_string(line_no));
    out.push_back(std::move(c).value());
  }
  return out;
}

}  // namespace sb::audit
