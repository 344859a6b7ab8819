#include "sb/net/testing/browser.h"

#include <cctype>
#include <memory>
#include <mutex>
#include <optional>

#include <curl/curl.h>

#include "sb/base/check.h"
#include "sb/base/encoding.h"

namespace sb::net::testing {
namespace {

std::string Lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view Trim(std::string_view text) {
  const size_t begin = text.find_first_not_of(" \t\r\n");
  if (begin == std::string_view::npos) return {};
  return text.substr(begin, text.find_last_not_of(" \t\r\n") - begin + 1);
}

size_t OnHeaderLine(char* data, size_t size, size_t count, void* user) {
  auto& response = *static_cast<BrowserResponse*>(user);
  const std::string_view line(data, size * count);
  if (line.starts_with("HTTP/")) response.headers.clear();  // a 1xx response came first
  const size_t colon = line.find(':');
  if (colon != std::string_view::npos) {
    std::string& value = response.headers[Lower(Trim(line.substr(0, colon)))];
    if (!value.empty()) value += ", ";
    value += Trim(line.substr(colon + 1));
  }
  return size * count;
}

size_t OnBody(char* data, size_t size, size_t count, void* user) {
  static_cast<BrowserResponse*>(user)->body.append(data, size * count);
  return size * count;
}

bool IsRedirect(int status) {
  return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

// `location` resolved against `base` (RFC 3986 reference resolution, by libcurl's URL API).
Result<std::string> ResolveUrl(const std::string& base, const std::string& location) {
  std::unique_ptr<CURLU, decltype(&curl_url_cleanup)> url(curl_url(), &curl_url_cleanup);
  if (url == nullptr) return ResourceExhaustedError("out of memory");
  if (curl_url_set(url.get(), CURLUPART_URL, base.c_str(), 0) != CURLUE_OK ||
      curl_url_set(url.get(), CURLUPART_URL, location.c_str(), 0) != CURLUE_OK) {
    return InvalidArgumentError("cannot resolve Location '" + location + "' against " + base);
  }
  char* text = nullptr;
  if (curl_url_get(url.get(), CURLUPART_URL, &text, 0) != CURLUE_OK) {
    return InvalidArgumentError("cannot resolve Location '" + location + "' against " + base);
  }
  std::string resolved(text);
  curl_free(text);
  return resolved;
}

// Percent-decoding of one form-urlencoded name or value ('+' is a space).
Result<std::string> FormDecode(std::string_view text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '+') {
      out += ' ';
    } else if (text[i] != '%') {
      out += text[i];
    } else {
      std::optional<std::string> byte;
      if (i + 2 < text.size()) byte = HexDecode(text.substr(i + 1, 2));
      if (!byte) return InvalidArgumentError("malformed percent escape");
      out += *byte;
      i += 2;
    }
  }
  return out;
}

}  // namespace

std::string BrowserResponse::Header(std::string_view name) const {
  const auto it = headers.find(Lower(name));
  return it == headers.end() ? std::string() : it->second;
}

struct Browser::Hop {
  std::string method;  // GET or POST
  std::string url;
  std::string body;  // form-encoded, for POST
};

class Browser::Handle {
 public:
  explicit Handle(const BrowserOptions& options) {
    static std::once_flag once;
    std::call_once(once, [] { SB_CHECK(curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK); });
    curl_ = curl_easy_init();
    SB_CHECK(curl_ != nullptr);
    headers_ = curl_slist_append(nullptr, "Expect:");  // no 100-continue round trip
    SB_CHECK(headers_ != nullptr);
    curl_easy_setopt(curl_, CURLOPT_COOKIEFILE, "");  // the in-memory cookie engine
    if (!options.ca_file.empty()) curl_easy_setopt(curl_, CURLOPT_CAINFO, options.ca_file.c_str());
    curl_easy_setopt(curl_, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(curl_, CURLOPT_PROXY, "");  // ignore proxy environment variables
    curl_easy_setopt(curl_, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl_, CURLOPT_TIMEOUT_MS, static_cast<long>(options.timeout.count()));
    curl_easy_setopt(curl_, CURLOPT_USERAGENT, "switchboard-test-browser");
    curl_easy_setopt(curl_, CURLOPT_HTTPHEADER, headers_);
    curl_easy_setopt(curl_, CURLOPT_HEADERFUNCTION, &OnHeaderLine);
    curl_easy_setopt(curl_, CURLOPT_WRITEFUNCTION, &OnBody);
    curl_easy_setopt(curl_, CURLOPT_ERRORBUFFER, error_);
  }
  ~Handle() {
    curl_easy_cleanup(curl_);
    curl_slist_free_all(headers_);
  }

  CURL* curl() const { return curl_; }

  // One request, no redirect following.
  Result<BrowserResponse> Perform(const Hop& hop) {
    BrowserResponse response;
    response.url = hop.url;
    curl_easy_setopt(curl_, CURLOPT_URL, hop.url.c_str());
    if (hop.method == "POST") {  // curl's default Content-Type: x-www-form-urlencoded
      curl_easy_setopt(curl_, CURLOPT_POSTFIELDSIZE_LARGE,
                       static_cast<curl_off_t>(hop.body.size()));
      curl_easy_setopt(curl_, CURLOPT_COPYPOSTFIELDS, hop.body.c_str());
    } else {
      curl_easy_setopt(curl_, CURLOPT_HTTPGET, 1L);
    }
    curl_easy_setopt(curl_, CURLOPT_HEADERDATA, &response);
    curl_easy_setopt(curl_, CURLOPT_WRITEDATA, &response);
    error_[0] = '\0';
    const CURLcode code = curl_easy_perform(curl_);
    if (code != CURLE_OK) {
      const std::string message = hop.method + " " + hop.url + ": " +
                                  (error_[0] != '\0' ? error_ : curl_easy_strerror(code));
      if (code == CURLE_OPERATION_TIMEDOUT) return DeadlineExceededError(message);
      if (code == CURLE_URL_MALFORMAT || code == CURLE_UNSUPPORTED_PROTOCOL) {
        return InvalidArgumentError(message);
      }
      return UnavailableError(message);
    }
    long status = 0;
    curl_easy_getinfo(curl_, CURLINFO_RESPONSE_CODE, &status);
    response.status = static_cast<int>(status);
    return response;
  }

 private:
  CURL* curl_ = nullptr;
  curl_slist* headers_ = nullptr;
  char error_[CURL_ERROR_SIZE] = {};
};

Browser::Browser(BrowserOptions options)
    : options_(std::move(options)), handle_(std::make_unique<Handle>(options_)) {}

Browser::~Browser() = default;

Result<BrowserResponse> Browser::Get(std::string_view url) {
  return Navigate(Hop{.method = "GET", .url = std::string(url)});
}

Result<BrowserResponse> Browser::PostForm(std::string_view url, const FormFields& fields) {
  return Navigate(Hop{.method = "POST", .url = std::string(url), .body = FormEncode(fields)});
}

Result<BrowserResponse> Browser::Navigate(Hop hop) {
  for (int redirects = 0;; ++redirects) {
    history_.push_back(hop.url);
    SB_ASSIGN_OR_RETURN(BrowserResponse response, handle_->Perform(hop));
    const std::string location = response.Header("location");
    if (!IsRedirect(response.status) || location.empty()) return response;
    SB_ASSIGN_OR_RETURN(std::string next, ResolveUrl(hop.url, location));
    if (stop_at_ && stop_at_(next)) {
      response.url = std::move(next);
      return response;
    }
    if (redirects == options_.max_redirects) {
      return ResourceExhaustedError("more than " + std::to_string(options_.max_redirects) +
                                    " redirects, the last to " + next);
    }
    // As browsers do (Fetch standard, HTTP-redirect fetch step 12).
    const bool post_to_get =
        hop.method == "POST" && (response.status == 301 || response.status == 302);
    if (response.status == 303 || post_to_get) {
      hop.method = "GET";
      hop.body.clear();
    }
    hop.url = std::move(next);
  }
}

void Browser::StopAt(std::function<bool(std::string_view url)> predicate) {
  stop_at_ = std::move(predicate);
}

std::vector<std::pair<std::string, std::string>> Browser::Cookies() const {
  std::vector<std::pair<std::string, std::string>> cookies;
  curl_slist* list = nullptr;
  if (curl_easy_getinfo(handle_->curl(), CURLINFO_COOKIELIST, &list) != CURLE_OK) return cookies;
  // Netscape format: domain, subdomains, path, secure, expires, name, value (tab-separated).
  for (const curl_slist* item = list; item != nullptr; item = item->next) {
    std::vector<std::string_view> fields;
    std::string_view line(item->data);
    for (size_t tab; (tab = line.find('\t')) != std::string_view::npos;
         line.remove_prefix(tab + 1)) {
      fields.push_back(line.substr(0, tab));
    }
    fields.push_back(line);
    if (fields.size() == 7) cookies.emplace_back(fields[5], fields[6]);
  }
  curl_slist_free_all(list);
  return cookies;
}

void Browser::ClearCookies() { curl_easy_setopt(handle_->curl(), CURLOPT_COOKIELIST, "ALL"); }

void Browser::SetCookie(const std::string& line) {
  curl_easy_setopt(handle_->curl(), CURLOPT_COOKIELIST, line.c_str());
}

Result<FormFields> ParseQuery(std::string_view url) {
  url = url.substr(0, url.find('#'));
  const size_t question = url.find('?');
  if (question == std::string_view::npos) return FormFields{};
  std::string_view query = url.substr(question + 1);
  FormFields fields;
  while (!query.empty()) {
    const size_t amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (pair.empty()) continue;
    const size_t equals = pair.find('=');
    SB_ASSIGN_OR_RETURN(std::string name, FormDecode(pair.substr(0, equals)));
    std::string value;
    if (equals != std::string_view::npos) {
      SB_ASSIGN_OR_RETURN(value, FormDecode(pair.substr(equals + 1)));
    }
    fields.emplace_back(std::move(name), std::move(value));
  }
  return fields;
}

}  // namespace sb::net::testing
