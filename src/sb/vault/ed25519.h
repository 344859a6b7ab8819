// Ed25519 signatures (RFC 8032, pure Ed25519) over OpenSSL's EVP_PKEY_ED25519, for the audit
// log's signed checkpoints (TL-03). OpenSSL stays out of this header.
//
// Ed25519PrivateKey is move-only and owns its OpenSSL key; seed buffers that pass through this
// module are wiped with OPENSSL_cleanse. Keys are immutable after construction, so one key may
// sign from several threads at once; Ed25519Verify is a pure function. Thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "sb/base/random.h"
#include "sb/base/status.h"

struct evp_pkey_st;  // OpenSSL's EVP_PKEY

namespace sb::vault {

inline constexpr size_t kEd25519SeedSize = 32;
inline constexpr size_t kEd25519PublicKeySize = 32;
inline constexpr size_t kEd25519SignatureSize = 64;

class Ed25519PrivateKey {
 public:
  // A fresh key from `random` (32 random bytes are the seed).
  static Ed25519PrivateKey Generate(Random& random);
  // The key whose RFC 8032 secret key (seed) is `seed`. INVALID_ARGUMENT unless 32 bytes. The
  // caller wipes its own copy of the seed.
  static Result<Ed25519PrivateKey> FromSeed(std::string_view seed);

  Ed25519PrivateKey(Ed25519PrivateKey&& other) noexcept;
  Ed25519PrivateKey& operator=(Ed25519PrivateKey&& other) noexcept;
  Ed25519PrivateKey(const Ed25519PrivateKey&) = delete;
  Ed25519PrivateKey& operator=(const Ed25519PrivateKey&) = delete;
  ~Ed25519PrivateKey();

  // The raw 32-byte public key.
  std::string PublicKey() const;
  // The raw 64-byte signature of `message`.
  std::string Sign(std::string_view message) const;
  // Writes the 32-byte seed to `out` (for the key file). The caller must wipe `out` after use.
  void ExportSeed(std::span<uint8_t, kEd25519SeedSize> out) const;

 private:
  explicit Ed25519PrivateKey(evp_pkey_st* key) : key_(key) {}
  evp_pkey_st* key_ = nullptr;  // owned; null only after a move
};

// True when `signature` is a valid Ed25519 signature of `message` under the raw 32-byte
// `public_key`. False (never an error) for keys or signatures of the wrong length.
bool Ed25519Verify(std::string_view public_key, std::string_view message,
                   std::string_view signature);

}  // namespace sb::vault
