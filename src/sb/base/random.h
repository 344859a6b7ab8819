// Random: the one source of randomness. SystemRandom reads the kernel CSPRNG (getrandom(2)),
// suitable for secrets. Tests may substitute a deterministic implementation. Thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace sb {

class Random {
 public:
  virtual ~Random() = default;
  // Fills `out` with `n` random bytes.
  virtual void Fill(uint8_t* out, size_t n) = 0;

  std::string Bytes(size_t n);
  uint64_t Uint64();
  // A uniform double in [0, 1) (53 random bits), e.g. for jitter.
  double Fraction();
};

class SystemRandom final : public Random {
 public:
  void Fill(uint8_t* out, size_t n) override;
};

}  // namespace sb
