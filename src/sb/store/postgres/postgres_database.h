// PostgresDatabase: the server backend over libpq, with a bounded connection pool.
//
// Every connection's search_path is the `switchboard` schema. RunInTenant() runs
// `BEGIN` and then `SELECT set_config('app.tenant_id', $1, true)` — transaction-local, never a
// session-level SET (RLS-03) — so the row-level security policies see the tenant; RunUnscoped()
// leaves the setting unset, which makes every tenant table read as empty (RLS-04).
//
// Pool: at most `pool_size` connections, opened lazily; a caller that finds none free waits
// until `acquire_timeout` and then gets UNAVAILABLE. A connection found broken (server restart,
// pg_terminate_backend) is reset with PQreset before use, including when the failure only shows
// on the transaction's BEGIN (then the BEGIN is retried once, since nothing has run yet); each
// reset counts in PoolStats::reconnects_total. Statements are prepared once per connection and
// cached by SQL text. Error mapping: 23505 -> ALREADY_EXISTS, 40001/40P01 -> ABORTED,
// 42501 (including RLS WITH CHECK violations) -> PERMISSION_DENIED, lost connection ->
// UNAVAILABLE, 23503 -> FAILED_PRECONDITION, other class 22/23 -> INVALID_ARGUMENT, read-only
// violations -> FAILED_PRECONDITION, else INTERNAL; messages never contain bound values.
// Thread-safe.
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

namespace pg_internal {
class PgConnection;
}  // namespace pg_internal

struct PostgresOptions {
  // postgres:// or postgresql:// URL, or a libpq key=value string. May hold a password: it is
  // never copied into a Status or a log line.
  std::string url;
  // Maximum number of open connections (>= 1).
  int pool_size = 8;
  // How long a transaction waits for a free connection before UNAVAILABLE.
  std::chrono::milliseconds acquire_timeout{5000};
  // libpq connect_timeout.
  std::chrono::seconds connect_timeout{5};
  // search_path of every connection; must be a plain identifier.
  std::string schema = "switchboard";
};

class PostgresDatabase final : public Database {
 public:
  // Validates options and opens one connection to fail fast. Errors: INVALID_ARGUMENT,
  // UNAVAILABLE.
  static Result<std::unique_ptr<PostgresDatabase>> Open(const PostgresOptions& options);
  ~PostgresDatabase() override;

  using Database::RunInTenant;
  using Database::RunUnscoped;
  Backend backend() const override { return Backend::kPostgres; }
  Status RunInTenant(const TenantId& tenant, TxMode mode, const TransactionFn& fn) override;
  Status RunUnscoped(TxMode mode, const TransactionFn& fn) override;
  Status Ping() override;
  PoolStats Stats() const override;

 private:
  using Connection = pg_internal::PgConnection;
  explicit PostgresDatabase(PostgresOptions options);

  Status Run(const std::optional<TenantId>& tenant, TxMode mode, const TransactionFn& fn);
  Status Begin(Connection& conn, const std::optional<TenantId>& tenant, TxMode mode);
  Status Finish(Connection& conn, Status status);
  Status ResetConnection(Connection& conn);
  Result<std::unique_ptr<Connection>> Acquire();
  void Release(std::unique_ptr<Connection> conn);
  Result<std::unique_ptr<Connection>> Connect();

  const PostgresOptions options_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::unique_ptr<Connection>> idle_;  // guarded by mu_
  int64_t open_ = 0;                               // guarded by mu_; idle + in use + connecting
  int64_t waits_total_ = 0;                        // guarded by mu_
  int64_t reconnects_total_ = 0;                   // guarded by mu_
};

}  // namespace sb::store
