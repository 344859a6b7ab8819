#include "sb/vault/aead.h"

#include <array>
#include <cstdint>
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

namespace {

// Seals with `ctx`; `rekey` sets cipher and key first, otherwise only the nonce changes.
Result<std::string> SealWith(EVP_CIPHER_CTX* ctx, bool rekey, std::string_view key,
                             std::string_view nonce, std::string_view plaintext,
                             std::string_view aad) {
  if (ctx == nullptr) return InternalError("EVP_CIPHER_CTX_new failed");
  std::string out(plaintext.size() + kTagSize, '\0');
  auto* o = reinterpret_cast<unsigned char*>(out.data());
  int len = 0;
  const int init = rekey ? EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), nullptr, U(key), U(nonce))
                         : EVP_EncryptInit_ex(ctx, nullptr, nullptr, nullptr, U(nonce));
  if (init != 1 ||
      (!aad.empty() && EVP_EncryptUpdate(ctx, nullptr, &len, U(aad), int(aad.size())) != 1) ||
      EVP_EncryptUpdate(ctx, o, &len, U(plaintext), int(plaintext.size())) != 1) {
    return InternalError("AES-GCM encryption failed");
  }
  const int total = len;
  if (EVP_EncryptFinal_ex(ctx, o + total, &len) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, int(kTagSize), o + plaintext.size()) != 1) {
    return InternalError("AES-GCM encryption failed");
  }
  return out;
}

Result<SecretBytes> OpenWith(EVP_CIPHER_CTX* ctx, bool rekey, std::string_view key,
                             std::string_view nonce, std::string_view ciphertext_and_tag,
                             std::string_view aad) {
  if (ciphertext_and_tag.size() < kTagSize) return DataLossError("AES-GCM input too short");
  if (ctx == nullptr) return InternalError("EVP_CIPHER_CTX_new failed");
  const size_t n = ciphertext_and_tag.size() - kTagSize;
  SecretBytes out = SecretBytes::Zeroed(n);
  int len = 0;
  unsigned char tag[kTagSize];
  std::memcpy(tag, ciphertext_and_tag.data() + n, kTagSize);
  const int init = rekey ? EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), nullptr, U(key), U(nonce))
                         : EVP_DecryptInit_ex(ctx, nullptr, nullptr, nullptr, U(nonce));
  if (init != 1 ||
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

// Per-thread cipher contexts keyed once per key id (key schedule and GHASH table computed once),
// a few keys per thread, replaced round-robin. EVP_CIPHER_CTX_free cleanses them.
struct KeyedContexts {
  uint64_t id = 0;
  CtxPtr enc;
  CtxPtr dec;
  bool enc_keyed = false;
  bool dec_keyed = false;
};

constexpr size_t kCachedKeysPerThread = 8;

KeyedContexts& ContextsFor(uint64_t key_id) {
  thread_local std::array<KeyedContexts, kCachedKeysPerThread> slots;
  thread_local size_t next = 0;
  for (KeyedContexts& slot : slots) {
    if (slot.id == key_id && key_id != 0) return slot;
  }
  KeyedContexts& slot = slots[next];
  next = (next + 1) % slots.size();
  slot.id = key_id;
  slot.enc.reset(EVP_CIPHER_CTX_new());
  slot.dec.reset(EVP_CIPHER_CTX_new());
  slot.enc_keyed = slot.dec_keyed = false;
  return slot;
}

}  // namespace

Result<std::string> Aes256GcmSeal(std::string_view key, std::string_view nonce,
                                  std::string_view plaintext, std::string_view aad) {
  SB_RETURN_IF_ERROR(CheckSizes(key, nonce));
  return SealWith(ThreadContext(), /*rekey=*/true, key, nonce, plaintext, aad);
}

Result<SecretBytes> Aes256GcmOpen(std::string_view key, std::string_view nonce,
                                  std::string_view ciphertext_and_tag, std::string_view aad) {
  SB_RETURN_IF_ERROR(CheckSizes(key, nonce));
  return OpenWith(ThreadContext(), /*rekey=*/true, key, nonce, ciphertext_and_tag, aad);
}

Result<std::string> Aes256GcmSealCached(uint64_t key_id, std::string_view key,
                                        std::string_view nonce, std::string_view plaintext,
                                        std::string_view aad) {
  SB_RETURN_IF_ERROR(CheckSizes(key, nonce));
  KeyedContexts& c = ContextsFor(key_id);
  const bool rekey = !c.enc_keyed;
  Result<std::string> out = SealWith(c.enc.get(), rekey, key, nonce, plaintext, aad);
  c.enc_keyed = out.ok();
  return out;
}

Result<SecretBytes> Aes256GcmOpenCached(uint64_t key_id, std::string_view key,
                                        std::string_view nonce, std::string_view ciphertext_and_tag,
                                        std::string_view aad) {
  SB_RETURN_IF_ERROR(CheckSizes(key, nonce));
  KeyedContexts& c = ContextsFor(key_id);
  const bool rekey = !c.dec_keyed;
  Result<SecretBytes> out = OpenWith(c.dec.get(), rekey, key, nonce, ciphertext_and_tag, aad);
  // A failed tag check leaves the context keyed and reusable; other failures re-key next time.
  c.dec_keyed = out.ok() || out.status().code() == StatusCode::kDataLoss;
  return out;
}

}  // namespace sb::vault
