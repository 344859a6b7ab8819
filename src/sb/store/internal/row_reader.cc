#include "sb/store/internal/row_reader.h"

namespace sb::store::internal {
namespace {

Status Corrupt(std::string_view table, size_t column, std::string_view what) {
  return DataLossError("corrupt row in " + std::string(table) + ": column " +
                       std::to_string(column) + " " + std::string(what));
}

}  // namespace

Status CheckTenantScope(const Transaction& tx, const TenantId& tenant) {
  if (!tenant.valid()) return InvalidArgumentError("invalid tenant id");
  if (!tx.tenant().has_value() || *tx.tenant() != tenant) {
    return PermissionDeniedError("transaction is not scoped to the requested tenant");
  }
  return OkStatus();
}

Result<std::string> ReadUuid(const Row& row, size_t i, std::string_view table) {
  if (i >= row.size()) return Corrupt(table, i, "is missing");
  const auto* text = std::get_if<std::string>(&row.at(i));
  if (text == nullptr || !IsCanonicalUuid(*text)) return Corrupt(table, i, "is not a uuid");
  return *text;
}

Result<std::string> ReadText(const Row& row, size_t i, std::string_view table) {
  if (i >= row.size()) return Corrupt(table, i, "is missing");
  const auto* text = std::get_if<std::string>(&row.at(i));
  if (text == nullptr) return Corrupt(table, i, "is not text");
  return *text;
}

Result<Timestamp> ReadTimestamp(const Row& row, size_t i, std::string_view table) {
  if (i >= row.size()) return Corrupt(table, i, "is missing");
  const auto* n = std::get_if<int64_t>(&row.at(i));
  if (n == nullptr || *n < 0) return Corrupt(table, i, "is not a timestamp");
  return FromUnixMicros(*n);
}

Result<std::optional<Timestamp>> ReadOptionalTimestamp(const Row& row, size_t i,
                                                       std::string_view table) {
  if (i < row.size() && row.IsNull(i)) return std::optional<Timestamp>();
  SB_ASSIGN_OR_RETURN(Timestamp t, ReadTimestamp(row, i, table));
  return std::optional<Timestamp>(t);
}

}  // namespace sb::store::internal
