#include "sb/store/postgres/postgres_database.h"

#include <cctype>
#include <cstdlib>
#include <cstring>

#include "sb/store/postgres/pg_connection.h"

namespace sb::store {

using pg_internal::PgConnection;
using pg_internal::PgResultPtr;

namespace {

constexpr std::string_view kSetTenantSql = "SELECT set_config('app.tenant_id', $1, true)";

bool IsIdentifier(std::string_view s) {
  if (s.empty() || s.size() > 63 || !(std::islower(s[0]) || s[0] == '_')) return false;
  for (char c : s) {
    if (!(std::islower(static_cast<unsigned char>(c)) ||
          std::isdigit(static_cast<unsigned char>(c)) || c == '_')) {
      return false;
    }
  }
  return true;
}

class PgTransaction final : public Transaction {
 public:
  PgTransaction(PgConnection& conn, const std::optional<TenantId>& tenant)
      : conn_(conn), tenant_(tenant) {}

  using Transaction::Execute;
  using Transaction::Query;

  Result<std::vector<Row>> Query(std::string_view sql, std::span<const Value> params) override {
    SB_ASSIGN_OR_RETURN(PgResultPtr r, conn_.Exec(sql, params));
    return pg_internal::RowsFromResult(r.get());
  }

  Result<int64_t> Execute(std::string_view sql, std::span<const Value> params) override {
    SB_ASSIGN_OR_RETURN(PgResultPtr r, conn_.Exec(sql, params));
    const char* affected = PQcmdTuples(r.get());
    return static_cast<int64_t>(affected[0] == '\0' ? 0 : std::atoll(affected));
  }

  Status ExecuteScript(std::string_view sql) override { return conn_.ExecSimple(sql).status(); }

  const std::optional<TenantId>& tenant() const override { return tenant_; }
  Backend backend() const override { return Backend::kPostgres; }

 private:
  PgConnection& conn_;
  const std::optional<TenantId>& tenant_;
};

}  // namespace

PostgresDatabase::PostgresDatabase(PostgresOptions options) : options_(std::move(options)) {}
PostgresDatabase::~PostgresDatabase() = default;

Result<std::unique_ptr<PostgresDatabase>> PostgresDatabase::Open(const PostgresOptions& options) {
  if (options.url.empty()) return InvalidArgumentError("postgres: empty connection URL");
  if (options.pool_size < 1) return InvalidArgumentError("postgres: pool_size must be >= 1");
  if (!IsIdentifier(options.schema)) {
    return InvalidArgumentError("postgres: schema must be a lowercase identifier");
  }
  std::unique_ptr<PostgresDatabase> db(new PostgresDatabase(options));
  SB_ASSIGN_OR_RETURN(auto conn, db->Connect());
  std::lock_guard<std::mutex> lock(db->mu_);
  db->open_ = 1;
  db->idle_.push_back(std::move(conn));
  return db;
}

Result<std::unique_ptr<PgConnection>> PostgresDatabase::Connect() {
  return PgConnection::Connect(options_.url, options_.schema, options_.connect_timeout);
}

Status PostgresDatabase::RunInTenant(const TenantId& tenant, TxMode mode, const TransactionFn& fn) {
  if (!tenant.valid()) return InvalidArgumentError("RunInTenant: invalid tenant id");
  return Run(tenant, mode, fn);
}

Status PostgresDatabase::RunUnscoped(TxMode mode, const TransactionFn& fn) {
  return Run(std::nullopt, mode, fn);
}

Status PostgresDatabase::Run(const std::optional<TenantId>& tenant, TxMode mode,
                             const TransactionFn& fn) {
  SB_ASSIGN_OR_RETURN(std::unique_ptr<PgConnection> conn, Acquire());
  Status status = Begin(*conn, tenant, mode);
  if (status.ok()) {
    PgTransaction tx(*conn, tenant);
    status = Finish(*conn, fn(tx));
  }
  Release(std::move(conn));
  return status;
}

Status PostgresDatabase::Begin(PgConnection& conn, const std::optional<TenantId>& tenant,
                               TxMode mode) {
  const char* begin = mode == TxMode::kReadOnly ? "BEGIN READ ONLY" : "BEGIN";
  Status status = conn.ExecSimple(begin).status();
  if (!status.ok() && conn.broken()) {
    // The server dropped this idle connection; nothing has run yet, so retrying is safe.
    SB_RETURN_IF_ERROR(ResetConnection(conn));
    status = conn.ExecSimple(begin).status();
  }
  SB_RETURN_IF_ERROR(status);
  if (!tenant.has_value()) return OkStatus();
  const Value param = tenant->value();
  status = conn.Exec(kSetTenantSql, std::span<const Value>(&param, 1)).status();
  if (!status.ok()) (void)conn.ExecSimple("ROLLBACK");
  return status;
}

Status PostgresDatabase::Finish(PgConnection& conn, Status status) {
  if (!status.ok()) {
    (void)conn.ExecSimple("ROLLBACK");
    return status;
  }
  SB_ASSIGN_OR_RETURN(PgResultPtr r, conn.ExecSimple("COMMIT"));
  // COMMIT of a transaction in which a statement failed answers "ROLLBACK" without an error.
  if (std::strcmp(PQcmdStatus(r.get()), "COMMIT") != 0) {
    return AbortedError("postgres: transaction was rolled back after a failed statement");
  }
  return OkStatus();
}

Status PostgresDatabase::ResetConnection(PgConnection& conn) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    ++reconnects_total_;
  }
  return conn.Reset();
}

Result<std::unique_ptr<PgConnection>> PostgresDatabase::Acquire() {
  const auto deadline = std::chrono::steady_clock::now() + options_.acquire_timeout;
  std::unique_ptr<PgConnection> conn;
  {
    std::unique_lock<std::mutex> lock(mu_);
    bool waited = false;
    while (idle_.empty() && open_ >= options_.pool_size) {
      if (!waited) ++waits_total_;
      waited = true;
      if (cv_.wait_until(lock, deadline) == std::cv_status::timeout && idle_.empty() &&
          open_ >= options_.pool_size) {
        return UnavailableError("postgres: no free connection within the acquire timeout");
      }
    }
    if (!idle_.empty()) {
      conn = std::move(idle_.back());
      idle_.pop_back();
    } else {
      ++open_;  // reserve the slot; connect outside the lock
    }
  }
  if (conn == nullptr) {
    Result<std::unique_ptr<PgConnection>> fresh = Connect();
    if (!fresh.ok()) {
      Release(nullptr);
      return fresh.status();
    }
    return std::move(fresh).value();
  }
  if (conn->broken() && !ResetConnection(*conn).ok()) {
    Release(nullptr);
    return UnavailableError("postgres: cannot reconnect to the server");
  }
  return conn;
}

void PostgresDatabase::Release(std::unique_ptr<PgConnection> conn) {
  // A connection left inside a transaction or broken is not reusable as is.
  if (conn != nullptr && (conn->broken() || !conn->idle())) {
    if (!conn->broken()) (void)conn->ExecSimple("ROLLBACK");
    if (!conn->idle()) conn.reset();
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (conn != nullptr) {
      idle_.push_back(std::move(conn));
    } else {
      --open_;
    }
  }
  cv_.notify_one();
}

Status PostgresDatabase::Ping() {
  return RunUnscoped(TxMode::kReadOnly,
                     [](Transaction& tx) { return tx.Query("SELECT 1").status(); });
}

PoolStats PostgresDatabase::Stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  PoolStats stats;
  stats.open_connections = open_;
  stats.in_use_connections = open_ - static_cast<int64_t>(idle_.size());
  stats.max_connections = options_.pool_size;
  stats.waits_total = waits_total_;
  stats.reconnects_total = reconnects_total_;
  return stats;
}

}  // namespace sb::store
