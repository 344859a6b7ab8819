#include "sb/base/random.h"

#include <cerrno>
#include <cstdlib>

#include <sys/random.h>

#include "sb/base/check.h"

namespace sb {

std::string Random::Bytes(size_t n) {
  std::string out(n, '\0');
  Fill(reinterpret_cast<uint8_t*>(out.data()), n);
  return out;
}

uint64_t Random::Uint64() {
  uint64_t v = 0;
  Fill(reinterpret_cast<uint8_t*>(&v), sizeof(v));
  return v;
}

double Random::Fraction() {
  return static_cast<double>(Uint64() >> 11) * (1.0 / 9007199254740992.0);  // 2^-53
}

void SystemRandom::Fill(uint8_t* out, size_t n) {
  size_t done = 0;
  while (done < n) {
    ssize_t got = getrandom(out + done, n - done, 0);
    if (got < 0) {
      SB_CHECK(errno == EINTR);  // the kernel CSPRNG failing otherwise is unrecoverable
      continue;
    }
    done += static_cast<size_t>(got);
  }
}

}  // namespace sb
