// Batch jobs (the jobs, job_steps and job_items tables): what a job signs, its records and how far
// each has come, its state, and the listing the API shows. Every SQL statement about jobs is here; the
// job engine (workflow/jobs.h) decides, this remembers. No SQLite type appears here.
//
// A job signs one step, or several consecutive steps of the chain (the principal's night: the
// principal's signature, then the seal), each with its own key. Each record is one item; the item's
// steps_done counts the job's steps it has passed (0 .. steps.size()), and its state is queued until
// it has passed them all (done), or one failed (failed), or there was nothing to do (skipped).
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "hocba/common/error.h"
#include "hocba/store/store.h"

namespace hocba::store {

struct JobStep {
  std::string field;  // the chain step
  std::int64_t key_id = 0;
};

// One step's progress in a job.
struct JobStepCounts {
  std::int64_t done = 0;    // items that have passed this step (signed by the job, or found signed)
  std::int64_t failed = 0;  // items that failed at this step
  std::int64_t queued = 0;  // items still to pass it (queued at this step or an earlier one)
};

struct Job {
  std::int64_t id = 0;
  std::string kind, state, reason, reason_code, created_at, updated_at;
  std::int64_t created_by = 0;
  std::string created_by_username;
  std::int64_t class_id = 0;  // 0: the whole school
  std::int64_t total = 0;
  std::vector<JobStep> steps;  // at least one, in chain order
  // Items by state, and each step's progress (steps.size() entries).
  std::int64_t done = 0, failed = 0, skipped = 0, queued = 0;
  std::vector<JobStepCounts> step_counts;
  // Signatures still to make: for each queued item, the steps it has not passed.
  std::int64_t signatures_left = 0;
};

struct JobFailure {
  std::int64_t record_id = 0;
  std::string personal_id, student_name, error;
  std::int64_t step = 0;  // the job step (index into Job::steps) it failed at
};

// Where the records a new job takes stand: for each school level whose chain holds the job's steps,
// the position of its first step there. A record of that level is taken when its steps_done is
// between first_position and first_position + steps - 1 (its item starts at the step it is at).
struct JobLevelSpan {
  std::string level;
  std::int64_t first_position = 0;
};

struct NewJob {
  std::vector<JobStep> steps;
  std::int64_t created_by = 0;
  std::string created_by_username;  // for the refusal that names a job already there
  std::string actor;                // who is audited ("user:…")
  std::int64_t class_id = 0;        // 0: every class
  std::vector<JobLevelSpan> levels;
};

// A queued item: its record and the job step it is at.
struct JobItem {
  std::int64_t record_id = 0;
  std::int64_t step = 0;
};

class Jobs {
 public:
  explicit Jobs(Store& store) : store_(&store) {}

  // Creates a running job with an item for every record waiting for one of its steps, and audits
  // "job.create", in one transaction. Errc::invalid_argument when an unfinished job (running, paused
  // or failed) signs one of these steps on these records (the message names it and who may cancel
  // it); Errc::not_found when no record waits. Returns the job's id.
  Result<std::int64_t> create(const NewJob& j);

  Result<std::optional<Job>> get(std::int64_t id);
  // The newest jobs first (at most `limit`), all or only those `created_by` started (0: all).
  Result<std::vector<std::int64_t>> list(std::int64_t created_by, std::int64_t limit);
  Result<std::vector<JobFailure>> failures(std::int64_t id, std::int64_t limit);
  // The state alone ("" when there is no such job).
  Result<std::string> state(std::int64_t id);

  // Up to `limit` queued items at job step `step`, in the job's order.
  Result<std::vector<JobItem>> next_queued(std::int64_t id, std::int64_t step, std::int64_t limit);
  Result<std::int64_t> queued_count(std::int64_t id);
  // An item moves on: it has passed `steps_done` of the job's steps, and is in `state` ("queued",
  // "done", "failed", "skipped") with `error`. The job's updated_at moves too.
  Status set_item(std::int64_t id, std::int64_t record_id, std::int64_t steps_done, const std::string& state, const std::string& error);

  // Sets the job's state, its reason for people and its code for programs, audited as `action` by
  // `actor` (no entry when `action` is empty). `from`: when not empty, the state the job must still
  // be in, else nothing changes and the answer is Errc::invalid_argument (a decision taken on a state
  // read earlier does not overwrite a newer one).
  Status set_state(std::int64_t id, const std::string& state, const std::string& reason, const std::string& code, const std::string& actor,
                   const std::string& action, const std::string& from = "");

  // Jobs a restart finds unfinished: running (the last run crashed) or paused because the appliance
  // stopped (reason_code "stopped").
  Result<std::vector<Job>> interrupted();

 private:
  Store* store_;
};

}  // namespace hocba::store
