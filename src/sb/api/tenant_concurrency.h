// TenantConcurrencyLimiter: a middleware, registered after AuthMiddleware, that caps how many
// requests of one tenant are in flight at once, and how many of those stream their request
// body (proxy uploads, which may wait on a slow client for the whole read timeout). Over a cap
// the caller gets 429 problem+json with Retry-After and a detail naming the limit. A slot is
// released when the response is done: at once for a buffered answer, and for a streamed answer
// (Response::stream) when the server destroys the stream, i.e. after its last chunk or when the
// client leaves. Public routes pass through uncounted.
//
// Thread-safe; it must outlive every response it handed out (the server's streams).
#pragma once

#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "sb/http/request.h"
#include "sb/http/response.h"
#include "sb/http/router.h"

namespace sb::api {

struct TenantConcurrencyOptions {
  size_t max_requests = 64;  // limits.max_concurrent_requests_per_tenant; 0: no cap
  size_t max_uploads = 8;    // limits.max_concurrent_uploads_per_tenant; 0: no cap
};

class TenantConcurrencyLimiter {
 public:
  explicit TenantConcurrencyLimiter(TenantConcurrencyOptions options) : options_(options) {}
  TenantConcurrencyLimiter(const TenantConcurrencyLimiter&) = delete;
  TenantConcurrencyLimiter& operator=(const TenantConcurrencyLimiter&) = delete;

  http::Response operator()(http::Request& request, const http::Handler& next);

  // Requests of `tenant` (its id's value) in flight now.
  size_t InFlight(const std::string& tenant) const;

 private:
  class Slot;
  struct Counts {
    size_t requests = 0;
    size_t uploads = 0;
  };
  enum class Verdict { kAdmitted, kTooManyRequests, kTooManyUploads };

  Verdict TryAcquire(const std::string& tenant, bool upload);
  void Release(const std::string& tenant, bool upload);
  http::Response Refusal(Verdict verdict, const http::Request& request) const;

  const TenantConcurrencyOptions options_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, Counts> in_flight_;  // guarded by mu_; no all-zero entries
};

}  // namespace sb::api
