// Notifier: delivers webhook POSTs (Graph change and lifecycle notifications) from its own
// worker thread, so a slow receiver never blocks the request that caused the change. A
// delivery that fails (transport error or non-2xx) is retried a few times with exponential
// backoff, then dropped, as Graph does after its retry window. Thread-safe.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <thread>

#include "sb/net/http_client.h"

namespace sandbox::microsoft {

struct NotifierOptions {
  int max_attempts = 4;
  std::chrono::milliseconds first_backoff{200};
  std::chrono::milliseconds timeout{3'000};  // Graph's response budget for receivers
};

class Notifier {
 public:
  Notifier(sb::net::HttpClient& http, NotifierOptions options = {});
  ~Notifier();
  Notifier(const Notifier&) = delete;
  Notifier& operator=(const Notifier&) = delete;

  // Queues one JSON POST to `url`.
  void Enqueue(std::string url, std::string body);
  // Drops everything queued (sandbox reset).
  void Clear();
  // Deliveries attempted / given up so far (for the control API and tests).
  int64_t delivered() const;
  int64_t dropped() const;

 private:
  struct Delivery {
    std::string url;
    std::string body;
    int attempts = 0;
    std::chrono::steady_clock::time_point due;
  };

  void Run();
  bool Deliver(const Delivery& delivery);

  sb::net::HttpClient& http_;
  const NotifierOptions options_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Delivery> queue_;  // guarded by mu_
  bool stop_ = false;           // guarded by mu_
  int64_t delivered_ = 0;       // guarded by mu_
  int64_t dropped_ = 0;         // guarded by mu_
  std::thread worker_;
};

}  // namespace sandbox::microsoft
