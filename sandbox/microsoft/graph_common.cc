#include "sandbox/microsoft/graph_common.h"

#include <cstdio>
#include <random>

#include "sb/caltime/caltime.h"

namespace sandbox::microsoft {
namespace {

using sb::http::Request;
using sb::http::Response;

std::string ContextOr(const Request& request, std::string_view key, std::string fallback) {
  const auto it = request.context.find(key);
  return it == request.context.end() ? fallback : it->second;
}

int64_t SystemNowMillis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// "2024-04-01 02:02:12Z", the identity platform's timestamp format.
std::string AadTimestamp(int64_t now_ms) {
  std::string text = FormatInnerDate(now_ms);
  text[10] = ' ';
  return text + "Z";
}

}  // namespace

std::string NewGuid() {
  // GUIDs here are identifiers, not secrets, so a fast per-thread generator is enough.
  thread_local std::mt19937_64 engine{std::random_device{}()};
  const uint64_t a = engine();
  const uint64_t b = engine();
  char text[37];
  std::snprintf(text, sizeof(text), "%08x-%04x-4%03x-%04x-%012llx", static_cast<unsigned>(a >> 32),
                static_cast<unsigned>((a >> 16) & 0xffff), static_cast<unsigned>(a & 0xfff),
                static_cast<unsigned>(((b >> 48) & 0x3fff) | 0x8000),
                static_cast<unsigned long long>(b & 0xffffffffffffULL));
  return text;
}

std::string FormatInnerDate(int64_t utc_ms) {
  const sb::caltime::LocalDateTime t = sb::caltime::UtcMillisToCivil(utc_ms);
  char text[32];
  std::snprintf(text, sizeof(text), "%04d-%02d-%02dT%02d:%02d:%02d", t.year, t.month, t.day, t.hour,
                t.minute, t.second);
  return text;
}

std::string FormatOffsetDateTime(int64_t utc_ms) {
  char fraction[16];
  std::snprintf(fraction, sizeof(fraction), ".%03d0000Z",
                static_cast<int>(((utc_ms % 1000) + 1000) % 1000));
  return FormatInnerDate(utc_ms) + fraction;
}

Response GraphJson(int status, const sb::Json& body) {
  Response response = Response::Json(status, body);
  response.SetHeader("Content-Type", kGraphJsonType);
  return response;
}

Response GraphCollection(const sb::Json& meta, const std::vector<std::string>& items) {
  std::string body = meta.dump(-1, ' ', false, sb::Json::error_handler_t::replace);
  body.pop_back();  // the closing brace; "value" follows
  size_t total = body.size() + 16;
  for (const std::string& item : items) total += item.size() + 1;
  body.reserve(total);
  body += meta.empty() ? "\"value\":[" : ",\"value\":[";
  for (size_t i = 0; i < items.size(); ++i) {
    if (i > 0) body.push_back(',');
    body += items[i];
  }
  body += "]}";
  return Response::Text(200, std::move(body), kGraphJsonType);
}

Response GraphError(const Request& request, int status, std::string_view code,
                    std::string_view message) {
  const std::string request_id = ContextOr(request, kRequestIdKey, NewGuid());
  sb::Json inner = {
      {"date", ContextOr(request, kDateKey, FormatInnerDate(SystemNowMillis()))},
      {"request-id", request_id},
      {"client-request-id", std::string(request.Header("client-request-id").value_or(request_id))}};
  Response response =
      GraphJson(status, {{"error", {{"code", code}, {"message", message}, {"innerError", inner}}}});
  response.SetHeader("request-id", request_id);
  return response;
}

void AddGraphHeaders(const Request& request, Response& response) {
  std::string request_id(response.Header("request-id").value_or(""));
  if (request_id.empty()) request_id = ContextOr(request, kRequestIdKey, NewGuid());
  response.SetHeader("request-id", request_id);
  response.SetHeader("client-request-id", request.Header("client-request-id").value_or(request_id));
}

Response FaultResponse(const FaultRule& rule, const Request& request, int64_t now_ms) {
  if (request.path.find("/oauth2/") != std::string::npos) {
    if (rule.status == 429 || rule.kind == FaultKind::kRateLimit) {
      return AadError(429, "temporarily_unavailable", 50196,
                      "The server temporarily throttled the request.", now_ms);
    }
    return AadError(rule.status, "temporarily_unavailable", 90033,
                    "A transient error has occurred. Please try again.", now_ms);
  }
  Request tagged = request;
  tagged.context[std::string(kRequestIdKey)] = NewGuid();
  tagged.context[std::string(kDateKey)] = FormatInnerDate(now_ms);
  Response response;
  if (rule.kind == FaultKind::kUnauthorized) {
    response = GraphError(tagged, 401, "InvalidAuthenticationToken",
                          "Lifetime validation failed, the token is expired.");
  } else if (rule.kind == FaultKind::kRateLimit || rule.status == 429) {
    const int status = rule.kind == FaultKind::kRateLimit && rule.status != 429 ? 503 : 429;
    const std::string code = rule.reason.empty() ? "TooManyRequests" : rule.reason;
    const sb::Json inner = {{"code", std::to_string(status)},
                            {"date", tagged.context[std::string(kDateKey)]},
                            {"message", "Please retry after"},
                            {"request-id", tagged.context[std::string(kRequestIdKey)]},
                            {"status", std::to_string(status)}};
    response = GraphJson(
        status,
        {{"error",
          {{"code", code}, {"message", "Please retry again later."}, {"innerError", inner}}}});
  } else {
    const std::string code = !rule.reason.empty() ? rule.reason
                             : rule.status == 503 ? "serviceNotAvailable"
                             : rule.status == 403 ? "ErrorAccessDenied"
                             : rule.status == 404 ? "ErrorItemNotFound"
                             : rule.status >= 500 ? "generalException"
                                                  : "invalidRequest";
    response = GraphError(tagged, rule.status, code, "Injected fault.");
  }
  AddGraphHeaders(tagged, response);
  return response;
}

Response AadError(int status, std::string_view error, int code, std::string_view description,
                  int64_t now_ms, std::string_view suberror) {
  const std::string trace_id = NewGuid();
  const std::string correlation_id = NewGuid();
  const std::string timestamp = AadTimestamp(now_ms);
  sb::Json body = {
      {"error", error},
      {"error_description", "AADSTS" + std::to_string(code) + ": " + std::string(description) +
                                " Trace ID: " + trace_id + " Correlation ID: " + correlation_id +
                                " Timestamp: " + timestamp},
      {"error_codes", {code}},
      {"timestamp", timestamp},
      {"trace_id", trace_id},
      {"correlation_id", correlation_id},
      {"error_uri", "https://login.microsoftonline.com/error?code=" + std::to_string(code)}};
  if (!suberror.empty()) body["suberror"] = suberror;
  Response response = Response::Json(status, body);
  response.SetHeader("Content-Type", "application/json; charset=utf-8");
  response.SetHeader("Cache-Control", "no-store, no-cache");
  return response;
}

}  // namespace sandbox::microsoft
