// Push channels (events.watch / channels.stop) and the sender that delivers their
// notifications (provider-protocols.md 3.7): a `sync` message right after creation, then
// `exists` on every change of the watched calendar, with X-Goog-* headers and no body,
// message numbers increasing but not sequentially. Deliveries run on a worker thread with
// retries for 5xx answers; switches drop, duplicate or delay them, or keep sending after a
// channel was stopped. Thread-safe.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "sb/base/json.h"
#include "sb/net/http_client.h"

namespace sandbox::google {

struct Channel {
  std::string id;
  std::string resource_id;
  std::string resource_uri;
  std::string calendar_key;  // which calendar's changes it reports
  std::string account_id;
  std::string address;
  std::string token;
  int64_t expiration_ms = 0;
  int64_t message_number = 0;
  bool stopped = false;
};

struct PushSwitches {
  double drop_rate = 0;
  bool duplicate = false;
  int64_t delay_ms = 0;
  bool send_after_stop = false;
};

class PushSender {
 public:
  explicit PushSender(sb::net::HttpClient& http);
  ~PushSender();
  PushSender(const PushSender&) = delete;
  PushSender& operator=(const PushSender&) = delete;

  // Registers the channel and queues its `sync` message. AlreadyExists for a live channel id.
  sb::Status Watch(Channel channel, const PushSwitches& switches);
  // NotFound when no live channel matches id and resource id (for this account).
  sb::Status Stop(const std::string& id, const std::string& resource_id,
                  const std::string& account_id, const PushSwitches& switches);
  // Queues an `exists` message on every live channel of the calendar.
  void Changed(const std::string& calendar_key, int64_t now_ms, const PushSwitches& switches);
  void Reset();

  sb::Json Stats() const;
  // The live channels, tokens included (what Google knows of each): for tests.
  sb::Json Channels() const;

 private:
  struct Delivery {
    Channel channel;  // a copy at the time of queueing
    std::string state;
    int64_t not_before_ms = 0;
    int attempt = 0;
  };

  void Enqueue(Channel& channel, std::string state, const PushSwitches& switches, int64_t now_ms);
  void Run();
  void Deliver(Delivery delivery);

  sb::net::HttpClient& http_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::string, Channel> channels_;  // guarded by mu_
  std::deque<Delivery> queue_;               // guarded by mu_
  std::mt19937_64 random_{20261125};         // guarded by mu_
  bool stopping_ = false;                    // guarded by mu_
  int64_t delivered_ = 0;                    // guarded by mu_
  int64_t dropped_ = 0;                      // guarded by mu_
  int64_t failed_ = 0;                       // guarded by mu_
  std::thread worker_;
};

}  // namespace sandbox::google
