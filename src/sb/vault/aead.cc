#include "sb/vault/aead.h"

#include <cstring>
#include <memory>

#include <openssl/evp.h>

namespace sb::vault {
namespace {

struct CtxFree {
  void operator()(EVP_CIPHER_CTX* c) const { EVP_CIPHER_CTX_free(c); }
};
using CtxPtr = std::unique_ptr<EVP_CIPHER_CTX, CtxFree>;

// One cipher context per thread, reset for each operation (saves an allocation per call).
EVP_CIPHER_CTX* ThreadContext() {
  thread_local CtxPtr ctx(EVP_CIPHER_CTX_new());
  return ctx.get();
}

const auto* U(std::string_view s) { return reinterpret_cast<const unsigned char*>(s.data()); }

Status CheckSizes(std::string_view key, std::string_view nonce) {
  if (key.size() != kKeySize) return InvalidArgumentError("AES-256-GCM needs a 32-byte key");
  if (nonce.size() != kNonceSize) return InvalidArgumentError("AES-GCM needs a 12-byte nonce");
  return OkStatus();
}

}  // namespace

Result<std::string> Aes256GcmSeal(std::string_view key, std::string_view nonce,
                                  std::string_view plaintext, std::string_view aad) {
  SB_RETURN_IF_ERROR(CheckSizes(key, nonce));
  EVP_CIPHER_CTX* ctx = ThreadContext();
  if (ctx == nullptr) return InternalError("EVP_CIPHER_CTX_new failed");
  std::string out(plaintext.size() + kTagSize, '\0');
  auto* o = reinterpret_cast<unsigned char*>(out.data());
  int len = 0;
  int total = 0;
  if (EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), nullptr, U(key), U(nonce)) != 1 ||
      (!aad.empty() && EVP_EncryptUpdate(ctx, nullptr, &len, U(aad), int(aad.size())) != 1) ||
      EVP_EncryptUpdate(ctx, o, &len, U(plaintext), int(plaintext.size())) != 1) {
    return InternalError("AES-GCM encryption failed");
  }
  total = len;
  if (EVP_EncryptFinal_ex(ctx, o + total, &len) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, int(kTagSize), o + plaintext.size()) != 1) {
    return InternalError("AES-GCM encryption failed");
  }
  return out;
}

Result<SecretBytes> Aes256GcmOpen(std::string_view key, std::string_view nonce,
                                  std::string_view ciphertext_and_tag, std::string_view aad) {
  SB_RETURN_IF_ERROR(CheckSizes(key, nonce));
  if (ciphertext_and_tag.size() < kTagSize) return DataLossError("AES-GCM input too short");
  const size_t n = ciphertext_and_tag.size() - kTagSize;
  EVP_CIPHER_CTX* ctx = ThreadContext();
  if (ctx == nullptr) return InternalError("EVP_CIPHER_CTX_new failed");
  SecretBytes out = SecretBytes::Zeroed(n);
  int len = 0;
  unsigned char tag[kTagSize];
  std::memcpy(tag, ciphertext_and_tag.data() + n, kTagSize);
  if (EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), nullptr, U(key), U(nonce)) != 1 ||
      (!aad.empty() && EVP_DecryptUpdate(ctx, nullptr, &len, U(aad), int(aad.size())) != 1) ||
      (n > 0 &&
       EVP_DecryptUpdate(ctx, out.mutable_data(), &len, U(ciphertext_and_tag), int(n)) != 1) ||
      EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, int(kTagSize), tag) != 1) {
    return InternalError("AES-GCM decryption failed");
  }
  unsigned char final_block[16];
  if (EVP_DecryptFinal_ex(ctx, final_block, &len) != 1) {
    return DataLossError("AES-GCM authentication failed");
  }
  return out;
}

}  // namespace sb::vault
