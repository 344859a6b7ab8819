#include "sandbox/core/settings.h"

#include "sb/base/check.h"

namespace sandbox {
namespace {

bool SameType(const sb::Json& a, const sb::Json& b) {
  if (a.is_number() && b.is_number()) return a.is_number_float() || !b.is_number_float();
  return a.type() == b.type();
}

}  // namespace

Settings::Settings(sb::Json defaults) : defaults_(std::move(defaults)), values_(defaults_) {
  SB_CHECK(defaults_.is_object());
}

sb::Status Settings::Merge(const sb::Json& patch) {
  if (!patch.is_object()) return sb::InvalidArgumentError("settings are a JSON object");
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& [key, value] : patch.items()) {
    const auto it = defaults_.find(key);
    if (it == defaults_.end()) return sb::InvalidArgumentError("unknown setting: " + key);
    if (!SameType(*it, value)) {
      return sb::InvalidArgumentError("setting " + key + " expects a " +
                                      std::string(it->type_name()));
    }
  }
  for (const auto& [key, value] : patch.items()) values_[key] = value;
  return sb::OkStatus();
}

void Settings::Reset() {
  std::lock_guard<std::mutex> lock(mu_);
  values_ = defaults_;
}

sb::Json Settings::Snapshot() const {
  std::lock_guard<std::mutex> lock(mu_);
  return values_;
}

bool Settings::Bool(const std::string& key) const {
  std::lock_guard<std::mutex> lock(mu_);
  return values_.at(key).get<bool>();
}

int64_t Settings::Int(const std::string& key) const {
  std::lock_guard<std::mutex> lock(mu_);
  return values_.at(key).get<int64_t>();
}

double Settings::Double(const std::string& key) const {
  std::lock_guard<std::mutex> lock(mu_);
  return values_.at(key).get<double>();
}

std::string Settings::String(const std::string& key) const {
  std::lock_guard<std::mutex> lock(mu_);
  return values_.at(key).get<std::string>();
}

}  // namespace sandbox
