#include "sb/base/check.h"

#include <cstdio>
#include <cstdlib>

namespace sb::internal {

void CheckFailed(const char* expr, const char* file, int line) {
  std::fprintf(stderr, "SB_CHECK failed: %s at %s:%d\n", expr, file, line);
  std::abort();
}

}  // namespace sb::internal
