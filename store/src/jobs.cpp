// Batch jobs: see jobs.h.
#include "hocba/store/jobs.h"

#include <algorithm>
#include <boost/json.hpp>

#include "hocba/common/clock.h"

namespace hocba::store {
namespace {

namespace json = boost::json;

// The job's columns, its owner's name and its items by state (Job's first fields).
constexpr const char* kJobSelect =
    "SELECT j.id, j.kind, j.state, u.username, j.created_by, j.class_id, j.total, j.reason, j.reason_code, j.created_at, j.updated_at, "
    "(SELECT count(*) FROM job_items i WHERE i.job_id = j.id AND i.state = 'done'), "
    "(SELECT count(*) FROM job_items i WHERE i.job_id = j.id AND i.state = 'failed'), "
    "(SELECT count(*) FROM job_items i WHERE i.job_id = j.id AND i.state = 'skipped'), "
    "(SELECT count(*) FROM job_items i WHERE i.job_id = j.id AND i.state = 'queued') "
    "FROM jobs j JOIN users u ON u.id = j.created_by";

Job job_from(const DbRow& r) {
  Job j;
  j.id = as_int(r[0]);
  j.kind = as_text(r[1]);
  j.state = as_text(r[2]);
  j.created_by_username = as_text(r[3]);
  j.created_by = as_int(r[4]);
  j.class_id = as_int(r[5]);
  j.total = as_int(r[6]);
  j.reason = as_text(r[7]);
  j.reason_code = as_text(r[8]);
  j.created_at = as_text(r[9]);
  j.updated_at = as_text(r[10]);
  j.done = as_int(r[11]);
  j.failed = as_int(r[12]);
  j.skipped = as_int(r[13]);
  j.queued = as_int(r[14]);
  return j;
}

// Fills in the job's steps and each step's progress.
Status add_steps(Store& store, Job& j) {
  auto steps = store.query("SELECT field, key_id FROM job_steps WHERE job_id = ? ORDER BY step", {j.id});
  if (!steps) return steps.error();
  for (const DbRow& s : *steps) j.steps.push_back(JobStep{as_text(s[0]), as_int(s[1])});
  // Items by (state, steps_done): each step's counts follow from them.
  auto items = store.query("SELECT state, steps_done, count(*) FROM job_items WHERE job_id = ? GROUP BY state, steps_done", {j.id});
  if (!items) return items.error();
  const auto n = static_cast<std::int64_t>(j.steps.size());
  j.step_counts.assign(j.steps.size(), JobStepCounts{});
  for (const DbRow& it : *items) {
    std::string state = as_text(it[0]);
    std::int64_t passed = as_int(it[1]), count = as_int(it[2]);
    for (std::int64_t k = 0; k < n; ++k) {
      JobStepCounts& c = j.step_counts[static_cast<std::size_t>(k)];
      if (passed > k) c.done += count;
      else if (state == "failed" && passed == k) c.failed += count;
      else if (state == "queued") c.queued += count;
    }
    if (state == "queued") j.signatures_left += count * std::max<std::int64_t>(0, n - passed);
  }
  return {};
}

}  // namespace

Result<std::int64_t> Jobs::create(const NewJob& nj) {
  if (nj.steps.empty()) return make_error(Errc::invalid_argument, "a job signs at least one step");
  if (nj.levels.empty()) return make_error(Errc::not_found, "no school level's chain takes the " + nj.steps.front().field + " step");
  std::int64_t job_id = 0;
  const DbValue cls = nj.class_id ? DbValue(nj.class_id) : DbValue();
  Status st = store_->transaction([&](Tx& tx) -> Status {
    // One job at a time per step and class: a second would only skip what the first signs. A failed
    // or paused job still holds its records (its owner may resume it) until it is cancelled.
    std::string in;
    std::vector<DbValue> params;
    for (const JobStep& s : nj.steps) {
      in += in.empty() ? "?" : ",?";
      params.push_back(s.field);
    }
    params.push_back(cls);
    params.push_back(cls);
    auto dup = tx.query("SELECT j.id, j.state, u.username FROM jobs j JOIN users u ON u.id = j.created_by WHERE j.state IN ('running','paused','failed') "
                        "AND EXISTS (SELECT 1 FROM job_steps s WHERE s.job_id = j.id AND s.field IN (" + in + ")) "
                        "AND (j.class_id IS ? OR j.class_id IS NULL OR ? IS NULL) ORDER BY j.id",
                        params);
    if (!dup) return dup.error();
    if (!dup->empty()) {
      const DbRow& j = dup->front();
      std::string who = as_text(j[2]) == nj.created_by_username ? "resume or cancel it" : "its owner " + as_text(j[2]) + " or the admin may cancel it";
      return make_error(Errc::invalid_argument, "job " + as_text(j[0]) + " (" + as_text(j[1]) + ") already signs these records; " + who);
    }
    // The records waiting for one of the steps: in each level's chain the steps have their own place.
    const auto n = static_cast<std::int64_t>(nj.steps.size());
    std::string sql = "SELECT r.id, r.steps_done - CASE json_extract(c.source_json, '$.level')";
    std::vector<DbValue> p;
    for (const JobLevelSpan& l : nj.levels) {
      sql += " WHEN ? THEN ?";
      p.push_back(l.level);
      p.push_back(l.first_position);
    }
    sql += " END FROM records r JOIN classes c ON c.id = r.class_id WHERE r.state IN ('draft','signing') AND (0";
    for (const JobLevelSpan& l : nj.levels) {
      sql += " OR (json_extract(c.source_json, '$.level') = ? AND r.steps_done BETWEEN ? AND ?)";
      p.push_back(l.level);
      p.push_back(l.first_position);
      p.push_back(l.first_position + n - 1);
    }
    sql += ")";
    if (nj.class_id) {
      sql += " AND r.class_id = ?";
      p.push_back(nj.class_id);
    }
    auto recs = tx.query(sql + " ORDER BY r.class_id, r.student_name, r.id", p);
    if (!recs) return recs.error();
    if (recs->empty()) return make_error(Errc::not_found, "no record is waiting for the " + nj.steps.front().field + " signature");
    std::string at = now_iso();
    auto total = static_cast<std::int64_t>(recs->size());
    auto ins = tx.exec("INSERT INTO jobs(kind, state, field, key_id, created_by, class_id, total, created_at, updated_at) "
                       "VALUES('sign','running',?,?,?,?,?,?,?)",
                       {nj.steps.front().field, nj.steps.front().key_id, nj.created_by, cls, total, at, at});
    if (!ins) return ins.error();
    job_id = *ins;
    for (std::size_t k = 0; k < nj.steps.size(); ++k)
      if (auto e = tx.exec("INSERT INTO job_steps(job_id, step, field, key_id) VALUES(?,?,?,?)",
                           {job_id, static_cast<std::int64_t>(k), nj.steps[k].field, nj.steps[k].key_id});
          !e)
        return e.error();
    std::int64_t pos = 0;
    for (const DbRow& r : *recs)
      if (auto e = tx.exec("INSERT INTO job_items(job_id, record_id, position, state, steps_done) VALUES(?,?,?,'queued',?)",
                           {job_id, as_int(r[0]), pos++, as_int(r[1])});
          !e)
        return e.error();
    json::object d{{"job_id", job_id}, {"field", nj.steps.front().field}, {"key_id", nj.steps.front().key_id}, {"records", total}};
    if (nj.steps.size() > 1) {
      json::array steps;
      for (const JobStep& s : nj.steps) steps.push_back(json::object{{"field", s.field}, {"key_id", s.key_id}});
      d["steps"] = std::move(steps);
    }
    if (nj.class_id) d["class_id"] = nj.class_id;
    if (auto a = tx.audit(nj.actor, "job.create", json::serialize(d)); !a) return a.error();
    return {};
  });
  if (!st) return st.error();
  return job_id;
}

Result<std::optional<Job>> Jobs::get(std::int64_t id) {
  auto rows = store_->query(std::string(kJobSelect) + " WHERE j.id = ?", {id});
  if (!rows) return rows.error();
  if (rows->empty()) return std::optional<Job>();
  Job j = job_from(rows->front());
  if (auto st = add_steps(*store_, j); !st) return st.error();
  return std::optional<Job>(std::move(j));
}

Result<std::vector<std::int64_t>> Jobs::list(std::int64_t created_by, std::int64_t limit) {
  auto rows = created_by ? store_->query("SELECT id FROM jobs WHERE created_by = ? ORDER BY id DESC LIMIT ?", {created_by, limit})
                         : store_->query("SELECT id FROM jobs ORDER BY id DESC LIMIT ?", {limit});
  if (!rows) return rows.error();
  std::vector<std::int64_t> out;
  for (const DbRow& r : *rows) out.push_back(as_int(r[0]));
  return out;
}

Result<std::vector<JobFailure>> Jobs::failures(std::int64_t id, std::int64_t limit) {
  auto rows = store_->query(
      "SELECT i.record_id, r.personal_id, r.student_name, i.error, i.steps_done FROM job_items i JOIN records r ON r.id = i.record_id "
      "WHERE i.job_id = ? AND i.state = 'failed' ORDER BY i.position LIMIT ?",
      {id, limit});
  if (!rows) return rows.error();
  std::vector<JobFailure> out;
  for (const DbRow& f : *rows) out.push_back(JobFailure{as_int(f[0]), as_text(f[1]), as_text(f[2]), as_text(f[3]), as_int(f[4])});
  return out;
}

Result<std::string> Jobs::state(std::int64_t id) {
  auto r = store_->query("SELECT state FROM jobs WHERE id = ?", {id});
  if (!r) return r.error();
  return r->empty() ? std::string() : as_text(r->front()[0]);
}

Result<std::vector<JobItem>> Jobs::next_queued(std::int64_t id, std::int64_t step, std::int64_t limit) {
  auto rows = store_->query("SELECT record_id FROM job_items WHERE job_id = ? AND state = 'queued' AND steps_done = ? ORDER BY position LIMIT ?",
                            {id, step, limit});
  if (!rows) return rows.error();
  std::vector<JobItem> out;
  for (const DbRow& r : *rows) out.push_back(JobItem{as_int(r[0]), step});
  return out;
}

Result<std::int64_t> Jobs::queued_count(std::int64_t id) {
  auto r = store_->query("SELECT count(*) FROM job_items WHERE job_id = ? AND state = 'queued'", {id});
  if (!r) return r.error();
  return r->empty() ? std::int64_t{0} : as_int(r->front()[0]);
}

Status Jobs::set_item(std::int64_t id, std::int64_t record_id, std::int64_t steps_done, const std::string& state, const std::string& error) {
  return store_->transaction([&](Tx& tx) -> Status {
    if (auto e = tx.exec("UPDATE job_items SET state = ?, error = ?, steps_done = ? WHERE job_id = ? AND record_id = ?",
                         {state, error, steps_done, id, record_id});
        !e)
      return e.error();
    if (auto e = tx.exec("UPDATE jobs SET updated_at = ? WHERE id = ?", {now_iso(), id}); !e) return e.error();
    return {};
  });
}

Status Jobs::set_state(std::int64_t id, const std::string& state, const std::string& reason, const std::string& code, const std::string& actor,
                       const std::string& action, const std::string& from) {
  return store_->transaction([&](Tx& tx) -> Status {
    std::string sql = "UPDATE jobs SET state = ?, reason = ?, reason_code = ?, updated_at = ? WHERE id = ?";
    std::vector<DbValue> params{state, reason, code, now_iso(), id};
    if (!from.empty()) {
      sql += " AND state = ?";
      params.push_back(from);
    }
    if (auto e = tx.exec(sql, params); !e) return e.error();
    if (!from.empty() && tx.changes() == 0)
      return make_error(Errc::invalid_argument, "job " + std::to_string(id) + " is no longer " + from + "; look at it again");
    if (!action.empty())
      if (auto a = tx.audit(actor, action, json::serialize(json::object{{"job_id", id}, {"state", state}, {"reason", reason}, {"reason_code", code}}));
          !a)
        return a.error();
    return {};
  });
}

Result<std::vector<Job>> Jobs::interrupted() {
  auto rows = store_->query(std::string(kJobSelect) + " WHERE j.state = 'running' OR (j.state = 'paused' AND j.reason_code = 'stopped') ORDER BY j.id");
  if (!rows) return rows.error();
  std::vector<Job> out;
  for (const DbRow& r : *rows) {
    Job j = job_from(r);
    if (auto st = add_steps(*store_, j); !st) return st.error();
    out.push_back(std::move(j));
  }
  return out;
}

}  // namespace hocba::store
