// SB_CHECK: always-on invariant checks whose violation would corrupt data or cross tenants.
// SB_DCHECK: cheap internal checks, compiled out in release builds. Never use either on input
// from users, providers or the database: return a Status instead.
#pragma once

namespace sb::internal {
[[noreturn]] void CheckFailed(const char* expr, const char* file, int line);
}  // namespace sb::internal

#define SB_CHECK(cond) \
  ((cond) ? static_cast<void>(0) : ::sb::internal::CheckFailed(#cond, __FILE__, __LINE__))

#ifdef NDEBUG
#define SB_DCHECK(cond) static_cast<void>(0)
#else
#define SB_DCHECK(cond) SB_CHECK(cond)
#endif
