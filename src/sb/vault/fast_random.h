// OpenSslRandom: a Random over OpenSSL's DRBG (RAND_bytes: NIST SP 800-90A CTR-DRBG, seeded and
// reseeded from the kernel). A CSPRNG suitable for nonces and keys that, unlike SystemRandom,
// does not make a system call per request; the vault draws its GCM nonces from it. Thread-safe.
#pragma once

#include "sb/base/random.h"

namespace sb::vault {

class OpenSslRandom final : public Random {
 public:
  // Aborts (SB_CHECK) if the DRBG fails, which happens only when it cannot be seeded.
  void Fill(uint8_t* out, size_t n) override;
};

}  // namespace sb::vault
