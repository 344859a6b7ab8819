#include "sb/caltime/conformance/rrule_case.h"

#include <algorithm>
#include <utility>

#include "sb/base/json.h"
#include "sb/base/text.h"

namespace sb::caltime::conformance {
namespace {

// Suite lines are a few kilobytes; the largest expected lists hold about a thousand entries.
JsonLimits CaseLimits() {
  JsonLimits limits;
  limits.max_bytes = 4 << 20;
  limits.max_depth = 16;
  limits.max_string_bytes = 1 << 20;
  limits.max_members = 100'000;
  limits.max_values = 1'000'000;
  return limits;
}

const Json* Field(const Json& object, const char* key) {
  if (!object.is_object()) return nullptr;
  const auto it = object.find(key);
  return it == object.end() ? nullptr : &*it;
}

std::optional<std::string> StringField(const Json& object, const char* key) {
  const Json* value = Field(object, key);
  if (value == nullptr || !value->is_string()) return std::nullopt;
  return value->get<std::string>();
}

// Keeps the first reason: it is the one that matters.
void MarkUnsupported(RruleCase* c, std::string reason) {
  if (c->unsupported.empty()) c->unsupported = std::move(reason);
}

// Content lines of an iCalendar text, unfolded (RFC 5545 3.1), CRs and blank lines dropped.
std::vector<std::string> ContentLines(std::string_view text) {
  std::vector<std::string> lines;
  for (std::string_view raw : Split(text, '\n')) {
    if (!raw.empty() && raw.back() == '\r') raw.remove_suffix(1);
    if (!raw.empty() && (raw.front() == ' ' || raw.front() == '\t') && !lines.empty()) {
      lines.back().append(raw.substr(1));
    } else if (!raw.empty()) {
      lines.emplace_back(raw);
    }
  }
  return lines;
}

struct ContentLine {
  std::string name;
  std::string tzid;
  std::string value;
};

std::optional<ContentLine> SplitContentLine(std::string_view line) {
  const size_t colon = line.find(':');
  if (colon == std::string_view::npos) return std::nullopt;
  const std::vector<std::string_view> head = Split(line.substr(0, colon), ';');
  ContentLine out{AsciiUpper(head.front()), "", std::string(line.substr(colon + 1))};
  for (size_t i = 1; i < head.size(); ++i) {
    if (AsciiUpper(head[i].substr(0, 5)) == "TZID=") out.tzid = std::string(head[i].substr(5));
  }
  return out;
}

void AddDates(std::string_view value, std::vector<std::string>* out) {
  for (std::string_view item : Split(value, ',')) out->push_back(WallTime(item));
}

// Reads DTSTART / RRULE / EXRULE / RDATE / EXDATE lines into `c`. A rule takes the nearest
// DTSTART before it, or the text's first DTSTART. `as_exrule` reads RRULE lines as EXRULE
// (dateutil's rruleset components).
void AddIcal(std::string_view text, bool as_exrule, RruleCase* c) {
  struct Pending {
    bool ex;
    std::string rule;
    std::optional<RuleSpec> start;
  };
  std::vector<Pending> rules;
  std::optional<RuleSpec> current;
  std::optional<RuleSpec> first;
  for (const std::string& raw : ContentLines(text)) {
    const std::optional<ContentLine> line = SplitContentLine(raw);
    if (!line) {
      MarkUnsupported(c, "line without a property name: " + raw);
      return;
    }
    if (line->name == "DTSTART") {
      current = RuleSpec{line->value, line->tzid, ""};
      if (!first) first = current;
    } else if (line->name == "RRULE" || line->name == "EXRULE") {
      rules.push_back({as_exrule || line->name == "EXRULE", line->value, current});
    } else if (line->name == "RDATE") {
      AddDates(line->value, &c->rdates);
    } else if (line->name == "EXDATE") {
      AddDates(line->value, &c->exdates);
    } else {
      MarkUnsupported(c, "property " + line->name + " (not part of a recurrence set)");
      return;
    }
  }
  if (first && c->dtstart.empty()) c->dtstart = WallTime(first->dtstart);
  for (Pending& p : rules) {
    std::optional<RuleSpec> spec = p.start ? p.start : first;
    if (!spec) {
      MarkUnsupported(c, "rule without DTSTART (the engine's default start is 'now')");
      return;
    }
    spec->rule = std::move(p.rule);
    (p.ex ? c->exrules : c->rrules).push_back(*std::move(spec));
  }
}

// An expected entry: a wall-time string, or dateutil's {"local": ..., "utc_offset": ...}.
bool AddExpected(const Json& item, RruleCase* c) {
  if (item.is_string()) {
    c->expected.push_back(WallTime(item.get<std::string>()));
    return true;
  }
  if (std::optional<std::string> local = StringField(item, "local")) {
    c->expected.push_back(WallTime(*local));
    return true;
  }
  return false;
}

void ReadExpected(const Json& line, RruleCase* c) {
  const Json* expected = Field(line, "expected");
  if (expected == nullptr || expected->is_null()) return;
  bool ok = true;
  if (expected->is_array()) {
    for (const Json& item : *expected) ok = ok && AddExpected(item, c);
  } else {
    ok = AddExpected(*expected, c);
  }
  if (!ok) MarkUnsupported(c, "expected value the harness cannot read");
}

std::optional<Method> MethodByName(std::string_view name) {
  if (name == "list" || name == "all") return Method::kList;
  if (name == "between") return Method::kBetween;
  if (name == "after") return Method::kAfter;
  if (name == "before") return Method::kBefore;
  if (name == "xafter") return Method::kXAfter;
  return std::nullopt;
}

// Positional arguments (strings, then an optional inc flag) and dateutil's keyword ones.
bool ReadArgs(const Json* args, const Json* kwargs, RruleCase* c) {
  std::vector<std::string> dates;
  if (args != nullptr && args->is_array()) {
    for (const Json& a : *args) {
      if (a.is_string()) {
        dates.push_back(WallTime(a.get<std::string>()));
      } else if (a.is_boolean()) {
        c->inc = a.get<bool>();
      } else if (!a.is_null()) {
        return false;
      }
    }
  }
  if (kwargs != nullptr && kwargs->is_object()) {
    for (const auto& [key, value] : kwargs->items()) {
      if (key == "inc" && value.is_boolean()) {
        c->inc = value.get<bool>();
      } else if (key == "count" && value.is_number_unsigned()) {
        c->count = std::min<size_t>(value.get<size_t>(), 100'000);
      } else {
        return false;
      }
    }
  }
  const size_t needed = c->method == Method::kList ? 0 : c->method == Method::kBetween ? 2 : 1;
  if (dates.size() != needed) return false;
  if (needed >= 1) c->arg = dates[0];
  if (needed == 2) c->arg_end = dates[1];
  return true;
}

void ReadMethod(const Json& line, RruleCase* c) {
  const std::string name = StringField(line, "method").value_or("list");
  const std::optional<Method> method = MethodByName(name);
  if (!method) {
    MarkUnsupported(c, "method " + name);
    return;
  }
  c->method = *method;
  const Json* args = Field(line, "method_args");
  const Json* kwargs = nullptr;
  if (args != nullptr && args->is_object()) {
    kwargs = Field(*args, "kwargs");
    args = Field(*args, "args");
  }
  if (!ReadArgs(args, kwargs, c)) MarkUnsupported(c, "arguments of method " + name);
}

bool HasFlag(const Json& line, std::string_view flag) {
  const Json* flags = Field(line, "flags");
  if (flags == nullptr || !flags->is_array()) return false;
  return std::any_of(flags->begin(), flags->end(),
                     [&](const Json& f) { return f.is_string() && f.get<std::string>() == flag; });
}

void ReadDateutilComponents(const Json& components, RruleCase* c) {
  for (const Json& comp : components) {
    const std::string type = StringField(comp, "type").value_or("");
    if (type == "rrule" || type == "exrule") {
      AddIcal(StringField(comp, "ical").value_or(""), type == "exrule", c);
    } else if (type == "rdate" || type == "exdate") {
      AddDates(StringField(comp, "value").value_or(""), type == "rdate" ? &c->rdates : &c->exdates);
    } else {
      MarkUnsupported(c, "rruleset component " + type);
    }
  }
}

void ReadDateutil(const Json& line, RruleCase* c) {
  const std::string kind = StringField(line, "kind").value_or("");
  const Json* kwargs = Field(line, "rrulestr_kwargs");
  if (HasFlag(line, "non-standard:BYEASTER")) {
    MarkUnsupported(c, "BYEASTER (dateutil extension, not RFC 5545)");
  } else if (kwargs != nullptr && Field(*kwargs, "tzids") != nullptr) {
    MarkUnsupported(c, "rrulestr tzids= (a dateutil API mapping TZID names to zones)");
  } else if (const Json* components = Field(line, "components");
             kind == "rruleset" && components != nullptr && components->is_array()) {
    ReadDateutilComponents(*components, c);
  } else if (kind == "rrulestr->rruleset" || Field(line, "dtstart_tz") != nullptr) {
    // The "ical" rendering drops TZID; the input as given to rrulestr keeps it.
    AddIcal(StringField(line, "input").value_or(""), false, c);
  } else {
    AddIcal(StringField(line, "ical").value_or(""), false, c);
  }
}

void ReadLibical(const Json& line, RruleCase* c) {
  const std::string dtstart = StringField(line, "dtstart").value_or("");
  c->rrules.push_back(RuleSpec{dtstart, "", StringField(line, "rrule").value_or("")});
  c->dtstart = WallTime(dtstart);
  c->start_at = StringField(line, "start_at").value_or("");
  if (std::optional<std::string> error = StringField(line, "expected_error")) {
    c->expected_error = error->substr(0, error->find(':'));
  }
}

}  // namespace

std::string WallTime(std::string_view ical_date_time) {
  if (!ical_date_time.empty() && (ical_date_time.back() == 'Z' || ical_date_time.back() == 'z')) {
    ical_date_time.remove_suffix(1);
  }
  return std::string(ical_date_time);
}

std::string WallTimeKey(std::string_view wall_time) {
  std::string key(wall_time);
  if (key.size() == 8) key += "T000000";
  return key;
}

bool HasInfiniteRule(const RruleCase& c) {
  return std::any_of(c.rrules.begin(), c.rrules.end(), [](const RuleSpec& r) {
    const std::string rule = AsciiUpper(r.rule);
    return rule.find("COUNT=") == std::string::npos && rule.find("UNTIL=") == std::string::npos;
  });
}

RruleCase ParseCase(CaseFormat format, std::string_view text, std::string_view fallback_id) {
  RruleCase c;
  c.id = std::string(fallback_id);
  sb::Result<Json> line = ParseJson(text, CaseLimits());
  if (!line.ok() || !line->is_object()) {
    c.unsupported = "unreadable case line";
    return c;
  }
  if (std::optional<std::string> id = StringField(*line, "id")) c.id = *std::move(id);
  switch (format) {
    case CaseFormat::kDateutil:
      ReadDateutil(*line, &c);
      break;
    case CaseFormat::kRruleJs:
      AddIcal(StringField(*line, "ical").value_or(""), false, &c);
      break;
    case CaseFormat::kLibical:
      ReadLibical(*line, &c);
      break;
  }
  if (format != CaseFormat::kLibical) ReadMethod(*line, &c);
  ReadExpected(*line, &c);
  if (c.rrules.empty() && c.rdates.empty() && c.dtstart.empty()) {
    MarkUnsupported(&c, "no DTSTART, RRULE or RDATE");
  }
  // rrule.js carries no flags: its BYEASTER cases are recognised by the rule.
  for (const std::vector<RuleSpec>* rules : {&c.rrules, &c.exrules}) {
    for (const RuleSpec& r : *rules) {
      if (AsciiUpper(r.rule).find("BYEASTER") != std::string::npos) {
        MarkUnsupported(&c, "BYEASTER (dateutil extension, not RFC 5545)");
      }
    }
  }
  for (const std::string& e : c.expected) {
    if (e.find('.') != std::string::npos) {
      MarkUnsupported(&c, "sub-second times (iCalendar has whole seconds)");
    }
  }
  return c;
}

}  // namespace sb::caltime::conformance
