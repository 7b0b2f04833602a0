// The report-card model: import of `hocba.class/v2` and `hocba.class/v1` (docs/record-format.md) and
// its validation. One reader for both: the v2 keys are read only from v2 files (in v1 they are unknown
// keys, ignored), and the few rules that differ ask ClassInfo::format_version.
//
// The file is parsed once into a Boost.JSON DOM on a monotonic resource; then every field is read by
// one small set of getters that record a Problem (JSON path, student, what is wrong with the value) and
// carry on, so one pass reports every problem. Strings are checked for size before anything is copied,
// then for UTF-8 and control characters, then normalised to NFC (Boost.Locale, ICU backend).
#include "hocba/pdf/record.h"

#include "json_text.h"

#include <algorithm>
#include <boost/json.hpp>
#include <boost/locale.hpp>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <initializer_list>
#include <map>
#include <memory>
#include <mutex>

namespace hocba::pdf {

namespace json = boost::json;

const char* level_name(Level l) {
  switch (l) {
    case Level::primary:
      return "primary";
    case Level::lower_secondary:
      return "lower_secondary";
    case Level::upper_secondary:
      return "upper_secondary";
  }
  return "primary";
}

std::string Problem::to_string() const {
  std::string s = path.empty() ? message : path + ": " + message;
  if (!student_name.empty() && !student_id.empty()) {
    s += " (" + student_name + ", " + student_id + ")";
  } else if (!student_name.empty()) {
    s += " (" + student_name + ")";
  } else if (!student_id.empty()) {
    s += " (" + student_id + ")";
  }
  return s;
}

bool ClassFile::class_ok() const {
  // Per-student problems all live under "students[i]"; anything else concerns the class.
  return std::none_of(errors.begin(), errors.end(), [](const Problem& p) { return p.path.rfind("students[", 0) != 0; });
}

namespace {

constexpr const char* kFormatV1 = "hocba.class/v1";
constexpr const char* kFormatV2 = "hocba.class/v2";
// Circular 27, Regulation Art. 9(2)(a): the end-of-year test thresholds of the three completion levels.
constexpr double kExcellentMinTest = 9.0;    // Hoàn thành xuất sắc
constexpr double kGoodMinTest = 7.0;         // Hoàn thành tốt
constexpr double kCompletedMinTest = 5.0;    // Hoàn thành
constexpr std::size_t kQuoteMaxBytes = 120;  // values longer than this are described, not quoted
constexpr std::size_t kSubjectMaxBytes = 100;  // a subject teacher's subject name
constexpr std::size_t kRegistrationMaxBytes = 32;  // a registration number (số đăng bộ)
// Circular 22/2021: a student absent more sessions (buổi) than this in the year is not promoted.
constexpr int kMaxAbsentSessions = 45;

// ---- text -------------------------------------------------------------------------------------

// Length of the valid UTF-8 sequence at s[i], or 0 if it is invalid (overlong, surrogate, > U+10FFFF,
// truncated).
std::size_t utf8_seq(std::string_view s, std::size_t i) {
  auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char c = b(i);
  if (c < 0x80) return 1;
  std::size_t n;
  unsigned char lo = 0x80, hi = 0xbf;
  if (c >= 0xc2 && c <= 0xdf) {
    n = 2;
  } else if (c >= 0xe0 && c <= 0xef) {
    n = 3;
    if (c == 0xe0) lo = 0xa0;
    if (c == 0xed) hi = 0x9f;
  } else if (c >= 0xf0 && c <= 0xf4) {
    n = 4;
    if (c == 0xf0) lo = 0x90;
    if (c == 0xf4) hi = 0x8f;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  if (b(i + 1) < lo || b(i + 1) > hi) return 0;
  for (std::size_t k = 2; k < n; ++k)
    if (b(i + k) < 0x80 || b(i + k) > 0xbf) return 0;
  return n;
}

// Offset of the first invalid byte, or npos.
std::size_t invalid_utf8_at(std::string_view s) {
  for (std::size_t i = 0; i < s.size();) {
    std::size_t n = utf8_seq(s, i);
    if (n == 0) return i;
    i += n;
  }
  return std::string_view::npos;
}

bool is_control(unsigned char c) { return (c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7f; }

bool is_ascii(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return static_cast<unsigned char>(c) < 0x80; });
}

const std::locale& nfc_locale() {
  static const std::locale loc = [] {
    boost::locale::localization_backend_manager mgr = boost::locale::localization_backend_manager::global();
    mgr.select("icu");
    boost::locale::generator gen(mgr);
    return gen("en_US.UTF-8");
  }();
  return loc;
}

std::string to_nfc(std::string_view s) {
  if (is_ascii(s)) return std::string(s);  // ASCII is always NFC
  return boost::locale::normalize(s.data(), s.data() + s.size(), boost::locale::norm_nfc, nfc_locale());
}

std::string quoted(std::string_view s) {
  std::string out;
  detail::append_json_string(out, s);
  return out;
}

// ---- numbers ----------------------------------------------------------------------------------

std::string fmt_double(double d) {
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, d);
  return std::string(buf, r.ptr);
}

std::string fmt_tenths(long long t) {
  std::string s = t < 0 ? "-" : "";
  long long a = t < 0 ? -t : t;
  return s + std::to_string(a / 10) + "." + std::to_string(a % 10);
}

bool is_number(const json::value& v) { return v.is_int64() || v.is_uint64() || v.is_double(); }

double as_double(const json::value& v) {
  if (v.is_int64()) return static_cast<double>(v.get_int64());
  if (v.is_uint64()) return static_cast<double>(v.get_uint64());
  return v.get_double();
}

std::string fmt_number(const json::value& v) {
  if (v.is_int64()) return std::to_string(v.get_int64());
  if (v.is_uint64()) return std::to_string(v.get_uint64());
  return fmt_double(v.get_double());
}

// How a value is shown in a message: `"abc"`, `11.5`, `true`, `an object`, `a string of 52000000 bytes`.
std::string describe(const json::value& v) {
  switch (v.kind()) {
    case json::kind::null:
      return "null";
    case json::kind::bool_:
      return v.get_bool() ? "true" : "false";
    case json::kind::int64:
    case json::kind::uint64:
    case json::kind::double_:
      return fmt_number(v);
    case json::kind::string: {
      const json::string& s = v.get_string();
      if (s.size() > kQuoteMaxBytes) return "a string of " + std::to_string(s.size()) + " bytes";
      return quoted(std::string_view(s.data(), s.size()));
    }
    case json::kind::array:
      return "an array";
    case json::kind::object:
      return "an object";
  }
  return "a value";
}

// ---- the input's JSON, written back compactly -------------------------------------------------

// Boost.JSON 1.81 writes doubles in scientific form (6.2 as "6.2E0"); this writes them as the input
// does ("6.2", "5.0") and keeps everything else, including key order and unknown keys.
void write_json(std::string& out, const json::value& v) {
  switch (v.kind()) {
    case json::kind::null:
      out += "null";
      break;
    case json::kind::bool_:
      out += v.get_bool() ? "true" : "false";
      break;
    case json::kind::int64:
    case json::kind::uint64:
      out += fmt_number(v);
      break;
    case json::kind::double_: {
      std::string d = fmt_double(v.get_double());
      if (d.find_first_of(".eE") == std::string::npos) d += ".0";
      out += d;
      break;
    }
    case json::kind::string:
      detail::append_json_string(out, std::string_view(v.get_string().data(), v.get_string().size()));
      break;
    case json::kind::array: {
      out += '[';
      bool first = true;
      for (const auto& e : v.get_array()) {
        if (!first) out += ',';
        first = false;
        write_json(out, e);
      }
      out += ']';
      break;
    }
    case json::kind::object: {
      out += '{';
      bool first = true;
      for (const auto& kv : v.get_object()) {
        if (!first) out += ',';
        first = false;
        detail::append_json_string(out, std::string_view(kv.key().data(), kv.key().size()));
        out += ':';
        write_json(out, kv.value());
      }
      out += '}';
      break;
    }
  }
}

// ---- dates ------------------------------------------------------------------------------------

bool leap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

// "" when s is a real date in the form YYYY-MM-DD, else the message.
std::string date_problem(const std::string& s) {
  auto digit = [&](std::size_t i) { return s[i] >= '0' && s[i] <= '9'; };
  bool shape = s.size() == 10 && s[4] == '-' && s[7] == '-';
  for (std::size_t i : {0, 1, 2, 3, 5, 6, 8, 9}) shape = shape && digit(i);
  if (!shape) return quoted(s) + " is not a date of the form YYYY-MM-DD";
  int y = std::stoi(s.substr(0, 4)), m = std::stoi(s.substr(5, 2)), d = std::stoi(s.substr(8, 2));
  static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  // No year 0000 (XSD 1.0's xs:date has none: the XML twin must stay valid).
  if (y == 0 || m < 1 || m > 12 || d < 1 || d > days[m - 1] + (m == 2 && leap(y) ? 1 : 0)) return "date " + s + " does not exist";
  return "";
}

// ---- paths ------------------------------------------------------------------------------------

std::string at(const std::string& path, std::string_view key) {
  return path.empty() ? std::string(key) : path + "." + std::string(key);
}
std::string at(const std::string& path, std::size_t index) { return path + "[" + std::to_string(index) + "]"; }

std::string join(std::initializer_list<const char*> items) {
  std::string s;
  for (const char* i : items) {
    if (!s.empty()) s += ", ";
    s += i;
  }
  return s;
}

// ---- the reader -------------------------------------------------------------------------------

// nonempty: required and not blank; optional_nonempty: may be absent, not blank when present.
enum class Need { optional, required, nonempty, optional_nonempty };

class Reader {
 public:
  Reader(const ParseLimits& limits, ClassFile& out) : limits_(limits), out_(out) {}

  // The student the next problems belong to (empty for class-level problems).
  void set_student(std::string name, std::string id) {
    name_ = std::move(name);
    id_ = std::move(id);
  }

  void error(const std::string& path, std::string message) {
    out_.errors.push_back(Problem{path, name_, id_, std::move(message)});
  }
  void warn(const std::string& path, std::string message) {
    out_.warnings.push_back(Problem{path, name_, id_, std::move(message)});
  }
  std::size_t error_count() const { return out_.errors.size(); }

  // The member `key` of o, or nullptr when it is absent or null (null means absent everywhere).
  static const json::value* find(const json::object& o, std::string_view key) {
    const json::value* v = o.if_contains(key);
    return v && !v->is_null() ? v : nullptr;
  }

  const json::value* member(const json::object& o, const std::string& path, std::string_view key, Need need) {
    const json::value* v = find(o, key);
    if (!v && (need == Need::required || need == Need::nonempty)) error(at(path, key), "missing");
    return v;
  }

  // A string: size first (nothing is copied when it is too long), then UTF-8, control characters,
  // then NFC.
  std::optional<std::string> text_value(const json::value& v, const std::string& path, Need need) {
    if (!v.is_string()) {
      error(path, describe(v) + " is not a string");
      return std::nullopt;
    }
    const json::string& js = v.get_string();
    std::string_view s(js.data(), js.size());
    if (s.size() > limits_.max_text_bytes) {
      error(path, "a string of " + std::to_string(s.size()) + " bytes is longer than the " +
                      std::to_string(limits_.max_text_bytes) + " allowed");
      return std::nullopt;
    }
    if (std::size_t bad = invalid_utf8_at(s); bad != std::string_view::npos) {
      error(path, "invalid UTF-8 at byte " + std::to_string(bad) + " of " + quoted(s));
      return std::nullopt;
    }
    for (std::size_t i = 0; i < s.size(); ++i) {
      auto c = static_cast<unsigned char>(s[i]);
      if (is_control(c)) {
        static const char* hex = "0123456789ABCDEF";
        std::string code = "U+00";
        code += hex[c >> 4];
        code += hex[c & 15];
        error(path, "contains the control character " + code + " at byte " + std::to_string(i));
        return std::nullopt;
      }
      // U+FFFE and U+FFFF (EF BF BE, EF BF BF): valid UTF-8, but not characters; XML 1.0 forbids them
      // (the record's XML twin and its XMP must be well-formed).
      if (c == 0xef && i + 2 < s.size() && static_cast<unsigned char>(s[i + 1]) == 0xbf &&
          (static_cast<unsigned char>(s[i + 2]) & 0xfe) == 0xbe) {
        error(path, std::string("contains ") + (s[i + 2] == '\xbe' ? "U+FFFE" : "U+FFFF") + " at byte " + std::to_string(i) +
                        ", which is not a character (XML 1.0 forbids it)");
        return std::nullopt;
      }
    }
    if ((need == Need::nonempty || need == Need::optional_nonempty) &&
        std::all_of(s.begin(), s.end(), [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; })) {
      error(path, "must not be empty");
      return std::nullopt;
    }
    return to_nfc(s);
  }

  std::optional<std::string> text(const json::object& o, const std::string& path, std::string_view key, Need need) {
    const json::value* v = member(o, path, key, need);
    if (!v) return std::nullopt;
    return text_value(*v, at(path, key), need);
  }

  // A string that must be one of `allowed` (compared after NFC).
  std::optional<std::string> choice_value(const json::value& v, const std::string& path,
                                          std::initializer_list<const char*> allowed) {
    if (!v.is_string()) {
      error(path, "must be one of " + join(allowed) + " (got " + describe(v) + ")");
      return std::nullopt;
    }
    auto s = text_value(v, path, Need::required);
    if (!s) return std::nullopt;
    for (const char* a : allowed)
      if (*s == a) return s;
    error(path, "must be one of " + join(allowed) + " (got " + quoted(*s) + ")");
    return std::nullopt;
  }

  std::optional<std::string> choice(const json::object& o, const std::string& path, std::string_view key, Need need,
                                    std::initializer_list<const char*> allowed) {
    const json::value* v = member(o, path, key, need);
    if (!v) return std::nullopt;
    return choice_value(*v, at(path, key), allowed);
  }

  // A number in [lo, hi]; with one_decimal, a multiple of 0.1.
  std::optional<double> number_value(const json::value& v, const std::string& path, double lo, double hi,
                                     bool one_decimal) {
    if (!is_number(v)) {
      error(path, describe(v) + " is not a number");
      return std::nullopt;
    }
    double d = as_double(v);
    if (d < lo) {
      error(path, fmt_number(v) + " is below " + fmt_double(lo));
      return std::nullopt;
    }
    if (d > hi) {
      error(path, fmt_number(v) + " is above " + fmt_double(hi));
      return std::nullopt;
    }
    if (one_decimal && std::fabs(d * 10 - std::round(d * 10)) > 1e-6) {
      error(path, fmt_number(v) + " has more than one decimal");
      return std::nullopt;
    }
    return d;
  }

  std::optional<double> number(const json::object& o, const std::string& path, std::string_view key, Need need,
                               double lo, double hi, bool one_decimal) {
    const json::value* v = member(o, path, key, need);
    if (!v) return std::nullopt;
    return number_value(*v, at(path, key), lo, hi, one_decimal);
  }

  // A whole number in [lo, hi] (`8` or `8.0`); `why` is appended to the not-a-whole-number message.
  std::optional<long long> integer_value(const json::value& v, const std::string& path, long long lo, long long hi,
                                         std::string_view why = {}) {
    if (!is_number(v)) {
      error(path, describe(v) + " is not a number");
      return std::nullopt;
    }
    double d = as_double(v);
    if (d != std::floor(d)) {
      error(path, fmt_number(v) + " is not a whole number" + std::string(why));
      return std::nullopt;
    }
    if (d < static_cast<double>(lo)) {
      error(path, fmt_number(v) + " is below " + std::to_string(lo));
      return std::nullopt;
    }
    if (d > static_cast<double>(hi)) {
      error(path, fmt_number(v) + " is above " + std::to_string(hi));
      return std::nullopt;
    }
    return static_cast<long long>(d);
  }

  std::optional<long long> integer(const json::object& o, const std::string& path, std::string_view key, Need need,
                                   long long lo, long long hi) {
    const json::value* v = member(o, path, key, need);
    if (!v) return std::nullopt;
    return integer_value(*v, at(path, key), lo, hi);
  }

  std::optional<bool> boolean(const json::object& o, const std::string& path, std::string_view key, Need need) {
    const json::value* v = member(o, path, key, need);
    if (!v) return std::nullopt;
    if (!v->is_bool()) {
      error(at(path, key), describe(*v) + " is not true or false");
      return std::nullopt;
    }
    return v->get_bool();
  }

  const json::object* object_value(const json::value& v, const std::string& path) {
    if (!v.is_object()) {
      error(path, describe(v) + " is not an object");
      return nullptr;
    }
    return &v.get_object();
  }

  const json::object* object(const json::object& o, const std::string& path, std::string_view key, Need need) {
    const json::value* v = member(o, path, key, need);
    if (!v) return nullptr;
    return object_value(*v, at(path, key));
  }

  const json::array* array(const json::object& o, const std::string& path, std::string_view key, Need need) {
    const json::value* v = member(o, path, key, need);
    if (!v) return nullptr;
    if (!v->is_array()) {
      error(at(path, key), describe(*v) + " is not an array");
      return nullptr;
    }
    return &v->get_array();
  }

  // An array of at most limits.max_list_items entries; more is one error at the array (naming `items`),
  // and none of them is read.
  const json::array* list(const json::object& o, const std::string& path, std::string_view key, Need need,
                          std::string_view items) {
    const json::array* a = array(o, path, key, need);
    if (a && a->size() > limits_.max_list_items) {
      error(at(path, key), std::to_string(a->size()) + " " + std::string(items) + " are more than the " +
                               std::to_string(limits_.max_list_items) + " allowed");
      return nullptr;
    }
    return a;
  }

  // An array of non-empty strings, at most limits.max_list_items (absent = empty when optional).
  std::vector<std::string> text_list(const json::object& o, const std::string& path, std::string_view key,
                                     std::string_view items, Need need = Need::optional) {
    std::vector<std::string> out;
    const json::array* a = list(o, path, key, need, items);
    if (!a) return out;
    std::string p = at(path, key);
    if (need == Need::nonempty && a->empty()) error(p, "must not be empty");
    for (std::size_t i = 0; i < a->size(); ++i)
      if (auto s = text_value((*a)[i], at(p, i), Need::nonempty)) out.push_back(std::move(*s));
    return out;
  }

  // A string of at most max_bytes (after NFC); `what` names it in the message.
  std::optional<std::string> short_text(const json::object& o, const std::string& path, std::string_view key, Need need,
                                        std::size_t max_bytes, std::string_view what) {
    auto s = text(o, path, key, need);
    if (s && s->size() > max_bytes) {
      error(at(path, key), "a " + std::string(what) + " of " + std::to_string(s->size()) + " bytes is longer than the " +
                               std::to_string(max_bytes) + " allowed");
      return std::nullopt;
    }
    return s;
  }

  // A date YYYY-MM-DD that exists.
  std::optional<std::string> date(const json::object& o, const std::string& path, std::string_view key, Need need) {
    auto s = text(o, path, key, need);
    if (!s) return std::nullopt;
    if (std::string problem = date_problem(*s); !problem.empty()) {
      error(at(path, key), problem);
      return std::nullopt;
    }
    return s;
  }

  // A school year: two consecutive years YYYY-YYYY.
  std::optional<std::string> school_year(const json::object& o, const std::string& path, std::string_view key,
                                         Need need) {
    auto s = text(o, path, key, need);
    if (!s) return std::nullopt;
    bool shape = s->size() == 9 && (*s)[4] == '-' &&
                 std::all_of(s->begin(), s->begin() + 4, [](char c) { return c >= '0' && c <= '9'; }) &&
                 std::all_of(s->begin() + 5, s->end(), [](char c) { return c >= '0' && c <= '9'; });
    if (!shape || std::stoi(s->substr(5)) != std::stoi(s->substr(0, 4)) + 1) {
      error(at(path, key), quoted(*s) + " is not two consecutive years of the form YYYY-YYYY");
      return std::nullopt;
    }
    return s;
  }

  const ParseLimits& limits() const { return limits_; }

 private:
  const ParseLimits& limits_;
  ClassFile& out_;
  std::string name_, id_;
};

// ---- values -----------------------------------------------------------------------------------

bool valid_personal_id(const json::value* v) {
  if (!v || !v->is_string()) return false;
  const json::string& s = v->get_string();
  return s.size() == 12 && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// ---- the two result rules ---------------------------------------------------------------------

long long tenths(double d) { return std::llround(d * 10); }

// Circular 22/2021, Art. 9: the learning result of a semester or the year, from the subjects' averages
// (in tenths) and the number of comment-assessed subjects rated CĐ.
const char* learning_result(const std::vector<long long>& scored, int not_passed) {
  auto count_at_least = [&](long long t) {
    return std::count_if(scored.begin(), scored.end(), [&](long long x) { return x >= t; });
  };
  auto all_at_least = [&](long long t) {
    return std::all_of(scored.begin(), scored.end(), [&](long long x) { return x >= t; });
  };
  if (not_passed == 0 && all_at_least(65) && count_at_least(80) >= 6) return "Tốt";
  if (not_passed == 0 && all_at_least(50) && count_at_least(65) >= 6) return "Khá";
  if (not_passed <= 1 && count_at_least(50) >= 6 && all_at_least(35)) return "Đạt";
  return "Chưa đạt";
}

// Circular 27/2020, Regulation Art. 9(2)(a): the year's education result of a primary student.
const char* primary_result(const std::vector<std::string>& subject_levels, const std::vector<double>& test_scores,
                           const std::vector<std::string>& rating_levels) {
  auto subjects_all = [&](std::initializer_list<const char*> ok) {
    return std::all_of(subject_levels.begin(), subject_levels.end(), [&](const std::string& l) {
      return std::any_of(ok.begin(), ok.end(), [&](const char* o) { return l == o; });
    });
  };
  auto ratings_all = [&](std::initializer_list<const char*> ok) {
    return std::all_of(rating_levels.begin(), rating_levels.end(), [&](const std::string& l) {
      return std::any_of(ok.begin(), ok.end(), [&](const char* o) { return l == o; });
    });
  };
  auto tests_at_least = [&](double t) {
    return std::all_of(test_scores.begin(), test_scores.end(), [&](double x) { return x >= t; });
  };
  if (subjects_all({"T"}) && ratings_all({"T"}) && tests_at_least(kExcellentMinTest)) return "Hoàn thành xuất sắc";
  if (subjects_all({"T"}) && ratings_all({"T"}) && tests_at_least(kGoodMinTest)) return "Hoàn thành tốt";
  if (subjects_all({"T", "H"}) && ratings_all({"T", "Đ"}) && tests_at_least(kCompletedMinTest)) return "Hoàn thành";
  return "Chưa hoàn thành";
}

// ---- class ------------------------------------------------------------------------------------

std::optional<Staff> read_staff(Reader& r, const json::object& o, const std::string& path, std::string_view key) {
  const json::object* s = r.object(o, path, key, Need::required);
  if (!s) return std::nullopt;
  std::string p = at(path, key);
  Staff st;
  auto name = r.text(*s, p, "name", Need::nonempty);
  auto user = r.text(*s, p, "username", Need::nonempty);
  if (name) st.name = *name;
  if (user) st.username = *user;
  return st;
}

// The appliance's account names (as api/'s user store accepts them): 1-64 of a-z 0-9 . _ -
bool valid_username(const std::string& u) {
  if (u.empty() || u.size() > 64) return false;
  return std::all_of(u.begin(), u.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
  });
}

// "class.subject_teachers": optional; at most limits.max_subject_teachers entries of {subject, name,
// username}, one per subject. Read after the students: a subject that none of the class's (valid)
// students has is a warning (probably misspelt; nobody would be asked to confirm it).
void read_subject_teachers(Reader& r, const json::object& root, ClassFile& cf) {
  const json::value* cv = Reader::find(root, "class");
  if (!cv || !cv->is_object()) return;  // reported already
  const json::object& c = cv->get_object();
  ClassInfo& info = cf.info;
  const std::vector<std::string> subjects = subjects_of(cf);
  const json::array* a = r.array(c, "class", "subject_teachers", Need::optional);
  if (!a) return;
  const std::string path = "class.subject_teachers";
  if (a->size() > r.limits().max_subject_teachers) {
    r.error(path, std::to_string(a->size()) + " subject teachers are more than the " +
                      std::to_string(r.limits().max_subject_teachers) + " allowed");
    return;
  }
  std::map<std::string, std::size_t> seen;
  for (std::size_t i = 0; i < a->size(); ++i) {
    std::string p = at(path, i);
    const json::object* o = r.object_value((*a)[i], p);
    if (!o) continue;
    auto subject = r.short_text(*o, p, "subject", Need::nonempty, kSubjectMaxBytes, "subject name");
    auto name = r.text(*o, p, "name", Need::nonempty);
    auto user = r.text(*o, p, "username", Need::nonempty);
    bool ok = subject && name && user;
    if (user && !valid_username(*user)) {
      r.error(at(p, "username"), quoted(*user) + " is not an account name (1-64 of a-z, 0-9, '.', '_', '-')");
      ok = false;
    }
    if (subject && ok) {
      if (auto [it, fresh] = seen.emplace(*subject, i); !fresh) {
        r.error(at(p, "subject"), quoted(*subject) + " already has a teacher in " + at(path, it->second));
        ok = false;
      }
    }
    if (!ok) continue;
    if (std::find(subjects.begin(), subjects.end(), *subject) == subjects.end())
      r.warn(at(p, "subject"), "no student of the class has the subject " + quoted(*subject));
    info.subject_teachers.push_back(SubjectTeacher{*subject, Staff{*name, *user}});
  }
}

// Reads the class; returns the level when it is valid.
std::optional<Level> read_class_info(Reader& r, const json::object& root, ClassInfo& info) {
  // A missing or unknown format is a class-level error; the students are then read by the v2 rules.
  const json::value* f = Reader::find(root, "format");
  if (!f) {
    r.error("format", "missing");
  } else if (f->is_string() && f->get_string() == kFormatV1) {
    info.format_version = 1;
  } else if (f->is_string() && f->get_string() == kFormatV2) {
    info.format_version = 2;
  } else {
    r.error("format", std::string("must be \"") + kFormatV2 + "\" or \"" + kFormatV1 + "\" (got " + describe(*f) + ")");
  }
  const bool v2 = info.format_version >= 2;

  if (const json::object* s = r.object(root, "", "school", Need::required)) {
    if (auto v = r.text(*s, "school", "name", Need::nonempty)) info.school_name = *v;
    if (auto v = r.text(*s, "school", "code", Need::nonempty)) info.school_code = *v;
    if (auto v = r.text(*s, "school", "district", Need::optional)) info.district = *v;
    if (auto v = r.text(*s, "school", "province", Need::nonempty)) info.province = *v;
    if (v2)
      if (auto v = r.text(*s, "school", "commune", Need::optional_nonempty)) info.commune = *v;
    if (auto st = read_staff(r, *s, "school", "principal")) info.principal = *st;
  }

  if (auto y = r.school_year(root, "", "school_year", Need::required)) info.school_year = *y;

  std::optional<Level> level;
  if (auto l = r.choice(root, "", "level", Need::required, {"primary", "lower_secondary", "upper_secondary"})) {
    level = *l == "primary"           ? Level::primary
            : *l == "lower_secondary" ? Level::lower_secondary
                                      : Level::upper_secondary;
    info.level = *level;
  }

  if (const json::object* c = r.object(root, "", "class", Need::required)) {
    if (auto v = r.text(*c, "class", "name", Need::nonempty)) info.class_name = *v;
    if (auto g = r.integer(*c, "class", "grade", Need::required, 1, 12)) {
      int lo = 1, hi = 12;
      if (level == Level::primary) lo = 1, hi = 5;
      if (level == Level::lower_secondary) lo = 6, hi = 9;
      if (level == Level::upper_secondary) lo = 10, hi = 12;
      if (*g < lo || *g > hi) {
        r.error("class.grade", "grade " + std::to_string(*g) + " is not a " + level_name(*level) + " grade (" +
                                   std::to_string(lo) + "-" + std::to_string(hi) + ")");
      } else {
        info.grade = static_cast<int>(*g);
      }
    }
    if (auto st = read_staff(r, *c, "class", "homeroom_teacher")) info.homeroom_teacher = *st;
  }
  return level;
}

// ---- students ---------------------------------------------------------------------------------

std::optional<Person> read_person(Reader& r, const json::object& o, const std::string& path, std::string_view key) {
  const json::object* p = r.object(o, path, key, Need::optional);
  if (!p) return std::nullopt;
  std::string pp = at(path, key);
  Person person;
  if (auto v = r.text(*p, pp, "name", Need::nonempty)) person.name = *v;
  if (auto v = r.text(*p, pp, "occupation", Need::optional)) person.occupation = *v;
  return person;
}

// Ratings: [{name, level T|Đ|C, comment (v2)}]. `levels` gets every valid level, `all_valid` is cleared
// otherwise.
std::vector<Rating> read_ratings(Reader& r, const json::object& o, const std::string& path, std::string_view key,
                                 bool v2, std::vector<std::string>& levels, bool& all_valid) {
  std::vector<Rating> out;
  const json::array* a = r.array(o, path, key, Need::required);
  if (!a) {
    all_valid = false;
    return out;
  }
  std::string p = at(path, key);
  for (std::size_t i = 0; i < a->size(); ++i) {
    std::string ip = at(p, i);
    const json::object* ro = r.object_value((*a)[i], ip);
    if (!ro) {
      all_valid = false;
      continue;
    }
    Rating rt;
    if (auto v = r.text(*ro, ip, "name", Need::nonempty)) rt.name = *v;
    if (auto v = r.choice(*ro, ip, "level", Need::required, {"T", "Đ", "C"})) {
      rt.level = *v;
      levels.push_back(*v);
    } else {
      all_valid = false;
    }
    if (v2)
      if (auto v = r.text(*ro, ip, "comment", Need::optional)) rt.comment = *v;
    out.push_back(std::move(rt));
  }
  return out;
}

std::optional<PrimaryResult> read_primary(Reader& r, const json::object& o, const std::string& path,
                                          const ClassInfo& info) {
  const bool v2 = info.format_version >= 2;
  PrimaryResult pr;
  bool rule_ok = true;  // every input of the overall-result rule is valid
  std::vector<std::string> subject_levels, rating_levels;
  std::vector<double> tests;

  if (v2) {
    pr.height_cm = r.number(o, path, "height_cm", Need::optional, 40, 220, true);
    pr.weight_kg = r.number(o, path, "weight_kg", Need::optional, 5, 200, true);
    if (auto n = r.integer(o, path, "absences_with_leave", Need::optional, 0, 366))
      pr.absences_with_leave = static_cast<int>(*n);
    if (auto n = r.integer(o, path, "absences_without_leave", Need::optional, 0, 366))
      pr.absences_without_leave = static_cast<int>(*n);
  }

  if (const json::array* a = r.array(o, path, "subjects", Need::required)) {
    std::string p = at(path, "subjects");
    if (a->empty()) r.error(p, "has no subjects");
    for (std::size_t i = 0; i < a->size(); ++i) {
      std::string ip = at(p, i);
      const json::object* so = r.object_value((*a)[i], ip);
      if (!so) {
        rule_ok = false;
        continue;
      }
      PrimarySubject s;
      if (auto v = r.text(*so, ip, "subject", Need::nonempty)) s.subject = *v;
      if (auto v = r.choice(*so, ip, "level", Need::required, {"T", "H", "C"})) {
        s.level = *v;
        subject_levels.push_back(*v);
      } else {
        rule_ok = false;
      }
      if (const json::value* tv = Reader::find(*so, "test_score")) {
        // v1 took decimals; in v2 the periodic test score is an integer (Circular 27: no decimal marks).
        std::string tp = at(ip, "test_score");
        std::optional<double> t;
        if (!v2) {
          t = r.number_value(*tv, tp, 0, 10, false);
        } else if (auto n = r.integer_value(*tv, tp, 0, 10, " (Circular 27: the test score is an integer)")) {
          t = static_cast<double>(*n);
        }
        if (t) {
          s.test_score = *t;
          tests.push_back(*t);
        } else {
          rule_ok = false;
        }
      }
      if (auto v = r.text(*so, ip, "comment", Need::required)) s.comment = *v;
      pr.subjects.push_back(std::move(s));
    }
  } else {
    rule_ok = false;
  }

  pr.qualities = read_ratings(r, o, path, "qualities", v2, rating_levels, rule_ok);
  if (const json::object* c = r.object(o, path, "competencies", Need::required)) {
    std::string cp = at(path, "competencies");
    pr.general_competencies = read_ratings(r, *c, cp, "general", v2, rating_levels, rule_ok);
    pr.specific_competencies = read_ratings(r, *c, cp, "specific", v2, rating_levels, rule_ok);
  } else {
    rule_ok = false;
  }

  auto overall = r.choice(o, path, "overall", Need::required,
                          {"Hoàn thành xuất sắc", "Hoàn thành tốt", "Hoàn thành", "Chưa hoàn thành"});
  if (overall) pr.overall = *overall;
  pr.awards = r.text_list(o, path, "awards", "awards");
  auto completed = r.boolean(o, path, "completed_grade", Need::required);
  if (completed) pr.completed_grade = *completed;
  // The v2 form has no homeroom-comment section: the comment became optional.
  if (auto v = r.text(o, path, "homeroom_comment", v2 ? Need::optional : Need::required)) pr.homeroom_comment = *v;

  if (rule_ok && overall) {
    const char* expected = primary_result(subject_levels, tests, rating_levels);
    if (*overall != expected)
      r.warn(at(path, "overall"), quoted(*overall) +
                                      " contradicts Circular 27 Art. 9 (the ratings and test scores give " +
                                      quoted(expected) + ")");
  }
  if (overall && completed && !*completed && *overall != "Chưa hoàn thành")
    r.warn(at(path, "completed_grade"), "false contradicts the overall result " + quoted(*overall) +
                                            " (Circular 27 Art. 11: that level completes the grade)");
  return pr;
}

// v2: certificates [{name, grade?}], competitions [text], corrections {count, subjects}.
void read_secondary_extras(Reader& r, const json::object& o, const std::string& path, SecondaryResult& sr) {
  if (const json::array* a = r.list(o, path, "certificates", Need::optional, "certificates")) {
    std::string p = at(path, "certificates");
    for (std::size_t i = 0; i < a->size(); ++i) {
      std::string ip = at(p, i);
      const json::object* co = r.object_value((*a)[i], ip);
      if (!co) continue;
      Certificate c;
      if (auto v = r.text(*co, ip, "name", Need::nonempty)) c.name = *v;
      if (auto v = r.text(*co, ip, "grade", Need::optional)) c.grade = *v;
      sr.certificates.push_back(std::move(c));
    }
  }
  sr.competitions = r.text_list(o, path, "competitions", "competition results");
  if (const json::object* c = r.object(o, path, "corrections", Need::optional)) {
    std::string cp = at(path, "corrections");
    PageCorrections pc;
    if (auto n = r.integer(*c, cp, "count", Need::required, 1, 99)) pc.count = static_cast<int>(*n);
    pc.subjects = r.text_list(*c, cp, "subjects", "subjects", Need::nonempty);
    sr.corrections = std::move(pc);
  }
}

// v2 outcomes against re-assessment (warnings). `reassessed`: the paths of the re-assessed values given
// (subjects, learning, conduct).
void check_secondary_outcome(Reader& r, const std::string& path, const SecondaryResult& sr,
                             const std::vector<std::string>& reassessed, bool absences_ok) {
  static const std::string kPromoted = "Được lên lớp";
  static const std::string kAfterReassessment = "Được lên lớp sau kiểm tra lại hoặc rèn luyện trong hè";
  static const std::string kHeldBack = "Không được lên lớp";
  const std::string op = at(path, "outcome");
  if (sr.outcome == kPromoted)
    for (const std::string& p : reassessed)
      r.warn(p, "a re-assessed value contradicts the outcome " + quoted(kPromoted) +
                    " (promoted without re-assessment; use " + quoted(kAfterReassessment) + ")");
  if (sr.outcome == kAfterReassessment && reassessed.empty())
    r.warn(op, quoted(kAfterReassessment) + " but no subject, learning or conduct result has a re-assessed value");
  if (sr.outcome == kHeldBack && reassessed.empty() && absences_ok && sr.absences <= kMaxAbsentSessions)
    r.warn(op, quoted(kHeldBack) + " without any re-assessed value: Circular 22 holds a student back only after more than " +
                   std::to_string(kMaxAbsentSessions) + " sessions absent (absences: " + std::to_string(sr.absences) +
                   ") or a failed re-assessment");
  if (sr.outcome == kHeldBack && sr.completed_level == true)
    r.warn(at(path, "completed_level"),
           "true contradicts the outcome " + quoted(kHeldBack) + " (a student held back has not completed the level)");
}

std::optional<SecondaryResult> read_secondary(Reader& r, const json::object& o, const std::string& path,
                                              const ClassInfo& info) {
  const bool v2 = info.format_version >= 2;
  SecondaryResult sr;
  // Rule inputs per period (hk1, hk2, year): the averages in tenths and the CĐ count.
  static const char* kPeriods[] = {"hk1", "hk2", "year"};
  std::vector<long long> scored[3];
  int not_passed[3] = {0, 0, 0};
  bool period_ok[3] = {true, true, true};
  std::vector<std::string> reassessed;  // v2: paths of the re-assessed values present

  if (const json::array* a = r.array(o, path, "subjects", Need::required)) {
    std::string p = at(path, "subjects");
    if (a->empty()) r.error(p, "has no subjects");
    for (std::size_t i = 0; i < a->size(); ++i) {
      std::string ip = at(p, i);
      const json::object* so = r.object_value((*a)[i], ip);
      if (!so) {
        for (bool& ok : period_ok) ok = false;
        continue;
      }
      SecondarySubject s;
      if (auto v = r.text(*so, ip, "subject", Need::nonempty)) s.subject = *v;
      auto kind = r.choice(*so, ip, "kind", Need::required, {"scored", "pass_fail"});
      if (!kind) {
        for (bool& ok : period_ok) ok = false;
      } else if (*kind == "scored") {
        s.scored = true;
        std::optional<double>* slots[3] = {&s.hk1, &s.hk2, &s.year};
        for (int k = 0; k < 3; ++k) {
          *slots[k] = r.number(*so, ip, kPeriods[k], Need::required, 0, 10, true);
          if (*slots[k]) {
            scored[k].push_back(tenths(**slots[k]));
          } else {
            period_ok[k] = false;
          }
        }
        if (s.hk1 && s.hk2 && s.year) {
          long long sum = tenths(*s.hk1) + 2 * tenths(*s.hk2);  // tenths; sum / 3 is never a tie
          long long expected = (sum + 1) / 3;
          if (std::fabs(*s.year - static_cast<double>(expected) / 10) > 0.05 + 1e-9)
            r.error(at(ip, "year"), "year average " + fmt_tenths(tenths(*s.year)) +
                                        " does not match (HK I + 2 × HK II) / 3 = " + fmt_tenths(expected));
        }
        if (v2) s.reassessed = r.number(*so, ip, "reassessed", Need::optional, 0, 10, true);
      } else {
        s.scored = false;
        std::string* slots[3] = {&s.hk1_text, &s.hk2_text, &s.year_text};
        for (int k = 0; k < 3; ++k) {
          if (auto v = r.choice(*so, ip, kPeriods[k], Need::required, {"Đ", "CĐ"})) {
            *slots[k] = *v;
            if (*v == "CĐ") ++not_passed[k];
          } else {
            period_ok[k] = false;
          }
        }
        if (v2)
          if (auto v = r.choice(*so, ip, "reassessed", Need::optional, {"Đ", "CĐ"})) s.reassessed_text = *v;
      }
      if (v2 && Reader::find(*so, "reassessed")) reassessed.push_back(at(ip, "reassessed"));
      if (auto v = r.text(*so, ip, "comment", Need::required)) s.comment = *v;
      sr.subjects.push_back(std::move(s));
    }
  } else {
    for (bool& ok : period_ok) ok = false;
  }

  auto per_term = [&](std::string_view key, PerTerm& out, bool check_rule) {
    const json::object* t = r.object(o, path, key, Need::required);
    if (!t) return;
    std::string tp = at(path, key);
    std::string* slots[3] = {&out.hk1, &out.hk2, &out.year};
    for (int k = 0; k < 3; ++k) {
      auto v = r.choice(*t, tp, kPeriods[k], Need::required, {"Tốt", "Khá", "Đạt", "Chưa đạt"});
      if (!v) continue;
      *slots[k] = *v;
      if (check_rule && period_ok[k]) {
        const char* expected = learning_result(scored[k], not_passed[k]);
        if (*v != expected)
          r.warn(at(tp, kPeriods[k]),
                 quoted(*v) + " contradicts Circular 22 Art. 9 (the scores give " + quoted(expected) + ")");
      }
    }
    if (!v2) return;
    if (auto v = r.choice(*t, tp, "reassessed", Need::optional, {"Tốt", "Khá", "Đạt", "Chưa đạt"})) out.reassessed = *v;
    if (Reader::find(*t, "reassessed")) reassessed.push_back(at(tp, "reassessed"));
  };
  per_term("learning", sr.learning, true);
  per_term("conduct", sr.conduct, false);

  auto absences = r.integer(o, path, "absences", Need::required, 0, 366);
  if (absences) sr.absences = static_cast<int>(*absences);
  auto outcome = v2 ? r.choice(o, path, "outcome", Need::required,
                               {"Được lên lớp", "Được lên lớp sau kiểm tra lại hoặc rèn luyện trong hè",
                                "Không được lên lớp", "Kiểm tra lại", "Rèn luyện trong hè"})
                    : r.choice(o, path, "outcome", Need::required,
                               {"Lên lớp", "Rèn luyện trong hè", "Kiểm tra lại", "Ở lại lớp"});
  if (outcome) sr.outcome = *outcome;
  if (v2) {
    sr.completed_level = r.boolean(o, path, "completed_level", Need::optional);
    if (sr.completed_level && info.grade != 0 && info.grade != 9 && info.grade != 12)
      r.error(at(path, "completed_level"), "only grade 9 (THCS) or 12 (THPT) completes a level; the class is grade " +
                                               std::to_string(info.grade));
    read_secondary_extras(r, o, path, sr);
  }
  sr.awards = r.text_list(o, path, "awards", "awards");
  if (auto v = r.text(o, path, "homeroom_comment", Need::required)) sr.homeroom_comment = *v;
  if (v2 && outcome) check_secondary_outcome(r, path, sr, reassessed, absences.has_value());
  return sr;
}

// v2 "history": the learning history, oldest first, up to the file's school year.
std::vector<HistoryEntry> read_history(Reader& r, const json::object& o, const std::string& path,
                                       const ClassInfo& info) {
  std::vector<HistoryEntry> out;
  const json::array* a = r.list(o, path, "history", Need::optional, "history entries");
  if (!a) return out;
  const std::string p = at(path, "history");
  std::string previous;  // the school year of the last entry in order, and that entry's index
  std::size_t previous_index = 0;
  for (std::size_t i = 0; i < a->size(); ++i) {
    std::string ip = at(p, i);
    const json::object* ho = r.object_value((*a)[i], ip);
    if (!ho) continue;
    HistoryEntry e;
    auto year = r.school_year(*ho, ip, "school_year", Need::required);
    auto cls = r.text(*ho, ip, "class", Need::nonempty);
    if (auto v = r.text(*ho, ip, "school", Need::nonempty)) e.school_name = *v;
    if (auto v = r.short_text(*ho, ip, "registration_number", Need::optional_nonempty, kRegistrationMaxBytes,
                              "registration number"))
      e.registration_number = *v;
    if (auto v = r.date(*ho, ip, "entry_date", Need::optional)) e.entry_date = *v;
    if (auto v = r.boolean(*ho, ip, "transferred", Need::optional)) e.transferred = *v;
    if (cls) e.class_name = *cls;
    if (year) {
      e.school_year = *year;
      const std::string yp = at(ip, "school_year");
      // "YYYY-YYYY" strings order as their years do.
      if (!previous.empty() && *year <= previous) {
        r.error(yp, quoted(*year) + " does not come after " + quoted(previous) + " of " + at(p, previous_index) +
                        " (the history is oldest first)");
      } else if (!info.school_year.empty() && *year > info.school_year) {
        r.error(yp, quoted(*year) + " is later than the file's school year " + quoted(info.school_year));
      } else {
        previous = *year;
        previous_index = i;
      }
      if (*year == info.school_year && cls && !info.class_name.empty() && *cls != info.class_name)
        r.error(at(ip, "class"), quoted(*cls) + " is not the file's class " + quoted(info.class_name) +
                                     " (this entry is the file's school year)");
    }
    out.push_back(std::move(e));
  }
  return out;
}

// Reads students[index]; returns it when it has no error.
std::optional<Student> read_student(Reader& r, const json::value& v, std::size_t index, const ClassInfo& info,
                                    std::optional<Level> level, std::map<std::string, std::size_t>& seen_ids) {
  const std::string path = at(std::string("students"), index);
  r.set_student("", "");
  const std::size_t errors_before = r.error_count();
  const json::object* o = r.object_value(v, path);
  if (!o) return std::nullopt;

  // Who this is, for every problem below: a usable name and a well-formed ID.
  std::string name, id;
  if (const json::value* n = Reader::find(*o, "full_name");
      n && n->is_string() && n->get_string().size() <= r.limits().max_text_bytes) {
    std::string_view s(n->get_string().data(), n->get_string().size());
    if (invalid_utf8_at(s) == std::string_view::npos &&
        std::none_of(s.begin(), s.end(), [](char c) { return is_control(static_cast<unsigned char>(c)); }))
      name = to_nfc(s);
  }
  const json::value* idv = Reader::find(*o, "personal_id");
  if (valid_personal_id(idv)) id = std::string(idv->get_string().data(), idv->get_string().size());
  r.set_student(name, id);

  Student st;
  st.index = index;
  if (!idv) {
    r.error(at(path, "personal_id"), "missing");
  } else if (id.empty()) {
    r.error(at(path, "personal_id"), "must be a string of 12 digits (got " + describe(*idv) + ")");
  } else if (auto [it, fresh] = seen_ids.emplace(id, index); !fresh) {
    r.error(at(path, "personal_id"),
            quoted(id) + " is also the personal ID of students[" + std::to_string(it->second) + "]");
  }
  st.personal_id = id;

  if (auto s = r.text(*o, path, "full_name", Need::nonempty)) st.full_name = *s;
  if (auto s = r.choice(*o, path, "sex", Need::required, {"Nam", "Nữ"})) st.sex = *s;
  if (auto s = r.date(*o, path, "date_of_birth", Need::required)) st.date_of_birth = *s;
  if (auto s = r.text(*o, path, "place_of_birth", Need::nonempty)) st.place_of_birth = *s;
  if (auto s = r.text(*o, path, "ethnicity", Need::nonempty)) st.ethnicity = *s;
  if (auto s = r.text(*o, path, "nationality", Need::nonempty)) st.nationality = *s;
  if (auto s = r.text(*o, path, "residence", Need::nonempty)) st.residence = *s;
  if (auto s = r.text(*o, path, "policy_status", Need::optional)) st.policy_status = *s;
  st.father = read_person(r, *o, path, "father");
  st.mother = read_person(r, *o, path, "mother");
  st.guardian = read_person(r, *o, path, "guardian");
  if (info.format_version >= 2) {
    if (auto s = r.text(*o, path, "home_town", Need::optional)) st.home_town = *s;
    if (auto s = r.short_text(*o, path, "registration_number", Need::optional_nonempty, kRegistrationMaxBytes,
                              "registration number"))
      st.registration_number = *s;
    if (auto s = r.date(*o, path, "opened_on", Need::optional)) st.opened_on = *s;
    st.history = read_history(r, *o, path, info);
  }

  const bool has_primary = Reader::find(*o, "primary") != nullptr;
  const bool has_secondary = Reader::find(*o, "secondary") != nullptr;
  bool want_primary = level ? *level == Level::primary : has_primary;
  bool want_secondary = level ? *level != Level::primary : (!has_primary && has_secondary);
  if (!level && !has_primary && !has_secondary) r.error(path, "has neither \"primary\" nor \"secondary\" results");
  if (want_primary) {
    if (const json::object* p = r.object(*o, path, "primary", level ? Need::required : Need::optional))
      st.primary = read_primary(r, *p, at(path, "primary"), info);
    if (level && has_secondary) r.error(at(path, "secondary"), "a primary class has no \"secondary\" results");
  }
  if (want_secondary) {
    if (const json::object* s = r.object(*o, path, "secondary", level ? Need::required : Need::optional))
      st.secondary = read_secondary(r, *s, at(path, "secondary"), info);
    if (level && has_primary)
      r.error(at(path, "primary"), std::string("a ") + level_name(*level) + " class has no \"primary\" results");
  }

  if (r.error_count() != errors_before) return std::nullopt;
  write_json(st.source_json, v);
  return st;
}

// "line 3, column 7" for a byte offset (columns count characters).
std::string line_column(std::string_view text, std::size_t offset) {
  offset = std::min(offset, text.size());
  std::size_t line = 1, column = 1;
  for (std::size_t i = 0; i < offset; ++i) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    if (c == '\n') {
      ++line;
      column = 1;
    } else if ((c & 0xc0) != 0x80) {
      ++column;
    }
  }
  return "line " + std::to_string(line) + ", column " + std::to_string(column);
}

}  // namespace

Result<ClassFile> parse_class(std::string_view text, const ParseLimits& limits) {
  if (text.size() > limits.max_input_bytes)
    return make_error(Errc::too_large, "the class file is " + std::to_string(text.size()) + " bytes, more than the " +
                                           std::to_string(limits.max_input_bytes) + " allowed");

  json::monotonic_resource mr;
  json::parse_options opts;
  opts.allow_invalid_utf8 = true;  // reported per field, with its path
  json::stream_parser parser(&mr, opts);
  json::error_code ec;
  std::string_view body = text;
  if (body.substr(0, 3) == "\xef\xbb\xbf") body.remove_prefix(3);  // a UTF-8 byte order mark (RFC 8259 8.1)
  std::size_t used = parser.write(body.data(), body.size(), ec);
  if (!ec) parser.finish(ec);
  if (ec)
    return make_error(Errc::invalid_argument,
                      "not JSON: " + ec.message() + " at " + line_column(text, used + (text.size() - body.size())));
  json::value root = parser.release();
  if (!root.is_object())
    return make_error(Errc::invalid_argument,
                      "not a class file: the JSON text is " + describe(root) + ", not an object");

  ClassFile out;
  Reader r(limits, out);
  const json::object& o = root.get_object();
  std::optional<Level> level = read_class_info(r, o, out.info);

  if (const json::array* students = r.array(o, "", "students", Need::required)) {
    if (students->empty()) r.error("students", "the class has no students");
    if (students->size() > limits.max_students)
      r.error("students", std::to_string(students->size()) + " students are more than the " +
                              std::to_string(limits.max_students) + " allowed in one class file");
    std::map<std::string, std::size_t> seen_ids;
    for (std::size_t i = 0; i < students->size(); ++i) {
      if (auto st = read_student(r, (*students)[i], i, out.info, level, seen_ids)) {
        out.students.push_back(std::move(*st));
      } else {
        out.rejected.push_back(i);
      }
    }
  }
  r.set_student("", "");
  read_subject_teachers(r, o, out);
  return out;
}

const SubjectTeacher* subject_teacher(const ClassInfo& cls, const std::string& subject) {
  for (const SubjectTeacher& t : cls.subject_teachers)
    if (t.subject == subject) return &t;
  return nullptr;
}

std::vector<std::string> subjects_of(const ClassFile& cf) {
  std::vector<std::string> out;
  auto add = [&](const std::string& s) {
    if (std::find(out.begin(), out.end(), s) == out.end()) out.push_back(s);
  };
  for (const Student& st : cf.students) {
    if (st.primary)
      for (const auto& s : st.primary->subjects) add(s.subject);
    if (st.secondary)
      for (const auto& s : st.secondary->subjects) add(s.subject);
  }
  return out;
}

namespace detail {

void append_json_string(std::string& out, std::string_view s) {
  static const char* hex = "0123456789abcdef";
  out += '"';
  for (std::size_t i = 0; i < s.size();) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    std::size_t n = utf8_seq(s, i);
    if (n == 0) {
      out += "\xef\xbf\xbd";
      ++i;
      continue;
    }
    if (n > 1) {
      out.append(s.substr(i, n));
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c < 0x20 || c == 0x7f) {
      out += "\\u00";
      out += hex[c >> 4];
      out += hex[c & 15];
    } else {
      out += static_cast<char>(c);
    }
    i += n;
  }
  out += '"';
}

}  // namespace detail

}  // namespace hocba::pdf
