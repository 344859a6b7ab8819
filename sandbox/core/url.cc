#include "sandbox/core/url.h"

#include "sb/base/encoding.h"

namespace sandbox {

std::string AppendQuery(std::string url,
                        const std::vector<std::pair<std::string, std::string>>& fields) {
  if (fields.empty()) return url;
  url.push_back(url.find('?') == std::string::npos ? '?' : '&');
  return url + sb::FormEncode(fields);
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

}  // namespace sandbox
