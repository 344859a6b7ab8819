#include "sb/oauth/credential_auth.h"

#include <algorithm>
#include <array>
#include <set>

#include "sb/base/encoding.h"
#include "sb/vault/digest.h"
#include "sb/vault/secure_buffer.h"

namespace sb::oauth {
namespace {

constexpr size_t kMaxFields = 8;
constexpr size_t kMaxTemplates = 8;
constexpr size_t kMaxAnswerBytes = 1 << 20;

Status AuthError(std::string_view path, std::string_view problem) {
  return InvalidArgumentError("member 'auth." + std::string(path) + "': " + std::string(problem));
}

bool IsFieldName(std::string_view name) {
  return !name.empty() && name.size() <= 64 &&
         name.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_") == std::string_view::npos;
}

bool HasControl(std::string_view text) {
  return std::any_of(text.begin(), text.end(), [](char c) {
    const auto byte = static_cast<unsigned char>(c);
    return byte < 0x20 || byte == 0x7f;
  });
}

Status OnlyKnown(const Json& object, std::string_view path,
                 std::initializer_list<std::string_view> known) {
  for (const auto& item : object.items()) {
    if (std::find(known.begin(), known.end(), item.key()) == known.end()) {
      return AuthError(std::string(path) + item.key(), "unknown member");
    }
  }
  return OkStatus();
}

// A string member; `required` and present-but-empty are errors.
Status StringOf(const Json& object, std::string_view name, std::string_view path, bool required,
                std::string& out) {
  auto it = object.find(name);
  if (it == object.end()) {
    return required ? AuthError(std::string(path) + std::string(name), "is required") : OkStatus();
  }
  if (!it->is_string() || it->get_ref<const std::string&>().empty()) {
    return AuthError(std::string(path) + std::string(name), "must be a non-empty string");
  }
  out = it->get<std::string>();
  if (HasControl(out)) {
    return AuthError(std::string(path) + std::string(name), "holds control characters");
  }
  return OkStatus();
}

Status ParseField(const Json& value, size_t index, CredentialField& out) {
  const std::string path = "fields." + std::to_string(index) + ".";
  if (!value.is_object()) return AuthError(path, "must be an object");
  SB_RETURN_IF_ERROR(OnlyKnown(value, path, {"name", "label", "help", "secret", "prefix"}));
  SB_RETURN_IF_ERROR(StringOf(value, "name", path, true, out.name));
  SB_RETURN_IF_ERROR(StringOf(value, "label", path, true, out.label));
  SB_RETURN_IF_ERROR(StringOf(value, "help", path, false, out.help));
  SB_RETURN_IF_ERROR(StringOf(value, "prefix", path, false, out.prefix));
  if (!IsFieldName(out.name)) return AuthError(path + "name", "must be [a-z0-9_]");
  auto secret = value.find("secret");
  if (secret != value.end()) {
    if (!secret->is_boolean()) return AuthError(path + "secret", "must be true or false");
    out.secret = secret->get<bool>();
  }
  return OkStatus();
}

// Every {name} in `text` names a field.
Status CheckTemplate(std::string_view path, std::string_view text,
                     const std::vector<CredentialField>& fields) {
  size_t done = 0;
  for (size_t open = text.find('{'); open != std::string_view::npos; open = text.find('{', done)) {
    const size_t close = text.find('}', open);
    if (close == std::string_view::npos) return AuthError(path, "has an unclosed '{'");
    const std::string_view name = text.substr(open + 1, close - open - 1);
    const bool known = std::any_of(fields.begin(), fields.end(),
                                   [&](const CredentialField& f) { return f.name == name; });
    if (!known) return AuthError(path, "names no field {" + std::string(name) + "}");
    done = close + 1;
  }
  return OkStatus();
}

using Templates = std::vector<std::pair<std::string, std::string>>;

Status ParseTemplates(const Json& auth, std::string_view member,
                      const std::vector<CredentialField>& fields, Templates& out) {
  auto it = auth.find(member);
  if (it == auth.end()) return OkStatus();
  const std::string path(member);
  if (!it->is_object() || it->size() > kMaxTemplates) {
    return AuthError(path, "must be an object of at most 8 templates");
  }
  for (const auto& item : it->items()) {
    const std::string item_path = path + "." + item.key();
    if (item.key().empty() || HasControl(item.key()) ||
        item.key().find_first_of(" :=&?#") != std::string::npos) {
      return AuthError(item_path, "is not a header or parameter name");
    }
    std::string value;
    SB_RETURN_IF_ERROR(StringOf(*it, item.key(), path + ".", true, value));
    SB_RETURN_IF_ERROR(CheckTemplate(item_path, value, fields));
    out.emplace_back(item.key(), std::move(value));
  }
  return OkStatus();
}

Status ParseBasic(const Json& auth, const std::vector<CredentialField>& fields,
                  CredentialAuth& out) {
  auto it = auth.find("basic");
  if (it == auth.end()) return OkStatus();
  if (!it->is_object()) return AuthError("basic", "must be an object");
  SB_RETURN_IF_ERROR(OnlyKnown(*it, "basic.", {"username", "password"}));
  std::string username;
  std::string password;
  SB_RETURN_IF_ERROR(StringOf(*it, "username", "basic.", true, username));
  SB_RETURN_IF_ERROR(StringOf(*it, "password", "basic.", false, password));
  SB_RETURN_IF_ERROR(CheckTemplate("basic.username", username, fields));
  SB_RETURN_IF_ERROR(CheckTemplate("basic.password", password, fields));
  out.basic.emplace(std::move(username), std::move(password));
  return OkStatus();
}

bool IsPointer(std::string_view pointer) {
  if (pointer.empty()) return true;
  try {
    (void)Json::json_pointer(std::string(pointer));
    return true;
  } catch (const Json::exception&) {
    return false;
  }
}

Status ParseVerify(const Json& auth, const std::vector<CredentialField>& fields,
                   VerificationCall& out) {
  auto it = auth.find("verify");
  if (it == auth.end()) return AuthError("verify", "is required");
  if (!it->is_object()) return AuthError("verify", "must be an object");
  SB_RETURN_IF_ERROR(
      OnlyKnown(*it, "verify.", {"method", "path", "account_id", "account_name", "account_email"}));
  SB_RETURN_IF_ERROR(StringOf(*it, "method", "verify.", false, out.method));
  SB_RETURN_IF_ERROR(StringOf(*it, "path", "verify.", true, out.path));
  if (out.method != "GET" && out.method != "POST") {
    return AuthError("verify.method", "must be GET or POST");
  }
  if (out.path.front() == '/' || out.path.find("..") != std::string::npos ||
      out.path.find_first_of(" #") != std::string::npos) {
    return AuthError("verify.path", "must be a relative path below api_base_url");
  }
  SB_RETURN_IF_ERROR(CheckTemplate("verify.path", out.path, fields));
  for (auto [name, target] :
       {std::pair{"account_id", &out.account_id}, std::pair{"account_name", &out.account_name},
        std::pair{"account_email", &out.account_email}}) {
    SB_RETURN_IF_ERROR(StringOf(*it, name, "verify.", false, *target));
    if (!IsPointer(*target)) return AuthError(std::string("verify.") + name, "not a JSON pointer");
  }
  return OkStatus();
}

Status ParseMode(const Json& auth, CredentialMode& out) {
  std::string mode;
  SB_RETURN_IF_ERROR(StringOf(auth, "mode", "", true, mode));
  if (mode == "api_key") {
    out = CredentialMode::kApiKey;
  } else if (mode == "basic") {
    out = CredentialMode::kBasic;
  } else if (mode == "fields") {
    out = CredentialMode::kFields;
  } else {
    return AuthError("mode", "must be \"api_key\", \"basic\" or \"fields\"");
  }
  return OkStatus();
}

Status ParseFields(const Json& auth, std::vector<CredentialField>& out) {
  auto it = auth.find("fields");
  if (it == auth.end() || !it->is_array() || it->empty() || it->size() > kMaxFields) {
    return AuthError("fields", "must be an array of 1 to 8 fields");
  }
  std::set<std::string, std::less<>> names;
  for (size_t i = 0; i < it->size(); ++i) {
    CredentialField field;
    SB_RETURN_IF_ERROR(ParseField((*it)[i], i, field));
    if (!names.insert(field.name).second) {
      return AuthError("fields." + std::to_string(i) + ".name", "is used twice");
    }
    out.push_back(std::move(field));
  }
  return OkStatus();
}

// What each mode promises: an api_key has one secret field and no basic; basic places the
// credentials with HTTP basic; every field is used somewhere.
Status CheckShape(const CredentialAuth& auth) {
  const size_t secrets = std::count_if(auth.fields.begin(), auth.fields.end(),
                                       [](const CredentialField& f) { return f.secret; });
  if (auth.mode == CredentialMode::kApiKey &&
      (auth.fields.size() != 1 || secrets != 1 || auth.basic)) {
    return AuthError("mode", "api_key has exactly one secret field and no basic");
  }
  if (auth.mode == CredentialMode::kBasic && !auth.basic) {
    return AuthError("basic", "is required when mode is basic");
  }
  if (secrets == 0) return AuthError("fields", "need at least one secret field");
  if (auth.headers.empty() && auth.query.empty() && !auth.basic) {
    return AuthError("mode", "places the credentials nowhere (headers, query or basic)");
  }
  return OkStatus();
}

// Fills {field} placeholders; `encode` percent-encodes the values (paths, query parameters).
std::string Fill(std::string_view text, const CredentialValues& values, bool encode) {
  std::string out;
  size_t done = 0;
  for (size_t open = text.find('{'); open != std::string_view::npos; open = text.find('{', done)) {
    const size_t close = text.find('}', open);
    auto value = values.find(text.substr(open + 1, close - open - 1));
    out.append(text.substr(done, open - done));
    if (value != values.end()) out.append(encode ? PercentEncode(value->second) : value->second);
    done = close + 1;
  }
  out.append(text.substr(done));
  return out;
}

// The string at `pointer` in `answer` (numbers as their decimal text); "" when absent.
std::string StringAt(const Json& answer, const std::string& pointer) {
  if (pointer.empty()) return "";
  try {
    const Json& value = answer.at(Json::json_pointer(pointer));
    if (value.is_string()) return value.get<std::string>();
    if (value.is_number_integer()) return value.dump();
  } catch (const Json::exception&) {
  }
  return "";
}

std::string SecretDigest(const CredentialAuth& auth, std::string_view provider,
                         const CredentialValues& values) {
  std::string material(provider);
  for (const CredentialField& field : auth.fields) {
    auto value = values.find(field.name);
    if (field.secret && value != values.end()) material.append("\n").append(value->second);
  }
  std::string digest = HexEncode(vault::Sha256(material)).substr(0, 16);
  vault::Wipe(material);
  return "key-" + digest;
}

// Bounded text without control characters, at most 256 bytes.
bool IsCleanText(std::string_view text) {
  return text.size() <= 256 && !HasControl(text) && IsValidUtf8(text);
}

}  // namespace

Result<CredentialAuth> ParseCredentialAuth(const Json& auth) {
  if (!auth.is_object()) return AuthError("", "must be an object");
  SB_RETURN_IF_ERROR(
      OnlyKnown(auth, "", {"mode", "fields", "headers", "query", "basic", "verify"}));
  CredentialAuth out;
  SB_RETURN_IF_ERROR(ParseMode(auth, out.mode));
  SB_RETURN_IF_ERROR(ParseFields(auth, out.fields));
  SB_RETURN_IF_ERROR(ParseTemplates(auth, "headers", out.fields, out.headers));
  SB_RETURN_IF_ERROR(ParseTemplates(auth, "query", out.fields, out.query));
  SB_RETURN_IF_ERROR(ParseBasic(auth, out.fields, out));
  SB_RETURN_IF_ERROR(ParseVerify(auth, out.fields, out.verify));
  SB_RETURN_IF_ERROR(CheckShape(out));
  return out;
}

Status CheckCredentialValues(const CredentialAuth& auth, const CredentialValues& values) {
  for (const auto& entry : values) {
    const std::string& name = entry.first;
    const bool known = std::any_of(auth.fields.begin(), auth.fields.end(),
                                   [&](const CredentialField& f) { return f.name == name; });
    if (!known) return InvalidArgumentError("unknown credential field '" + name + "'");
  }
  for (const CredentialField& field : auth.fields) {
    auto value = values.find(field.name);
    if (value == values.end() || value->second.empty()) {
      return InvalidArgumentError("credential field '" + field.name + "' is required");
    }
    const std::string_view text = value->second;
    if (text.size() > CredentialField::kMaxValueBytes || HasControl(text) || !IsValidUtf8(text) ||
        text.front() == ' ' || text.back() == ' ') {
      return InvalidArgumentError("credential field '" + field.name +
                                  "' must be at most 4096 bytes of text without control "
                                  "characters or surrounding spaces");
    }
    if (!text.starts_with(field.prefix)) {
      return InvalidArgumentError("credential field '" + field.name + "' must start with '" +
                                  field.prefix + "'");
    }
  }
  return OkStatus();
}

Status ApplyCredentials(const CredentialAuth& auth, const CredentialValues& values,
                        net::HttpRequest& request) {
  SB_RETURN_IF_ERROR(CheckCredentialValues(auth, values));
  for (const auto& [name, value] : auth.headers) {
    request.headers.emplace_back(name, Fill(value, values, /*encode=*/false));
  }
  if (auth.basic) {
    std::string pair =
        Fill(auth.basic->first, values, false) + ":" + Fill(auth.basic->second, values, false);
    request.headers.emplace_back("Authorization", "Basic " + Base64Encode(pair));
    vault::Wipe(pair);
  }
  if (!auth.query.empty()) {
    std::vector<std::pair<std::string, std::string>> params;
    for (const auto& [name, value] : auth.query) {
      params.emplace_back(name, Fill(value, values, /*encode=*/false));
    }
    const size_t fragment = request.url.find('#');
    if (fragment != std::string::npos) request.url.resize(fragment);
    request.url += (request.url.find('?') == std::string::npos ? "?" : "&") + FormEncode(params);
  }
  return OkStatus();
}

bool IsPlacedHeader(const CredentialAuth& auth, std::string_view name) {
  if (auth.basic && net::EqualsIgnoreCase(name, "Authorization")) return true;
  return std::any_of(auth.headers.begin(), auth.headers.end(),
                     [&](const auto& header) { return net::EqualsIgnoreCase(header.first, name); });
}

std::string WithoutPlacedParams(const CredentialAuth& auth, std::string_view query) {
  std::string out;
  while (!query.empty()) {
    const size_t end = std::min(query.find('&'), query.size());
    const std::string_view pair = query.substr(0, end);
    const std::optional<std::string> name =
        PercentDecodeBytes(pair.substr(0, pair.find('=')), /*plus_as_space=*/true);
    const bool placed = std::any_of(auth.query.begin(), auth.query.end(), [&](const auto& param) {
      return !name || param.first == *name;  // an undecodable name is dropped too
    });
    if (!placed && !pair.empty()) out.append(out.empty() ? "" : "&").append(pair);
    query.remove_prefix(std::min(end + 1, query.size()));
  }
  return out;
}

Result<net::HttpRequest> VerificationRequest(const CredentialAuth& auth,
                                             std::string_view api_base_url,
                                             const CredentialValues& values) {
  net::HttpRequest request;
  request.method = auth.verify.method;
  request.url = std::string(api_base_url) + "/" + Fill(auth.verify.path, values, /*encode=*/true);
  request.headers.emplace_back("Accept", "application/json");
  if (request.method == "POST") request.headers.emplace_back("Content-Type", "application/json");
  if (request.method == "POST") request.body = "{}";
  SB_RETURN_IF_ERROR(ApplyCredentials(auth, values, request));
  return request;
}

Verification ReadVerification(const CredentialAuth& auth, std::string_view provider,
                              const CredentialValues& values, const net::HttpResponse& response) {
  Verification out;
  out.status = response.status;
  if (response.status == 401 || response.status == 403) {
    out.outcome = VerificationOutcome::kRejected;
    return out;
  }
  if (response.status == 429 || response.status >= 500) {
    out.outcome = VerificationOutcome::kUnavailable;
    return out;
  }
  if (response.status < 200 || response.status >= 300) return out;  // kMalformed
  Result<Json> answer = ParseJson(response.body, JsonLimits{.max_bytes = kMaxAnswerBytes});
  if (!answer.ok()) return out;
  const VerificationCall& verify = auth.verify;
  out.account.id = verify.account_id.empty() ? SecretDigest(auth, provider, values)
                                             : StringAt(*answer, verify.account_id);
  out.account.name = StringAt(*answer, verify.account_name);
  out.account.email = StringAt(*answer, verify.account_email);
  if (out.account.id.empty() || !IsCleanText(out.account.id)) return out;
  if (!IsCleanText(out.account.name)) out.account.name.clear();
  if (!IsCleanText(out.account.email)) out.account.email.clear();
  out.outcome = VerificationOutcome::kVerified;
  return out;
}

std::string SerializeCredentials(const CredentialValues& values) {
  Json object = Json::object();
  for (const auto& [name, value] : values) object[name] = value;
  return object.dump();
}

Result<CredentialValues> ParseCredentials(const CredentialAuth& auth, std::string_view text) {
  Result<Json> parsed = ParseJson(text, JsonLimits{.max_bytes = 64 * 1024});
  if (!parsed.ok() || !parsed->is_object()) {
    return DataLossError("stored credentials are not a JSON object");
  }
  CredentialValues values;
  for (const auto& item : parsed->items()) {
    if (!item.value().is_string()) return DataLossError("stored credentials hold a non-string");
    values.emplace(item.key(), item.value().get<std::string>());
  }
  Status checked = CheckCredentialValues(auth, values);
  if (!checked.ok()) return FailedPreconditionError("stored credentials: " + checked.message());
  return values;
}

std::string_view CredentialModeName(CredentialMode mode) {
  switch (mode) {
    case CredentialMode::kApiKey:
      return "api_key";
    case CredentialMode::kBasic:
      return "basic";
    case CredentialMode::kFields:
      return "fields";
  }
  return "api_key";
}

}  // namespace sb::oauth
