// Score sheets through the App in-process (a real store, no TLS, no daemon): listing them
// (GET /api/v1/sheets) only reads, however often and by whom, even while a class waits for its sheets
// to be made again; the App's sweep makes them, at its start.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <chrono>
#include <filesystem>
#include <map>
#include <thread>

#include "hocba/store/sheets.h"
#include "in_process.h"

namespace hocba::test {
namespace {

namespace json = boost::json;
namespace fs = std::filesystem;

// The App over a store with three subject teachers besides its admin, each with a session.
struct World : InProcess {
  std::map<std::string, std::string> tokens;

  World() {
    for (const char* name : {"gv.toan", "gv.van", "gv.moi"}) {
      auto id = store::Users(*store).add("test", name, "", store::Role::subject_teacher, Secret(std::string("password-") + name));
      if (!id) throw std::runtime_error(id.error().message);
    }
    for (const char* name : {"admin", "gv.toan", "gv.van", "gv.moi"}) tokens[name] = token(name);
  }
  net::HttpResponse as(const std::string& who, const std::string& method, const std::string& path, const std::string& body = "") {
    return call(method, path, body, "192.0.2.10", {{"authorization", "Bearer " + tokens[who]}});
  }
  // Every file under state/sheets with its time of last change, and the sheets' rows.
  std::string snapshot() {
    std::string out;
    fs::path dir = tmp.file("state") + "/sheets";
    if (fs::exists(dir))
      for (auto& e : fs::recursive_directory_iterator(dir))
        if (e.is_regular_file())
          out += e.path().string() + " " + std::to_string(fs::last_write_time(e.path()).time_since_epoch().count()) + "\n";
    auto rows = store->query("SELECT id, subject, version, state, data_sha256, pdf_sha256 FROM sheets ORDER BY id");
    for (auto& r : *rows)
      for (auto& v : r) out += store::as_text(v) + (&v == &r.back() ? "\n" : " ");
    return out;
  }
  std::vector<std::int64_t> dirty() { return *store::Sheets(*store).dirty_classes(); }
  json::array sheets(const std::string& who) { return json::parse(as(who, "GET", "/api/v1/sheets").body).at("sheets").as_array(); }
};

TEST(SheetListing, ListingOnlyReadsAndTheSweepMakesTheSheets) {
  World p;
  auto imp = p.as("admin", "POST", "/api/v1/classes", read_text(std::string(HOCBA_TEST_DATA) + "/samples/thcs-8A-gvbm.json"));
  ASSERT_EQ(imp.status, 201) << imp.body;
  const std::int64_t class_id = json::parse(imp.body).at("class_id").as_int64();

  // Two things listing used to act on: a teacher assigned by `hocba class teacher` (no sheet yet, the
  // class marked) and a score changed under a sheet.
  ASSERT_TRUE(store::Sheets(*p.store).set_teacher("cli:root", class_id, "Tin học", "gv.moi"));
  Status changed = p.store->transaction([&](store::Tx& tx) -> Status {
    auto e = tx.exec("UPDATE records SET student_json = replace(student_json, '\"comment\":\"', '\"comment\":\"(sửa) ') WHERE class_id = ?",
                     {class_id});
    return e ? Status::success() : Status(e.error());
  });
  ASSERT_TRUE(changed);
  const std::string before = p.snapshot();
  ASSERT_NE(before.find("Toán"), std::string::npos) << before;
  ASSERT_EQ(p.dirty(), std::vector<std::int64_t>{class_id});

  for (int i = 0; i < 5; ++i)
    for (const char* who : {"admin", "gv.toan", "gv.moi"}) {
      auto r = p.as(who, "GET", "/api/v1/sheets");
      ASSERT_EQ(r.status, 200) << r.body;
    }
  auto mine = p.sheets("gv.moi");
  EXPECT_TRUE(mine.empty()) << json::serialize(mine);  // made by the sweep, not by listing
  EXPECT_EQ(p.snapshot(), before);
  EXPECT_EQ(p.dirty(), std::vector<std::int64_t>{class_id});
  EXPECT_NE(p.metrics.render().find("\nhocba_sheets_rendered_total 2\n"), std::string::npos) << p.metrics.render();  // the import's

  // The App's sweep at its start: gv.moi's sheet, new versions of the other two (their comments changed).
  ASSERT_TRUE(p.app->start());
  for (int i = 0; i < 600 && !p.dirty().empty(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_TRUE(p.dirty().empty());
  p.app->stop();
  mine = p.sheets("gv.moi");
  ASSERT_EQ(mine.size(), 1u);
  EXPECT_EQ(mine[0].at("subject").as_string(), "Tin học");
  auto all = p.sheets("admin");
  ASSERT_EQ(all.size(), 3u) << json::serialize(all);
  for (auto& s : all) EXPECT_EQ(s.at("version").as_int64(), s.at("subject").as_string() == "Tin học" ? 1 : 2) << json::serialize(s);
  EXPECT_NE(p.metrics.render().find("\nhocba_sheets_rendered_total 5\n"), std::string::npos) << p.metrics.render();
}

}  // namespace
}  // namespace hocba::test
