#include "sb/oauth/id_token.h"

#include <algorithm>
#include <cctype>
#include <optional>
#include <utility>

#include "sb/vault/digest.h"

namespace sb::oauth {
namespace {

constexpr std::string_view kTenantPlaceholder = "{tenantid}";
constexpr size_t kMaxSubjectLength = 255;  // OIDC Core section 2

Status Reject(std::string_view message) {
  return UnauthenticatedError("ID token " + std::string(message));
}

// The string claim `name`, or nullopt when absent or not a string.
std::optional<std::string> StringClaim(const Json& claims, const char* name) {
  auto it = claims.find(name);
  if (it == claims.end() || !it->is_string()) return std::nullopt;
  return it->get<std::string>();
}

// A NumericDate claim (seconds since the epoch, possibly fractional), or nullopt.
std::optional<double> TimeClaim(const Json& claims, const char* name) {
  auto it = claims.find(name);
  if (it == claims.end() || !it->is_number()) return std::nullopt;
  return it->get<double>();
}

// Microsoft tenant ids are GUIDs; anything else must not reach the issuer template.
bool IsGuid(std::string_view s) {
  if (s.size() != 36) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    const bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash ? s[i] != '-' : !std::isxdigit(static_cast<unsigned char>(s[i]))) return false;
  }
  return true;
}

Result<std::string> ResolveIssuer(const std::string& issuer, const Json& claims) {
  const size_t pos = issuer.find(kTenantPlaceholder);
  if (pos == std::string::npos) return issuer;
  std::optional<std::string> tid = StringClaim(claims, "tid");
  if (!tid || !IsGuid(*tid)) return Reject("tid is missing or not a tenant id (issuer template)");
  std::string resolved = issuer;
  resolved.replace(pos, kTenantPlaceholder.size(), *tid);
  return resolved;
}

Status CheckIssuer(const Json& claims, const IdTokenExpectations& expected) {
  std::optional<std::string> iss = StringClaim(claims, "iss");
  if (!iss || iss->empty()) return Reject("iss is missing");
  SB_ASSIGN_OR_RETURN(std::string resolved, ResolveIssuer(expected.issuer, claims));
  const auto& extra = expected.accepted_issuers;
  // Simple string comparison (RFC 9207, OA-05): no case folding, no trailing-slash trimming.
  if ((resolved.empty() || *iss != resolved) &&
      std::find(extra.begin(), extra.end(), *iss) == extra.end()) {
    return Reject("iss does not match the expected issuer");
  }
  return OkStatus();
}

Status CheckAudience(const Json& claims, const std::string& client_id) {
  auto aud = claims.find("aud");
  if (aud == claims.end()) return Reject("aud is missing");
  std::vector<std::string> audiences;
  if (aud->is_string()) audiences.push_back(aud->get<std::string>());
  if (aud->is_array()) {
    for (const Json& entry : *aud) {
      if (!entry.is_string()) return Reject("aud is malformed");
      audiences.push_back(entry.get<std::string>());
    }
  }
  if (audiences.empty()) return Reject("aud is malformed");
  if (client_id.empty() ||
      std::find(audiences.begin(), audiences.end(), client_id) == audiences.end()) {
    return Reject("aud does not contain the client_id");
  }
  // OIDC Core 3.1.3.7 (errata set 2): with several audiences azp must be present, and an azp
  // that is present must be this client.
  auto azp = claims.find("azp");
  if (azp == claims.end()) {
    if (audiences.size() > 1) return Reject("azp is missing (several audiences)");
    return OkStatus();
  }
  if (!azp->is_string() || azp->get<std::string>() != client_id) {
    return Reject("azp is not the client_id");
  }
  return OkStatus();
}

Status CheckTimes(const Json& claims, const IdTokenExpectations& expected, const Clock& clock) {
  const double now = static_cast<double>(ToUnixMicros(clock.Now())) / 1e6;
  const auto skew = static_cast<double>(expected.clock_skew.count());
  std::optional<double> exp = TimeClaim(claims, "exp");
  if (!exp) return Reject("exp is missing or not a number");
  if (*exp <= now - skew) return Reject("has expired (exp)");
  std::optional<double> iat = TimeClaim(claims, "iat");
  if (!iat) return Reject("iat is missing or not a number");
  if (*iat > now + skew) return Reject("iat is in the future");
  if (now - *iat > static_cast<double>(expected.max_age.count())) {
    return Reject("is too old (iat before max_age)");
  }
  if (claims.contains("nbf")) {
    std::optional<double> nbf = TimeClaim(claims, "nbf");
    if (!nbf) return Reject("nbf is not a number");
    if (*nbf > now + skew) return Reject("is not valid yet (nbf)");
  }
  return OkStatus();
}

Status CheckNonce(const Json& claims, const std::string& expected_nonce) {
  if (expected_nonce.empty()) return OkStatus();
  std::optional<std::string> nonce = StringClaim(claims, "nonce");
  if (!nonce) return Reject("nonce is missing");
  if (!vault::ConstantTimeEquals(*nonce, expected_nonce)) return Reject("nonce does not match");
  return OkStatus();
}

Result<std::string> Subject(const Json& claims) {
  std::optional<std::string> sub = StringClaim(claims, "sub");
  if (!sub || sub->empty()) return Reject("sub is missing");
  if (sub->size() > kMaxSubjectLength) return Reject("sub is longer than 255 characters");
  return *std::move(sub);
}

// Google sends email_verified as a boolean; some issuers send the string "true".
bool EmailVerified(const Json& claims) {
  auto it = claims.find("email_verified");
  if (it == claims.end()) return false;
  if (it->is_boolean()) return it->get<bool>();
  return it->is_string() && it->get<std::string>() == "true";
}

IdTokenClaims ExtractClaims(Json payload, std::string subject) {
  IdTokenClaims claims;
  claims.subject = std::move(subject);
  claims.issuer = StringClaim(payload, "iss").value_or("");
  claims.email = StringClaim(payload, "email").value_or("");
  claims.email_verified = EmailVerified(payload);
  claims.name = StringClaim(payload, "name").value_or("");
  claims.tenant_id = StringClaim(payload, "tid").value_or("");
  claims.object_id = StringClaim(payload, "oid").value_or("");
  claims.preferred_username = StringClaim(payload, "preferred_username").value_or("");
  claims.raw = std::move(payload);
  return claims;
}

}  // namespace

Result<IdTokenClaims> ValidateIdToken(std::string_view token, const vault::JsonWebKeySet& keys,
                                      const IdTokenExpectations& expected, const Clock& clock) {
  SB_ASSIGN_OR_RETURN(vault::Jws jws, vault::ParseCompactJws(token));
  SB_RETURN_IF_ERROR(keys.Verify(jws, expected.allowed_algs));
  const Json& claims = jws.payload;
  SB_RETURN_IF_ERROR(CheckIssuer(claims, expected));
  SB_RETURN_IF_ERROR(CheckAudience(claims, expected.client_id));
  SB_RETURN_IF_ERROR(CheckTimes(claims, expected, clock));
  SB_RETURN_IF_ERROR(CheckNonce(claims, expected.nonce));
  SB_ASSIGN_OR_RETURN(std::string subject, Subject(claims));
  return ExtractClaims(std::move(jws.payload), std::move(subject));
}

}  // namespace sb::oauth
