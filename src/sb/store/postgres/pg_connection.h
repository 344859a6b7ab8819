// PgConnection: one libpq connection with its prepared-statement cache. Internal to the
// PostgreSQL backend (the only place that includes libpq-fe.h). Not thread-safe: the pool
// hands a connection to one thread at a time.
#pragma once

#include <chrono>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <libpq-fe.h>

#include "sb/base/status.h"
#include "sb/store/database.h"

namespace sb::store::pg_internal {

struct ResultDeleter {
  void operator()(PGresult* r) const { PQclear(r); }
};
using PgResultPtr = std::unique_ptr<PGresult, ResultDeleter>;

// Maps a failed result (or a failed connection when `result` is null) to a Status. The message
// holds the SQLSTATE, constraint and table names and, only for error classes whose text cannot
// contain data, PostgreSQL's primary message; never DETAIL or bound values.
Status PgError(const PGresult* result, PGconn* conn, std::string_view what);

// Converts a result set to rows: integer and boolean columns become int64, bytea becomes
// Bytes, everything else text.
std::vector<Row> RowsFromResult(const PGresult* result);

class PgConnection {
 public:
  // Connects with `conninfo` (a postgres:// URL or key=value string) and sets search_path to
  // `schema`. Errors: UNAVAILABLE.
  static Result<std::unique_ptr<PgConnection>> Connect(const std::string& conninfo,
                                                       const std::string& schema,
                                                       std::chrono::seconds connect_timeout);
  ~PgConnection();
  PgConnection(const PgConnection&) = delete;
  PgConnection& operator=(const PgConnection&) = delete;

  // Runs one statement through a per-connection prepared statement (prepared on first use).
  Result<PgResultPtr> Exec(std::string_view sql, std::span<const Value> params);
  // Runs parameterless SQL (possibly several statements) with the simple query protocol.
  Result<PgResultPtr> ExecSimple(std::string_view sql);

  bool broken() const { return PQstatus(conn_) == CONNECTION_BAD; }
  bool idle() const { return PQtransactionStatus(conn_) == PQTRANS_IDLE; }
  // Re-establishes a broken connection (PQreset) and repeats the session setup.
  Status Reset();

 private:
  PgConnection(PGconn* conn, std::string schema) : conn_(conn), schema_(std::move(schema)) {}
  Status SetupSession();
  Result<const std::string*> PreparedName(std::string_view sql, int nparams);

  struct StringHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>()(s); }
  };

  PGconn* conn_;
  const std::string schema_;
  std::unordered_map<std::string, std::string, StringHash, std::equal_to<>> prepared_;
  int64_t next_statement_ = 0;
};

}  // namespace sb::store::pg_internal
