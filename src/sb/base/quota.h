// Per-tenant quotas as error values: a request that would exceed a configured quota (the
// `quotas.*` keys) fails with RESOURCE_EXHAUSTED whose message names the quota, so that the
// API can answer 422 (a count: endpoints, connections) or 429 (a rate: sessions per minute)
// with a problem naming it, whatever module found it. Stateless; thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "sb/base/status.h"

namespace sb {

enum class QuotaKind { kCount, kRate };

struct QuotaExceeded {
  QuotaKind kind = QuotaKind::kCount;
  std::string key;  // the configuration key, e.g. "quotas.webhook_endpoints"
};

// RESOURCE_EXHAUSTED: "quota <key> (<limit>) reached: <detail>".
Status QuotaExceededError(QuotaKind kind, std::string_view key, int64_t limit,
                          std::string_view detail);

// The quota a status from QuotaExceededError names; nullopt for any other status.
std::optional<QuotaExceeded> QuotaOf(const Status& status);

}  // namespace sb
