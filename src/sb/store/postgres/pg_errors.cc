// SQLSTATE -> Status mapping and result conversion for the PostgreSQL backend.
#include <charconv>
#include <cstring>

#include "sb/store/postgres/pg_connection.h"

namespace sb::store::pg_internal {
namespace {

// Type OIDs from pg_type.dat (stable across releases).
constexpr Oid kBoolOid = 16;
constexpr Oid kByteaOid = 17;
constexpr Oid kInt8Oid = 20;
constexpr Oid kInt2Oid = 21;
constexpr Oid kInt4Oid = 23;

StatusCode CodeFor(std::string_view state) {
  if (state == "23505") return StatusCode::kAlreadyExists;
  if (state == "23503") return StatusCode::kFailedPrecondition;
  if (state == "40001" || state == "40P01") return StatusCode::kAborted;
  if (state == "42501") return StatusCode::kPermissionDenied;
  if (state == "25006" || state == "25P02") return StatusCode::kFailedPrecondition;
  if (state == "08P01") return StatusCode::kInternal;
  if (state.starts_with("08") || state == "57P01" || state == "57P02" || state == "57P03" ||
      state == "53300") {
    return StatusCode::kUnavailable;
  }
  if (state.starts_with("22") || state.starts_with("23")) return StatusCode::kInvalidArgument;
  return StatusCode::kInternal;
}

// Error classes whose primary message describes the statement or the server, never row data
// or parameter values (unlike e.g. class 22, "invalid input syntax for type uuid: \"...\"").
bool MessageIsSafe(std::string_view state) {
  for (std::string_view cls : {"08", "25", "3F", "40", "42", "53", "55", "57", "0A"}) {
    if (state.starts_with(cls)) return true;
  }
  return false;
}

std::string Field(const PGresult* r, int field) {
  const char* v = r == nullptr ? nullptr : PQresultErrorField(r, field);
  return v == nullptr ? std::string() : std::string(v);
}

Value ConvertValue(const PGresult* r, int row, int col) {
  if (PQgetisnull(r, row, col)) return std::monostate();
  const char* text = PQgetvalue(r, row, col);
  const size_t len = static_cast<size_t>(PQgetlength(r, row, col));
  switch (PQftype(r, col)) {
    case kBoolOid:
      return static_cast<int64_t>(len > 0 && text[0] == 't' ? 1 : 0);
    case kInt2Oid:
    case kInt4Oid:
    case kInt8Oid: {
      int64_t n = 0;
      auto [ptr, ec] = std::from_chars(text, text + len, n);
      if (ec == std::errc() && ptr == text + len) return n;
      return std::string(text, len);
    }
    case kByteaOid: {
      size_t out_len = 0;
      unsigned char* raw = PQunescapeBytea(reinterpret_cast<const unsigned char*>(text), &out_len);
      if (raw == nullptr) return std::string(text, len);
      Bytes bytes{std::string(reinterpret_cast<const char*>(raw), out_len)};
      PQfreemem(raw);
      return bytes;
    }
    default:
      return std::string(text, len);
  }
}

}  // namespace

Status PgError(const PGresult* result, PGconn* conn, std::string_view what) {
  const std::string state = Field(result, PG_DIAG_SQLSTATE);
  if (conn != nullptr && PQstatus(conn) == CONNECTION_BAD) {
    return UnavailableError("postgres " + std::string(what) + ": connection lost");
  }
  if (state.empty()) {
    return InternalError("postgres " + std::string(what) + ": error without SQLSTATE");
  }
  std::string msg = "postgres " + std::string(what) + ": SQLSTATE " + state;
  if (MessageIsSafe(state)) msg += " (" + Field(result, PG_DIAG_MESSAGE_PRIMARY) + ")";
  if (std::string t = Field(result, PG_DIAG_TABLE_NAME); !t.empty()) msg += " table " + t;
  if (std::string c = Field(result, PG_DIAG_CONSTRAINT_NAME); !c.empty()) {
    msg += " constraint " + c;
  }
  return Status(CodeFor(state), std::move(msg));
}

std::vector<Row> RowsFromResult(const PGresult* result) {
  const int rows = PQntuples(result);
  const int cols = PQnfields(result);
  std::vector<Row> out;
  out.reserve(rows);
  for (int r = 0; r < rows; ++r) {
    std::vector<Value> values;
    values.reserve(cols);
    for (int c = 0; c < cols; ++c) values.push_back(ConvertValue(result, r, c));
    out.emplace_back(std::move(values));
  }
  return out;
}

}  // namespace sb::store::pg_internal
