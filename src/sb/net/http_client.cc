#include "sb/net/http_client.h"

#include <cstddef>
#include <memory>
#include <utility>

namespace sb::net {
namespace {

char ToLowerAscii(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

// A response that arrived whole, handed out as one chunk.
class BufferedStream final : public HttpResponseStream {
 public:
  explicit BufferedStream(HttpResponse response) : head_(std::move(response)) {
    body_ = std::move(head_.body);
    head_.body.clear();
  }
  const HttpResponse& head() const override { return head_; }
  Result<std::optional<std::string>> Next() override {
    if (body_.empty()) return std::optional<std::string>();
    return std::optional<std::string>(std::exchange(body_, std::string()));
  }

 private:
  HttpResponse head_;
  std::string body_;
};

}  // namespace

Result<std::unique_ptr<HttpResponseStream>> HttpClient::Open(const HttpRequest& request) {
  SB_ASSIGN_OR_RETURN(HttpResponse response, Send(request));
  return std::unique_ptr<HttpResponseStream>(std::make_unique<BufferedStream>(std::move(response)));
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (ToLowerAscii(a[i]) != ToLowerAscii(b[i])) return false;
  }
  return true;
}

std::optional<std::string_view> HttpResponse::Header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (EqualsIgnoreCase(key, name)) return std::string_view(value);
  }
  return std::nullopt;
}

}  // namespace sb::net
