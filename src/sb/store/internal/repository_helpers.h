// Validation and encoding helpers shared by the repositories, so that every table checks text,
// URLs, JSON and errors the same way and reports corrupt rows alike. Pure functions;
// thread-safe.
#pragma once

#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "sb/base/clock.h"
#include "sb/base/ids.h"
#include "sb/base/json.h"
#include "sb/base/status.h"
#include "sb/store/database.h"
#include "sb/store/oauth/integration_repository.h"
#include "sb/store/updated_cursor.h"

namespace sb::store::internal {

bool IsControl(char c);  // ASCII control characters, DEL included
// Lowercase hex of a SHA-256 (64 characters): how tokens, states and keys are stored.
bool IsHexSha256(std::string_view s);
// 1..max bytes of visible ASCII (no spaces).
bool IsPrintable(std::string_view s, size_t max);
// min..max bytes of UTF-8 without control characters.
bool IsCleanText(std::string_view s, size_t min, size_t max);
// An absolute http(s) URL of at most `max` bytes of visible ASCII, with a host part.
bool IsHttpUrl(std::string_view s, size_t max);
// What JSON read back from a column may contain. Writes bound each column far below this (16
// levels, 64 KiB); the limits keep a row written by something else (an older version, a manual
// edit) from crashing a reader that copies or serializes it: such a row is corrupt.
inline constexpr JsonLimits kStoredJsonLimits{.max_bytes = 16 << 20,
                                              .max_depth = 32,
                                              .max_string_bytes = 16 << 20,
                                              .max_members = 1 << 20,
                                              .max_values = 1 << 22};

// JSON whose strings and keys are UTF-8, nested at most `max_depth` levels.
bool IsStorableJson(const Json& j, int max_depth);
// The nesting depth every JSON column accepts on write (and checks again on read).
inline constexpr int kMaxJsonColumnDepth = 16;
// `j` serialized for a JSON-object column: INVALID_ARGUMENT naming `what` unless it is an
// object, IsStorableJson at kMaxJsonColumnDepth and at most `max_bytes` serialized.
Result<std::string> SerializeObject(const Json& j, size_t max_bytes, std::string_view what);

// UTF-8 without NUL bytes.
bool IsStorableError(std::string_view s);
// `error` cut to at most `max_bytes` at a character boundary; INVALID_ARGUMENT unless
// IsStorableError.
Result<std::string> StorableError(const std::string& error, size_t max_bytes);

// OK for an unscoped (or system-tenant) transaction; FAILED_PRECONDITION naming `what`
// ("connection", "job") otherwise.
Status RequireUnscoped(const Transaction& tx, std::string_view what);

// OK when the tenant has the connection; NOT_FOUND "connection not found" otherwise.
Status RequireConnection(Transaction& tx, const TenantId& tenant, const ConnectionId& id);

// A repository's enum stored as a name: a table of (value, name) pairs.
template <typename Enum, size_t N>
using EnumNames = std::array<std::pair<Enum, std::string_view>, N>;

// The name of `e` ("" when the table lacks it).
template <typename Enum, size_t N>
std::string_view EnumName(const EnumNames<Enum, N>& names, Enum e) {
  for (const auto& [value, name] : names) {
    if (value == e) return name;
  }
  return "";
}

// The value named `name`; nullopt for an unknown name.
template <typename Enum, size_t N>
std::optional<Enum> ParseEnum(const EnumNames<Enum, N>& names, std::string_view name) {
  for (const auto& [value, known] : names) {
    if (known == name) return value;
  }
  return std::nullopt;
}

Value OptionalMicros(const std::optional<Timestamp>& t);
std::string StringsJson(const std::vector<std::string>& strings);
std::string ServicesJson(const std::vector<ServiceGrant>& services);  // [{"service","write"}]

// Multi-row statements: "($1, $2), ($3, $4)" for rows=2, columns=2.
std::string ValuesPlaceholders(size_t rows, size_t columns);
// How many of `remaining` rows the next multi-row statement takes: the largest power of two
// up to `max_rows`, so a table's statements come in a handful of shapes (and cached plans).
size_t NextBatch(size_t remaining, size_t max_rows);

// DATA_LOSS naming the table (never the value).
Status Corrupt(std::string_view table);
Result<int64_t> ReadInt(const Row& row, size_t i, std::string_view table);
Result<Json> ReadJson(const Row& row, size_t i, std::string_view table);
// A JSON-object column written by SerializeObject(max_bytes): anything else is DATA_LOSS.
Result<Json> ReadObject(const Row& row, size_t i, size_t max_bytes, std::string_view table);
// An integer column that may be NULL.
Result<std::optional<int64_t>> ReadOptionalInt(const Row& row, size_t i, std::string_view table);
Result<std::vector<std::string>> ReadStrings(const Row& row, size_t i, std::string_view table);
Result<std::vector<ServiceGrant>> ReadServices(const Row& row, size_t i, std::string_view table);
// Reads column 0 and checks it is `tenant`: the SQL filtered by it, so anything else is a bug.
Status ReadTenant(const Row& row, const TenantId& tenant, std::string_view table);

// The rows of a ListUpdatedSince read (updated_cursor.h): `select_from` ("SELECT ... FROM t ")
// followed by the keyset condition on (updated_at, `key_column`) and its order, with $1 the
// tenant, $2 the cursor's updated_at, $3 its key and $4 the limit. INVALID_ARGUMENT for a
// cursor key that is not a UUID or a limit outside 1..max_limit.
Result<std::vector<Row>> QueryUpdatedSince(Transaction& tx, const TenantId& tenant,
                                           std::string_view select_from,
                                           std::string_view key_column, const UpdatedCursor& after,
                                           int limit, int max_limit);

// Every row parsed with `parse` (a row that does not parse fails the whole read), or the first.
template <typename Record>
Result<std::vector<Record>> ParseAll(const std::vector<Row>& rows, const TenantId& tenant,
                                     Result<Record> (*parse)(const Row&, const TenantId&)) {
  std::vector<Record> out;
  out.reserve(rows.size());
  for (const Row& row : rows) {
    SB_ASSIGN_OR_RETURN(Record r, parse(row, tenant));
    out.push_back(std::move(r));
  }
  return out;
}

template <typename Record>
Result<std::optional<Record>> ParseFirst(const std::vector<Row>& rows, const TenantId& tenant,
                                         Result<Record> (*parse)(const Row&, const TenantId&)) {
  if (rows.empty()) return std::optional<Record>();
  SB_ASSIGN_OR_RETURN(Record r, parse(rows.front(), tenant));
  return std::optional<Record>(std::move(r));
}

}  // namespace sb::store::internal
