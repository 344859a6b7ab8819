#include "sandbox/keyed/catalog.h"

#include <algorithm>
#include <cctype>
#include <string>

namespace sandbox::keyed {
namespace {

const char kAlnum[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const char kHex[] = "0123456789abcdef";

std::string RandomChars(sb::Random& random, size_t n, std::string_view alphabet) {
  std::string out;
  for (size_t i = 0; i < n; ++i) out += alphabet[random.Uint64() % alphabet.size()];
  return out;
}

bool Contains(const std::vector<std::string_view>& list, std::string_view item) {
  return std::find(list.begin(), list.end(), item) != list.end();
}

std::string Join(const std::vector<std::string_view>& list) {
  std::string out;
  for (std::string_view item : list) out += (out.empty() ? "" : ", ") + std::string(item);
  return out;
}

// A name from the request for an error message: short and printable, or a placeholder.
std::string Quoted(std::string_view text) {
  const bool printable = std::all_of(text.begin(), text.end(), [](char c) {
    return static_cast<unsigned char>(c) >= 0x20 && static_cast<unsigned char>(c) < 0x7f;
  });
  if (!printable || text.size() > 64) return "(a field name)";
  return "\"" + std::string(text) + "\"";
}

bool IsPathSafe(std::string_view text) {
  return std::all_of(text.begin(), text.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-';
  });
}

// Printable ASCII without spaces: what a header or query value carries unchanged.
bool IsTokenText(std::string_view text) {
  return std::all_of(text.begin(), text.end(), [](char c) {
    return static_cast<unsigned char>(c) > 0x20 && static_cast<unsigned char>(c) < 0x7f;
  });
}

sb::Status CheckCredential(const ProviderSpec& spec, std::string_view field,
                           std::string_view value) {
  const std::string what = "credential \"" + std::string(field) + "\" of " + std::string(spec.id);
  if (value.empty() || value.size() > kMaxCredentialBytes) {
    return sb::InvalidArgumentError(what + " must be 1..4096 bytes");
  }
  if (!IsTokenText(value)) {
    return sb::InvalidArgumentError(what + " must be printable ASCII without spaces");
  }
  if (Contains(spec.path_fields, field) && !IsPathSafe(value)) {
    return sb::InvalidArgumentError(what + " may contain only letters, digits, '_' and '-'");
  }
  if (Contains(spec.basic_user_fields, field) && value.find(':') != std::string_view::npos) {
    return sb::InvalidArgumentError(what + " may not contain ':' (it is a Basic user name)");
  }
  return sb::OkStatus();
}

sb::Status ParseCredentials(const ProviderSpec& spec, const sb::Json& json, KeyedAccount& account) {
  if (!json.is_object()) {
    return sb::InvalidArgumentError("\"credentials\" must be an object with " + Join(spec.fields));
  }
  for (const auto& [field, value] : json.items()) {
    if (!Contains(spec.fields, field)) {
      return sb::InvalidArgumentError("unknown credential field " + Quoted(field) + " for " +
                                      std::string(spec.id) + " (expected " + Join(spec.fields) +
                                      ")");
    }
    if (!value.is_string()) {
      return sb::InvalidArgumentError("credential \"" + field + "\" must be a string");
    }
    const std::string& text = value.get_ref<const std::string&>();
    if (sb::Status checked = CheckCredential(spec, field, text); !checked.ok()) return checked;
    account.credentials[field] = text;
  }
  for (std::string_view field : spec.fields) {
    if (!account.credentials.contains(field)) {
      return sb::InvalidArgumentError("missing credential field \"" + std::string(field) +
                                      "\" for " + std::string(spec.id));
    }
  }
  return sb::OkStatus();
}

sb::Status ParseIdentity(const sb::Json& json, KeyedAccount& account) {
  if (!json.is_object()) return sb::InvalidArgumentError("\"account\" must be an object");
  for (const auto& [key, value] : json.items()) {
    std::string* target = key == "id"         ? &account.id
                          : key == "name"     ? &account.name
                          : key == "email"    ? &account.email
                          : key == "username" ? &account.username
                                              : nullptr;
    if (target == nullptr) {
      return sb::InvalidArgumentError("unknown account key " + Quoted(key) +
                                      " (expected id, name, email, username)");
    }
    if (!value.is_string() || value.get_ref<const std::string&>().empty() ||
        value.get_ref<const std::string&>().size() > kMaxIdentityBytes) {
      return sb::InvalidArgumentError("account \"" + key + "\" must be a string of 1..256 bytes");
    }
    *target = value.get<std::string>();
  }
  const auto control = [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; };
  if (std::any_of(account.name.begin(), account.name.end(), control) ||
      !IsTokenText(account.email) || !IsPathSafe(account.username) || !IsPathSafe(account.id)) {
    return sb::InvalidArgumentError(
        "account: \"id\" and \"username\" may contain only letters, digits, '_' and '-', "
        "\"email\" no spaces, \"name\" no control characters");
  }
  return sb::OkStatus();
}

std::string GeneratedId(const ProviderSpec& spec, sb::Random& random) {
  switch (spec.id_style) {
    case IdStyle::kStripeAccount:
      return "acct_" + RandomChars(random, 16, kAlnum);
    case IdStyle::kNumeric:
      return std::to_string(1'000'000 + random.Uint64() % 90'000'000);
    case IdStyle::kRetellOrg:
      return "org_" + RandomChars(random, 16, kHex);
    case IdStyle::kHex24:
    case IdStyle::kCredentialField:
      break;
  }
  return RandomChars(random, 24, kHex);
}

std::string UsernameFrom(std::string_view email) {
  std::string out;
  for (char c : email.substr(0, email.find('@'))) {
    if (std::isalnum(static_cast<unsigned char>(c))) {
      out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
  }
  return out.empty() ? "user" : out;
}

sb::Status CompleteIdentity(const ProviderSpec& spec, sb::Random& random, int64_t number,
                            KeyedAccount& account) {
  if (spec.id_style == IdStyle::kCredentialField) {
    const std::string& value = account.credentials[std::string(spec.id_field)];
    if (!account.id.empty() && account.id != value) {
      return sb::InvalidArgumentError("the " + std::string(spec.id) + " account id is its \"" +
                                      std::string(spec.id_field) + "\"");
    }
    account.id = value;
  }
  if (account.id.empty()) account.id = GeneratedId(spec, random);
  const std::string n = std::to_string(number);
  if (account.name.empty()) account.name = std::string(spec.display_name) + " Sandbox " + n;
  if (account.email.empty()) account.email = std::string(spec.id) + "-" + n + "@sandbox.example";
  if (account.username.empty()) account.username = UsernameFrom(account.email);
  return sb::OkStatus();
}

}  // namespace

const std::vector<ProviderSpec>& Providers() {
  static const std::vector<ProviderSpec> kProviders = {
      {"twilio",
       "Twilio",
       {"account_sid", "auth_token"},
       {"account_sid"},
       {"account_sid"},
       {"account_sid"},
       IdStyle::kCredentialField,
       "account_sid"},
      {"stripe", "Stripe", {"api_key"}, {"api_key"}, {}, {"api_key"}, IdStyle::kStripeAccount},
      {"sendgrid", "SendGrid", {"api_key"}, {"api_key"}, {}, {}, IdStyle::kNumeric},
      {"postmark", "Postmark", {"server_token"}, {"server_token"}, {}, {}, IdStyle::kNumeric},
      {"trello", "Trello", {"api_key", "token"}, {"api_key", "token"}, {}, {}, IdStyle::kHex24},
      {"gohighlevel",
       "HighLevel",
       {"location_id", "api_key"},
       {"api_key"},
       {"location_id"},
       {},
       IdStyle::kCredentialField,
       "location_id"},
      {"retell", "Retell AI", {"api_key"}, {"api_key"}, {}, {}, IdStyle::kRetellOrg},
  };
  return kProviders;
}

const ProviderSpec* FindProvider(std::string_view id) {
  for (const ProviderSpec& spec : Providers()) {
    if (spec.id == id) return &spec;
  }
  return nullptr;
}

sb::Result<KeyedAccount> ParseRegistration(const sb::Json& body, sb::Random& random,
                                           int64_t number) {
  if (!body.is_object()) return sb::InvalidArgumentError("the body must be a JSON object");
  for (const auto& [key, value] : body.items()) {
    if (key != "provider" && key != "credentials" && key != "account") {
      return sb::InvalidArgumentError("unknown key " + Quoted(key) +
                                      " (expected provider, credentials, account)");
    }
  }
  std::vector<std::string_view> ids;
  for (const ProviderSpec& spec : Providers()) ids.push_back(spec.id);
  const auto provider = body.find("provider");
  const ProviderSpec* spec = provider != body.end() && provider->is_string()
                                 ? FindProvider(provider->get_ref<const std::string&>())
                                 : nullptr;
  if (spec == nullptr) {
    return sb::InvalidArgumentError("\"provider\" must be one of " + Join(ids));
  }
  KeyedAccount account;
  account.provider = std::string(spec->id);
  const auto credentials = body.find("credentials");
  SB_RETURN_IF_ERROR(
      ParseCredentials(*spec, credentials == body.end() ? sb::Json() : *credentials, account));
  if (const auto identity = body.find("account"); identity != body.end()) {
    SB_RETURN_IF_ERROR(ParseIdentity(*identity, account));
  }
  SB_RETURN_IF_ERROR(CompleteIdentity(*spec, random, number, account));
  return account;
}

}  // namespace sandbox::keyed
