// The batch job engine: see jobs.h.
#include "hocba/workflow/jobs.h"

#include <spdlog/spdlog.h>

#include <boost/json.hpp>
#include <chrono>
#include <filesystem>
#include <set>

#include "hocba/store/records.h"
#include "hocba/store/users.h"

namespace hocba::workflow {

namespace json = boost::json;

namespace {

constexpr int kWorkersPerLane = 3;

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

bool pin_problem(Errc c) {
  return c == Errc::pin_incorrect || c == Errc::pin_locked || c == Errc::pin_rejected_before || c == Errc::pin_required ||
         c == Errc::pin_needs_confirm;
}

// The user `id` as an actor, when active.
std::optional<Actor> actor_by_id(store::Store& store, std::int64_t id) {
  auto u = store::Users(store).by_id(id);
  if (!u || !*u || (*u)->disabled) return std::nullopt;
  return Actor{(*u)->id, (*u)->username, (*u)->display_name, (*u)->role};
}

}  // namespace

// A job's run in this process.
struct JobEngine::Run {
  std::int64_t id = 0;
  std::thread thread;
  std::atomic<bool> pause{false}, cancel{false};
  std::atomic<bool> finished{false};
  // Progress figures for the ETA (this run only).
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
  std::atomic<std::int64_t> signed_this_run{0};
};

JobEngine::JobEngine(Workflow& wf, store::Store& store, Metrics& metrics) : wf_(wf), store_(store), metrics_(metrics) {
  metrics_.describe("hocba_job_threads", "gauge", "Batch job threads started and not yet joined");
  metrics_.describe("hocba_queue_depth", "gauge", "Records waiting in running batch jobs");
  metrics_.gauge_set("hocba_job_threads", {}, 0);
}

JobEngine::~JobEngine() { stop(); }

Result<JobPlan> JobEngine::plan(const Actor& who, const std::vector<std::string>& steps, std::int64_t class_id, std::int64_t key_id) {
  const Chain& chain = wf_.chain();
  if (steps.empty()) return make_error(Errc::invalid_argument, "name the step to sign");
  if (steps.size() > chain.record_fields().size()) return make_error(Errc::invalid_argument, "more steps than this school's chain has");
  int seals = 0;
  for (std::size_t k = 0; k < steps.size(); ++k) {
    const config::Step* s = chain.step(steps[k]);
    if (!s || s->scope != "record") return make_error(Errc::invalid_argument, "this school's chain has no record step \"" + steps[k] + "\"");
    for (std::size_t j = 0; j < k; ++j)
      if (steps[j] == steps[k]) return make_error(Errc::invalid_argument, "the step " + steps[k] + " is named twice");
    seals += s->seal ? 1 : 0;
    if (class_id == 0 && s->role == "homeroom_teacher")
      return make_error(Errc::invalid_argument, "a homeroom teacher signs one class at a time: give class_id");
  }
  if (seals > 1) return make_error(Errc::invalid_argument, "a job uses the seal for one step at most");
  // Consecutive, in this order, in every level's chain that takes them.
  for (std::string_view level : config::Config::Workflow::levels()) {
    int first = chain.position(level, steps.front());
    for (std::size_t k = 0; k < steps.size(); ++k) {
      int p = chain.position(level, steps[k]);
      if (first < 0 ? p >= 0 : p != first + static_cast<int>(k)) {
        std::string names;
        for (const std::string& s : steps) names += (names.empty() ? "" : ", ") + s;
        return make_error(Errc::invalid_argument, "the steps " + names + " do not follow each other in this order in the " + std::string(level) + " chain");
      }
    }
  }
  JobPlan plan;
  plan.steps = steps;
  plan.class_id = class_id;
  for (const std::string& s : steps)
    if (std::string why = wf_.may_sign(who, s, class_id); !why.empty()) return make_error(Errc::forbidden, why);
  for (const std::string& s : steps) {
    // The caller's key for their own steps (the one asked for, if any); the seal's for a seal step
    // (the one asked for when it is the job's only step).
    std::int64_t wanted = chain.is_seal(s) && steps.size() > 1 ? 0 : key_id;
    auto key = wf_.key_for(who, s, wanted);
    if (!key) return key.error();
    plan.keys.push_back(*key);
  }
  return plan;
}

Result<std::int64_t> JobEngine::start(const Actor& owner, const JobPlan& plan, std::vector<StepPin> pins) {
  if (pins.size() != plan.steps.size() || plan.keys.size() != plan.steps.size())
    return make_error(Errc::invalid_argument, "one PIN and one key per step");
  store::NewJob nj;
  for (std::size_t k = 0; k < plan.steps.size(); ++k) nj.steps.push_back(store::JobStep{plan.steps[k], plan.keys[k].id});
  nj.created_by = owner.user_id;
  nj.created_by_username = owner.username;
  nj.actor = owner.actor();
  nj.class_id = plan.class_id;
  for (std::string_view level : config::Config::Workflow::levels())
    if (int p = wf_.chain().position(level, plan.steps.front()); p >= 0) nj.levels.push_back(store::JobLevelSpan{std::string(level), p});
  auto id = store::Jobs(store_).create(nj);
  if (!id) return id.error();
  start_thread(*id, std::move(pins), owner);
  return *id;
}

Status JobEngine::resume(const Actor& who, std::int64_t id, std::vector<StepPin> pins) {
  auto job = store::Jobs(store_).get(id);
  if (!job) return job.error();
  if (!*job) return make_error(Errc::not_found, "no job " + std::to_string(id));
  const store::Job& j = **job;
  if (j.state != "paused" && j.state != "failed") return make_error(Errc::invalid_argument, "the job is " + j.state);
  if (pins.size() != j.steps.size()) return make_error(Errc::invalid_argument, "one PIN per step");
  // The caller may still sign every step, with the job's keys (roles, classes and keys may have changed).
  for (const store::JobStep& s : j.steps) {
    if (std::string why = wf_.may_sign(who, s.field, j.class_id); !why.empty()) return make_error(Errc::forbidden, why);
    if (auto key = wf_.key_for(who, s.field, s.key_id); !key) return key.error();
  }
  {
    // Not while its last run is still ending (it saves its state just before it ends).
    std::lock_guard lk(mu_);
    auto it = runs_.find(id);
    if (it != runs_.end() && !it->second->finished) return make_error(Errc::invalid_argument, "the job is still stopping; try again in a moment");
  }
  if (auto st = store::Jobs(store_).set_state(id, "running", "", "", who.actor(), "job.resume"); !st) return st;
  if (!start_thread(id, std::move(pins), who)) return make_error(Errc::invalid_argument, "the job is still stopping; try again in a moment");
  return {};
}

Status JobEngine::pause(const Actor& who, std::int64_t id) { return control(who, id, "pause"); }
Status JobEngine::cancel(const Actor& who, std::int64_t id) { return control(who, id, "cancel"); }

Status JobEngine::control(const Actor& who, std::int64_t id, const std::string& what) {
  store::Jobs jobs(store_);
  auto state = jobs.state(id);
  if (!state) return state.error();
  if (state->empty()) return make_error(Errc::not_found, "no job " + std::to_string(id));
  // A failed job (wrong PIN, owner disabled or moved, key rebound) is cancelled like a paused one:
  // that frees its records for a new job.
  if (*state != "running" && !(what == "cancel" && (*state == "paused" || *state == "failed")))
    return make_error(Errc::invalid_argument, "the job is " + *state);
  bool running = false;
  {
    std::lock_guard lk(mu_);
    auto it = runs_.find(id);
    if (it != runs_.end() && !it->second->finished) {
      (what == "pause" ? it->second->pause : it->second->cancel) = true;
      running = true;
    }
  }
  if (running) {
    (void)store_.append_audit(who.actor(), "job." + what + "_request", json::serialize(json::object{{"job_id", id}}));
    return {};
  }
  // Not running in this process: just record the decision, if the job is still as it was read.
  return jobs.set_state(id, what == "pause" ? "paused" : "cancelled", what + "d by " + who.username, what == "pause" ? "paused" : "cancelled",
                        who.actor(), "job." + what, *state);
}

bool JobEngine::start_thread(std::int64_t id, std::vector<StepPin> pins, const Actor& owner) {
  std::lock_guard lk(mu_);
  if (stopping_) return false;  // stop() has taken (or is taking) the threads to join
  auto& slot = runs_[id];
  if (slot) {
    if (!slot->finished) return false;  // already running
    // Its last run is ending (state saved, thread about to hand itself over): the reaper joins it.
    ended_.push_back(std::move(slot));
    ended_cv_.notify_one();
  }
  if (!reaper_.joinable()) reaper_ = std::thread([this] { reap(); });
  slot = std::make_unique<Run>();
  slot->id = id;
  Run* r = slot.get();
  // The PINs are moved into run(), which wipes them (drops the last references) as soon as the job stops.
  r->thread = std::thread([this, r, pins = std::move(pins), owner]() mutable {
    run(*r, std::move(pins), owner);
    ended(*r);
  });
  ++threads_;
  metrics_.gauge_set("hocba_job_threads", {}, static_cast<double>(threads_));
  return true;
}

void JobEngine::ended(Run& r) {
  std::lock_guard lk(mu_);
  auto it = runs_.find(r.id);
  // Not there (or another run in its place): stop() or start_thread() has taken it already.
  if (it == runs_.end() || it->second.get() != &r) return;
  ended_.push_back(std::move(it->second));
  runs_.erase(it);
  ended_cv_.notify_one();
}

void JobEngine::reap() {
  std::unique_lock lk(mu_);
  for (;;) {
    ended_cv_.wait(lk, [&] { return reaper_stop_ || !ended_.empty(); });
    while (!ended_.empty()) {
      std::unique_ptr<Run> r = std::move(ended_.back());
      ended_.pop_back();
      lk.unlock();
      if (r->thread.joinable()) r->thread.join();  // it has handed itself over: only returning is left
      r.reset();
      lk.lock();
      --threads_;
      metrics_.gauge_set("hocba_job_threads", {}, static_cast<double>(threads_));
    }
    if (reaper_stop_) return;
  }
}

void JobEngine::run(Run& rj, std::vector<StepPin> pins, Actor owner) {
  const std::int64_t id = rj.id;
  const Labels series{{"job", std::to_string(id)}};
  store::Jobs jobs(store_);
  auto finish = [&](const std::string& state, const std::string& reason, const std::string& action, const std::string& code) {
    // The job's own metric series goes with it (before the state is saved: a resumed run's series
    // is never removed by this one).
    metrics_.remove("hocba_queue_depth", series);
    {
      // Marked finished before the state is saved: a resume that sees the saved state can start a
      // new run (start_thread hands this one to the reaper).
      std::lock_guard lk(mu_);
      rj.finished = true;
    }
    if (auto st = jobs.set_state(id, state, reason, code, "system", action); !st)
      spdlog::error("JOB_STATE_NOT_SAVED job={} state={} error={}", id, state, st.error().message);
    spdlog::info("JOB_END job={} state={} reason={}", id, state, reason);
    pins.clear();  // the PINs are wiped as soon as the job stops using them
  };
  auto job = jobs.get(id);
  if (!job || !*job) return finish("failed", "the job is not in the store", "", "not_found");
  const store::Job j = std::move(**job);
  const std::size_t n = j.steps.size();
  if (pins.size() != n) return finish("failed", "the job's run got " + std::to_string(pins.size()) + " PINs for " + std::to_string(n) + " steps", "job.fail", "invalid_argument");
  std::vector<BoundKey> keys;
  for (const store::JobStep& s : j.steps) {
    auto key = wf_.key_by_id(s.key_id);
    if (!key) return finish("failed", key.error().message, "job.fail", errc_name(key.error().code));
    keys.push_back(*key);
  }
  // May the owner still sign step k (still active, same role, same class, the key still theirs)?
  auto still_allowed = [&](std::size_t k) -> std::string {
    auto who = actor_by_id(store_, owner.user_id);
    if (!who) return owner.username + " is disabled";
    const std::string& field = j.steps[k].field;
    if (std::string why = wf_.may_sign(*who, field, j.class_id); !why.empty()) return why;
    auto key = wf_.key_by_id(keys[k].id);
    if (!key) return key.error().message;
    if (key->seal ? !wf_.chain().may_sign(store::role_name(who->role), field) : key->owner_user_id != who->user_id)
      return "the job's key is no longer " + owner.username + "'s";
    return "";
  };
  {
    std::string steps;
    for (std::size_t k = 0; k < n; ++k) steps += (k ? "," : "") + j.steps[k].field + ":" + std::to_string(keys[k].id);
    spdlog::info("JOB_START job={} steps={}", id, steps);
  }
  // Every lane's key is looked up on its token now, before the first signature: a later lane would
  // otherwise do it when its first record arrives, while the first lane's token signs (looking keys
  // up waits for the signatures in progress on the module), and start that much behind. (An error is
  // left for the lane's first record to report.)
  for (const BoundKey& k : keys) (void)wf_.key_ref(k);

  struct Outcome {
    std::string state, reason, action, code;
  };
  std::mutex mu;  // guards the four below
  std::condition_variable moved;  // an item moved on, or a worker ended
  std::set<std::int64_t> claimed;
  std::optional<Outcome> outcome;
  std::vector<int> alive(n, kWorkersPerLane);  // each lane's workers still working
  auto stop_with = [&](Outcome o) {
    std::lock_guard lk(mu);
    // The first reason wins, except that the token's own refusal of a PIN is a better reason than the
    // other workers' "not sent again" that followed it.
    if (!outcome || (outcome->code == errc_name(Errc::pin_rejected_before) && o.code == errc_name(Errc::pin_incorrect)))
      outcome = std::move(o);
    moved.notify_all();
  };
  auto stopped = [&] {
    std::lock_guard lk(mu);
    return outcome.has_value();
  };
  auto halting = [&] { return rj.cancel || rj.pause || stopping_; };

  // One worker of step k's lane.
  auto work = [&](std::size_t k) {
    const std::string& field = j.steps[k].field;
    const bool last = k + 1 == n;
    const StepPin& pin = pins[k];
    const Secret* secret = pin.pin ? pin.pin.get() : wf_.sealed_pin();
    for (;;) {
      if (stopped()) return;
      if (rj.cancel) return stop_with({"cancelled", "cancelled by " + owner.username, "job.cancel", "cancelled"});
      if (rj.pause || stopping_) {
        std::string why = stopping_ ? "the appliance stopped; resume it with the PIN" : "paused; resume it with the PIN";
        return stop_with({"paused", why, "job.pause", stopping_ ? "stopped" : "paused"});
      }
      if (std::string why = still_allowed(k); !why.empty())
        return stop_with({"failed", "not allowed any more: " + why, "job.fail", errc_name(Errc::forbidden)});
      std::int64_t record_id = 0;
      {
        std::unique_lock lk(mu);
        if (outcome) return;
        auto next = jobs.next_queued(id, static_cast<std::int64_t>(k), 2 * kWorkersPerLane);
        if (!next) {
          outcome = Outcome{"paused", "the store cannot be read: " + next.error().message, "job.pause", errc_name(next.error().code)};
          moved.notify_all();
          return;
        }
        for (const store::JobItem& it : *next)
          if (!claimed.count(it.record_id)) {
            record_id = it.record_id;
            break;
          }
        if (record_id == 0) {
          // Nothing here that another worker is not doing. More comes only from an earlier lane
          // still at work: wait for it (a while at most, to look at pause and cancel again).
          bool upstream = false;
          for (std::size_t e = 0; e < k; ++e) upstream |= alive[e] > 0;
          if (!upstream) return;
          moved.wait_for(lk, std::chrono::milliseconds(100));
          continue;
        }
        claimed.insert(record_id);
      }
      if (auto left = jobs.queued_count(id)) metrics_.gauge_set("hocba_queue_depth", series, static_cast<double>(*left));

      // The record may be signed interactively right now: wait for it rather than skip it.
      Workflow::Reservation held;
      while (!(held = Workflow::Reservation(wf_, record_id))) {
        if (halting() || stopped()) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
      if (!held) {
        std::lock_guard lk(mu);
        claimed.erase(record_id);
        continue;  // the loop's top says why it stops
      }
      std::int64_t passed = static_cast<std::int64_t>(k);  // the job's steps this record has passed
      std::string item_state = "queued", item_error;
      Status st;
      auto cur = store::Records(store_).for_signing(record_id);
      if (!cur) {
        st = cur.error();
        item_state = "failed", item_error = cur.error().message;
      } else if (!*cur) {
        item_state = "failed", item_error = "the record is gone";
      } else if ((*cur)->state == "superseded" || (*cur)->state == "failed") {
        item_state = "skipped", item_error = "the record is " + (*cur)->state;
      } else if (int step = wf_.chain().position((*cur)->level, field); step < 0) {
        item_state = "skipped", item_error = "the record's chain has no " + field + " step";
      } else if ((*cur)->steps_done > step) {
        // Signed already: by this job before a crash (then its signature row names the job) or by
        // someone else meanwhile (then the next step, if the job has one, goes on).
        auto by = store::Records(store_).signature_job(record_id, step);
        bool ours = by && *by == id;
        if (ours || !last) ++passed;
        else item_state = "skipped", item_error = "already signed";
      } else {
        st = wf_.sign_record(record_id, field, keys[k], secret, owner, id, true, pin.confirm_pin_risk);
        if (!st) {
          item_state = "failed", item_error = st.error().message;
        } else {
          ++passed;
          ++rj.signed_this_run;
        }
      }
      held.reset();

      if (!st && token_wide(st.error().code)) {
        // The token or the store failed in a way every next record would too: stop now, never retry
        // a PIN. The record stays queued at this step, so a resume signs it.
        Errc c = st.error().code;
        std::string reason = n > 1 ? field + ": " + st.error().message : st.error().message;
        return stop_with({pin_problem(c) ? "failed" : "paused", reason, pin_problem(c) ? "job.fail" : "job.pause", errc_name(c)});
      }
      if (item_state == "queued" && passed == static_cast<std::int64_t>(n)) item_state = "done";
      if (item_state == "failed" && n > 1) item_error = field + ": " + item_error;
      if (auto saved = jobs.set_item(id, record_id, passed, item_state, item_error); !saved)
        return stop_with({"paused", "the store cannot be written: " + saved.error().message, "job.pause", errc_name(saved.error().code)});
      if (item_state == "failed") spdlog::warn("JOB_RECORD_FAILED job={} record={} step={} error={}", id, record_id, field, item_error);
      std::lock_guard lk(mu);
      claimed.erase(record_id);
      moved.notify_all();  // the next lane may take it now
    }
  };
  std::vector<std::thread> workers;
  for (std::size_t k = 0; k < n; ++k)
    for (int w = 0; w < kWorkersPerLane; ++w)
      workers.emplace_back([&, k] {
        work(k);
        std::lock_guard lk(mu);
        --alive[k];
        moved.notify_all();
      });
  for (std::thread& t : workers) t.join();
  if (outcome) return finish(outcome->state, outcome->reason, outcome->action, outcome->code);
  // Every lane ran out of records: each took what its earlier lane passed on before it ended.
  finish("done", "", "job.done", "");
}

void JobEngine::remove_stale_temp_files() {
  std::error_code ec;
  std::filesystem::path root = wf_.options().state_dir + "/records";
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

Status JobEngine::pause_interrupted_jobs() {
  store::Jobs jobs(store_);
  // Running: the last run crashed. Paused with "stopped": the last run was stopped gracefully.
  auto interrupted = jobs.interrupted();
  if (!interrupted) return interrupted.error();
  for (const store::Job& j : *interrupted) {
    // Every step signs with the sealed PIN: nothing to ask anyone, it goes on.
    bool sealed = !j.steps.empty();
    for (const store::JobStep& s : j.steps) sealed &= wf_.uses_sealed_pin(s.field);
    if (sealed) {
      auto owner = actor_by_id(store_, j.created_by);
      bool allowed = owner.has_value();
      for (const store::JobStep& s : j.steps) allowed = allowed && wf_.may_sign(*owner, s.field, j.class_id).empty();
      if (allowed) {
        if (auto st = jobs.set_state(j.id, "running", "", "", "system", ""); !st) return st;
        spdlog::info("JOB_RESUME job={} reason=sealed-pin", j.id);
        (void)store_.append_audit("system", "job.resume", json::serialize(json::object{{"job_id", j.id}, {"reason", "restart, sealed PIN"}}));
        start_thread(j.id, std::vector<StepPin>(j.steps.size()), *owner);
        continue;
      }
    }
    if (j.state != "running") continue;  // paused by the stop already, with its reason
    if (auto st = jobs.set_state(j.id, "paused", "the appliance restarted; resume it with the PIN", "restarted", "system", "job.pause"); !st)
      return st;
  }
  return {};
}

void JobEngine::stop() {
  // Joined without holding mu_: a run that is ending takes it to mark itself finished.
  std::map<std::int64_t, std::unique_ptr<Run>> ending;
  std::thread reaper;
  {
    std::lock_guard lk(mu_);
    stopping_ = true;
    ending.swap(runs_);
    reaper_stop_ = true;  // it joins what has ended, then returns
    ended_cv_.notify_all();
    reaper = std::move(reaper_);
  }
  for (auto& [id, r] : ending)
    if (r->thread.joinable()) r->thread.join();
  if (reaper.joinable()) reaper.join();
  std::vector<std::unique_ptr<Run>> left;
  {
    std::lock_guard lk(mu_);
    left.swap(ended_);
  }
  for (auto& r : left)
    if (r->thread.joinable()) r->thread.join();
  std::lock_guard lk(mu_);
  threads_ = 0;
  metrics_.gauge_set("hocba_job_threads", {}, 0);
}

std::optional<double> JobEngine::eta_seconds(std::int64_t id, std::int64_t signatures_left) {
  std::lock_guard lk(mu_);
  auto it = runs_.find(id);
  if (it == runs_.end() || it->second->finished || it->second->signed_this_run == 0) return std::nullopt;
  // The lanes sign at once: this run's signatures per second, all lanes together.
  double spent = std::chrono::duration<double>(std::chrono::steady_clock::now() - it->second->started).count();
  return spent / static_cast<double>(it->second->signed_this_run) * static_cast<double>(signatures_left);
}

std::string JobEngine::metrics_text() {
  std::lock_guard lk(mu_);
  return metrics_.render();
}

}  // namespace hocba::workflow
