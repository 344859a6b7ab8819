// SqliteConnection: one sqlite3 handle with its prepared-statement cache. Internal to the SQLite
// backend (the only place that includes sqlite3.h). Not thread-safe: the pool hands a
// connection to one thread at a time.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <sqlite3.h>

#include "sb/base/status.h"

namespace sb::store::sqlite_internal {

// Maps a SQLite result code to a Status. The message names the operation and SQLite's error
// text (which names constraints and columns, never bound values).
Status SqliteError(sqlite3* db, int rc, std::string_view what);

// A prepared statement and where its "$N" placeholders are: indexes[N - 1] is SQLite's index of
// "$N" (0 when the text has no "$N"), so binding needs no lookup by name.
struct CachedStatement {
  sqlite3_stmt* stmt = nullptr;
  std::vector<int> indexes;
};

class SqliteConnection {
 public:
  // Opens `path` (created if missing) with WAL, foreign keys and the given busy timeout.
  static Result<std::unique_ptr<SqliteConnection>> Open(const std::string& path,
                                                        std::chrono::milliseconds busy_timeout);
  ~SqliteConnection();
  SqliteConnection(const SqliteConnection&) = delete;
  SqliteConnection& operator=(const SqliteConnection&) = delete;

  // Returns the cached statement for `sql`, preparing it on first use. The statement stays
  // owned by the connection; callers reset it after use. INVALID_ARGUMENT for more than one
  // statement in `sql`.
  Result<const CachedStatement*> Prepare(std::string_view sql);
  // Runs a parameterless script (sqlite3_exec).
  Status ExecScript(std::string_view sql);
  // Runs a cached parameterless statement to completion (BEGIN, COMMIT, ...).
  Status ExecSimple(std::string_view sql);
  sqlite3* handle() const { return db_; }

 private:
  explicit SqliteConnection(sqlite3* db) : db_(db) {}
  void ClearCache();

  struct StringHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>()(s); }
  };
  // Statement texts are program constants, so the cache stays small; kMaxCached is a backstop.
  static constexpr size_t kMaxCached = 512;

  sqlite3* db_;
  std::unordered_map<std::string, CachedStatement, StringHash, std::equal_to<>> stmts_;
};

}  // namespace sb::store::sqlite_internal
