#include "sb/store/open_database.h"

#include <string_view>

#include "sb/store/postgres/postgres_database.h"
#include "sb/store/sqlite/sqlite_database.h"

namespace sb::store {

Result<std::unique_ptr<Database>> OpenDatabase(const DatabaseOptions& options) {
  const std::string_view url = options.url;
  if (url.starts_with("sqlite:")) {
    SqliteOptions sqlite;
    sqlite.path = std::string(url.substr(std::string_view("sqlite:").size()));
    sqlite.pool_size = options.pool_size;
    sqlite.busy_timeout = options.busy_timeout;
    sqlite.acquire_timeout = options.acquire_timeout;
    SB_ASSIGN_OR_RETURN(auto db, SqliteDatabase::Open(sqlite));
    return std::unique_ptr<Database>(std::move(db));
  }
  if (url.starts_with("postgres://") || url.starts_with("postgresql://")) {
    PostgresOptions pg;
    pg.url = options.url;
    pg.pool_size = options.pool_size;
    pg.acquire_timeout = options.acquire_timeout;
    pg.connect_timeout = options.connect_timeout;
    SB_ASSIGN_OR_RETURN(auto db, PostgresDatabase::Open(pg));
    return std::unique_ptr<Database>(std::move(db));
  }
  return InvalidArgumentError("database url must start with sqlite:, postgres:// or postgresql://");
}

}  // namespace sb::store
