#include "sb/connections/failure_summary.h"

#include <algorithm>

namespace sb::connections {

FailureSummary::FailureSummary(std::chrono::seconds window, size_t max_keys)
    : window_(std::max(window, std::chrono::seconds(1))),
      max_keys_(std::max<size_t>(1, max_keys)) {}

int64_t FailureSummary::IndexOf(Timestamp now) const {
  const auto since_epoch = std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch());
  return since_epoch.count() / window_.count();
}

bool FailureSummary::WouldAudit(const TenantId& tenant, const std::string& code, Timestamp now) {
  const int64_t index = IndexOf(now);
  std::lock_guard lock(mu_);
  auto found = windows_.find(Key(tenant.value(), code));
  if (found == windows_.end() || found->second.index != index) return true;
  ++found->second.unaudited;
  return false;
}

std::optional<int64_t> FailureSummary::Claim(const TenantId& tenant, const std::string& code,
                                             Timestamp now) {
  const int64_t index = IndexOf(now);
  std::lock_guard lock(mu_);
  const Key key(tenant.value(), code);
  auto found = windows_.find(key);
  if (found == windows_.end()) {
    if (windows_.size() >= max_keys_) DropPastWindows(index);
    if (windows_.size() >= max_keys_) return std::nullopt;
    windows_.emplace(key, Window{index, 0});
    return 0;
  }
  if (found->second.index == index) {
    ++found->second.unaudited;
    return std::nullopt;
  }
  const int64_t unaudited = found->second.unaudited;
  found->second = Window{index, 0};
  return unaudited;
}

void FailureSummary::DropPastWindows(int64_t current) {
  std::erase_if(windows_, [current](const auto& entry) { return entry.second.index < current; });
}

size_t FailureSummary::size() const {
  std::lock_guard lock(mu_);
  return windows_.size();
}

}  // namespace sb::connections
