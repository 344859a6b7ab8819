// Helpers shared by the repositories: the tenant-scope check every repository call makes, and
// strict column readers that turn malformed stored data into DATA_LOSS instead of guessing.
// Pure functions; thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "sb/base/clock.h"
#include "sb/base/ids.h"
#include "sb/base/status.h"
#include "sb/store/database.h"

namespace sb::store::internal {

// OK when `tenant` is a valid id and `tx` is scoped to exactly that tenant. INVALID_ARGUMENT for
// a malformed id, PERMISSION_DENIED for an unscoped or differently scoped transaction.
Status CheckTenantScope(const Transaction& tx, const TenantId& tenant);

// Column readers; `table` names the table in the DATA_LOSS message (never the value).
Result<std::string> ReadUuid(const Row& row, size_t i, std::string_view table);
Result<std::string> ReadText(const Row& row, size_t i, std::string_view table);
Result<Timestamp> ReadTimestamp(const Row& row, size_t i, std::string_view table);
Result<std::optional<Timestamp>> ReadOptionalTimestamp(const Row& row, size_t i,
                                                       std::string_view table);

}  // namespace sb::store::internal
