#include "sb/base/metrics.h"

#include <algorithm>
#include <charconv>
#include <cmath>

#include "sb/base/check.h"

namespace sb::metrics {
namespace {

enum Kind { kCounterKind, kGaugeKind, kHistogramKind, kCallbackKind };

constexpr char kKeySeparator = '\xff';

std::string EscapeHelp(std::string_view help) {
  std::string out;
  for (char c : help) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string FormatDouble(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[32];
  // Shortest round-trip form; fixed notation in the usual range so that buckets read le="0.0005".
  const double magnitude = std::fabs(v);
  const bool fixed = magnitude == 0 || (magnitude >= 1e-6 && magnitude < 1e15);
  const auto result = fixed ? std::to_chars(buf, buf + sizeof(buf), v, std::chars_format::fixed)
                            : std::to_chars(buf, buf + sizeof(buf), v);
  return std::string(buf, result.ptr);
}

// `{a="x",b="y"}` (with an optional extra label such as le), or "" when there are none.
std::string LabelText(const std::vector<std::string>& names, const std::vector<std::string>& values,
                      std::string_view extra_name = {}, std::string_view extra_value = {}) {
  if (names.empty() && extra_name.empty()) return "";
  std::string out = "{";
  for (size_t i = 0; i < names.size(); ++i) {
    if (i > 0) out += ',';
    out += names[i] + "=\"" + EscapeLabelValue(values[i]) + "\"";
  }
  if (!extra_name.empty()) {
    if (!names.empty()) out += ',';
    out.append(extra_name).append("=\"").append(extra_value).append("\"");
  }
  return out + "}";
}

}  // namespace

Histogram::Histogram(const std::vector<double>& bounds)
    : bounds_(bounds), buckets_(new std::atomic<uint64_t>[bounds.size() + 1]) {
  SB_CHECK(std::is_sorted(bounds_.begin(), bounds_.end()));
  for (size_t i = 0; i <= bounds_.size(); ++i) buckets_[i].store(0);
}

void Histogram::Observe(double v) {
  const size_t i = std::lower_bound(bounds_.begin(), bounds_.end(), v) - bounds_.begin();
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(v, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
}

Histogram::Snapshot Histogram::Take() const {
  Snapshot s;
  s.bounds = bounds_;
  uint64_t running = 0;
  for (size_t i = 0; i <= bounds_.size(); ++i) {
    running += buckets_[i].load(std::memory_order_relaxed);
    s.cumulative.push_back(running);
  }
  s.sum = sum_.load(std::memory_order_relaxed);
  // The +Inf bucket must equal count in the output, so derive count from the buckets.
  s.count = running;
  return s;
}

std::vector<double> LatencyBuckets() {
  return {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
}

std::string EscapeLabelValue(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

template <typename T>
template <typename It>
T& Family<T>::Find(It begin, It end) {
  SB_CHECK(static_cast<size_t>(end - begin) == label_names_.size());
  // A per-thread buffer keeps lookups of existing series allocation-free.
  thread_local std::string key;
  key.clear();
  for (It it = begin; it != end; ++it) {
    key.append(it->data(), it->size());
    key += kKeySeparator;
  }
  std::lock_guard<std::mutex> lock(mu_);
  auto found = series_.find(std::string_view(key));
  if (found != series_.end()) return *found->second.metric;
  Series series{std::vector<std::string>(begin, end), make_()};
  T& metric = *series.metric;
  series_.emplace(key, std::move(series));
  return metric;
}

template <typename T>
T& Family<T>::WithLabels(std::initializer_list<std::string_view> values) {
  return Find(values.begin(), values.end());
}

template <typename T>
T& Family<T>::WithLabels(const std::vector<std::string_view>& values) {
  return Find(values.begin(), values.end());
}

template <typename T>
void Family<T>::ForEach(
    const std::function<void(const std::vector<std::string>&, const T&)>& fn) const {
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& [key, series] : series_) fn(series.values, *series.metric);
}

template class Family<Counter>;
template class Family<Gauge>;
template class Family<Histogram>;

struct MetricsRegistry::Entry {
  int kind = kCounterKind;
  std::string help;
  std::vector<std::string> label_names;
  std::unique_ptr<CounterFamily> counter;
  std::unique_ptr<GaugeFamily> gauge;
  std::unique_ptr<HistogramFamily> histogram;
  std::function<double()> callback;  // guarded by the registry's mu_
};

MetricsRegistry::MetricsRegistry() = default;
MetricsRegistry::~MetricsRegistry() = default;

MetricsRegistry::Entry& MetricsRegistry::FindOrAdd(std::string_view name, std::string_view help,
                                                   int kind,
                                                   const std::vector<std::string>& label_names) {
  auto it = entries_.find(name);
  if (it != entries_.end()) {
    SB_CHECK(it->second->kind == kind && it->second->label_names == label_names);
    return *it->second;
  }
  auto entry = std::make_unique<Entry>();
  entry->kind = kind;
  entry->help = std::string(help);
  entry->label_names = label_names;
  Entry& ref = *entry;
  entries_.emplace(std::string(name), std::move(entry));
  return ref;
}

CounterFamily& MetricsRegistry::AddCounter(std::string_view name, std::string_view help,
                                           std::vector<std::string> label_names) {
  std::lock_guard<std::mutex> lock(mu_);
  Entry& e = FindOrAdd(name, help, kCounterKind, label_names);
  if (!e.counter) {
    e.counter = std::make_unique<CounterFamily>(std::move(label_names),
                                                [] { return std::make_unique<Counter>(); });
  }
  return *e.counter;
}

GaugeFamily& MetricsRegistry::AddGauge(std::string_view name, std::string_view help,
                                       std::vector<std::string> label_names) {
  std::lock_guard<std::mutex> lock(mu_);
  Entry& e = FindOrAdd(name, help, kGaugeKind, label_names);
  if (!e.gauge) {
    e.gauge = std::make_unique<GaugeFamily>(std::move(label_names),
                                            [] { return std::make_unique<Gauge>(); });
  }
  return *e.gauge;
}

HistogramFamily& MetricsRegistry::AddHistogram(std::string_view name, std::string_view help,
                                               std::vector<std::string> label_names,
                                               std::vector<double> bounds) {
  std::lock_guard<std::mutex> lock(mu_);
  Entry& e = FindOrAdd(name, help, kHistogramKind, label_names);
  if (!e.histogram) {
    e.histogram = std::make_unique<HistogramFamily>(
        std::move(label_names), [b = std::move(bounds)] { return std::make_unique<Histogram>(b); });
  }
  return *e.histogram;
}

void MetricsRegistry::AddGaugeCallback(std::string_view name, std::string_view help,
                                       std::function<double()> fn) {
  std::lock_guard<std::mutex> lock(mu_);
  FindOrAdd(name, help, kCallbackKind, {}).callback = std::move(fn);
}

void MetricsRegistry::RemoveGaugeCallback(std::string_view name) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = entries_.find(name);
  if (it != entries_.end() && it->second->kind == kCallbackKind) entries_.erase(it);
}

namespace {

void RenderHistogram(const std::string& name, const HistogramFamily& family, std::string& out) {
  const auto& names = family.label_names();
  family.ForEach([&](const std::vector<std::string>& values, const Histogram& h) {
    const Histogram::Snapshot s = h.Take();
    for (size_t i = 0; i <= s.bounds.size(); ++i) {
      const std::string le = i < s.bounds.size() ? FormatDouble(s.bounds[i]) : "+Inf";
      out += name + "_bucket" + LabelText(names, values, "le", le) + " " +
             std::to_string(s.cumulative[i]) + "\n";
    }
    const std::string labels = LabelText(names, values);
    out += name + "_sum" + labels + " " + FormatDouble(s.sum) + "\n";
    out += name + "_count" + labels + " " + std::to_string(s.count) + "\n";
  });
}

}  // namespace

std::string MetricsRegistry::RenderPrometheusText() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::string out;
  for (const auto& item : entries_) {
    // Plain references, not structured bindings: clang 14 cannot capture those in lambdas.
    const std::string& name = item.first;
    const Entry* e = item.second.get();
    static constexpr const char* kTypes[] = {"counter", "gauge", "histogram", "gauge"};
    out += "# HELP " + name + " " + EscapeHelp(e->help) + "\n";
    out += "# TYPE " + name + " " + kTypes[e->kind] + "\n";
    const auto& names = e->label_names;
    if (e->counter) {
      e->counter->ForEach([&](const std::vector<std::string>& values, const Counter& c) {
        out += name + LabelText(names, values) + " " + std::to_string(c.Value()) + "\n";
      });
    } else if (e->gauge) {
      e->gauge->ForEach([&](const std::vector<std::string>& values, const Gauge& g) {
        out += name + LabelText(names, values) + " " + FormatDouble(g.Value()) + "\n";
      });
    } else if (e->histogram) {
      RenderHistogram(name, *e->histogram, out);
    } else if (e->callback) {
      out += name + " " + FormatDouble(e->callback()) + "\n";
    }
  }
  return out;
}

}  // namespace sb::metrics
