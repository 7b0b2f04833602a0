// The report-card model: hocba.class/v1 import and validation (docs/record-format.md). Every case starts
// from one of the samples in tests/data/samples and mutates it with Boost.JSON.
#include "hocba/pdf/record.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <boost/json.hpp>
#include <chrono>
#include <iostream>
#include <string>

#include "test_env.h"

using namespace hocba;
using namespace hocba::pdf;
namespace json = boost::json;

namespace {

const char* kSamples[] = {"primary-3A.json", "primary-5A.json", "thcs-8A.json", "thpt-11A.json"};

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
  doc.as_object()["format"] = "hocba.class/v2";
  doc.at("school").as_object().erase("name");
  doc.at("class").as_object()["grade"] = 7;
  auto c = parse_ok(doc);
  ASSERT_EQ(c.errors.size(), 3u) << all(c.errors);
  EXPECT_EQ(c.errors[0].to_string(), "format: must be \"hocba.class/v1\" (got \"hocba.class/v2\")");
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
  EXPECT_EQ(r->students.size(), 1u);
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
