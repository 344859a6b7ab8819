#include "sb/caltime/rule_iterator.h"

#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string_view>
#include <utility>

#include <libical/ical.h>

#include "sb/caltime/caltime.h"

namespace sb::caltime {
namespace {

bool IsDigits(std::string_view s) {
  for (const char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

// Accepts exactly "YYYYMMDD", "YYYYMMDDTHHMMSS" and "YYYYMMDDTHHMMSSZ" with fields in range,
// so that libical's lenient parser never sees anything else.
bool IsIcalDateOrDateTime(std::string_view s) {
  if (s.size() != 8 && s.size() != 15 && s.size() != 16) return false;
  if (!IsDigits(s.substr(0, 8))) return false;
  LocalDateTime t{std::atoi(std::string(s.substr(0, 4)).c_str()),
                  std::atoi(std::string(s.substr(4, 2)).c_str()),
                  std::atoi(std::string(s.substr(6, 2)).c_str())};
  if (s.size() > 8) {
    if (s[8] != 'T' || !IsDigits(s.substr(9, 6)) || (s.size() == 16 && s[15] != 'Z')) {
      return false;
    }
    t.hour = std::atoi(std::string(s.substr(9, 2)).c_str());
    t.minute = std::atoi(std::string(s.substr(11, 2)).c_str());
    t.second = std::atoi(std::string(s.substr(13, 2)).c_str());
  }
  return LocalToUtc(t, "UTC").ok();
}

std::string LibicalError(std::string_view what) {
  return std::string(what) + ": " + icalerror_strerror(icalerrno);
}

sb::Status LibicalStatus(std::string_view what) {
  if (icalerrno == ICAL_UNIMPLEMENTED_ERROR) return sb::UnimplementedError(LibicalError(what));
  return sb::InvalidArgumentError(LibicalError(what));
}

// REQUIRES: the module mutex is held; `text` passed IsIcalDateOrDateTime.
icaltimetype ToIcalTime(const std::string& text, icaltimezone* zone) {
  icaltimetype t = icaltime_from_string(text.c_str());
  if (zone != nullptr && !t.is_date && !icaltime_is_utc(t)) icaltime_set_timezone(&t, zone);
  return t;
}

std::string Format(const icaltimetype& t) {
  char buf[64];
  if (t.is_date) {
    std::snprintf(buf, sizeof(buf), "%04d%02d%02d", t.year, t.month, t.day);
  } else {
    std::snprintf(buf, sizeof(buf), "%04d%02d%02dT%02d%02d%02d", t.year, t.month, t.day, t.hour,
                  t.minute, t.second);
  }
  return buf;
}

sb::Result<icaltimezone*> ZoneOf(const RuleIteratorOptions& options) {
  if (options.tzid.empty()) return static_cast<icaltimezone*>(nullptr);
  if (!IsKnownZone(options.tzid)) {
    return sb::InvalidArgumentError("unknown time zone \"" + options.tzid + "\"");
  }
  std::lock_guard<std::mutex> lock(internal::LibicalMutex());
  icaltimezone* zone = icaltimezone_get_builtin_timezone(options.tzid.c_str());
  return zone != nullptr ? zone : icaltimezone_get_utc_timezone();
}

}  // namespace

struct LibicalRuleIterator::State {
  icalrecurrencetype recur = {};
  icalrecur_iterator* it = nullptr;

  State() = default;
  State(const State&) = delete;
  State& operator=(const State&) = delete;
  // REQUIRES: the module mutex is not held.
  ~State() {
    std::lock_guard<std::mutex> lock(internal::LibicalMutex());
    if (it != nullptr) icalrecur_iterator_free(it);
    // The rule parser allocates RSCALE's value; the iterator keeps a copy of the pointer only.
    std::free(recur.rscale);
  }
};

bool LibicalSupportsRscale() {
  std::lock_guard<std::mutex> lock(internal::LibicalMutex());
  return icalrecurrencetype_rscale_is_supported() != 0;
}

sb::Result<std::unique_ptr<LibicalRuleIterator>> LibicalRuleIterator::Create(
    const RuleIteratorOptions& options) {
  if (!IsIcalDateOrDateTime(options.dtstart)) {
    return sb::InvalidArgumentError("malformed DTSTART \"" + options.dtstart + "\"");
  }
  if (!options.start_at.empty() && !IsIcalDateOrDateTime(options.start_at)) {
    return sb::InvalidArgumentError("malformed start \"" + options.start_at + "\"");
  }
  SB_ASSIGN_OR_RETURN(icaltimezone* const zone, ZoneOf(options));
  auto state = std::make_unique<State>();
  std::lock_guard<std::mutex> lock(internal::LibicalMutex());
  icalerror_clear_errno();
  state->recur = icalrecurrencetype_from_string(options.rule.c_str());
  if (state->recur.freq == ICAL_NO_RECURRENCE)
    return LibicalStatus("libical cannot parse the rule");
  state->it = icalrecur_iterator_new(state->recur, ToIcalTime(options.dtstart, zone));
  if (state->it == nullptr) return LibicalStatus("libical cannot iterate the rule");
  if (!options.start_at.empty() &&
      icalrecur_iterator_set_start(state->it, ToIcalTime(options.start_at, zone)) == 0) {
    return LibicalStatus("libical cannot start the rule at " + options.start_at);
  }
  return std::unique_ptr<LibicalRuleIterator>(new LibicalRuleIterator(std::move(state)));
}

LibicalRuleIterator::LibicalRuleIterator(std::unique_ptr<State> state) : state_(std::move(state)) {}

LibicalRuleIterator::~LibicalRuleIterator() = default;

std::optional<std::string> LibicalRuleIterator::Next() {
  std::lock_guard<std::mutex> lock(internal::LibicalMutex());
  const icaltimetype t = icalrecur_iterator_next(state_->it);
  if (icaltime_is_null_time(t)) return std::nullopt;
  return Format(t);
}

}  // namespace sb::caltime
