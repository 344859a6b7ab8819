// ProviderCatalog: what Switchboard knows about each OAuth 2.0 / OpenID Connect provider
// (endpoints, scopes per service, PKCE, refresh-token behaviour), read from data files.
//
// The built-in entries are src/sb/oauth/providers/<id>.json (format in providers/README.md),
// embedded into the binary at build time. A deployment adjusts them without rebuilding:
// ApplyOverrides() merges a directory of JSON files over them (change some members of an
// entry, or add a provider), and OverrideOrigin() moves an entry's endpoints from the real
// hosts to another origin (how the sandbox stands in for Google and Microsoft). Every entry is
// validated as a whole after each change, and a failed change leaves the catalog as it was:
// https only (plain http for loopback hosts), no unknown members, PKCE S256 or none (never
// plain, OA-02), ID-token algorithms only RS256/ES256/PS256.
//
// Thread safety: const methods may run concurrently; the mutators are for start-up, before the
// catalog is shared, and invalidate pointers returned by Find() and All().
#pragma once

#include <cstddef>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "sb/base/json.h"
#include "sb/base/status.h"
#include "sb/oauth/credential_auth.h"

namespace sb::oauth {

enum class PkceMethod { kS256, kNone };
enum class ClientAuth { kClientSecretPost, kClientSecretBasic };

// The scopes one service (calendar, email, contacts) needs at each access level.
struct ServiceScopes {
  std::vector<std::string> read;
  std::vector<std::string> read_write;
  // Path prefixes below api_base_url that belong to the service (lower case, compared
  // case-insensitively), for the proxy's scope check; empty: not checked.
  std::vector<std::string> api_paths;
  // What each access level lets the app see and do, in plain words for the end user who
  // chooses it on the hosted connect page (`explanation`); empty when the entry has none.
  std::string read_explanation;
  std::string read_write_explanation;
};

// Whether a proxied call only reads at the provider or may change something there.
enum class CallAccess { kRead, kWrite };

// One rule of a provider's `call_rules`: calls with `method` ("*": any) whose decoded,
// normalized path below api_base_url matches `path` have `access`. `path` is a lower-case glob
// compared case-insensitively: `*` matches within one segment (no '/'), `**` matches anything.
struct CallRule {
  std::string method;
  std::string path;
  CallAccess access = CallAccess::kWrite;
};

struct RefreshBehaviour {
  bool issued = true;                // false: access tokens are long-lived, there is no refresh
  bool rotates = false;              // each refresh gives a new refresh token; the old one dies
  bool returned_on_refresh = false;  // a refresh response may carry a refresh_token: keep newest
  std::string requirement;           // what the authorization needs to get one ("requires")
};

struct ProviderEntry {
  std::string id;  // [a-z0-9-], the file name without ".json"
  std::string display_name;
  std::string docs_url;  // the provider's own documentation this entry was written from
  std::string notes;     // quirks a client must know that have no member of their own
  // What a connection gives the app access to, in plain words for the end user (the hosted
  // connect page); for a credential provider, what the key or token reaches. May be empty.
  std::string explanation;

  // Endpoints. URLs may hold {name} placeholders declared in url_parameters (fill them with
  // ExpandUrl); `issuer` may also hold {tenantid}, which ID-token validation resolves from the
  // token's own tid claim (Microsoft's multi-tenant issuer).
  std::string authorization_url;
  std::string token_url;
  std::string revocation_url;  // empty: no RFC 7009 revocation endpoint
  std::string userinfo_url;
  std::string discovery_url;
  std::string issuer;
  // Other spellings of `issuer` that the provider documents for the `iss` of its ID tokens
  // (Google: "accounts.google.com" besides "https://accounts.google.com", OA-15).
  std::vector<std::string> issuer_aliases;
  std::string jwks_url;
  std::string api_base_url;  // empty: per-account, learnt at connection time (see notes)
  // A cheap call that proves a token works (connection health checks); empty: userinfo_url.
  std::string identity_check_url;
  std::map<std::string, std::string, std::less<>> url_parameters;  // name -> default ("": none)

  std::vector<std::string> id_token_algorithms;
  std::string scope_separator;  // " " or ","
  PkceMethod pkce = PkceMethod::kS256;
  ClientAuth client_auth = ClientAuth::kClientSecretPost;
  RefreshBehaviour refresh;
  std::vector<std::pair<std::string, std::string>> authorization_params;  // sorted by name
  std::vector<std::string> identity_scopes;    // requested with every connection: who the user is
  std::vector<std::string> default_scopes;     // requested with every connection: everything else
  bool issuer_supports_iss_parameter = false;  // RFC 9207: callbacks without iss are rejected
  std::map<std::string, ServiceScopes, std::less<>> services;  // "calendar", "email", "contacts"
  // How the proxy classifies calls (first matching rule wins; see ClassifyCall).
  std::vector<CallRule> call_rules;
  // Set for providers that take an API key, basic credentials or named fields instead of an
  // OAuth grant (the `auth` member; credential_auth.h): they have no OAuth members, no services
  // and no refresh, and api_base_url is required.
  std::optional<CredentialAuth> credentials;

  bool uses_oauth() const { return !credentials.has_value(); }
};

class ProviderCatalog {
 public:
  // Parses the provider files embedded at build time.
  static Result<ProviderCatalog> LoadBuiltIn();
  // Parses `files` (file name "<id>.json", JSON text) as the built-in set; for tests and tools.
  static Result<ProviderCatalog> FromFiles(
      const std::vector<std::pair<std::string, std::string>>& files);

  // Merges every <id>.json in `dir` over the catalog (RFC 7396 merge patch): for a known id
  // the file sets only the members it names, deep-merging objects, and null removes a member;
  // a new id adds a provider, which then needs every required member. All or nothing; errors
  // (INVALID_ARGUMENT, NOT_FOUND for a missing dir) name the file and the member.
  Status ApplyOverrides(const std::string& dir);

  // Replaces scheme://host[:port] of every URL of entry `id` whose host is one of `real_hosts`
  // with `base_url` (an origin, e.g. "http://127.0.0.1:8081"), keeping paths and placeholders.
  // `issuer` is an identity string, not an endpoint: it is rewritten only with
  // `rewrite_issuer`, for a stand-in that signs ID tokens with its own issuer. NOT_FOUND for an
  // unknown id; INVALID_ARGUMENT for a bad base_url or when no URL matched.
  Status OverrideOrigin(std::string_view id, const std::vector<std::string>& real_hosts,
                        std::string_view base_url, bool rewrite_issuer);

  // Sets the api_base_url of the credential provider `id` to `base_url` (an http(s) URL that
  // may have a path: a stand-in serving several providers under one origin). NOT_FOUND for an
  // unknown id, FAILED_PRECONDITION for an OAuth provider, INVALID_ARGUMENT for a bad URL.
  Status OverrideApiBase(std::string_view id, std::string_view base_url);

  // nullptr when there is no such provider.
  const ProviderEntry* Find(std::string_view id) const;
  // Every provider, sorted by id.
  std::vector<const ProviderEntry*> All() const;

  // The scopes to request from provider `id`: for each (service, write) the service's
  // read_write or read scopes, then identity_scopes, default_scopes and `extra`, each once, in
  // that order. NOT_FOUND for an unknown provider; INVALID_ARGUMENT for a service the provider
  // lacks or an extra scope that is empty or holds the separator or whitespace.
  Result<std::vector<std::string>> ScopesFor(
      std::string_view id, const std::vector<std::pair<std::string, bool>>& services,
      const std::vector<std::string>& extra) const;

 private:
  // Json's noexcept constructors allocate only for non-null values, which tidy cannot see.
  // NOLINTNEXTLINE(bugprone-exception-escape)
  struct Slot {
    Json source;  // the merged file, kept so that later overrides merge over it
    ProviderEntry entry;
  };
  using Slots = std::map<std::string, Slot, std::less<>>;

  // Merges the override file at `path` into `slots`.
  static Status MergeOverride(Slots& slots, const std::string& path);

  Slots providers_;
};

// Fills the {name} placeholders of `url` (one of entry's URLs) from `values`, falling back to
// the entry's url_parameters defaults. A value must be a DNS name or GUID ([A-Za-z0-9.-]) so
// that it cannot move the URL to another host or path. INVALID_ARGUMENT when a placeholder has
// no value or a value is unsafe.
Result<std::string> ExpandUrl(const ProviderEntry& entry, std::string_view url,
                              const std::map<std::string, std::string, std::less<>>& values = {});

namespace internal {
// The provider files, embedded by embed_catalog.cmake into a generated source file.
struct EmbeddedProvider {
  const char* name;  // "google.json"
  const char* json;
};
extern const EmbeddedProvider kEmbeddedProviders[];
extern const size_t kEmbeddedProviderCount;
}  // namespace internal

// The plain-words explanation of `service` at the read (write=false) or read-write level; empty
// when the entry lacks the service or has no explanation for it.
std::string_view ServiceExplanation(const ProviderEntry& entry, std::string_view service,
                                    bool write);

// Whether `method` `path` (decoded and normalized, below the API base, without a leading '/')
// only reads at the provider: the first of entry.call_rules that matches decides; without one,
// GET and HEAD read and every other method writes. Providers that write through GET (Slack's
// Web API accepts GET for every method) or read through POST (Slack, Graph's getSchedule,
// Google's freeBusy) say so in their rules; anything unclassified is a write.
CallAccess ClassifyCall(const ProviderEntry& entry, std::string_view method, std::string_view path);

// Whether a connection holding `granted` may make `method` `path` (decoded and normalized,
// below the API base) as far as the catalog knows: for a path under one of a service's
// api_paths, a read (ClassifyCall) needs the service's read or read_write scopes, anything
// else its read_write scopes.
// PERMISSION_DENIED naming the service and the missing scopes; OK for paths no service claims.
Status CheckScopesForCall(const ProviderEntry& entry, const std::vector<std::string>& granted,
                          std::string_view method, std::string_view path);

}  // namespace sb::oauth
