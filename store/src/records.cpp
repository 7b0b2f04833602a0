// Classes and records: see records.h.
#include "hocba/store/records.h"

namespace hocba::store {

namespace {

// A class with its homeroom teacher and its record counts (ClassRow).
constexpr const char* kClassSelect =
    "SELECT c.id, c.school_year, c.name, coalesce(c.homeroom_user_id, 0), coalesce(u.username, ''), coalesce(u.display_name, ''), "
    "(SELECT count(*) FROM records r WHERE r.class_id = c.id AND r.state != 'superseded'), "
    "(SELECT count(*) FROM records r WHERE r.class_id = c.id AND r.state = 'final') "
    "FROM classes c LEFT JOIN users u ON u.id = c.homeroom_user_id";

Result<std::vector<ClassRow>> classes_where(Store& store, const std::string& where, const std::vector<DbValue>& params) {
  auto rows = store.query(kClassSelect + where + " ORDER BY c.school_year DESC, c.name", params);
  if (!rows) return rows.error();
  std::vector<ClassRow> out;
  for (const DbRow& r : *rows)
    out.push_back({as_int(r[0]), as_text(r[1]), as_text(r[2]), as_int(r[3]), as_text(r[4]), as_text(r[5]), as_int(r[6]), as_int(r[7])});
  return out;
}

// A new draft version of a student's record (no signature yet), in `tx`: its id.
Result<std::int64_t> insert_draft(Tx& tx, std::int64_t class_id, const std::string& personal_id, const std::string& student_name,
                                  std::int64_t version, const std::string& student_json, const std::string& pdf_path, const DbValue& pdf_sha256,
                                  const std::string& at) {
  return tx.exec("INSERT INTO records(class_id, personal_id, student_name, version, state, steps_done, student_json, "
                 "pdf_path, pdf_sha256, created_at, updated_at) VALUES(?,?,?,?,'draft',0,?,?,?,?,?)",
                 {class_id, personal_id, student_name, version, student_json, pdf_path, pdf_sha256, at, at});
}

}  // namespace

Result<std::vector<ClassRow>> Classes::list(std::int64_t homeroom_user_id) {
  if (homeroom_user_id == 0) return classes_where(*store_, "", {});
  return classes_where(*store_, " WHERE c.homeroom_user_id = ?", {homeroom_user_id});
}

Result<std::optional<ClassRow>> Classes::get(std::int64_t class_id) {
  auto rows = classes_where(*store_, " WHERE c.id = ?", {class_id});
  if (!rows) return rows.error();
  if (rows->empty()) return std::optional<ClassRow>();
  return std::optional<ClassRow>(std::move(rows->front()));
}

Result<std::optional<std::string>> Classes::level(std::int64_t class_id) {
  auto rows = store_->query("SELECT json_extract(source_json, '$.level') FROM classes WHERE id = ?", {class_id});
  if (!rows) return rows.error();
  if (rows->empty()) return std::optional<std::string>();
  return std::optional<std::string>(as_text(rows->front()[0]));
}

Result<std::int64_t> Classes::upsert(Tx& tx, const std::string& school_year, const std::string& name, const std::string& homeroom_username,
                                    const std::string& source, const std::string& at) {
  auto cls = tx.query("SELECT id FROM classes WHERE school_year = ? AND name = ?", {school_year, name});
  if (!cls) return cls.error();
  DbValue homeroom;
  auto u = tx.query("SELECT id FROM users WHERE username = ? AND role = 'homeroom_teacher' AND disabled = 0", {homeroom_username});
  if (!u) return u.error();
  if (!u->empty()) homeroom = as_int(u->front()[0]);
  if (cls->empty())
    return tx.exec("INSERT INTO classes(school_year, name, homeroom_user_id, created_at, source_json) VALUES(?,?,?,?,?)",
                   {school_year, name, homeroom, at, source});
  std::int64_t id = as_int(cls->front()[0]);
  if (auto e = tx.exec("UPDATE classes SET source_json = ?, homeroom_user_id = coalesce(homeroom_user_id, ?) WHERE id = ?", {source, homeroom, id});
      !e)
    return e.error();
  return id;
}

Result<std::optional<NewestRecord>> Records::newest(Tx& tx, std::int64_t class_id, const std::string& personal_id) {
  auto ex = tx.query("SELECT id, steps_done, state, version FROM records WHERE class_id = ? AND personal_id = ? "
                     "AND state != 'superseded' ORDER BY version DESC LIMIT 1",
                     {class_id, personal_id});
  if (!ex) return ex.error();
  if (ex->empty()) return std::optional<NewestRecord>();
  const DbRow& r = ex->front();
  return std::optional<NewestRecord>(NewestRecord{as_int(r[0]), as_int(r[1]), as_int(r[3]), as_text(r[2])});
}

Result<std::int64_t> Records::add_draft(Tx& tx, std::int64_t class_id, const std::string& personal_id, const std::string& student_name,
                                        const std::string& student_json, const std::string& pdf_path, const std::string& at) {
  return insert_draft(tx, class_id, personal_id, student_name, 1, student_json, pdf_path, DbValue(), at);
}

Result<std::int64_t> Records::add_version(Tx& tx, std::int64_t class_id, const std::string& personal_id, const std::string& student_name,
                                          std::int64_t version, const std::string& student_json, const std::string& pdf_path,
                                          const std::string& pdf_sha256, const std::string& at) {
  return insert_draft(tx, class_id, personal_id, student_name, version, student_json, pdf_path, pdf_sha256, at);
}

Status Records::supersede(Tx& tx, std::int64_t record_id, std::int64_t new_id, const std::string& at) {
  auto e = tx.exec("UPDATE records SET state = 'superseded', superseded_by = ?, updated_at = ? WHERE id = ?", {new_id, at, record_id});
  if (!e) return e.error();
  return {};
}

Status Records::replace_draft(Tx& tx, std::int64_t record_id, const std::string& student_name, const std::string& student_json,
                              const std::string& at) {
  auto e = tx.exec("UPDATE records SET student_json = ?, student_name = ?, state = 'draft', error = NULL, pdf_sha256 = NULL, "
                   "updated_at = ? WHERE id = ? AND steps_done = 0",
                   {student_json, student_name, at, record_id});
  if (!e) return e.error();
  return {};
}

Status Records::set_rendered(std::int64_t record_id, const std::string& pdf_sha256) {
  return store_->transaction([&](Tx& tx) -> Status {
    if (auto e = tx.exec("UPDATE records SET pdf_sha256 = ? WHERE id = ?", {pdf_sha256, record_id}); !e) return e.error();
    return {};
  });
}

Status Records::set_failed(std::int64_t record_id, const std::string& why) {
  return store_->transaction([&](Tx& tx) -> Status {
    if (auto e = tx.exec("UPDATE records SET state = 'failed', error = ? WHERE id = ?", {why, record_id}); !e) return e.error();
    return {};
  });
}

Result<std::optional<std::string>> Classes::source(std::int64_t class_id) {
  auto rows = store_->query("SELECT source_json FROM classes WHERE id = ?", {class_id});
  if (!rows) return rows.error();
  if (rows->empty()) return std::optional<std::string>();
  return std::optional<std::string>(as_text(rows->front()[0]));
}

Result<std::vector<CurrentRecord>> Records::current(std::int64_t class_id) {
  auto rows = store_->query(
      "SELECT id, version, steps_done, personal_id, state, student_json, coalesce(pdf_path, ''), coalesce(pdf_sha256, ''), student_name, "
      "coalesce(error, '') FROM records WHERE class_id = ? AND state != 'superseded' ORDER BY student_name, personal_id",
      {class_id});
  if (!rows) return rows.error();
  std::vector<CurrentRecord> out;
  for (const DbRow& r : *rows)
    out.push_back({as_int(r[0]), as_int(r[1]), as_int(r[2]), as_text(r[3]), as_text(r[4]), as_text(r[5]), as_text(r[6]), as_text(r[7]),
                   as_text(r[8]), as_text(r[9])});
  return out;
}

Result<std::optional<RecordDetail>> Records::detail(std::int64_t record_id) {
  auto rows = store_->query(
      "SELECT r.id, r.class_id, r.version, r.steps_done, r.personal_id, r.student_name, r.state, coalesce(r.pdf_sha256, ''), "
      "coalesce(r.error, ''), r.updated_at, coalesce(r.superseded_by, 0), c.name, c.school_year, "
      "coalesce(json_extract(c.source_json, '$.level'), ''), r.student_json FROM records r JOIN classes c ON c.id = r.class_id WHERE r.id = ?",
      {record_id});
  if (!rows) return rows.error();
  if (rows->empty()) return std::optional<RecordDetail>();
  const DbRow& r = rows->front();
  RecordDetail d;
  d.id = as_int(r[0]), d.class_id = as_int(r[1]), d.version = as_int(r[2]), d.steps_done = as_int(r[3]);
  d.personal_id = as_text(r[4]), d.student_name = as_text(r[5]), d.state = as_text(r[6]), d.pdf_sha256 = as_text(r[7]);
  d.error = as_text(r[8]), d.updated_at = as_text(r[9]), d.superseded_by = as_int(r[10]);
  d.class_name = as_text(r[11]), d.school_year = as_text(r[12]), d.level = as_text(r[13]), d.student_json = as_text(r[14]);
  return std::optional<RecordDetail>(std::move(d));
}

Result<std::vector<RecordSignature>> Records::signatures(std::int64_t record_id) {
  auto rows = store_->query(
      "SELECT s.step, s.field, coalesce(u.username, ''), coalesce(s.key_id, 0), coalesce(s.job_id, 0), s.signed_at FROM signatures s "
      "LEFT JOIN users u ON u.id = s.user_id WHERE s.record_id = ? ORDER BY s.step",
      {record_id});
  if (!rows) return rows.error();
  std::vector<RecordSignature> out;
  for (const DbRow& r : *rows) out.push_back({as_int(r[0]), as_text(r[1]), as_text(r[2]), as_int(r[3]), as_int(r[4]), as_text(r[5])});
  return out;
}

Result<std::vector<RecordVersion>> Records::versions(std::int64_t class_id, const std::string& personal_id) {
  auto rows = store_->query("SELECT id, version, state FROM records WHERE class_id = ? AND personal_id = ? ORDER BY version",
                            {class_id, personal_id});
  if (!rows) return rows.error();
  std::vector<RecordVersion> out;
  for (const DbRow& r : *rows) out.push_back({as_int(r[0]), as_int(r[1]), as_text(r[2])});
  return out;
}

Status Records::redraw_draft(std::int64_t record_id, const std::string& pdf_path, const std::string& pdf_sha256, const std::string& at) {
  return store_->transaction([&](Tx& tx) -> Status {
    if (auto e = tx.exec("UPDATE records SET pdf_path = ?, pdf_sha256 = ?, updated_at = ? WHERE id = ? AND steps_done = 0 AND state = 'draft'",
                         {pdf_path, pdf_sha256, at, record_id});
        !e)
      return e.error();
    if (tx.changes() != 1) return make_error(Errc::invalid_argument, "record " + std::to_string(record_id) + " is no longer a draft");
    return {};
  });
}

Result<std::optional<std::int64_t>> Classes::homeroom(std::int64_t class_id) {
  auto rows = store_->query("SELECT homeroom_user_id FROM classes WHERE id = ?", {class_id});
  if (!rows) return rows.error();
  if (rows->empty()) return std::optional<std::int64_t>();
  return std::optional<std::int64_t>(as_int(rows->front()[0]));
}

Result<std::optional<RecordForSigning>> Records::for_signing(std::int64_t record_id) {
  auto rows = store_->query(
      "SELECT r.class_id, r.personal_id, r.version, r.state, r.steps_done, r.pdf_path, json_extract(c.source_json, '$.level'), "
      "r.pdf_sha256 FROM records r JOIN classes c ON c.id = r.class_id WHERE r.id = ?",
      {record_id});
  if (!rows) return rows.error();
  if (rows->empty()) return std::optional<RecordForSigning>();
  const DbRow& r = rows->front();
  RecordForSigning out;
  out.class_id = as_int(r[0]);
  out.personal_id = as_text(r[1]);
  out.version = as_int(r[2]);
  out.state = as_text(r[3]);
  out.steps_done = as_int(r[4]);
  out.pdf_path = as_text(r[5]);
  out.level = as_text(r[6]);
  out.pdf_sha256 = as_text(r[7]);
  return std::optional<RecordForSigning>(std::move(out));
}

Status Records::add_signature(Tx& tx, const NewSignature& s) {
  auto cur = tx.query("SELECT steps_done FROM records WHERE id = ?", {s.record_id});
  if (!cur) return cur.error();
  if (cur->empty() || as_int(cur->front()[0]) != s.step)
    return make_error(Errc::invalid_argument, "record " + std::to_string(s.record_id) + " changed while it was being signed");
  if (auto e = tx.exec("UPDATE records SET steps_done = ?, state = ?, pdf_path = ?, pdf_sha256 = ?, updated_at = ? WHERE id = ?",
                       {s.step + 1, std::string(s.final ? "final" : "signing"), s.pdf_path, s.pdf_sha256, s.at, s.record_id});
      !e)
    return e.error();
  if (auto e = tx.exec("INSERT INTO signatures(record_id, step, field, user_id, key_id, job_id, signed_at, pdf_sha256) VALUES(?,?,?,?,?,?,?,?)",
                       {s.record_id, s.step, s.field, s.user_id, s.key_id, s.job_id ? DbValue(s.job_id) : DbValue(), s.at, s.pdf_sha256});
      !e)
    return e.error();
  return {};
}

Result<std::int64_t> Records::signature_job(std::int64_t record_id, std::int64_t step) {
  auto rows = store_->query("SELECT job_id FROM signatures WHERE record_id = ? AND step = ?", {record_id, step});
  if (!rows) return rows.error();
  return rows->empty() ? std::int64_t{0} : as_int(rows->front()[0]);
}

}  // namespace hocba::store
