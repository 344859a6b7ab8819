// Context: who acts, and in which request, as handed from the entry points (API middleware,
// CLI) through the services to AuditLog::Append, which records both in every entry (AUD-01).
// A plain value; thread-compatible.
#pragma once

#include <string>

#include "sb/audit/event.h"

namespace sb::audit {

struct Context {
  Actor actor;
  std::string request_id;  // the HTTP request id; empty outside a request (CLI, jobs)

  friend bool operator==(const Context&, const Context&) = default;
};

}  // namespace sb::audit
