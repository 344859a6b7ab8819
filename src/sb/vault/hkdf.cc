#include "sb/vault/hkdf.h"

#include <memory>

#include <openssl/core_names.h>
#include <openssl/kdf.h>
#include <openssl/params.h>

namespace sb::vault {

Result<SecretBytes> HkdfSha256(std::string_view ikm, std::string_view salt, std::string_view info,
                               size_t length) {
  if (ikm.empty()) return InvalidArgumentError("HKDF needs input key material");
  if (length == 0 || length > size_t{255} * 32) {
    return InvalidArgumentError("HKDF length out of range");
  }
  // NOLINTNEXTLINE(cppcoreguidelines-avoid-non-const-global-variables): EVP_KDF_CTX_new takes it
  static EVP_KDF* const kdf = EVP_KDF_fetch(nullptr, "HKDF", nullptr);  // thread-safe, shared
  if (kdf == nullptr) return InternalError("HKDF is unavailable");
  std::unique_ptr<EVP_KDF_CTX, decltype(&EVP_KDF_CTX_free)> ctx(EVP_KDF_CTX_new(kdf),
                                                                &EVP_KDF_CTX_free);
  if (!ctx) return InternalError("EVP_KDF_CTX_new failed");
  char digest[] = "SHA256";
  OSSL_PARAM params[5];
  size_t n = 0;
  params[n++] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, digest, 0);
  params[n++] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, const_cast<char*>(ikm.data()),
                                                  ikm.size());
  if (!salt.empty()) {
    params[n++] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT,
                                                    const_cast<char*>(salt.data()), salt.size());
  }
  params[n++] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO,
                                                  const_cast<char*>(info.data()), info.size());
  params[n] = OSSL_PARAM_construct_end();
  SecretBytes out = SecretBytes::Zeroed(length);
  if (EVP_KDF_derive(ctx.get(), out.mutable_data(), length, params) != 1) {
    return InternalError("HKDF derivation failed");
  }
  return out;
}

}  // namespace sb::vault
