#include "sandbox/keyed/wire.h"

#include <charconv>
#include <ctime>

#include "sb/base/check.h"
#include "sb/base/encoding.h"

namespace sandbox::keyed {
namespace {

// The credentials after "<scheme> " in the Authorization header, when the scheme matches.
std::optional<std::string_view> AuthorizationParam(const sb::http::Request& request,
                                                   std::string_view scheme) {
  const auto header = request.Header("Authorization");
  if (!header || header->size() <= scheme.size() || (*header)[scheme.size()] != ' ' ||
      !sb::http::EqualsIgnoreCase(header->substr(0, scheme.size()), scheme)) {
    return std::nullopt;
  }
  std::string_view param = header->substr(scheme.size() + 1);
  while (!param.empty() && param.front() == ' ') param.remove_prefix(1);
  while (!param.empty() && param.back() == ' ') param.remove_suffix(1);
  if (param.empty()) return std::nullopt;
  return param;
}

constexpr SamplePerson kPeople[] = {{"Ada", "Lovelace"}, {"Grace", "Hopper"}, {"Alan", "Turing"},
                                    {"Zoë", "Müller"},   {"Renée", "Dupont"}, {"Sam", "O'Neil"},
                                    {"Wang", "Fang"},    {"Dana", "Scully"},  {"Linus", "Berg"},
                                    {"Amara", "Okafor"}, {"Kenji", "Tanaka"}, {"Priya", "Nair"}};

}  // namespace

std::optional<std::string> BearerToken(const sb::http::Request& request) {
  const auto param = AuthorizationParam(request, "Bearer");
  if (!param) return std::nullopt;
  return std::string(*param);
}

std::optional<std::pair<std::string, std::string>> BasicCredentials(
    const sb::http::Request& request) {
  const auto param = AuthorizationParam(request, "Basic");
  if (!param) return std::nullopt;
  const auto decoded = sb::Base64Decode(*param);
  if (!decoded) return std::nullopt;
  const size_t colon = decoded->find(':');
  if (colon == std::string::npos) return std::nullopt;
  return std::make_pair(decoded->substr(0, colon), decoded->substr(colon + 1));
}

void AddRoute(sb::http::Router& router, std::string_view method, std::string_view pattern,
              sb::http::Handler handler) {
  SB_CHECK(router.Add(method, pattern, std::move(handler), {.authenticated = false}).ok());
}

void AddCatchAll(sb::http::Router& router, std::string_view provider, sb::http::Handler not_found) {
  const std::string prefix = "/" + std::string(provider);
  for (std::string_view method : {"GET", "POST", "PUT", "PATCH", "DELETE"}) {
    AddRoute(router, method, prefix, not_found);
    AddRoute(router, method, prefix + "/{rest...}", not_found);
  }
}

std::string ProviderPath(const sb::http::Request& request, std::string_view provider) {
  std::string_view path = request.path;
  if (path.size() > provider.size() && path[0] == '/' &&
      path.substr(1, provider.size()) == provider) {
    path.remove_prefix(provider.size() + 1);
  }
  return path.empty() ? "/" : std::string(path);
}

sb::Json NumberOrString(std::string_view id) {
  int64_t value = 0;
  const auto [end, error] = std::from_chars(id.data(), id.data() + id.size(), value);
  if (error == std::errc() && end == id.data() + id.size() && !id.empty()) return value;
  return std::string(id);
}

std::mt19937_64 AccountRng(const KeyedAccount& account) {
  uint64_t hash = 14'695'981'039'346'656'037ull;  // FNV-1a: stable across runs and platforms
  for (char c : account.provider + "/" + account.id) {
    hash = (hash ^ static_cast<unsigned char>(c)) * 1'099'511'628'211ull;
  }
  return std::mt19937_64(hash);
}

std::string RandomText(std::mt19937_64& rng, size_t n, std::string_view alphabet) {
  std::string out;
  for (size_t i = 0; i < n; ++i) out += alphabet[rng() % alphabet.size()];
  return out;
}

int64_t SampleUnixSeconds(std::mt19937_64& rng) {
  constexpr int64_t kBase = 1'709'283'600;  // 2024-03-01T09:00:00Z
  return kBase + static_cast<int64_t>(rng() % (90 * 86'400));
}

namespace {

std::string FormatUtc(int64_t unix_seconds, const char* format) {
  const std::time_t t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char text[64];
  const size_t n = std::strftime(text, sizeof(text), format, &tm);
  return std::string(text, n);
}

}  // namespace

std::string Rfc2822(int64_t unix_seconds) {
  return FormatUtc(unix_seconds, "%a, %d %b %Y %H:%M:%S +0000");
}

std::string Rfc3339(int64_t unix_seconds) { return FormatUtc(unix_seconds, "%Y-%m-%dT%H:%M:%SZ"); }

const SamplePerson& PickPerson(std::mt19937_64& rng) {
  return kPeople[rng() % (sizeof(kPeople) / sizeof(kPeople[0]))];
}

}  // namespace sandbox::keyed
