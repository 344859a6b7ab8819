#include "sb/store/postgres/pg_connection.h"

#include <string>

namespace sb::store::pg_internal {
namespace {

// NOTICE/WARNING messages (e.g. "schema already exists, skipping") would otherwise go to
// stderr unstructured; they carry nothing the caller needs.
void DiscardNotice(void* /*arg*/, const char* /*message*/) {}

bool Succeeded(const PGresult* r) {
  ExecStatusType s = PQresultStatus(r);
  return s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK;
}

}  // namespace

Result<std::unique_ptr<PgConnection>> PgConnection::Connect(const std::string& conninfo,
                                                            const std::string& schema,
                                                            std::chrono::seconds connect_timeout) {
  const std::string timeout = std::to_string(connect_timeout.count());
  // expand_dbname=1: `dbname` may hold a URL or conninfo string; later keywords override it.
  const char* keys[] = {"dbname", "connect_timeout", "application_name", nullptr};
  const char* values[] = {conninfo.c_str(), timeout.c_str(), "switchboard", nullptr};
  PGconn* raw = PQconnectdbParams(keys, values, 1);
  if (raw == nullptr) return UnavailableError("postgres connect: out of memory");
  std::unique_ptr<PgConnection> conn(new PgConnection(raw, schema));
  PQsetNoticeProcessor(raw, DiscardNotice, nullptr);
  if (PQstatus(raw) != CONNECTION_OK) {
    // libpq's message names host, port and user (useful to operators) but never the password.
    std::string why = PQerrorMessage(raw);
    why = why.substr(0, why.find('\n'));
    return UnavailableError("postgres connect: " + why);
  }
  SB_RETURN_IF_ERROR(conn->SetupSession());
  return conn;
}

PgConnection::~PgConnection() { PQfinish(conn_); }

Status PgConnection::SetupSession() {
  prepared_.clear();
  const char* values[] = {schema_.c_str()};
  PgResultPtr r(PQexecParams(conn_, "SELECT pg_catalog.set_config('search_path', $1, false)", 1,
                             nullptr, values, nullptr, nullptr, 0));
  if (!Succeeded(r.get())) return PgError(r.get(), conn_, "session setup");
  return OkStatus();
}

Status PgConnection::Reset() {
  PQreset(conn_);
  if (PQstatus(conn_) != CONNECTION_OK) {
    return UnavailableError("postgres reconnect: cannot connect to the server");
  }
  return SetupSession();
}

Result<const std::string*> PgConnection::PreparedName(std::string_view sql, int nparams) {
  if (auto it = prepared_.find(sql); it != prepared_.end()) return &it->second;
  std::string name = "sb_" + std::to_string(next_statement_++);
  std::string text(sql);
  PgResultPtr r(PQprepare(conn_, name.c_str(), text.c_str(), nparams, nullptr));
  if (!Succeeded(r.get())) return PgError(r.get(), conn_, "prepare");
  auto [it, inserted] = prepared_.emplace(std::move(text), std::move(name));
  return &it->second;
}

Result<PgResultPtr> PgConnection::Exec(std::string_view sql, std::span<const Value> params) {
  const int n = static_cast<int>(params.size());
  SB_ASSIGN_OR_RETURN(const std::string* name, PreparedName(sql, n));
  std::vector<std::string> texts(params.size());  // backing store for integer text
  std::vector<const char*> values(params.size(), nullptr);
  std::vector<int> lengths(params.size(), 0);
  std::vector<int> formats(params.size(), 0);
  for (size_t i = 0; i < params.size(); ++i) {
    const Value& v = params[i];
    if (const auto* s = std::get_if<std::string>(&v)) {
      values[i] = s->c_str();
    } else if (const auto* k = std::get_if<int64_t>(&v)) {
      texts[i] = std::to_string(*k);
      values[i] = texts[i].c_str();
    } else if (const auto* b = std::get_if<Bytes>(&v)) {
      values[i] = b->data.data();
      lengths[i] = static_cast<int>(b->data.size());
      formats[i] = 1;  // binary: bytea travels as raw bytes, no escaping
    }
  }
  PgResultPtr r(
      PQexecPrepared(conn_, name->c_str(), n, values.data(), lengths.data(), formats.data(), 0));
  if (!Succeeded(r.get())) return PgError(r.get(), conn_, "statement");
  return r;
}

Result<PgResultPtr> PgConnection::ExecSimple(std::string_view sql) {
  std::string text(sql);
  PgResultPtr r(PQexec(conn_, text.c_str()));
  if (!Succeeded(r.get())) return PgError(r.get(), conn_, "statement");
  return r;
}

}  // namespace sb::store::pg_internal
