// The Idempotency-Key header on writes (issue 16): a client that retries a write after a
// timeout sends the same key and gets the first attempt's answer, so a retry never writes
// twice. Keys are per tenant and kept for 24 hours (store/tenancy/idempotency_repository.h).
//
//   no header                        the handler runs as usual
//   a new key                        the handler runs; its answer (below 500) is stored
//   the same key, the same request   the stored answer again, with Idempotent-Replayed: true
//   the same key, another request    422 (a key names one request: method, path and body)
//   the same key while it still runs 409, try again shortly
//   a malformed key                  400 (1..255 visible ASCII characters)
// A 5xx answer is not stored: the retry runs the handler again. A claim whose holder died is
// taken over after a minute. Thread-safe.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>

#include "sb/base/clock.h"
#include "sb/http/request.h"
#include "sb/http/response.h"
#include "sb/store/database.h"
#include "sb/store/tenancy/idempotency_repository.h"

namespace sb::api {

struct IdempotencyOptions {
  std::chrono::hours ttl{24};
  std::chrono::seconds lease{60};
  std::chrono::seconds prune_every{60};
};

class IdempotentWrites {
 public:
  IdempotentWrites(store::Database& db, store::Database& maintenance, const Clock& clock,
                   IdempotencyOptions options = {})
      : db_(db), maintenance_(maintenance), clock_(clock), options_(options) {}

  // Runs `handler` for an authenticated request under its Idempotency-Key, if any.
  http::Response Run(http::Request& request,
                     const std::function<http::Response(http::Request&)>& handler);

 private:
  Result<std::optional<http::Response>> Claim(http::Request& request, const std::string& key,
                                              const std::string& fingerprint);
  void Store(const http::Request& request, const std::string& key, const http::Response& answer);
  void PruneNowAndThen();

  store::Database& db_;
  store::Database& maintenance_;
  const Clock& clock_;
  const IdempotencyOptions options_;
  store::IdempotencyRepository repo_;
  std::atomic<int64_t> next_prune_us_{0};
};

}  // namespace sb::api
