// Periodic: a background thread that runs a pass every `interval` until stopped, for the
// schedulers and pollers (token refresh, health checks, kill-switch polling, usage flushing).
// A pass returns true when it left work behind (a full batch): the next pass then starts at
// once instead of after the interval. Start/Stop from one controlling thread; Stop finishes the
// pass in progress, then returns.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>
#include <utility>

namespace sb {

class Periodic {
 public:
  Periodic(std::chrono::milliseconds interval, std::function<bool()> pass)
      : interval_(interval), pass_(std::move(pass)) {}
  ~Periodic() { Stop(); }
  Periodic(const Periodic&) = delete;
  Periodic& operator=(const Periodic&) = delete;

  void Start();
  void Stop();
  // Runs the next pass now instead of at the end of the interval.
  void Wake();

 private:
  void Run();

  const std::chrono::milliseconds interval_;
  std::function<bool()> pass_;
  std::mutex mu_;
  std::condition_variable wake_;
  bool stopping_ = false;  // guarded by mu_
  bool woken_ = false;     // guarded by mu_
  std::thread thread_;
};

}  // namespace sb
