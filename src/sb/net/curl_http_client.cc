#include "sb/net/curl_http_client.h"

#include <algorithm>
#include <atomic>
#include <climits>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <curl/curl.h>

#include "sb/net/internal/curl_transfer.h"

namespace sb::net {
namespace {

using internal::OnBodyData;
using internal::OnHeaderLine;
using internal::OnReadBody;
using internal::Transfer;

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
  return !request.body.empty() || request.body_source != nullptr || m == "POST" || m == "PUT" ||
         m == "PATCH";
}

// Pulled bodies without a known length go out with chunked transfer encoding.
bool SendsChunked(const HttpRequest& request) {
  return request.body_source != nullptr && !request.body_length.has_value();
}

bool IsCancelled(const CancelFlag& cancel) {
  return cancel != nullptr && cancel->load(std::memory_order_relaxed);
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
  if (request.method == "HEAD" && (!request.body.empty() || request.body_source != nullptr)) {
    return InvalidArgumentError("HEAD request with a body");
  }
  if (request.body_source != nullptr && !request.body.empty()) {
    return InvalidArgumentError("request with both a body and a body source");
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
  if (SendsChunked(request)) lines.emplace_back("Transfer-Encoding: chunked");
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
  set(CURLOPT_BUFFERSIZE, 64L * 1024);  // receive buffer: fewer reads and callbacks than 16 KiB
  if (!options.ca_file.empty()) set(CURLOPT_CAINFO, options.ca_file.c_str());
}

// `body`: the request body to send from memory (it must outlive the transfer); ignored when
// the request has a body source.
void SetRequestOptions(OptionSetter& set, const HttpRequest& request, const std::string& body,
                       curl_slist* headers) {
  set(CURLOPT_URL, request.url.c_str());
  set(CURLOPT_TIMEOUT_MS, ToCurlMillis(request.timeout));
  set(CURLOPT_HTTPHEADER, headers);
  if (request.method == "HEAD") {
    set(CURLOPT_NOBODY, 1L);
  } else if (SendsBody(request)) {
    // A POST with Content-Length (also 0), or chunked for a source of unknown length; another
    // method keeps that framing.
    if (request.body_source != nullptr) {
      set(CURLOPT_POST, 1L);
      set(CURLOPT_POSTFIELDSIZE_LARGE,
          request.body_length ? static_cast<curl_off_t>(*request.body_length) : curl_off_t{-1});
    } else {
      set(CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
      set(CURLOPT_POSTFIELDS, body.data());
    }
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
  if (transfer.source != nullptr) {
    set(CURLOPT_READFUNCTION, &OnReadBody);
    set(CURLOPT_READDATA, static_cast<void*>(&transfer));
  }
}

// `prefix` is "METHOD redacted-url: ".
Status TransferError(CURLcode code, const Transfer& transfer, const char* error_buffer,
                     const std::string& prefix) {
  if (transfer.Cancelled()) return Status(StatusCode::kCancelled, prefix + "cancelled");
  if (!transfer.source_error.ok()) {
    return Status(transfer.source_error.code(),
                  prefix + "request body: " + transfer.source_error.message());
  }
  if (transfer.too_large || code == CURLE_FILESIZE_EXCEEDED) {
    return ResourceExhaustedError(prefix + "response larger than " +
                                  std::to_string(transfer.max_bytes) + " bytes");
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

// How long one wait for network activity may last: the longest delay before a set cancel flag
// is seen.
constexpr int kPollSliceMillis = 50;

}  // namespace

// Idle (multi, easy) handle pairs, most recently used last (its connections are the likeliest
// to be alive). The easy handle runs on its own multi handle, whose connection cache it uses.
class CurlHttpClient::HandlePool {
 public:
  struct Handles {
    CURLM* multi = nullptr;
    CURL* easy = nullptr;
  };

  explicit HandlePool(size_t max_idle) : max_idle_(max_idle) {}
  ~HandlePool() {
    for (Handles handles : idle_) Free(handles);
  }
  HandlePool(const HandlePool&) = delete;
  HandlePool& operator=(const HandlePool&) = delete;

  // An idle pair or a new one; {nullptr, nullptr} when libcurl cannot allocate one.
  Handles Acquire() {
    {
      std::lock_guard lock(mu_);
      if (!idle_.empty()) {
        Handles handles = idle_.back();
        idle_.pop_back();
        return handles;
      }
    }
    Handles handles{curl_multi_init(), curl_easy_init()};
    if (handles.multi == nullptr || handles.easy == nullptr) {
      Free(handles);
      return {};
    }
    return handles;
  }

  // Resets the easy handle (dropping pointers into the finished transfer, keeping the caches
  // and connections) and keeps the pair for reuse, or frees it when enough are idle.
  // REQUIRES: the easy handle is not on the multi handle.
  void Release(Handles handles) {
    curl_easy_reset(handles.easy);
    {
      std::lock_guard lock(mu_);
      if (idle_.size() < max_idle_) {
        idle_.push_back(handles);
        return;
      }
    }
    Free(handles);
  }

  // Frees a pair, closing its connections. REQUIRES: the easy handle is not on the multi.
  static void Free(Handles handles) {
    if (handles.easy != nullptr) curl_easy_cleanup(handles.easy);
    if (handles.multi != nullptr) curl_multi_cleanup(handles.multi);
  }

 private:
  const size_t max_idle_;
  std::mutex mu_;
  std::vector<Handles> idle_;  // guarded by mu_
};

// One transfer on a pair from the pool: Start drives it until the final head arrived, Next
// until body data is buffered or the transfer ended.
class CurlHttpClient::Stream final : public HttpResponseStream {
 public:
  // With `borrow_body`, request.body is sent in place and must outlive the stream (Send);
  // otherwise the stream keeps a copy (Open).
  Stream(HandlePool& pool, const CurlHttpClientOptions& options, const HttpRequest& request,
         bool borrow_body)
      : pool_(pool),
        prefix_(request.method + " " + RedactedUrl(request.url) + ": "),
        cancel_(request.cancel),
        source_(request.body_source) {
    if (!borrow_body) owned_body_ = request.body;
    body_ = borrow_body ? &request.body : &owned_body_;
    transfer_.max_bytes = options.max_response_bytes;
    transfer_.max_buffered = std::max<size_t>(options.max_buffered_bytes, 1);
    transfer_.follow_redirects = options.follow_redirects;
    transfer_.source = source_.get();
    transfer_.source_length = request.body_length;
    transfer_.cancel = cancel_.get();
  }

  ~Stream() override {
    if (handles_.easy == nullptr) return;
    if (added_) curl_multi_remove_handle(handles_.multi, handles_.easy);
    // Only a transfer that completed cleanly leaves a connection fit for reuse; removing an
    // unfinished one halts it, and its pair (with the connection) is freed.
    if (done_ && final_.ok() && !discard_) {
      pool_.Release(handles_);
    } else {
      HandlePool::Free(handles_);
    }
  }
  Stream(const Stream&) = delete;
  Stream& operator=(const Stream&) = delete;

  Status Start(const HttpRequest& request, const CurlHttpClientOptions& options) {
    if (GlobalInit() != CURLE_OK) return InternalError("libcurl initialization failed");
    SB_ASSIGN_OR_RETURN(headers_, BuildHeaderList(request));
    SB_ASSIGN_OR_RETURN(resolve_, BuildResolveList(request));
    handles_ = pool_.Acquire();
    if (handles_.easy == nullptr) return InternalError("curl_easy_init failed");
    OptionSetter set(handles_.easy);
    SetClientOptions(set, options);
    SetRequestOptions(set, request, *body_, headers_.get());
    SetCallbacks(set, transfer_, error_buffer_);
    if (resolve_) {
      set(CURLOPT_RESOLVE, resolve_.get());
      discard_ = true;  // its DNS cache holds pinned addresses that must not reach other calls
    }
    if (set.result() != CURLE_OK) {
      return InternalError(std::string("libcurl rejected an option: ") +
                           curl_easy_strerror(set.result()));
    }
    if (curl_multi_add_handle(handles_.multi, handles_.easy) != CURLM_OK) {
      return InternalError("curl_multi_add_handle failed");
    }
    added_ = true;
    SB_RETURN_IF_ERROR(Drive([this] { return transfer_.head_done; }));
    if (!transfer_.head_done) {  // ended without a final head, e.g. an HTTP/1.0 answer
      long status = 0;           // NOLINT(google-runtime-int): curl's type
      curl_easy_getinfo(handles_.easy, CURLINFO_RESPONSE_CODE, &status);
      transfer_.head.status = static_cast<int>(status);
    }
    return OkStatus();
  }

  const HttpResponse& head() const override { return transfer_.head; }

  Result<std::optional<std::string>> Next() override {
    if (transfer_.buffer.empty()) {
      if (transfer_.paused && !done_) {
        transfer_.paused = false;
        // Offers the held data again, from inside this call, to OnBodyData, which may refuse
        // it (over the limit, cancelled): the transfer's own error then says why.
        const CURLcode resumed = curl_easy_pause(handles_.easy, CURLPAUSE_CONT);
        if (resumed != CURLE_OK) {
          return Fail(TransferError(resumed, transfer_, error_buffer_, prefix_));
        }
      }
      SB_RETURN_IF_ERROR(Drive([this] { return !transfer_.buffer.empty(); }));
    }
    if (transfer_.buffer.empty()) return std::optional<std::string>();  // done, cleanly
    std::string chunk;
    chunk.swap(transfer_.buffer);
    return std::optional<std::string>(std::move(chunk));
  }

 private:
  // Runs the transfer until `ready()`, the end of the transfer (OK or its error), or the cancel
  // flag.
  template <typename Ready>
  Status Drive(Ready ready) {
    while (true) {
      if (done_) return final_;
      if (transfer_.Cancelled()) return Fail(Status(StatusCode::kCancelled, prefix_ + "cancelled"));
      if (ready()) return OkStatus();
      int running = 0;
      if (curl_multi_perform(handles_.multi, &running) != CURLM_OK) {
        return Fail(InternalError(prefix_ + "curl_multi_perform failed"));
      }
      int left = 0;
      while (CURLMsg* message = curl_multi_info_read(handles_.multi, &left)) {
        if (message->msg != CURLMSG_DONE) continue;
        done_ = true;
        const CURLcode code = message->data.result;
        if (code != CURLE_OK) final_ = TransferError(code, transfer_, error_buffer_, prefix_);
      }
      if (done_ || ready()) continue;
      if (curl_multi_poll(handles_.multi, nullptr, 0, kPollSliceMillis, nullptr) != CURLM_OK) {
        return Fail(InternalError(prefix_ + "curl_multi_poll failed"));
      }
    }
  }

  // Ends the stream with `status` (the transfer is aborted when the stream is destroyed).
  Status Fail(Status status) {
    done_ = true;
    final_ = std::move(status);
    transfer_.buffer.clear();
    return final_;
  }

  HandlePool& pool_;
  const std::string prefix_;  // "METHOD url: " for messages, without query or userinfo
  const CancelFlag cancel_;
  const std::shared_ptr<RequestBodySource> source_;
  std::string owned_body_;
  const std::string* body_ = nullptr;  // what POSTFIELDS points into
  Slist headers_;
  Slist resolve_;
  Transfer transfer_;
  char error_buffer_[CURL_ERROR_SIZE] = {};
  HandlePool::Handles handles_;
  bool added_ = false;    // the easy handle is on the multi handle
  bool discard_ = false;  // free the pair afterwards even after a clean transfer
  bool done_ = false;     // the transfer ended; final_ says how
  Status final_;
};

CurlHttpClient::CurlHttpClient(CurlHttpClientOptions options)
    : options_(std::move(options)),
      pool_(std::make_unique<HandlePool>(options_.max_idle_handles)) {}

CurlHttpClient::~CurlHttpClient() = default;

Result<HttpResponse> CurlHttpClient::Send(const HttpRequest& request) {
  SB_RETURN_IF_ERROR(ValidateRequest(request));
  if (IsCancelled(request.cancel)) return Status(StatusCode::kCancelled, "call cancelled");
  Stream stream(*pool_, options_, request, /*borrow_body=*/true);
  SB_RETURN_IF_ERROR(stream.Start(request, options_));
  std::string body;
  while (true) {
    SB_ASSIGN_OR_RETURN(std::optional<std::string> chunk, stream.Next());
    if (!chunk) break;
    if (body.empty()) {
      body = std::move(*chunk);
    } else {
      body += *chunk;
    }
  }
  HttpResponse response = stream.head();  // with trailers, which arrive after the body
  response.body = std::move(body);
  return response;
}

Result<std::unique_ptr<HttpResponseStream>> CurlHttpClient::Open(const HttpRequest& request) {
  SB_RETURN_IF_ERROR(ValidateRequest(request));
  if (IsCancelled(request.cancel)) return Status(StatusCode::kCancelled, "call cancelled");
  auto stream = std::make_unique<Stream>(*pool_, options_, request, /*borrow_body=*/false);
  SB_RETURN_IF_ERROR(stream->Start(request, options_));
  return std::unique_ptr<HttpResponseStream>(std::move(stream));
}

}  // namespace sb::net
