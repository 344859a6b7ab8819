// RequestLog: the last N requests an emulated provider received, for tests that assert what
// Switchboard sent (GET /_sandbox/requests). Credentials are redacted before they are stored:
// Authorization values keep only their scheme (Bearer, Basic); Cookie, X-Goog-Channel-Token and
// Postmark's X-Postmark-Server-Token / X-Postmark-Account-Token become "[redacted]", and so do
// the query parameters that carry secrets (client_secret, code, code_verifier, refresh_token,
// token, access_token, client_assertion, validationToken, Trello's key); of form-encoded bodies
// only the field names are kept. Thread-safe.
#pragma once

#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <vector>

#include "sb/base/json.h"
#include "sb/http/request.h"

namespace sandbox {

struct LoggedRequest {
  int64_t seq = 0;
  int64_t time_ms = 0;
  std::string method;
  std::string path;
  sb::http::HeaderList query;
  sb::http::HeaderList headers;          // redacted
  std::vector<std::string> form_fields;  // names only, for form-encoded bodies
  int status = 0;
};

class RequestLog {
 public:
  explicit RequestLog(size_t capacity = 10'000) : capacity_(capacity) {}

  void Record(const sb::http::Request& request, int status, int64_t time_ms);
  // Entries with seq > since, oldest first, at most `limit`.
  sb::Json List(int64_t since, size_t limit, std::string_view path_prefix) const;
  void Clear();

 private:
  const size_t capacity_;
  mutable std::mutex mu_;
  std::deque<LoggedRequest> entries_;  // guarded by mu_
  int64_t next_seq_ = 1;               // guarded by mu_
};

}  // namespace sandbox
