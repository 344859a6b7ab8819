#include "sb/oauth/token_client.h"

#include <charconv>
#include <cmath>
#include <ctime>
#include <iomanip>
#include <sstream>

#include "sb/base/encoding.h"
#include "sb/base/json.h"
#include "sb/oauth/provider_json.h"

namespace sb::oauth {
namespace {

std::string JoinScopes(const std::vector<std::string>& scopes) {
  std::string out;
  for (const std::string& scope : scopes) {
    if (!out.empty()) out.push_back(' ');
    out += scope;
  }
  return out;
}

TokenError Transport(const Status& status) {
  TokenError error;
  error.kind =
      status.code() == StatusCode::kDeadlineExceeded || status.code() == StatusCode::kUnavailable
          ? TokenErrorKind::kTransient
          : TokenErrorKind::kPermanent;
  error.error = "transport";
  error.description = status.ToString();
  return error;
}

TokenError Protocol(int status, std::string description) {
  TokenError error;
  error.kind = TokenErrorKind::kPermanent;
  error.http_status = status;
  error.error = "invalid_response";
  error.description = std::move(description);
  return error;
}

// An error answer: the OAuth error body when there is one, classified.
TokenError ErrorFrom(const net::HttpResponse& response) {
  TokenError error;
  error.http_status = response.status;
  // An answer past the limits counts as one without an OAuth error body.
  const Json body = ProviderJsonOrNull(response.body);
  if (body.is_object()) {
    if (body.contains("error") && body["error"].is_string()) error.error = body["error"];
    if (body.contains("error_description") && body["error_description"].is_string()) {
      error.description = body["error_description"].get<std::string>().substr(0, 1024);
    }
    if (body.contains("error_codes") && body["error_codes"].is_array() &&
        !body["error_codes"].empty() && body["error_codes"][0].is_number_integer()) {
      error.provider_code = body["error_codes"][0].get<int64_t>();
    }
  }
  if (const auto retry = response.Header("Retry-After")) {
    error.retry_after = ParseRetryAfter(*retry, std::chrono::system_clock::now());
  }
  if (response.status == 429 || response.status >= 500 ||
      error.error == "temporarily_unavailable" || error.error == "server_error") {
    error.kind = TokenErrorKind::kTransient;
  } else if (error.error == "invalid_grant" || error.error == "interaction_required" ||
             error.error == "consent_required" || error.error == "login_required") {
    error.kind = TokenErrorKind::kInvalidGrant;
  } else if (error.error == "invalid_client" || error.error == "unauthorized_client") {
    error.kind = TokenErrorKind::kInvalidClient;
  } else {
    error.kind = TokenErrorKind::kPermanent;
    if (error.error.empty()) error.error = "http_" + std::to_string(response.status);
  }
  return error;
}

std::optional<int64_t> ExpiresIn(const Json& value) {
  if (value.is_number_integer()) return value.get<int64_t>();
  if (value.is_number_float()) return static_cast<int64_t>(value.get<double>());
  if (value.is_string()) {
    const std::string& text = value.get_ref<const std::string&>();
    int64_t out = 0;
    const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
    if (ec == std::errc() && ptr == text.data() + text.size()) return out;
  }
  return std::nullopt;
}

}  // namespace

std::string TokenError::ToString() const {
  std::string out = error.empty() ? "error" : error;
  if (http_status) out += " (HTTP " + std::to_string(http_status) + ")";
  if (provider_code) out += " code " + std::to_string(*provider_code);
  if (!description.empty()) out += ": " + description;
  return out;
}

std::optional<std::chrono::milliseconds> ParseRetryAfter(
    std::string_view value, std::chrono::system_clock::time_point now) {
  const std::string text(value);
  char* end = nullptr;
  const double seconds = std::strtod(text.c_str(), &end);
  if (end != text.c_str() && *end == '\0') {
    if (!std::isfinite(seconds) || seconds < 0) return std::nullopt;
    return std::chrono::milliseconds(static_cast<int64_t>(std::ceil(seconds * 1000)));
  }
  std::tm tm{};
  std::istringstream in(text);
  in >> std::get_time(&tm, "%a, %d %b %Y %H:%M:%S GMT");
  if (in.fail()) return std::nullopt;
  const auto at = std::chrono::system_clock::from_time_t(timegm(&tm));
  const auto delta = std::chrono::duration_cast<std::chrono::milliseconds>(at - now);
  return std::max(delta, std::chrono::milliseconds(0));
}

TokenResult<net::HttpResponse> TokenClient::Post(
    const TokenEndpoint& endpoint, const ClientCredentials& client, const std::string& url,
    std::vector<std::pair<std::string, std::string>> form) const {
  net::HttpRequest request;
  request.method = "POST";
  request.url = url;
  request.headers = {{"Content-Type", "application/x-www-form-urlencoded"},
                     {"Accept", "application/json"}};
  std::string basic;
  if (endpoint.auth == ClientAuth::kClientSecretBasic) {
    // RFC 6749 section 2.3.1: both parts form-encoded before base64.
    std::string pair =
        PercentEncode(client.client_id) + ":" + PercentEncode(client.client_secret.view());
    basic = "Basic " + Base64Encode(pair);
    vault::Wipe(pair);
    request.headers.emplace_back("Authorization", basic);
  } else {
    form.emplace_back("client_id", client.client_id);
    form.emplace_back("client_secret", std::string(client.client_secret.view()));
  }
  // The body holds secrets: it is wiped after the call, like every copy of them here.
  request.body = FormEncode(form);
  for (auto& [name, value] : form) vault::Wipe(value);
  auto response = http_.Send(request);
  vault::Wipe(request.body);
  vault::Wipe(basic);
  for (auto& [name, value] : request.headers) {
    if (name == "Authorization") vault::Wipe(value);
  }
  if (!response.ok()) return Transport(response.status());
  if (response->body.size() > max_response_bytes_) {
    return Protocol(response->status, "token endpoint answer larger than " +
                                          std::to_string(max_response_bytes_) + " bytes");
  }
  return std::move(*response);
}

TokenResult<TokenResponse> TokenClient::ParseTokenResponse(
    const net::HttpResponse& response) const {
  if (response.status < 200 || response.status > 299) return ErrorFrom(response);
  Result<Json> parsed = ParseJson(response.body, kProviderJsonLimits);
  if (!parsed.ok()) {
    return Protocol(response.status, "token response: " + parsed.status().message());
  }
  const Json body = std::move(*parsed);
  if (!body.is_object()) return Protocol(response.status, "token response is not a JSON object");
  TokenResponse out;
  const auto text = [&](const char* name) -> std::optional<std::string> {
    const auto it = body.find(name);
    if (it == body.end() || !it->is_string()) return std::nullopt;
    return it->get<std::string>();
  };
  const auto type = text("token_type");
  if (!type ||
      !(type->size() == 6 && (*type == "Bearer" || *type == "bearer" || *type == "BEARER"))) {
    return Protocol(response.status, "token_type must be Bearer");
  }
  out.token_type = "Bearer";
  auto access = text("access_token");
  if (!access || access->empty()) return Protocol(response.status, "access_token missing");
  out.access_token = vault::SecretBytes(*access);
  vault::Wipe(*access);
  if (auto refresh = text("refresh_token"); refresh && !refresh->empty()) {
    out.refresh_token = vault::SecretBytes(*refresh);
    vault::Wipe(*refresh);
  }
  out.id_token = text("id_token");
  if (body.contains("expires_in")) {
    out.expires_in_seconds = ExpiresIn(body["expires_in"]);
    if (!out.expires_in_seconds || *out.expires_in_seconds < 0) {
      return Protocol(response.status, "expires_in is not a non-negative number");
    }
  }
  if (const auto scope = text("scope")) {
    std::istringstream in(*scope);
    std::string item;
    while (in >> item) out.scopes.push_back(item);
  }
  return out;
}

TokenResult<TokenResponse> TokenClient::ExchangeCode(const TokenEndpoint& endpoint,
                                                     const ClientCredentials& client,
                                                     std::string_view code,
                                                     std::string_view redirect_uri,
                                                     std::string_view code_verifier) const {
  auto response = Post(endpoint, client, endpoint.token_url,
                       {{"grant_type", "authorization_code"},
                        {"code", std::string(code)},
                        {"redirect_uri", std::string(redirect_uri)},
                        {"code_verifier", std::string(code_verifier)}});
  if (auto* error = std::get_if<TokenError>(&response)) return *error;
  return ParseTokenResponse(std::get<net::HttpResponse>(response));
}

TokenResult<TokenResponse> TokenClient::Refresh(const TokenEndpoint& endpoint,
                                                const ClientCredentials& client,
                                                std::string_view refresh_token,
                                                const std::vector<std::string>& scopes) const {
  std::vector<std::pair<std::string, std::string>> form = {
      {"grant_type", "refresh_token"}, {"refresh_token", std::string(refresh_token)}};
  if (!scopes.empty()) form.emplace_back("scope", JoinScopes(scopes));
  auto response = Post(endpoint, client, endpoint.token_url, std::move(form));
  if (auto* error = std::get_if<TokenError>(&response)) return *error;
  return ParseTokenResponse(std::get<net::HttpResponse>(response));
}

TokenResult<bool> TokenClient::Revoke(const TokenEndpoint& endpoint,
                                      const ClientCredentials& client, std::string_view token,
                                      std::string_view token_type_hint) const {
  if (endpoint.revocation_url.empty()) return false;
  auto response =
      Post(endpoint, client, endpoint.revocation_url,
           {{"token", std::string(token)}, {"token_type_hint", std::string(token_type_hint)}});
  if (auto* error = std::get_if<TokenError>(&response)) return *error;
  const net::HttpResponse& answer = std::get<net::HttpResponse>(response);
  if (answer.status >= 200 && answer.status <= 299) return true;
  // RFC 7009: an unknown or already-invalid token is not an error for the caller.
  TokenError error = ErrorFrom(answer);
  if (error.error == "invalid_token") return false;
  return error;
}

bool IsRateLimit403(int status, std::string_view body) {
  return status == 403 && (body.find("\"rateLimitExceeded\"") != std::string_view::npos ||
                           body.find("\"userRateLimitExceeded\"") != std::string_view::npos);
}

}  // namespace sb::oauth
