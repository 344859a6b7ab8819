#include "sb/vault/ed25519.h"

#include <array>
#include <memory>
#include <utility>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "sb/base/check.h"

namespace sb::vault {
namespace {

struct MdCtxFree {
  void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, MdCtxFree>;

struct PkeyFree {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;

const unsigned char* Bytes(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

}  // namespace

Ed25519PrivateKey Ed25519PrivateKey::Generate(Random& random) {
  std::array<uint8_t, kEd25519SeedSize> seed;
  random.Fill(seed.data(), seed.size());
  Result<Ed25519PrivateKey> key =
      FromSeed(std::string_view(reinterpret_cast<const char*>(seed.data()), seed.size()));
  OPENSSL_cleanse(seed.data(), seed.size());
  SB_CHECK(key.ok());  // 32 bytes are always a valid seed
  return std::move(key).value();
}

Result<Ed25519PrivateKey> Ed25519PrivateKey::FromSeed(std::string_view seed) {
  if (seed.size() != kEd25519SeedSize) {
    return InvalidArgumentError("an Ed25519 seed has 32 bytes");
  }
  EVP_PKEY* key = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr, Bytes(seed), seed.size());
  if (key == nullptr) return InternalError("OpenSSL rejected the Ed25519 seed");
  return Ed25519PrivateKey(key);
}

Ed25519PrivateKey::Ed25519PrivateKey(Ed25519PrivateKey&& other) noexcept
    : key_(std::exchange(other.key_, nullptr)) {}

Ed25519PrivateKey& Ed25519PrivateKey::operator=(Ed25519PrivateKey&& other) noexcept {
  if (this != &other) {
    EVP_PKEY_free(key_);
    key_ = std::exchange(other.key_, nullptr);
  }
  return *this;
}

Ed25519PrivateKey::~Ed25519PrivateKey() { EVP_PKEY_free(key_); }

std::string Ed25519PrivateKey::PublicKey() const {
  SB_CHECK(key_ != nullptr);
  std::string out(kEd25519PublicKeySize, '\0');
  size_t len = out.size();
  SB_CHECK(EVP_PKEY_get_raw_public_key(key_, reinterpret_cast<unsigned char*>(out.data()), &len) ==
           1);
  SB_CHECK(len == kEd25519PublicKeySize);
  return out;
}

std::string Ed25519PrivateKey::Sign(std::string_view message) const {
  SB_CHECK(key_ != nullptr);
  MdCtxPtr ctx(EVP_MD_CTX_new());
  SB_CHECK(ctx != nullptr);
  // Pure Ed25519 takes no digest: the message goes to the one-shot DigestSign whole.
  SB_CHECK(EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, key_) == 1);
  std::string signature(kEd25519SignatureSize, '\0');
  size_t len = signature.size();
  SB_CHECK(EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(signature.data()), &len,
                          Bytes(message), message.size()) == 1);
  SB_CHECK(len == kEd25519SignatureSize);
  return signature;
}

void Ed25519PrivateKey::ExportSeed(std::span<uint8_t, kEd25519SeedSize> out) const {
  SB_CHECK(key_ != nullptr);
  size_t len = out.size();
  SB_CHECK(EVP_PKEY_get_raw_private_key(key_, out.data(), &len) == 1);
  SB_CHECK(len == kEd25519SeedSize);
}

bool Ed25519Verify(std::string_view public_key, std::string_view message,
                   std::string_view signature) {
  if (public_key.size() != kEd25519PublicKeySize || signature.size() != kEd25519SignatureSize) {
    return false;
  }
  PkeyPtr key(
      EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr, Bytes(public_key), public_key.size()));
  if (key == nullptr) return false;
  MdCtxPtr ctx(EVP_MD_CTX_new());
  if (ctx == nullptr) return false;
  if (EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, key.get()) != 1) return false;
  return EVP_DigestVerify(ctx.get(), Bytes(signature), signature.size(), Bytes(message),
                          message.size()) == 1;
}

}  // namespace sb::vault
