// Private to sandbox/crypto: RAII handles and small helpers shared by the signing key, the
// certificate authority, the JWT code and their test. Not part of the module's API.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "sb/base/random.h"
#include "sb/base/status.h"

namespace sandbox::crypto::internal {

// One deleter template instead of a struct per OpenSSL type.
template <auto FreeFn>
struct Free {
  template <typename T>
  void operator()(T* p) const {
    FreeFn(p);
  }
};

using PkeyPtr = std::unique_ptr<EVP_PKEY, Free<EVP_PKEY_free>>;
using PkeyCtxPtr = std::unique_ptr<EVP_PKEY_CTX, Free<EVP_PKEY_CTX_free>>;
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, Free<EVP_MD_CTX_free>>;
using X509Ptr = std::unique_ptr<X509, Free<X509_free>>;
using X509ExtensionPtr = std::unique_ptr<X509_EXTENSION, Free<X509_EXTENSION_free>>;
using GeneralNamesPtr = std::unique_ptr<GENERAL_NAMES, Free<GENERAL_NAMES_free>>;
using BioPtr = std::unique_ptr<BIO, Free<BIO_free>>;
using BignumPtr = std::unique_ptr<BIGNUM, Free<BN_free>>;
using Asn1IntegerPtr = std::unique_ptr<ASN1_INTEGER, Free<ASN1_INTEGER_free>>;

inline const unsigned char* Uchars(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

// Builds an error from the newest OpenSSL error and empties the thread's error queue: a stale
// entry left there would be blamed on whatever unrelated TLS call runs next on this thread.
inline sb::Status OpensslError(std::string_view what) {
  std::string message(what);
  if (unsigned long code = ERR_peek_last_error(); code != 0) {
    char reason[256];
    ERR_error_string_n(code, reason, sizeof(reason));
    message += " (";
    message += reason;
    message += ")";
  }
  ERR_clear_error();
  return sb::InternalError(std::move(message));
}

// Everything written to a memory BIO so far.
inline std::string BioContents(BIO* bio) {
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  return len > 0 ? std::string(data, static_cast<size_t>(len)) : std::string();
}

inline BioPtr ReadOnlyBio(std::string_view text) {
  return BioPtr(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
}

inline sb::Result<std::string> CertificatePem(X509* cert) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (bio == nullptr || PEM_write_bio_X509(bio.get(), cert) != 1) {
    return OpensslError("encoding a certificate as PEM");
  }
  return BioContents(bio.get());
}

inline sb::Result<std::string> CertificateDer(X509* cert) {
  unsigned char* der = nullptr;
  int len = i2d_X509(cert, &der);
  if (len <= 0) return OpensslError("encoding a certificate as DER");
  std::string out(reinterpret_cast<const char*>(der), static_cast<size_t>(len));
  OPENSSL_free(der);
  return out;
}

// PKCS#8 ("BEGIN PRIVATE KEY"), which every TLS stack and language runtime reads.
inline sb::Result<std::string> PrivateKeyPem(EVP_PKEY* key) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (bio == nullptr ||
      PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    return OpensslError("encoding a private key as PEM");
  }
  return BioContents(bio.get());
}

// SubjectPublicKeyInfo ("BEGIN PUBLIC KEY").
inline sb::Result<std::string> PublicKeyPem(EVP_PKEY* key) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (bio == nullptr || PEM_write_bio_PUBKEY(bio.get(), key) != 1) {
    return OpensslError("encoding a public key as PEM");
  }
  return BioContents(bio.get());
}

// A random serial of exactly 16 octets. RFC 5280 wants it positive, non-zero and at most 20
// octets: clearing the top bit keeps the DER INTEGER positive without a padding byte, and
// setting the next one keeps it non-zero and of fixed length (126 random bits remain).
inline sb::Status SetRandomSerial(X509* cert) {
  sb::SystemRandom random;
  std::string bytes = random.Bytes(16);
  bytes[0] = static_cast<char>((static_cast<uint8_t>(bytes[0]) & 0x7F) | 0x40);
  BignumPtr bn(BN_bin2bn(Uchars(bytes), static_cast<int>(bytes.size()), nullptr));
  if (bn == nullptr) return OpensslError("building a serial number");
  Asn1IntegerPtr serial(BN_to_ASN1_INTEGER(bn.get(), nullptr));
  if (serial == nullptr || X509_set_serialNumber(cert, serial.get()) != 1) {
    return OpensslError("setting the serial number");
  }
  return sb::OkStatus();
}

// Starts a v3 certificate for `subject_key`: random serial, subject CN=`common_name`, valid
// from one day ago (tolerates clock skew between the sandbox and its clients) for
// `valid_days`. The caller sets the issuer, adds extensions and signs.
inline sb::Result<X509Ptr> NewCertificate(std::string_view common_name, EVP_PKEY* subject_key,
                                          long valid_days) {
  X509Ptr cert(X509_new());
  if (cert == nullptr) return OpensslError("allocating a certificate");
  if (X509_set_version(cert.get(), X509_VERSION_3) != 1) {
    return OpensslError("setting the certificate version");
  }
  SB_RETURN_IF_ERROR(SetRandomSerial(cert.get()));
  if (X509_gmtime_adj(X509_getm_notBefore(cert.get()), -24L * 60 * 60) == nullptr ||
      X509_time_adj_ex(X509_getm_notAfter(cert.get()), static_cast<int>(valid_days), 0, nullptr) ==
          nullptr) {
    return OpensslError("setting the validity period");
  }
  X509_NAME* name = X509_get_subject_name(cert.get());
  if (X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, Uchars(common_name),
                                 static_cast<int>(common_name.size()), -1, 0) != 1) {
    return sb::InvalidArgumentError("the certificate common name is not acceptable");
  }
  if (X509_set_pubkey(cert.get(), subject_key) != 1) {
    return OpensslError("setting the certificate public key");
  }
  return cert;
}

// Adds an extension written in OpenSSL's config syntax ("critical,CA:TRUE"). Only for fixed
// strings from this module: values from callers go through typed builders, so a comma in a
// host name cannot smuggle in another entry.
inline sb::Status AddExtension(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509ExtensionPtr ext(X509V3_EXT_nconf_nid(nullptr, &ctx, nid, value));
  if (ext == nullptr || X509_add_ext(cert, ext.get(), -1) != 1) {
    return OpensslError(std::string("adding certificate extension ") + OBJ_nid2sn(nid));
  }
  return sb::OkStatus();
}

inline sb::Status SignCertificate(X509* cert, EVP_PKEY* issuer_key) {
  // X509_sign returns the signature length, 0 on failure.
  if (X509_sign(cert, issuer_key, EVP_sha256()) <= 0) {
    return OpensslError("signing a certificate");
  }
  return sb::OkStatus();
}

}  // namespace sandbox::crypto::internal
