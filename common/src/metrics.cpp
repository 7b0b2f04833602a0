// The metrics registry and its Prometheus text exposition (format 0.0.4).
#include "hocba/common/metrics.h"

#include <array>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <map>
#include <mutex>
#include <stdexcept>

namespace hocba {
namespace {

enum class Type { counter, gauge, histogram };

const char* type_name(Type t) {
  switch (t) {
    case Type::counter: return "counter";
    case Type::gauge: return "gauge";
    case Type::histogram: return "histogram";
  }
  return "untyped";
}

constexpr std::size_t kBucketCount = std::size(kDefaultBuckets);

struct Series {
  double value = 0;                                       // counter, gauge
  std::array<std::uint64_t, kBucketCount + 1> buckets{};  // histogram: per bucket, the last is +Inf
  double sum = 0;
  std::uint64_t count = 0;
};

struct Family {
  Type type = Type::counter;
  bool typed = false;  // the type was set by describe() or a first use
  std::string help;
  std::map<Labels, Series> series;
};

bool name_char(char c, bool first, bool colon) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_') return true;
  if (colon && c == ':') return true;
  return !first && c >= '0' && c <= '9';
}

bool valid_name(std::string_view s, bool colon) {
  if (s.empty()) return false;
  for (std::size_t i = 0; i < s.size(); ++i)
    if (!name_char(s[i], i == 0, colon)) return false;
  return true;
}

void check_metric_name(std::string_view name) {
  if (!valid_name(name, true)) throw std::invalid_argument("bad metric name '" + std::string(name) + "'");
}

void check_labels(std::string_view name, const Labels& labels, Type type) {
  for (std::size_t i = 0; i < labels.size(); ++i) {
    const std::string& l = labels[i].first;
    if (!valid_name(l, false) || l.starts_with("__"))
      throw std::invalid_argument("bad label name '" + l + "' on metric " + std::string(name));
    if (type == Type::histogram && l == "le")
      throw std::invalid_argument("the label 'le' is reserved on histogram " + std::string(name));
    for (std::size_t j = 0; j < i; ++j)
      if (labels[j].first == l) throw std::invalid_argument("label '" + l + "' given twice on " + std::string(name));
  }
}

void escape_into(std::string& out, std::string_view s, bool quotes) {
  for (char c : s) {
    if (c == '\\') out += "\\\\";
    else if (c == '\n') out += "\\n";
    else if (quotes && c == '"') out += "\\\"";
    else out += c;
  }
}

// NAME{l1="v1",...,extra} VALUE\n
void sample(std::string& out, std::string_view name, std::string_view suffix, const Labels& labels,
            const std::pair<const char*, std::string>* extra, double value) {
  out.append(name).append(suffix);
  if (!labels.empty() || extra) {
    out += '{';
    bool first = true;
    for (const auto& [k, v] : labels) {
      if (!first) out += ',';
      first = false;
      out.append(k).append("=\"");
      escape_into(out, v, true);
      out += '"';
    }
    if (extra) {
      if (!first) out += ',';
      out.append(extra->first).append("=\"").append(extra->second).append("\"");
    }
    out += '}';
  }
  out += ' ';
  out += format_metric_value(value);
  out += '\n';
}

}  // namespace

struct Metrics::Impl {
  mutable std::mutex mu;
  std::map<std::string, Family, std::less<>> families;

  // The family `name`, created or checked to be of `type`; called with mu held.
  Family& family(std::string_view name, Type type) {
    auto it = families.find(name);
    if (it == families.end()) {
      check_metric_name(name);
      it = families.emplace(std::string(name), Family{}).first;
    }
    Family& f = it->second;
    if (!f.typed) {
      f.type = type;
      f.typed = true;
    } else if (f.type != type) {
      throw std::invalid_argument("metric " + std::string(name) + " is a " + type_name(f.type) + ", not a " +
                                  type_name(type));
    }
    return f;
  }

  // The series of `labels` in family `name`, created (at 0) on first use; called with mu held.
  Series& series(std::string_view name, const Labels& labels, Type type) {
    Family& f = family(name, type);
    auto it = f.series.find(labels);
    if (it == f.series.end()) {
      check_labels(name, labels, type);
      it = f.series.emplace(labels, Series{}).first;
    }
    return it->second;
  }
};

Metrics::Metrics() : impl_(std::make_unique<Impl>()) {}
Metrics::~Metrics() = default;

void Metrics::counter_add(std::string_view name, const Labels& labels, double v) {
  if (!(v >= 0)) throw std::invalid_argument("counter " + std::string(name) + " can only go up");
  std::lock_guard lock(impl_->mu);
  impl_->series(name, labels, Type::counter).value += v;
}

void Metrics::gauge_set(std::string_view name, const Labels& labels, double v) {
  std::lock_guard lock(impl_->mu);
  impl_->series(name, labels, Type::gauge).value = v;
}

void Metrics::gauge_add(std::string_view name, const Labels& labels, double v) {
  std::lock_guard lock(impl_->mu);
  impl_->series(name, labels, Type::gauge).value += v;
}

void Metrics::observe(std::string_view name, const Labels& labels, double seconds) {
  std::size_t b = 0;
  while (b < kBucketCount && !(seconds <= kDefaultBuckets[b])) ++b;  // NaN lands in +Inf
  std::lock_guard lock(impl_->mu);
  Series& s = impl_->series(name, labels, Type::histogram);
  ++s.buckets[b];
  s.sum += seconds;
  ++s.count;
}

void Metrics::remove(std::string_view name, const Labels& labels) {
  std::lock_guard lock(impl_->mu);
  auto it = impl_->families.find(name);
  if (it != impl_->families.end()) it->second.series.erase(labels);
}

void Metrics::describe(std::string_view name, std::string_view type, std::string_view help) {
  Type t;
  if (type == "counter") t = Type::counter;
  else if (type == "gauge") t = Type::gauge;
  else if (type == "histogram") t = Type::histogram;
  else throw std::invalid_argument("unknown metric type '" + std::string(type) + "' for " + std::string(name));
  std::lock_guard lock(impl_->mu);
  impl_->family(name, t).help = std::string(help);
}

std::string Metrics::render() const {
  std::string out;
  std::lock_guard lock(impl_->mu);
  for (const auto& [name, f] : impl_->families) {
    if (f.series.empty()) continue;
    if (!f.help.empty()) {
      out.append("# HELP ").append(name).append(" ");
      escape_into(out, f.help, false);
      out += '\n';
    }
    out.append("# TYPE ").append(name).append(" ").append(type_name(f.type)).append("\n");
    for (const auto& [labels, s] : f.series) {
      if (f.type != Type::histogram) {
        sample(out, name, "", labels, nullptr, s.value);
        continue;
      }
      std::uint64_t cumulative = 0;
      for (std::size_t b = 0; b <= kBucketCount; ++b) {
        cumulative += s.buckets[b];
        std::pair<const char*, std::string> le{"le",
                                               b < kBucketCount ? format_metric_value(kDefaultBuckets[b]) : "+Inf"};
        sample(out, name, "_bucket", labels, &le, static_cast<double>(cumulative));
      }
      sample(out, name, "_sum", labels, nullptr, s.sum);
      sample(out, name, "_count", labels, nullptr, static_cast<double>(s.count));
    }
  }
  return out;
}

std::string format_metric_value(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  if (v == std::trunc(v) && std::fabs(v) < 9007199254740992.0)  // whole and exact: no exponent
    return std::to_string(static_cast<std::int64_t>(v));
  char buf[32];
  auto r = std::to_chars(buf, buf + sizeof buf, v);  // shortest round-trip form
  return std::string(buf, r.ptr);
}

}  // namespace hocba
