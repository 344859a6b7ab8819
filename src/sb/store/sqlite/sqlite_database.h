// SqliteDatabase: the embedded backend. One database file in WAL mode, a small pool of
// connections, each with its own prepared-statement cache.
//
// Concurrency: read-write transactions (TxMode::kReadWrite) take a process-wide writer lock and
// BEGIN IMMEDIATE, so writers queue in-process instead of spinning in SQLite's busy handler and
// can never deadlock on a lock upgrade; read-only transactions use a deferred BEGIN and run
// concurrently with each other and with the writer. busy_timeout only matters for other
// processes that open the same file. SQLite has no row-level security: RunInTenant only opens
// the transaction and records the tenant; the repositories' tenant filters enforce isolation
// (RLS-09). The write-ahead log is checkpointed on a thread of its own (WalCheckpointer) rather
// than inside the commit that fills it. Do not nest transactions on one thread (the inner one waits
// for the writer lock until the acquire timeout and fails with UNAVAILABLE). Thread-safe.
#pragma once

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "sb/store/database.h"

namespace sb::store {

namespace sqlite_internal {
class SqliteConnection;
class WalCheckpointer;
}  // namespace sqlite_internal

struct SqliteOptions {
  // File path; created if missing. ":memory:" is accepted and forces a pool of one connection.
  std::string path;
  // Connections in the pool (>= 1).
  int pool_size = 4;
  // How long SQLite waits for a lock held by another process.
  std::chrono::milliseconds busy_timeout{5000};
  // How long a transaction waits for a free connection or for the writer lock.
  std::chrono::milliseconds acquire_timeout{5000};
  // The log's size in pages at which the checkpoint thread is woken, and at which a committing
  // connection checkpoints itself instead (the bound on the log's size).
  int wal_checkpoint_pages = 1000;
  int wal_inline_checkpoint_pages = 10000;
};

// Checkpoints so far, by who ran them (tests and diagnostics).
struct WalCheckpointStats {
  int64_t background = 0;
  int64_t inline_commit = 0;
};

class SqliteDatabase final : public Database {
 public:
  // Opens all pool connections. Errors: INVALID_ARGUMENT (bad options), UNAVAILABLE (cannot
  // open the file).
  static Result<std::unique_ptr<SqliteDatabase>> Open(const SqliteOptions& options);
  ~SqliteDatabase() override;

  using Database::RunInTenant;
  using Database::RunUnscoped;
  Backend backend() const override { return Backend::kSqlite; }
  Status RunInTenant(const TenantId& tenant, TxMode mode, const TransactionFn& fn) override;
  Status RunUnscoped(TxMode mode, const TransactionFn& fn) override;
  Status Ping() override;
  PoolStats Stats() const override;
  WalCheckpointStats WalCheckpoints() const;

 private:
  using Connection = sqlite_internal::SqliteConnection;
  explicit SqliteDatabase(SqliteOptions options);

  Status Run(const std::optional<TenantId>& tenant, TxMode mode, const TransactionFn& fn);
  Status RunOnConnection(Connection& conn, const std::optional<TenantId>& tenant, TxMode mode,
                         const TransactionFn& fn);
  Result<Connection*> Acquire(std::chrono::steady_clock::time_point deadline);
  void Release(Connection* conn);

  const SqliteOptions options_;
  // Declared before the connections, so it outlives them (their commit hooks point at it).
  // Null for ":memory:", which has no log.
  std::unique_ptr<sqlite_internal::WalCheckpointer> checkpointer_;
  std::vector<std::unique_ptr<Connection>> connections_;  // immutable after Open
  std::timed_mutex writer_mu_;  // held for the whole of each read-write transaction

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Connection*> free_;  // guarded by mu_
  int64_t waits_total_ = 0;        // guarded by mu_
};

}  // namespace sb::store
