// FakeHttpClient: an HttpClient for tests. It records every request and answers from a queue
// of scripted results (first in, first out) and, once the queue is empty, from a handler.
// With neither, Send returns FailedPrecondition so that an unexpected call fails the test.
// Send and Open share the queue: Open hands out a scripted response's body as one chunk, or
// the chunks given to EnqueueStream one per Next (an error chunk ends the stream with it);
// Send concatenates scripted chunks. A request's body source is read to its end and recorded
// as the request's body. A set cancel flag makes Send and Open, and Next between chunks,
// return Cancelled.
//
// Thread safety: all methods may be called concurrently. The handler runs outside the lock,
// possibly on several threads at once.
#pragma once

#include <deque>
#include <functional>
#include <memory>
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

  // Appends a scripted answer (a response or a transport error) for a later Send or Open.
  void Enqueue(Result<HttpResponse> result) {
    std::lock_guard lock(mu_);
    queue_.push_back(Scripted{std::move(result), std::nullopt});
  }

  // Appends a response whose body comes in `chunks` (head: status and headers).
  void EnqueueStream(HttpResponse head, std::vector<Result<std::string>> chunks) {
    std::lock_guard lock(mu_);
    queue_.push_back(Scripted{std::move(head), std::move(chunks)});
  }

  // Replaces the handler used once the queue is empty.
  void SetHandler(Handler handler) {
    std::lock_guard lock(mu_);
    handler_ = std::move(handler);
  }

  Result<HttpResponse> Send(const HttpRequest& request) override {
    SB_ASSIGN_OR_RETURN(Scripted scripted, Take(request));
    SB_ASSIGN_OR_RETURN(HttpResponse response, std::move(scripted.response));
    if (scripted.chunks) {
      for (Result<std::string>& chunk : *scripted.chunks) {
        if (!chunk.ok()) return chunk.status();
        response.body += *chunk;
      }
    }
    return response;
  }

  Result<std::unique_ptr<HttpResponseStream>> Open(const HttpRequest& request) override {
    SB_ASSIGN_OR_RETURN(Scripted scripted, Take(request));
    SB_ASSIGN_OR_RETURN(HttpResponse head, std::move(scripted.response));
    std::vector<Result<std::string>> chunks;
    if (scripted.chunks) {
      chunks = std::move(*scripted.chunks);
    } else if (!head.body.empty()) {
      chunks.emplace_back(std::move(head.body));
    }
    head.body.clear();
    return std::unique_ptr<HttpResponseStream>(
        std::make_unique<Stream>(std::move(head), std::move(chunks), request.cancel));
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
  struct Scripted {
    Result<HttpResponse> response;
    std::optional<std::vector<Result<std::string>>> chunks;
  };

  class Stream final : public HttpResponseStream {
   public:
    Stream(HttpResponse head, std::vector<Result<std::string>> chunks, CancelFlag cancel)
        : head_(std::move(head)), chunks_(std::move(chunks)), cancel_(std::move(cancel)) {}
    const HttpResponse& head() const override { return head_; }
    Result<std::optional<std::string>> Next() override {
      if (cancel_ && cancel_->load()) return Status(StatusCode::kCancelled, "cancelled");
      while (next_ < chunks_.size()) {
        Result<std::string>& chunk = chunks_[next_++];
        if (!chunk.ok()) return chunk.status();
        if (!chunk->empty()) return std::optional<std::string>(std::move(*chunk));
      }
      return std::optional<std::string>();
    }

   private:
    HttpResponse head_;
    std::vector<Result<std::string>> chunks_;
    size_t next_ = 0;
    CancelFlag cancel_;
  };

  // Records `request` (with its body source read into `body`) and takes the next answer.
  Result<Scripted> Take(const HttpRequest& request) {
    HttpRequest recorded = request;
    if (recorded.body_source) {
      while (true) {
        SB_ASSIGN_OR_RETURN(std::optional<std::string> piece, recorded.body_source->Next());
        if (!piece) break;
        recorded.body += *piece;
      }
      recorded.body_source.reset();
    }
    Handler handler;
    {
      std::lock_guard lock(mu_);
      requests_.push_back(recorded);
      if (request.cancel && request.cancel->load()) {
        return Status(StatusCode::kCancelled, "cancelled");
      }
      if (!queue_.empty()) {
        Scripted scripted = std::move(queue_.front());
        queue_.pop_front();
        return scripted;
      }
      handler = handler_;
    }
    if (!handler) {
      return FailedPreconditionError("FakeHttpClient: nothing scripted for " + request.method +
                                     " " + request.url);
    }
    return Scripted{handler(recorded), std::nullopt};
  }

  mutable std::mutex mu_;
  std::vector<HttpRequest> requests_;  // guarded by mu_
  std::deque<Scripted> queue_;         // guarded by mu_
  Handler handler_;                    // guarded by mu_
};

}  // namespace sb::net::testing
