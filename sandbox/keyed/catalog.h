// The providers the keyed origin emulates: each one's id (the path prefix under which
// Switchboard points the provider's API base), its credential field names (fixed: Switchboard's
// provider catalog uses them) and the rules that turn a registration body (POST
// /_sandbox/keyed/accounts) into a KeyedAccount. Pure data and functions; thread-safe.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "sandbox/keyed/credential_store.h"

#include "sb/base/json.h"
#include "sb/base/random.h"
#include "sb/base/status.h"

namespace sandbox::keyed {

// How a provider's account id looks when the registration gives none.
enum class IdStyle {
  kCredentialField,  // the value of ProviderSpec::id_field (Twilio SID, HighLevel location)
  kStripeAccount,    // "acct_" + 16 alphanumerics
  kHex24,            // Trello member ids
  kNumeric,          // Postmark server ids, SendGrid user ids
  kRetellOrg,        // "org_" + 16 hex (Retell has no identity endpoint)
};

struct ProviderSpec {
  std::string_view id;            // "twilio"
  std::string_view display_name;  // "Twilio"
  std::vector<std::string_view> fields;
  // What authentication looks an account up by: no two accounts may share all of them.
  std::vector<std::string_view> unique_fields;
  // Fields that travel in a path ([A-Za-z0-9_-] only) or as a Basic user name (no ':').
  std::vector<std::string_view> path_fields;
  std::vector<std::string_view> basic_user_fields;
  IdStyle id_style = IdStyle::kHex24;
  std::string_view id_field;  // for kCredentialField
};

// twilio, stripe, sendgrid, postmark, trello, gohighlevel, retell.
const std::vector<ProviderSpec>& Providers();
// nullptr for an unknown id.
const ProviderSpec* FindProvider(std::string_view id);

inline constexpr size_t kMaxCredentialBytes = 4096;
inline constexpr size_t kMaxIdentityBytes = 256;

// Checks a registration body {"provider", "credentials": {...}, "account"?: {"id", "name",
// "email", "username"}} (types, field names, sizes, characters) and returns the account with
// its identity complete: missing parts are generated (ids from `random`, names and e-mails
// numbered with `number`). InvalidArgument with a message that never contains a credential
// value. The items are left empty.
sb::Result<KeyedAccount> ParseRegistration(const sb::Json& body, sb::Random& random,
                                           int64_t number);

}  // namespace sandbox::keyed
