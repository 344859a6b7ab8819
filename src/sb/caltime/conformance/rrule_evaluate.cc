#include "sb/caltime/conformance/rrule_evaluate.h"

#include <algorithm>
#include <limits>
#include <memory>
#include <optional>
#include <set>
#include <utility>

#include "sb/base/status.h"
#include "sb/caltime/rule_iterator.h"

namespace sb::caltime::conformance {
namespace {

// One rule's instances, one ahead; every libical step counts against the case's budget.
class RuleStream {
 public:
  RuleStream(std::unique_ptr<LibicalRuleIterator> it, size_t* steps)
      : it_(std::move(it)), steps_(steps) {}

  const std::optional<std::string>& head() const { return head_; }

  // Replaces head() with the next instance (nullopt at the end). ResourceExhausted once the
  // case has taken kMaxRuleSteps steps.
  sb::Status Advance() {
    if (++*steps_ > kMaxRuleSteps) {
      head_.reset();
      return sb::ResourceExhaustedError("stopped at the bound of " + std::to_string(kMaxRuleSteps) +
                                        " libical steps");
    }
    head_ = it_->Next();
    return sb::OkStatus();
  }

 private:
  std::unique_ptr<LibicalRuleIterator> it_;
  size_t* steps_;
  std::optional<std::string> head_;
};

// The recurrence set in order (see rrule_evaluate.h). Not movable: the rule streams point at
// its step counter.
class SetStream {
 public:
  SetStream() = default;
  SetStream(const SetStream&) = delete;
  SetStream& operator=(const SetStream&) = delete;

  sb::Status Open(const RruleCase& c) {
    SB_RETURN_IF_ERROR(OpenRules(c.rrules, c.start_at, &rrules_));
    // EXRULEs start at their DTSTART: START-AT only moves where the answer begins.
    SB_RETURN_IF_ERROR(OpenRules(c.exrules, "", &exrules_));
    rdates_ = c.rdates;
    if (c.rrules.empty() && c.rdates.empty()) rdates_.push_back(c.dtstart);
    std::stable_sort(
        rdates_.begin(), rdates_.end(),
        [](const std::string& a, const std::string& b) { return WallTimeKey(a) < WallTimeKey(b); });
    for (const std::string& d : c.exdates) exdates_.insert(WallTimeKey(d));
    return sb::OkStatus();
  }

  // The next instance of the set, nullopt at its end.
  sb::Result<std::optional<std::string>> Next() {
    while (true) {
      const std::optional<std::string> candidate = Smallest();
      if (!candidate) return std::optional<std::string>();
      const std::string key = WallTimeKey(*candidate);
      SB_RETURN_IF_ERROR(Consume(key));
      if (key == last_key_) continue;
      last_key_ = key;
      if (exdates_.count(key) != 0) continue;
      SB_ASSIGN_OR_RETURN(const bool excluded, ExcludedByRule(key));
      if (!excluded) return candidate;
    }
  }

 private:
  sb::Status OpenRules(const std::vector<RuleSpec>& specs, const std::string& start_at,
                       std::vector<RuleStream>* out) {
    for (const RuleSpec& spec : specs) {
      SB_ASSIGN_OR_RETURN(
          std::unique_ptr<LibicalRuleIterator> it,
          LibicalRuleIterator::Create({spec.dtstart, spec.tzid, spec.rule, start_at}));
      out->emplace_back(std::move(it), &steps_);
      SB_RETURN_IF_ERROR(out->back().Advance());
    }
    return sb::OkStatus();
  }

  std::optional<std::string> Smallest() const {
    std::optional<std::string> best;
    const auto offer = [&](const std::string& v) {
      if (!best || WallTimeKey(v) < WallTimeKey(*best)) best = v;
    };
    for (const RuleStream& r : rrules_) {
      if (r.head()) offer(*r.head());
    }
    if (next_rdate_ < rdates_.size()) offer(rdates_[next_rdate_]);
    return best;
  }

  // Moves every source whose next value has `key` past it.
  sb::Status Consume(const std::string& key) {
    for (RuleStream& r : rrules_) {
      if (r.head() && WallTimeKey(*r.head()) == key) SB_RETURN_IF_ERROR(r.Advance());
    }
    while (next_rdate_ < rdates_.size() && WallTimeKey(rdates_[next_rdate_]) == key) ++next_rdate_;
    return sb::OkStatus();
  }

  sb::Result<bool> ExcludedByRule(const std::string& key) {
    bool excluded = false;
    for (RuleStream& r : exrules_) {
      while (r.head() && WallTimeKey(*r.head()) < key) SB_RETURN_IF_ERROR(r.Advance());
      excluded = excluded || (r.head() && WallTimeKey(*r.head()) == key);
    }
    return excluded;
  }

  size_t steps_ = 0;
  std::vector<RuleStream> rrules_;
  std::vector<RuleStream> exrules_;
  std::vector<std::string> rdates_;
  size_t next_rdate_ = 0;
  std::set<std::string> exdates_;
  std::string last_key_;
};

// What the case's method answers over `stream`; on a bound, what was found so far.
struct Answer {
  std::vector<std::string> got;
  sb::Status status;
};

// Whether `key` is still before the method's stopping point, and whether it belongs to the
// answer.
struct Step {
  bool stop = false;
  bool take = false;
};

Step Judge(const RruleCase& c, const std::string& key, size_t taken) {
  const std::string a = WallTimeKey(c.arg);
  const bool after_a = c.inc ? key >= a : key > a;
  switch (c.method) {
    case Method::kList:
      return {false, true};
    case Method::kBetween: {
      const std::string b = WallTimeKey(c.arg_end);
      if (c.inc ? key > b : key >= b) return {true, false};
      return {false, after_a};
    }
    case Method::kAfter:
      return {taken >= 1, after_a && taken < 1};
    case Method::kXAfter:
      return {taken >= c.count, after_a && taken < c.count};
    case Method::kBefore:
      return {!(c.inc ? key <= a : key < a), !(c.inc ? key > a : key >= a)};
  }
  return {true, false};
}

Answer Run(const RruleCase& c, SetStream& stream) {
  Answer answer;
  const size_t limit = c.method == Method::kList && HasInfiniteRule(c)
                           ? c.expected.size()
                           : std::numeric_limits<size_t>::max();
  while (answer.got.size() < limit) {
    sb::Result<std::optional<std::string>> next = stream.Next();
    if (!next.ok()) {
      answer.status = next.status();
      break;
    }
    if (!*next) break;
    const Step step = Judge(c, WallTimeKey(**next), answer.got.size());
    if (step.stop) break;
    if (step.take) answer.got.push_back(**next);
  }
  // before(): the last instance before a.
  if (c.method == Method::kBefore && answer.got.size() > 1) {
    answer.got.erase(answer.got.begin(), answer.got.end() - 1);
  }
  return answer;
}

std::vector<std::string> ExpectedFrom(const RruleCase& c) {
  if (c.start_at.empty()) return c.expected;
  const std::string start = WallTimeKey(WallTime(c.start_at));
  std::vector<std::string> expected;
  for (const std::string& e : c.expected) {
    if (WallTimeKey(e) >= start) expected.push_back(e);
  }
  return expected;
}

bool NeedsIcu(const RruleCase& c) {
  for (const std::vector<RuleSpec>* rules : {&c.rrules, &c.exrules}) {
    for (const RuleSpec& r : *rules) {
      if (r.rule.find("RSCALE=") != std::string::npos &&
          r.rule.find("RSCALE=GREGORIAN") == std::string::npos) {
        return true;
      }
    }
  }
  return false;
}

Outcome Refused(const RruleCase& c, const sb::Status& status) {
  if (!c.expected_error) return {Verdict::kError, {}, status.ToString()};
  if (StatusCodeName(status.code()) == *c.expected_error) return {Verdict::kPass, {}, ""};
  return {
      Verdict::kFail, {}, "refused with " + status.ToString() + ", expected " + *c.expected_error};
}

}  // namespace

std::string_view VerdictName(Verdict verdict) {
  switch (verdict) {
    case Verdict::kPass:
      return "pass";
    case Verdict::kFail:
      return "fail";
    case Verdict::kError:
      return "error";
    case Verdict::kUnsupported:
      return "unsupported";
  }
  return "unknown";
}

Outcome Evaluate(const RruleCase& c) {
  if (!c.unsupported.empty()) return {Verdict::kUnsupported, {}, c.unsupported};
  if (NeedsIcu(c) && !LibicalSupportsRscale()) {
    return {Verdict::kUnsupported, {}, "RSCALE (this libical is built without ICU)"};
  }
  SetStream stream;
  if (sb::Status opened = stream.Open(c); !opened.ok()) return Refused(c, opened);
  Answer answer = Run(c, stream);
  if (c.expected_error) {
    return {Verdict::kFail, std::move(answer.got), "expected libical to refuse the rule"};
  }
  if (!answer.status.ok()) {
    return {Verdict::kFail, std::move(answer.got), answer.status.message()};
  }
  if (answer.got == ExpectedFrom(c)) return {Verdict::kPass, std::move(answer.got), ""};
  return {Verdict::kFail, std::move(answer.got), "other instances than expected"};
}

}  // namespace sb::caltime::conformance
