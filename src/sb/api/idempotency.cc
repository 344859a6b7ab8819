#include "sb/api/idempotency.h"

#include <utility>

#include "sb/api/auth.h"
#include "sb/api/tenant_handlers.h"
#include "sb/base/encoding.h"
#include "sb/http/problem.h"
#include "sb/vault/digest.h"

namespace sb::api {
namespace {

constexpr size_t kMaxKeyBytes = 255;
constexpr size_t kMaxStoredBody = 1u << 20;
constexpr int kPruneBatch = 1000;
// The answer's headers worth replaying.
constexpr std::string_view kReplayed[] = {"Content-Type", "ETag", "Location"};

bool ValidKey(std::string_view key) {
  if (key.empty() || key.size() > kMaxKeyBytes) return false;
  for (char c : key) {
    if (c < 0x21 || c > 0x7e) return false;
  }
  return true;
}

// What makes two requests the same: method, path (with query) and body.
std::string Fingerprint(const http::Request& request) {
  std::string text = request.method;
  text += '\n';
  text += request.target;
  text += '\n';
  text += request.body;
  return HexEncode(vault::Sha256(text));
}

http::Response Replay(const store::IdempotencyRecord& stored) {
  http::Response response;
  response.status = stored.status;
  response.body = stored.body;
  if (stored.headers.is_object()) {
    for (const auto& [name, value] : stored.headers.items()) {
      if (value.is_string()) response.SetHeader(name, value.get<std::string>());
    }
  }
  response.SetHeader("Idempotent-Replayed", "true");
  return response;
}

}  // namespace

http::Response IdempotentWrites::Run(http::Request& request,
                                     const std::function<http::Response(http::Request&)>& handler) {
  const auto header = request.Header("Idempotency-Key");
  if (!header) return handler(request);
  PruneNowAndThen();
  const std::string key(*header);
  if (!ValidKey(key)) {
    return Respond(request,
                   InvalidArgumentError("Idempotency-Key: 1..255 visible ASCII characters"));
  }
  auto claimed = Claim(request, key, Fingerprint(request));
  if (!claimed.ok()) return Respond(request, claimed.status());
  if (*claimed) return std::move(**claimed);
  http::Response answer = handler(request);
  Store(request, key, answer);
  return answer;
}

// nullopt when this request holds the key now; else the answer to give instead.
Result<std::optional<http::Response>> IdempotentWrites::Claim(http::Request& request,
                                                              const std::string& key,
                                                              const std::string& fingerprint) {
  const TenantId& tenant = PrincipalOf(request).tenant_id;
  const Timestamp now = clock_.Now();
  store::IdempotencyRecord record{.tenant_id = tenant,
                                  .key = key,
                                  .fingerprint = fingerprint,
                                  .created_at = now,
                                  .locked_until = now + options_.lease,
                                  .expires_at = now + options_.ttl};
  store::IdempotencyClaim claim;
  SB_RETURN_IF_ERROR(db_.RunInTenant(tenant, [&](store::Transaction& tx) -> Status {
    SB_ASSIGN_OR_RETURN(claim, repo_.Claim(tx, tenant, record, now));
    return OkStatus();
  }));
  if (claim.outcome == store::ClaimOutcome::kClaimed || !claim.existing) {
    return std::optional<http::Response>();
  }
  const store::IdempotencyRecord& stored = *claim.existing;
  if (stored.fingerprint != fingerprint) {
    return std::optional<http::Response>(http::MakeProblem(
        422, "idempotency-key-reused",
        "this Idempotency-Key was used for another request; use a new key", request.request_id));
  }
  if (stored.status == 0) {
    http::Response busy =
        http::MakeProblem(409, "idempotency-key-in-progress",
                          "a request with this Idempotency-Key is still running; try again shortly",
                          request.request_id);
    busy.SetHeader("Retry-After", "1");
    return std::optional<http::Response>(std::move(busy));
  }
  return std::optional<http::Response>(Replay(stored));
}

// Keeps the answer for replays; a 5xx, a streamed or an oversized answer is let go, so a retry
// runs again.
void IdempotentWrites::Store(const http::Request& request, const std::string& key,
                             const http::Response& answer) {
  const TenantId& tenant = PrincipalOf(request).tenant_id;
  const bool keep = answer.status < 500 && !answer.stream && answer.body.size() <= kMaxStoredBody;
  Json headers = Json::object();
  for (std::string_view name : kReplayed) {
    if (auto value = answer.Header(name)) headers[std::string(name)] = std::string(*value);
  }
  // A failure here leaves the claim to expire: a retry then runs the request again.
  (void)db_.RunInTenant(tenant, [&](store::Transaction& tx) -> Status {
    if (!keep) return repo_.Release(tx, tenant, key).status();
    return repo_.Complete(tx, tenant, key, answer.status, headers, answer.body);
  });
}

void IdempotentWrites::PruneNowAndThen() {
  const int64_t now_us =
      std::chrono::duration_cast<std::chrono::microseconds>(clock_.Now().time_since_epoch())
          .count();
  int64_t due = next_prune_us_.load();
  if (now_us < due) return;
  const int64_t next =
      now_us + std::chrono::duration_cast<std::chrono::microseconds>(options_.prune_every).count();
  if (!next_prune_us_.compare_exchange_strong(due, next)) return;
  (void)maintenance_.RunUnscoped([&](store::Transaction& tx) -> Status {
    return repo_.MaintenanceDeleteExpired(tx, clock_.Now(), kPruneBatch).status();
  });
}

}  // namespace sb::api
