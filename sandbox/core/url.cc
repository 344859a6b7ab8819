#include "sandbox/core/url.h"

namespace sandbox {

std::string UrlEncode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size() * 3);
  for (const char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if ((u >= 'A' && u <= 'Z') || (u >= 'a' && u <= 'z') || (u >= '0' && u <= '9') || u == '-' ||
        u == '.' || u == '_' || u == '~') {
      out.push_back(c);
    } else {
      out.push_back('%');
      out.push_back(kHex[u >> 4]);
      out.push_back(kHex[u & 15]);
    }
  }
  return out;
}

std::string FormEncode(const std::vector<std::pair<std::string, std::string>>& fields) {
  std::string out;
  for (const auto& [name, value] : fields) {
    if (!out.empty()) out.push_back('&');
    out.append(UrlEncode(name)).append("=").append(UrlEncode(value));
  }
  return out;
}

std::string AppendQuery(std::string url,
                        const std::vector<std::pair<std::string, std::string>>& fields) {
  if (fields.empty()) return url;
  url.push_back(url.find('?') == std::string::npos ? '?' : '&');
  return url + FormEncode(fields);
}

std::optional<sb::http::HeaderList> ParseForm(std::string_view body) {
  sb::http::Request parsed;
  if (!sb::http::ParseTarget("/?" + std::string(body), parsed).ok()) return std::nullopt;
  return parsed.query;
}

std::optional<std::string> FieldOf(const sb::http::HeaderList& fields, std::string_view name) {
  for (const auto& [key, value] : fields) {
    if (key == name) return value;
  }
  return std::nullopt;
}

std::string HtmlEscape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out.push_back(c);
    }
  }
  return out;
}

}  // namespace sandbox
