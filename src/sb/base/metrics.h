// MetricsRegistry: a Prometheus-style registry of counters, gauges and histograms, rendered in
// the text exposition format (version 0.0.4). No I/O: a /metrics handler serves the text.
//
// A family (one metric name, fixed label names) hands out series by label values. Series are
// created once and never freed while the registry lives, so callers may cache the returned
// reference and observe lock-free (atomics) on the hot path; WithLabels itself takes the
// family's mutex and does no allocation when the series exists already.
//
// Thread safety: every class here is thread-safe. The registry must outlive every reference it
// handed out. Gauge callbacks run on the thread calling RenderPrometheusText and must be
// removed (RemoveGaugeCallback) before whatever they read is destroyed.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace sb::metrics {

class Counter {
 public:
  void Increment(uint64_t n = 1) { value_.fetch_add(n, std::memory_order_relaxed); }
  uint64_t Value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> value_{0};
};

class Gauge {
 public:
  void Set(double v) { value_.store(v, std::memory_order_relaxed); }
  void Add(double v) { value_.fetch_add(v, std::memory_order_relaxed); }
  double Value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

class Histogram {
 public:
  // REQUIRES: `bounds` strictly increasing (upper bounds; +Inf is implicit).
  explicit Histogram(const std::vector<double>& bounds);
  void Observe(double v);

  struct Snapshot {
    std::vector<double> bounds;
    std::vector<uint64_t> cumulative;  // one per bound, then +Inf
    double sum = 0;
    uint64_t count = 0;
  };
  Snapshot Take() const;

 private:
  std::vector<double> bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> buckets_;  // bounds_.size() + 1 (the +Inf bucket)
  std::atomic<double> sum_{0};
  std::atomic<uint64_t> count_{0};
};

// Buckets for request latencies in seconds: 0.5 ms .. 10 s.
std::vector<double> LatencyBuckets();

// Escapes a label value for the exposition format: backslash, double quote, newline.
std::string EscapeLabelValue(std::string_view value);

// A metric name plus label names; series are looked up by label values (same order).
template <typename T>
class Family {
 public:
  Family(std::vector<std::string> label_names, std::function<std::unique_ptr<T>()> make)
      : label_names_(std::move(label_names)), make_(std::move(make)) {}

  // Returns the series for `values`, creating it on first use. The reference stays valid for
  // the registry's lifetime. REQUIRES: values.size() == number of label names.
  T& WithLabels(std::initializer_list<std::string_view> values);
  T& WithLabels(const std::vector<std::string_view>& values);

  const std::vector<std::string>& label_names() const { return label_names_; }
  // Calls fn(label_values, series) for every series, in label order, under the family lock.
  void ForEach(const std::function<void(const std::vector<std::string>&, const T&)>& fn) const;

 private:
  template <typename It>
  T& Find(It begin, It end);

  struct Series {
    std::vector<std::string> values;
    std::unique_ptr<T> metric;
  };
  const std::vector<std::string> label_names_;
  const std::function<std::unique_ptr<T>()> make_;
  mutable std::mutex mu_;
  std::map<std::string, Series, std::less<>> series_;  // key: values joined by '\xff'; mu_
};

using CounterFamily = Family<Counter>;
using GaugeFamily = Family<Gauge>;
using HistogramFamily = Family<Histogram>;

class MetricsRegistry {
 public:
  MetricsRegistry();
  ~MetricsRegistry();
  MetricsRegistry(const MetricsRegistry&) = delete;
  MetricsRegistry& operator=(const MetricsRegistry&) = delete;

  // Registers a family, or returns the existing one when `name` was registered before with
  // the same kind and label names (SB_CHECK fails otherwise: a programming error).
  CounterFamily& AddCounter(std::string_view name, std::string_view help,
                            std::vector<std::string> label_names = {});
  GaugeFamily& AddGauge(std::string_view name, std::string_view help,
                        std::vector<std::string> label_names = {});
  HistogramFamily& AddHistogram(std::string_view name, std::string_view help,
                                std::vector<std::string> label_names,
                                std::vector<double> bounds = LatencyBuckets());

  // A label-less gauge whose value `fn` computes at render time (pool sizes, queue depths).
  // Replaces an earlier callback of the same name.
  void AddGaugeCallback(std::string_view name, std::string_view help, std::function<double()> fn);
  void RemoveGaugeCallback(std::string_view name);

  // All families sorted by name, with # HELP and # TYPE lines.
  std::string RenderPrometheusText() const;

 private:
  struct Entry;
  Entry& FindOrAdd(std::string_view name, std::string_view help, int kind,
                   const std::vector<std::string>& label_names);

  mutable std::mutex mu_;
  std::map<std::string, std::unique_ptr<Entry>, std::less<>> entries_;  // guarded by mu_
};

}  // namespace sb::metrics
