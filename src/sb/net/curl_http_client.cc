#include "sb/net/curl_http_client.h"

#include <algorithm>
#include <climits>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <curl/curl.h>

namespace sb::net {
namespace {

// curl_global_init must run once before any other libcurl call. There is no matching
// curl_global_cleanup: other threads or libraries may use libcurl (and OpenSSL) until exit.
CURLcode GlobalInit() {
  static std::once_flag once;
  static CURLcode result = CURLE_OK;
  std::call_once(once, [] { result = curl_global_init(CURL_GLOBAL_DEFAULT); });
  return result;
}

bool IsToken(std::string_view text) {
  constexpr std::string_view kSpecials = "!#$%&'*+-.^_`|~";
  return !text.empty() && std::all_of(text.begin(), text.end(), [&](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           kSpecials.find(c) != std::string_view::npos;
  });
}

bool IsSendableHeaderValue(std::string_view value) {
  return value.find_first_of(std::string_view("\r\n\0", 3)) == std::string_view::npos;
}

bool SendsBody(const HttpRequest& request) {
  const std::string& m = request.method;
  return !request.body.empty() || m == "POST" || m == "PUT" || m == "PATCH";
}

bool HasHeader(const HttpRequest& request, std::string_view name) {
  return std::any_of(request.headers.begin(), request.headers.end(),
                     [&](const auto& header) { return EqualsIgnoreCase(header.first, name); });
}

// Never echoes header values or the body: they may hold secrets.
Status ValidateRequest(const HttpRequest& request) {
  if (!IsToken(request.method)) return InvalidArgumentError("HTTP method is not a token");
  if (request.url.empty()) return InvalidArgumentError("empty URL");
  if (request.timeout <= std::chrono::milliseconds::zero()) {
    return InvalidArgumentError("request timeout must be positive");
  }
  if (request.method == "HEAD" && !request.body.empty()) {
    return InvalidArgumentError("HEAD request with a body");
  }
  for (size_t i = 0; i < request.headers.size(); ++i) {
    const auto& [name, value] = request.headers[i];
    if (!IsToken(name) || !IsSendableHeaderValue(value)) {
      return InvalidArgumentError("request header #" + std::to_string(i) + " is malformed");
    }
    if (EqualsIgnoreCase(name, "Content-Length") || EqualsIgnoreCase(name, "Transfer-Encoding")) {
      return InvalidArgumentError("request header " + name + " is set by the client itself");
    }
  }
  return OkStatus();
}

// The URL as it may appear in messages: no userinfo, query string or fragment.
std::string RedactedUrl(const std::string& url) {
  CURLU* parsed = curl_url();
  if (parsed == nullptr) return "<url>";
  std::string redacted = "<malformed url>";
  if (curl_url_set(parsed, CURLUPART_URL, url.c_str(), 0) == CURLUE_OK) {
    for (CURLUPart part : {CURLUPART_USER, CURLUPART_PASSWORD, CURLUPART_OPTIONS, CURLUPART_QUERY,
                           CURLUPART_FRAGMENT}) {
      curl_url_set(parsed, part, nullptr, 0);
    }
    char* text = nullptr;
    if (curl_url_get(parsed, CURLUPART_URL, &text, 0) == CURLUE_OK) redacted = text;
    curl_free(text);
  }
  curl_url_cleanup(parsed);
  return redacted;
}

struct SlistDeleter {
  void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};
using Slist = std::unique_ptr<curl_slist, SlistDeleter>;

Result<Slist> BuildHeaderList(const HttpRequest& request) {
  std::vector<std::string> lines;
  lines.reserve(request.headers.size() + 2);
  for (const auto& [name, value] : request.headers) {
    // "Name:" would make curl drop the header; "Name;" sends it with an empty value.
    std::string& line = lines.emplace_back(name);
    line.append(value.empty() ? ";" : ": ").append(value);
  }
  lines.emplace_back("Expect:");  // no "Expect: 100-continue" round trip for larger bodies
  if (SendsBody(request) && !HasHeader(request, "Content-Type")) {
    lines.emplace_back("Content-Type:");  // not curl's application/x-www-form-urlencoded
  }
  Slist list;
  for (const std::string& line : lines) {
    curl_slist* head = curl_slist_append(list.get(), line.c_str());
    if (head == nullptr) return ResourceExhaustedError("out of memory building request headers");
    (void)list.release();  // `head` is the same list, now one longer
    list.reset(head);
  }
  return list;
}

// What the callbacks of one transfer write into.
struct Transfer {
  size_t max_bytes = 0;
  size_t received = 0;  // header and body bytes of the current response
  bool too_large = false;
  HttpResponse response;

  bool Admit(size_t n) {
    if (n > max_bytes - std::min(received, max_bytes)) {
      too_large = true;
      return false;
    }
    received += n;
    return true;
  }
};

std::string_view TrimWhitespace(std::string_view text) {
  const size_t begin = text.find_first_not_of(" \t\r\n");
  if (begin == std::string_view::npos) return {};
  const size_t end = text.find_last_not_of(" \t\r\n");
  return text.substr(begin, end - begin + 1);
}

// Called once per header line of every response (1xx, redirects, the final one) and for
// trailers. A status line starts a new response, so only the final response's headers remain.
size_t OnHeaderLine(char* data, size_t size, size_t count, void* user) {
  Transfer& transfer = *static_cast<Transfer*>(user);
  const size_t n = size * count;
  const std::string_view line(data, n);
  if (line.starts_with("HTTP/")) {
    transfer.response.headers.clear();
    transfer.response.body.clear();
    transfer.received = 0;
  }
  if (!transfer.Admit(n)) return 0;  // anything but n aborts the transfer
  if (line.starts_with("HTTP/")) return n;
  const std::string_view trimmed = TrimWhitespace(line);
  if (trimmed.empty()) return n;  // the blank line that ends a header block
  HeaderList& headers = transfer.response.headers;
  if ((line[0] == ' ' || line[0] == '\t') && !headers.empty()) {  // obsolete line folding
    headers.back().second.append(" ").append(trimmed);
    return n;
  }
  const size_t colon = trimmed.find(':');
  if (colon == std::string_view::npos) return n;
  headers.emplace_back(TrimWhitespace(trimmed.substr(0, colon)),
                       TrimWhitespace(trimmed.substr(colon + 1)));
  return n;
}

size_t OnBodyData(char* data, size_t size, size_t count, void* user) {
  Transfer& transfer = *static_cast<Transfer*>(user);
  const size_t n = size * count;
  if (!transfer.Admit(n)) return 0;  // aborts with CURLE_WRITE_ERROR
  transfer.response.body.append(data, n);
  return n;
}

long ToCurlMillis(std::chrono::milliseconds d) {  // NOLINT(google-runtime-int): curl's type
  return static_cast<long>(std::clamp<int64_t>(d.count(), 1, LONG_MAX));  // NOLINT
}

// Collects the first failure of a series of curl_easy_setopt calls.
class OptionSetter {
 public:
  explicit OptionSetter(CURL* handle) : handle_(handle) {}
  template <typename T>
  void operator()(CURLoption option, T value) {
    const CURLcode code = curl_easy_setopt(handle_, option, value);
    if (result_ == CURLE_OK) result_ = code;
  }
  CURLcode result() const { return result_; }

 private:
  CURL* handle_;
  CURLcode result_ = CURLE_OK;
};

void SetClientOptions(OptionSetter& set, const CurlHttpClientOptions& options) {
  set(CURLOPT_NOSIGNAL, 1L);
  set(CURLOPT_PROTOCOLS_STR, "http,https");
  set(CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  set(CURLOPT_PROXY, "");  // "" disables proxies, including the *_proxy environment variables
  set(CURLOPT_FOLLOWLOCATION, options.follow_redirects ? 1L : 0L);
  set(CURLOPT_MAXREDIRS, 10L);
  set(CURLOPT_CONNECTTIMEOUT_MS, ToCurlMillis(options.connect_timeout));
  set(CURLOPT_USERAGENT, options.user_agent.c_str());
  set(CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(options.max_response_bytes));
  if (!options.ca_file.empty()) set(CURLOPT_CAINFO, options.ca_file.c_str());
}

void SetRequestOptions(OptionSetter& set, const HttpRequest& request, curl_slist* headers) {
  set(CURLOPT_URL, request.url.c_str());
  set(CURLOPT_TIMEOUT_MS, ToCurlMillis(request.timeout));
  set(CURLOPT_HTTPHEADER, headers);
  if (request.method == "HEAD") {
    set(CURLOPT_NOBODY, 1L);
  } else if (SendsBody(request)) {
    // POSTFIELDS makes a POST with Content-Length (also 0); another method keeps that framing.
    set(CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
    set(CURLOPT_POSTFIELDS, request.body.data());
    if (request.method != "POST") set(CURLOPT_CUSTOMREQUEST, request.method.c_str());
  } else if (request.method != "GET") {
    set(CURLOPT_CUSTOMREQUEST, request.method.c_str());
  }
}

void SetCallbacks(OptionSetter& set, Transfer& transfer, char* error_buffer) {
  set(CURLOPT_ERRORBUFFER, error_buffer);
  set(CURLOPT_HEADERFUNCTION, &OnHeaderLine);
  set(CURLOPT_HEADERDATA, static_cast<void*>(&transfer));
  set(CURLOPT_WRITEFUNCTION, &OnBodyData);
  set(CURLOPT_WRITEDATA, static_cast<void*>(&transfer));
}

Status TransferError(CURLcode code, const Transfer& transfer, const char* error_buffer,
                     const HttpRequest& request, size_t max_bytes) {
  const std::string prefix = request.method + " " + RedactedUrl(request.url) + ": ";
  if (transfer.too_large || code == CURLE_FILESIZE_EXCEEDED) {
    return ResourceExhaustedError(prefix + "response larger than " + std::to_string(max_bytes) +
                                  " bytes");
  }
  const std::string detail = error_buffer[0] != '\0' ? error_buffer : curl_easy_strerror(code);
  switch (code) {
    case CURLE_OPERATION_TIMEDOUT:
      return DeadlineExceededError(prefix + detail);
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL:
      return InvalidArgumentError(prefix + detail);
    default:
      return UnavailableError(prefix + detail);
  }
}

}  // namespace

// Idle easy handles, most recently used last (its connections are the likeliest to be alive).
class CurlHttpClient::HandlePool {
 public:
  explicit HandlePool(size_t max_idle) : max_idle_(max_idle) {}
  ~HandlePool() {
    for (CURL* handle : idle_) curl_easy_cleanup(handle);
  }
  HandlePool(const HandlePool&) = delete;
  HandlePool& operator=(const HandlePool&) = delete;

  // Holds one handle for one transfer and gives it back on every path out of Send.
  class Lease {
   public:
    explicit Lease(HandlePool& pool) : pool_(pool), handle_(pool.Acquire()) {}
    ~Lease() {
      if (handle_ == nullptr) return;
      if (discard_) {
        curl_easy_cleanup(handle_);
      } else {
        pool_.Release(handle_);
      }
    }
    // Frees the handle instead of pooling it (its DNS cache holds pinned addresses that must
    // not leak into later transfers).
    void Discard() { discard_ = true; }
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    CURL* get() const { return handle_; }  // nullptr when libcurl could not allocate one

   private:
    HandlePool& pool_;
    CURL* handle_;
    bool discard_ = false;
  };

 private:
  // An idle handle or a new one; nullptr when libcurl cannot allocate one.
  CURL* Acquire() {
    {
      std::lock_guard lock(mu_);
      if (!idle_.empty()) {
        CURL* handle = idle_.back();
        idle_.pop_back();
        return handle;
      }
    }
    return curl_easy_init();
  }

  // Resets `handle` (dropping pointers into the finished transfer, keeping its caches and
  // connections) and keeps it for reuse, or frees it when enough are idle.
  void Release(CURL* handle) {
    curl_easy_reset(handle);
    {
      std::lock_guard lock(mu_);
      if (idle_.size() < max_idle_) {
        idle_.push_back(handle);
        return;
      }
    }
    curl_easy_cleanup(handle);
  }

  const size_t max_idle_;
  std::mutex mu_;
  std::vector<CURL*> idle_;  // guarded by mu_
};

CurlHttpClient::CurlHttpClient(CurlHttpClientOptions options)
    : options_(std::move(options)),
      pool_(std::make_unique<HandlePool>(options_.max_idle_handles)) {}

CurlHttpClient::~CurlHttpClient() = default;

// "host:port:addr,addr" for CURLOPT_RESOLVE, from the URL and the pinned addresses.
Result<Slist> BuildResolveList(const HttpRequest& request) {
  if (request.pinned_addresses.empty()) return Slist();
  CURLU* parsed = curl_url();
  if (parsed == nullptr) return InternalError("curl_url failed");
  std::string host;
  std::string port;
  if (curl_url_set(parsed, CURLUPART_URL, request.url.c_str(), 0) == CURLUE_OK) {
    char* text = nullptr;
    if (curl_url_get(parsed, CURLUPART_HOST, &text, 0) == CURLUE_OK) host = text;
    curl_free(text);
    text = nullptr;
    if (curl_url_get(parsed, CURLUPART_PORT, &text, CURLU_DEFAULT_PORT) == CURLUE_OK) port = text;
    curl_free(text);
  }
  curl_url_cleanup(parsed);
  if (host.empty() || port.empty()) return InvalidArgumentError("cannot pin a malformed URL");
  std::string line = host + ":" + port + ":";
  for (size_t i = 0; i < request.pinned_addresses.size(); ++i) {
    const std::string& address = request.pinned_addresses[i];
    const bool v6 = address.size() > 2 && address.front() == '[' && address.back() == ']' &&
                    address.find_first_not_of("0123456789abcdefABCDEF:.", 1) == address.size() - 1;
    const bool v4 =
        !address.empty() && address.find_first_not_of("0123456789.") == std::string::npos;
    if (!v4 && !v6) return InvalidArgumentError("a pinned address must be an IP literal");
    line += (i == 0 ? "" : ",") + address;
  }
  Slist list(curl_slist_append(nullptr, line.c_str()));
  if (!list) return InternalError("curl_slist_append failed");
  return list;
}

Result<HttpResponse> CurlHttpClient::Send(const HttpRequest& request) {
  SB_RETURN_IF_ERROR(ValidateRequest(request));
  if (GlobalInit() != CURLE_OK) return InternalError("libcurl initialization failed");
  SB_ASSIGN_OR_RETURN(Slist headers, BuildHeaderList(request));
  SB_ASSIGN_OR_RETURN(Slist resolve, BuildResolveList(request));
  HandlePool::Lease handle(*pool_);
  if (handle.get() == nullptr) return InternalError("curl_easy_init failed");

  Transfer transfer{.max_bytes = options_.max_response_bytes};
  char error_buffer[CURL_ERROR_SIZE] = {};
  OptionSetter set(handle.get());
  SetClientOptions(set, options_);
  SetRequestOptions(set, request, headers.get());
  SetCallbacks(set, transfer, error_buffer);
  if (resolve) {
    set(CURLOPT_RESOLVE, resolve.get());
    handle.Discard();
  }
  if (set.result() != CURLE_OK) {
    return InternalError(std::string("libcurl rejected an option: ") +
                         curl_easy_strerror(set.result()));
  }
  const CURLcode code = curl_easy_perform(handle.get());
  if (code != CURLE_OK) {
    return TransferError(code, transfer, error_buffer, request, options_.max_response_bytes);
  }
  long status = 0;  // NOLINT(google-runtime-int): curl's type
  curl_easy_getinfo(handle.get(), CURLINFO_RESPONSE_CODE, &status);
  transfer.response.status = static_cast<int>(status);
  return std::move(transfer.response);
}

}  // namespace sb::net
