#include "sandbox/crypto/jwt.h"

#include <array>
#include <optional>
#include <utility>

#include "sandbox/crypto/internal/openssl_util.h"
#include <openssl/rsa.h>

#include "sb/base/encoding.h"

namespace sandbox::crypto {
namespace {

using internal::OpensslError;

// Compact serialization for JOSE: no whitespace. nlohmann sorts object members, so the same
// header and payload always produce the same token.
sb::Result<std::string> Serialize(const nlohmann::json& value) {
  try {
    return value.dump();
  } catch (const nlohmann::json::type_error&) {
    // dump() throws on strings that are not valid UTF-8; keep exceptions inside the module.
    return sb::InvalidArgumentError("a JWT header or payload holds a string that is not UTF-8");
  }
}

// Splits "a.b.c" into exactly three parts; anything else is not a compact JWS.
std::optional<std::array<std::string_view, 3>> SplitCompact(std::string_view jwt) {
  size_t first = jwt.find('.');
  if (first == std::string_view::npos) return std::nullopt;
  size_t second = jwt.find('.', first + 1);
  if (second == std::string_view::npos || jwt.find('.', second + 1) != std::string_view::npos) {
    return std::nullopt;
  }
  return std::array<std::string_view, 3>{
      jwt.substr(0, first), jwt.substr(first + 1, second - first - 1), jwt.substr(second + 1)};
}

// RFC 7515 uses base64url without padding; sb::Base64UrlDecode also accepts '=', so refuse it
// here to keep one canonical form per token.
sb::Result<std::string> DecodePart(std::string_view part, std::string_view what) {
  std::optional<std::string> decoded;
  if (part.find('=') == std::string_view::npos) decoded = sb::Base64UrlDecode(part);
  if (!decoded.has_value()) {
    return sb::InvalidArgumentError("the JWT " + std::string(what) + " is not base64url");
  }
  return std::move(*decoded);
}

sb::Result<nlohmann::json> DecodeObject(std::string_view part, std::string_view what) {
  SB_ASSIGN_OR_RETURN(std::string text, DecodePart(part, what));
  nlohmann::json value = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!value.is_object()) {
    return sb::InvalidArgumentError("the JWT " + std::string(what) + " is not a JSON object");
  }
  return value;
}

sb::Result<internal::PkeyPtr> ParseRsaPublicKey(std::string_view pem) {
  internal::BioPtr bio = internal::ReadOnlyBio(pem);
  internal::PkeyPtr key(bio ? PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr) : nullptr);
  ERR_clear_error();  // A parse failure is the caller's input, not an OpenSSL problem.
  if (key == nullptr) return sb::InvalidArgumentError("the public key is not a PEM public key");
  // Without this check an EC key would make EVP verify ECDSA under the name RS256.
  if (EVP_PKEY_is_a(key.get(), "RSA") != 1) {
    return sb::InvalidArgumentError("the public key is not an RSA key");
  }
  return key;
}

sb::Status VerifySignature(EVP_PKEY* key, std::string_view signing_input,
                           std::string_view signature) {
  internal::MdCtxPtr ctx(EVP_MD_CTX_new());
  EVP_PKEY_CTX* pctx = nullptr;  // owned by ctx
  if (ctx == nullptr ||
      EVP_DigestVerifyInit_ex(ctx.get(), &pctx, "SHA256", nullptr, nullptr, key, nullptr) != 1 ||
      EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) != 1) {
    return OpensslError("preparing RS256 verification");
  }
  int rc = EVP_DigestVerify(ctx.get(), internal::Uchars(signature), signature.size(),
                            internal::Uchars(signing_input), signing_input.size());
  // 0 is a mismatch, a negative value a malformed signature (e.g. the wrong length): both mean
  // the token is not authentic, and neither should linger in the error queue.
  ERR_clear_error();
  if (rc != 1) return sb::UnauthenticatedError("the JWT signature does not verify");
  return sb::OkStatus();
}

}  // namespace

sb::Result<std::string> SignJwtRs256(const nlohmann::json& header_extra,
                                     const nlohmann::json& payload, const RsaSigningKey& key) {
  if (!header_extra.is_null() && !header_extra.is_object()) {
    return sb::InvalidArgumentError("extra JWT header members must be a JSON object");
  }
  if (!payload.is_object()) return sb::InvalidArgumentError("a JWT payload must be an object");
  nlohmann::json header = {{"alg", "RS256"}, {"kid", key.kid()}, {"typ", "JWT"}};
  if (header_extra.is_object()) header.update(header_extra);
  if (header["alg"] != "RS256") {
    return sb::InvalidArgumentError("SignJwtRs256 only writes alg RS256");
  }
  SB_ASSIGN_OR_RETURN(std::string header_text, Serialize(header));
  SB_ASSIGN_OR_RETURN(std::string payload_text, Serialize(payload));
  std::string token = sb::Base64UrlEncode(header_text) + "." + sb::Base64UrlEncode(payload_text);
  SB_ASSIGN_OR_RETURN(std::string signature, key.SignRs256(token));
  token += ".";
  token += sb::Base64UrlEncode(signature);
  return token;
}

sb::Result<nlohmann::json> VerifyJwtRs256(std::string_view jwt, std::string_view public_key_pem) {
  std::optional<std::array<std::string_view, 3>> split = SplitCompact(jwt);
  if (!split.has_value()) return sb::InvalidArgumentError("a JWT has three dot-separated parts");
  const std::array<std::string_view, 3>& parts = *split;
  SB_ASSIGN_OR_RETURN(nlohmann::json header, DecodeObject(parts[0], "header"));
  SB_ASSIGN_OR_RETURN(nlohmann::json payload, DecodeObject(parts[1], "payload"));
  SB_ASSIGN_OR_RETURN(std::string signature, DecodePart(parts[2], "signature"));
  // The algorithm comes from the verifier, never from the token: "none" and HS256 (with the
  // public key as HMAC secret) are the classic forgeries this refuses.
  auto alg = header.find("alg");
  if (alg == header.end() || *alg != "RS256") {
    return sb::UnauthenticatedError("the JWT algorithm is not RS256");
  }
  SB_ASSIGN_OR_RETURN(internal::PkeyPtr key, ParseRsaPublicKey(public_key_pem));
  std::string_view signing_input = jwt.substr(0, parts[0].size() + 1 + parts[1].size());
  SB_RETURN_IF_ERROR(VerifySignature(key.get(), signing_input, signature));
  return payload;
}

}  // namespace sandbox::crypto
