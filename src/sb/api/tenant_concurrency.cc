#include "sb/api/tenant_concurrency.h"

#include <optional>
#include <utility>

#include "sb/api/auth.h"
#include "sb/http/problem.h"

namespace sb::api {

// One admitted request; releases its place when destroyed.
class TenantConcurrencyLimiter::Slot {
 public:
  Slot(TenantConcurrencyLimiter& limiter, std::string tenant, bool upload)
      : limiter_(limiter), tenant_(std::move(tenant)), upload_(upload) {}
  ~Slot() { limiter_.Release(tenant_, upload_); }
  Slot(const Slot&) = delete;
  Slot& operator=(const Slot&) = delete;

 private:
  TenantConcurrencyLimiter& limiter_;
  const std::string tenant_;
  const bool upload_;
};

namespace {

// A streamed answer that holds its request's slot until the server drops the stream.
class SlotHoldingBody final : public http::BodySource {
 public:
  SlotHoldingBody(std::shared_ptr<http::BodySource> inner, std::shared_ptr<void> slot)
      : inner_(std::move(inner)), slot_(std::move(slot)) {}
  Result<std::optional<std::string>> Next() override { return inner_->Next(); }

 private:
  std::shared_ptr<http::BodySource> inner_;
  std::shared_ptr<void> slot_;
};

// An upload is a request on a streamed-body route whose body is still to come: a bodiless
// proxy GET cannot trickle, so it counts only against the request cap.
bool IsUpload(const http::Request& request) {
  if (!request.route_options.stream_request_body) return false;
  if (request.body_length) return *request.body_length > 0;
  return request.Header("Transfer-Encoding").has_value();
}

}  // namespace

http::Response TenantConcurrencyLimiter::operator()(http::Request& request,
                                                    const http::Handler& next) {
  if (!request.route_options.authenticated || !request.principal.has_value()) {
    return next(request);
  }
  const std::string tenant = PrincipalOf(request).tenant_id.value();
  const bool upload = IsUpload(request);
  const Verdict verdict = TryAcquire(tenant, upload);
  if (verdict != Verdict::kAdmitted) return Refusal(verdict, request);
  auto slot = std::make_shared<Slot>(*this, tenant, upload);
  http::Response response = next(request);
  if (response.stream) {
    response.stream = std::make_shared<SlotHoldingBody>(std::move(response.stream), slot);
  }
  return response;
}

TenantConcurrencyLimiter::Verdict TenantConcurrencyLimiter::TryAcquire(const std::string& tenant,
                                                                       bool upload) {
  std::lock_guard<std::mutex> lock(mu_);
  Counts& counts = in_flight_[tenant];
  Verdict verdict = Verdict::kAdmitted;
  if (options_.max_requests != 0 && counts.requests >= options_.max_requests) {
    verdict = Verdict::kTooManyRequests;
  } else if (upload && options_.max_uploads != 0 && counts.uploads >= options_.max_uploads) {
    verdict = Verdict::kTooManyUploads;
  }
  if (verdict == Verdict::kAdmitted) {
    ++counts.requests;
    if (upload) ++counts.uploads;
  } else if (counts.requests == 0) {
    in_flight_.erase(tenant);
  }
  return verdict;
}

void TenantConcurrencyLimiter::Release(const std::string& tenant, bool upload) {
  std::lock_guard<std::mutex> lock(mu_);
  const auto it = in_flight_.find(tenant);
  if (it == in_flight_.end()) return;
  --it->second.requests;
  if (upload) --it->second.uploads;
  if (it->second.requests == 0) in_flight_.erase(it);
}

size_t TenantConcurrencyLimiter::InFlight(const std::string& tenant) const {
  std::lock_guard<std::mutex> lock(mu_);
  const auto it = in_flight_.find(tenant);
  return it == in_flight_.end() ? 0 : it->second.requests;
}

http::Response TenantConcurrencyLimiter::Refusal(Verdict verdict,
                                                 const http::Request& request) const {
  const bool uploads = verdict == Verdict::kTooManyUploads;
  const std::string detail =
      uploads ? "This tenant already has " + std::to_string(options_.max_uploads) +
                    " uploads in flight (limits.max_concurrent_uploads_per_tenant). Retry when "
                    "one has finished."
              : "This tenant already has " + std::to_string(options_.max_requests) +
                    " requests in flight (limits.max_concurrent_requests_per_tenant). Retry "
                    "when one has finished.";
  http::Response response = http::MakeProblem(
      429, uploads ? "too-many-concurrent-uploads" : "too-many-concurrent-requests", detail,
      request.request_id);
  response.SetHeader("Retry-After", "1");
  return response;
}

}  // namespace sb::api
