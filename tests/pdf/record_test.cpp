// The report-card model: hocba.class/v2 and v1 import and validation (docs/record-format.md). Every case
// starts from one of the samples in tests/data/samples and mutates it with Boost.JSON.
#include "hocba/pdf/record.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <boost/json.hpp>
#include <chrono>
#include <cstdint>
#include <iostream>
#include <set>
#include <sstream>
#include <tuple>
#include <string>

#include "test_env.h"

using namespace hocba;
using namespace hocba::pdf;
namespace json = boost::json;

namespace {

// The v1 samples (as gen-school.py makes them) and the v2 ones (written by hand: every v2 field).
const char* kV1Samples[] = {"primary-3A.json", "primary-5A.json", "thcs-8A.json", "thpt-11A.json"};
const char* kV2Samples[] = {"primary-4B-v2.json", "thcs-9A-v2.json", "thpt-12A-v2.json"};
const char* kSamples[] = {"primary-3A.json", "primary-5A.json", "thcs-8A.json", "thpt-11A.json",
                          "primary-4B-v2.json", "thcs-9A-v2.json", "thpt-12A-v2.json"};

std::string sample_text(const std::string& name) {
  return test::read_text(std::string(HOCBA_TEST_DATA) + "/samples/" + name);
}

json::value sample(const std::string& name) { return json::parse(sample_text(name)); }

json::object& student(json::value& doc, std::size_t i) { return doc.at("students").as_array().at(i).as_object(); }
json::object& sec_subject(json::value& doc, std::size_t i, std::size_t k) {
  return student(doc, i).at("secondary").at("subjects").as_array().at(k).as_object();
}

ClassFile parse_ok(const json::value& doc, const ParseLimits& limits = {}) {
  auto r = parse_class(json::serialize(doc), limits);
  if (!r) throw std::runtime_error(r.error().message);
  return std::move(*r);
}

std::string all(const std::vector<Problem>& ps) {
  std::string s;
  for (const auto& p : ps) s += p.to_string() + "\n";
  return s;
}

std::string str(const json::value& v) { return std::string(v.as_string().c_str()); }

// The result a rule warning says the data gives: `... (the scores give "Khá")` -> Khá.
std::string given(const std::string& message) {
  std::size_t from = message.rfind("give \"") + 6;
  return message.substr(from, message.size() - 2 - from);
}

}  // namespace

TEST(Record, SamplesParseWithoutErrors) {
  for (const char* name : kSamples) {
    std::string text = sample_text(name);
    auto r = parse_class(text);
    ASSERT_TRUE(r) << name << ": " << r.error().message;
    const ClassFile& c = *r;
    EXPECT_TRUE(c.errors.empty()) << name << ":\n" << all(c.errors);
    EXPECT_TRUE(c.class_ok()) << name;
    EXPECT_TRUE(c.rejected.empty()) << name;
    json::value doc = json::parse(text);
    ASSERT_EQ(c.students.size(), doc.at("students").as_array().size()) << name;
    for (std::size_t i = 0; i < c.students.size(); ++i) {
      EXPECT_EQ(c.students[i].index, i);
      // The embedded data is the input's object (same values, same keys, same order).
      EXPECT_EQ(json::parse(c.students[i].source_json), doc.at("students").at(i)) << name << " " << i;
    }
    std::cout << "[ sample   ] " << name << ": " << c.students.size() << " students, " << c.errors.size() << " errors, "
              << c.warnings.size() << " warnings\n";
    for (const auto& w : c.warnings) std::cout << "             " << w.to_string() << "\n";
  }
}

TEST(Record, SampleContents) {
  auto c = parse_ok(sample("thcs-8A.json"));
  EXPECT_EQ(c.info.school_name, "Trường THCS Hồng Thái");
  EXPECT_EQ(c.info.level, Level::lower_secondary);
  EXPECT_STREQ(level_name(c.info.level), "lower_secondary");
  EXPECT_EQ(c.info.grade, 8);
  EXPECT_EQ(c.info.class_name, "8A");
  EXPECT_EQ(c.info.school_year, "2024-2025");
  EXPECT_EQ(c.info.principal.username, "hieutruong");
  const Student& s = c.students[0];
  EXPECT_EQ(s.personal_id, "092311493107");
  EXPECT_EQ(s.full_name, "Tạ Diệu Châu");
  ASSERT_TRUE(s.secondary);
  EXPECT_FALSE(s.primary);
  const SecondarySubject& van = s.secondary->subjects[0];
  EXPECT_EQ(van.subject, "Ngữ văn");
  EXPECT_TRUE(van.scored);
  EXPECT_DOUBLE_EQ(*van.hk1, 3.4);
  EXPECT_DOUBLE_EQ(*van.year, 5.3);
  const SecondarySubject& last = s.secondary->subjects.back();
  EXPECT_FALSE(last.scored);
  EXPECT_FALSE(last.year_text.empty());
  // The serialised object keeps numbers as written ("5.0", not "5E0").
  EXPECT_EQ(s.source_json.find("E0"), std::string::npos);

  auto p = parse_ok(sample("primary-3A.json"));
  EXPECT_EQ(p.info.level, Level::primary);
  ASSERT_TRUE(p.students[0].primary);
  EXPECT_EQ(p.students[0].primary->qualities.size(), 5u);
  EXPECT_EQ(p.students[0].primary->general_competencies.size(), 3u);
  EXPECT_EQ(p.students[0].primary->specific_competencies.size(), 7u);
  EXPECT_TRUE(p.students[0].primary->subjects[0].test_score.has_value());
}

TEST(Record, NotJsonGivesLineAndColumn) {
  auto r = parse_class("{\"format\": \"hocba.class/v1\",\n  \"students\": [1, 2,\n    x]}");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::invalid_argument);
  EXPECT_NE(r.error().message.find("line 3, column 5"), std::string::npos) << r.error().message;

  auto truncated = parse_class("{\"format\": \"hocba.class/v1\",\n");
  ASSERT_FALSE(truncated);
  EXPECT_NE(truncated.error().message.find("line 2"), std::string::npos) << truncated.error().message;

  auto array = parse_class("[1, 2]");
  ASSERT_FALSE(array);
  EXPECT_EQ(array.error().code, Errc::invalid_argument);
  EXPECT_NE(array.error().message.find("not an object"), std::string::npos) << array.error().message;

  EXPECT_FALSE(parse_class(""));

  // A UTF-8 byte order mark (as some Windows exports write) is skipped.
  auto bom = parse_class("\xef\xbb\xbf" + sample_text("thcs-8A.json"));
  ASSERT_TRUE(bom) << bom.error().message;
  EXPECT_TRUE(bom->errors.empty());
}

TEST(Record, TooLargeInputIsAnError) {
  ParseLimits limits;
  limits.max_input_bytes = 1000;
  auto r = parse_class(sample_text("thcs-8A.json"), limits);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::too_large);
}

TEST(Record, WrongTypes) {
  json::value doc = sample("thcs-8A.json");
  sec_subject(doc, 0, 1)["hk1"] = "abc";
  student(doc, 1).at("secondary").as_object()["subjects"] = "abc";
  auto c = parse_ok(doc);
  ASSERT_EQ(c.errors.size(), 2u) << all(c.errors);
  EXPECT_EQ(c.errors[0].path, "students[0].secondary.subjects[1].hk1");
  EXPECT_EQ(c.errors[0].message, "\"abc\" is not a number");
  EXPECT_EQ(c.errors[1].path, "students[1].secondary.subjects");
  EXPECT_EQ(c.errors[1].message, "\"abc\" is not an array");
  EXPECT_EQ(c.rejected, (std::vector<std::size_t>{0, 1}));
  EXPECT_TRUE(c.class_ok());
}

TEST(Record, ScoreAboveTen) {
  json::value doc = sample("thcs-8A.json");
  sec_subject(doc, 0, 3)["hk2"] = 11.5;
  auto c = parse_ok(doc);
  ASSERT_EQ(c.errors.size(), 1u) << all(c.errors);
  const Problem& p = c.errors[0];
  EXPECT_EQ(p.student_name, "Tạ Diệu Châu");
  EXPECT_EQ(p.student_id, "092311493107");
  EXPECT_EQ(p.to_string(), "students[0].secondary.subjects[3].hk2: 11.5 is above 10 (Tạ Diệu Châu, 092311493107)");
}

TEST(Record, YearAverageMustMatch) {
  json::value doc = sample("thcs-8A.json");
  json::object& s = sec_subject(doc, 0, 0);  // Ngữ văn 3.4, 6.2 -> 5.3
  s["year"] = 7.0;
  auto c = parse_ok(doc);
  ASSERT_EQ(c.errors.size(), 1u) << all(c.errors);
  EXPECT_EQ(c.errors[0].path, "students[0].secondary.subjects[0].year");
  EXPECT_EQ(c.errors[0].message, "year average 7.0 does not match (HK I + 2 × HK II) / 3 = 5.3");
  EXPECT_TRUE(c.warnings.size() <= parse_ok(sample("thcs-8A.json")).warnings.size() + 3);
}

TEST(Record, HugeCommentIsOneErrorAndFast) {
  json::value doc = sample("thcs-8A.json");
  std::size_t bytes = 50u << 20;
  student(doc, 4).at("secondary").as_object()["homeroom_comment"] = std::string(bytes, 'a');
  std::string text = json::serialize(doc);
  auto start = std::chrono::steady_clock::now();
  auto r = parse_class(text);
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_EQ(r->errors.size(), 1u) << all(r->errors).substr(0, 2000);
  EXPECT_EQ(r->errors[0].path, "students[4].secondary.homeroom_comment");
  EXPECT_EQ(r->errors[0].message, "a string of " + std::to_string(bytes) + " bytes is longer than the 4096 allowed");
  EXPECT_EQ(r->rejected, std::vector<std::size_t>{4});
  EXPECT_EQ(r->students.size(), doc.at("students").as_array().size() - 1);
  EXPECT_LT(seconds, 5.0);
  std::cout << "[ timing   ] 50 MB comment parsed in " << seconds << " s\n";
}

TEST(Record, MissingIdNamesTheStudent) {
  json::value doc = sample("primary-3A.json");
  std::string name = str(student(doc, 2).at("full_name"));
  student(doc, 2).erase("personal_id");
  auto c = parse_ok(doc);
  ASSERT_EQ(c.errors.size(), 1u) << all(c.errors);
  EXPECT_EQ(c.errors[0].to_string(), "students[2].personal_id: missing (" + name + ")");
  EXPECT_TRUE(c.errors[0].student_id.empty());
  EXPECT_EQ(c.rejected, std::vector<std::size_t>{2});

  // A personal ID must be a string of 12 digits (a JSON number loses its leading zero).
  json::value doc2 = sample("primary-3A.json");
  student(doc2, 0)["personal_id"] = 1316729633;
  student(doc2, 1)["personal_id"] = "12345";
  auto c2 = parse_ok(doc2);
  ASSERT_EQ(c2.errors.size(), 2u) << all(c2.errors);
  EXPECT_EQ(c2.errors[0].message, "must be a string of 12 digits (got 1316729633)");
  EXPECT_EQ(c2.errors[1].message, "must be a string of 12 digits (got \"12345\")");
}

TEST(Record, BadDate) {
  json::value doc = sample("primary-3A.json");
  student(doc, 0)["date_of_birth"] = "2016-02-30";
  student(doc, 1)["date_of_birth"] = "2016-02-29";  // a leap year: fine
  student(doc, 2)["date_of_birth"] = "30/01/2016";
  auto c = parse_ok(doc);
  ASSERT_EQ(c.errors.size(), 2u) << all(c.errors);
  EXPECT_EQ(c.errors[0].path, "students[0].date_of_birth");
  EXPECT_EQ(c.errors[0].message, "date 2016-02-30 does not exist");
  EXPECT_EQ(c.errors[1].message, "\"30/01/2016\" is not a date of the form YYYY-MM-DD");
}

TEST(Record, DuplicateIdRejectsTheSecond) {
  json::value doc = sample("thpt-11A.json");
  std::string id = str(student(doc, 3).at("personal_id"));
  student(doc, 7)["personal_id"] = id;
  auto c = parse_ok(doc);
  ASSERT_EQ(c.errors.size(), 1u) << all(c.errors);
  EXPECT_EQ(c.errors[0].path, "students[7].personal_id");
  EXPECT_EQ(c.errors[0].message, "\"" + id + "\" is also the personal ID of students[3]");
  EXPECT_EQ(c.rejected, std::vector<std::size_t>{7});
  EXPECT_TRUE(std::any_of(c.students.begin(), c.students.end(), [&](const Student& s) { return s.index == 3; }));
}

TEST(Record, AllProblemsAtOnce) {
  json::value doc = sample("thpt-11A.json");
  student(doc, 1)["sex"] = "X";
  sec_subject(doc, 5, 2)["hk1"] = -1;
  doc.as_object()["school_year"] = "2024-2026";
  auto c = parse_ok(doc);
  ASSERT_EQ(c.errors.size(), 3u) << all(c.errors);
  EXPECT_EQ(c.errors[0].to_string(), "school_year: \"2024-2026\" is not two consecutive years of the form YYYY-YYYY");
  EXPECT_EQ(c.errors[1].path, "students[1].sex");
  EXPECT_EQ(c.errors[1].message, "must be one of Nam, Nữ (got \"X\")");
  EXPECT_EQ(c.errors[2].path, "students[5].secondary.subjects[2].hk1");
  EXPECT_EQ(c.errors[2].message, "-1 is below 0");
  EXPECT_FALSE(c.class_ok());
  EXPECT_EQ(c.rejected, (std::vector<std::size_t>{1, 5}));
}

TEST(Record, ClassLevelErrors) {
  json::value doc = sample("primary-5A.json");
  doc.as_object()["format"] = "hocba.class/v3";
  doc.at("school").as_object().erase("name");
  doc.at("class").as_object()["grade"] = 7;
  auto c = parse_ok(doc);
  ASSERT_EQ(c.errors.size(), 3u) << all(c.errors);
  EXPECT_EQ(c.errors[0].to_string(), "format: must be \"hocba.class/v2\" or \"hocba.class/v1\" (got \"hocba.class/v3\")");
  EXPECT_EQ(c.errors[1].to_string(), "school.name: missing");
  EXPECT_EQ(c.errors[2].to_string(), "class.grade: grade 7 is not a primary grade (1-5)");
  EXPECT_FALSE(c.class_ok());
  EXPECT_TRUE(c.rejected.empty());  // the students themselves are fine

  json::value bad_level = sample("primary-5A.json");
  bad_level.as_object()["level"] = "kindergarten";
  auto c2 = parse_ok(bad_level);
  ASSERT_EQ(c2.errors.size(), 1u) << all(c2.errors);
  EXPECT_EQ(c2.errors[0].message, "must be one of primary, lower_secondary, upper_secondary (got \"kindergarten\")");
  EXPECT_FALSE(c2.class_ok());
}

TEST(Record, LearningRuleContradictionIsAWarning) {
  json::value doc = sample("thcs-8A.json");
  auto before = parse_ok(doc).warnings.size();
  json::object& learning = student(doc, 3).at("secondary").at("learning").as_object();
  std::string actual = str(learning.at("year"));
  std::string other = actual == "Tốt" ? "Chưa đạt" : "Tốt";
  learning["year"] = other;
  auto c = parse_ok(doc);
  EXPECT_TRUE(c.errors.empty()) << all(c.errors);
  ASSERT_EQ(c.warnings.size(), before + 1) << all(c.warnings);
  auto it = std::find_if(c.warnings.begin(), c.warnings.end(),
                         [](const Problem& p) { return p.path == "students[3].secondary.learning.year"; });
  ASSERT_NE(it, c.warnings.end()) << all(c.warnings);
  EXPECT_EQ(it->message, "\"" + other + "\" contradicts Circular 22 Art. 9 (the scores give \"" + actual + "\")");
  EXPECT_EQ(c.students.size(), doc.at("students").as_array().size());  // still rendered
}

TEST(Record, LearningRuleLevels) {
  // One student, rebuilt: 8 scored subjects and 2 pass/fail ones; learning.year follows the scores.
  json::value doc = sample("thcs-8A.json");
  json::array& students = doc.at("students").as_array();
  students.resize(1);
  json::array& subjects = student(doc, 0).at("secondary").at("subjects").as_array();
  // The scored subjects' averages (all three periods alike) and the first pass/fail subject's rating.
  auto set = [&](std::initializer_list<double> years, const char* first_pass_fail) {
    std::size_t k = 0;
    bool first = true;
    for (auto& sv : subjects) {
      json::object& s = sv.as_object();
      if (s.at("kind") == "scored") {
        double y = *(years.begin() + k++);
        s["hk1"] = y;
        s["hk2"] = y;
        s["year"] = y;
      } else {
        const char* v = first ? first_pass_fail : "Đ";
        first = false;
        s["hk1"] = v;
        s["hk2"] = v;
        s["year"] = v;
      }
    }
    ASSERT_EQ(k, years.size());
  };
  // The learning result the rule computes: the data says "Tốt", so any other result is in a warning.
  auto expect = [&](const std::string& result) {
    json::object& l = student(doc, 0).at("secondary").at("learning").as_object();
    for (const char* p : {"hk1", "hk2", "year"}) l[p] = "Tốt";
    auto c = parse_ok(doc);
    EXPECT_TRUE(c.errors.empty()) << all(c.errors);
    std::string got = "Tốt";
    for (const auto& w : c.warnings)
      if (w.path == "students[0].secondary.learning.year") got = given(w.message);
    return got == result ? testing::AssertionSuccess() : testing::AssertionFailure() << "got " << got;
  };
  set({8.0, 8.0, 8.0, 8.0, 8.0, 8.0, 6.5, 6.5}, "Đ");
  EXPECT_TRUE(expect("Tốt"));
  set({8.0, 8.0, 8.0, 8.0, 8.0, 7.9, 6.5, 6.5}, "Đ");  // only five >= 8.0
  EXPECT_TRUE(expect("Khá"));
  set({8.0, 8.0, 8.0, 8.0, 8.0, 8.0, 6.4, 9.0}, "Đ");  // one below 6.5
  EXPECT_TRUE(expect("Khá"));
  set({9.0, 9.0, 9.0, 9.0, 9.0, 9.0, 9.0, 9.0}, "CĐ");  // a CĐ
  EXPECT_TRUE(expect("Đạt"));
  set({5.0, 5.0, 5.0, 5.0, 5.0, 5.0, 3.5, 3.5}, "Đ");
  EXPECT_TRUE(expect("Đạt"));
  set({5.0, 5.0, 5.0, 5.0, 5.0, 5.0, 3.4, 9.0}, "Đ");  // one below 3.5
  EXPECT_TRUE(expect("Chưa đạt"));
  set({5.0, 5.0, 5.0, 5.0, 5.0, 4.9, 4.9, 9.0}, "Đ");  // six >= 5.0, none below 3.5
  EXPECT_TRUE(expect("Đạt"));
  set({5.0, 5.0, 5.0, 5.0, 4.9, 4.9, 4.9, 9.0}, "Đ");  // only five >= 5.0
  EXPECT_TRUE(expect("Chưa đạt"));
}

TEST(Record, PrimaryOverallRule) {
  json::value doc = sample("primary-3A.json");
  json::array& students = doc.at("students").as_array();
  students.resize(1);
  json::object& p = student(doc, 0).at("primary").as_object();
  auto all_levels = [&](const char* subject_level, const char* rating_level, double score) {
    for (auto& s : p.at("subjects").as_array()) {
      s.as_object()["level"] = subject_level;
      if (s.as_object().contains("test_score")) s.as_object()["test_score"] = score;
    }
    for (auto* a : {&p.at("qualities").as_array(), &p.at("competencies").at("general").as_array(),
                    &p.at("competencies").at("specific").as_array()})
      for (auto& r : *a) r.as_object()["level"] = rating_level;
  };
  auto expected = [&]() -> std::string {
    p["overall"] = "Hoàn thành xuất sắc";
    p["completed_grade"] = true;
    auto c = parse_ok(doc);
    EXPECT_TRUE(c.errors.empty()) << all(c.errors);
    for (const auto& w : c.warnings)
      if (w.path == "students[0].primary.overall") return given(w.message);
    return "Hoàn thành xuất sắc";
  };
  all_levels("T", "T", 9);
  EXPECT_EQ(expected(), "Hoàn thành xuất sắc");
  all_levels("T", "T", 8);
  EXPECT_EQ(expected(), "Hoàn thành tốt");
  all_levels("T", "Đ", 10);
  EXPECT_EQ(expected(), "Hoàn thành");
  all_levels("H", "T", 6);
  EXPECT_EQ(expected(), "Hoàn thành");
  all_levels("H", "T", 4);
  EXPECT_EQ(expected(), "Chưa hoàn thành");
  all_levels("C", "T", 9);
  EXPECT_EQ(expected(), "Chưa hoàn thành");
  all_levels("T", "C", 9);
  EXPECT_EQ(expected(), "Chưa hoàn thành");
}

TEST(Record, TextIsNormalisedToNfc) {
  json::value doc = sample("primary-3A.json");
  student(doc, 0)["full_name"] = "Nguye\xcc\x82\xcc\x83n Va\xcc\x86n An";  // e + U+0302 + U+0303, a + U+0306
  student(doc, 0)["sex"] = "Nu\xcc\x9b\xcc\x83";                           // "Nữ" decomposed
  auto c = parse_ok(doc);
  EXPECT_TRUE(c.errors.empty()) << all(c.errors);
  EXPECT_EQ(c.students[0].full_name, "Nguy\xe1\xbb\x85n V\xc4\x83n An");  // U+1EC5, U+0103
  EXPECT_EQ(c.students[0].full_name, "Nguyễn Văn An");
  EXPECT_EQ(c.students[0].sex, "Nữ");
  // source_json is the input as it was, not normalised.
  EXPECT_NE(c.students[0].source_json.find("Nguye\xcc\x82\xcc\x83n"), std::string::npos);
}

TEST(Record, InvalidUtf8AndControlCharacters) {
  json::value doc = sample("primary-3A.json");
  std::string text = json::serialize(doc);
  std::string name = str(student(doc, 0).at("residence"));
  std::size_t pos = text.find(name);
  ASSERT_NE(pos, std::string::npos);
  text.replace(pos, name.size(), "Xo\xff\xfem 3");
  auto r = parse_class(text);
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_EQ(r->errors.size(), 1u) << all(r->errors);
  EXPECT_EQ(r->errors[0].path, "students[0].residence");
  EXPECT_EQ(r->errors[0].message.rfind("invalid UTF-8 at byte 2", 0), 0u) << r->errors[0].message;

  student(doc, 1)["place_of_birth"] = std::string("Ha\0Noi", 6);
  auto c = parse_ok(doc);
  ASSERT_EQ(c.errors.size(), 1u) << all(c.errors);
  EXPECT_EQ(c.errors[0].message, "contains the control character U+0000 at byte 2");
}

// U+FFFE and U+FFFF are valid UTF-8 but not characters: XML 1.0 forbids them, and the record's XML twin
// (and its XMP) would not be well-formed.
TEST(Record, NoncharactersFffeAndFfffAreRefused) {
  json::value doc = sample("primary-4B-v2.json");
  student(doc, 0)["full_name"] = "Nguy\xe1\xbb\x85n\xef\xbf\xbe An";  // U+FFFE at byte 8
  student(doc, 1)["place_of_birth"] = "H\xef\xbf\xbf";                  // U+FFFF at byte 1
  auto c = parse_ok(doc);
  ASSERT_EQ(c.errors.size(), 2u) << all(c.errors);
  EXPECT_EQ(c.errors[0].path, "students[0].full_name");
  EXPECT_EQ(c.errors[0].message, "contains U+FFFE at byte 8, which is not a character (XML 1.0 forbids it)");
  EXPECT_EQ(c.errors[1].path, "students[1].place_of_birth");
  EXPECT_EQ(c.errors[1].message, "contains U+FFFF at byte 1, which is not a character (XML 1.0 forbids it)");
  // U+FFFD (the replacement character) and U+FFFC are characters.
  json::value ok = sample("primary-4B-v2.json");
  student(ok, 0)["place_of_birth"] = "H\xef\xbf\xbd\xef\xbf\xbc";
  EXPECT_TRUE(parse_ok(ok).errors.empty());
}

// Year 0000 is not an xs:date (XSD 1.0 has no year zero): the XML twin would not be valid.
TEST(Record, YearZeroIsNotADate) {
  json::value doc = sample("primary-4B-v2.json");
  student(doc, 0)["date_of_birth"] = "0000-01-01";
  auto c = parse_ok(doc);
  ASSERT_EQ(c.errors.size(), 1u) << all(c.errors);
  EXPECT_EQ(c.errors[0].path, "students[0].date_of_birth");
  EXPECT_EQ(c.errors[0].message, "date 0000-01-01 does not exist");
}

TEST(Record, UnknownKeysAreAccepted) {
  json::value doc = sample("thpt-11A.json");
  doc.as_object()["x_exported_by"] = "SMAS 5.2";
  doc.at("school").as_object()["x_phone"] = 123;
  student(doc, 0)["x_note"] = json::object{{"anything", json::array{1, "two", nullptr}}};
  sec_subject(doc, 0, 0)["x_teacher"] = "Lê Văn A";
  auto c = parse_ok(doc);
  EXPECT_TRUE(c.errors.empty()) << all(c.errors);
  EXPECT_TRUE(c.class_ok());
  EXPECT_NE(c.students[0].source_json.find("\"x_note\""), std::string::npos);
  EXPECT_EQ(json::parse(c.students[0].source_json), doc.at("students").at(0));
}

TEST(Record, ValidStudentsListedWhenOneIsRejected) {
  json::value doc = sample("primary-5A.json");
  std::size_t n = doc.at("students").as_array().size();
  student(doc, 4).at("primary").as_object()["overall"] = "Giỏi";
  auto c = parse_ok(doc);
  ASSERT_EQ(c.errors.size(), 1u) << all(c.errors);
  EXPECT_EQ(c.errors[0].message,
            "must be one of Hoàn thành xuất sắc, Hoàn thành tốt, Hoàn thành, Chưa hoàn thành (got \"Giỏi\")");
  EXPECT_TRUE(c.class_ok());
  EXPECT_EQ(c.rejected, std::vector<std::size_t>{4});
  ASSERT_EQ(c.students.size(), n - 1);
  EXPECT_EQ(c.students[3].index, 3u);
  EXPECT_EQ(c.students[4].index, 5u);
}

TEST(Record, LevelMismatchAndOptionalBlocks) {
  json::value doc = sample("primary-3A.json");
  json::value sec = sample("thcs-8A.json");
  student(doc, 0)["secondary"] = student(sec, 0).at("secondary");
  student(doc, 1).erase("primary");
  student(doc, 2).erase("father");
  student(doc, 2)["guardian"] = json::object{{"name", "Lê Thị Hoa"}, {"occupation", "Nội trợ"}};
  student(doc, 2)["policy_status"] = "Con thương binh";
  auto c = parse_ok(doc);
  ASSERT_EQ(c.errors.size(), 2u) << all(c.errors);
  EXPECT_EQ(c.errors[0].path, "students[0].secondary");
  EXPECT_EQ(c.errors[1].path, "students[1].primary");
  EXPECT_EQ(c.errors[1].message, "missing");
  const Student& s2 = c.students[0];
  ASSERT_EQ(s2.index, 2u);
  EXPECT_FALSE(s2.father);
  ASSERT_TRUE(s2.guardian);
  EXPECT_EQ(s2.guardian->occupation, "Nội trợ");
  EXPECT_EQ(s2.policy_status, "Con thương binh");
}

TEST(Record, TooManyStudents) {
  ParseLimits limits;
  limits.max_students = 10;
  auto c = parse_ok(sample("thcs-8A.json"), limits);
  ASSERT_EQ(c.errors.size(), 1u) << all(c.errors);
  EXPECT_EQ(c.errors[0].path, "students");
  EXPECT_FALSE(c.class_ok());
}

TEST(Record, ProblemToString) {
  EXPECT_EQ((Problem{"a.b", "Tên", "001316729633", "missing"}.to_string()), "a.b: missing (Tên, 001316729633)");
  EXPECT_EQ((Problem{"a.b", "Tên", "", "missing"}.to_string()), "a.b: missing (Tên)");
  EXPECT_EQ((Problem{"a.b", "", "", "missing"}.to_string()), "a.b: missing");
}

TEST(Record, DocumentedExampleIsValid) {
  std::string doc = test::read_text(std::string(HOCBA_SOURCE_DIR) + "/docs/record-format.md");
  std::size_t from = doc.find("```json\n{");
  ASSERT_NE(from, std::string::npos);
  from += 8;
  std::size_t to = doc.find("\n```", from);
  auto r = parse_class(doc.substr(from, to - from));
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_TRUE(r->errors.empty()) << all(r->errors);
  EXPECT_TRUE(r->warnings.empty()) << all(r->warnings);
  ASSERT_EQ(r->students.size(), 1u);
  // The example is a v2 file, with v2 keys.
  EXPECT_EQ(r->info.format_version, 2);
  EXPECT_EQ(r->info.commune, "Phường Phú Thượng");
  const Student& s = r->students[0];
  ASSERT_EQ(s.history.size(), 3u);
  EXPECT_TRUE(s.history[1].transferred);
  EXPECT_EQ(s.secondary->subjects[1].reassessed, 5.5);
  EXPECT_EQ(s.secondary->learning.reassessed, "Đạt");
  ASSERT_TRUE(s.secondary->corrections);
  EXPECT_EQ(s.secondary->corrections->subjects, std::vector<std::string>{"Toán"});
}

// ---- Subject teachers (class.subject_teachers) ----------------------------------------------------

namespace {

json::array teachers(std::initializer_list<std::pair<const char*, const char*>> subject_user) {
  json::array a;
  for (auto [subject, user] : subject_user) a.push_back(json::object{{"subject", subject}, {"name", "Nguyễn Văn A"}, {"username", user}});
  return a;
}

}  // namespace

TEST(Record, ClassFilesWithoutSubjectTeachersStayValid) {
  for (const char* name : kSamples) {
    auto c = parse_ok(sample(name));
    EXPECT_TRUE(c.errors.empty()) << name << all(c.errors);
    EXPECT_TRUE(c.info.subject_teachers.empty()) << name;
  }
}

TEST(Record, SubjectTeachersAreRead) {
  auto c = parse_ok(sample("thcs-8A-gvbm.json"));
  EXPECT_TRUE(c.errors.empty()) << all(c.errors);
  EXPECT_TRUE(c.warnings.empty()) << all(c.warnings);
  ASSERT_EQ(c.info.subject_teachers.size(), 13u);
  EXPECT_EQ(c.info.subject_teachers[1].subject, "Toán");
  EXPECT_EQ(c.info.subject_teachers[1].teacher.name, "Phạm Văn Minh");
  EXPECT_EQ(c.info.subject_teachers[1].teacher.username, "gv.toan");
  const SubjectTeacher* t = subject_teacher(c.info, "Toán");
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->teacher.username, "gv.toan");
  EXPECT_EQ(subject_teacher(c.info, "Hóa học"), nullptr);
  // Subject names are normalised like every other text: a decomposed "Toán" names the same subject.
  json::value doc = sample("thcs-8A.json");
  doc.at("class").as_object()["subject_teachers"] = teachers({{"To\u0061\u0301n", "gv.toan"}});
  auto d = parse_ok(doc);
  EXPECT_TRUE(d.warnings.empty()) << all(d.warnings);
  ASSERT_EQ(d.info.subject_teachers.size(), 1u);
  EXPECT_EQ(d.info.subject_teachers[0].subject, "Toán");
}

TEST(Record, BadSubjectTeachersAreRejectedWithTheirPath) {
  json::value doc = sample("thcs-8A.json");
  json::array a = teachers({{"Toán", "gv.toan"}, {"Toán", "gv.toan2"}, {"Ngữ văn", "GV Văn"}, {"", "gv.x"}});
  a.push_back(json::object{{"subject", std::string(101, 'x')}, {"name", "B"}, {"username", "gv.b"}});
  a.push_back(json::object{{"subject", "Tin học"}, {"username", "gv.tin"}});
  a.push_back("Tin học");
  doc.at("class").as_object()["subject_teachers"] = a;
  auto c = parse_ok(doc);
  std::string e = all(c.errors);
  EXPECT_NE(e.find("class.subject_teachers[1].subject: \"Toán\" already has a teacher in class.subject_teachers[0]"), std::string::npos) << e;
  EXPECT_NE(e.find("class.subject_teachers[2].username: \"GV Văn\" is not an account name"), std::string::npos) << e;
  EXPECT_NE(e.find("class.subject_teachers[3].subject: must not be empty"), std::string::npos) << e;
  EXPECT_NE(e.find("class.subject_teachers[4].subject: a subject name of 101 bytes is longer than the 100 allowed"), std::string::npos) << e;
  EXPECT_NE(e.find("class.subject_teachers[5].name: missing"), std::string::npos) << e;
  EXPECT_NE(e.find("class.subject_teachers[6]: \"Tin học\" is not an object"), std::string::npos) << e;
  EXPECT_EQ(c.errors.size(), 6u) << e;
  EXPECT_FALSE(c.class_ok());  // a class-level error: nothing is rendered from it
  ASSERT_EQ(c.info.subject_teachers.size(), 1u);  // only the first Toán
  EXPECT_EQ(c.info.subject_teachers[0].teacher.username, "gv.toan");

  json::value wrong = sample("thcs-8A.json");
  wrong.at("class").as_object()["subject_teachers"] = "gv.toan";
  EXPECT_NE(all(parse_ok(wrong).errors).find("class.subject_teachers: \"gv.toan\" is not an array"), std::string::npos);
}

TEST(Record, TooManySubjectTeachers) {
  json::value doc = sample("thcs-8A.json");
  json::array a;
  for (int i = 0; i < 65; ++i)
    a.push_back(json::object{{"subject", "Môn " + std::to_string(i)}, {"name", "B"}, {"username", "gv.b"}});
  doc.at("class").as_object()["subject_teachers"] = a;
  auto c = parse_ok(doc);
  EXPECT_EQ(all(c.errors), "class.subject_teachers: 65 subject teachers are more than the 64 allowed\n");
  a.erase(a.begin());  // 64: allowed, each one a warning (no student has "Môn i")
  doc.at("class").as_object()["subject_teachers"] = a;
  auto d = parse_ok(doc);
  EXPECT_TRUE(d.errors.empty()) << all(d.errors);
  EXPECT_EQ(d.info.subject_teachers.size(), 64u);
  EXPECT_EQ(d.warnings.size(), 64u);
}

TEST(Record, SubjectTeacherForAnUnknownSubjectIsAWarning) {
  json::value doc = sample("thcs-8A.json");
  doc.at("class").as_object()["subject_teachers"] = teachers({{"Toán", "gv.toan"}, {"Toan", "gv.toan"}});
  auto c = parse_ok(doc);
  EXPECT_TRUE(c.errors.empty()) << all(c.errors);
  EXPECT_EQ(all(c.warnings), "class.subject_teachers[1].subject: no student of the class has the subject \"Toan\"\n");
  EXPECT_EQ(c.info.subject_teachers.size(), 2u);
}

TEST(Record, SubjectsOfListsTheClassSubjectsInFormOrder) {
  auto c = parse_ok(sample("thcs-8A.json"));
  std::vector<std::string> s = subjects_of(c);
  ASSERT_EQ(s.size(), 13u);
  EXPECT_EQ(s.front(), "Ngữ văn");
  EXPECT_EQ(s[1], "Toán");
  EXPECT_EQ(s.back(), "Nội dung giáo dục của địa phương");
  // A subject only a later student has comes after the first student's, where it first appears.
  json::value doc = sample("primary-3A.json");
  auto& subjects = student(doc, 2).at("primary").at("subjects").as_array();
  subjects.push_back(json::object{{"subject", "Tiếng dân tộc"}, {"level", "T"}, {"comment", ""}});
  auto p = parse_ok(doc);
  std::vector<std::string> ps = subjects_of(p);
  EXPECT_EQ(ps.back(), "Tiếng dân tộc");
  EXPECT_EQ(std::count(ps.begin(), ps.end(), "Tiếng Việt"), 1);
}

// ---- hocba.class/v2 ---------------------------------------------------------------------------------

namespace {

// Every field of the parsed model, one per line (the v1 samples' digests below were taken with the v1
// parser, before v2: the model of a v1 file must not change). format_version is not in it.
std::string model_text(const ClassFile& c, bool with_source = true) {
  std::ostringstream o;
  o.precision(17);
  auto opt = [&](const auto& v) -> std::ostream& {
    if (v) return o << *v;
    return o << "-";
  };
  auto ratings = [&](const char* what, const std::vector<Rating>& rs) {
    for (const auto& r : rs) o << what << "|" << r.name << "|" << r.level << "|" << r.comment << "\n";
  };
  auto staff = [&](const Staff& s) { o << s.name << "|" << s.username << "\n"; };
  auto person = [&](const std::optional<Person>& p) {
    if (p) o << p->name << "|" << p->occupation << "\n";
    else o << "-\n";
  };
  auto list = [&](const char* what, const std::vector<std::string>& l) {
    o << what;
    for (const auto& s : l) o << "|" << s;
    o << "\n";
  };
  const ClassInfo& i = c.info;
  o << i.school_name << "|" << i.school_code << "|" << i.district << "|" << i.province << "|" << i.commune << "\n";
  staff(i.principal);
  o << i.school_year << "|" << level_name(i.level) << "|" << i.class_name << "|" << i.grade << "\n";
  staff(i.homeroom_teacher);
  for (const auto& t : i.subject_teachers) o << t.subject << "|" << t.teacher.name << "|" << t.teacher.username << "\n";
  for (const Student& s : c.students) {
    o << s.index << "|" << s.personal_id << "|" << s.full_name << "|" << s.sex << "|" << s.date_of_birth << "|"
      << s.place_of_birth << "|" << s.ethnicity << "|" << s.nationality << "|" << s.residence << "|" << s.policy_status
      << "|" << s.home_town << "|" << s.registration_number << "|" << s.opened_on << "\n";
    person(s.father);
    person(s.mother);
    person(s.guardian);
    for (const auto& h : s.history)
      o << "history|" << h.school_year << "|" << h.class_name << "|" << h.school_name << "|" << h.registration_number
        << "|" << h.entry_date << "|" << h.transferred << "\n";
    if (const auto& p = s.primary) {
      opt(p->height_cm) << "|";
      opt(p->weight_kg) << "|";
      opt(p->absences_with_leave) << "|";
      opt(p->absences_without_leave) << "\n";
      for (const auto& x : p->subjects) {
        o << x.subject << "|" << x.level << "|";
        opt(x.test_score) << "|" << x.comment << "\n";
      }
      ratings("quality", p->qualities);
      ratings("general", p->general_competencies);
      ratings("specific", p->specific_competencies);
      o << p->overall << "|" << p->completed_grade << "|" << p->homeroom_comment << "\n";
      list("awards", p->awards);
    }
    if (const auto& r = s.secondary) {
      for (const auto& x : r->subjects) {
        o << x.subject << "|" << x.scored << "|";
        opt(x.hk1) << "|";
        opt(x.hk2) << "|";
        opt(x.year) << "|" << x.hk1_text << "|" << x.hk2_text << "|" << x.year_text << "|" << x.comment << "|";
        opt(x.reassessed) << "|" << x.reassessed_text << "\n";
      }
      for (const PerTerm* t : {&r->learning, &r->conduct})
        o << t->hk1 << "|" << t->hk2 << "|" << t->year << "|" << t->reassessed << "\n";
      o << r->absences << "|" << r->outcome << "|";
      opt(r->completed_level) << "|" << r->homeroom_comment << "\n";
      for (const auto& x : r->certificates) o << "certificate|" << x.name << "|" << x.grade << "\n";
      list("competitions", r->competitions);
      if (r->corrections) {
        o << "corrections|" << r->corrections->count << "\n";
        list("corrected", r->corrections->subjects);
      }
      list("awards", r->awards);
    }
    if (with_source) o << s.source_json << "\n";
  }
  for (std::size_t x : c.rejected) o << "rejected|" << x << "\n";
  for (const auto* ps : {&c.errors, &c.warnings})
    for (const auto& p : *ps) o << p.to_string() << "\n";
  return o.str();
}

// FNV-1a, 64 bits.
std::uint64_t fnv1a(const std::string& s) {
  std::uint64_t h = 14695981039346656037ull;
  for (unsigned char ch : s) {
    h ^= ch;
    h *= 1099511628211ull;
  }
  return h;
}

json::object& prim(json::value& doc, std::size_t i) { return student(doc, i).at("primary").as_object(); }
json::object& sec(json::value& doc, std::size_t i) { return student(doc, i).at("secondary").as_object(); }
json::object& entry(json::value& doc, std::size_t i, std::size_t k) {
  return student(doc, i).at("history").as_array().at(k).as_object();
}

std::string text_or_empty(const json::object& o, const char* key) {
  const json::value* v = o.if_contains(key);
  return v ? str(*v) : "";
}
std::optional<double> number_or_none(const json::object& o, const char* key) {
  const json::value* v = o.if_contains(key);
  if (!v) return std::nullopt;
  return v->to_number<double>();
}

// doc's problems are exactly `expected` ("path: message", in order).
testing::AssertionResult only(const std::vector<Problem>& got, std::initializer_list<std::string> expected) {
  std::string want, have;
  for (const auto& e : expected) want += e + "\n";
  for (const auto& p : got) have += p.path + ": " + p.message + "\n";
  if (want == have) return testing::AssertionSuccess();
  return testing::AssertionFailure() << "expected:\n" << want << "got:\n" << have;
}
testing::AssertionResult only_error(const json::value& doc, const std::string& expected) {
  auto c = parse_ok(doc);
  return only(c.errors, {expected});
}

json::array copies(const json::value& v, std::size_t n) {
  json::array a;
  for (std::size_t i = 0; i < n; ++i) a.push_back(v);
  return a;
}

// The model's digests of the v1 samples, taken with the v1-only parser (before hocba.class/v2).
struct Digest {
  const char* sample;
  std::uint64_t fnv;
};
const Digest kV1Digests[] = {{"primary-3A.json", 0xfc1bb2ea962f79cdull},
                             {"primary-5A.json", 0xea45db6feb84ca7eull},
                             {"thcs-8A.json", 0x80205167a7da8c96ull},
                             {"thcs-8A-gvbm.json", 0x3dd090fffeaba106ull},
                             {"thpt-11A.json", 0x5a137fe71308aea2ull}};

}  // namespace

TEST(Record, V1SamplesParseAsBeforeV2) {
  for (const Digest& d : kV1Digests) {
    auto c = parse_ok(sample(d.sample));
    EXPECT_EQ(c.info.format_version, 1) << d.sample;
    EXPECT_EQ(fnv1a(model_text(c)), d.fnv) << d.sample << ": the v1 model changed:\n" << model_text(c).substr(0, 3000);
  }
}

TEST(Record, V2SamplesParseWithEveryFieldAsInTheFile) {
  for (const char* name : kV2Samples) {
    json::value doc = sample(name);
    auto c = parse_ok(doc);
    EXPECT_TRUE(c.errors.empty()) << name << ":\n" << all(c.errors);
    EXPECT_TRUE(c.warnings.empty()) << name << ":\n" << all(c.warnings);
    EXPECT_EQ(c.info.format_version, 2);
    EXPECT_EQ(c.info.commune, str(doc.at("school").at("commune"))) << name;
    ASSERT_EQ(c.students.size(), doc.at("students").as_array().size()) << name;
    for (std::size_t i = 0; i < c.students.size(); ++i) {
      SCOPED_TRACE(std::string(name) + " students[" + std::to_string(i) + "]");
      const Student& s = c.students[i];
      const json::object& js = student(doc, i);
      EXPECT_EQ(s.home_town, text_or_empty(js, "home_town"));
      EXPECT_EQ(s.registration_number, text_or_empty(js, "registration_number"));
      EXPECT_EQ(s.opened_on, text_or_empty(js, "opened_on"));
      const json::value* h = js.if_contains("history");
      ASSERT_EQ(s.history.size(), h ? h->as_array().size() : 0u);
      for (std::size_t k = 0; k < s.history.size(); ++k) {
        const json::object& je = h->as_array().at(k).as_object();
        EXPECT_EQ(s.history[k].school_year, str(je.at("school_year")));
        EXPECT_EQ(s.history[k].class_name, str(je.at("class")));
        EXPECT_EQ(s.history[k].school_name, str(je.at("school")));
        EXPECT_EQ(s.history[k].registration_number, text_or_empty(je, "registration_number"));
        EXPECT_EQ(s.history[k].entry_date, text_or_empty(je, "entry_date"));
        EXPECT_EQ(s.history[k].transferred, je.contains("transferred") && je.at("transferred").as_bool());
      }
      if (s.primary) {
        const PrimaryResult& p = *s.primary;
        const json::object& jp = js.at("primary").as_object();
        EXPECT_EQ(p.height_cm, number_or_none(jp, "height_cm"));
        EXPECT_EQ(p.weight_kg, number_or_none(jp, "weight_kg"));
        EXPECT_EQ(p.absences_with_leave, number_or_none(jp, "absences_with_leave"));
        EXPECT_EQ(p.absences_without_leave, number_or_none(jp, "absences_without_leave"));
        for (std::size_t k = 0; k < p.subjects.size(); ++k)
          EXPECT_EQ(p.subjects[k].test_score, number_or_none(jp.at("subjects").at(k).as_object(), "test_score"));
        auto ratings = [&](const std::vector<Rating>& got, const json::value& want) {
          ASSERT_EQ(got.size(), want.as_array().size());
          for (std::size_t k = 0; k < got.size(); ++k)
            EXPECT_EQ(got[k].comment, text_or_empty(want.at(k).as_object(), "comment"));
        };
        ratings(p.qualities, jp.at("qualities"));
        ratings(p.general_competencies, jp.at("competencies").at("general"));
        ratings(p.specific_competencies, jp.at("competencies").at("specific"));
        EXPECT_EQ(p.homeroom_comment, text_or_empty(jp, "homeroom_comment"));
      }
      if (s.secondary) {
        const SecondaryResult& r = *s.secondary;
        const json::object& jr = js.at("secondary").as_object();
        for (std::size_t k = 0; k < r.subjects.size(); ++k) {
          const json::object& jsub = jr.at("subjects").at(k).as_object();
          if (r.subjects[k].scored) {
            EXPECT_EQ(r.subjects[k].reassessed, number_or_none(jsub, "reassessed"));
            EXPECT_EQ(r.subjects[k].reassessed_text, "");
          } else {
            EXPECT_EQ(r.subjects[k].reassessed_text, text_or_empty(jsub, "reassessed"));
            EXPECT_FALSE(r.subjects[k].reassessed);
          }
        }
        EXPECT_EQ(r.learning.reassessed, text_or_empty(jr.at("learning").as_object(), "reassessed"));
        EXPECT_EQ(r.conduct.reassessed, text_or_empty(jr.at("conduct").as_object(), "reassessed"));
        EXPECT_EQ(r.outcome, str(jr.at("outcome")));
        EXPECT_EQ(r.absences, jr.at("absences").to_number<int>());
        const json::value* cl = jr.if_contains("completed_level");
        EXPECT_EQ(r.completed_level, cl ? std::optional<bool>(cl->as_bool()) : std::nullopt);
        const json::value* cert = jr.if_contains("certificates");
        ASSERT_EQ(r.certificates.size(), cert ? cert->as_array().size() : 0u);
        for (std::size_t k = 0; k < r.certificates.size(); ++k) {
          EXPECT_EQ(r.certificates[k].name, str(cert->at(k).at("name")));
          EXPECT_EQ(r.certificates[k].grade, text_or_empty(cert->at(k).as_object(), "grade"));
        }
        std::vector<std::string> competitions;
        if (const json::value* v = jr.if_contains("competitions"))
          for (const auto& x : v->as_array()) competitions.push_back(str(x));
        EXPECT_EQ(r.competitions, competitions);
        const json::value* corr = jr.if_contains("corrections");
        ASSERT_EQ(r.corrections.has_value(), corr != nullptr);
        if (corr) {
          EXPECT_EQ(r.corrections->count, corr->at("count").to_number<int>());
          std::vector<std::string> subjects;
          for (const auto& x : corr->at("subjects").as_array()) subjects.push_back(str(x));
          EXPECT_EQ(r.corrections->subjects, subjects);
        }
      }
    }
  }

  // The same with literal values, so that the comparison above cannot pass on two empty sides.
  auto p = parse_ok(sample("primary-4B-v2.json"));
  EXPECT_EQ(p.info.commune, "Phường Xuân Phương");
  const Student& khoi = p.students[0];
  EXPECT_EQ(khoi.home_town, "Xã Liên Bảo, huyện Vụ Bản, tỉnh Nam Định");
  EXPECT_EQ(khoi.registration_number, "125/2021");
  EXPECT_EQ(khoi.opened_on, "2021-09-05");
  ASSERT_EQ(khoi.history.size(), 4u);
  EXPECT_EQ(khoi.history[0].school_year, "2021-2022");
  EXPECT_EQ(khoi.history[0].class_name, "1B");
  EXPECT_EQ(khoi.history[0].entry_date, "2021-09-05");
  EXPECT_FALSE(khoi.history[0].transferred);
  EXPECT_EQ(khoi.history[3].registration_number, "");
  EXPECT_EQ(khoi.primary->height_cm, 134.5);
  EXPECT_EQ(khoi.primary->weight_kg, 30.2);
  EXPECT_EQ(khoi.primary->absences_with_leave, 2);
  EXPECT_EQ(khoi.primary->absences_without_leave, 0);
  EXPECT_EQ(khoi.primary->subjects[0].test_score, 10.0);
  EXPECT_EQ(khoi.primary->qualities[0].comment, "Yêu quê hương, kính trọng thầy cô.");
  EXPECT_EQ(khoi.primary->specific_competencies[1].comment, "Tính nhẩm nhanh.");
  EXPECT_EQ(khoi.primary->specific_competencies[2].comment, "");
  const Student& anh = p.students[1];  // transferred in this year
  EXPECT_EQ(anh.history[0].school_name, "Trường Tiểu học Hoằng Quỳ");
  EXPECT_TRUE(anh.history[3].transferred);
  EXPECT_EQ(anh.history[3].entry_date, "2024-08-26");
  EXPECT_EQ(anh.history[3].registration_number, "018/2024");
  EXPECT_EQ(anh.primary->homeroom_comment, "");  // optional in v2
  const Student& pao = p.students[2];  // no v2 field at all
  EXPECT_TRUE(pao.home_town.empty() && pao.registration_number.empty() && pao.opened_on.empty() && pao.history.empty());
  EXPECT_FALSE(pao.primary->height_cm || pao.primary->weight_kg || pao.primary->absences_with_leave ||
               pao.primary->absences_without_leave);

  auto t = parse_ok(sample("thpt-12A-v2.json"));
  const SecondaryResult& nam = *t.students[0].secondary;
  EXPECT_EQ(nam.outcome, "Được lên lớp");
  EXPECT_EQ(nam.completed_level, true);
  ASSERT_EQ(nam.certificates.size(), 2u);
  EXPECT_EQ(nam.certificates[0].grade, "Giỏi");
  EXPECT_EQ(nam.certificates[1].name, "Chứng chỉ tiếng Anh bậc 3 (B1)");
  EXPECT_EQ(nam.certificates[1].grade, "");
  ASSERT_EQ(nam.competitions.size(), 2u);
  ASSERT_TRUE(nam.corrections);
  EXPECT_EQ(nam.corrections->count, 1);
  EXPECT_EQ(nam.corrections->subjects, std::vector<std::string>{"Hóa học"});
  EXPECT_TRUE(t.students[1].history.back().transferred);
  const SecondaryResult& trung = *t.students[2].secondary;  // Kiểm tra lại, then promoted
  EXPECT_EQ(trung.outcome, "Được lên lớp sau kiểm tra lại hoặc rèn luyện trong hè");
  EXPECT_EQ(trung.subjects[1].subject, "Toán");
  EXPECT_EQ(trung.subjects[1].reassessed, 5.5);
  EXPECT_EQ(trung.subjects[9].reassessed_text, "Đ");
  EXPECT_EQ(trung.learning.year, "Chưa đạt");
  EXPECT_EQ(trung.learning.reassessed, "Đạt");
  EXPECT_EQ(trung.conduct.reassessed, "");
  EXPECT_EQ(t.students[4].secondary->conduct.reassessed, "Đạt");  // summer training
  const Student& ngoc_anh = t.students[3];  // no v2 field at all
  EXPECT_TRUE(ngoc_anh.history.empty() && ngoc_anh.home_town.empty());
  EXPECT_FALSE(ngoc_anh.secondary->completed_level);
  EXPECT_FALSE(ngoc_anh.secondary->corrections);
}

// The samples keep using every v2 key (other tests, of the PDF and the XML, rely on them).
TEST(Record, V2SamplesUseEveryV2Key) {
  std::set<std::string> keys;
  auto walk = [&](auto&& self, const json::value& v, const std::string& path) -> void {
    if (v.is_object()) {
      for (const auto& kv : v.as_object()) {
        std::string p = path + "." + std::string(kv.key());
        keys.insert(p);
        self(self, kv.value(), p);
      }
    } else if (v.is_array()) {
      for (const auto& e : v.as_array()) self(self, e, path + "[]");
    }
  };
  for (const char* name : kV2Samples) walk(walk, sample(name), "");
  for (const char* k :
       {".school.commune", ".students[].home_town", ".students[].registration_number", ".students[].opened_on",
        ".students[].history[].school_year", ".students[].history[].class", ".students[].history[].school",
        ".students[].history[].registration_number", ".students[].history[].entry_date",
        ".students[].history[].transferred", ".students[].primary.height_cm", ".students[].primary.weight_kg",
        ".students[].primary.absences_with_leave", ".students[].primary.absences_without_leave",
        ".students[].primary.qualities[].comment", ".students[].primary.competencies.general[].comment",
        ".students[].primary.competencies.specific[].comment", ".students[].secondary.subjects[].reassessed",
        ".students[].secondary.learning.reassessed", ".students[].secondary.conduct.reassessed",
        ".students[].secondary.completed_level", ".students[].secondary.certificates[].name",
        ".students[].secondary.certificates[].grade", ".students[].secondary.competitions",
        ".students[].secondary.corrections.count", ".students[].secondary.corrections.subjects"})
    EXPECT_EQ(keys.count(k), 1u) << k;
}

TEST(Record, FormatNamesBothVersions) {
  json::value doc = sample("thpt-12A-v2.json");
  doc.as_object()["format"] = 2;
  EXPECT_TRUE(only(parse_ok(doc).errors, {"format: must be \"hocba.class/v2\" or \"hocba.class/v1\" (got 2)"}));
  doc.as_object().erase("format");
  auto c = parse_ok(doc);
  EXPECT_TRUE(only(c.errors, {"format: missing"}));
  EXPECT_EQ(c.info.format_version, 2);  // the students are read by the v2 rules
  EXPECT_FALSE(c.class_ok());
}

TEST(Record, V2StudentFieldsAreChecked) {
  auto with = [](auto change) {
    json::value doc = sample("thpt-12A-v2.json");
    change(doc);
    return doc;
  };
  EXPECT_TRUE(only_error(with([](json::value& d) { d.at("school").as_object()["commune"] = " "; }),
                         "school.commune: must not be empty"));
  EXPECT_TRUE(only_error(with([](json::value& d) { student(d, 0)["home_town"] = 5; }),
                         "students[0].home_town: 5 is not a string"));
  EXPECT_TRUE(only_error(with([](json::value& d) { student(d, 0)["registration_number"] = std::string(33, '7'); }),
                         "students[0].registration_number: a registration number of 33 bytes is longer than the 32 allowed"));
  EXPECT_TRUE(only_error(with([](json::value& d) { student(d, 0)["registration_number"] = ""; }),
                         "students[0].registration_number: must not be empty"));
  EXPECT_TRUE(only_error(with([](json::value& d) { student(d, 1)["opened_on"] = "2022-02-30"; }),
                         "students[1].opened_on: date 2022-02-30 does not exist"));
  EXPECT_TRUE(only_error(with([](json::value& d) { student(d, 1)["opened_on"] = "05/09/2022"; }),
                         "students[1].opened_on: \"05/09/2022\" is not a date of the form YYYY-MM-DD"));
  // A 32-byte registration number is allowed, and so is an empty home town.
  auto c = parse_ok(with([](json::value& d) {
    student(d, 0)["registration_number"] = std::string(32, '7');
    student(d, 0)["home_town"] = "";
  }));
  EXPECT_TRUE(c.errors.empty()) << all(c.errors);
  EXPECT_EQ(c.students[0].registration_number, std::string(32, '7'));
}

TEST(Record, HistoryRulesGiveTheEntrysPath) {
  auto with = [](auto change) {
    json::value doc = sample("thpt-12A-v2.json");  // students[0]: 10A 2022-2023, 11A 2023-2024, 12A 2024-2025
    change(doc);
    return doc;
  };
  const std::string h = "students[0].history";
  EXPECT_TRUE(only_error(with([](json::value& d) { entry(d, 0, 1)["school_year"] = "2022-2023"; }),
                         h + "[1].school_year: \"2022-2023\" does not come after \"2022-2023\" of " + h +
                             "[0] (the history is oldest first)"));
  EXPECT_TRUE(only_error(with([](json::value& d) { entry(d, 0, 0)["school_year"] = "2023-2024"; }),
                         h + "[1].school_year: \"2023-2024\" does not come after \"2023-2024\" of " + h +
                             "[0] (the history is oldest first)"));
  EXPECT_TRUE(only_error(with([](json::value& d) { entry(d, 0, 2)["school_year"] = "2025-2026"; }),
                         h + "[2].school_year: \"2025-2026\" is later than the file's school year \"2024-2025\""));
  EXPECT_TRUE(only_error(with([](json::value& d) { entry(d, 0, 2)["class"] = "12B"; }),
                         h + "[2].class: \"12B\" is not the file's class \"12A\" (this entry is the file's school year)"));
  EXPECT_TRUE(only_error(with([](json::value& d) { entry(d, 0, 0)["school_year"] = "2022-2024"; }),
                         h + "[0].school_year: \"2022-2024\" is not two consecutive years of the form YYYY-YYYY"));
  EXPECT_TRUE(only_error(with([](json::value& d) { entry(d, 0, 0).erase("school_year"); }),
                         h + "[0].school_year: missing"));
  EXPECT_TRUE(only_error(with([](json::value& d) { entry(d, 0, 0)["class"] = ""; }), h + "[0].class: must not be empty"));
  EXPECT_TRUE(only_error(with([](json::value& d) { entry(d, 0, 1).erase("school"); }), h + "[1].school: missing"));
  EXPECT_TRUE(only_error(with([](json::value& d) { entry(d, 0, 0)["entry_date"] = "2022-13-01"; }),
                         h + "[0].entry_date: date 2022-13-01 does not exist"));
  EXPECT_TRUE(only_error(with([](json::value& d) { entry(d, 0, 0)["transferred"] = "yes"; }),
                         h + "[0].transferred: \"yes\" is not true or false"));
  EXPECT_TRUE(only_error(with([](json::value& d) { entry(d, 0, 0)["registration_number"] = std::string(40, 'x'); }),
                         h + "[0].registration_number: a registration number of 40 bytes is longer than the 32 allowed"));
  EXPECT_TRUE(only_error(with([](json::value& d) { student(d, 0)["history"] = "10A"; }),
                         h + ": \"10A\" is not an array"));
  EXPECT_TRUE(only_error(with([](json::value& d) { student(d, 0).at("history").as_array()[1] = "11A"; }),
                         h + "[1]: \"11A\" is not an object"));
  EXPECT_TRUE(only_error(with([](json::value& d) { student(d, 0)["history"] = copies(entry(d, 0, 0), 33); }),
                         h + ": 33 history entries are more than the 32 allowed"));
  // Another class's name is fine in earlier years, and a history need not reach the file's year.
  auto c = parse_ok(with([](json::value& d) { student(d, 0).at("history").as_array().pop_back(); }));
  EXPECT_TRUE(c.errors.empty()) << all(c.errors);
  EXPECT_EQ(c.students[0].history.size(), 2u);
  // The rejected student is only this one.
  auto r = parse_ok(with([](json::value& d) { entry(d, 0, 2)["class"] = "12B"; }));
  EXPECT_EQ(r.rejected, std::vector<std::size_t>{0});
  EXPECT_EQ(r.students.size(), 4u);
}

TEST(Record, PrimaryV2FieldsAreChecked) {
  auto with = [](auto change) {
    json::value doc = sample("primary-4B-v2.json");
    change(doc);
    return doc;
  };
  const std::string p = "students[0].primary";
  EXPECT_TRUE(only_error(with([](json::value& d) { prim(d, 0)["height_cm"] = 230; }), p + ".height_cm: 230 is above 220"));
  EXPECT_TRUE(only_error(with([](json::value& d) { prim(d, 0)["height_cm"] = 39.9; }), p + ".height_cm: 39.9 is below 40"));
  EXPECT_TRUE(only_error(with([](json::value& d) { prim(d, 0)["height_cm"] = 134.55; }),
                         p + ".height_cm: 134.55 has more than one decimal"));
  EXPECT_TRUE(only_error(with([](json::value& d) { prim(d, 0)["height_cm"] = "134"; }),
                         p + ".height_cm: \"134\" is not a number"));
  EXPECT_TRUE(only_error(with([](json::value& d) { prim(d, 0)["weight_kg"] = 4.5; }), p + ".weight_kg: 4.5 is below 5"));
  EXPECT_TRUE(only_error(with([](json::value& d) { prim(d, 0)["weight_kg"] = 200.5; }), p + ".weight_kg: 200.5 is above 200"));
  EXPECT_TRUE(only_error(with([](json::value& d) { prim(d, 0)["absences_with_leave"] = 367; }),
                         p + ".absences_with_leave: 367 is above 366"));
  EXPECT_TRUE(only_error(with([](json::value& d) { prim(d, 0)["absences_without_leave"] = 1.5; }),
                         p + ".absences_without_leave: 1.5 is not a whole number"));
  EXPECT_TRUE(only_error(with([](json::value& d) { prim(d, 0)["absences_without_leave"] = -1; }),
                         p + ".absences_without_leave: -1 is below 0"));
  EXPECT_TRUE(only_error(with([](json::value& d) { prim(d, 0).at("qualities").as_array()[0].as_object()["comment"] = 1; }),
                         p + ".qualities[0].comment: 1 is not a string"));
  EXPECT_TRUE(only_error(with([](json::value& d) {
                           prim(d, 0).at("competencies").at("specific").as_array()[3].as_object()["comment"] = json::array{};
                         }),
                         p + ".competencies.specific[3].comment: an array is not a string"));
  // Circular 27: the periodic test score is an integer (8.0 is one).
  EXPECT_TRUE(only_error(with([](json::value& d) { prim(d, 0).at("subjects").as_array()[0].as_object()["test_score"] = 7.5; }),
                         p + ".subjects[0].test_score: 7.5 is not a whole number (Circular 27: the test score is an integer)"));
  EXPECT_TRUE(only_error(with([](json::value& d) { prim(d, 0).at("subjects").as_array()[1].as_object()["test_score"] = 11; }),
                         p + ".subjects[1].test_score: 11 is above 10"));
  auto c = parse_ok(with([](json::value& d) {
    prim(d, 0).at("subjects").as_array()[0].as_object()["test_score"] = 9.0;
    prim(d, 0).erase("homeroom_comment");  // optional in v2
    prim(d, 0)["height_cm"] = 150;         // no decimal: fine
  }));
  EXPECT_TRUE(c.errors.empty()) << all(c.errors);
  EXPECT_TRUE(c.warnings.empty()) << all(c.warnings);
  EXPECT_EQ(c.students[0].primary->subjects[0].test_score, 9.0);
  EXPECT_EQ(c.students[0].primary->homeroom_comment, "");
}

TEST(Record, SecondaryV2FieldsAreChecked) {
  auto with = [](auto change) {
    json::value doc = sample("thpt-12A-v2.json");
    change(doc);
    return doc;
  };
  const std::string s0 = "students[0].secondary", s2 = "students[2].secondary";
  // students[2]: subjects[1] Toán (scored, re-assessed 5.5), subjects[9] Giáo dục thể chất (pass/fail, re-assessed Đ).
  auto subject = [](json::value& d, std::size_t k) -> json::object& { return sec_subject(d, 2, k); };
  EXPECT_TRUE(only_error(with([&](json::value& d) { subject(d, 1)["reassessed"] = 10.5; }),
                         s2 + ".subjects[1].reassessed: 10.5 is above 10"));
  EXPECT_TRUE(only_error(with([&](json::value& d) { subject(d, 1)["reassessed"] = 5.55; }),
                         s2 + ".subjects[1].reassessed: 5.55 has more than one decimal"));
  EXPECT_TRUE(only_error(with([&](json::value& d) { subject(d, 1)["reassessed"] = "Đ"; }),
                         s2 + ".subjects[1].reassessed: \"Đ\" is not a number"));
  EXPECT_TRUE(only_error(with([&](json::value& d) { subject(d, 9)["reassessed"] = 6; }),
                         s2 + ".subjects[9].reassessed: must be one of Đ, CĐ (got 6)"));
  EXPECT_TRUE(only_error(with([](json::value& d) { sec(d, 2).at("learning").as_object()["reassessed"] = "Giỏi"; }),
                         s2 + ".learning.reassessed: must be one of Tốt, Khá, Đạt, Chưa đạt (got \"Giỏi\")"));
  EXPECT_TRUE(only_error(with([](json::value& d) { sec(d, 4).at("conduct").as_object()["reassessed"] = ""; }),
                         "students[4].secondary.conduct.reassessed: must be one of Tốt, Khá, Đạt, Chưa đạt (got \"\")"));
  EXPECT_TRUE(only_error(with([](json::value& d) { sec(d, 3)["outcome"] = "Lên lớp"; }),
                         "students[3].secondary.outcome: must be one of Được lên lớp, Được lên lớp sau kiểm tra lại hoặc "
                         "rèn luyện trong hè, Không được lên lớp, Kiểm tra lại, Rèn luyện trong hè (got \"Lên lớp\")"));
  EXPECT_TRUE(only_error(with([](json::value& d) { sec(d, 0)["completed_level"] = "yes"; }),
                         s0 + ".completed_level: \"yes\" is not true or false"));
  EXPECT_TRUE(only_error(with([](json::value& d) { sec(d, 0)["certificates"] = json::object{}; }),
                         s0 + ".certificates: an object is not an array"));
  EXPECT_TRUE(only_error(with([](json::value& d) { sec(d, 0).at("certificates").as_array()[0].as_object().erase("name"); }),
                         s0 + ".certificates[0].name: missing"));
  EXPECT_TRUE(only_error(with([](json::value& d) { sec(d, 0).at("certificates").as_array()[1].as_object()["grade"] = 7; }),
                         s0 + ".certificates[1].grade: 7 is not a string"));
  EXPECT_TRUE(only_error(with([](json::value& d) { sec(d, 0).at("certificates").as_array()[1] = "B1"; }),
                         s0 + ".certificates[1]: \"B1\" is not an object"));
  EXPECT_TRUE(only_error(with([](json::value& d) {
                           sec(d, 0)["certificates"] = copies(json::object{{"name", "Chứng chỉ nghề"}}, 33);
                         }),
                         s0 + ".certificates: 33 certificates are more than the 32 allowed"));
  EXPECT_TRUE(only_error(with([](json::value& d) { sec(d, 0).at("competitions").as_array()[1] = " "; }),
                         s0 + ".competitions[1]: must not be empty"));
  EXPECT_TRUE(only_error(with([](json::value& d) { sec(d, 0)["competitions"] = copies("Giải Ba", 33); }),
                         s0 + ".competitions: 33 competition results are more than the 32 allowed"));
  auto corrections = [](json::value& d) -> json::object& { return sec(d, 0).at("corrections").as_object(); };
  EXPECT_TRUE(only_error(with([&](json::value& d) { corrections(d)["count"] = 0; }), s0 + ".corrections.count: 0 is below 1"));
  EXPECT_TRUE(only_error(with([&](json::value& d) { corrections(d)["count"] = 100; }), s0 + ".corrections.count: 100 is above 99"));
  EXPECT_TRUE(only_error(with([&](json::value& d) { corrections(d)["count"] = 1.5; }),
                         s0 + ".corrections.count: 1.5 is not a whole number"));
  EXPECT_TRUE(only_error(with([&](json::value& d) { corrections(d).erase("count"); }), s0 + ".corrections.count: missing"));
  EXPECT_TRUE(only_error(with([&](json::value& d) { corrections(d).erase("subjects"); }),
                         s0 + ".corrections.subjects: missing"));
  EXPECT_TRUE(only_error(with([&](json::value& d) { corrections(d)["subjects"] = json::array{}; }),
                         s0 + ".corrections.subjects: must not be empty"));
  EXPECT_TRUE(only_error(with([&](json::value& d) { corrections(d)["subjects"] = json::array{"Toán", ""}; }),
                         s0 + ".corrections.subjects[1]: must not be empty"));
  EXPECT_TRUE(only_error(with([&](json::value& d) { corrections(d)["subjects"] = copies("Toán", 33); }),
                         s0 + ".corrections.subjects: 33 subjects are more than the 32 allowed"));
  EXPECT_TRUE(only_error(with([](json::value& d) { sec(d, 0)["corrections"] = "1 chỗ"; }),
                         s0 + ".corrections: \"1 chỗ\" is not an object"));
  EXPECT_TRUE(only_error(with([](json::value& d) { sec(d, 0)["awards"] = copies("Học sinh Giỏi", 33); }),
                         s0 + ".awards: 33 awards are more than the 32 allowed"));
}

TEST(Record, CompletedLevelOnlyInTheLevelsLastGrade) {
  json::value doc = sample("thpt-12A-v2.json");
  doc.at("class").as_object()["grade"] = 11;
  for (std::size_t i = 0; i < 5; ++i)  // the history's own year must name the class: keep it 12A
    if (student(doc, i).contains("history")) entry(doc, i, 2)["class"] = "12A";
  auto c = parse_ok(doc);
  const std::string why = ".secondary.completed_level: only grade 9 (THCS) or 12 (THPT) completes a level; the class is grade 11";
  EXPECT_TRUE(only(c.errors, {"students[0]" + why, "students[1]" + why, "students[2]" + why, "students[4]" + why}));
  EXPECT_EQ(c.students.size(), 1u);  // students[3] has no completed_level

  // Grade 9 (THCS) completes a level too.
  json::value thcs = sample("thpt-12A-v2.json");
  thcs.as_object()["level"] = "lower_secondary";
  thcs.at("class").as_object()["grade"] = 9;
  EXPECT_TRUE(parse_ok(thcs).errors.empty()) << all(parse_ok(thcs).errors);
  // completed_level: false is a value too, and needs the last grade as well.
  json::value no = sample("thpt-12A-v2.json");
  sec(no, 1)["completed_level"] = false;
  auto n = parse_ok(no);
  EXPECT_TRUE(n.errors.empty()) << all(n.errors);
  EXPECT_EQ(n.students[1].secondary->completed_level, false);
}

TEST(Record, OutcomeAndReassessmentContradictionsAreWarnings) {
  auto with = [](auto change) {
    json::value doc = sample("thpt-12A-v2.json");
    change(doc);
    auto c = parse_ok(doc);
    EXPECT_TRUE(c.errors.empty()) << all(c.errors);
    return c.warnings;
  };
  // A re-assessed value for a student promoted without re-assessment.
  EXPECT_TRUE(only(with([](json::value& d) {
                     sec_subject(d, 0, 1)["reassessed"] = 9.5;
                     sec(d, 0).at("conduct").as_object()["reassessed"] = "Tốt";
                   }),
                   {"students[0].secondary.subjects[1].reassessed: a re-assessed value contradicts the outcome \"Được lên "
                    "lớp\" (promoted without re-assessment; use \"Được lên lớp sau kiểm tra lại hoặc rèn luyện trong hè\")",
                    "students[0].secondary.conduct.reassessed: a re-assessed value contradicts the outcome \"Được lên "
                    "lớp\" (promoted without re-assessment; use \"Được lên lớp sau kiểm tra lại hoặc rèn luyện trong hè\")"}));
  // Promoted after re-assessment, but nothing re-assessed.
  EXPECT_TRUE(only(with([](json::value& d) { sec(d, 4).at("conduct").as_object().erase("reassessed"); }),
                   {"students[4].secondary.outcome: \"Được lên lớp sau kiểm tra lại hoặc rèn luyện trong hè\" but no "
                    "subject, learning or conduct result has a re-assessed value"}));
  // Held back without re-assessment: only after more than 45 sessions absent.
  EXPECT_TRUE(only(with([](json::value& d) { sec(d, 3)["outcome"] = "Không được lên lớp"; }),
                   {"students[3].secondary.outcome: \"Không được lên lớp\" without any re-assessed value: Circular 22 "
                    "holds a student back only after more than 45 sessions absent (absences: 3) or a failed "
                    "re-assessment"}));
  EXPECT_TRUE(only(with([](json::value& d) {
                     sec(d, 3)["outcome"] = "Không được lên lớp";
                     sec(d, 3)["absences"] = 46;
                   }),
                   {}));
  // Held back after a failed re-assessment, yet "completed the level".
  EXPECT_TRUE(only(with([](json::value& d) { sec(d, 2)["outcome"] = "Không được lên lớp"; }),
                   {"students[2].secondary.completed_level: true contradicts the outcome \"Không được lên lớp\" (a "
                    "student held back has not completed the level)"}));
  // Pending re-assessment: no warning either way.
  EXPECT_TRUE(only(with([](json::value& d) {
                     sec(d, 3)["outcome"] = "Kiểm tra lại";
                     sec(d, 4)["outcome"] = "Rèn luyện trong hè";
                   }),
                   {}));
}

TEST(Record, AwardsAreLimitedInV1Too) {
  json::value doc = sample("primary-3A.json");
  prim(doc, 0)["awards"] = copies("Học sinh Xuất sắc", 33);
  EXPECT_TRUE(only_error(doc, "students[0].primary.awards: 33 awards are more than the 32 allowed"));
  json::value sec_doc = sample("thcs-8A.json");
  sec(sec_doc, 1)["awards"] = copies("Học sinh Giỏi", 33);
  EXPECT_TRUE(only_error(sec_doc, "students[1].secondary.awards: 33 awards are more than the 32 allowed"));
  sec(sec_doc, 1)["awards"] = copies("Học sinh Giỏi", 32);
  EXPECT_TRUE(parse_ok(sec_doc).errors.empty());
  ParseLimits limits;
  limits.max_list_items = 2;
  sec(sec_doc, 1)["awards"] = copies("Học sinh Giỏi", 3);
  EXPECT_TRUE(only(parse_ok(sec_doc, limits).errors, {"students[1].secondary.awards: 3 awards are more than the 2 allowed"}));
}

TEST(Record, V1KeepsItsRulesAndIgnoresV2Keys) {
  // The v2 keys, some with values v2 would reject, in v1 files: unknown keys, ignored (and kept in the
  // embedded JSON).
  json::value v2 = sample("thpt-12A-v2.json");
  json::value doc = sample("thcs-8A.json");
  const ClassFile before = parse_ok(doc);
  doc.at("school").as_object()["commune"] = "";
  for (const char* k : {"home_town", "registration_number", "opened_on", "history"}) student(doc, 0)[k] = student(v2, 0).at(k);
  student(doc, 1)["history"] = "not a list";
  student(doc, 1)["opened_on"] = "2024-02-30";
  for (const char* k : {"completed_level", "certificates", "competitions", "corrections"}) sec(doc, 0)[k] = sec(v2, 0).at(k);
  sec_subject(doc, 0, 0)["reassessed"] = 11;
  sec(doc, 0).at("learning").as_object()["reassessed"] = "Giỏi";
  const ClassFile after = parse_ok(doc);
  EXPECT_TRUE(after.errors.empty()) << all(after.errors);
  EXPECT_EQ(after.info.format_version, 1);
  EXPECT_EQ(model_text(after, false), model_text(before, false));  // blank v2 fields: the same model
  EXPECT_NE(after.students[0].source_json.find("\"certificates\""), std::string::npos);

  // v1's own rules stay: Lên lớp, decimal test scores, a required primary homeroom comment.
  json::value p = sample("primary-3A.json");
  prim(p, 0).at("subjects").as_array()[0].as_object()["test_score"] = 7.5;
  prim(p, 0)["height_cm"] = 500;
  prim(p, 0).at("qualities").as_array()[0].as_object()["comment"] = 7;
  prim(p, 1).erase("homeroom_comment");
  auto c = parse_ok(p);
  EXPECT_TRUE(only(c.errors, {"students[1].primary.homeroom_comment: missing"}));
  EXPECT_EQ(c.students[0].primary->subjects[0].test_score, 7.5);
  EXPECT_FALSE(c.students[0].primary->height_cm);
  EXPECT_EQ(c.students[0].primary->qualities[0].comment, "");
  json::value s = sample("thcs-8A.json");
  sec(s, 0)["outcome"] = "Được lên lớp";
  EXPECT_TRUE(only_error(s, "students[0].secondary.outcome: must be one of Lên lớp, Rèn luyện trong hè, Kiểm tra lại, "
                            "Ở lại lớp (got \"Được lên lớp\")"));
}

TEST(Record, GenSchoolOutputStillParses) {
  // The project's copy of ../shared/tools/gen-school.py (the same file), and the shared one when it is there.
  std::vector<std::string> scripts = {std::string(HOCBA_SOURCE_DIR) + "/tests/tools/gen-school.py"};
  std::string shared = std::string(HOCBA_SOURCE_DIR) + "/../shared/tools/gen-school.py";
  if (test::run("test -f '" + shared + "'").status == 0) scripts.push_back(shared);
  test::TempDir tmp;
  for (const std::string& script : scripts) {
    for (auto [level, grade, n] : {std::tuple{"primary", 4, 35}, {"lower_secondary", 9, 45}, {"upper_secondary", 12, 42}}) {
      std::string out = tmp.file(std::string(level) + ".json");
      auto gen = test::run("/usr/bin/python3 '" + script + "' --level " + level + " --grade " + std::to_string(grade) +
                           " --students " + std::to_string(n) + " --seed 11 > '" + out + "'");
      ASSERT_EQ(gen.status, 0) << script << ": " << gen.out;
      auto r = parse_class(test::read_text(out));
      ASSERT_TRUE(r) << r.error().message;
      EXPECT_EQ(r->info.format_version, 1);
      EXPECT_TRUE(r->errors.empty()) << script << " " << level << ":\n" << all(r->errors);
      EXPECT_EQ(r->students.size(), static_cast<std::size_t>(n)) << script << " " << level;
    }
  }
}
