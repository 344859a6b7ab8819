// Password hashing for dashboard users: Argon2id (RFC 9106), memory-hard, through libargon2
// (whose home is this file), stored as the PHC string "$argon2id$v=19$m=..,t=..,p=..$salt$hash"
// so that each hash carries its own parameters and stronger ones can be adopted later
// (NeedsRehash). Verification compares in constant time. A stored hash is read as hostile: its
// parameters are checked against bounds before anything is computed, so that a tampered row
// cannot make a sign-in allocate gigabytes. Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "sb/base/random.h"
#include "sb/base/status.h"

namespace sb::vault {

struct PasswordHashParams {
  // OWASP's Argon2id baseline (19 MiB, 2 passes, 1 lane): about 30-60 ms on one core.
  uint32_t memory_kib = 19 * 1024;
  uint32_t iterations = 2;
  uint32_t parallelism = 1;
};

// What a password may be: 1..1024 bytes (longer ones are refused rather than truncated).
inline constexpr size_t kMaxPasswordBytes = 1024;

// The PHC string of `password` under a fresh 16-byte salt from `random`. INVALID_ARGUMENT for
// an empty or over-long password or parameters outside the bounds; INTERNAL if libargon2 fails.
Result<std::string> HashPassword(std::string_view password, Random& random,
                                 const PasswordHashParams& params = {});

// Whether `password` matches `encoded`. False (never an error) for a wrong password;
// DATA_LOSS for a stored string that is not an Argon2id PHC string within the bounds.
Result<bool> VerifyPassword(std::string_view password, std::string_view encoded);

// Whether `encoded` was made with weaker parameters than `params` (or is unreadable).
bool NeedsRehash(std::string_view encoded, const PasswordHashParams& params);

}  // namespace sb::vault
