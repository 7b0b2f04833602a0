// Batch jobs: sign a class (or the whole school) with one PIN entry. The job and each record's item
// live in the store, so progress survives a restart; a record is never signed twice for a field
// (sign_record refuses a record whose step moved on, and adopts a signed file a crash left behind).
// Token-wide failures (a wrong PIN, the token removed) stop the job at once; a record that fails on
// its own is marked failed and the job goes on. Interactive requests go ahead of the job's next
// signature on the token (the job signs with batch priority, one record at a time).
#include <spdlog/spdlog.h>

#include <filesystem>
#include <optional>
#include <set>

#include "app_internal.h"

namespace hocba::api {
namespace {

bool token_wide(Errc c) {
  switch (c) {
    case Errc::pin_incorrect:
    case Errc::pin_locked:
    case Errc::pin_needs_confirm:
    case Errc::pin_rejected_before:
    case Errc::pin_required:
    case Errc::token_not_present:
    case Errc::token_error:
    case Errc::timeout:
    case Errc::unavailable:
    case Errc::io:
      return true;
    default:
      return false;
  }
}

std::string job_state(Store& store, std::int64_t id) {
  auto r = store.query("SELECT state FROM jobs WHERE id = ?", {id});
  return r && !r->empty() ? as_text(r->front()[0]) : "";
}

// `code` names the reason for programs (the web UI shows it in Vietnamese): an Errc name
// ("pin_incorrect", "token_not_present", ...), "paused", "stopped", "restarted", "cancelled", "" when done.
// `from`: when not empty, the state the job must still be in (else nothing changes and the answer is
// Errc::invalid_argument): a decision taken on a state read earlier does not overwrite a newer one.
Status set_job_state(Store& store, std::int64_t id, const std::string& state, const std::string& reason, const std::string& code,
                     const std::string& actor, const std::string& action, const std::string& from = "") {
  return store.transaction([&](Tx& tx) -> Status {
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
      if (auto a = tx.audit(actor, action,
                            json::serialize(json::object{{"job_id", id}, {"state", state}, {"reason", reason}, {"reason_code", code}}));
          !a)
        return a.error();
    return {};
  });
}

}  // namespace

json::object App::Impl::job_json(std::int64_t id) {
  auto rows = store.query(
      "SELECT j.id, j.kind, j.state, j.field, j.key_id, u.username, j.class_id, j.total, j.reason, j.created_at, j.updated_at, "
      "(SELECT count(*) FROM job_items i WHERE i.job_id = j.id AND i.state = 'done'), "
      "(SELECT count(*) FROM job_items i WHERE i.job_id = j.id AND i.state = 'failed'), "
      "(SELECT count(*) FROM job_items i WHERE i.job_id = j.id AND i.state = 'skipped'), "
      "(SELECT count(*) FROM job_items i WHERE i.job_id = j.id AND i.state = 'queued'), j.reason_code "
      "FROM jobs j JOIN users u ON u.id = j.created_by WHERE j.id = ?",
      {id});
  if (!rows || rows->empty()) return {};
  const DbRow& r = rows->front();
  json::object o{{"id", as_int(r[0])},      {"kind", as_text(r[1])},       {"state", as_text(r[2])}, {"field", as_text(r[3])},
                 {"key_id", as_int(r[4])},  {"created_by", as_text(r[5])}, {"total", as_int(r[7])},  {"reason", as_text(r[8])},
                 {"created_at", as_text(r[9])}, {"updated_at", as_text(r[10])}, {"done", as_int(r[11])}, {"failed", as_int(r[12])},
                 {"skipped", as_int(r[13])}, {"queued", as_int(r[14])}};
  o["class_id"] = is_null(r[6]) ? json::value(nullptr) : json::value(as_int(r[6]));
  o["reason_code"] = as_text(r[15]);
  // ETA from this run's pace (none before the first record of the run).
  json::value eta = nullptr;
  {
    std::lock_guard lk(jobs_mu);
    auto it = jobs.find(id);
    if (it != jobs.end() && !it->second->finished && it->second->signed_this_run > 0) {
      double spent = std::chrono::duration<double>(std::chrono::steady_clock::now() - it->second->started).count();
      eta = spent / static_cast<double>(it->second->signed_this_run) * static_cast<double>(as_int(r[14]));
    }
  }
  o["eta_seconds"] = eta;
  auto fails = store.query(
      "SELECT i.record_id, r.personal_id, r.student_name, i.error FROM job_items i JOIN records r ON r.id = i.record_id "
      "WHERE i.job_id = ? AND i.state = 'failed' ORDER BY i.position LIMIT 100",
      {id});
  json::array fa;
  if (fails)
    for (auto& f : *fails)
      fa.push_back(json::object{{"record_id", as_int(f[0])}, {"personal_id", as_text(f[1])}, {"student_name", as_text(f[2])}, {"error", as_text(f[3])}});
  o["failures"] = std::move(fa);
  return o;
}

bool App::Impl::start_job_thread(std::int64_t job_id, std::shared_ptr<Secret> pin, const Caller& owner, bool confirm_pin_risk) {
  std::lock_guard lk(jobs_mu);
  if (stopping) return false;  // stop_jobs has taken (or is taking) the threads to join
  auto& slot = jobs[job_id];
  if (slot) {
    if (!slot->finished) return false;  // already running
    // Its last run is ending (state saved, thread about to hand itself over): the reaper joins it.
    ended_jobs.push_back(std::move(slot));
    ended_cv.notify_one();
  }
  if (!job_reaper.joinable()) job_reaper = std::thread([this] { reap_jobs(); });
  slot = std::make_unique<RunningJob>();
  slot->id = job_id;
  RunningJob* rj = slot.get();
  // The PIN is moved into run_job, which wipes it (drops the last reference) as soon as the job stops.
  rj->thread = std::thread([this, rj, pin = std::move(pin), owner, confirm_pin_risk]() mutable {
    run_job(*rj, std::move(pin), owner, confirm_pin_risk);
    job_ended(*rj);
  });
  ++job_threads;
  metrics.gauge_set("hocba_job_threads", {}, static_cast<double>(job_threads));
  return true;
}

void App::Impl::job_ended(RunningJob& rj) {
  std::lock_guard lk(jobs_mu);
  auto it = jobs.find(rj.id);
  // Not there (or another run in its place): stop_jobs or start_job_thread has taken it already.
  if (it == jobs.end() || it->second.get() != &rj) return;
  ended_jobs.push_back(std::move(it->second));
  jobs.erase(it);
  ended_cv.notify_one();
}

void App::Impl::reap_jobs() {
  std::unique_lock lk(jobs_mu);
  for (;;) {
    ended_cv.wait(lk, [&] { return reaper_stop || !ended_jobs.empty(); });
    while (!ended_jobs.empty()) {
      std::unique_ptr<RunningJob> rj = std::move(ended_jobs.back());
      ended_jobs.pop_back();
      lk.unlock();
      if (rj->thread.joinable()) rj->thread.join();  // it has handed itself over: only returning is left
      rj.reset();
      lk.lock();
      --job_threads;
      metrics.gauge_set("hocba_job_threads", {}, static_cast<double>(job_threads));
    }
    if (reaper_stop) return;
  }
}

void App::Impl::run_job(RunningJob& rj, std::shared_ptr<Secret> pin, Caller owner, bool confirm_pin_risk) {
  const std::int64_t id = rj.id;
  auto finish = [&](const std::string& state, const std::string& reason, const std::string& action, const std::string& code) {
    // The job's own metric series goes with it (before the state is saved: a resumed run's series
    // is never removed by this one).
    metrics.remove("hocba_queue_depth", {{"job", std::to_string(id)}});
    {
      // Marked finished before the state is saved: a resume that sees the saved state can start a
      // new thread (start_job_thread hands this one to the reaper).
      std::lock_guard lk(jobs_mu);
      rj.finished = true;
    }
    if (auto st = set_job_state(store, id, state, reason, code, "system", action); !st)
      spdlog::error("JOB_STATE_NOT_SAVED job={} state={} error={}", id, state, st.error().message);
    spdlog::info("JOB_END job={} state={} reason={}", id, state, reason);
    pin.reset();  // the PIN is wiped as soon as the job stops using it
  };
  auto jr = store.query("SELECT field, key_id, class_id FROM jobs WHERE id = ?", {id});
  if (!jr || jr->empty()) return finish("failed", "the job is not in the store", "", "not_found");
  std::string field = as_text(jr->front()[0]);
  const std::int64_t class_id = as_int(jr->front()[2]);
  auto key = wf.key_by_id(as_int(jr->front()[1]));
  if (!key) return finish("failed", key.error().message, "job.fail", errc_name(key.error().code));
  // May the owner still sign this (still active, same role, same class, the key still theirs)?
  auto still_allowed = [&]() -> std::string {
    auto who = caller_by_id(owner.user_id);
    if (!who) return owner.username + " is disabled";
    if (std::string why = wf.may_sign(*who, field, class_id); !why.empty()) return why;
    auto k = wf.key_by_id(key->id);
    if (!k) return k.error().message;
    if (k->seal ? !wf.chain().may_sign(role_name(who->role), field) : k->owner_user_id != who->user_id) return "the job's key is no longer " + owner.username + "'s";
    return "";
  };
  spdlog::info("JOB_START job={} field={} key={}", id, field, key->id);

  // Two lanes take the records in turn: while one waits for the token, the other prepares its PDF,
  // so the token does not idle between two records. They never hold the same record (claimed), and
  // the token still signs one at a time (its worker queue), interactive requests first.
  struct Outcome {
    std::string state, reason, action, code;
  };
  std::mutex mu;
  std::set<std::int64_t> claimed;
  std::optional<Outcome> outcome;
  auto stop_with = [&](Outcome o) {
    std::lock_guard lk(mu);
    // The first reason wins, except that the token's own refusal of a PIN is a better reason than the
    // other lane's "not sent again" that followed it.
    if (!outcome || (outcome->code == errc_name(Errc::pin_rejected_before) && o.code == errc_name(Errc::pin_incorrect)))
      outcome = std::move(o);
  };
  auto stopped = [&] {
    std::lock_guard lk(mu);
    return outcome.has_value();
  };

  auto lane = [&]() {
    for (;;) {
      if (stopped()) return;
      if (rj.cancel) return stop_with({"cancelled", "cancelled by " + owner.username, "job.cancel", "cancelled"});
      if (rj.pause || stopping) {
        std::string why = stopping ? "the appliance stopped; resume it with the PIN" : "paused; resume it with the PIN";
        return stop_with({"paused", why, "job.pause", stopping ? "stopped" : "paused"});
      }
      if (std::string why = still_allowed(); !why.empty())
        return stop_with({"failed", "not allowed any more: " + why, "job.fail", errc_name(Errc::forbidden)});
      std::int64_t record_id = 0;
      {
        std::lock_guard lk(mu);
        auto next = store.query("SELECT record_id FROM job_items WHERE job_id = ? AND state = 'queued' ORDER BY position LIMIT 4", {id});
        if (!next) {
          outcome = Outcome{"paused", "the store cannot be read: " + next.error().message, "job.pause", errc_name(next.error().code)};
          return;
        }
        for (auto& r : *next)
          if (!claimed.count(as_int(r[0]))) {
            record_id = as_int(r[0]);
            break;
          }
        if (record_id == 0) return;  // nothing left that the other lane is not doing
        claimed.insert(record_id);
      }
      auto left = store.query("SELECT count(*) FROM job_items WHERE job_id = ? AND state = 'queued'", {id});
      if (left && !left->empty()) metrics.gauge_set("hocba_queue_depth", {{"job", std::to_string(id)}}, static_cast<double>(as_int(left->front()[0])));

      // The record may be signed interactively right now: wait for it rather than skip it.
      Reservation held;
      while (!(held = Reservation(wf, record_id))) {
        if (rj.cancel || rj.pause || stopping) {
          std::lock_guard lk(mu);
          claimed.erase(record_id);
          break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
      if (!held) continue;  // the loop's top says why it stops
      std::string item_state = "done", item_error;
      auto cur = store.query("SELECT r.steps_done, r.state, json_extract(c.source_json, '$.level') FROM records r "
                             "JOIN classes c ON c.id = r.class_id WHERE r.id = ?",
                             {record_id});
      // The field's place in this record's chain (its class's level).
      const std::int64_t step = cur && !cur->empty() ? wf.chain().position(as_text(cur->front()[2]), field) : -1;
      Status st;
      if (!cur || cur->empty()) {
        item_state = "failed", item_error = "the record is gone";
      } else if (as_text(cur->front()[1]) == "superseded" || as_text(cur->front()[1]) == "failed") {
        item_state = "skipped", item_error = "the record is " + as_text(cur->front()[1]);
      } else if (step < 0) {
        item_state = "skipped", item_error = "the record's chain has no " + field + " step";
      } else if (as_int(cur->front()[0]) > step) {
        // Signed already: by this job before a crash (then its signature row names the job) or by
        // someone else meanwhile.
        auto by = store.query("SELECT job_id FROM signatures WHERE record_id = ? AND step = ?", {record_id, step});
        bool ours = by && !by->empty() && as_int(by->front()[0]) == id;
        item_state = ours ? "done" : "skipped";
        if (!ours) item_error = "already signed";
      } else {
        const Secret* p = pin ? pin.get() : opts.seal_pin ? &*opts.seal_pin : nullptr;
        st = wf.sign_record(record_id, field, *key, p, owner, id, true, confirm_pin_risk);
        if (!st) {
          item_state = "failed";
          item_error = st.error().message;
        } else {
          ++rj.signed_this_run;
        }
      }
      held.reset();

      if (!st && token_wide(st.error().code)) {
        // The token or the store failed in a way every next record would too: stop now, never retry
        // a PIN. The record stays queued, so a resume signs it.
        bool pin_problem = st.error().code == Errc::pin_incorrect || st.error().code == Errc::pin_locked ||
                           st.error().code == Errc::pin_rejected_before || st.error().code == Errc::pin_required ||
                           st.error().code == Errc::pin_needs_confirm;
        return stop_with({pin_problem ? "failed" : "paused", st.error().message, pin_problem ? "job.fail" : "job.pause",
                          errc_name(st.error().code)});
      }
      Status saved = store.transaction([&](Tx& tx) -> Status {
        if (auto e = tx.exec("UPDATE job_items SET state = ?, error = ? WHERE job_id = ? AND record_id = ?", {item_state, item_error, id, record_id});
            !e)
          return e.error();
        if (auto e = tx.exec("UPDATE jobs SET updated_at = ? WHERE id = ?", {now_iso(), id}); !e) return e.error();
        return {};
      });
      if (!saved)
        return stop_with({"paused", "the store cannot be written: " + saved.error().message, "job.pause", errc_name(saved.error().code)});
      if (item_state == "failed") spdlog::warn("JOB_RECORD_FAILED job={} record={} error={}", id, record_id, item_error);
      std::lock_guard lk(mu);
      claimed.erase(record_id);
    }
  };
  std::thread second(lane);
  lane();
  second.join();
  if (outcome) return finish(outcome->state, outcome->reason, outcome->action, outcome->code);
  // Both lanes ran out of records; one may have left when the other still held the last ones, which
  // are done now. Anything still queued (a lane stopped on a store error is reported above) is not.
  finish("done", "", "job.done", "");
}

// Temporary files a crash left in the records folder (write_file_atomic's "NAME.tmp.PID.RANDOM"):
// never a record, removed at start.
void App::Impl::remove_stale_temp_files() {
  std::error_code ec;
  std::filesystem::path root = opts.state_dir + "/records";
  if (!std::filesystem::is_directory(root, ec)) return;
  for (auto it = std::filesystem::recursive_directory_iterator(root, ec); !ec && it != std::filesystem::recursive_directory_iterator();
       it.increment(ec)) {
    std::string name = it->path().filename().string();
    if (it->is_regular_file(ec) && name.find(".tmp.") != std::string::npos) {
      spdlog::info("STALE_TEMP_REMOVED path={}", it->path().string());
      std::filesystem::remove(it->path(), ec);
    }
  }
}

Status App::Impl::pause_interrupted_jobs() {
  // Running: the last run crashed. Paused with "stopped": the last run was stopped gracefully.
  auto rows = store.query("SELECT id, field, created_by, state, class_id FROM jobs WHERE state = 'running' OR "
                          "(state = 'paused' AND reason_code = 'stopped')");
  if (!rows) return rows.error();
  for (auto& r : *rows) {
    std::int64_t id = as_int(r[0]);
    if (wf.chain().is_seal(as_text(r[1])) && opts.seal_pin) {
      auto owner = caller_by_id(as_int(r[2]));
      if (owner && wf.may_sign(*owner, as_text(r[1]), as_int(r[4])).empty()) {
        if (auto st = set_job_state(store, id, "running", "", "", "system", ""); !st) return st;
        spdlog::info("JOB_RESUME job={} reason=sealed-pin", id);
        (void)store.append_audit("system", "job.resume", json::serialize(json::object{{"job_id", id}, {"reason", "restart, sealed PIN"}}));
        start_job_thread(id, nullptr, *owner);
        continue;
      }
    }
    if (as_text(r[3]) != "running") continue;  // paused by the stop already, with its reason
    if (auto st = set_job_state(store, id, "paused", "the appliance restarted; resume it with the PIN", "restarted", "system", "job.pause"); !st)
      return st;
  }
  return {};
}

void App::Impl::stop_jobs() {
  // Joined without holding jobs_mu: a job that is ending takes it to mark itself finished.
  std::map<std::int64_t, std::unique_ptr<RunningJob>> ending;
  std::thread reaper;
  {
    std::lock_guard lk(jobs_mu);
    stopping = true;
    ending.swap(jobs);
    reaper_stop = true;  // it joins what has ended, then returns
    ended_cv.notify_all();
    reaper = std::move(job_reaper);
  }
  for (auto& [id, rj] : ending)
    if (rj->thread.joinable()) rj->thread.join();
  if (reaper.joinable()) reaper.join();
  std::vector<std::unique_ptr<RunningJob>> left;
  {
    std::lock_guard lk(jobs_mu);
    left.swap(ended_jobs);
  }
  for (auto& rj : left)
    if (rj->thread.joinable()) rj->thread.join();
  std::lock_guard lk(jobs_mu);
  job_threads = 0;
  metrics.gauge_set("hocba_job_threads", {}, 0);
}

void App::Impl::add_job_routes() {
  const std::vector<std::string> signers = chain_signer_roles();
  metrics.describe("hocba_job_threads", "gauge", "Batch job threads started and not yet joined");
  metrics.gauge_set("hocba_job_threads", {}, 0);

  add("POST", "/api/v1/jobs", signers, "start a batch job: sign a class or the whole school with one PIN", [this](Ctx& c) {
    auto o = parse_object(c.req.body);
    if (!o) return bad_request("expected {\"field\", \"pin\"[, \"class_id\", \"key_id\"]}");
    for (const char* k : {"class_id", "key_id"})
      if (bad_int_field(*o, k)) return bad_request(std::string(k) + " must be a positive integer");
    std::string field = str_field(*o, "field");
    if (field.empty()) field = wf.chain().default_step_for(role_name(c.caller->role));
    const config::Step* step_def = wf.chain().step(field);
    if (!step_def || step_def->scope != "record") return bad_request("this school's chain has no record step \"" + field + "\"");
    std::int64_t class_id = int_field(*o, "class_id", 0);
    if (class_id == 0 && step_def->role == "homeroom_teacher")
      return bad_request("a homeroom teacher signs one class at a time: give class_id");
    if (class_id != 0)
      if (std::string why = wf.may_sign(*c.caller, field, class_id); !why.empty()) return forbidden(why);
    if (class_id == 0)
      if (std::string why = wf.may_sign(*c.caller, field, 0); !why.empty()) return forbidden(why);
    auto key = wf.key_for(*c.caller, field, int_field(*o, "key_id"));
    if (!key) return from_error(key.error());
    auto pin = std::make_shared<Secret>(take_secret(*o, "pin"));
    if (std::string why = sealed_seal_refusal(field, *pin, &*o); !why.empty()) return bad_request(why);
    if (pin->empty()) {
      if (wf.chain().is_seal(field) && opts.seal_pin) pin.reset();
      else return bad_request("the token's PIN is required");
    }
    std::int64_t job_id = 0, total = 0;
    Status st = store.transaction([&](Tx& tx) -> Status {
      // One job at a time per field and class: a second would only skip what the first signs. A
      // failed or paused job still holds its records (its owner may resume it) until it is cancelled.
      auto dup = tx.query(
          "SELECT j.id, j.state, u.username FROM jobs j JOIN users u ON u.id = j.created_by WHERE j.field = ? AND "
          "j.state IN ('running','paused','failed') AND (j.class_id IS ? OR j.class_id IS NULL OR ? IS NULL)",
          {field, class_id ? DbValue(class_id) : DbValue(), class_id ? DbValue(class_id) : DbValue()});
      if (!dup) return dup.error();
      if (!dup->empty()) {
        const DbRow& j = dup->front();
        std::string who = as_text(j[2]) == c.caller->username ? "resume or cancel it" : "its owner " + as_text(j[2]) + " or the admin may cancel it";
        return make_error(Errc::invalid_argument, "job " + as_text(j[0]) + " (" + as_text(j[1]) + ") already signs these records; " + who);
      }
      // The records waiting for this step: in each level's chain the step has its own place.
      std::string sql = "SELECT r.id FROM records r JOIN classes c ON c.id = r.class_id WHERE r.state IN ('draft','signing') AND (0";
      std::vector<DbValue> params;
      for (std::string_view level : config::Config::Workflow::levels())
        if (int pos = wf.chain().position(level, field); pos >= 0) {
          sql += " OR (json_extract(c.source_json, '$.level') = ? AND r.steps_done = ?)";
          params.push_back(std::string(level));
          params.push_back(std::int64_t{pos});
        }
      sql += ")";
      if (class_id) {
        sql += " AND r.class_id = ?";
        params.push_back(class_id);
      }
      auto recs = tx.query(sql + " ORDER BY r.class_id, r.student_name, r.id", params);
      if (!recs) return recs.error();
      if (recs->empty()) return make_error(Errc::not_found, "no record is waiting for the " + field + " signature");
      auto ins = tx.exec("INSERT INTO jobs(kind, state, field, key_id, created_by, class_id, total, created_at, updated_at) "
                         "VALUES('sign','running',?,?,?,?,?,?,?)",
                         {field, key->id, c.caller->user_id, class_id ? DbValue(class_id) : DbValue(),
                          static_cast<std::int64_t>(recs->size()), now_iso(), now_iso()});
      if (!ins) return ins.error();
      job_id = *ins;
      total = static_cast<std::int64_t>(recs->size());
      std::int64_t pos = 0;
      for (auto& r : *recs)
        if (auto e = tx.exec("INSERT INTO job_items(job_id, record_id, position, state) VALUES(?,?,?,'queued')", {job_id, as_int(r[0]), pos++}); !e)
          return e.error();
      json::object d{{"job_id", job_id}, {"field", field}, {"key_id", key->id}, {"records", total}};
      if (class_id) d["class_id"] = class_id;
      if (auto a = tx.audit(c.caller->actor(), "job.create", json::serialize(d)); !a) return a.error();
      return {};
    });
    if (!st) return from_error(st.error());
    bool confirm = false;
    if (auto it = o->find("confirm_pin_risk"); it != o->end() && it->value().is_bool()) confirm = it->value().as_bool();
    start_job_thread(job_id, pin, *c.caller, confirm);
    return ok_json(job_json(job_id), 202);
  });

  add("GET", "/api/v1/jobs", {"admin", "principal", "deputy_principal", "homeroom_teacher", "viewer"}, "list batch jobs", [this](Ctx& c) {
    std::string sql = "SELECT id FROM jobs";
    std::vector<DbValue> params;
    if (c.caller->role == Role::homeroom_teacher) {
      sql += " WHERE created_by = ?";
      params.push_back(c.caller->user_id);
    }
    auto rows = store.query(sql + " ORDER BY id DESC LIMIT 100", params);
    if (!rows) return from_error(rows.error());
    json::array a;
    for (auto& r : *rows) a.push_back(job_json(as_int(r[0])));
    return ok_json(json::object{{"jobs", a}});
  });

  auto own_job = [this](Ctx& c, std::int64_t id, bool must_own) -> std::optional<HttpResponse> {
    auto rows = store.query("SELECT created_by FROM jobs WHERE id = ?", {id});
    if (!rows) return from_error(rows.error());
    if (rows->empty()) return not_found("job");
    bool mine = as_int(rows->front()[0]) == c.caller->user_id;
    if (must_own && !mine) return forbidden("only the person who started the job (and holds its PIN) may do this");
    if (!mine && c.caller->role == Role::homeroom_teacher) return forbidden("not your job");
    return std::nullopt;
  };

  add("GET", "/api/v1/jobs/{id}", {"admin", "principal", "deputy_principal", "homeroom_teacher", "viewer"}, "see a job's progress (done, failed, ETA)",
      [this, own_job](Ctx& c) {
        std::int64_t id = param_id(c);
        if (auto e = own_job(c, id, false)) return *e;
        return ok_json(job_json(id));
      });

  auto control = [this, own_job](Ctx& c, const std::string& what) {
    std::int64_t id = param_id(c);
    if (auto e = own_job(c, id, what == "resume")) return *e;
    std::string state = job_state(store, id);
    if (what == "pause" || what == "cancel") {
      if (c.caller->role != Role::admin)
        if (auto e = own_job(c, id, true)) return *e;
      // A failed job (wrong PIN, owner disabled or moved, key rebound) is cancelled like a paused one:
      // that frees its records for a new job.
      if (state != "running" && !(what == "cancel" && (state == "paused" || state == "failed"))) return conflict("the job is " + state);
      bool running = false;
      {
        std::lock_guard lk(jobs_mu);
        auto it = jobs.find(id);
        if (it != jobs.end() && !it->second->finished) {
          (what == "pause" ? it->second->pause : it->second->cancel) = true;
          running = true;
        }
      }
      if (!running) {
        // Not running in this process: just record the decision, if the job is still as it was read.
        if (auto st = set_job_state(store, id, what == "pause" ? "paused" : "cancelled", what + "d by " + c.caller->username,
                                    what == "pause" ? "paused" : "cancelled", c.caller->actor(), "job." + what, state);
            !st)
          return st.error().code == Errc::invalid_argument ? conflict(st.error().message) : from_error(st.error());
      } else {
        (void)store.append_audit(c.caller->actor(), "job." + what + "_request", json::serialize(json::object{{"job_id", id}}));
      }
      return ok_json(job_json(id), 202);
    }
    // resume
    if (state != "paused" && state != "failed") return conflict("the job is " + state);
    auto o = parse_object(c.req.body);
    auto pin = std::make_shared<Secret>(o ? take_secret(*o, "pin") : Secret());
    auto jr = store.query("SELECT field, class_id, key_id FROM jobs WHERE id = ?", {id});
    if (!jr || jr->empty()) return not_found("job");
    std::string field = as_text(jr->front()[0]);
    if (std::string why = sealed_seal_refusal(field, *pin, o ? &*o : nullptr); !why.empty()) return bad_request(why);
    // The caller may still sign this, with this key (roles, classes and keys may have changed).
    if (std::string why = wf.may_sign(*c.caller, field, as_int(jr->front()[1])); !why.empty()) return forbidden(why);
    auto key = wf.key_for(*c.caller, field, as_int(jr->front()[2]));
    if (!key) return from_error(key.error());
    bool sealed = wf.chain().is_seal(field) && opts.seal_pin;
    if (pin->empty()) {
      if (sealed) pin.reset();
      else return bad_request("the token's PIN is required to resume");
    }
    bool confirm = false;
    if (o)
      if (auto it = o->find("confirm_pin_risk"); it != o->end() && it->value().is_bool()) confirm = it->value().as_bool();
    {
      // Not while its last run is still ending (it saves its state just before it ends).
      std::lock_guard lk(jobs_mu);
      auto it = jobs.find(id);
      if (it != jobs.end() && !it->second->finished) return conflict("the job is still stopping; try again in a moment");
    }
    if (auto st = set_job_state(store, id, "running", "", "", c.caller->actor(), "job.resume"); !st) return from_error(st.error());
    if (!start_job_thread(id, pin, *c.caller, confirm)) return conflict("the job is still stopping; try again in a moment");
    return ok_json(job_json(id), 202);
  };

  add("POST", "/api/v1/jobs/{id}/pause", with_admin(signers), "pause a job", [control](Ctx& c) { return control(c, "pause"); });
  add("POST", "/api/v1/jobs/{id}/resume", signers, "resume a job with the PIN", [control](Ctx& c) { return control(c, "resume"); });
  add("POST", "/api/v1/jobs/{id}/cancel", with_admin(signers), "cancel a job", [control](Ctx& c) { return control(c, "cancel"); });
}

}  // namespace hocba::api
