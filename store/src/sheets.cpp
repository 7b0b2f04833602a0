// Subject teachers and score sheets: see sheets.h.
#include "hocba/store/sheets.h"

#include <boost/json.hpp>

#include "store_internal.h"

namespace hocba::store {

namespace {

constexpr const char* kSheetCols =
    "s.id, s.class_id, s.version, c.name, c.school_year, s.subject, s.step, s.state, s.data_sha256, s.pdf_path, s.pdf_sha256, "
    "coalesce(s.confirmed_by, 0), coalesce(s.key_id, 0), coalesce(nullif(cu.display_name, ''), cu.username, ''), coalesce(s.confirmed_at, ''), "
    "coalesce(cs.teacher_user_id, 0), coalesce(tu.username, ''), coalesce(tu.display_name, '')";
constexpr const char* kSheetJoins =
    " FROM sheets s JOIN classes c ON c.id = s.class_id LEFT JOIN users cu ON cu.id = s.confirmed_by "
    "LEFT JOIN class_subjects cs ON cs.class_id = s.class_id AND cs.subject = s.subject LEFT JOIN users tu ON tu.id = cs.teacher_user_id";

Sheet sheet_of(const DbRow& r) {
  Sheet s;
  s.id = as_int(r[0]), s.class_id = as_int(r[1]), s.version = as_int(r[2]);
  s.class_name = as_text(r[3]), s.school_year = as_text(r[4]), s.subject = as_text(r[5]), s.step = as_text(r[6]), s.state = as_text(r[7]);
  s.data_sha256 = as_text(r[8]), s.pdf_path = as_text(r[9]), s.pdf_sha256 = as_text(r[10]);
  s.confirmed_by = as_int(r[11]), s.key_id = as_int(r[12]), s.confirmed_by_name = as_text(r[13]), s.confirmed_at = as_text(r[14]);
  s.teacher_user_id = as_int(r[15]), s.teacher_username = as_text(r[16]), s.teacher_name = as_text(r[17]);
  return s;
}

Result<std::vector<Sheet>> sheets_of(Store& store, const std::string& where, const std::vector<DbValue>& params) {
  auto rows = store.query(std::string("SELECT ") + kSheetCols + kSheetJoins + " WHERE s.state != 'superseded'" + where +
                              " ORDER BY c.school_year DESC, c.name, s.subject, s.step",
                          params);
  if (!rows) return rows.error();
  std::vector<Sheet> out;
  for (const DbRow& r : *rows) out.push_back(sheet_of(r));
  return out;
}

Result<std::vector<std::int64_t>> class_ids(Store& store, const std::string& sql, const std::vector<DbValue>& params) {
  auto rows = store.query(sql, params);
  if (!rows) return rows.error();
  std::vector<std::int64_t> out;
  for (const DbRow& r : *rows) out.push_back(as_int(r[0]));
  return out;
}

}  // namespace

Result<std::vector<ClassSubject>> Sheets::subjects(std::int64_t class_id) {
  auto rows = store_->query(
      "SELECT cs.class_id, cs.subject, coalesce(cs.teacher_user_id, 0), coalesce(u.username, ''), coalesce(u.display_name, '') "
      "FROM class_subjects cs LEFT JOIN users u ON u.id = cs.teacher_user_id WHERE cs.class_id = ? ORDER BY cs.subject",
      {class_id});
  if (!rows) return rows.error();
  std::vector<ClassSubject> out;
  for (const DbRow& r : *rows) out.push_back({as_int(r[0]), as_text(r[1]), as_int(r[2]), as_text(r[3]), as_text(r[4])});
  return out;
}

Status Sheets::set_teacher(const std::string& actor, std::int64_t class_id, const std::string& subject, const std::string& username) {
  return store_->transaction([&](Tx& tx) -> Status {
    auto cs = tx.query("SELECT 1 FROM class_subjects WHERE class_id = ? AND subject = ?", {class_id, subject});
    if (!cs) return cs.error();
    if (cs->empty()) return make_error(Errc::not_found, "class " + std::to_string(class_id) + " has no subject \"" + subject + "\"");
    auto u = tx.query("SELECT id FROM users WHERE username = ? AND role = 'subject_teacher' AND disabled = 0", {username});
    if (!u) return u.error();
    if (u->empty()) return make_error(Errc::invalid_argument, "\"" + username + "\" is not an active subject teacher");
    if (auto e = tx.exec("UPDATE class_subjects SET teacher_user_id = ? WHERE class_id = ? AND subject = ?", {as_int(u->front()[0]), class_id, subject});
        !e)
      return e.error();
    boost::json::object d{{"class_id", class_id}, {"subject", subject}, {"username", username}};
    if (auto a = tx.audit(actor, "class.subject_teacher", boost::json::serialize(d)); !a) return a.error();
    if (auto m = mark_dirty(tx, class_id); !m) return m.error();
    return {};
  });
}

Status Sheets::ensure_subject(Tx& tx, std::int64_t class_id, const std::string& subject, const std::string& username) {
  DbValue teacher;
  if (!username.empty()) {
    auto u = tx.query("SELECT id FROM users WHERE username = ? AND role = 'subject_teacher' AND disabled = 0", {username});
    if (!u) return u.error();
    if (!u->empty()) teacher = as_int(u->front()[0]);
  }
  auto e = tx.exec(
      "INSERT INTO class_subjects(class_id, subject, teacher_user_id) VALUES(?,?,?) ON CONFLICT(class_id, subject) "
      "DO UPDATE SET teacher_user_id = coalesce(teacher_user_id, excluded.teacher_user_id)",
      {class_id, subject, teacher});
  if (!e) return e.error();
  return {};
}

Result<std::int64_t> Sheets::mark_dirty(Tx& tx, std::int64_t class_id) {
  if (auto e = tx.exec("INSERT INTO sheets_dirty(class_id, generation, marked_at) SELECT id, 1, ? FROM classes WHERE id = ? "
                       "ON CONFLICT(class_id) DO UPDATE SET generation = generation + 1, marked_at = excluded.marked_at",
                       {now_utc(), class_id});
      !e)
    return e.error();
  auto g = tx.query("SELECT generation FROM sheets_dirty WHERE class_id = ?", {class_id});
  if (!g) return g.error();
  return g->empty() ? 0 : as_int(g->front()[0]);
}

Result<std::int64_t> Sheets::mark_dirty(std::int64_t class_id) {
  std::int64_t generation = 0;
  Status st = store_->transaction([&](Tx& tx) -> Status {
    auto g = mark_dirty(tx, class_id);
    if (!g) return g.error();
    generation = *g;
    return {};
  });
  if (!st) return st.error();
  return generation;
}

Status Sheets::clear_dirty(std::int64_t class_id, std::int64_t generation) {
  return store_->transaction([&](Tx& tx) -> Status {
    auto e = tx.exec("DELETE FROM sheets_dirty WHERE class_id = ? AND generation = ?", {class_id, generation});
    return e ? Status::success() : Status(e.error());
  });
}

Result<std::vector<std::int64_t>> Sheets::dirty_classes(std::int64_t teacher_user_id) {
  if (teacher_user_id == 0) return class_ids(*store_, "SELECT class_id FROM sheets_dirty ORDER BY marked_at, class_id", {});
  return class_ids(*store_,
                   "SELECT d.class_id FROM sheets_dirty d WHERE EXISTS (SELECT 1 FROM class_subjects cs WHERE cs.class_id = d.class_id "
                   "AND cs.teacher_user_id = ?) ORDER BY d.marked_at, d.class_id",
                   {teacher_user_id});
}

Result<std::vector<Sheet>> Sheets::current(std::int64_t class_id) { return sheets_of(*store_, " AND s.class_id = ?", {class_id}); }

Result<std::vector<Sheet>> Sheets::of_teacher(std::int64_t teacher_user_id) {
  if (teacher_user_id == 0) return sheets_of(*store_, "", {});
  return sheets_of(*store_, " AND cs.teacher_user_id = ?", {teacher_user_id});
}

Result<std::optional<Sheet>> Sheets::by_id(std::int64_t id) {
  auto rows = store_->query(std::string("SELECT ") + kSheetCols + kSheetJoins + " WHERE s.id = ?", {id});
  if (!rows) return rows.error();
  if (rows->empty()) return std::optional<Sheet>();
  return std::optional<Sheet>(sheet_of(rows->front()));
}

Result<std::int64_t> Sheets::add_version(Tx& tx, std::int64_t class_id, const std::string& subject, const std::string& step,
                                         const std::string& data_sha256, const std::string& pdf_path, const std::string& pdf_sha256,
                                         const std::string& at) {
  auto v = tx.query("SELECT coalesce(max(version), 0) FROM sheets WHERE class_id = ? AND subject = ? AND step = ?", {class_id, subject, step});
  if (!v) return v.error();
  std::int64_t version = as_int(v->front()[0]) + 1;
  if (auto e = tx.exec("UPDATE sheets SET state = 'superseded' WHERE class_id = ? AND subject = ? AND step = ? AND state != 'superseded'",
                       {class_id, subject, step});
      !e)
    return e.error();
  return tx.exec("INSERT INTO sheets(class_id, subject, step, version, state, data_sha256, pdf_path, pdf_sha256, created_at) "
                 "VALUES(?,?,?,?,'waiting',?,?,?,?)",
                 {class_id, subject, step, version, data_sha256, pdf_path, pdf_sha256, at});
}

Status Sheets::adopt_data_sha256(std::int64_t id, const std::string& data_sha256) {
  return store_->transaction([&](Tx& tx) -> Status {
    auto e = tx.exec("UPDATE sheets SET data_sha256 = ? WHERE id = ?", {data_sha256, id});
    return e ? Status::success() : Status(e.error());
  });
}

Status Sheets::confirm(Tx& tx, std::int64_t id, std::int64_t user_id, std::int64_t key_id, const std::string& pdf_path,
                       const std::string& pdf_sha256, const std::string& at) {
  if (auto e = tx.exec("UPDATE sheets SET state = 'confirmed', confirmed_by = ?, key_id = ?, pdf_path = ?, pdf_sha256 = ?, confirmed_at = ? "
                       "WHERE id = ? AND state = 'waiting'",
                       {user_id, key_id, pdf_path, pdf_sha256, at, id});
      !e)
    return e.error();
  if (tx.changes() != 1) return make_error(Errc::invalid_argument, "score sheet " + std::to_string(id) + " is no longer waiting for its confirmation");
  return {};
}

}  // namespace hocba::store
