#include "sb/store/database.h"

#include <charconv>

namespace sb::store {
namespace {

std::optional<int64_t> ParseInt(std::string_view text) {
  int64_t out = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  if (ec != std::errc() || ptr != text.data() + text.size() || text.empty()) return std::nullopt;
  return out;
}

}  // namespace

std::string Row::GetString(size_t i) const {
  const Value& v = values_.at(i);
  if (const auto* s = std::get_if<std::string>(&v)) return *s;
  if (const auto* b = std::get_if<Bytes>(&v)) return b->data;
  if (const auto* n = std::get_if<int64_t>(&v)) return std::to_string(*n);
  return "";
}

int64_t Row::GetInt(size_t i) const { return GetOptionalInt(i).value_or(0); }

std::optional<std::string> Row::GetOptionalString(size_t i) const {
  if (IsNull(i)) return std::nullopt;
  return GetString(i);
}

std::optional<int64_t> Row::GetOptionalInt(size_t i) const {
  const Value& v = values_.at(i);
  if (const auto* n = std::get_if<int64_t>(&v)) return *n;
  if (const auto* s = std::get_if<std::string>(&v)) return ParseInt(*s);
  return std::nullopt;
}

}  // namespace sb::store
