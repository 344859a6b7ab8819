#include "sb/store/sqlite/sqlite_connection.h"

#include <cctype>
#include <charconv>
#include <string>

namespace sb::store::sqlite_internal {
namespace {

StatusCode CodeFor(int rc) {
  switch (rc) {
    case SQLITE_CONSTRAINT_UNIQUE:
    case SQLITE_CONSTRAINT_PRIMARYKEY:
      return StatusCode::kAlreadyExists;
    case SQLITE_CONSTRAINT_FOREIGNKEY:
      return StatusCode::kFailedPrecondition;
    case SQLITE_CONSTRAINT_NOTNULL:
    case SQLITE_CONSTRAINT_CHECK:
    case SQLITE_MISMATCH:
    case SQLITE_RANGE:
      return StatusCode::kInvalidArgument;
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return StatusCode::kDataLoss;
    case SQLITE_READONLY:
      return StatusCode::kFailedPrecondition;
    default:
      break;
  }
  switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return StatusCode::kAborted;
    case SQLITE_CANTOPEN:
    case SQLITE_IOERR:
    case SQLITE_FULL:
      return StatusCode::kUnavailable;
    default:
      return StatusCode::kInternal;
  }
}

bool IsBlank(std::string_view s) {
  for (char c : s) {
    if (!std::isspace(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

// indexes[N - 1]: SQLite's index of the placeholder "$N", for N in 1..parameter count.
std::vector<int> PlaceholderIndexes(sqlite3_stmt* stmt) {
  const int count = sqlite3_bind_parameter_count(stmt);
  std::vector<int> indexes(static_cast<size_t>(count), 0);
  for (int i = 1; i <= count; ++i) {
    const char* name = sqlite3_bind_parameter_name(stmt, i);
    if (name == nullptr || name[0] != '$') continue;
    const std::string_view digits(name + 1);
    int n = 0;
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), n);
    if (ec != std::errc() || end != digits.data() + digits.size() || n < 1 || n > count) continue;
    indexes[static_cast<size_t>(n - 1)] = i;
  }
  return indexes;
}

}  // namespace

Status SqliteError(sqlite3* db, int rc, std::string_view what) {
  std::string msg = "sqlite " + std::string(what) + ": ";
  msg += db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  return Status(CodeFor(rc), std::move(msg));
}

Result<std::unique_ptr<SqliteConnection>> SqliteConnection::Open(
    const std::string& path, std::chrono::milliseconds busy_timeout) {
  sqlite3* db = nullptr;
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
  int rc = sqlite3_open_v2(path.c_str(), &db, flags, nullptr);
  if (rc != SQLITE_OK) {
    Status s = SqliteError(db, rc, "open");
    sqlite3_close_v2(db);
    return s;
  }
  sqlite3_extended_result_codes(db, 1);
  sqlite3_busy_timeout(db, static_cast<int>(busy_timeout.count()));
  std::unique_ptr<SqliteConnection> conn(new SqliteConnection(db));
  // synchronous=NORMAL is durable against application crashes in WAL mode and avoids an fsync
  // per commit; a power loss may lose the last transactions but never corrupts the file.
  // temp_store=MEMORY keeps statement journals off disk: in a transaction of many statements
  // (a sync page stores hundreds of events with their changes) every statement otherwise wrote
  // the pages it touched to a temporary file first, three times the WAL's writes.
  SB_RETURN_IF_ERROR(
      conn->ExecScript("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA "
                       "foreign_keys=ON; PRAGMA temp_store=MEMORY;"));
  return conn;
}

SqliteConnection::~SqliteConnection() {
  ClearCache();
  sqlite3_close_v2(db_);
}

void SqliteConnection::ClearCache() {
  for (auto& [sql, cached] : stmts_) sqlite3_finalize(cached.stmt);
  stmts_.clear();
}

Result<const CachedStatement*> SqliteConnection::Prepare(std::string_view sql) {
  if (auto it = stmts_.find(sql); it != stmts_.end()) return &it->second;
  if (stmts_.size() >= kMaxCached) ClearCache();
  sqlite3_stmt* stmt = nullptr;
  const char* tail = nullptr;
  int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()),
                              SQLITE_PREPARE_PERSISTENT, &stmt, &tail);
  if (rc != SQLITE_OK) return SqliteError(db_, rc, "prepare");
  if (stmt == nullptr) return InvalidArgumentError("sqlite prepare: empty statement");
  if (!IsBlank(std::string_view(tail, sql.data() + sql.size() - tail))) {
    sqlite3_finalize(stmt);
    return InvalidArgumentError("sqlite prepare: more than one statement");
  }
  auto [it, inserted] =
      stmts_.emplace(std::string(sql), CachedStatement{stmt, PlaceholderIndexes(stmt)});
  return &it->second;
}

Status SqliteConnection::ExecScript(std::string_view sql) {
  std::string text(sql);
  int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) return SqliteError(db_, rc, "exec");
  return OkStatus();
}

Status SqliteConnection::ExecSimple(std::string_view sql) {
  SB_ASSIGN_OR_RETURN(const CachedStatement* cached, Prepare(sql));
  sqlite3_stmt* stmt = cached->stmt;
  int rc = sqlite3_step(stmt);
  sqlite3_reset(stmt);
  if (rc != SQLITE_DONE && rc != SQLITE_ROW) return SqliteError(db_, rc, sql);
  return OkStatus();
}

}  // namespace sb::store::sqlite_internal
