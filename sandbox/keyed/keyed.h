// KeyedSandbox: the keyed origin, one plain-HTTP origin for the providers that authenticate
// with API keys, HTTP Basic or named credential fields instead of OAuth (catalog.h lists them
// and their fields). Switchboard points each one's API base at <keyed_url>/<provider id>, so
// every provider's routes live under /<provider id>/ (providers.h, one file each). The control
// routes (control.cc) register the credential sets the providers accept:
//   POST /_sandbox/keyed/accounts {provider, credentials, account?}   one valid credential set
//   GET  /_sandbox/keyed/accounts                                     the accounts, no secrets
// and POST /_sandbox/reset forgets them. Faults answer {"error":{"status","message"}}.
// Thread-safe after Register(): routes only read the CredentialStore, which is.
#pragma once

#include <atomic>
#include <cstdint>
#include <vector>

#include "sandbox/core/faults.h"
#include "sandbox/core/origin.h"
#include "sandbox/keyed/credential_store.h"

#include "sb/base/json.h"
#include "sb/base/random.h"
#include "sb/base/status.h"
#include "sb/http/request.h"
#include "sb/http/response.h"

namespace sandbox::keyed {

// The keyed origin has no behaviour switches yet: {}.
sb::Json DefaultSettings();

// The answer for a fired fault rule: {"error":{"status":N,"message":...}} with the rule's
// status (401 for `unauthorized`); the origin adds Retry-After.
sb::http::Response FaultResponse(const FaultRule& rule, const sb::http::Request& request);

// The registration bodies of `--demo`: one fixed credential set per provider (README.md).
std::vector<sb::Json> DemoRegistrations();

class KeyedSandbox {
 public:
  // `random` makes the generated account ids; both references must outlive this.
  KeyedSandbox(Origin& origin, sb::Random& random);

  // Adds every provider's routes, the control routes and the reset hook to the origin. Call
  // once, before Start.
  void Register();

  CredentialStore& store() { return store_; }

  // Checks a registration body (catalog.h) and stores the account with its sample items.
  // InvalidArgument for a bad body, AlreadyExists for a taken id or credential set.
  sb::Result<KeyedAccount> AddAccount(const sb::Json& registration);
  // Registers DemoRegistrations(); AlreadyExists when they are registered already.
  sb::Status AddDemoAccounts();

 private:
  void RegisterControl();

  Origin& origin_;
  sb::Random& random_;
  CredentialStore store_;
  std::atomic<int64_t> next_number_{1};  // numbers the generated names and e-mails
};

}  // namespace sandbox::keyed
