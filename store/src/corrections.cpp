// Corrections: see corrections.h.
#include "hocba/store/corrections.h"

namespace hocba::store {

namespace {

// The pending correction `id` decided (`state`), in `tx`; false when it is not pending.
Result<bool> decide(Tx& tx, std::int64_t id, const char* state, std::int64_t decided_by, const std::string& note, const DbValue& new_record_id,
                    const std::string& at) {
  auto e = tx.exec("UPDATE corrections SET state = ?, decided_by = ?, decided_at = ?, note = ?, new_record_id = ? WHERE id = ? AND state = 'pending'",
                   {std::string(state), decided_by, at, note, new_record_id, id});
  if (!e) return e.error();
  return tx.changes() > 0;
}

}  // namespace

Result<std::vector<Correction>> Corrections::list(std::int64_t requested_by) {
  const std::string sql =
      "SELECT k.id, k.record_id, u.username, k.why, k.state, k.note, coalesce(k.new_record_id, 0), k.created_at, r.student_name, "
      "r.personal_id, k.student_json, r.student_json FROM corrections k JOIN users u ON u.id = k.requested_by "
      "JOIN records r ON r.id = k.record_id";
  auto rows = requested_by == 0 ? store_->query(sql + " ORDER BY k.id DESC")
                                : store_->query(sql + " WHERE k.requested_by = ? ORDER BY k.id DESC", {requested_by});
  if (!rows) return rows.error();
  std::vector<Correction> out;
  for (const DbRow& r : *rows)
    out.push_back({as_int(r[0]), as_int(r[1]), as_text(r[2]), as_text(r[3]), as_text(r[4]), as_text(r[5]), as_int(r[6]), as_text(r[7]),
                   as_text(r[8]), as_text(r[9]), as_text(r[10]), as_text(r[11])});
  return out;
}

Result<std::optional<CorrectionToDecide>> Corrections::to_decide(std::int64_t id) {
  auto rows = store_->query(
      "SELECT k.id, k.record_id, r.class_id, r.version, k.state, k.student_json, r.personal_id, cl.source_json FROM corrections k "
      "JOIN records r ON r.id = k.record_id JOIN classes cl ON cl.id = r.class_id WHERE k.id = ?",
      {id});
  if (!rows) return rows.error();
  if (rows->empty()) return std::optional<CorrectionToDecide>();
  const DbRow& r = rows->front();
  return std::optional<CorrectionToDecide>(
      CorrectionToDecide{as_int(r[0]), as_int(r[1]), as_int(r[2]), as_int(r[3]), as_text(r[4]), as_text(r[5]), as_text(r[6]), as_text(r[7])});
}

Result<std::optional<std::int64_t>> Corrections::pending(Tx& tx, std::int64_t record_id) {
  auto rows = tx.query("SELECT id FROM corrections WHERE record_id = ? AND state = 'pending'", {record_id});
  if (!rows) return rows.error();
  if (rows->empty()) return std::optional<std::int64_t>();
  return std::optional<std::int64_t>(as_int(rows->front()[0]));
}

Result<std::int64_t> Corrections::add(Tx& tx, std::int64_t record_id, std::int64_t requested_by, const std::string& student_json,
                                      const std::string& why, const std::string& at) {
  return tx.exec("INSERT INTO corrections(record_id, requested_by, student_json, why, state, created_at) VALUES(?,?,?,?,'pending',?)",
                 {record_id, requested_by, student_json, why, at});
}

Result<bool> Corrections::approve(Tx& tx, std::int64_t id, std::int64_t decided_by, const std::string& note, std::int64_t new_record_id,
                                  const std::string& at) {
  return decide(tx, id, "approved", decided_by, note, new_record_id, at);
}

Result<bool> Corrections::reject(Tx& tx, std::int64_t id, std::int64_t decided_by, const std::string& note, const std::string& at) {
  return decide(tx, id, "rejected", decided_by, note, DbValue(), at);
}

}  // namespace hocba::store
