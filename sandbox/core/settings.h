// Settings: a provider's behaviour switches (token lifetimes, refresh-token rotation, push
// drop rate, page sizes ...), a flat JSON object whose keys and value types are fixed by the
// defaults it starts with. PUT /_sandbox/settings merges a patch; an unknown key or a value of
// another type is rejected as a whole, so a typo never silently changes nothing. Thread-safe.
#pragma once

#include <cstdint>
#include <mutex>
#include <string>

#include "sb/base/json.h"
#include "sb/base/status.h"

namespace sandbox {

class Settings {
 public:
  explicit Settings(sb::Json defaults);

  sb::Status Merge(const sb::Json& patch);
  void Reset();
  sb::Json Snapshot() const;

  bool Bool(const std::string& key) const;
  int64_t Int(const std::string& key) const;
  double Double(const std::string& key) const;
  std::string String(const std::string& key) const;

 private:
  const sb::Json defaults_;
  mutable std::mutex mu_;
  sb::Json values_;  // guarded by mu_
};

}  // namespace sandbox
