#include "sandbox/core/request_log.h"

#include "sandbox/core/url.h"

namespace sandbox {
namespace {

std::string Redact(std::string_view name, std::string_view value) {
  if (sb::http::EqualsIgnoreCase(name, "Authorization")) {
    const size_t space = value.find(' ');
    return std::string(space == std::string_view::npos ? "" : value.substr(0, space)) +
           " [redacted]";
  }
  if (sb::http::EqualsIgnoreCase(name, "Cookie") ||
      sb::http::EqualsIgnoreCase(name, "X-Goog-Channel-Token") ||
      sb::http::EqualsIgnoreCase(name, "X-Postmark-Server-Token") ||
      sb::http::EqualsIgnoreCase(name, "X-Postmark-Account-Token")) {
    return "[redacted]";
  }
  return std::string(value);
}

bool IsSecretQueryName(std::string_view name) {
  return name == "client_secret" || name == "code" || name == "code_verifier" ||
         name == "refresh_token" || name == "token" || name == "access_token" ||
         name == "client_assertion" || name == "validationToken" || name == "key";
}

}  // namespace

void RequestLog::Record(const sb::http::Request& request, int status, int64_t time_ms) {
  LoggedRequest entry;
  entry.time_ms = time_ms;
  entry.method = request.method;
  entry.path = request.path;
  for (const auto& [name, value] : request.query) {
    entry.query.emplace_back(name, IsSecretQueryName(name) ? "[redacted]" : value);
  }
  for (const auto& [name, value] : request.headers)
    entry.headers.emplace_back(name, Redact(name, value));
  const auto type = request.Header("Content-Type");
  if (type && type->starts_with("application/x-www-form-urlencoded")) {
    if (const auto form = ParseForm(request.body)) {
      for (const auto& [name, value] : *form) entry.form_fields.push_back(name);
    }
  }
  entry.status = status;
  std::lock_guard<std::mutex> lock(mu_);
  entry.seq = next_seq_++;
  entries_.push_back(std::move(entry));
  while (entries_.size() > capacity_) entries_.pop_front();
}

sb::Json RequestLog::List(int64_t since, size_t limit, std::string_view path_prefix) const {
  sb::Json out = sb::Json::array();
  std::lock_guard<std::mutex> lock(mu_);
  for (const LoggedRequest& entry : entries_) {
    if (entry.seq <= since || !entry.path.starts_with(path_prefix)) continue;
    if (out.size() >= limit) break;
    sb::Json query = sb::Json::array();
    for (const auto& [name, value] : entry.query) query.push_back({name, value});
    sb::Json headers = sb::Json::object();
    for (const auto& [name, value] : entry.headers) headers[name] = value;
    out.push_back({{"seq", entry.seq},
                   {"time_ms", entry.time_ms},
                   {"method", entry.method},
                   {"path", entry.path},
                   {"query", std::move(query)},
                   {"headers", std::move(headers)},
                   {"form_fields", entry.form_fields},
                   {"status", entry.status}});
  }
  return out;
}

void RequestLog::Clear() {
  std::lock_guard<std::mutex> lock(mu_);
  entries_.clear();
}

}  // namespace sandbox
