#include "sb/vault/jose.h"

#include <algorithm>
#include <optional>
#include <utility>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/rsa.h>

#include "sb/base/encoding.h"

namespace sb::vault {

namespace internal {

struct PkeyFree {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};

struct JsonWebKey {
  enum class Type { kRsa, kEc };
  Type type;
  std::string kid;
  std::string alg;  // empty when the JWK does not restrict its algorithm
  std::unique_ptr<EVP_PKEY, PkeyFree> pkey;
};

}  // namespace internal

namespace {

using internal::JsonWebKey;
using PkeyPtr = std::unique_ptr<EVP_PKEY, internal::PkeyFree>;

struct BnFree {
  void operator()(BIGNUM* bn) const { BN_free(bn); }
};
using BnPtr = std::unique_ptr<BIGNUM, BnFree>;
struct PkeyCtxFree {
  void operator()(EVP_PKEY_CTX* ctx) const { EVP_PKEY_CTX_free(ctx); }
};
using PkeyCtxPtr = std::unique_ptr<EVP_PKEY_CTX, PkeyCtxFree>;
struct MdCtxFree {
  void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, MdCtxFree>;
struct ParamBldFree {
  void operator()(OSSL_PARAM_BLD* bld) const { OSSL_PARAM_BLD_free(bld); }
};
using ParamBldPtr = std::unique_ptr<OSSL_PARAM_BLD, ParamBldFree>;
struct ParamsFree {
  void operator()(OSSL_PARAM* params) const { OSSL_PARAM_free(params); }
};
using ParamsPtr = std::unique_ptr<OSSL_PARAM, ParamsFree>;
struct EcdsaSigFree {
  void operator()(ECDSA_SIG* sig) const { ECDSA_SIG_free(sig); }
};
using EcdsaSigPtr = std::unique_ptr<ECDSA_SIG, EcdsaSigFree>;

constexpr int kMinRsaBits = 2048;
constexpr int kMaxRsaBits = 8192;  // bounds the cost of one verification
constexpr int kMaxRsaExponentBits = 64;
constexpr size_t kP256CoordinateBytes = 32;
constexpr int kPssSaltBytes = 32;  // RFC 7518 section 3.5: the size of the SHA-256 output

enum class Alg { kRs256, kPs256, kEs256 };

const unsigned char* Bytes(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

// Failed OpenSSL calls leave entries on the thread's error queue; drop them so that they do
// not surface in an unrelated later call.
Status OpenSslError(Status status) {
  ERR_clear_error();
  return status;
}

// Base64url as JOSE requires it (RFC 7515 section 2): no padding, URL-safe alphabet only,
// canonical trailing bits.
std::optional<std::string> DecodeJoseBase64Url(std::string_view text) {
  if (text.find('=') != std::string_view::npos) return std::nullopt;
  return Base64UrlDecode(text);
}

Result<Json> ParseJsonObject(std::string_view bytes, std::string_view what) {
  Result<Json> json = ParseJson(bytes, kJoseJsonLimits);
  if (!json.ok()) return InvalidArgumentError(std::string(what) + ": " + json.status().message());
  if (!json->is_object()) return InvalidArgumentError(std::string(what) + " is not a JSON object");
  return json;
}

// The member `name` of `object` as a string: empty when absent, an error when not a string.
Result<std::string> OptionalString(const Json& object, const char* name, std::string_view what) {
  auto it = object.find(name);
  if (it == object.end()) return std::string();
  if (!it->is_string()) {
    return InvalidArgumentError(std::string(what) + " member \"" + name + "\" is not a string");
  }
  return it->get<std::string>();
}

Result<std::string> RequiredBase64Url(const Json& jwk, const char* name) {
  SB_ASSIGN_OR_RETURN(std::string text, OptionalString(jwk, name, "JWK"));
  std::optional<std::string> bytes = DecodeJoseBase64Url(text);
  if (text.empty() || !bytes || bytes->empty()) {
    return InvalidArgumentError(std::string("JWK member \"") + name +
                                "\" is missing or not base64url");
  }
  return *std::move(bytes);
}

Result<PkeyPtr> PkeyFromParams(const char* type, OSSL_PARAM_BLD* bld) {
  ParamsPtr params(OSSL_PARAM_BLD_to_param(bld));
  PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
  EVP_PKEY* pkey = nullptr;
  if (params == nullptr || ctx == nullptr || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &pkey, EVP_PKEY_PUBLIC_KEY, params.get()) != 1) {
    return OpenSslError(InvalidArgumentError(std::string("JWK is not a valid ") + type + " key"));
  }
  return PkeyPtr(pkey);
}

// nullptr (skip) when the modulus is outside [kMinRsaBits, kMaxRsaBits].
Result<PkeyPtr> RsaPublicKey(const Json& jwk) {
  SB_ASSIGN_OR_RETURN(std::string n_bytes, RequiredBase64Url(jwk, "n"));
  SB_ASSIGN_OR_RETURN(std::string e_bytes, RequiredBase64Url(jwk, "e"));
  BnPtr n(BN_bin2bn(Bytes(n_bytes), static_cast<int>(n_bytes.size()), nullptr));
  BnPtr e(BN_bin2bn(Bytes(e_bytes), static_cast<int>(e_bytes.size()), nullptr));
  if (n == nullptr || e == nullptr) return OpenSslError(InternalError("OpenSSL BN_bin2bn failed"));
  if (BN_num_bits(n.get()) < kMinRsaBits || BN_num_bits(n.get()) > kMaxRsaBits) {
    return PkeyPtr();
  }
  // e = 1 (or any even e) would make forgery trivial or the key invalid.
  if (!BN_is_odd(n.get()) || !BN_is_odd(e.get()) || BN_is_one(e.get()) ||
      BN_num_bits(e.get()) > kMaxRsaExponentBits) {
    return InvalidArgumentError("JWK RSA modulus or exponent is invalid");
  }
  ParamBldPtr bld(OSSL_PARAM_BLD_new());
  if (bld == nullptr || OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, n.get()) != 1 ||
      OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, e.get()) != 1) {
    return OpenSslError(InternalError("OpenSSL could not build RSA key parameters"));
  }
  return PkeyFromParams("RSA", bld.get());
}

Result<PkeyPtr> P256PublicKey(const Json& jwk) {
  SB_ASSIGN_OR_RETURN(std::string x, RequiredBase64Url(jwk, "x"));
  SB_ASSIGN_OR_RETURN(std::string y, RequiredBase64Url(jwk, "y"));
  // RFC 7518 section 6.2.1.2: each coordinate is the full size of the field, 32 bytes.
  if (x.size() != kP256CoordinateBytes || y.size() != kP256CoordinateBytes) {
    return InvalidArgumentError("JWK P-256 coordinates must be 32 bytes each");
  }
  std::string point = "\x04" + x + y;  // SEC1 uncompressed point
  ParamBldPtr bld(OSSL_PARAM_BLD_new());
  if (bld == nullptr ||
      OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) !=
          1 ||
      OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(),
                                       point.size()) != 1) {
    return OpenSslError(InternalError("OpenSSL could not build EC key parameters"));
  }
  SB_ASSIGN_OR_RETURN(PkeyPtr pkey, PkeyFromParams("EC", bld.get()));
  PkeyCtxPtr check(EVP_PKEY_CTX_new_from_pkey(nullptr, pkey.get(), nullptr));
  if (check == nullptr || EVP_PKEY_public_check(check.get()) != 1) {
    return OpenSslError(InvalidArgumentError("JWK EC point is not on the P-256 curve"));
  }
  return pkey;
}

bool IsSupportedAlg(std::string_view alg) {
  return alg == "RS256" || alg == "PS256" || alg == "ES256";
}

// A usable key, or nullptr when the key is to be skipped.
Result<std::shared_ptr<const JsonWebKey>> ParseKey(const Json& jwk) {
  if (!jwk.is_object()) return InvalidArgumentError("JWKS entry is not a JSON object");
  SB_ASSIGN_OR_RETURN(std::string kty, OptionalString(jwk, "kty", "JWK"));
  SB_ASSIGN_OR_RETURN(std::string use, OptionalString(jwk, "use", "JWK"));
  SB_ASSIGN_OR_RETURN(std::string alg, OptionalString(jwk, "alg", "JWK"));
  SB_ASSIGN_OR_RETURN(std::string kid, OptionalString(jwk, "kid", "JWK"));
  if (!use.empty() && use != "sig") return std::shared_ptr<const JsonWebKey>();
  if (!alg.empty() && !IsSupportedAlg(alg)) return std::shared_ptr<const JsonWebKey>();
  auto key = std::make_shared<JsonWebKey>();
  key->kid = std::move(kid);
  key->alg = std::move(alg);
  if (kty == "RSA") {
    key->type = JsonWebKey::Type::kRsa;
    SB_ASSIGN_OR_RETURN(key->pkey, RsaPublicKey(jwk));
  } else if (kty == "EC") {
    SB_ASSIGN_OR_RETURN(std::string crv, OptionalString(jwk, "crv", "JWK"));
    if (crv != "P-256") return std::shared_ptr<const JsonWebKey>();
    key->type = JsonWebKey::Type::kEc;
    SB_ASSIGN_OR_RETURN(key->pkey, P256PublicKey(jwk));
  }
  if (key->pkey == nullptr) {
    return std::shared_ptr<const JsonWebKey>();  // unknown kty or RSA size out of range
  }
  return std::shared_ptr<const JsonWebKey>(std::move(key));
}

Result<Alg> CheckAlg(std::string_view alg, const std::vector<std::string>& allowed_algs) {
  if (alg == "none") return UnauthenticatedError("JWS alg \"none\" (unsigned) is never accepted");
  if (alg.starts_with("HS")) {
    return UnauthenticatedError("JWS alg HS* (HMAC) is never accepted for public-key issuers");
  }
  if (!IsSupportedAlg(alg)) return UnauthenticatedError("JWS alg is not supported");
  if (std::find(allowed_algs.begin(), allowed_algs.end(), alg) == allowed_algs.end()) {
    return UnauthenticatedError("JWS alg " + std::string(alg) + " is not in the allow-list");
  }
  if (alg == "RS256") return Alg::kRs256;
  if (alg == "PS256") return Alg::kPs256;
  return Alg::kEs256;
}

bool Fits(const JsonWebKey& key, Alg alg, std::string_view alg_name) {
  const JsonWebKey::Type type = alg == Alg::kEs256 ? JsonWebKey::Type::kEc : JsonWebKey::Type::kRsa;
  return key.type == type && (key.alg.empty() || key.alg == alg_name);
}

Result<const JsonWebKey*> SelectKey(const std::vector<std::shared_ptr<const JsonWebKey>>& keys,
                                    const Jws& jws, Alg alg) {
  if (!jws.kid.empty()) {
    bool kid_known = false;
    for (const auto& key : keys) {
      if (key->kid != jws.kid) continue;
      kid_known = true;
      if (Fits(*key, alg, jws.alg)) return key.get();
    }
    if (!kid_known) return NotFoundError("no key in the JWKS has the token's kid");
    return UnauthenticatedError("the key named by kid does not fit the JWS alg");
  }
  const JsonWebKey* found = nullptr;
  for (const auto& key : keys) {
    if (!Fits(*key, alg, jws.alg)) continue;
    if (found != nullptr) {
      return UnauthenticatedError("the token has no kid and several JWKS keys fit its alg");
    }
    found = key.get();
  }
  if (found == nullptr) return NotFoundError("the token has no kid and no JWKS key fits its alg");
  return found;
}

// JWS carries ES256 signatures as raw R || S (RFC 7518 section 3.4); OpenSSL wants DER.
Result<std::string> RawEcdsaToDer(std::string_view raw) {
  if (raw.size() != 2 * kP256CoordinateBytes) {
    return UnauthenticatedError("JWS ES256 signature must be 64 bytes");
  }
  EcdsaSigPtr sig(ECDSA_SIG_new());
  BIGNUM* r = BN_bin2bn(Bytes(raw), kP256CoordinateBytes, nullptr);
  BIGNUM* s = BN_bin2bn(Bytes(raw.substr(kP256CoordinateBytes)), kP256CoordinateBytes, nullptr);
  // On success ECDSA_SIG_set0 takes ownership of r and s.
  if (sig == nullptr || r == nullptr || s == nullptr || ECDSA_SIG_set0(sig.get(), r, s) != 1) {
    BN_free(r);
    BN_free(s);
    return OpenSslError(InternalError("OpenSSL could not build an ECDSA signature"));
  }
  const int len = i2d_ECDSA_SIG(sig.get(), nullptr);
  if (len <= 0) return OpenSslError(InternalError("OpenSSL could not encode an ECDSA signature"));
  std::string der(static_cast<size_t>(len), '\0');
  auto* out = reinterpret_cast<unsigned char*>(der.data());
  if (i2d_ECDSA_SIG(sig.get(), &out) != len) {
    return OpenSslError(InternalError("OpenSSL could not encode an ECDSA signature"));
  }
  return der;
}

Status SetPssParameters(EVP_PKEY_CTX* pctx) {
  if (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1 ||
      EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, EVP_sha256()) != 1 ||
      EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, kPssSaltBytes) != 1) {
    return OpenSslError(InternalError("OpenSSL could not set RSA-PSS parameters"));
  }
  return OkStatus();
}

Status VerifySignature(const JsonWebKey& key, Alg alg, std::string_view signing_input,
                       std::string_view signature) {
  std::string der;
  if (alg == Alg::kEs256) {
    SB_ASSIGN_OR_RETURN(der, RawEcdsaToDer(signature));
    signature = der;
  }
  MdCtxPtr ctx(EVP_MD_CTX_new());
  EVP_PKEY_CTX* pctx = nullptr;  // owned by ctx
  if (ctx == nullptr ||
      EVP_DigestVerifyInit(ctx.get(), &pctx, EVP_sha256(), nullptr, key.pkey.get()) != 1) {
    return OpenSslError(InternalError("OpenSSL could not start signature verification"));
  }
  if (alg == Alg::kPs256) SB_RETURN_IF_ERROR(SetPssParameters(pctx));
  if (EVP_DigestVerify(ctx.get(), Bytes(signature), signature.size(), Bytes(signing_input),
                       signing_input.size()) != 1) {
    return OpenSslError(UnauthenticatedError("JWS signature does not verify"));
  }
  return OkStatus();
}

}  // namespace

Result<Jws> ParseCompactJws(std::string_view token, size_t max_bytes) {
  if (token.size() > max_bytes) return InvalidArgumentError("JWS exceeds the size limit");
  const size_t first = token.find('.');
  const size_t second = first == std::string_view::npos ? first : token.find('.', first + 1);
  if (second == std::string_view::npos || token.find('.', second + 1) != std::string_view::npos) {
    return InvalidArgumentError("a compact JWS has exactly three parts");
  }
  std::optional<std::string> header = DecodeJoseBase64Url(token.substr(0, first));
  std::optional<std::string> payload =
      DecodeJoseBase64Url(token.substr(first + 1, second - first - 1));
  std::optional<std::string> signature = DecodeJoseBase64Url(token.substr(second + 1));
  if (!header || !payload || !signature) {
    return InvalidArgumentError("JWS part is not base64url without padding");
  }
  Jws jws;
  SB_ASSIGN_OR_RETURN(jws.header, ParseJsonObject(*header, "JWS header"));
  SB_ASSIGN_OR_RETURN(jws.payload, ParseJsonObject(*payload, "JWS payload"));
  auto alg = jws.header.find("alg");
  if (alg == jws.header.end() || !alg->is_string()) {
    return InvalidArgumentError("JWS header has no string \"alg\"");
  }
  if (jws.header.contains("crit")) {
    return InvalidArgumentError("JWS header \"crit\" names extensions that are not supported");
  }
  jws.alg = alg->get<std::string>();
  SB_ASSIGN_OR_RETURN(jws.kid, OptionalString(jws.header, "kid", "JWS header"));
  jws.signing_input = std::string(token.substr(0, second));
  jws.signature = *std::move(signature);
  return jws;
}

Result<JsonWebKeySet> JsonWebKeySet::Parse(const Json& jwks) {
  if (!jwks.is_object() || !jwks.contains("keys") || !jwks["keys"].is_array()) {
    return InvalidArgumentError("JWKS is not an object with a \"keys\" array");
  }
  JsonWebKeySet set;
  for (const Json& jwk : jwks["keys"]) {
    SB_ASSIGN_OR_RETURN(std::shared_ptr<const JsonWebKey> key, ParseKey(jwk));
    if (key != nullptr) set.keys_.push_back(std::move(key));
  }
  if (set.keys_.empty()) return InvalidArgumentError("JWKS has no usable signature key");
  return set;
}

Status JsonWebKeySet::Verify(const Jws& jws, const std::vector<std::string>& allowed_algs) const {
  SB_ASSIGN_OR_RETURN(Alg alg, CheckAlg(jws.alg, allowed_algs));
  SB_ASSIGN_OR_RETURN(const JsonWebKey* key, SelectKey(keys_, jws, alg));
  return VerifySignature(*key, alg, jws.signing_input, jws.signature);
}

}  // namespace sb::vault
