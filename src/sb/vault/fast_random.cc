#include "sb/vault/fast_random.h"

#include <climits>

#include <openssl/rand.h>

#include "sb/base/check.h"

namespace sb::vault {

void OpenSslRandom::Fill(uint8_t* out, size_t n) {
  while (n > 0) {
    const int chunk = n > INT_MAX ? INT_MAX : static_cast<int>(n);
    SB_CHECK(RAND_bytes(out, chunk) == 1);
    out += chunk;
    n -= static_cast<size_t>(chunk);
  }
}

}  // namespace sb::vault
