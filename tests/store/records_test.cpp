// The store's class, record and correction repositories: the class list and page, a record's
// detail, signatures and versions, and corrections from their request to their decision.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "hocba/store/corrections.h"
#include "hocba/store/keys.h"
#include "hocba/store/records.h"
#include "hocba/store/store.h"
#include "hocba/store/users.h"
#include "test_env.h"

using namespace hocba;
using store::Classes;
using store::Corrections;
using store::Records;
using store::Role;
using store::Store;
using store::Tx;

namespace {

const std::string kAt = "2026-12-01T08:00:00.000Z";

// A throw-away store with a homeroom teacher (gv, "Cô Lan") and a principal (ht).
struct Db {
  test::TempDir dir;
  Store s = open(dir.path());
  std::int64_t gv = add("gv", "Cô Lan", Role::homeroom_teacher), ht = add("ht", "", Role::principal);

  static Store open(const std::string& path) {
    auto st = Store::open(path);
    if (!st) throw std::runtime_error(st.error().message);
    return std::move(st).value();
  }
  std::int64_t add(const std::string& username, const std::string& name, Role role) {
    auto id = store::Users(s).add("cli:test", username, name, role, Secret("mat-khau-dai-4711"));
    if (!id) throw std::runtime_error(id.error().message);
    return *id;
  }
  // Runs `fn` in a transaction that must commit.
  void tx(const std::function<Status(Tx&)>& fn) {
    Status st = s.transaction(fn);
    if (!st) throw std::runtime_error(st.error().message);
  }
  std::int64_t add_class(const std::string& year, const std::string& name, const std::string& homeroom, const std::string& level) {
    std::int64_t id = 0;
    tx([&](Tx& t) -> Status {
      auto c = Classes::upsert(t, year, name, homeroom, "{\"level\":\"" + level + "\"}", kAt);
      if (!c) return c.error();
      id = *c;
      return {};
    });
    return id;
  }
  std::int64_t add_draft(std::int64_t class_id, const std::string& personal_id, const std::string& name) {
    std::int64_t id = 0;
    tx([&](Tx& t) -> Status {
      auto r = Records::add_draft(t, class_id, personal_id, name, "{\"personal_id\":\"" + personal_id + "\"}", "records/" + personal_id + ".pdf", kAt);
      if (!r) return r.error();
      id = *r;
      return {};
    });
    return id;
  }
  // The record's step `step` signed by `user_id` (with `key_id`, in `job_id`); `final`: its last one.
  void sign(std::int64_t record_id, std::int64_t step, std::int64_t user_id, std::int64_t key_id, std::int64_t job_id, bool final) {
    store::NewSignature n;
    n.record_id = record_id, n.step = step, n.user_id = user_id, n.key_id = key_id, n.job_id = job_id;
    n.field = "step" + std::to_string(step), n.pdf_path = "signed.pdf", n.pdf_sha256 = "ab", n.at = kAt, n.final = final;
    tx([&](Tx& t) { return Records::add_signature(t, n); });
  }
  std::int64_t key(const std::string& owner) {
    auto k = store::Keys(s).bind("cli:test", "pkcs11:token=T;object=" + owner, owner, owner);
    if (!k) throw std::runtime_error(k.error().message);
    return *k;
  }
  std::int64_t add_version(std::int64_t old_id, std::int64_t class_id, const std::string& personal_id, std::int64_t version) {
    std::int64_t id = 0;
    tx([&](Tx& t) -> Status {
      auto r = Records::add_version(t, class_id, personal_id, "Tên mới", version, "{\"v\":2}", "records/v2.pdf", "cd", kAt);
      if (!r) return r.error();
      id = *r;
      return Records::supersede(t, old_id, id, kAt);
    });
    return id;
  }
};

}  // namespace

// --- classes -----------------------------------------------------------------------------------------------

TEST(Classes, TheListGivesEachClassItsTeacherAndCountsAndATeacherTheirsOnly) {
  Db db;
  std::int64_t a3 = db.add_class("2025-2026", "3A", "gv", "primary");
  std::int64_t b3 = db.add_class("2025-2026", "3B", "nobody", "primary");
  std::int64_t old = db.add_class("2024-2025", "2A", "gv", "primary");
  std::int64_t r1 = db.add_draft(a3, "001316729633", "An"), r2 = db.add_draft(a3, "001316729634", "Bình");
  db.add_draft(a3, "001316729635", "Chi");
  db.sign(r1, 0, db.gv, db.key("gv"), 0, true);  // a one-step record: final
  db.add_version(r2, a3, "001316729634", 2);      // r2 superseded: counted once, by its new version

  auto all = Classes(db.s).list(0);
  ASSERT_TRUE(all) << all.error().message;
  ASSERT_EQ(all->size(), 3u);
  EXPECT_EQ((*all)[0].id, a3);  // newest year first, then by name
  EXPECT_EQ((*all)[1].id, b3);
  EXPECT_EQ((*all)[2].id, old);
  const store::ClassRow& c = (*all)[0];
  EXPECT_EQ(c.school_year, "2025-2026");
  EXPECT_EQ(c.name, "3A");
  EXPECT_EQ(c.homeroom_user_id, db.gv);
  EXPECT_EQ(c.homeroom_username, "gv");
  EXPECT_EQ(c.homeroom_name, "Cô Lan");
  EXPECT_EQ(c.records, 3);
  EXPECT_EQ(c.final_records, 1);
  EXPECT_EQ((*all)[1].homeroom_user_id, 0);  // no such teacher: none bound
  EXPECT_EQ((*all)[1].homeroom_username, "");
  EXPECT_EQ((*all)[1].records, 0);

  auto mine = Classes(db.s).list(db.gv);
  ASSERT_TRUE(mine);
  ASSERT_EQ(mine->size(), 2u);
  EXPECT_EQ((*mine)[0].id, a3);
  EXPECT_EQ((*mine)[1].id, old);
  EXPECT_TRUE(Classes(db.s).list(db.ht)->empty());

  auto one = Classes(db.s).get(a3);
  ASSERT_TRUE(one && *one);
  EXPECT_EQ((*one)->name, "3A");
  EXPECT_EQ((*one)->records, 3);
  auto none = Classes(db.s).get(4242);
  ASSERT_TRUE(none);
  EXPECT_FALSE(*none);
}

// --- records -----------------------------------------------------------------------------------------------

TEST(Records, DetailSignaturesAndVersionsOfARecord) {
  Db db;
  std::int64_t cls = db.add_class("2025-2026", "9A", "gv", "lower_secondary");
  std::int64_t r = db.add_draft(cls, "001316729633", "An");
  std::int64_t k_gv = db.key("gv"), k_ht = db.key("ht");
  db.sign(r, 0, db.gv, k_gv, 0, false);
  db.sign(r, 1, db.ht, k_ht, 7, false);
  auto d = Records(db.s).detail(r);
  ASSERT_TRUE(d && *d);
  EXPECT_EQ((*d)->class_id, cls);
  EXPECT_EQ((*d)->personal_id, "001316729633");
  EXPECT_EQ((*d)->student_name, "An");
  EXPECT_EQ((*d)->version, 1);
  EXPECT_EQ((*d)->state, "signing");
  EXPECT_EQ((*d)->steps_done, 2);
  EXPECT_EQ((*d)->pdf_sha256, "ab");
  EXPECT_EQ((*d)->superseded_by, 0);
  EXPECT_EQ((*d)->class_name, "9A");
  EXPECT_EQ((*d)->school_year, "2025-2026");
  EXPECT_EQ((*d)->level, "lower_secondary");
  EXPECT_EQ((*d)->student_json, "{\"personal_id\":\"001316729633\"}");
  EXPECT_EQ((*d)->updated_at, kAt);

  auto sigs = Records(db.s).signatures(r);
  ASSERT_TRUE(sigs);
  ASSERT_EQ(sigs->size(), 2u);
  EXPECT_EQ((*sigs)[0].step, 0);
  EXPECT_EQ((*sigs)[0].field, "step0");
  EXPECT_EQ((*sigs)[0].username, "gv");
  EXPECT_EQ((*sigs)[0].key_id, k_gv);
  EXPECT_EQ((*sigs)[0].job_id, 0);  // interactive
  EXPECT_EQ((*sigs)[0].signed_at, kAt);
  EXPECT_EQ((*sigs)[1].username, "ht");
  EXPECT_EQ((*sigs)[1].job_id, 7);

  std::int64_t v2 = db.add_version(r, cls, "001316729633", 2);
  auto old = Records(db.s).detail(r);
  ASSERT_TRUE(old && *old);
  EXPECT_EQ((*old)->state, "superseded");
  EXPECT_EQ((*old)->superseded_by, v2);
  auto fresh = Records(db.s).detail(v2);
  ASSERT_TRUE(fresh && *fresh);
  EXPECT_EQ((*fresh)->state, "draft");
  EXPECT_EQ((*fresh)->version, 2);
  EXPECT_EQ((*fresh)->steps_done, 0);
  EXPECT_EQ((*fresh)->student_name, "Tên mới");
  EXPECT_EQ((*fresh)->pdf_sha256, "cd");
  EXPECT_TRUE(Records(db.s).signatures(v2)->empty());

  auto versions = Records(db.s).versions(cls, "001316729633");
  ASSERT_TRUE(versions);
  ASSERT_EQ(versions->size(), 2u);
  EXPECT_EQ((*versions)[0].id, r);
  EXPECT_EQ((*versions)[0].version, 1);
  EXPECT_EQ((*versions)[0].state, "superseded");
  EXPECT_EQ((*versions)[1].id, v2);
  EXPECT_EQ((*versions)[1].state, "draft");
  EXPECT_TRUE(Records(db.s).versions(cls, "000000000000")->empty());
  auto none = Records(db.s).detail(4242);
  ASSERT_TRUE(none);
  EXPECT_FALSE(*none);
}

TEST(Records, TheCurrentRecordsOfAClassNameTheStudentAndWhyOneFailed) {
  Db db;
  std::int64_t cls = db.add_class("2025-2026", "3A", "gv", "primary");
  std::int64_t b = db.add_draft(cls, "001316729634", "Bình");
  std::int64_t a = db.add_draft(cls, "001316729633", "An");
  ASSERT_TRUE(Records(db.s).set_failed(b, "cannot write the file"));
  std::int64_t a2 = db.add_version(a, cls, "001316729633", 2);
  auto cur = Records(db.s).current(cls);
  ASSERT_TRUE(cur);
  ASSERT_EQ(cur->size(), 2u);
  EXPECT_EQ((*cur)[0].id, b);  // by student name: "Bình" < "Tên mới"
  EXPECT_EQ((*cur)[0].student_name, "Bình");
  EXPECT_EQ((*cur)[0].state, "failed");
  EXPECT_EQ((*cur)[0].error, "cannot write the file");
  EXPECT_EQ((*cur)[1].id, a2);
  EXPECT_EQ((*cur)[1].student_name, "Tên mới");
  EXPECT_EQ((*cur)[1].error, "");
}

// --- corrections -------------------------------------------------------------------------------------------

TEST(Corrections, ARequestWaitsThenIsDecidedOnce) {
  Db db;
  std::int64_t cls = db.add_class("2025-2026", "3A", "gv", "primary");
  std::int64_t r = db.add_draft(cls, "001316729633", "An"), other = db.add_draft(cls, "001316729634", "Bình");
  std::int64_t k1 = 0, k2 = 0;
  db.tx([&](Tx& t) -> Status {
    auto none = Corrections::pending(t, r);
    if (!none) return none.error();
    EXPECT_FALSE(*none);
    auto a = Corrections::add(t, r, db.gv, "{\"full_name\":\"An mới\"}", "sai tên", kAt);
    if (!a) return a.error();
    k1 = *a;
    auto b = Corrections::add(t, other, db.ht, "{}", "sai ngày sinh", "2026-12-02T08:00:00.000Z");
    if (!b) return b.error();
    k2 = *b;
    auto waiting = Corrections::pending(t, r);
    if (!waiting) return waiting.error();
    EXPECT_EQ(*waiting, std::optional<std::int64_t>(k1));
    return {};
  });

  auto all = Corrections(db.s).list(0);
  ASSERT_TRUE(all) << all.error().message;
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].id, k2);  // newest first
  const store::Correction& c = (*all)[1];
  EXPECT_EQ(c.id, k1);
  EXPECT_EQ(c.record_id, r);
  EXPECT_EQ(c.requested_by, "gv");
  EXPECT_EQ(c.why, "sai tên");
  EXPECT_EQ(c.state, "pending");
  EXPECT_EQ(c.note, "");
  EXPECT_EQ(c.new_record_id, 0);
  EXPECT_EQ(c.created_at, kAt);
  EXPECT_EQ(c.student_name, "An");
  EXPECT_EQ(c.personal_id, "001316729633");
  EXPECT_EQ(c.student_json, "{\"full_name\":\"An mới\"}");
  EXPECT_EQ(c.current_student_json, "{\"personal_id\":\"001316729633\"}");
  auto mine = Corrections(db.s).list(db.gv);
  ASSERT_TRUE(mine);
  ASSERT_EQ(mine->size(), 1u);
  EXPECT_EQ(mine->front().id, k1);

  auto d = Corrections(db.s).to_decide(k1);
  ASSERT_TRUE(d && *d);
  EXPECT_EQ((*d)->id, k1);
  EXPECT_EQ((*d)->record_id, r);
  EXPECT_EQ((*d)->class_id, cls);
  EXPECT_EQ((*d)->version, 1);
  EXPECT_EQ((*d)->state, "pending");
  EXPECT_EQ((*d)->student_json, "{\"full_name\":\"An mới\"}");
  EXPECT_EQ((*d)->personal_id, "001316729633");
  EXPECT_EQ((*d)->class_source_json, "{\"level\":\"primary\"}");
  EXPECT_FALSE(*Corrections(db.s).to_decide(4242));

  // Approved once; then neither approved nor rejected again. Rejected: no new version.
  std::int64_t v2 = db.add_version(r, cls, "001316729633", 2);
  db.tx([&](Tx& t) -> Status {
    EXPECT_TRUE(*Corrections::approve(t, k1, db.ht, "đồng ý", v2, kAt));
    EXPECT_FALSE(*Corrections::approve(t, k1, db.ht, "lần nữa", v2, kAt));
    EXPECT_FALSE(*Corrections::reject(t, k1, db.ht, "không", kAt));
    EXPECT_TRUE(*Corrections::reject(t, k2, db.ht, "không cần", kAt));
    EXPECT_FALSE(*Corrections::reject(t, 4242, db.ht, "", kAt));
    auto none = Corrections::pending(t, r);
    EXPECT_TRUE(none && !*none);
    return {};
  });
  all = Corrections(db.s).list(0);
  ASSERT_TRUE(all);
  EXPECT_EQ((*all)[1].state, "approved");
  EXPECT_EQ((*all)[1].note, "đồng ý");
  EXPECT_EQ((*all)[1].new_record_id, v2);
  EXPECT_EQ((*all)[0].state, "rejected");
  EXPECT_EQ((*all)[0].note, "không cần");
  EXPECT_EQ((*all)[0].new_record_id, 0);
  auto decided = db.s.query("SELECT decided_by, decided_at FROM corrections WHERE id = ?", {k2});
  ASSERT_TRUE(decided && !decided->empty());
  EXPECT_EQ(store::as_int(decided->front()[0]), db.ht);
  EXPECT_EQ(store::as_text(decided->front()[1]), kAt);
}
