// Eventually: polls a condition in tests that wait for another thread (a failure guard, never
// a latency assertion). True as soon as the condition holds once, so a state that flickers
// (a pool thread busy for one chunk, free for the next) is not read twice.
#pragma once

#include <chrono>
#include <functional>
#include <thread>

namespace sb::testing {

inline bool Eventually(const std::function<bool()>& condition,
                       std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!condition()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

}  // namespace sb::testing
