#include "sb/tenancy/tenant_token.h"

#include "sb/base/encoding.h"

namespace sb::tenancy {
namespace {

constexpr size_t kTenantHexLen = 32;
constexpr size_t kSecretBytes = 32;  // 256 bits
constexpr size_t kSecretB64Len = 43;

}  // namespace

std::string NewTenantToken(std::string_view prefix, const TenantId& tenant, Random& random) {
  std::string token(prefix);
  for (char c : tenant.value()) {
    if (c != '-') token += c;
  }
  return token + "_" + Base64UrlEncode(random.Bytes(kSecretBytes));
}

std::optional<TenantId> TenantOfToken(std::string_view prefix, std::string_view token) {
  if (token.size() != prefix.size() + kTenantHexLen + 1 + kSecretB64Len) return std::nullopt;
  if (token.substr(0, prefix.size()) != prefix) return std::nullopt;
  if (token[prefix.size() + kTenantHexLen] != '_') return std::nullopt;
  const std::string_view hex = token.substr(prefix.size(), kTenantHexLen);
  std::string uuid = std::string(hex.substr(0, 8)) + "-" + std::string(hex.substr(8, 4)) + "-" +
                     std::string(hex.substr(12, 4)) + "-" + std::string(hex.substr(16, 4)) + "-" +
                     std::string(hex.substr(20, 12));
  if (!IsCanonicalUuid(uuid)) return std::nullopt;
  return TenantId(std::move(uuid));
}

}  // namespace sb::tenancy
