// Subject teachers' score sheets in-process (workflow::Workflow over a throw-away store, no daemon, no
// token): a sheet is rendered only when its data changed (an unchanged class makes no new version and
// renders nothing; a changed score makes a new version of its subject only), a sheet made before
// schema 7 is adopted without a new version, and a class marked dirty (as `hocba class teacher` marks
// it) is refreshed by the sweep once per mark.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <filesystem>
#include <map>

#include "hocba/store/sheets.h"
#include "workflow_fixture.h"

namespace hocba::test {
namespace {

namespace json = boost::json;
namespace fs = std::filesystem;

// A sheet as a test compares it: which row, which version, and its file's bytes and time.
struct Seen {
  std::int64_t id = 0, version = 0;
  std::string state, teacher, data_sha256, pdf_sha256;
  fs::file_time_type mtime;
  bool operator==(const Seen& o) const {
    return id == o.id && version == o.version && state == o.state && teacher == o.teacher && data_sha256 == o.data_sha256 &&
           pdf_sha256 == o.pdf_sha256 && mtime == o.mtime;
  }
};

// The lower-secondary class 8A (its first step is gvbm) imported by the admin. Of the teachers the
// class file names, gv.toan and gv.van have accounts (the other subjects have no teacher yet); gv.moi,
// gv.khac and gv.nobody are subject teachers the admin may assign.
struct World : Fixture {
  workflow::Actor admin = add("admin", store::Role::admin);
  std::int64_t class_id = 0;

  World() {
    for (const char* t : {"gv.toan", "gv.van", "gv.moi", "gv.khac", "gv.nobody"}) add(t, store::Role::subject_teacher);
    auto imp = wf.import_class(admin, read_text(std::string(HOCBA_TEST_DATA) + "/samples/thcs-8A-gvbm.json"));
    if (!imp || !imp->class_ok || !imp->sheets_error.empty())
      throw std::runtime_error("import: " + (imp ? imp->sheets_error : imp.error().message));
    class_id = imp->class_id;
  }
  std::int64_t user_id(const std::string& name) { return (*store::Users(st).by_username(name))->id; }

  // The current sheets by subject.
  std::map<std::string, Seen> sheets() {
    auto rows = store::Sheets(st).current(class_id);
    if (!rows) throw std::runtime_error(rows.error().message);
    std::map<std::string, Seen> out;
    for (const store::Sheet& s : *rows)
      out[s.subject] = Seen{s.id, s.version, s.state, s.teacher_username, s.data_sha256, s.pdf_sha256, fs::last_write_time(wf.abs(s.pdf_path))};
    return out;
  }
  // Score sheets rendered so far (the workflow's counter).
  int rendered() {
    const std::string text = "\n" + metrics.render(), name = "\nhocba_sheets_rendered_total ";
    auto p = text.find(name);
    return p == std::string::npos ? 0 : std::stoi(text.substr(p + name.size()));
  }
  std::int64_t audited(const std::string& action) {
    auto r = st.query("SELECT count(*) FROM audit WHERE action = ?", {action});
    return store::as_int(r->front()[0]);
  }
  std::vector<std::int64_t> dirty(std::int64_t teacher = 0) { return *store::Sheets(st).dirty_classes(teacher); }

  // Changes one subject's HK I score (and so its year average, (HK I + 2 x HK II) / 3) in the first
  // student's current record, as an approved correction leaves it (the store only: no refresh).
  void change_score(const std::string& subject, double hk1) {
    auto rows = st.query("SELECT id, student_json FROM records WHERE class_id = ? AND state != 'superseded' ORDER BY id LIMIT 1", {class_id});
    ASSERT_TRUE(rows && rows->size() == 1u);
    json::value student = json::parse(store::as_text(rows->front()[1]));
    bool found = false;
    for (auto& s : student.at("secondary").at("subjects").as_array())
      if (s.at("subject").as_string() == subject) {
        auto tenths = [](double v) { return static_cast<long long>(v * 10 + 0.5); };
        long long year = (tenths(hk1) + 2 * tenths(s.at("hk2").to_number<double>()) + 1) / 3;
        s.as_object()["hk1"] = hk1;
        s.as_object()["year"] = static_cast<double>(year) / 10;
        found = true;
      }
    ASSERT_TRUE(found) << subject;
    Status done = st.transaction([&](store::Tx& tx) -> Status {
      auto e = tx.exec("UPDATE records SET student_json = ? WHERE id = ?", {json::serialize(student), rows->front()[0]});
      return e ? Status::success() : Status(e.error());
    });
    ASSERT_TRUE(done) << done.error().message;
  }
};

TEST(SheetData, AnUnchangedClassMakesNoNewVersionAndRendersNothing) {
  World w;
  auto before = w.sheets();
  ASSERT_EQ(before.size(), 2u);  // Toán (gv.toan) and Ngữ văn (gv.van)
  EXPECT_EQ(w.rendered(), 2);
  for (auto& [subject, s] : before) {
    EXPECT_EQ(s.version, 1) << subject;
    EXPECT_EQ(s.data_sha256.size(), 64u) << subject;
    EXPECT_NE(s.data_sha256, s.pdf_sha256) << subject;  // the data's hash, not the file's
  }
  EXPECT_TRUE(w.dirty().empty());  // the import's refresh cleared its own mark
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(w.wf.refresh_sheets(w.class_id));
  // The same class file imported again: its drafts are drawn again, its sheets read the same.
  auto again = w.wf.import_class(w.admin, read_text(std::string(HOCBA_TEST_DATA) + "/samples/thcs-8A-gvbm.json"));
  ASSERT_TRUE(again && again->sheets_error.empty());
  EXPECT_EQ(w.sheets(), before);
  EXPECT_EQ(w.rendered(), 2);
  EXPECT_EQ(w.audited("sheet.new"), 2);
}

TEST(SheetData, AChangedScoreMakesANewVersionOfItsSubjectOnly) {
  World w;
  auto before = w.sheets();
  w.change_score("Toán", 5.2);  // was 4.9
  ASSERT_TRUE(w.wf.refresh_sheets(w.class_id));
  auto after = w.sheets();
  ASSERT_EQ(after.size(), 2u);
  EXPECT_EQ(after["Toán"].version, 2);
  EXPECT_EQ(after["Toán"].state, "waiting");
  EXPECT_NE(after["Toán"].id, before["Toán"].id);
  EXPECT_NE(after["Toán"].data_sha256, before["Toán"].data_sha256);
  EXPECT_EQ(after["Ngữ văn"], before["Ngữ văn"]);  // not rendered again
  EXPECT_EQ(w.rendered(), 3);
  auto old = store::Sheets(w.st).by_id(before["Toán"].id);
  ASSERT_TRUE(old && *old);
  EXPECT_EQ((*old)->state, "superseded");
  // Nothing more to do; a subject without a teacher has no sheet to change.
  ASSERT_TRUE(w.wf.refresh_sheets(w.class_id));
  w.change_score("Tin học", 6.0);
  ASSERT_TRUE(w.wf.refresh_sheets(w.class_id));
  EXPECT_EQ(w.sheets(), after);
  EXPECT_EQ(w.rendered(), 3);
}

// A sheet made before schema 7 holds "pdf:" and its unsigned file's hash. Its file's identifier (the
// first half of its data's hash) tells, without rendering, whether it still shows the class's data (it
// takes that data's hash and keeps its version) or not (a new version).
TEST(SheetData, ASheetMadeBeforeSchema7IsAdoptedWhenItsFileShowsTheData) {
  World w;
  auto before = w.sheets();
  Status legacy = w.st.transaction([&](store::Tx& tx) -> Status {
    auto e = tx.exec("UPDATE sheets SET data_sha256 = 'pdf:' || pdf_sha256");
    return e ? Status::success() : Status(e.error());
  });
  ASSERT_TRUE(legacy);
  ASSERT_EQ(w.sheets()["Toán"].data_sha256, "pdf:" + before["Toán"].pdf_sha256);
  w.change_score("Ngữ văn", 4.0);  // was 3.4
  ASSERT_TRUE(w.wf.refresh_sheets(w.class_id));
  auto after = w.sheets();
  EXPECT_EQ(after["Toán"], before["Toán"]);  // adopted: same row, version, file, and its data's hash
  EXPECT_EQ(after["Ngữ văn"].version, 2);    // its file shows the old scores
  EXPECT_EQ(w.rendered(), 3);                // Ngữ văn's new version only
  ASSERT_TRUE(w.wf.refresh_sheets(w.class_id));
  EXPECT_EQ(w.sheets(), after);
  EXPECT_EQ(w.rendered(), 3);
}

// `hocba class teacher` (store::Sheets::set_teacher, no rendering) marks the class; the sweep makes
// the sheet, once, and clears the mark.
TEST(SheetMarks, ACliAssignmentIsMadeByTheSweepOncePerMark) {
  World w;
  ASSERT_TRUE(store::Sheets(w.st).set_teacher("cli:root", w.class_id, "Tin học", "gv.moi"));
  EXPECT_EQ(w.dirty(), std::vector<std::int64_t>{w.class_id});
  EXPECT_EQ(w.sheets().count("Tin học"), 0u);
  EXPECT_EQ(w.rendered(), 2);
  ASSERT_TRUE(w.wf.refresh_dirty_sheets());
  auto made = w.sheets();
  ASSERT_EQ(made.count("Tin học"), 1u);
  EXPECT_EQ(made["Tin học"].teacher, "gv.moi");
  EXPECT_EQ(made["Tin học"].version, 1);
  EXPECT_TRUE(w.dirty().empty());
  EXPECT_EQ(w.rendered(), 3);
  ASSERT_TRUE(w.wf.refresh_dirty_sheets());  // no mark: nothing done
  EXPECT_EQ(w.sheets(), made);
  EXPECT_EQ(w.rendered(), 3);

  // Another teacher: the sweep of a teacher who does not teach in the class leaves it marked; theirs
  // (the new teacher's) makes the sheet naming them.
  ASSERT_TRUE(store::Sheets(w.st).set_teacher("cli:root", w.class_id, "Tin học", "gv.khac"));
  ASSERT_TRUE(w.wf.refresh_dirty_sheets(w.user_id("gv.nobody")));
  EXPECT_EQ(w.dirty(), std::vector<std::int64_t>{w.class_id});
  EXPECT_EQ(w.rendered(), 3);
  EXPECT_EQ(w.dirty(w.user_id("gv.khac")), std::vector<std::int64_t>{w.class_id});
  ASSERT_TRUE(w.wf.refresh_dirty_sheets(w.user_id("gv.khac")));
  EXPECT_TRUE(w.dirty().empty());
  EXPECT_EQ(w.sheets()["Tin học"].teacher, "gv.khac");
  EXPECT_EQ(w.sheets()["Tin học"].version, 2);
  EXPECT_EQ(w.rendered(), 4);
}

// A mark made while a refresh runs (by another process) has a newer generation: clearing the older one
// leaves it.
TEST(SheetMarks, AMarkMadeDuringARefreshStays) {
  World w;
  store::Sheets sheets(w.st);
  auto g1 = sheets.mark_dirty(w.class_id);
  auto g2 = sheets.mark_dirty(w.class_id);
  ASSERT_TRUE(g1 && g2);
  EXPECT_EQ(*g2, *g1 + 1);
  ASSERT_TRUE(sheets.clear_dirty(w.class_id, *g1));
  EXPECT_EQ(w.dirty(), std::vector<std::int64_t>{w.class_id});
  ASSERT_TRUE(sheets.clear_dirty(w.class_id, *g2));
  EXPECT_TRUE(w.dirty().empty());
  auto none = sheets.mark_dirty(w.class_id + 100);  // no such class: no mark
  ASSERT_TRUE(none);
  EXPECT_EQ(*none, 0);
  EXPECT_TRUE(w.dirty().empty());
}

// The admin's assignment through the workflow makes the sheet at once and leaves no mark.
TEST(SheetMarks, AnAssignmentByTheApiIsMadeAtOnce) {
  World w;
  ASSERT_TRUE(w.wf.assign_subject_teacher(w.admin, w.class_id, "Tin học", "gv.moi"));
  EXPECT_EQ(w.sheets()["Tin học"].teacher, "gv.moi");
  EXPECT_TRUE(w.dirty().empty());
  EXPECT_EQ(w.rendered(), 3);
  auto refused = w.wf.assign_subject_teacher(w.admin, w.class_id, "Tin học", "admin");  // not a subject teacher
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, Errc::invalid_argument);
  EXPECT_EQ(w.rendered(), 3);
}

}  // namespace
}  // namespace hocba::test
