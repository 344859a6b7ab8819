// ExclusiveRuns: at most one run per key (a tenant) and at most `max_total` runs of all keys at
// once, for work that is expensive and pointless to repeat concurrently, such as re-hashing a
// tenant's whole audit chain. Enter hands out a ticket that ends the run when destroyed, or
// nothing when the key already runs or the node is full; the caller answers 429 then.
//
// Thread-safe; it must outlive its tickets.
#pragma once

#include <cstddef>
#include <memory>
#include <mutex>
#include <set>
#include <string>

namespace sb::api {

class ExclusiveRuns {
 public:
  explicit ExclusiveRuns(size_t max_total) : max_total_(max_total) {}
  ExclusiveRuns(const ExclusiveRuns&) = delete;
  ExclusiveRuns& operator=(const ExclusiveRuns&) = delete;

  class Ticket {
   public:
    Ticket(ExclusiveRuns& runs, std::string key) : runs_(runs), key_(std::move(key)) {}
    ~Ticket() { runs_.Leave(key_); }
    Ticket(const Ticket&) = delete;
    Ticket& operator=(const Ticket&) = delete;

   private:
    ExclusiveRuns& runs_;
    const std::string key_;
  };

  // A ticket for `key`, or nullptr when `key` already runs or max_total runs are under way.
  std::unique_ptr<Ticket> Enter(const std::string& key);

 private:
  void Leave(const std::string& key);

  const size_t max_total_;
  std::mutex mu_;
  std::set<std::string> running_;
};

}  // namespace sb::api
