#include "sb/base/metrics.h"

#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace sb::metrics {
namespace {

using ::testing::HasSubstr;

TEST(MetricsRegistry, RendersCounterWithHelpTypeAndLabels) {
  MetricsRegistry registry;
  auto& requests = registry.AddCounter("sb_http_requests_total", "HTTP requests.",
                                       {"route", "method", "status"});
  requests.WithLabels({"/v1/tenants/{id}", "GET", "200"}).Increment();
  requests.WithLabels({"/v1/tenants/{id}", "GET", "200"}).Increment(2);
  const std::string text = registry.RenderPrometheusText();
  EXPECT_THAT(text, HasSubstr("# HELP sb_http_requests_total HTTP requests.\n"));
  EXPECT_THAT(text, HasSubstr("# TYPE sb_http_requests_total counter\n"));
  EXPECT_THAT(
      text,
      HasSubstr(
          "sb_http_requests_total{route=\"/v1/tenants/{id}\",method=\"GET\",status=\"200\"} 3\n"));
}

TEST(MetricsRegistry, EscapesLabelValuesAndHelp) {
  MetricsRegistry registry;
  registry.AddCounter("c_total", "line1\nback\\slash", {"l"})
      .WithLabels({"a\"b\\c\nd"})
      .Increment();
  const std::string text = registry.RenderPrometheusText();
  EXPECT_THAT(text, HasSubstr("# HELP c_total line1\\nback\\\\slash\n"));
  EXPECT_THAT(text, HasSubstr("c_total{l=\"a\\\"b\\\\c\\nd\"} 1\n"));
}

TEST(MetricsRegistry, HistogramBucketsAreCumulative) {
  MetricsRegistry registry;
  auto& h = registry.AddHistogram("lat_seconds", "Latency.", {"route"}, {0.0005, 0.1, 1});
  auto& series = h.WithLabels({"r"});
  series.Observe(0.05);
  series.Observe(0.1);  // on the bound: counts in le="0.1"
  series.Observe(0.5);
  series.Observe(20);
  const std::string text = registry.RenderPrometheusText();
  EXPECT_THAT(text, HasSubstr("# TYPE lat_seconds histogram\n"));
  EXPECT_THAT(text, HasSubstr("lat_seconds_bucket{route=\"r\",le=\"0.0005\"} 0\n"));
  EXPECT_THAT(text, HasSubstr("lat_seconds_bucket{route=\"r\",le=\"0.1\"} 2\n"));
  EXPECT_THAT(text, HasSubstr("lat_seconds_bucket{route=\"r\",le=\"1\"} 3\n"));
  EXPECT_THAT(text, HasSubstr("lat_seconds_bucket{route=\"r\",le=\"+Inf\"} 4\n"));
  EXPECT_THAT(text, HasSubstr("lat_seconds_sum{route=\"r\"} 20.65\n"));
  EXPECT_THAT(text, HasSubstr("lat_seconds_count{route=\"r\"} 4\n"));
}

TEST(MetricsRegistry, GaugesDirectAndCallback) {
  MetricsRegistry registry;
  registry.AddGauge("pool_size", "Pool size.").WithLabels({}).Set(4);
  double depth = 7;
  registry.AddGaugeCallback("queue_depth", "Queue depth.", [&] { return depth; });
  std::string text = registry.RenderPrometheusText();
  EXPECT_THAT(text, HasSubstr("# TYPE pool_size gauge\npool_size 4\n"));
  EXPECT_THAT(text, HasSubstr("# TYPE queue_depth gauge\nqueue_depth 7\n"));
  registry.RemoveGaugeCallback("queue_depth");
  text = registry.RenderPrometheusText();
  EXPECT_EQ(text.find("queue_depth"), std::string::npos);
}

TEST(MetricsRegistry, SameNameReturnsSameFamily) {
  MetricsRegistry registry;
  auto& a = registry.AddCounter("x_total", "X.", {"k"});
  auto& b = registry.AddCounter("x_total", "X.", {"k"});
  EXPECT_EQ(&a, &b);
  EXPECT_EQ(&a.WithLabels({"v"}), &b.WithLabels({"v"}));
}

TEST(MetricsRegistry, ConcurrentIncrementsAreNotLost) {
  MetricsRegistry registry;
  auto& family = registry.AddCounter("n_total", "N.", {"k"});
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 10000; ++i) family.WithLabels({"same"}).Increment();
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(family.WithLabels({"same"}).Value(), 40000u);
}

}  // namespace
}  // namespace sb::metrics
