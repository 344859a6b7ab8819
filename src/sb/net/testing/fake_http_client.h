// FakeHttpClient: an HttpClient for tests. It records every request and answers from a queue
// of scripted results (first in, first out) and, once the queue is empty, from a handler.
// With neither, Send returns FailedPrecondition so that an unexpected call fails the test.
//
// Thread safety: all methods may be called concurrently. The handler runs outside the lock,
// possibly on several threads at once.
#pragma once

#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "sb/base/status.h"
#include "sb/net/http_client.h"

namespace sb::net::testing {

class FakeHttpClient final : public HttpClient {
 public:
  using Handler = std::function<Result<HttpResponse>(const HttpRequest&)>;

  FakeHttpClient() = default;
  explicit FakeHttpClient(Handler handler) : handler_(std::move(handler)) {}

  // A response with `status`, `body` and `headers`, for scripting.
  static HttpResponse MakeResponse(int status, std::string body = "", HeaderList headers = {}) {
    return HttpResponse{.status = status, .headers = std::move(headers), .body = std::move(body)};
  }

  // Appends a scripted answer (a response or a transport error) for a later Send.
  void Enqueue(Result<HttpResponse> result) {
    std::lock_guard lock(mu_);
    queue_.push_back(std::move(result));
  }

  // Replaces the handler used once the queue is empty.
  void SetHandler(Handler handler) {
    std::lock_guard lock(mu_);
    handler_ = std::move(handler);
  }

  Result<HttpResponse> Send(const HttpRequest& request) override {
    Handler handler;
    {
      std::lock_guard lock(mu_);
      requests_.push_back(request);
      if (!queue_.empty()) {
        Result<HttpResponse> result = std::move(queue_.front());
        queue_.pop_front();
        return result;
      }
      handler = handler_;
    }
    if (!handler) {
      return FailedPreconditionError("FakeHttpClient: nothing scripted for " + request.method +
                                     " " + request.url);
    }
    return handler(request);
  }

  // Every request sent so far, in order.
  std::vector<HttpRequest> requests() const {
    std::lock_guard lock(mu_);
    return requests_;
  }
  size_t request_count() const {
    std::lock_guard lock(mu_);
    return requests_.size();
  }
  // The most recent request, if any.
  std::optional<HttpRequest> last_request() const {
    std::lock_guard lock(mu_);
    if (requests_.empty()) return std::nullopt;
    return requests_.back();
  }
  // Scripted results not consumed yet.
  size_t pending() const {
    std::lock_guard lock(mu_);
    return queue_.size();
  }

 private:
  mutable std::mutex mu_;
  std::vector<HttpRequest> requests_;       // guarded by mu_
  std::deque<Result<HttpResponse>> queue_;  // guarded by mu_
  Handler handler_;                         // guarded by mu_
};

}  // namespace sb::net::testing
