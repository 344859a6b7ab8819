// The bearer-secret format API keys and dashboard sessions share: `<prefix><tenant id as 32
// hex>_<256 random bits, base64url>`. The tenant part lets the server open the right tenant's
// transaction before looking the secret up (so PostgreSQL row-level security applies to
// authentication too). Pure functions; thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "sb/base/ids.h"
#include "sb/base/random.h"

namespace sb::tenancy {

// A new token of `tenant` with a fresh secret from `random`.
std::string NewTenantToken(std::string_view prefix, const TenantId& tenant, Random& random);

// The tenant a token names; nullopt unless it has exactly the format above under `prefix`.
std::optional<TenantId> TenantOfToken(std::string_view prefix, std::string_view token);

}  // namespace sb::tenancy
