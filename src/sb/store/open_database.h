// OpenDatabase: picks and opens the backend named by a database URL. Used by the composition
// root (app/) and by tools; everything else receives a Database&.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "sb/base/status.h"
#include "sb/store/database.h"

namespace sb::store {

struct DatabaseOptions {
  // `sqlite:PATH` (e.g. sqlite:/var/lib/switchboard/hub.db, sqlite::memory:) or
  // `postgres://...` / `postgresql://...` (passed to libpq as is; may hold a password, which
  // never appears in a returned Status).
  std::string url;
  // Connections in the pool; SQLite opens all of them, PostgreSQL at most this many.
  int pool_size = 4;
  // SQLite: how long to wait for a lock held by another process.
  std::chrono::milliseconds busy_timeout{5000};
  // How long a transaction waits for a pooled connection before UNAVAILABLE.
  std::chrono::milliseconds acquire_timeout{5000};
  // PostgreSQL: connect timeout per connection attempt.
  std::chrono::seconds connect_timeout{5};
};

// Opens the database. Errors: INVALID_ARGUMENT (unknown scheme, empty path, bad pool size),
// UNAVAILABLE (cannot open the file or reach the server). Does not run migrations.
Result<std::unique_ptr<Database>> OpenDatabase(const DatabaseOptions& options);

}  // namespace sb::store
