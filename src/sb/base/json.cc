#include "sb/base/json.h"

#include <string>
#include <utility>
#include <vector>

namespace sb {
namespace {

// A SAX handler for nlohmann's parser that builds the document and counts as it goes. nlohmann's
// parser keeps its own state in a vector (it does not recurse), and this handler keeps the open
// containers in `open_`, so nothing here recurses on the input's nesting. Returning false stops
// the parse at once; `refusal_` then says which limit was crossed.
class BoundedDomBuilder {
 public:
  using string_t = Json::string_t;
  using binary_t = Json::binary_t;

  BoundedDomBuilder(Json& root, const JsonLimits& limits) : root_(root), limits_(limits) {}

  bool null() { return Place(Json(nullptr)) != nullptr; }
  bool boolean(bool value) { return Place(Json(value)) != nullptr; }
  bool number_integer(Json::number_integer_t value) { return Place(Json(value)) != nullptr; }
  bool number_unsigned(Json::number_unsigned_t value) { return Place(Json(value)) != nullptr; }
  bool number_float(Json::number_float_t value, const string_t& /*text*/) {
    return Place(Json(value)) != nullptr;
  }
  bool string(string_t& value) {
    if (value.size() > limits_.max_string_bytes) return RefuseLongString();
    return Place(Json(std::move(value))) != nullptr;
  }
  bool binary(binary_t& /*value*/) { return Refuse("binary values are not JSON"); }

  bool start_object(std::size_t /*size*/) { return Open(Json::object()); }
  bool key(string_t& name) {
    if (name.size() > limits_.max_string_bytes) return RefuseLongString();
    pending_member_ = &(*open_.back().value)[std::move(name)];
    return true;
  }
  bool end_object() { return Close(); }
  bool start_array(std::size_t /*size*/) { return Open(Json::array()); }
  bool end_array() { return Close(); }

  bool parse_error(std::size_t position, const std::string& /*last_token*/,
                   const nlohmann::detail::exception& /*error*/) {
    // The last token is input: it stays out of the message.
    error_position_ = position;
    return false;
  }

  // The error after sax_parse returned false.
  Status Error() const {
    if (!refusal_.empty()) return InvalidArgumentError(refusal_);
    return InvalidArgumentError("malformed JSON at byte " + std::to_string(error_position_));
  }

 private:
  struct OpenContainer {
    Json* value;
    size_t members = 0;
  };

  // Puts `value` where the parse is (root, next array item, or the pending member) and returns
  // where it now lives; nullptr when a limit is crossed.
  Json* Place(Json&& value) {
    if (++values_ > limits_.max_values) {
      Refuse("JSON document with more than " + std::to_string(limits_.max_values) + " values");
      return nullptr;
    }
    if (open_.empty()) {
      root_ = std::move(value);
      return &root_;
    }
    OpenContainer& parent = open_.back();
    if (++parent.members > limits_.max_members) {
      Refuse(parent.value->is_array()
                 ? "JSON array with more than " + std::to_string(limits_.max_members) + " items"
                 : "JSON object with more than " + std::to_string(limits_.max_members) +
                       " members");
      return nullptr;
    }
    if (parent.value->is_array()) {
      parent.value->push_back(std::move(value));
      return &parent.value->back();
    }
    *pending_member_ = std::move(value);
    return pending_member_;
  }

  bool Open(Json&& container) {
    if (open_.size() >= limits_.max_depth) {
      return Refuse("JSON nesting deeper than " + std::to_string(limits_.max_depth) + " levels");
    }
    Json* placed = Place(std::move(container));
    if (placed == nullptr) return false;
    open_.push_back({placed});
    return true;
  }

  bool Close() {
    open_.pop_back();
    return true;
  }

  bool RefuseLongString() {
    return Refuse("JSON string longer than " + std::to_string(limits_.max_string_bytes) + " bytes");
  }

  bool Refuse(std::string message) {
    refusal_ = std::move(message);
    return false;
  }

  Json& root_;
  const JsonLimits& limits_;
  std::vector<OpenContainer> open_;
  Json* pending_member_ = nullptr;
  size_t values_ = 0;
  std::string refusal_;
  size_t error_position_ = 0;
};

}  // namespace

Result<Json> ParseJson(std::string_view text, const JsonLimits& limits) {
  if (text.size() > limits.max_bytes) {
    return InvalidArgumentError("JSON document larger than " + std::to_string(limits.max_bytes) +
                                " bytes");
  }
  Json root;
  BoundedDomBuilder builder(root, limits);
  if (!Json::sax_parse(text.begin(), text.end(), &builder)) return builder.Error();
  return root;
}

size_t JsonDepth(const Json& value) {
  size_t deepest = 0;
  std::vector<std::pair<const Json*, size_t>> pending = {{&value, 0}};
  while (!pending.empty()) {
    const auto [node, depth] = pending.back();
    pending.pop_back();
    if (!node->is_structured()) continue;
    deepest = std::max(deepest, depth + 1);
    for (const Json& child : *node) pending.emplace_back(&child, depth + 1);
  }
  return deepest;
}

}  // namespace sb
