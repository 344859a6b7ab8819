#include "sb/store/internal/repository_helpers.h"

#include <algorithm>

#include "sb/base/encoding.h"
#include "sb/store/internal/row_reader.h"

namespace sb::store::internal {
namespace {

constexpr std::string_view kSystemTenant = "00000000-0000-0000-0000-000000000000";

bool IsStorableJsonAt(const Json& j, int depth, int max_depth) {
  if (depth > max_depth) return false;
  if (j.is_string()) return IsValidUtf8(j.get_ref<const std::string&>());
  if (j.is_array()) {
    return std::all_of(j.begin(), j.end(),
                       [&](const Json& e) { return IsStorableJsonAt(e, depth + 1, max_depth); });
  }
  if (j.is_object()) {
    for (const auto& [key, value] : j.items()) {
      if (!IsValidUtf8(key) || !IsStorableJsonAt(value, depth + 1, max_depth)) return false;
    }
  }
  return true;
}

}  // namespace

bool IsHexSha256(std::string_view s) {
  return s.size() == 64 && std::all_of(s.begin(), s.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

bool IsControl(char c) {
  const auto u = static_cast<unsigned char>(c);
  return u < 0x20 || u == 0x7f;
}

bool IsPrintable(std::string_view s, size_t max) {
  return !s.empty() && s.size() <= max &&
         std::all_of(s.begin(), s.end(), [](char c) { return c > ' ' && c < 0x7f; });
}

bool IsCleanText(std::string_view s, size_t min, size_t max) {
  return s.size() >= min && s.size() <= max && IsValidUtf8(s) &&
         std::none_of(s.begin(), s.end(), IsControl);
}

bool IsHttpUrl(std::string_view s, size_t max) {
  if (!IsPrintable(s, max)) return false;
  std::string scheme(s.substr(0, s.find("://")));
  std::transform(scheme.begin(), scheme.end(), scheme.begin(),
                 [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; });
  if ((scheme != "http" && scheme != "https") || scheme.size() == s.size()) return false;
  const std::string_view rest = s.substr(scheme.size() + 3);
  return !rest.empty() && rest.find_first_of("/?#") != 0;
}

bool IsStorableJson(const Json& j, int max_depth) { return IsStorableJsonAt(j, 0, max_depth); }

Result<std::string> SerializeObject(const Json& j, size_t max_bytes, std::string_view what) {
  std::string name(what);
  if (!j.is_object()) return InvalidArgumentError(name.append(" must be a JSON object"));
  // dump() throws on invalid UTF-8 and recurses on depth: both are checked first.
  if (!IsStorableJson(j, kMaxJsonColumnDepth)) {
    return InvalidArgumentError(name.append(" is not storable JSON"));
  }
  std::string text = j.dump();
  if (text.size() > max_bytes) return InvalidArgumentError(name.append(" too large"));
  return text;
}

bool IsStorableError(std::string_view s) {
  return IsValidUtf8(s) && s.find('\0') == std::string_view::npos;
}

Result<std::string> StorableError(const std::string& error, size_t max_bytes) {
  if (!IsStorableError(error)) return InvalidArgumentError("error is not UTF-8 text");
  size_t n = std::min(error.size(), max_bytes);
  while (n < error.size() && n > 0 && (static_cast<unsigned char>(error[n]) & 0xC0) == 0x80) --n;
  return error.substr(0, n);
}

Status RequireUnscoped(const Transaction& tx, std::string_view what) {
  if (tx.tenant().has_value() && tx.tenant()->value() != kSystemTenant) {
    return FailedPreconditionError(std::string(what) +
                                   " maintenance needs an unscoped transaction");
  }
  return OkStatus();
}

Status RequireConnection(Transaction& tx, const TenantId& tenant, const ConnectionId& id) {
  SB_ASSIGN_OR_RETURN(auto rows,
                      tx.Query("SELECT 1 FROM connections WHERE tenant_id = $1 AND id = $2",
                               {tenant.value(), id.value()}));
  if (rows.empty()) return NotFoundError("connection not found");
  return OkStatus();
}

Value OptionalMicros(const std::optional<Timestamp>& t) {
  return t ? Value(ToUnixMicros(*t)) : Value(std::monostate());
}

std::string StringsJson(const std::vector<std::string>& strings) { return Json(strings).dump(); }

std::string ServicesJson(const std::vector<ServiceGrant>& services) {
  Json out = Json::array();
  for (const ServiceGrant& grant : services) {
    out.push_back({{"service", grant.service}, {"write", grant.write}});
  }
  return out.dump();
}

std::string ValuesPlaceholders(size_t rows, size_t columns) {
  std::string out;
  size_t n = 0;
  for (size_t r = 0; r < rows; ++r) {
    out.append(r == 0 ? "(" : ", (");
    for (size_t c = 0; c < columns; ++c) {
      if (c != 0) out.append(", ");
      out.push_back('$');
      out.append(std::to_string(++n));
    }
    out.push_back(')');
  }
  return out;
}

size_t NextBatch(size_t remaining, size_t max_rows) {
  size_t n = 1;
  while (n * 2 <= remaining && n * 2 <= max_rows) n *= 2;
  return n;
}

Status Corrupt(std::string_view table) {
  return DataLossError("corrupt row in " + std::string(table));
}

Result<int64_t> ReadInt(const Row& row, size_t i, std::string_view table) {
  if (i >= row.size()) return Corrupt(table);
  const auto* v = std::get_if<int64_t>(&row.at(i));
  if (v == nullptr) return Corrupt(table);
  return *v;
}

Result<Json> ReadJson(const Row& row, size_t i, std::string_view table) {
  SB_ASSIGN_OR_RETURN(std::string text, ReadText(row, i, table));
  Result<Json> j = ParseJson(text, kStoredJsonLimits);
  if (!j.ok()) return Corrupt(table);
  return std::move(*j);
}

Result<Json> ReadObject(const Row& row, size_t i, size_t max_bytes, std::string_view table) {
  SB_ASSIGN_OR_RETURN(std::string text, ReadText(row, i, table));
  if (text.size() > max_bytes) return Corrupt(table);
  Result<Json> j = ParseJson(text, kStoredJsonLimits);
  if (!j.ok() || !j->is_object() || !IsStorableJson(*j, kMaxJsonColumnDepth)) {
    return Corrupt(table);
  }
  return std::move(*j);
}

Result<std::optional<int64_t>> ReadOptionalInt(const Row& row, size_t i, std::string_view table) {
  if (i < row.size() && row.IsNull(i)) return std::optional<int64_t>();
  SB_ASSIGN_OR_RETURN(int64_t n, ReadInt(row, i, table));
  return std::optional<int64_t>(n);
}

Result<std::vector<std::string>> ReadStrings(const Row& row, size_t i, std::string_view table) {
  SB_ASSIGN_OR_RETURN(Json j, ReadJson(row, i, table));
  if (!j.is_array()) return Corrupt(table);
  std::vector<std::string> out;
  for (const Json& e : j) {
    if (!e.is_string()) return Corrupt(table);
    out.push_back(e.get<std::string>());
  }
  return out;
}

Result<std::vector<ServiceGrant>> ReadServices(const Row& row, size_t i, std::string_view table) {
  SB_ASSIGN_OR_RETURN(Json j, ReadJson(row, i, table));
  if (!j.is_array()) return Corrupt(table);
  std::vector<ServiceGrant> out;
  for (const Json& grant : j) {
    if (!grant.is_object() || !grant.contains("service") || !grant["service"].is_string() ||
        !grant.contains("write") || !grant["write"].is_boolean()) {
      return Corrupt(table);
    }
    out.push_back({grant["service"].get<std::string>(), grant["write"].get<bool>()});
  }
  return out;
}

Status ReadTenant(const Row& row, const TenantId& tenant, std::string_view table) {
  SB_ASSIGN_OR_RETURN(std::string tenant_id, ReadUuid(row, 0, table));
  if (tenant_id != tenant.value()) {
    return InternalError(std::string(table) + ": row of another tenant");
  }
  return OkStatus();
}

Result<std::vector<Row>> QueryUpdatedSince(Transaction& tx, const TenantId& tenant,
                                           std::string_view select_from,
                                           std::string_view key_column, const UpdatedCursor& after,
                                           int limit, int max_limit) {
  SB_RETURN_IF_ERROR(CheckTenantScope(tx, tenant));
  if (!IsCanonicalUuid(after.key)) return InvalidArgumentError("invalid cursor key");
  if (limit < 1 || limit > max_limit) return InvalidArgumentError("list limit out of range");
  // A row-value comparison, so that both backends walk the (tenant_id, updated_at, key) index.
  const std::string key(key_column);
  const std::string sql = std::string(select_from) + "WHERE tenant_id = $1 AND (updated_at, " +
                          key + ") > ($2, $3) ORDER BY updated_at, " + key + " LIMIT $4";
  return tx.Query(sql, {tenant.value(), ToUnixMicros(after.updated_at), after.key, int64_t{limit}});
}

}  // namespace sb::store::internal
