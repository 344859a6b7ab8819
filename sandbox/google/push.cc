#include "sandbox/google/push.h"

#include <chrono>
#include <ctime>

#include "sb/base/logging.h"

namespace sandbox::google {
namespace {

int64_t SystemMillis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// RFC 1123, as in X-Goog-Channel-Expiration.
std::string HttpDate(int64_t ms) {
  const std::time_t seconds = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char text[64];
  std::strftime(text, sizeof(text), "%a, %d %b %Y %H:%M:%S GMT", &tm);
  return text;
}

}  // namespace

PushSender::PushSender(sb::net::HttpClient& http) : http_(http), worker_([this] { Run(); }) {}

PushSender::~PushSender() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  worker_.join();
}

sb::Status PushSender::Watch(Channel channel, const PushSwitches& switches) {
  std::lock_guard<std::mutex> lock(mu_);
  const auto it = channels_.find(channel.id);
  if (it != channels_.end() && !it->second.stopped) {
    return sb::AlreadyExistsError("channel id not unique");
  }
  channel.message_number = 0;
  channels_[channel.id] = channel;
  Enqueue(channels_[channel.id], "sync", switches, SystemMillis());
  return sb::OkStatus();
}

sb::Status PushSender::Stop(const std::string& id, const std::string& resource_id,
                            const std::string& account_id, const PushSwitches& switches) {
  std::lock_guard<std::mutex> lock(mu_);
  const auto it = channels_.find(id);
  if (it == channels_.end() || it->second.stopped || it->second.resource_id != resource_id ||
      it->second.account_id != account_id) {
    return sb::NotFoundError("Channel '" + id + "' not found for project");
  }
  if (switches.send_after_stop) Enqueue(it->second, "exists", switches, SystemMillis());
  it->second.stopped = true;
  return sb::OkStatus();
}

void PushSender::Changed(const std::string& calendar_key, int64_t now_ms,
                         const PushSwitches& switches) {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& [id, channel] : channels_) {
    if (channel.stopped || channel.calendar_key != calendar_key) continue;
    if (channel.expiration_ms > 0 && channel.expiration_ms <= now_ms) continue;
    Enqueue(channel, "exists", switches, SystemMillis());
  }
}

void PushSender::Reset() {
  std::lock_guard<std::mutex> lock(mu_);
  channels_.clear();
  queue_.clear();
}

sb::Json PushSender::Channels() const {
  std::lock_guard<std::mutex> lock(mu_);
  sb::Json out = sb::Json::array();
  for (const auto& [id, c] : channels_) {
    if (c.stopped) continue;
    out.push_back({{"id", c.id},
                   {"resource_id", c.resource_id},
                   {"account_id", c.account_id},
                   {"address", c.address},
                   {"token", c.token},
                   {"expiration_ms", c.expiration_ms}});
  }
  return out;
}

sb::Json PushSender::Stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  size_t live = 0;
  for (const auto& [id, channel] : channels_) live += channel.stopped ? 0 : 1;
  return {{"channels", live},
          {"queued", queue_.size()},
          {"delivered", delivered_},
          {"dropped", dropped_},
          {"failed", failed_}};
}

// REQUIRES: mu_ held.
void PushSender::Enqueue(Channel& channel, std::string state, const PushSwitches& switches,
                         int64_t now_ms) {
  // Numbers grow, but not one by one (Google documents them as not sequential).
  channel.message_number += 1 + static_cast<int64_t>(random_() % 3);
  if (state != "sync" && switches.drop_rate > 0 &&
      std::uniform_real_distribution<double>(0, 1)(random_) < switches.drop_rate) {
    ++dropped_;
    return;
  }
  Delivery delivery{channel, std::move(state), now_ms + switches.delay_ms, 0};
  queue_.push_back(delivery);
  if (switches.duplicate) queue_.push_back(delivery);
  cv_.notify_one();
}

void PushSender::Run() {
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
    if (stopping_) return;
    const int64_t now = SystemMillis();
    auto ready = queue_.end();
    int64_t next_due = INT64_MAX;
    for (auto it = queue_.begin(); it != queue_.end(); ++it) {
      if (it->not_before_ms <= now) {
        ready = it;
        break;
      }
      next_due = std::min(next_due, it->not_before_ms);
    }
    if (ready == queue_.end()) {
      cv_.wait_for(lock, std::chrono::milliseconds(std::min<int64_t>(next_due - now, 1000)));
      continue;
    }
    Delivery delivery = std::move(*ready);
    queue_.erase(ready);
    lock.unlock();
    Deliver(std::move(delivery));
    lock.lock();
  }
}

void PushSender::Deliver(Delivery delivery) {
  const Channel& channel = delivery.channel;
  sb::net::HttpRequest request;
  request.method = "POST";
  request.url = channel.address;
  request.timeout = std::chrono::milliseconds(5000);
  request.headers = {
      {"Content-Type", "application/json; utf-8"},
      {"User-Agent", "APIs-Google; (+https://developers.google.com/webmasters/APIs-Google.html)"},
      {"X-Goog-Channel-ID", channel.id},
      {"X-Goog-Message-Number", std::to_string(channel.message_number)},
      {"X-Goog-Resource-ID", channel.resource_id},
      {"X-Goog-Resource-State", delivery.state},
      {"X-Goog-Resource-URI", channel.resource_uri}};
  if (!channel.token.empty()) request.headers.emplace_back("X-Goog-Channel-Token", channel.token);
  if (channel.expiration_ms > 0) {
    request.headers.emplace_back("X-Goog-Channel-Expiration", HttpDate(channel.expiration_ms));
  }
  auto response = http_.Send(request);
  const int status = response.ok() ? response->status : 0;
  const bool success =
      status == 200 || status == 201 || status == 202 || status == 204 || status == 102;
  std::lock_guard<std::mutex> lock(mu_);
  if (success) {
    ++delivered_;
    return;
  }
  const bool retryable =
      !response.ok() || status == 500 || status == 502 || status == 503 || status == 504;
  if (retryable && delivery.attempt < 3) {
    delivery.attempt++;
    delivery.not_before_ms = SystemMillis() + (500LL << delivery.attempt);
    queue_.push_back(std::move(delivery));
    cv_.notify_one();
    return;
  }
  ++failed_;
  sb::log::Debug("sandbox_push_failed", {{"channel", channel.id}, {"status", status}});
}

}  // namespace sandbox::google
