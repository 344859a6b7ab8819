#include "sb/store/sqlite/sqlite_database.h"

#include <array>
#include <charconv>

#include "sb/store/sqlite/sqlite_connection.h"
#include "sb/store/sqlite/wal_checkpointer.h"

namespace sb::store {

using sqlite_internal::CachedStatement;
using sqlite_internal::SqliteConnection;
using sqlite_internal::SqliteError;

namespace {

// Resets the statement (and its bindings) when the guard goes out of scope.
class StatementGuard {
 public:
  explicit StatementGuard(sqlite3_stmt* stmt) : stmt_(stmt) {}
  ~StatementGuard() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }
  StatementGuard(const StatementGuard&) = delete;
  StatementGuard& operator=(const StatementGuard&) = delete;

 private:
  sqlite3_stmt* stmt_;
};

int BindOne(sqlite3_stmt* stmt, int index, const Value& value) {
  if (const auto* n = std::get_if<int64_t>(&value)) return sqlite3_bind_int64(stmt, index, *n);
  if (const auto* s = std::get_if<std::string>(&value)) {
    return sqlite3_bind_text64(stmt, index, s->data(), s->size(), SQLITE_STATIC, SQLITE_UTF8);
  }
  if (const auto* b = std::get_if<Bytes>(&value)) {
    return sqlite3_bind_blob64(stmt, index, b->data.data(), b->data.size(), SQLITE_STATIC);
  }
  return sqlite3_bind_null(stmt, index);
}

Status Bind(sqlite3* db, const CachedStatement& cached, std::span<const Value> params) {
  if (cached.indexes.size() != params.size()) {
    return InvalidArgumentError("sqlite bind: parameter count does not match the statement");
  }
  for (size_t i = 0; i < params.size(); ++i) {
    const int index = cached.indexes[i];
    if (index == 0) return InvalidArgumentError("sqlite bind: statement lacks a placeholder");
    int rc = BindOne(cached.stmt, index, params[i]);
    if (rc != SQLITE_OK) return SqliteError(db, rc, "bind");
  }
  return OkStatus();
}

Value ColumnValue(sqlite3_stmt* stmt, int i) {
  switch (sqlite3_column_type(stmt, i)) {
    case SQLITE_INTEGER:
      return static_cast<int64_t>(sqlite3_column_int64(stmt, i));
    case SQLITE_BLOB: {
      const char* p = static_cast<const char*>(sqlite3_column_blob(stmt, i));
      return Bytes{std::string(p == nullptr ? "" : p, sqlite3_column_bytes(stmt, i))};
    }
    case SQLITE_NULL:
      return std::monostate();
    default: {  // TEXT, and FLOAT as its text form (Value has no floating type)
      const unsigned char* p = sqlite3_column_text(stmt, i);
      return std::string(reinterpret_cast<const char*>(p), sqlite3_column_bytes(stmt, i));
    }
  }
}

class SqliteTransaction final : public Transaction {
 public:
  SqliteTransaction(SqliteConnection& conn, const std::optional<TenantId>& tenant, TxMode mode)
      : conn_(conn), tenant_(tenant), read_only_(mode == TxMode::kReadOnly) {}

  using Transaction::Execute;
  using Transaction::Query;

  Result<std::vector<Row>> Query(std::string_view sql, std::span<const Value> params) override {
    SB_ASSIGN_OR_RETURN(sqlite3_stmt * stmt, Start(sql, params));
    StatementGuard guard(stmt);
    std::vector<Row> rows;
    const int columns = sqlite3_column_count(stmt);
    int rc;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
      std::vector<Value> values;
      values.reserve(columns);
      for (int i = 0; i < columns; ++i) values.push_back(ColumnValue(stmt, i));
      rows.emplace_back(std::move(values));
    }
    if (rc != SQLITE_DONE) return SqliteError(conn_.handle(), rc, "query");
    return rows;
  }

  Result<int64_t> Execute(std::string_view sql, std::span<const Value> params) override {
    SB_ASSIGN_OR_RETURN(sqlite3_stmt * stmt, Start(sql, params));
    StatementGuard guard(stmt);
    int rc;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
    }
    if (rc != SQLITE_DONE) return SqliteError(conn_.handle(), rc, "execute");
    return static_cast<int64_t>(sqlite3_changes64(conn_.handle()));
  }

  Status ExecuteScript(std::string_view sql) override {
    if (read_only_) return FailedPreconditionError("sqlite: script in a read-only transaction");
    return conn_.ExecScript(sql);
  }

  const std::optional<TenantId>& tenant() const override { return tenant_; }
  Backend backend() const override { return Backend::kSqlite; }

 private:
  Result<sqlite3_stmt*> Start(std::string_view sql, std::span<const Value> params) {
    SB_ASSIGN_OR_RETURN(const CachedStatement* cached, conn_.Prepare(sql));
    sqlite3_stmt* stmt = cached->stmt;
    if (read_only_ && sqlite3_stmt_readonly(stmt) == 0) {
      return FailedPreconditionError("sqlite: write in a read-only transaction");
    }
    Status bound = Bind(conn_.handle(), *cached, params);
    if (!bound.ok()) {
      sqlite3_clear_bindings(stmt);
      return bound;
    }
    return stmt;
  }

  SqliteConnection& conn_;
  const std::optional<TenantId>& tenant_;
  const bool read_only_;
};

}  // namespace

Result<std::unique_ptr<SqliteDatabase>> SqliteDatabase::Open(const SqliteOptions& options) {
  if (options.path.empty()) return InvalidArgumentError("sqlite: empty database path");
  if (options.pool_size < 1) return InvalidArgumentError("sqlite: pool_size must be >= 1");
  std::unique_ptr<SqliteDatabase> db(new SqliteDatabase(options));
  const bool in_memory = options.path == ":memory:";
  const int size = in_memory ? 1 : options.pool_size;
  if (!in_memory) {
    SB_ASSIGN_OR_RETURN(db->checkpointer_,
                        sqlite_internal::WalCheckpointer::Start(
                            options.path, options.busy_timeout,
                            {.background_pages = options.wal_checkpoint_pages,
                             .inline_pages = options.wal_inline_checkpoint_pages}));
  }
  for (int i = 0; i < size; ++i) {
    SB_ASSIGN_OR_RETURN(auto conn, SqliteConnection::Open(options.path, options.busy_timeout));
    if (db->checkpointer_) db->checkpointer_->Attach(conn->handle());
    db->free_.push_back(conn.get());
    db->connections_.push_back(std::move(conn));
  }
  return db;
}

SqliteDatabase::SqliteDatabase(SqliteOptions options) : options_(std::move(options)) {}
SqliteDatabase::~SqliteDatabase() = default;

Status SqliteDatabase::RunInTenant(const TenantId& tenant, TxMode mode, const TransactionFn& fn) {
  if (!tenant.valid()) return InvalidArgumentError("RunInTenant: invalid tenant id");
  return Run(tenant, mode, fn);
}

Status SqliteDatabase::RunUnscoped(TxMode mode, const TransactionFn& fn) {
  return Run(std::nullopt, mode, fn);
}

Status SqliteDatabase::Run(const std::optional<TenantId>& tenant, TxMode mode,
                           const TransactionFn& fn) {
  const auto deadline = std::chrono::steady_clock::now() + options_.acquire_timeout;
  std::unique_lock<std::timed_mutex> writer(writer_mu_, std::defer_lock);
  if (mode == TxMode::kReadWrite && !writer.try_lock_until(deadline)) {
    return UnavailableError("sqlite: timed out waiting for the writer lock");
  }
  SB_ASSIGN_OR_RETURN(Connection * conn, Acquire(deadline));
  Status status = RunOnConnection(*conn, tenant, mode, fn);
  Release(conn);
  return status;
}

Status SqliteDatabase::RunOnConnection(Connection& conn, const std::optional<TenantId>& tenant,
                                       TxMode mode, const TransactionFn& fn) {
  SB_RETURN_IF_ERROR(conn.ExecSimple(mode == TxMode::kReadWrite ? "BEGIN IMMEDIATE" : "BEGIN"));
  SqliteTransaction tx(conn, tenant, mode);
  Status status = fn(tx);
  if (status.ok()) status = conn.ExecSimple("COMMIT");
  // A failed COMMIT (or fn's error) leaves the transaction open unless SQLite already rolled
  // it back; roll back so the connection returns to the pool clean.
  if (sqlite3_get_autocommit(conn.handle()) == 0) {
    Status rollback = conn.ExecSimple("ROLLBACK");
    if (status.ok()) status = rollback;
  }
  return status;
}

Result<SqliteDatabase::Connection*> SqliteDatabase::Acquire(
    std::chrono::steady_clock::time_point deadline) {
  std::unique_lock<std::mutex> lock(mu_);
  if (free_.empty()) {
    ++waits_total_;
    if (!cv_.wait_until(lock, deadline, [&] { return !free_.empty(); })) {
      return UnavailableError("sqlite: no free connection within the acquire timeout");
    }
  }
  Connection* conn = free_.back();
  free_.pop_back();
  return conn;
}

void SqliteDatabase::Release(Connection* conn) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    free_.push_back(conn);
  }
  cv_.notify_one();
}

Status SqliteDatabase::Ping() {
  return RunUnscoped(TxMode::kReadOnly,
                     [](Transaction& tx) { return tx.Query("SELECT 1").status(); });
}

WalCheckpointStats SqliteDatabase::WalCheckpoints() const {
  if (!checkpointer_) return {};
  return {.background = checkpointer_->background_checkpoints(),
          .inline_commit = checkpointer_->inline_checkpoints()};
}

PoolStats SqliteDatabase::Stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  PoolStats stats;
  stats.open_connections = static_cast<int64_t>(connections_.size());
  stats.in_use_connections = static_cast<int64_t>(connections_.size() - free_.size());
  stats.max_connections = stats.open_connections;
  stats.waits_total = waits_total_;
  return stats;
}

}  // namespace sb::store
