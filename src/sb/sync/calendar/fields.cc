#include "sb/sync/calendar/fields.h"

#include <algorithm>
#include <cctype>
#include <limits>

#include "sb/caltime/caltime.h"

namespace sb::sync::calendar::internal {
namespace {

const char* TypeName(const Json& value) { return value.type_name(); }

std::string Upper(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

// Case-insensitive prefix test on ASCII.
bool StartsWithNoCase(std::string_view text, std::string_view prefix) {
  if (text.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(text[i])) !=
        std::tolower(static_cast<unsigned char>(prefix[i]))) {
      return false;
    }
  }
  return true;
}

// The decoded text of the entity at html[pos] ('&'), and its length; nullopt when unknown.
std::optional<std::pair<std::string_view, size_t>> Entity(std::string_view html, size_t pos) {
  static constexpr std::pair<std::string_view, std::string_view> kEntities[] = {
      {"&amp;", "&"}, {"&lt;", "<"},   {"&gt;", ">"},   {"&quot;", "\""},
      {"&#39;", "'"}, {"&#x27;", "'"}, {"&nbsp;", " "}, {"&apos;", "'"}};
  for (const auto& [name, text] : kEntities) {
    if (StartsWithNoCase(html.substr(pos), name)) return std::pair{text, name.size()};
  }
  return std::nullopt;
}

// Whether the tag body (after '<') is a line break: <br>, <br/>, </p>, </div>, </li>.
bool BreaksLine(std::string_view tag) {
  auto name_is = [&](std::string_view name) {
    return StartsWithNoCase(tag, name) &&
           (tag.size() == name.size() ||
            !std::isalnum(static_cast<unsigned char>(tag[name.size()])));
  };
  return name_is("br") || name_is("/p") || name_is("/div") || name_is("/li");
}

// Whether the rule (";"-framed, upper case) has 60 in BYSECOND: libical 3.0.16 never
// terminates on FREQ=SECONDLY;BYSECOND=60 (found probing edge-case rules).
bool HasLeapSecond(const std::string& rule) {
  const size_t part = rule.find(";BYSECOND=");
  if (part == std::string::npos) return false;
  const size_t begin = part + 10;
  const std::string_view values(rule.data() + begin, rule.find(';', begin) - begin);
  size_t pos = 0;
  while (pos <= values.size()) {
    const size_t comma = std::min(values.find(',', pos), values.size());
    std::string_view value = values.substr(pos, comma - pos);
    if (!value.empty() && (value[0] == '+' || value[0] == '-')) value.remove_prefix(1);
    while (value.size() > 1 && value[0] == '0') value.remove_prefix(1);
    if (value == "60") return true;
    pos = comma + 1;
  }
  return false;
}

}  // namespace

std::string FieldName(std::string_view parent, std::string_view name) {
  std::string out(parent);
  if (!out.empty()) out += '.';
  out += name;
  return out;
}

Status FieldError(std::string_view field, std::string_view what) {
  std::string message(field);
  message += ": ";
  message += what;
  return InvalidArgumentError(std::move(message));
}

const Json* Member(const Json& object, std::string_view key) {
  const auto it = object.find(key);
  if (it == object.end() || it->is_null()) return nullptr;
  return &*it;
}

Result<std::string> StringMember(const Json& object, std::string_view key, size_t max_bytes,
                                 std::string_view field) {
  const Json* value = Member(object, key);
  if (value == nullptr) return std::string();
  if (!value->is_string()) {
    std::string what = "must be a string, not ";
    what += TypeName(*value);
    return FieldError(field, what);
  }
  const auto& text = value->get_ref<const std::string&>();
  if (text.size() > max_bytes) {
    std::string what = "longer than ";
    what += std::to_string(max_bytes);
    what += " bytes";
    return FieldError(field, what);
  }
  return text;
}

Result<std::string> RequiredString(const Json& object, std::string_view key, size_t max_bytes,
                                   std::string_view field) {
  SB_ASSIGN_OR_RETURN(std::string text, StringMember(object, key, max_bytes, field));
  if (text.empty()) return FieldError(field, "missing");
  return text;
}

Result<bool> BoolMember(const Json& object, std::string_view key, bool absent_value,
                        std::string_view field) {
  const Json* value = Member(object, key);
  if (value == nullptr) return absent_value;
  if (!value->is_boolean()) return FieldError(field, "must be a boolean");
  return value->get<bool>();
}

Result<std::optional<int64_t>> IntMember(const Json& object, std::string_view key, int64_t min,
                                         int64_t max, std::string_view field) {
  const Json* value = Member(object, key);
  if (value == nullptr) return std::optional<int64_t>();
  int64_t number = 0;
  if (value->is_number_unsigned()) {
    const auto u = value->get<uint64_t>();
    if (u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      return FieldError(field, "out of range");
    }
    number = static_cast<int64_t>(u);
  } else if (value->is_number_integer()) {
    number = value->get<int64_t>();
  } else {
    return FieldError(field, "must be an integer");
  }
  if (number < min || number > max) return FieldError(field, "out of range");
  return std::optional<int64_t>(number);
}

Result<const Json*> ObjectMember(const Json& object, std::string_view key, std::string_view field) {
  const Json* value = Member(object, key);
  if (value != nullptr && !value->is_object()) return FieldError(field, "must be an object");
  return value;
}

Result<const Json*> ArrayMember(const Json& object, std::string_view key, size_t max_items,
                                std::string_view field) {
  const Json* value = Member(object, key);
  if (value == nullptr) return value;
  if (!value->is_array()) return FieldError(field, "must be an array");
  if (value->size() > max_items) return FieldError(field, "has too many items");
  return value;
}

Result<int64_t> ParseInstant(std::string_view text, std::string_view field) {
  if (text.size() > kMaxTimeBytes) return FieldError(field, "malformed date-time");
  const Result<int64_t> ms = caltime::ParseRfc3339(text);
  if (!ms.ok()) return FieldError(field, "malformed date-time");
  return CheckInstant(*ms, field);
}

Result<int64_t> CheckInstant(int64_t ms, std::string_view field) {
  if (ms < kMinInstantMs || ms > kMaxInstantMs) return FieldError(field, "out of range");
  return ms;
}

Result<std::string> CheckDate(std::string_view text, std::string_view field) {
  if (text.size() > kMaxTimeBytes || !caltime::ParseDate(text).ok()) {
    return FieldError(field, "malformed date");
  }
  const Result<int64_t> ms = caltime::ParseDate(text);
  if (*ms < kMinInstantMs || *ms > kMaxInstantMs) return FieldError(field, "out of range");
  return std::string(text);
}

Result<std::optional<int64_t>> InstantMember(const Json& object, std::string_view key,
                                             std::string_view field) {
  SB_ASSIGN_OR_RETURN(const std::string text, StringMember(object, key, kMaxTimeBytes, field));
  if (text.empty()) return std::optional<int64_t>();
  SB_ASSIGN_OR_RETURN(const int64_t ms, ParseInstant(text, field));
  return std::optional<int64_t>(ms);
}

std::string HtmlToText(std::string_view html) {
  std::string out;
  out.reserve(html.size());
  size_t pos = 0;
  while (pos < html.size()) {
    const char c = html[pos];
    if (c == '<') {
      const size_t close = html.find('>', pos + 1);
      // An unclosed '<' is text, as browsers show it.
      if (close == std::string_view::npos) {
        out.append(html.substr(pos));
        break;
      }
      if (BreaksLine(html.substr(pos + 1, close - pos - 1))) out += '\n';
      pos = close + 1;
    } else if (c == '&') {
      if (const auto entity = Entity(html, pos)) {
        out.append(entity->first);
        pos += entity->second;
      } else {
        out += c;
        ++pos;
      }
    } else {
      out += c;
      ++pos;
    }
  }
  return out;
}

bool HasUnsafeSubDailyRule(const std::vector<std::string>& recurrence) {
  for (const std::string& line : recurrence) {
    if (!StartsWithNoCase(line, "RRULE") && !StartsWithNoCase(line, "EXRULE")) continue;
    const size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string rule = ";";
    rule += Upper(std::string_view(line).substr(colon + 1));
    rule += ';';
    const bool sub_daily = rule.find(";FREQ=HOURLY;") != std::string::npos ||
                           rule.find(";FREQ=MINUTELY;") != std::string::npos ||
                           rule.find(";FREQ=SECONDLY;") != std::string::npos;
    if (!sub_daily) continue;
    for (const char* part : {";BYDAY=", ";BYMONTHDAY=", ";BYYEARDAY=", ";BYWEEKNO=", ";BYMONTH="}) {
      if (rule.find(part) != std::string::npos) return true;
    }
    if (HasLeapSecond(rule)) return true;
  }
  return false;
}

Result<caltime::EventTime> SeriesStart(const Event& master) {
  caltime::EventTime start;
  start.all_day = master.all_day;
  start.time_zone = master.start.time_zone;
  if (master.all_day) {
    SB_ASSIGN_OR_RETURN(start.date, CheckDate(master.start.date, "start.date"));
    start.utc_ms = *caltime::ParseDate(start.date);
  } else if (master.start.instant_ms) {
    start.utc_ms = *master.start.instant_ms;
  } else {
    return FieldError("start", "missing");
  }
  return start;
}

}  // namespace sb::sync::calendar::internal
