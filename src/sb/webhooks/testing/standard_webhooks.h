// Test support: verifies webhook deliveries with the real `standardwebhooks` npm library
// (tests/interop/webhooks-verify.mjs, run with Node.js), the way a host app does. Linked only
// by tests. Node.js and tests/interop/node_modules come from `make test`
// (scripts/install-deps.sh); without them the call fails with a message saying how to get
// them, so a broken setup never passes silently.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "sb/base/status.h"

namespace sb::webhooks::testing {

// One delivery as a receiver saw it, and the secret the receiver holds.
struct ReceivedDelivery {
  std::string secret;
  std::string id;         // webhook-id
  std::string timestamp;  // webhook-timestamp
  std::string signature;  // webhook-signature
  std::string body;
};

struct LibraryVerdicts {
  int exit_code = -1;              // 0 when every delivery verified
  std::vector<std::string> lines;  // per delivery: "ok" or the library's error
};

// Runs the library over `deliveries`. `now_seconds`, when given, is the receiver's clock (for
// deliveries stamped by a test's fake clock); otherwise the real time. FAILED_PRECONDITION when
// Node.js or the npm package is missing.
Result<LibraryVerdicts> VerifyWithStandardWebhooks(const std::vector<ReceivedDelivery>& deliveries,
                                                   std::optional<int64_t> now_seconds);

}  // namespace sb::webhooks::testing
