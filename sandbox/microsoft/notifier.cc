#include "sandbox/microsoft/notifier.h"

#include <algorithm>

#include "sb/base/logging.h"

namespace sandbox::microsoft {

Notifier::Notifier(sb::net::HttpClient& http, NotifierOptions options)
    : http_(http), options_(options), worker_([this] { Run(); }) {}

Notifier::~Notifier() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  worker_.join();
}

void Notifier::Enqueue(std::string url, std::string body) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    queue_.push_back({std::move(url), std::move(body), 0, std::chrono::steady_clock::now()});
  }
  cv_.notify_all();
}

void Notifier::Clear() {
  std::lock_guard<std::mutex> lock(mu_);
  queue_.clear();
}

int64_t Notifier::delivered() const {
  std::lock_guard<std::mutex> lock(mu_);
  return delivered_;
}

int64_t Notifier::dropped() const {
  std::lock_guard<std::mutex> lock(mu_);
  return dropped_;
}

bool Notifier::Deliver(const Delivery& delivery) {
  sb::net::HttpRequest request;
  request.method = "POST";
  request.url = delivery.url;
  request.headers = {{"Content-Type", "application/json; charset=utf-8"}};
  request.body = delivery.body;
  request.timeout = options_.timeout;
  auto response = http_.Send(request);
  return response.ok() && response->status >= 200 && response->status < 300;
}

void Notifier::Run() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stop_) {
    if (queue_.empty()) {
      cv_.wait(lock);
      continue;
    }
    // The earliest due delivery goes next; retries wait for their backoff.
    auto next =
        std::min_element(queue_.begin(), queue_.end(),
                         [](const Delivery& a, const Delivery& b) { return a.due < b.due; });
    if (next->due > std::chrono::steady_clock::now()) {
      cv_.wait_until(lock, next->due);
      continue;
    }
    Delivery delivery = std::move(*next);
    queue_.erase(next);
    lock.unlock();
    const bool ok = Deliver(delivery);
    lock.lock();
    if (ok) {
      ++delivered_;
    } else if (++delivery.attempts >= options_.max_attempts) {
      ++dropped_;
      sb::log::Warn("sandbox_graph_notification_dropped", {{"attempts", delivery.attempts}});
    } else {
      delivery.due = std::chrono::steady_clock::now() +
                     options_.first_backoff * (1 << (delivery.attempts - 1));
      queue_.push_back(std::move(delivery));
    }
  }
}

}  // namespace sandbox::microsoft
