#include "sb/base/quota.h"

namespace sb {
namespace {

constexpr std::string_view kCountPrefix = "quota ";
constexpr std::string_view kRatePrefix = "rate quota ";

}  // namespace

Status QuotaExceededError(QuotaKind kind, std::string_view key, int64_t limit,
                          std::string_view detail) {
  std::string message(kind == QuotaKind::kRate ? kRatePrefix : kCountPrefix);
  message.append(key).append(" (").append(std::to_string(limit)).append(") reached: ");
  message.append(detail);
  return Status(StatusCode::kResourceExhausted, std::move(message));
}

std::optional<QuotaExceeded> QuotaOf(const Status& status) {
  if (status.code() != StatusCode::kResourceExhausted) return std::nullopt;
  std::string_view message = status.message();
  QuotaExceeded out;
  if (message.starts_with(kRatePrefix)) {
    out.kind = QuotaKind::kRate;
    message.remove_prefix(kRatePrefix.size());
  } else if (message.starts_with(kCountPrefix)) {
    message.remove_prefix(kCountPrefix.size());
  } else {
    return std::nullopt;
  }
  const size_t end = message.find(' ');
  if (end == std::string_view::npos || !message.starts_with("quotas.")) return std::nullopt;
  out.key = std::string(message.substr(0, end));
  return out;
}

}  // namespace sb
