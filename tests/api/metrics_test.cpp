// The metrics registry: the exact exposition text, escaping, number formats, programming errors,
// concurrent updates, and (where prometheus_client is installed) Prometheus's own parser.
#include "hocba/common/metrics.h"

#include <gtest/gtest.h>

#include <charconv>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "test_env.h"

using namespace hocba;

namespace {

void fill_small_registry(Metrics& m) {
  m.describe("hocba_requests_total", "counter", "HTTP requests handled.");
  m.describe("hocba_sign_seconds", "histogram", "Time to sign one record.");
  for (int i = 0; i < 3; ++i) m.counter_add("hocba_requests_total", {{"method", "GET"}, {"code", "200"}});
  m.counter_add("hocba_requests_total", {{"method", "POST"}, {"code", "201"}}, 2);
  m.gauge_set("hocba_queue_depth", {}, 4);
  m.gauge_add("hocba_queue_depth", {}, -1.5);
  m.observe("hocba_sign_seconds", {{"key", "seal"}}, 0.3);
  m.observe("hocba_sign_seconds", {{"key", "seal"}}, 4);
}

const char* kSmallRegistryText =
    "# TYPE hocba_queue_depth gauge\n"
    "hocba_queue_depth 2.5\n"
    "# HELP hocba_requests_total HTTP requests handled.\n"
    "# TYPE hocba_requests_total counter\n"
    "hocba_requests_total{method=\"GET\",code=\"200\"} 3\n"
    "hocba_requests_total{method=\"POST\",code=\"201\"} 2\n"
    "# HELP hocba_sign_seconds Time to sign one record.\n"
    "# TYPE hocba_sign_seconds histogram\n"
    "hocba_sign_seconds_bucket{key=\"seal\",le=\"0.005\"} 0\n"
    "hocba_sign_seconds_bucket{key=\"seal\",le=\"0.01\"} 0\n"
    "hocba_sign_seconds_bucket{key=\"seal\",le=\"0.025\"} 0\n"
    "hocba_sign_seconds_bucket{key=\"seal\",le=\"0.05\"} 0\n"
    "hocba_sign_seconds_bucket{key=\"seal\",le=\"0.1\"} 0\n"
    "hocba_sign_seconds_bucket{key=\"seal\",le=\"0.25\"} 0\n"
    "hocba_sign_seconds_bucket{key=\"seal\",le=\"0.5\"} 1\n"
    "hocba_sign_seconds_bucket{key=\"seal\",le=\"1\"} 1\n"
    "hocba_sign_seconds_bucket{key=\"seal\",le=\"2.5\"} 1\n"
    "hocba_sign_seconds_bucket{key=\"seal\",le=\"5\"} 2\n"
    "hocba_sign_seconds_bucket{key=\"seal\",le=\"10\"} 2\n"
    "hocba_sign_seconds_bucket{key=\"seal\",le=\"30\"} 2\n"
    "hocba_sign_seconds_bucket{key=\"seal\",le=\"60\"} 2\n"
    "hocba_sign_seconds_bucket{key=\"seal\",le=\"+Inf\"} 2\n"
    "hocba_sign_seconds_sum{key=\"seal\"} 4.3\n"
    "hocba_sign_seconds_count{key=\"seal\"} 2\n";

}  // namespace

TEST(Metrics, ExactText) {
  Metrics m;
  EXPECT_EQ(m.render(), "");
  fill_small_registry(m);
  EXPECT_EQ(m.render(), kSmallRegistryText);
}

TEST(Metrics, ARemovedSeriesIsGoneAndAnEmptyFamilyIsNotRendered) {
  Metrics m;
  m.describe("hocba_queue_depth", "gauge", "Records waiting in running batch jobs");
  m.gauge_set("hocba_queue_depth", {{"job", "1"}}, 3);
  m.gauge_set("hocba_queue_depth", {{"job", "2"}}, 5);
  m.remove("hocba_queue_depth", {{"job", "1"}});
  EXPECT_EQ(m.render(),
            "# HELP hocba_queue_depth Records waiting in running batch jobs\n"
            "# TYPE hocba_queue_depth gauge\n"
            "hocba_queue_depth{job=\"2\"} 5\n");
  m.remove("hocba_queue_depth", {{"job", "1"}});  // again: nothing happens
  m.remove("hocba_no_such_metric", {{"job", "2"}});
  m.remove("hocba_queue_depth", {{"job", "2"}});
  EXPECT_EQ(m.render(), "");
  m.gauge_set("hocba_queue_depth", {{"job", "3"}}, 1);  // the family keeps its type and help
  EXPECT_NE(m.render().find("# HELP hocba_queue_depth Records waiting"), std::string::npos);
}

TEST(Metrics, SeriesOrderAndBucketEdges) {
  Metrics m;
  m.counter_add("b_total", {{"x", "2"}});
  m.counter_add("a_total", {});
  m.counter_add("b_total", {{"x", "10"}});
  m.counter_add("b_total", {{"x", "1"}}, 0.5);
  m.observe("h", {}, 0.005);  // on a bound: counts in that bucket (le = less or equal)
  m.observe("h", {}, 61);     // above the last bound: only +Inf
  std::string t = m.render();
  EXPECT_EQ(t.substr(0, t.find("# TYPE h ")),
            "# TYPE a_total counter\na_total 1\n"
            "# TYPE b_total counter\nb_total{x=\"1\"} 0.5\nb_total{x=\"10\"} 1\nb_total{x=\"2\"} 1\n");
  EXPECT_NE(t.find("h_bucket{le=\"0.005\"} 1\n"), std::string::npos) << t;
  EXPECT_NE(t.find("h_bucket{le=\"60\"} 1\nh_bucket{le=\"+Inf\"} 2\nh_sum 61.005\nh_count 2\n"), std::string::npos)
      << t;
}

TEST(Metrics, Escaping) {
  Metrics m;
  m.describe("esc", "gauge", "a \\ backslash, a \"quote\" and a\nnew line");
  m.gauge_set("esc", {{"path", "C:\\hoc ba\\\"x\"\nnext"}, {"vn", "Trường THPT"}}, 1);
  EXPECT_EQ(m.render(),
            "# HELP esc a \\\\ backslash, a \"quote\" and a\\nnew line\n"
            "# TYPE esc gauge\n"
            "esc{path=\"C:\\\\hoc ba\\\\\\\"x\\\"\\nnext\",vn=\"Trường THPT\"} 1\n");
}

TEST(Metrics, NumberFormat) {
  EXPECT_EQ(format_metric_value(0), "0");
  EXPECT_EQ(format_metric_value(-0.0), "0");
  EXPECT_EQ(format_metric_value(3), "3");
  EXPECT_EQ(format_metric_value(-42), "-42");
  EXPECT_EQ(format_metric_value(1e15), "1000000000000000");
  EXPECT_EQ(format_metric_value(0.1), "0.1");
  EXPECT_EQ(format_metric_value(2.5), "2.5");
  EXPECT_EQ(format_metric_value(0.1 + 0.2), "0.30000000000000004");
  EXPECT_EQ(format_metric_value(1e-7), "1e-07");
  EXPECT_EQ(format_metric_value(1e20), "1e+20");
  EXPECT_EQ(format_metric_value(std::numeric_limits<double>::infinity()), "+Inf");
  EXPECT_EQ(format_metric_value(-std::numeric_limits<double>::infinity()), "-Inf");
  EXPECT_EQ(format_metric_value(std::nan("")), "NaN");
  for (double v : {0.1, 1.0 / 3, 123456.789, 6.02214076e23, 5e-324}) {  // reads back exactly
    std::string s = format_metric_value(v);
    double back = 0;
    auto r = std::from_chars(s.data(), s.data() + s.size(), back);
    EXPECT_TRUE(r.ec == std::errc() && r.ptr == s.data() + s.size()) << s;
    EXPECT_EQ(back, v) << s;
  }
}

TEST(Metrics, ProgrammingErrorsThrow) {
  Metrics m;
  for (const char* bad : {"", "1abc", "a-b", "a b", "é", "a.b"})
    EXPECT_THROW(m.counter_add(bad, {}), std::invalid_argument) << bad;
  EXPECT_NO_THROW(m.counter_add("ok:sub_total", {}));
  for (const char* bad : {"", "__reserved", "a:b", "1x", "a-b"})
    EXPECT_THROW(m.counter_add("c_total", {{bad, "v"}}), std::invalid_argument) << bad;
  EXPECT_THROW(m.counter_add("c_total", {{"a", "1"}, {"a", "2"}}), std::invalid_argument);
  EXPECT_THROW(m.counter_add("c_total", {}, -1), std::invalid_argument);
  EXPECT_THROW(m.counter_add("c_total", {}, std::nan("")), std::invalid_argument);
  EXPECT_THROW(m.observe("h", {{"le", "1"}}, 1), std::invalid_argument);
  EXPECT_NO_THROW(m.counter_add("c_total", {{"le", "1"}}));  // "le" is only reserved on histograms

  // One name, one type.
  m.counter_add("x_total", {});
  EXPECT_THROW(m.gauge_set("x_total", {}, 1), std::invalid_argument);
  EXPECT_THROW(m.observe("x_total", {}, 1), std::invalid_argument);
  EXPECT_THROW(m.describe("x_total", "gauge", "no"), std::invalid_argument);
  EXPECT_NO_THROW(m.describe("x_total", "counter", "yes"));
  EXPECT_THROW(m.describe("y", "summary", "no"), std::invalid_argument);
  m.describe("g", "gauge", "described first");
  EXPECT_THROW(m.counter_add("g", {}), std::invalid_argument);
  m.gauge_add("g", {}, -2);
  EXPECT_NE(m.render().find("# HELP g described first\n# TYPE g gauge\ng -2\n"), std::string::npos);
}

TEST(Metrics, ConcurrentUpdatesAreExact) {
  Metrics m;
  constexpr int kThreads = 8, kIncrements = 10000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&m, t] {
      Labels mine{{"thread", std::to_string(t)}};
      for (int i = 0; i < kIncrements; ++i) {
        m.counter_add("shared_total", {{"kind", "all"}});
        m.counter_add("per_thread_total", mine);
        m.gauge_add("level", {}, 1);
        m.observe("lat_seconds", {}, (i % 2) ? 0.125 : 20);
        if (i % 1000 == 0) (void)m.render();
      }
    });
  }
  for (auto& th : threads) th.join();
  std::string t = m.render();
  EXPECT_NE(t.find("shared_total{kind=\"all\"} 80000\n"), std::string::npos) << t;
  EXPECT_NE(t.find("level 80000\n"), std::string::npos);
  for (int i = 0; i < kThreads; ++i)
    EXPECT_NE(t.find("per_thread_total{thread=\"" + std::to_string(i) + "\"} 10000\n"), std::string::npos);
  EXPECT_NE(t.find("lat_seconds_bucket{le=\"0.25\"} 40000\n"), std::string::npos);
  EXPECT_NE(t.find("lat_seconds_bucket{le=\"+Inf\"} 80000\n"), std::string::npos);
  EXPECT_NE(t.find("lat_seconds_sum 805000\n"), std::string::npos) << t;
  EXPECT_NE(t.find("lat_seconds_count 80000\n"), std::string::npos);
}

// Prometheus's Python client parses the text back (skipped when it is not installed).
TEST(Metrics, PrometheusClientParses) {
  if (test::run("/usr/bin/python3 -c 'import prometheus_client'").status != 0)
    GTEST_SKIP() << "python3 prometheus_client not installed";
  test::TempDir d;
  Metrics m;
  fill_small_registry(m);
  m.gauge_set("esc", {{"path", "C:\\x\"y\"\nz"}}, 0.25);
  test::write_text(d.file("metrics.txt"), m.render());
  test::write_text(d.file("parse.py"), R"py(
import sys
from prometheus_client.parser import text_string_to_metric_families
seen = {}
for fam in text_string_to_metric_families(open(sys.argv[1], encoding="utf-8").read()):
    for s in fam.samples:
        seen[(s.name, tuple(sorted(s.labels.items())))] = s.value
def want(name, labels, value):
    got = seen.get((name, tuple(sorted(labels.items()))))
    if got != value:
        sys.exit(f"{name}{labels}: got {got}, want {value}")
want("hocba_requests_total", {"method": "GET", "code": "200"}, 3.0)
want("hocba_requests_total", {"method": "POST", "code": "201"}, 2.0)
want("hocba_queue_depth", {}, 2.5)
want("hocba_sign_seconds_bucket", {"key": "seal", "le": "0.5"}, 1.0)
want("hocba_sign_seconds_bucket", {"key": "seal", "le": "+Inf"}, 2.0)
want("hocba_sign_seconds_sum", {"key": "seal"}, 4.3)
want("hocba_sign_seconds_count", {"key": "seal"}, 2.0)
want("esc", {"path": 'C:\\x"y"\nz'}, 0.25)
print("ok")
)py");
  auto r = test::run("/usr/bin/python3 '" + d.file("parse.py") + "' '" + d.file("metrics.txt") + "'");
  EXPECT_EQ(r.status, 0) << r.out;
  EXPECT_EQ(r.out, "ok\n");
}
