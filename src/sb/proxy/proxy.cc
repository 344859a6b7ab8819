#include "sb/proxy/proxy.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <thread>
#include <utility>

#include "sb/base/json.h"
#include "sb/oauth/token_client.h"
#include "sb/vault/secure_buffer.h"

namespace sb::proxy {
namespace {

using std::chrono::milliseconds;

std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

constexpr std::array<std::string_view, 12> kRequestHeaders = {
    "accept",   "accept-language",  "content-type",           "content-language",
    "if-match", "if-none-match",    "if-modified-since",      "if-unmodified-since",
    "prefer",   "consistencylevel", "x-http-method-override", "cache-control"};

constexpr std::array<std::string_view, 11> kHopByHop = {"connection",
                                                        "keep-alive",
                                                        "proxy-authenticate",
                                                        "proxy-authorization",
                                                        "te",
                                                        "trailer",
                                                        "transfer-encoding",
                                                        "upgrade",
                                                        "content-length",
                                                        "host",
                                                        "proxy-connection"};

bool IsHopByHop(const std::string& lower) {
  return std::find(kHopByHop.begin(), kHopByHop.end(), lower) != kHopByHop.end();
}

// Decodes %2e / %2E so that an encoded ".." cannot slip past the check.
bool ClimbsOut(std::string_view path) {
  std::string decoded;
  for (size_t i = 0; i < path.size(); ++i) {
    if (path.substr(i, 3) == "%2e" || path.substr(i, 3) == "%2E") {
      decoded += '.';
      i += 2;
    } else {
      decoded += path[i];
    }
  }
  size_t start = 0;
  while (start <= decoded.size()) {
    size_t end = decoded.find('/', start);
    if (end == std::string::npos) end = decoded.size();
    const std::string_view segment(decoded.data() + start, end - start);
    if (segment == ".." || segment == ".") return true;
    start = end + 1;
  }
  return false;
}

// Google's rate-limit 403s are retryable; other 403s are not.
bool IsRateLimit403(const net::HttpResponse& response) {
  if (response.status != 403) return false;
  return response.body.find("\"rateLimitExceeded\"") != std::string::npos ||
         response.body.find("\"userRateLimitExceeded\"") != std::string::npos;
}

}  // namespace

bool IsForwardableRequestHeader(std::string_view name) {
  const std::string lower = Lower(name);
  if (std::find(kRequestHeaders.begin(), kRequestHeaders.end(), lower) != kRequestHeaders.end()) {
    return true;
  }
  // Provider-specific X- headers pass (e.g. X-Goog-*, X-AnchorMailbox); forwarding and client
  // identity headers and our own do not.
  return lower.starts_with("x-") && !lower.starts_with("x-forwarded-") && lower != "x-real-ip" &&
         lower != "x-request-id" && !lower.starts_with("x-sb-");
}

bool IsForwardableResponseHeader(std::string_view name) {
  const std::string lower = Lower(name);
  return !IsHopByHop(lower) && lower != "set-cookie" && lower != "set-cookie2";
}

ProxyService::ProxyService(const oauth::ProviderCatalog& catalog,
                           oauth::ConnectionService& connections, net::HttpClient& http,
                           metrics::MetricsRegistry& metrics, ProxyOptions options,
                           std::function<void(milliseconds)> sleep)
    : catalog_(catalog),
      connections_(connections),
      http_(http),
      counter_(metrics.AddCounter("sb_proxy_requests_total",
                                  "Proxied calls by tenant, provider and the provider's status "
                                  "(0: no answer).",
                                  {"tenant", "provider", "status"})),
      options_(options),
      sleep_(sleep ? std::move(sleep) : [](milliseconds d) { std::this_thread::sleep_for(d); }) {}

Result<ProxyResponse> ProxyService::Forward(const TenantId& tenant, const ConnectionId& connection,
                                            const ProxyRequest& request,
                                            const audit::Context& ctx) {
  if (request.path.empty() || ClimbsOut(request.path) ||
      request.path.find_first_of("#\\ ") != std::string::npos) {
    return InvalidArgumentError("the proxied path must be a relative path below the API base");
  }
  // The token first: one read of the connection gives its provider and its usability.
  auto first_token = connections_.Token(tenant, connection, oauth::RefreshMode::kIfNeeded, ctx);
  if (!first_token.ok()) return first_token.status();
  const std::string provider = first_token->provider;
  const oauth::ProviderEntry* entry = catalog_.Find(provider);
  if (entry == nullptr || entry->api_base_url.empty()) {
    return FailedPreconditionError("the provider " + provider +
                                   " has no fixed API base URL to proxy to");
  }
  // Calls into a service the user did not grant are refused before they reach the provider.
  SB_RETURN_IF_ERROR(oauth::CheckScopesForCall(*entry, first_token->granted_scopes,
                                               request.method, request.path));
  SB_ASSIGN_OR_RETURN(std::string base, oauth::ExpandUrl(*entry, entry->api_base_url));

  net::HttpRequest out;
  out.method = request.method;
  out.url = base + "/" + request.path + (request.query.empty() ? "" : "?" + request.query);
  out.body = request.body;
  out.timeout = options_.timeout;
  for (const auto& [name, value] : request.headers) {
    if (IsForwardableRequestHeader(name)) out.headers.emplace_back(name, value);
  }
  const size_t auth_index = out.headers.size();
  out.headers.emplace_back("Authorization", "");

  ProxyResponse result;
  bool refreshed = false;
  int retries = 0;
  oauth::RefreshMode mode = oauth::RefreshMode::kIfNeeded;
  std::optional<Result<oauth::AccessToken>> pending(std::move(first_token));
  while (true) {
    Result<oauth::AccessToken> token =
        pending ? std::move(*pending) : connections_.Token(tenant, connection, mode, ctx);
    pending.reset();
    if (!token.ok()) {
      counter_.WithLabels({tenant.value(), provider, "0"}).Increment();
      return token.status();
    }
    out.headers[auth_index].second = "Bearer " + std::string(token->token.view());
    auto response = http_.Send(out);
    vault::Wipe(out.headers[auth_index].second);
    ++result.attempts;
    if (!response.ok()) {
      counter_.WithLabels({tenant.value(), provider, "0"}).Increment();
      if (response.status().code() == StatusCode::kResourceExhausted) return response.status();
      return UnavailableError("the provider could not be reached: " + response.status().message());
    }
    counter_.WithLabels({tenant.value(), provider, std::to_string(response->status)}).Increment();
    if (response->body.size() > options_.max_response_bytes) {
      return ResourceExhaustedError("the provider's answer exceeds the proxy's size limit");
    }
    // 401: the token died early (revoked, rotated keys): refresh once and retry once.
    if (response->status == 401 && !refreshed) {
      refreshed = true;
      mode = oauth::RefreshMode::kForce;
      continue;
    }
    const bool throttled =
        response->status == 429 || response->status == 503 || IsRateLimit403(*response);
    if (throttled && retries < options_.max_retries) {
      milliseconds wait(1000);
      if (auto header = response->Header("Retry-After")) {
        if (auto parsed = oauth::ParseRetryAfter(*header, std::chrono::system_clock::now())) {
          wait = *parsed;
        }
      }
      if (wait <= options_.max_retry_wait) {
        ++retries;
        mode = oauth::RefreshMode::kIfNeeded;
        sleep_(wait);
        continue;
      }
    }
    result.status = response->status;
    result.rate_limited = response->status == 429 || IsRateLimit403(*response);
    for (auto& [name, value] : response->headers) {
      if (IsForwardableResponseHeader(name)) result.headers.emplace_back(name, std::move(value));
    }
    result.body = std::move(response->body);
    return result;
  }
}

}  // namespace sb::proxy
