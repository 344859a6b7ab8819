#include "sb/api/exclusive_runs.h"

namespace sb::api {

std::unique_ptr<ExclusiveRuns::Ticket> ExclusiveRuns::Enter(const std::string& key) {
  std::lock_guard lock(mu_);
  if (running_.size() >= max_total_ || running_.count(key) > 0) return nullptr;
  running_.insert(key);
  return std::make_unique<Ticket>(*this, key);
}

void ExclusiveRuns::Leave(const std::string& key) {
  std::lock_guard lock(mu_);
  running_.erase(key);
}

}  // namespace sb::api
