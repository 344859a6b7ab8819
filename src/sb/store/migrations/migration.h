// The schema migrations of both backends, embedded in the binary. Each migration is numbered,
// has an up and a down script, and exists in a SQLite and a PostgreSQL variant with the same
// version and name. PostgreSQL scripts create everything in schema `switchboard` and contain
// the placeholder {{app_role}}, which the Migrator replaces with the validated app role name.
// Immutable data; thread-safe.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

namespace sb::store {

struct Migration {
  int64_t version;
  std::string_view name;
  std::string_view up;
  std::string_view down;
};

// Ordered by version, starting at 1, without gaps.
std::span<const Migration> SqliteMigrations();
std::span<const Migration> PostgresMigrations();

}  // namespace sb::store
