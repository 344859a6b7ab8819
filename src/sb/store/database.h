// Database: the storage abstraction both backends (SQLite, PostgreSQL) implement.
//
// All data access happens inside a transaction opened through the Database. Tenant data is only
// reachable through RunInTenant(), which on PostgreSQL sets `app.tenant_id` with
// set_config(..., true) as the first statement of the transaction so that row-level security
// applies (RLS-01, RLS-03); on SQLite the repositories' explicit tenant filters are the
// enforcement (RLS-09). RunUnscoped() opens a transaction with no tenant set: on PostgreSQL every
// tenant table then reads as empty and rejects writes (RLS-04). It exists for tables that are
// not tenant data (schema_migrations) and for tests that prove that property.
//
// SQL is written once for both backends, with `$1`, `$2`, ... placeholders; values are bound,
// never spliced into the text. Implementations are thread-safe: each transaction runs on one
// pooled connection, on the calling thread, which must be a blocking-pool thread (never an I/O
// thread). A Transaction object is only valid inside the callback and is not thread-safe.
//
// TxMode::kReadOnly is the fast path for lookups: SQLite then uses a deferred BEGIN without the
// process-wide writer lock (readers run concurrently in WAL mode), PostgreSQL uses BEGIN READ
// ONLY. A write attempted in a read-only transaction fails with FAILED_PRECONDITION on both.
// TxMode::kReadWrite (the default) serializes writers (SQLite: BEGIN IMMEDIATE).
#pragma once

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "sb/base/ids.h"
#include "sb/base/status.h"

namespace sb::store {

enum class Backend { kSqlite, kPostgres };

// A bound parameter or a column value. Text for strings and ids, int64 for integers, booleans
// (0/1) and timestamps (microseconds since the epoch), Bytes for opaque binary data.
struct Bytes {
  std::string data;
};
using Value = std::variant<std::monostate, int64_t, std::string, Bytes>;

class Row {
 public:
  explicit Row(std::vector<Value> values) : values_(std::move(values)) {}
  size_t size() const { return values_.size(); }
  bool IsNull(size_t i) const { return std::holds_alternative<std::monostate>(values_.at(i)); }
  // Text of column i ("" when NULL). A bytes column returns its raw bytes.
  std::string GetString(size_t i) const;
  // Integer value of column i (0 when NULL); text holding digits is parsed.
  int64_t GetInt(size_t i) const;
  std::optional<std::string> GetOptionalString(size_t i) const;
  std::optional<int64_t> GetOptionalInt(size_t i) const;
  // The raw value, for callers that validate types strictly (corrupt-row detection).
  const Value& at(size_t i) const { return values_.at(i); }

 private:
  std::vector<Value> values_;
};

class Transaction {
 public:
  virtual ~Transaction() = default;
  // Runs a statement that returns rows.
  virtual Result<std::vector<Row>> Query(std::string_view sql, std::span<const Value> params) = 0;
  // Runs a statement and returns the number of affected rows.
  virtual Result<int64_t> Execute(std::string_view sql, std::span<const Value> params) = 0;

  // Convenience overloads.
  Result<std::vector<Row>> Query(std::string_view sql, std::initializer_list<Value> params = {}) {
    return Query(sql, std::span<const Value>(params.begin(), params.size()));
  }
  Result<int64_t> Execute(std::string_view sql, std::initializer_list<Value> params = {}) {
    return Execute(sql, std::span<const Value>(params.begin(), params.size()));
  }

  // Runs several `;`-separated statements without parameters. Only for trusted, constant SQL
  // (migrations, test setup); never for anything that contains input.
  virtual Status ExecuteScript(std::string_view sql) = 0;

  // The tenant this transaction is scoped to; nullopt inside RunUnscoped(). Repositories compare
  // it with the tenant they were given and refuse a mismatch on every backend.
  virtual const std::optional<TenantId>& tenant() const = 0;

  // The backend this transaction runs on, for the few statements whose SQL differs (row locks:
  // PostgreSQL needs `FOR UPDATE` / `FOR SHARE`; SQLite serializes writers and has no such
  // clause).
  virtual Backend backend() const = 0;
};

enum class TxMode { kReadWrite, kReadOnly };

using TransactionFn = std::function<Status(Transaction&)>;

struct PoolStats {
  int64_t open_connections = 0;
  int64_t in_use_connections = 0;
  int64_t max_connections = 0;
  int64_t waits_total = 0;       // acquisitions that had to wait for a free connection
  int64_t reconnects_total = 0;  // broken connections replaced
};

class Database {
 public:
  virtual ~Database() = default;

  virtual Backend backend() const = 0;

  // Runs `fn` in a transaction scoped to `tenant`. Commits when `fn` returns OK, rolls back
  // otherwise (and on a commit failure). Returns fn's status, or the database error:
  // INVALID_ARGUMENT (tenant not a valid id), UNAVAILABLE (no connection within the acquire
  // timeout, or the server is unreachable), ABORTED (serialization failure; retry).
  virtual Status RunInTenant(const TenantId& tenant, TxMode mode, const TransactionFn& fn) = 0;
  Status RunInTenant(const TenantId& tenant, const TransactionFn& fn) {
    return RunInTenant(tenant, TxMode::kReadWrite, fn);
  }

  // Runs `fn` in a transaction with no tenant context (see the header comment).
  virtual Status RunUnscoped(TxMode mode, const TransactionFn& fn) = 0;
  Status RunUnscoped(const TransactionFn& fn) { return RunUnscoped(TxMode::kReadWrite, fn); }

  // Cheap round trip for readiness checks.
  virtual Status Ping() = 0;

  virtual PoolStats Stats() const = 0;
};

}  // namespace sb::store
