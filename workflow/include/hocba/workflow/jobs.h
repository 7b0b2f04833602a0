// The appliance's one batch job engine: sign a class (or the whole school) with one PIN entry per
// token, for one step of the chain or for several consecutive ones (the principal's night: the
// principal's signature and the school seal, both tokens working at once).
//
// A job and each record's item live in the store (store::Jobs), so progress survives a restart; a
// record is never signed twice for a step (Workflow::sign_record refuses a record whose step moved on,
// and adopts a signed file a crash left behind).
//
// Lanes. Each step of a job has its lane, which signs that step with that step's key: one token per
// lane, and a token used by one lane of the job only. A record enters step k+1's lane as soon as its
// step-k signature is committed, so with two steps the principal's token and the seal's token sign
// at the same time (record i sealed while record i+1 gets the principal's signature). Inside a lane
// three workers take the records in turn: while one waits for the token, the others finish their
// record (file, store) and prepare the next PDF, so the token does not idle between two records
// even when that work is slowed down on a busy machine (on the shared 2-core machine a lane took
// 0.267-0.275 s per 0.25 s signature with two workers, 0.258-0.267 s with three; docs/bench.md); the
// token still signs one at a time (hsm::Hsm's
// queue per token), interactive requests first (the job signs with batch priority, so a request
// waits for the signature in progress only).
//
// Token-wide failures (a wrong PIN, the token removed) stop the whole job at once and a PIN the token
// refused is never sent again (the job fails; resuming takes the PINs again); a record that fails on
// its own is marked failed and the job goes on. Pause and the appliance's stop let the signatures
// on the tokens finish; the job is then paused (resumable with the PINs). PINs are wiped as soon as
// the run that holds them ends.
//
// signer::BatchSigner (signer/batch.h) is not this engine's lower half: it signs files with one key
// and keeps each signature in a pending file while its timestamp is fetched (B-T), with no store,
// no reservations and no resume. Here every signature is Workflow::sign_record, which checks the
// record against the store, adopts a file a crash left, and commits the record, the signature and its
// audit entry together; its timestamp is fetched in place (the other workers of the lane keep the
// token busy meanwhile). Making BatchSigner the lower half would need a "signed, timestamp pending"
// record state in the store; until then the two stay apart (BatchSigner serves the timestamp bench).
#pragma once
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "hocba/common/error.h"
#include "hocba/common/metrics.h"
#include "hocba/common/secret.h"
#include "hocba/store/jobs.h"
#include "hocba/store/store.h"
#include "hocba/workflow/workflow.h"

namespace hocba::workflow {

// The PIN one step's token gets for one run of a job.
struct StepPin {
  std::shared_ptr<Secret> pin;    // null: the step uses the sealed PIN (a seal step, seal.pin_file/pin_credential)
  bool confirm_pin_risk = false;  // sign even when the token reports count-low or final-try
};

// What a job will sign, checked (JobEngine::plan).
struct JobPlan {
  std::vector<std::string> steps;  // consecutive record steps of the chain, in order
  std::vector<BoundKey> keys;      // one per step
  std::int64_t class_id = 0;       // 0: every class
};

class JobEngine {
 public:
  // `wf`, `store` and `metrics` are not owned and must outlive the engine.
  JobEngine(Workflow& wf, store::Store& store, Metrics& metrics);
  ~JobEngine();  // stop()
  JobEngine(const JobEngine&) = delete;
  JobEngine& operator=(const JobEngine&) = delete;

  // May `who` start a job signing `steps` (class `class_id`, 0: every class)? The steps must be
  // record steps of the chain, consecutive in the chain of every level that takes them, at most one
  // of them a seal step, each one `who` may sign (Workflow::may_sign); a step signed by the homeroom
  // teacher needs a class. Errc::invalid_argument: the request is malformed; Errc::forbidden: not
  // theirs to sign; else the key lookup's error. `key_id`: the caller's key to use (0: the first bound).
  Result<JobPlan> plan(const Actor& who, const std::vector<std::string>& steps, std::int64_t class_id, std::int64_t key_id = 0);
  // Creates the job (audited "job.create") and starts it; `pins`: one per step. Errc::invalid_argument
  // when another unfinished job holds these records, Errc::not_found when none waits.
  Result<std::int64_t> start(const Actor& owner, const JobPlan& plan, std::vector<StepPin> pins);

  // Resumes a paused or failed job with the PINs again (one per step); the caller must still be allowed
  // to sign every step with the job's keys. Errc::invalid_argument: not resumable now (its state, or its
  // last run still ending); Errc::forbidden: not theirs any more.
  Status resume(const Actor& who, std::int64_t id, std::vector<StepPin> pins);
  // Pause: a running job stops after the signatures on the tokens (resumable). Cancel: a running, paused
  // or failed job ends for good, which frees its records for a new job. Errc::invalid_argument when the
  // job's state does not allow it. Audited as "job.pause"/"job.cancel" (or "job.pause_request"/
  // "job.cancel_request" when it runs here, the run then audits the stop).
  Status pause(const Actor& who, std::int64_t id);
  Status cancel(const Actor& who, std::int64_t id);

  // At start: jobs left running by a crash or a stop are paused (their PINs are gone) with the reason;
  // a job whose every step uses the sealed PIN resumes at once.
  Status pause_interrupted_jobs();
  // Temporary files a crash left in the records folder (write_file_atomic's "NAME.tmp.PID.RANDOM").
  void remove_stale_temp_files();
  // Every running job finishes the signatures on its tokens and pauses (resumable); returns when every
  // job thread has ended. No job starts after it.
  void stop();

  // Seconds left for a running job at this run's pace (none before its first signature of the run).
  std::optional<double> eta_seconds(std::int64_t id, std::int64_t signatures_left);
  // The metrics text, rendered while no job starts or ends (a job's thread count and series agree).
  std::string metrics_text();

 private:
  struct Run;
  bool start_thread(std::int64_t id, std::vector<StepPin> pins, const Actor& owner);
  void run(Run& r, std::vector<StepPin> pins, Actor owner);
  void ended(Run& r);
  void reap();
  Status control(const Actor& who, std::int64_t id, const std::string& what);

  Workflow& wf_;
  store::Store& store_;
  Metrics& metrics_;
  std::mutex mu_;  // guards everything below
  std::map<std::int64_t, std::unique_ptr<Run>> runs_;  // runs not yet ended
  std::vector<std::unique_ptr<Run>> ended_;            // ended runs, for the reaper to join
  std::condition_variable ended_cv_;
  std::thread reaper_;  // started with the first job
  std::atomic<bool> stopping_{false};  // set once, by stop() (read by the workers without the lock)
  bool reaper_stop_ = false;
  std::int64_t threads_ = 0;  // started and not yet joined (the gauge hocba_job_threads)
};

}  // namespace hocba::workflow
