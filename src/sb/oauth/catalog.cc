#include "sb/oauth/catalog.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <span>

namespace sb::oauth {
namespace {

constexpr size_t kMaxFileBytes = 1 << 20;
constexpr size_t kMaxIdLength = 64;
constexpr size_t kMaxExplanationBytes = 400;

// Reading members, with errors that name the member.

enum class Need { kRequired, kOptional };

Status MemberError(std::string_view path, std::string_view problem) {
  return InvalidArgumentError("member '" + std::string(path) + "': " + std::string(problem));
}

// Reads the members of one JSON object; `path` ("refresh_token") prefixes member names.
class Members {
 public:
  Members(const Json& object, std::string path) : object_(object), path_(std::move(path)) {}

  std::string PathOf(std::string_view name) const {
    return path_.empty() ? std::string(name) : path_ + "." + std::string(name);
  }

  // Rejects members outside `known`: a typo must not silently fall back to a default.
  Status OnlyKnown(std::span<const std::string_view> known) const {
    for (const auto& item : object_.items()) {
      if (std::find(known.begin(), known.end(), item.key()) == known.end()) {
        return MemberError(PathOf(item.key()), "unknown member");
      }
    }
    return OkStatus();
  }

  const Json* Get(std::string_view name) const {
    auto it = object_.find(name);
    return it == object_.end() ? nullptr : &*it;
  }

  Status String(std::string_view name, Need need, std::string& out) const {
    const Json* value = Get(name);
    if (value == nullptr) return Missing(name, need);
    if (!value->is_string()) return MemberError(PathOf(name), "must be a string");
    out = value->get<std::string>();
    if (out.empty()) return MemberError(PathOf(name), "must not be empty (omit it instead)");
    return OkStatus();
  }

  Status Bool(std::string_view name, Need need, bool& out) const {
    const Json* value = Get(name);
    if (value == nullptr) return Missing(name, need);
    if (!value->is_boolean()) return MemberError(PathOf(name), "must be true or false");
    out = value->get<bool>();
    return OkStatus();
  }

  Status StringList(std::string_view name, Need need, std::vector<std::string>& out) const {
    const Json* value = Get(name);
    if (value == nullptr) return Missing(name, need);
    if (!value->is_array()) return MemberError(PathOf(name), "must be an array of strings");
    out.clear();
    for (const Json& item : *value) {
      if (!item.is_string()) return MemberError(PathOf(name), "must be an array of strings");
      out.push_back(item.get<std::string>());
    }
    return OkStatus();
  }

  // `out` stays nullptr when an optional object is absent.
  Status Object(std::string_view name, Need need, const Json*& out) const {
    out = Get(name);
    if (out == nullptr) return Missing(name, need);
    if (!out->is_object()) return MemberError(PathOf(name), "must be an object");
    return OkStatus();
  }

  // A string-to-string object into a vector of pairs or a map.
  template <typename Container>
  Status StringMap(std::string_view name, Container& out, bool allow_empty_values) const {
    const Json* object = nullptr;
    SB_RETURN_IF_ERROR(Object(name, Need::kOptional, object));
    if (object == nullptr) return OkStatus();
    for (const auto& item : object->items()) {
      const std::string path = PathOf(name) + "." + item.key();
      if (!item.value().is_string()) return MemberError(path, "must be a string");
      std::string value = item.value().get<std::string>();
      if (value.empty() && !allow_empty_values) return MemberError(path, "must not be empty");
      out.insert(out.end(), {item.key(), std::move(value)});
    }
    return OkStatus();
  }

 private:
  Status Missing(std::string_view name, Need need) const {
    return need == Need::kRequired ? MemberError(PathOf(name), "is required") : OkStatus();
  }

  const Json& object_;
  std::string path_;
};

// URLs.

struct Origin {
  std::string_view scheme;
  std::string_view host;  // without the port; "[::1]" keeps its brackets
  size_t path_start = 0;  // where the path (or query) begins; the origin is url[0, path_start)
};

std::optional<Origin> SplitOrigin(std::string_view url) {
  const size_t separator = url.find("://");
  if (separator == std::string_view::npos || separator == 0) return std::nullopt;
  const size_t start = separator + 3;
  size_t end = url.find_first_of("/?", start);
  if (end == std::string_view::npos) end = url.size();
  std::string_view host = url.substr(start, end - start);
  std::string_view port;
  const size_t colon = host.rfind(':');
  if (colon != std::string_view::npos && host.find(']', colon) == std::string_view::npos) {
    port = host.substr(colon + 1);
    host = host.substr(0, colon);
    if (port.empty() || port.find_first_not_of("0123456789") != std::string_view::npos) {
      return std::nullopt;
    }
  }
  if (host.empty()) return std::nullopt;
  return Origin{url.substr(0, separator), host, end};
}

bool IsSpaceOrControl(char c) {
  return std::isspace(static_cast<unsigned char>(c)) || std::iscntrl(static_cast<unsigned char>(c));
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
    return std::tolower(static_cast<unsigned char>(x)) ==
           std::tolower(static_cast<unsigned char>(y));
  });
}

// Plain http is only for a stand-in on this machine (the sandbox); nothing else may see tokens
// in clear text.
bool IsLoopback(std::string_view host) {
  return EqualsIgnoreCase(host, "localhost") || host == "127.0.0.1" || host == "[::1]";
}

// kIssuer may also hold {tenantid}; kDocument (docs_url) may have a fragment.
enum class UrlKind { kEndpoint, kIssuer, kDocument };

Status CheckPlaceholders(std::string_view path, std::string_view url,
                         const std::map<std::string, std::string, std::less<>>& declared,
                         UrlKind kind) {
  size_t pos = 0;
  for (size_t open = url.find_first_of("{}"); open != std::string_view::npos;
       open = url.find_first_of("{}", pos)) {
    if (url[open] == '}') return MemberError(path, "has a '}' without '{'");
    const size_t close = url.find_first_of("{}", open + 1);
    if (close == std::string_view::npos || url[close] != '}') {
      return MemberError(path, "has an unclosed '{'");
    }
    const std::string_view name = url.substr(open + 1, close - open - 1);
    if (!declared.contains(name) && !(kind == UrlKind::kIssuer && name == "tenantid")) {
      return MemberError(
          path, "placeholder {" + std::string(name) + "} is not declared in url_parameters");
    }
    pos = close + 1;
  }
  return OkStatus();
}

Status CheckUrl(std::string_view path, std::string_view url,
                const std::map<std::string, std::string, std::less<>>& declared, UrlKind kind) {
  const bool bad_char = std::any_of(url.begin(), url.end(), [kind](char c) {
    return IsSpaceOrControl(c) || c == '\\' || (c == '#' && kind != UrlKind::kDocument);
  });
  const std::optional<Origin> origin = SplitOrigin(url);
  if (bad_char || !origin || origin->host.find('@') != std::string_view::npos) {
    return MemberError(path, "is not an absolute URL without user info or fragment");
  }
  const bool secure = origin->scheme == "https";
  if (!secure && !(origin->scheme == "http" && IsLoopback(origin->host))) {
    return MemberError(path, "must be https (plain http only for localhost, 127.0.0.1 or [::1])");
  }
  return CheckPlaceholders(path, url, declared, kind);
}

// Parsing and validating one entry.

bool IsValidId(std::string_view id) {
  return !id.empty() && id.size() <= kMaxIdLength && id.front() != '-' &&
         id.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789-") == std::string_view::npos;
}

Status ParseUrls(const Members& m, ProviderEntry& e, bool oauth) {
  const Need oauth_need = oauth ? Need::kRequired : Need::kOptional;
  const struct {
    std::string_view name;
    Need need;
    std::string* out;
  } urls[] = {{"docs_url", Need::kRequired, &e.docs_url},
              {"authorization_url", oauth_need, &e.authorization_url},
              {"token_url", oauth_need, &e.token_url},
              {"revocation_url", Need::kOptional, &e.revocation_url},
              {"userinfo_url", Need::kOptional, &e.userinfo_url},
              {"discovery_url", Need::kOptional, &e.discovery_url},
              {"issuer", Need::kOptional, &e.issuer},
              {"jwks_url", Need::kOptional, &e.jwks_url},
              {"api_base_url", oauth ? Need::kOptional : Need::kRequired, &e.api_base_url},
              {"identity_check_url", Need::kOptional, &e.identity_check_url}};
  for (const auto& url : urls) SB_RETURN_IF_ERROR(m.String(url.name, url.need, *url.out));
  SB_RETURN_IF_ERROR(m.StringMap("url_parameters", e.url_parameters, /*allow_empty_values=*/true));
  for (const auto& url : urls) {
    if (url.out->empty()) continue;
    const UrlKind kind = url.name == "issuer"     ? UrlKind::kIssuer
                         : url.name == "docs_url" ? UrlKind::kDocument
                                                  : UrlKind::kEndpoint;
    SB_RETURN_IF_ERROR(CheckUrl(url.name, *url.out, e.url_parameters, kind));
  }
  return OkStatus();
}

Status ParseProtocol(const Members& m, ProviderEntry& e) {
  SB_RETURN_IF_ERROR(m.StringList("id_token_algorithms", Need::kOptional, e.id_token_algorithms));
  for (const std::string& alg : e.id_token_algorithms) {
    // Asymmetric only: "none" and the HS* family would let anyone holding the client secret
    // (or nobody at all) mint an ID token.
    if (alg != "RS256" && alg != "ES256" && alg != "PS256") {
      return MemberError("id_token_algorithms", "'" + alg + "' is not one of RS256, ES256, PS256");
    }
  }
  SB_RETURN_IF_ERROR(m.String("scope_separator", Need::kRequired, e.scope_separator));
  if (e.scope_separator != " " && e.scope_separator != ",") {
    return MemberError("scope_separator", "must be \" \" or \",\"");
  }
  std::string pkce;
  SB_RETURN_IF_ERROR(m.String("pkce", Need::kRequired, pkce));
  if (pkce != "S256" && pkce != "none") {
    return MemberError("pkce", "must be \"S256\" or \"none\" (\"plain\" is never used, OA-02)");
  }
  e.pkce = pkce == "S256" ? PkceMethod::kS256 : PkceMethod::kNone;
  std::string auth;
  SB_RETURN_IF_ERROR(m.String("client_auth", Need::kRequired, auth));
  if (auth != "client_secret_post" && auth != "client_secret_basic") {
    return MemberError("client_auth", "must be \"client_secret_post\" or \"client_secret_basic\"");
  }
  e.client_auth =
      auth == "client_secret_post" ? ClientAuth::kClientSecretPost : ClientAuth::kClientSecretBasic;
  SB_RETURN_IF_ERROR(m.StringList("issuer_aliases", Need::kOptional, e.issuer_aliases));
  if (!e.issuer_aliases.empty() && e.issuer.empty()) {
    return MemberError("issuer_aliases", "needs an issuer");
  }
  return m.Bool("issuer_supports_iss_parameter", Need::kOptional, e.issuer_supports_iss_parameter);
}

Status ParseRefresh(const Members& m, RefreshBehaviour& refresh) {
  const Json* object = nullptr;
  SB_RETURN_IF_ERROR(m.Object("refresh_token", Need::kRequired, object));
  const Members r(*object, "refresh_token");
  constexpr std::string_view kKnown[] = {"issued", "rotates", "returned_on_refresh", "requires"};
  SB_RETURN_IF_ERROR(r.OnlyKnown(kKnown));
  SB_RETURN_IF_ERROR(r.Bool("issued", Need::kOptional, refresh.issued));
  const Need need = refresh.issued ? Need::kRequired : Need::kOptional;
  SB_RETURN_IF_ERROR(r.Bool("rotates", need, refresh.rotates));
  SB_RETURN_IF_ERROR(r.Bool("returned_on_refresh", need, refresh.returned_on_refresh));
  SB_RETURN_IF_ERROR(r.String("requires", Need::kOptional, refresh.requirement));
  if (!refresh.issued && (refresh.rotates || refresh.returned_on_refresh)) {
    return MemberError("refresh_token.issued", "is false, so nothing can rotate or be returned");
  }
  if (refresh.rotates && !refresh.returned_on_refresh) {
    return MemberError("refresh_token.returned_on_refresh", "must be true when rotates is true");
  }
  return OkStatus();
}

// A scope is one token of the scope parameter: it must not smuggle in a second one.
Status CheckScopes(std::string_view path, const std::vector<std::string>& scopes,
                   std::string_view separator) {
  for (const std::string& scope : scopes) {
    const bool bad = scope.empty() || scope.find(separator) != std::string::npos ||
                     std::any_of(scope.begin(), scope.end(), IsSpaceOrControl);
    if (bad) return MemberError(path, "scope '" + scope + "' is empty or holds a separator");
  }
  return OkStatus();
}

// An explanation is a sentence or two shown to end users: plain text, at most
// kMaxExplanationBytes, without control characters (it is HTML-escaped where it is shown).
Status CheckExplanation(const std::string& path, std::string_view text) {
  if (text.size() > kMaxExplanationBytes) {
    return MemberError(path, "must be at most " + std::to_string(kMaxExplanationBytes) + " bytes");
  }
  const bool control = std::any_of(text.begin(), text.end(), [](char c) {
    return std::iscntrl(static_cast<unsigned char>(c)) != 0;
  });
  return control ? MemberError(path, "must be plain text without control characters") : OkStatus();
}

// A service's optional `explanation`: {"read": ..., "read_write": ...}, both required.
Status ParseServiceExplanation(const Members& s, ServiceScopes& out) {
  const Json* object = nullptr;
  SB_RETURN_IF_ERROR(s.Object("explanation", Need::kOptional, object));
  if (object == nullptr) return OkStatus();
  const Members e(*object, s.PathOf("explanation"));
  constexpr std::string_view kKnown[] = {"read", "read_write"};
  SB_RETURN_IF_ERROR(e.OnlyKnown(kKnown));
  SB_RETURN_IF_ERROR(e.String("read", Need::kRequired, out.read_explanation));
  SB_RETURN_IF_ERROR(e.String("read_write", Need::kRequired, out.read_write_explanation));
  SB_RETURN_IF_ERROR(CheckExplanation(e.PathOf("read"), out.read_explanation));
  return CheckExplanation(e.PathOf("read_write"), out.read_write_explanation);
}

Status ParseService(const Members& services, std::string_view name, const Json& value,
                    const std::string& separator, ServiceScopes& out) {
  const std::string path = services.PathOf(name);
  if (name != "calendar" && name != "email" && name != "contacts") {
    return MemberError(path, "unknown service (calendar, email or contacts)");
  }
  if (!value.is_object()) return MemberError(path, "must be an object");
  const Members s(value, path);
  constexpr std::string_view kKnown[] = {"read", "read_write", "api_paths", "explanation"};
  SB_RETURN_IF_ERROR(s.OnlyKnown(kKnown));
  SB_RETURN_IF_ERROR(ParseServiceExplanation(s, out));
  SB_RETURN_IF_ERROR(s.StringList("read", Need::kRequired, out.read));
  SB_RETURN_IF_ERROR(s.StringList("read_write", Need::kRequired, out.read_write));
  SB_RETURN_IF_ERROR(s.StringList("api_paths", Need::kOptional, out.api_paths));
  for (std::string& prefix : out.api_paths) {
    if (prefix.empty() || prefix.front() == '/' || prefix.find("..") != std::string::npos) {
      return MemberError(s.PathOf("api_paths"), "holds relative path prefixes below api_base_url");
    }
    std::transform(prefix.begin(), prefix.end(), prefix.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  }
  if (out.read.empty()) return MemberError(s.PathOf("read"), "must not be empty");
  if (out.read_write.empty()) return MemberError(s.PathOf("read_write"), "must not be empty");
  SB_RETURN_IF_ERROR(CheckScopes(s.PathOf("read"), out.read, separator));
  return CheckScopes(s.PathOf("read_write"), out.read_write, separator);
}

Status ParseScopes(const Members& m, ProviderEntry& e) {
  SB_RETURN_IF_ERROR(m.StringList("identity_scopes", Need::kOptional, e.identity_scopes));
  SB_RETURN_IF_ERROR(m.StringList("default_scopes", Need::kOptional, e.default_scopes));
  SB_RETURN_IF_ERROR(CheckScopes("identity_scopes", e.identity_scopes, e.scope_separator));
  SB_RETURN_IF_ERROR(CheckScopes("default_scopes", e.default_scopes, e.scope_separator));
  const bool openid = std::find(e.identity_scopes.begin(), e.identity_scopes.end(), "openid") !=
                      e.identity_scopes.end();
  // An ID token is only worth asking for if it can be verified.
  if (openid && (e.issuer.empty() || e.jwks_url.empty() || e.id_token_algorithms.empty())) {
    return MemberError("identity_scopes",
                       "asks for openid, so issuer, jwks_url and id_token_algorithms are required");
  }
  const Json* services = nullptr;
  SB_RETURN_IF_ERROR(m.Object("services", Need::kRequired, services));
  const Members s(*services, "services");
  for (const auto& item : services->items()) {
    SB_RETURN_IF_ERROR(
        ParseService(s, item.key(), item.value(), e.scope_separator, e.services[item.key()]));
  }
  return OkStatus();
}

bool IsMethodToken(std::string_view method) {
  return method == "*" || (!method.empty() && std::all_of(method.begin(), method.end(), [](char c) {
           return c >= 'A' && c <= 'Z';
         }));
}

Status ParseCallRule(const std::string& path, const Json& value, CallRule& out) {
  if (!value.is_object()) return MemberError(path, "must be an object");
  const Members r(value, path);
  constexpr std::string_view kKnown[] = {"method", "path", "access"};
  SB_RETURN_IF_ERROR(r.OnlyKnown(kKnown));
  std::string access;
  SB_RETURN_IF_ERROR(r.String("method", Need::kRequired, out.method));
  SB_RETURN_IF_ERROR(r.String("path", Need::kRequired, out.path));
  SB_RETURN_IF_ERROR(r.String("access", Need::kRequired, access));
  if (!IsMethodToken(out.method)) {
    return MemberError(r.PathOf("method"), "must be an upper-case HTTP method or \"*\"");
  }
  if (out.path.front() == '/' || out.path.find("..") != std::string::npos) {
    return MemberError(r.PathOf("path"), "must be a relative path pattern below api_base_url");
  }
  std::transform(out.path.begin(), out.path.end(), out.path.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (access != "read" && access != "write") {
    return MemberError(r.PathOf("access"), "must be \"read\" or \"write\"");
  }
  out.access = access == "read" ? CallAccess::kRead : CallAccess::kWrite;
  return OkStatus();
}

Status ParseCallRules(const Members& m, ProviderEntry& e) {
  const Json* rules = m.Get("call_rules");
  if (rules == nullptr) return OkStatus();
  if (!rules->is_array()) return MemberError("call_rules", "must be an array of rules");
  e.call_rules.resize(rules->size());
  for (size_t i = 0; i < rules->size(); ++i) {
    SB_RETURN_IF_ERROR(
        ParseCallRule("call_rules." + std::to_string(i), (*rules)[i], e.call_rules[i]));
  }
  return OkStatus();
}

// Glob match of a lower-case `pattern` against a lower-case `text`: `*` within a segment,
// `**` across segments.
bool GlobMatches(std::string_view pattern, std::string_view text) {
  if (pattern.empty()) return text.empty();
  if (pattern.starts_with("**")) {
    for (size_t skip = 0; skip <= text.size(); ++skip) {
      if (GlobMatches(pattern.substr(2), text.substr(skip))) return true;
    }
    return false;
  }
  if (pattern.front() == '*') {
    for (size_t skip = 0; skip <= text.size(); ++skip) {
      if (GlobMatches(pattern.substr(1), text.substr(skip))) return true;
      if (skip < text.size() && text[skip] == '/') break;
    }
    return false;
  }
  return !text.empty() && pattern.front() == text.front() &&
         GlobMatches(pattern.substr(1), text.substr(1));
}

// Parameters the flow itself sets per request; a data file must not pin or downgrade them.
Status ParseAuthorizationParams(const Members& m, ProviderEntry& e) {
  SB_RETURN_IF_ERROR(
      m.StringMap("authorization_params", e.authorization_params, /*allow_empty_values=*/false));
  for (const auto& [name, value] : e.authorization_params) {
    for (std::string_view reserved :
         {"client_id", "redirect_uri", "response_type", "scope", "state", "code_challenge",
          "code_challenge_method", "nonce"}) {
      if (name == reserved) {
        return MemberError("authorization_params." + name, "is set by the flow, not the catalog");
      }
    }
  }
  return OkStatus();
}

// clang-format off
constexpr std::string_view kTopLevelMembers[] = {
    "id", "display_name", "docs_url", "notes", "explanation", "authorization_url", "token_url", "revocation_url",
    "userinfo_url", "discovery_url", "issuer", "issuer_aliases", "jwks_url", "api_base_url", "identity_check_url",
    "url_parameters",
    "id_token_algorithms", "scope_separator", "pkce", "client_auth", "refresh_token",
    "authorization_params", "identity_scopes", "default_scopes", "issuer_supports_iss_parameter",
    "services", "call_rules", "auth"};
// clang-format on

// Members that only mean something for OAuth; an entry with `auth` must not have them.
constexpr std::string_view kOAuthOnlyMembers[] = {"authorization_url",
                                                  "token_url",
                                                  "revocation_url",
                                                  "userinfo_url",
                                                  "discovery_url",
                                                  "issuer",
                                                  "issuer_aliases",
                                                  "jwks_url",
                                                  "identity_check_url",
                                                  "id_token_algorithms",
                                                  "scope_separator",
                                                  "pkce",
                                                  "client_auth",
                                                  "refresh_token",
                                                  "authorization_params",
                                                  "identity_scopes",
                                                  "default_scopes",
                                                  "issuer_supports_iss_parameter",
                                                  "services"};

Result<ProviderEntry> ParseCredentialEntry(const Members& m, const Json& auth, ProviderEntry e) {
  for (std::string_view member : kOAuthOnlyMembers) {
    if (m.Get(member) != nullptr) {
      return MemberError(member, "is for OAuth providers, and this one has auth");
    }
  }
  SB_RETURN_IF_ERROR(ParseUrls(m, e, /*oauth=*/false));
  SB_ASSIGN_OR_RETURN(e.credentials, ParseCredentialAuth(auth));
  e.refresh.issued = false;
  SB_RETURN_IF_ERROR(ParseCallRules(m, e));
  return e;
}

Result<ProviderEntry> ParseEntry(const Json& source) {
  const Members m(source, "");
  SB_RETURN_IF_ERROR(m.OnlyKnown(kTopLevelMembers));
  ProviderEntry e;
  SB_RETURN_IF_ERROR(m.String("id", Need::kRequired, e.id));
  SB_RETURN_IF_ERROR(m.String("display_name", Need::kRequired, e.display_name));
  SB_RETURN_IF_ERROR(m.String("notes", Need::kOptional, e.notes));
  SB_RETURN_IF_ERROR(m.String("explanation", Need::kOptional, e.explanation));
  SB_RETURN_IF_ERROR(CheckExplanation("explanation", e.explanation));
  if (const Json* auth = m.Get("auth"); auth != nullptr) {
    return ParseCredentialEntry(m, *auth, std::move(e));
  }
  SB_RETURN_IF_ERROR(ParseUrls(m, e, /*oauth=*/true));
  SB_RETURN_IF_ERROR(ParseProtocol(m, e));
  SB_RETURN_IF_ERROR(ParseRefresh(m, e.refresh));
  SB_RETURN_IF_ERROR(ParseAuthorizationParams(m, e));
  SB_RETURN_IF_ERROR(ParseScopes(m, e));
  SB_RETURN_IF_ERROR(ParseCallRules(m, e));
  return e;
}

// The id comes from the file name; an "id" member, when present, must agree with it.
Result<ProviderEntry> ParseFile(std::string_view file_name, Json& source) {
  if (!source.is_object()) return InvalidArgumentError("must hold a JSON object");
  constexpr std::string_view kSuffix = ".json";
  const std::string_view id = file_name.ends_with(kSuffix)
                                  ? file_name.substr(0, file_name.size() - kSuffix.size())
                                  : std::string_view();
  if (!IsValidId(id)) {
    return InvalidArgumentError("the file name must be <id>.json with an id of [a-z0-9-]");
  }
  auto member = source.find("id");
  if (member == source.end() || member->is_null()) {
    source["id"] = std::string(id);
  } else if (!member->is_string() || member->get<std::string>() != id) {
    return MemberError("id", "must equal the file name without .json ('" + std::string(id) + "')");
  }
  return ParseEntry(source);
}

// Catalog files are the operator's, at most kMaxFileBytes; parsed within limits all the same.
Result<Json> ParseCatalogJson(std::string_view text) {
  Result<Json> parsed = ParseJson(
      text, JsonLimits{.max_bytes = kMaxFileBytes, .max_members = 10'000, .max_values = 1'000'000});
  if (!parsed.ok()) return InvalidArgumentError("not valid JSON: " + parsed.status().message());
  return parsed;
}

Result<std::string> ReadFile(const std::filesystem::path& path) {
  std::error_code error;
  const auto size = std::filesystem::file_size(path, error);
  if (error) return InvalidArgumentError("cannot read: " + error.message());
  if (size > kMaxFileBytes) return InvalidArgumentError("larger than 1 MiB");
  std::ifstream in(path, std::ios::binary);
  std::string text(std::istreambuf_iterator<char>(in), {});
  return in.bad() ? Result<std::string>(InvalidArgumentError("cannot read")) : text;
}

Result<std::vector<std::filesystem::path>> ListJsonFiles(const std::string& dir) {
  std::error_code error;
  if (!std::filesystem::is_directory(dir, error)) {
    return NotFoundError("provider override directory '" + dir + "' does not exist");
  }
  std::vector<std::filesystem::path> files;
  for (const auto& item : std::filesystem::directory_iterator(dir, error)) {
    if (item.path().extension() == ".json") files.push_back(item.path());
  }
  if (error) return InvalidArgumentError("cannot list '" + dir + "': " + error.message());
  std::sort(files.begin(), files.end());  // deterministic order, deterministic first error
  return files;
}

// Origin overrides.

// "http://127.0.0.1:8081/" -> "http://127.0.0.1:8081".
Result<std::string> NormalizeOrigin(std::string_view base_url) {
  const std::optional<Origin> origin = SplitOrigin(base_url);
  const std::string_view rest = origin ? base_url.substr(origin->path_start) : "";
  if (!origin || (!rest.empty() && rest != "/") ||
      base_url.find_first_of("{}@#") != std::string_view::npos) {
    return InvalidArgumentError("base_url '" + std::string(base_url) +
                                "' must be an origin such as https://127.0.0.1:8443");
  }
  const std::map<std::string, std::string, std::less<>> no_placeholders;
  SB_RETURN_IF_ERROR(CheckUrl("base_url", base_url, no_placeholders, UrlKind::kEndpoint));
  return std::string(base_url.substr(0, origin->path_start));
}

// Rewrites source[member] when its host is one of `hosts`; returns whether it did.
bool RewriteMember(Json& source, std::string_view member, const std::vector<std::string>& hosts,
                   std::string_view origin) {
  auto it = source.find(member);
  if (it == source.end() || !it->is_string()) return false;
  const std::string url = it->get<std::string>();
  const std::optional<Origin> parts = SplitOrigin(url);
  if (!parts) return false;
  const bool real = std::any_of(hosts.begin(), hosts.end(), [&](const std::string& host) {
    return EqualsIgnoreCase(host, parts->host);
  });
  if (!real) return false;
  *it = std::string(origin) + url.substr(parts->path_start);
  return true;
}

bool IsSafeParameterValue(std::string_view value) {
  return !value.empty() && value.front() != '.' && value.find("..") == std::string_view::npos &&
         std::all_of(value.begin(), value.end(), [](char c) {
           return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-';
         });
}

void AddOnce(std::vector<std::string>& out, const std::vector<std::string>& scopes) {
  for (const std::string& scope : scopes) {
    if (std::find(out.begin(), out.end(), scope) == out.end()) out.push_back(scope);
  }
}

}  // namespace

Result<ProviderCatalog> ProviderCatalog::LoadBuiltIn() {
  std::vector<std::pair<std::string, std::string>> files;
  for (size_t i = 0; i < internal::kEmbeddedProviderCount; ++i) {
    files.emplace_back(internal::kEmbeddedProviders[i].name, internal::kEmbeddedProviders[i].json);
  }
  return FromFiles(files);
}

Result<ProviderCatalog> ProviderCatalog::FromFiles(
    const std::vector<std::pair<std::string, std::string>>& files) {
  ProviderCatalog catalog;
  for (const auto& [name, text] : files) {
    const std::string context = "provider file " + name;
    Result<Json> source = ParseCatalogJson(text);
    if (!source.ok()) return source.status().WithContext(context);
    Result<ProviderEntry> entry = ParseFile(name, *source);
    if (!entry.ok()) return entry.status().WithContext(context);
    const std::string id = entry->id;
    const bool added =
        catalog.providers_.emplace(id, Slot{std::move(*source), std::move(*entry)}).second;
    if (!added) {
      return InvalidArgumentError("duplicate provider id '" + id + "'").WithContext(context);
    }
  }
  return catalog;
}

Status ProviderCatalog::ApplyOverrides(const std::string& dir) {
  SB_ASSIGN_OR_RETURN(const std::vector<std::filesystem::path> files, ListJsonFiles(dir));
  Slots next = providers_;
  for (const std::filesystem::path& path : files) {
    SB_RETURN_IF_ERROR(MergeOverride(next, path.string()).WithContext(path.string()));
  }
  providers_ = std::move(next);
  return OkStatus();
}

Status ProviderCatalog::MergeOverride(Slots& slots, const std::string& path) {
  SB_ASSIGN_OR_RETURN(const std::string text, ReadFile(path));
  SB_ASSIGN_OR_RETURN(const Json patch, ParseCatalogJson(text));
  if (!patch.is_object()) return InvalidArgumentError("must hold a JSON object");
  const std::string file_name = std::filesystem::path(path).filename().string();
  const std::string id = file_name.substr(0, file_name.size() - std::string_view(".json").size());
  auto existing = slots.find(id);
  Json merged = existing == slots.end() ? Json::object() : existing->second.source;
  merged.merge_patch(patch);
  SB_ASSIGN_OR_RETURN(ProviderEntry entry, ParseFile(file_name, merged));
  slots[id] = Slot{std::move(merged), std::move(entry)};
  return OkStatus();
}

Status ProviderCatalog::OverrideOrigin(std::string_view id,
                                       const std::vector<std::string>& real_hosts,
                                       std::string_view base_url, bool rewrite_issuer) {
  auto slot = providers_.find(id);
  if (slot == providers_.end()) {
    return NotFoundError("no provider '" + std::string(id) + "' in the catalog");
  }
  SB_ASSIGN_OR_RETURN(const std::string origin, NormalizeOrigin(base_url));
  Json source = slot->second.source;
  bool rewritten = false;
  for (std::string_view member :
       {"authorization_url", "token_url", "revocation_url", "userinfo_url", "discovery_url",
        "jwks_url", "api_base_url", "identity_check_url"}) {
    rewritten |= RewriteMember(source, member, real_hosts, origin);
  }
  if (rewrite_issuer) {
    rewritten |= RewriteMember(source, "issuer", real_hosts, origin);
    source.erase("issuer_aliases");  // a stand-in signs with its own issuer only
  }
  if (!rewritten) {
    return InvalidArgumentError("no URL of provider '" + std::string(id) +
                                "' points at the given hosts");
  }
  Result<ProviderEntry> entry = ParseEntry(source);
  if (!entry.ok()) return entry.status().WithContext("provider " + std::string(id));
  slot->second = Slot{std::move(source), std::move(*entry)};
  return OkStatus();
}

Status ProviderCatalog::OverrideApiBase(std::string_view id, std::string_view base_url) {
  auto slot = providers_.find(id);
  if (slot == providers_.end()) {
    return NotFoundError("no provider '" + std::string(id) + "' in the catalog");
  }
  if (slot->second.entry.uses_oauth()) {
    return FailedPreconditionError("provider '" + std::string(id) + "' uses OAuth");
  }
  std::string_view base = base_url;
  while (base.ends_with('/')) base.remove_suffix(1);
  Json source = slot->second.source;
  source["api_base_url"] = std::string(base);
  Result<ProviderEntry> entry = ParseEntry(source);
  if (!entry.ok()) return entry.status().WithContext("provider " + std::string(id));
  slot->second = Slot{std::move(source), std::move(*entry)};
  return OkStatus();
}

const ProviderEntry* ProviderCatalog::Find(std::string_view id) const {
  auto it = providers_.find(id);
  return it == providers_.end() ? nullptr : &it->second.entry;
}

std::vector<const ProviderEntry*> ProviderCatalog::All() const {
  std::vector<const ProviderEntry*> all;
  all.reserve(providers_.size());
  for (const auto& [id, slot] : providers_) all.push_back(&slot.entry);
  return all;
}

Result<std::vector<std::string>> ProviderCatalog::ScopesFor(
    std::string_view id, const std::vector<std::pair<std::string, bool>>& services,
    const std::vector<std::string>& extra) const {
  const ProviderEntry* entry = Find(id);
  if (entry == nullptr) return NotFoundError("no provider '" + std::string(id) + "'");
  std::vector<std::string> scopes;
  for (const auto& [service, write] : services) {
    auto it = entry->services.find(service);
    if (it == entry->services.end()) {
      return InvalidArgumentError("provider '" + entry->id + "' has no '" + service + "' service");
    }
    AddOnce(scopes, write ? it->second.read_write : it->second.read);
  }
  AddOnce(scopes, entry->identity_scopes);
  AddOnce(scopes, entry->default_scopes);
  Status extra_ok = CheckScopes("extra scopes", extra, entry->scope_separator);
  if (!extra_ok.ok()) return InvalidArgumentError(extra_ok.message());
  AddOnce(scopes, extra);
  return scopes;
}

Result<std::string> ExpandUrl(const ProviderEntry& entry, std::string_view url,
                              const std::map<std::string, std::string, std::less<>>& values) {
  std::string out;
  size_t done = 0;
  for (size_t open = url.find('{'); open != std::string_view::npos; open = url.find('{', done)) {
    const size_t close = url.find('}', open);
    if (close == std::string_view::npos) return InvalidArgumentError("unclosed '{' in URL");
    const std::string_view name = url.substr(open + 1, close - open - 1);
    auto given = values.find(name);
    auto fallback = entry.url_parameters.find(name);
    const std::string value = given != values.end()                    ? given->second
                              : fallback != entry.url_parameters.end() ? fallback->second
                                                                       : std::string();
    if (!IsSafeParameterValue(value)) {  // also when there is no value at all
      return InvalidArgumentError("{" + std::string(name) + "} of provider '" + entry.id +
                                  "' needs a value: a DNS name or GUID ([A-Za-z0-9.-])");
    }
    out.append(url.substr(done, open - done)).append(value);
    done = close + 1;
  }
  out.append(url.substr(done));
  return out;
}

std::string_view ServiceExplanation(const ProviderEntry& entry, std::string_view service,
                                    bool write) {
  const auto it = entry.services.find(service);
  if (it == entry.services.end()) return {};
  return write ? it->second.read_write_explanation : it->second.read_explanation;
}

CallAccess ClassifyCall(const ProviderEntry& entry, std::string_view method,
                        std::string_view path) {
  std::string lower(path);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  for (const CallRule& rule : entry.call_rules) {
    if ((rule.method == "*" || rule.method == method) && GlobMatches(rule.path, lower)) {
      return rule.access;
    }
  }
  return method == "GET" || method == "HEAD" ? CallAccess::kRead : CallAccess::kWrite;
}

namespace {

// Whether `scope` is among `granted`, as itself or, as Microsoft's token endpoint answers, as a
// resource URI ending in it ("https://graph.microsoft.com/Calendars.ReadWrite"); scope names
// compare without case, as Microsoft's do.
bool Granted(const std::vector<std::string>& granted, const std::string& scope) {
  auto same = [](std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
             return std::tolower(static_cast<unsigned char>(x)) ==
                    std::tolower(static_cast<unsigned char>(y));
           });
  };
  return std::any_of(granted.begin(), granted.end(), [&](const std::string& g) {
    if (same(g, scope)) return true;
    const size_t slash = g.rfind('/');
    return g.starts_with("https://") && slash != std::string::npos &&
           scope.find('/') == std::string::npos &&
           same(std::string_view(g).substr(slash + 1), scope);
  });
}

}  // namespace

Status CheckScopesForCall(const ProviderEntry& entry, const std::vector<std::string>& granted,
                          std::string_view method, std::string_view path) {
  std::string lower(path);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  const bool reading = ClassifyCall(entry, method, path) == CallAccess::kRead;
  auto held = [&](const std::vector<std::string>& scopes) {
    return std::all_of(scopes.begin(), scopes.end(),
                       [&](const std::string& scope) { return Granted(granted, scope); });
  };
  for (const auto& [service, scopes] : entry.services) {
    const bool matches = std::any_of(scopes.api_paths.begin(), scopes.api_paths.end(),
                                     [&](const std::string& p) { return lower.starts_with(p); });
    if (!matches) continue;
    if (held(scopes.read_write) || (reading && held(scopes.read))) return OkStatus();
    std::string missing;
    for (const std::string& scope : reading ? scopes.read : scopes.read_write) {
      if (Granted(granted, scope)) continue;
      missing += (missing.empty() ? "" : " ") + scope;
    }
    return PermissionDeniedError("the connection was not granted " +
                                 std::string(reading ? "read" : "write") + " access to " + service +
                                 " (missing scopes: " + missing + "); reconnect with the " +
                                 service + " service" + (reading ? "" : " and read_write access"));
  }
  return OkStatus();
}

}  // namespace sb::oauth
