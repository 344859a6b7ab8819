#include "sb/audit/internal/canonical.h"

#include "sb/base/encoding.h"
#include "sb/base/json.h"
#include "sb/vault/digest.h"

namespace sb::audit::internal {
namespace {

// Appends `"name":<JSON string value>`. REQUIRES valid UTF-8 (nlohmann throws otherwise).
void AppendString(std::string& out, std::string_view name, const std::string& value) {
  out += '"';
  out += name;
  out += "\":";
  out += Json(value).dump();
}

}  // namespace

std::optional<CanonicalParts> CanonicalSplit(const TenantId& tenant,
                                             const store::AuditEntryBody& b) {
  for (const std::string* s : {&b.action, &b.actor_id, &b.actor_kind, &b.details, &b.id, &b.outcome,
                               &b.request_id, &b.target, &tenant.value()}) {
    if (!IsValidUtf8(*s)) return std::nullopt;
  }
  std::string p = "{";
  AppendString(p, "action", b.action);
  p += ',';
  AppendString(p, "actor_id", b.actor_id);
  p += ',';
  AppendString(p, "actor_kind", b.actor_kind);
  p += ',';
  AppendString(p, "details", b.details);
  p += ',';
  AppendString(p, "id", b.id);
  p += ",\"occurred_at\":";
  p += std::to_string(ToUnixMicros(b.occurred_at));
  p += ',';
  AppendString(p, "outcome", b.outcome);
  p += ',';
  AppendString(p, "request_id", b.request_id);
  p += ",\"seq\":";
  std::string s = ",";
  AppendString(s, "target", b.target);
  s += ',';
  AppendString(s, "tenant_id", tenant.value());
  s += '}';
  CanonicalParts parts{std::move(p), std::move(s)};
  return parts;
}

std::optional<std::string> Canonical(const TenantId& tenant, int64_t seq,
                                     const store::AuditEntryBody& body) {
  std::optional<CanonicalParts> parts = CanonicalSplit(tenant, body);
  if (!parts) return std::nullopt;
  return parts->With(seq);
}

std::string LeafHash(std::string_view canonical) {
  std::string input;
  input.reserve(canonical.size() + 1);
  input += '\0';
  input += canonical;
  return vault::Sha256(input);
}

std::string ChainHash(std::string_view previous_chain, std::string_view leaf) {
  std::string input;
  input.reserve(previous_chain.size() + leaf.size());
  input += previous_chain;
  input += leaf;
  return vault::Sha256(input);
}

}  // namespace sb::audit::internal
