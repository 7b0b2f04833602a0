// The appliance's metrics registry (the job engine and the signing path count into it; hocbad serves
// it at GET /metrics) and its rendering in the Prometheus text exposition format, version 0.0.4 (Content-Type: text/plain; version=0.0.4; charset=utf-8).
//
// A metric family is a name with a type (counter, gauge or histogram) and a help text; its series are
// told apart by their labels. A family gets its type from describe() or from its first use; using it
// later as another type is a programming error. So are bad metric or label names (metric names
// [a-zA-Z_:][a-zA-Z0-9_:]*, label names [a-zA-Z_][a-zA-Z0-9_]* not starting with "__", no label twice
// in one set, no "le" on a histogram) and a negative counter increment: they throw
// std::invalid_argument, as they can only come from the code, never from a request.
//
// Thread safety: every member may be called from any number of threads at once.
#pragma once
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace hocba {

// Label names and values, in the order they are rendered. {a,b} and {b,a} are two different series:
// always pass a family's labels in the same order.
using Labels = std::vector<std::pair<std::string, std::string>>;

// Upper bounds (seconds) of the histogram buckets; +Inf is added when rendering.
inline constexpr double kDefaultBuckets[] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};

class Metrics {
 public:
  Metrics();
  ~Metrics();
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;

  // Adds v (>= 0) to a counter; the series starts at 0.
  void counter_add(std::string_view name, const Labels& labels, double v = 1);
  void gauge_set(std::string_view name, const Labels& labels, double v);
  // Adds v (any sign) to a gauge; the series starts at 0.
  void gauge_add(std::string_view name, const Labels& labels, double v);
  // Records one observation (a duration in seconds) in a histogram with kDefaultBuckets.
  void observe(std::string_view name, const Labels& labels, double seconds);
  // Removes one series (a batch job's, when the job ends), so that it is no longer rendered; nothing
  // happens if it does not exist. A family left without series is not rendered either.
  void remove(std::string_view name, const Labels& labels);
  // Sets the type ("counter", "gauge" or "histogram") and the help text of a family. Describing a
  // family again replaces the help text; the type must stay the same.
  void describe(std::string_view name, std::string_view type, std::string_view help);

  // The exposition text: for each family that has series, in byte order of the names, "# HELP"
  // (when there is a help text) and "# TYPE" lines, then its series ordered by their labels.
  // Histograms give NAME_bucket series with cumulative counts and an le label (the last one "+Inf"),
  // then NAME_sum and NAME_count. Label values escape \ " and newline; help texts \ and newline.
  // Values print as integers when they are whole and below 2^53 ("3", not "3.0" or "3e+00"),
  // otherwise in the shortest form that reads back as the same double ("0.25", "1e-07", "1e+20");
  // "+Inf", "-Inf", "NaN".
  std::string render() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// A value as render() prints it (exposed for tests).
std::string format_metric_value(double v);

}  // namespace hocba
