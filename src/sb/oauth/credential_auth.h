// Credential auth: providers that take an API key, HTTP basic credentials or several named
// fields (Twilio's Account SID + Auth Token) instead of an OAuth grant. A catalog entry with an
// `auth` member describes
//   - the fields an end user types in (name, label, help, secret or not, a format check),
//   - where the proxy puts them on every call (headers, query parameters, HTTP basic), as
//     templates over the fields ("Bearer {api_key}"),
//   - a verification call below api_base_url, made before a connection is saved and by health
//     checks, and where its JSON answer names the account (JSON pointers).
// Field values are bounded and may hold no control characters, so that a value can never end a
// header or add a query parameter of its own. Nothing here logs or returns a value.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "sb/base/json.h"
#include "sb/base/status.h"
#include "sb/net/http_client.h"

namespace sb::oauth {

enum class CredentialMode {
  kApiKey,  // one secret field, in a header or a query parameter
  kBasic,   // HTTP basic from the fields
  kFields,  // several named fields, placed by the templates
};

struct CredentialField {
  static constexpr size_t kMaxValueBytes = 4096;

  std::string name;   // [a-z0-9_], referenced as {name} in templates
  std::string label;  // shown on the form
  std::string help;   // where to find it, in plain words
  bool secret = true;
  std::string prefix;  // a value must start with this ("AC" for Twilio's SIDs); "" any
};

struct VerificationCall {
  std::string method = "GET";
  std::string path;  // below api_base_url, a template whose values are percent-encoded
  // JSON pointers into the 2xx answer; account_id empty: the account is named by a digest of
  // the credentials (providers without an identity call).
  std::string account_id;
  std::string account_name;
  std::string account_email;
};

struct CredentialAuth {
  CredentialMode mode = CredentialMode::kApiKey;
  std::vector<CredentialField> fields;
  std::vector<std::pair<std::string, std::string>> headers;  // name -> value template
  std::vector<std::pair<std::string, std::string>> query;    // name -> value template
  std::optional<std::pair<std::string, std::string>> basic;  // username, password templates
  VerificationCall verify;
};

// The values an end user gave, by field name.
using CredentialValues = std::map<std::string, std::string, std::less<>>;

// Parses and validates an entry's `auth` member (`path` prefixes member names in errors).
Result<CredentialAuth> ParseCredentialAuth(const Json& auth);

// INVALID_ARGUMENT naming the field (never its value) when a field is missing, unknown, empty,
// too long, holds control characters or lacks its prefix.
Status CheckCredentialValues(const CredentialAuth& auth, const CredentialValues& values);

// Adds the credentials to `request` (headers, HTTP basic, query parameters appended to
// request.url). REQUIRES values that passed CheckCredentialValues.
Status ApplyCredentials(const CredentialAuth& auth, const CredentialValues& values,
                        net::HttpRequest& request);

// Whether `name` (any case) is a header the credentials are placed in, so that a caller's own
// header of that name is never sent beside them.
bool IsPlacedHeader(const CredentialAuth& auth, std::string_view name);
// `query` without the parameters the credentials are placed in (names compared decoded).
std::string WithoutPlacedParams(const CredentialAuth& auth, std::string_view query);

// The verification call against `api_base_url` (no trailing '/'), credentials applied;
// INVALID_ARGUMENT (from ApplyCredentials) for values that fail CheckCredentialValues.
Result<net::HttpRequest> VerificationRequest(const CredentialAuth& auth,
                                             std::string_view api_base_url,
                                             const CredentialValues& values);

// Who the verified credentials belong to.
struct VerifiedAccount {
  std::string id;
  std::string name;   // may be empty
  std::string email;  // may be empty
};

// How a verification answer ended.
enum class VerificationOutcome {
  kVerified,
  kRejected,     // 401/403: the provider refused the credentials
  kUnavailable,  // 429, 5xx: try again later
  kMalformed,    // 2xx without the account where the catalog says it is; other statuses
};

struct Verification {
  VerificationOutcome outcome = VerificationOutcome::kMalformed;
  int status = 0;
  VerifiedAccount account;  // kVerified only
};

// Reads a verification answer. The account id of a provider without an identity call is
// "key-" and 16 hex digits of SHA-256 over the provider id and the secret values.
Verification ReadVerification(const CredentialAuth& auth, std::string_view provider,
                              const CredentialValues& values, const net::HttpResponse& response);

// Values as the vault keeps them ({"field": "value"}), and back; the parse checks them.
std::string SerializeCredentials(const CredentialValues& values);
Result<CredentialValues> ParseCredentials(const CredentialAuth& auth, std::string_view text);

std::string_view CredentialModeName(CredentialMode mode);

}  // namespace sb::oauth
