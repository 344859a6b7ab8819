#include "sandbox/crypto/signing_key.h"

#include <utility>

#include "sandbox/crypto/internal/openssl_util.h"
#include <openssl/core_names.h>
#include <openssl/rsa.h>

#include "sb/base/encoding.h"
#include "sb/base/random.h"

namespace sandbox::crypto {
namespace {

using internal::OpensslError;

constexpr int kMinBits = 2048;
constexpr int kMaxBits = 8192;
constexpr long kCertificateDays = 365;
constexpr std::string_view kCertificateCommonName = "switchboard-sandbox signing key";

sb::Result<internal::PkeyPtr> GenerateRsaKey(int bits) {
  internal::PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, "RSA", nullptr));
  if (ctx == nullptr || EVP_PKEY_keygen_init(ctx.get()) != 1 ||
      EVP_PKEY_CTX_set_rsa_keygen_bits(ctx.get(), bits) != 1) {
    return OpensslError("preparing RSA key generation");
  }
  EVP_PKEY* key = nullptr;
  if (EVP_PKEY_generate(ctx.get(), &key) != 1) return OpensslError("generating an RSA key");
  return internal::PkeyPtr(key);
}

// A big-endian RSA parameter without leading zero bytes, as JWK's n and e want (RFC 7518 6.3.1).
sb::Result<std::string> RsaParameter(EVP_PKEY* key, const char* name) {
  BIGNUM* raw = nullptr;
  if (EVP_PKEY_get_bn_param(key, name, &raw) != 1) {
    return OpensslError(std::string("reading RSA parameter ") + name);
  }
  internal::BignumPtr bn(raw);
  std::string out(static_cast<size_t>(BN_num_bytes(bn.get())), '\0');
  BN_bn2bin(bn.get(), reinterpret_cast<unsigned char*>(out.data()));
  return out;
}

sb::Result<std::string> Sha1(std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), digest, &len, EVP_sha1(), nullptr) != 1) {
    return OpensslError("hashing with SHA-1");
  }
  return std::string(reinterpret_cast<const char*>(digest), len);
}

sb::Result<internal::X509Ptr> SelfSignedCertificate(EVP_PKEY* key) {
  SB_ASSIGN_OR_RETURN(internal::X509Ptr cert,
                      internal::NewCertificate(kCertificateCommonName, key, kCertificateDays));
  X509* c = cert.get();
  if (X509_set_issuer_name(c, X509_get_subject_name(c)) != 1) {
    return OpensslError("setting the certificate issuer");
  }
  // An end-entity certificate that only vouches for signatures: not a CA, not for TLS.
  SB_RETURN_IF_ERROR(internal::AddExtension(c, c, NID_basic_constraints, "critical,CA:FALSE"));
  SB_RETURN_IF_ERROR(internal::AddExtension(c, c, NID_key_usage, "critical,digitalSignature"));
  SB_RETURN_IF_ERROR(internal::AddExtension(c, c, NID_subject_key_identifier, "hash"));
  SB_RETURN_IF_ERROR(internal::SignCertificate(c, key));
  return cert;
}

sb::Result<nlohmann::json> BuildPublicJwk(EVP_PKEY* key, const std::string& kid, X509* cert) {
  SB_ASSIGN_OR_RETURN(std::string n, RsaParameter(key, OSSL_PKEY_PARAM_RSA_N));
  SB_ASSIGN_OR_RETURN(std::string e, RsaParameter(key, OSSL_PKEY_PARAM_RSA_E));
  SB_ASSIGN_OR_RETURN(std::string der, internal::CertificateDer(cert));
  SB_ASSIGN_OR_RETURN(std::string thumbprint, Sha1(der));
  return nlohmann::json{
      {"kty", "RSA"},
      {"use", "sig"},
      {"alg", "RS256"},
      {"kid", kid},
      {"n", sb::Base64UrlEncode(n)},
      {"e", sb::Base64UrlEncode(e)},
      // x5c is plain base64 (RFC 7517 4.7); x5t is base64url (4.8).
      {"x5c", nlohmann::json::array({sb::Base64Encode(der)})},
      {"x5t", sb::Base64UrlEncode(thumbprint)},
  };
}

}  // namespace

void RsaSigningKey::PkeyFree::operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }

sb::Result<RsaSigningKey> RsaSigningKey::Generate(int bits) {
  if (bits < kMinBits || bits > kMaxBits) {
    return sb::InvalidArgumentError("an RSA signing key needs 2048 to 8192 bits");
  }
  SB_ASSIGN_OR_RETURN(internal::PkeyPtr pkey, GenerateRsaKey(bits));
  SB_ASSIGN_OR_RETURN(internal::X509Ptr cert, SelfSignedCertificate(pkey.get()));

  RsaSigningKey key;
  sb::SystemRandom random;
  key.kid_ = sb::HexEncode(random.Bytes(16));
  SB_ASSIGN_OR_RETURN(key.certificate_pem_, internal::CertificatePem(cert.get()));
  SB_ASSIGN_OR_RETURN(key.public_key_pem_, internal::PublicKeyPem(pkey.get()));
  SB_ASSIGN_OR_RETURN(key.public_jwk_, BuildPublicJwk(pkey.get(), key.kid_, cert.get()));
  key.key_.reset(pkey.release());
  return key;
}

sb::Result<std::string> RsaSigningKey::SignRs256(std::string_view message) const {
  if (key_ == nullptr) return sb::FailedPreconditionError("the signing key was moved from");
  internal::MdCtxPtr ctx(EVP_MD_CTX_new());
  EVP_PKEY_CTX* pctx = nullptr;  // owned by ctx
  if (ctx == nullptr ||
      EVP_DigestSignInit_ex(ctx.get(), &pctx, "SHA256", nullptr, nullptr, key_.get(), nullptr) !=
          1 ||
      // PKCS#1 v1.5 is OpenSSL's default for RSA; set it anyway because RS256 means exactly
      // this padding and a changed default would silently produce PSS signatures.
      EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) != 1) {
    return OpensslError("preparing an RS256 signature");
  }
  size_t len = 0;
  if (EVP_DigestSign(ctx.get(), nullptr, &len, internal::Uchars(message), message.size()) != 1) {
    return OpensslError("sizing an RS256 signature");
  }
  std::string signature(len, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(signature.data()), &len,
                     internal::Uchars(message), message.size()) != 1) {
    return OpensslError("computing an RS256 signature");
  }
  signature.resize(len);
  return signature;
}

nlohmann::json RsaSigningKey::PublicJwk() const { return public_jwk_; }

}  // namespace sandbox::crypto
