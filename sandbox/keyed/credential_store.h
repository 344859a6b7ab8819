// CredentialStore: the credential sets registered on the keyed origin (POST
// /_sandbox/keyed/accounts), one KeyedAccount each: the provider, the identity the provider's
// verification route answers with, the credential values and the list route's sample items.
// Accounts are immutable once stored and handed out as shared_ptr<const>, so a request keeps
// reading its account while a reset forgets it. Credentials are compared in constant time (per
// candidate, without an early exit over the candidates). Thread-safe: every member is guarded by
// mu_.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "sb/base/json.h"
#include "sb/base/status.h"

namespace sandbox::keyed {

struct KeyedAccount {
  std::string provider;  // "twilio", "stripe", ... (catalog.h)
  std::string id;        // the provider's account id (acct_..., the Twilio SID, ...)
  std::string name;
  std::string email;
  std::string username;  // SendGrid and Trello usernames; derived from the e-mail otherwise
  std::map<std::string, std::string, std::less<>> credentials;  // field -> secret value
  sb::Json items = sb::Json::array();  // the list route's sample items, made at registration
  int64_t created_ms = 0;
};

// The account as the control routes show it: id, provider, name, email, username and the
// credential field names, never their values.
sb::Json PublicJson(const KeyedAccount& account);

// True when a and b are equal; the time taken depends on their lengths only.
bool ConstantTimeEquals(std::string_view a, std::string_view b);

// (field, value) pairs an account's credentials must all equal.
using CredentialMatch = std::vector<std::pair<std::string_view, std::string_view>>;

class CredentialStore {
 public:
  // Stores `account`. AlreadyExists when the provider already has an account with this id, or
  // one whose `unique_fields` all equal this one's (authentication would be ambiguous).
  sb::Status Add(KeyedAccount account, const std::vector<std::string_view>& unique_fields);

  // The first account of `provider` whose credentials equal every (field, value) of `match`,
  // or null. Every candidate is compared in full, in constant time.
  std::shared_ptr<const KeyedAccount> FindBy(std::string_view provider,
                                             const CredentialMatch& match) const;
  // Every account of `provider` (all providers when empty), in registration order.
  std::vector<std::shared_ptr<const KeyedAccount>> List(std::string_view provider = {}) const;
  void Reset();

 private:
  mutable std::mutex mu_;
  std::vector<std::shared_ptr<const KeyedAccount>> accounts_;  // guarded by mu_
};

}  // namespace sandbox::keyed
