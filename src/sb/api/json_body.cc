#include "sb/api/json_body.h"

#include <charconv>

#include "sb/base/encoding.h"

namespace sb::api {
namespace {

bool IsJsonMediaType(std::string_view content_type) {
  std::string_view type = content_type.substr(0, content_type.find(';'));
  while (!type.empty() && type.back() == ' ') type.remove_suffix(1);
  return http::EqualsIgnoreCase(type, "application/json");
}

std::string TypeName(const Json& v) { return v.type_name(); }

}  // namespace

Result<Json> ParseJsonObject(const http::Request& request,
                             std::initializer_list<std::string_view> allowed) {
  SB_ASSIGN_OR_RETURN(Json body, ParseJsonObject(request));
  for (const auto& [key, value] : body.items()) {
    bool known = false;
    for (std::string_view a : allowed) known = known || key == a;
    if (!known) {
      std::string shown = key.size() > 64 ? key.substr(0, 64) + "..." : key;
      return InvalidArgumentError("unknown field '" + shown + "'");
    }
  }
  return body;
}

Result<Json> ParseJsonObject(const http::Request& request) {
  auto content_type = request.Header("Content-Type");
  if (!content_type || !IsJsonMediaType(*content_type)) {
    return InvalidArgumentError("request body must be application/json");
  }
  if (request.body.empty()) return InvalidArgumentError("request body is empty");
  if (!IsValidUtf8(request.body)) return InvalidArgumentError("request body is not valid UTF-8");
  Result<Json> parsed = ParseJson(request.body, kApiJsonLimits);
  if (!parsed.ok()) return InvalidArgumentError("request body: " + parsed.status().message());
  Json body = std::move(*parsed);
  if (!body.is_object()) {
    return InvalidArgumentError("request body must be a JSON object, got " + TypeName(body));
  }
  return body;
}

Result<std::string> RequiredString(const Json& object, std::string_view field, size_t max_len) {
  auto it = object.find(field);
  if (it == object.end())
    return InvalidArgumentError("field '" + std::string(field) + "' is required");
  if (!it->is_string()) {
    return InvalidArgumentError("field '" + std::string(field) + "' must be a string, got " +
                                TypeName(*it));
  }
  std::string value = it->get<std::string>();
  if (value.empty() || value.size() > max_len) {
    return InvalidArgumentError("field '" + std::string(field) + "' must be 1 to " +
                                std::to_string(max_len) + " bytes long");
  }
  return value;
}

Result<std::optional<std::string>> OptionalString(const Json& object, std::string_view field,
                                                  size_t max_len) {
  if (object.find(field) == object.end()) return std::optional<std::string>();
  SB_ASSIGN_OR_RETURN(std::string value, RequiredString(object, field, max_len));
  return std::optional<std::string>(std::move(value));
}

Result<std::vector<std::string>> RequiredStringArray(const Json& object, std::string_view field) {
  auto it = object.find(field);
  const std::string name(field);
  if (it == object.end()) return InvalidArgumentError("field '" + name + "' is required");
  if (!it->is_array()) {
    return InvalidArgumentError("field '" + name + "' must be an array, got " + TypeName(*it));
  }
  if (it->empty()) return InvalidArgumentError("field '" + name + "' must not be empty");
  if (it->size() > 32) return InvalidArgumentError("field '" + name + "' has too many items");
  std::vector<std::string> out;
  for (const Json& item : *it) {
    if (!item.is_string()) {
      return InvalidArgumentError("field '" + name + "' must contain only strings");
    }
    out.push_back(item.get<std::string>());
  }
  return out;
}

Result<ConnectionId> ConnectionParam(const http::Request& request) {
  const auto id = request.PathParam("id");
  if (!id || !IsCanonicalUuid(*id)) return NotFoundError("connection not found");
  return ConnectionId(std::string(*id));
}

Result<std::optional<ConnectionId>> ConnectionFilterParam(const http::Request& request) {
  const auto id = request.Query("connection_id");
  if (!id) return std::optional<ConnectionId>();
  if (!IsCanonicalUuid(*id)) return InvalidArgumentError("connection_id: not an id");
  return std::optional<ConnectionId>(ConnectionId(std::string(*id)));
}

Result<bool> NewestFirstParam(const http::Request& request) {
  const auto order = request.Query("order");
  if (!order) return false;
  if (*order != "asc" && *order != "desc") {
    return InvalidArgumentError("query parameter 'order' must be asc or desc");
  }
  return *order == "desc";
}

Result<std::optional<int64_t>> SeqCursorParam(const http::Request& request) {
  const auto cursor = request.Query("cursor");
  if (!cursor) return std::optional<int64_t>();
  int64_t seq = 0;
  auto [end, ec] = std::from_chars(cursor->data(), cursor->data() + cursor->size(), seq);
  if (ec != std::errc() || end != cursor->data() + cursor->size() || seq < 0) {
    return InvalidArgumentError("query parameter 'cursor' is not valid");
  }
  return std::optional<int64_t>(seq);
}

Result<int> PageLimit(const http::Request& request, int default_limit, int max_limit) {
  auto text = request.Query("limit");
  if (!text) return default_limit;
  int value = 0;
  auto [ptr, ec] = std::from_chars(text->data(), text->data() + text->size(), value);
  if (ec != std::errc() || ptr != text->data() + text->size() || value < 1 || value > max_limit) {
    return InvalidArgumentError("query parameter 'limit' must be an integer from 1 to " +
                                std::to_string(max_limit));
  }
  return value;
}

Result<std::vector<store::ServiceGrant>> ParseServiceGrants(const Json& body) {
  std::vector<store::ServiceGrant> out;
  if (!body.contains("services")) return out;
  const Json& list = body["services"];
  if (!list.is_array()) return InvalidArgumentError("field 'services' must be an array");
  for (const Json& item : list) {
    if (!item.is_object() || !item.contains("service") || !item["service"].is_string() ||
        !item.contains("access") || !item["access"].is_string() || item.size() != 2) {
      return InvalidArgumentError(
          "each of 'services' is {\"service\": name, \"access\": \"read\" or \"read_write\"}");
    }
    const std::string access = item["access"];
    if (access != "read" && access != "read_write") {
      return InvalidArgumentError("'access' must be \"read\" or \"read_write\"");
    }
    out.push_back({item["service"].get<std::string>(), access == "read_write"});
  }
  return out;
}

Json ServiceGrantsJson(const std::vector<store::ServiceGrant>& services) {
  Json out = Json::array();
  for (const auto& grant : services) {
    out.push_back({{"service", grant.service}, {"access", grant.write ? "read_write" : "read"}});
  }
  return out;
}

// Built by appending: g++ 12 -O3 reports a false -Wrestrict on "\"" + std::to_string(...).
std::string Etag(int64_t version) {
  std::string etag = std::to_string(version);
  etag.insert(etag.begin(), '"');
  etag.push_back('"');
  return etag;
}

Result<std::optional<int64_t>> IfMatchVersion(const http::Request& request) {
  const auto header = request.Header("If-Match");
  if (!header) return std::optional<int64_t>();
  std::string_view text = *header;
  if (text.size() >= 2 && text.front() == '"' && text.back() == '"') {
    text = text.substr(1, text.size() - 2);
  }
  int64_t version = 0;
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), version);
  if (ec != std::errc() || ptr != text.data() + text.size() || version < 1) {
    return InvalidArgumentError("If-Match must be an ETag this API returned");
  }
  return std::optional<int64_t>(version);
}

}  // namespace sb::api
