// Batch signing with asynchronous signature timestamps (PAdES B-T).
//
// The token is the serial resource: it signs the records one after another, on the thread that
// calls BatchSigner::run() (prepare_and_sign). Each signature is then kept in its pending file
// (PendingSignature::serialize, written atomically, mode 0600) BEFORE the timestamp authority is
// asked, and the request goes to a small pool of timestamp workers, so the token never waits for
// the TSA. When a timestamp arrives, a worker finishes the signature (finish), delivers the signed
// PDF (written atomically, or handed to the job's sink) and removes the pending file.
//
// Every job ends in one state:
//   done                   signed (with its timestamp, for B-T) and delivered;
//   waiting_for_timestamp  signed, but no timestamp came (the TSA failed after its retries, was not
//                          asked because it kept failing or the batch was stopped, or the token did
//                          not fit): the signature is kept in the pending file and `error` says why;
//                          finish_pending_file (or `hocba finish`) completes it later;
//   failed                 not signed (the input is not a PDF, the token refused, ...), or signed but
//                          not delivered (the pending file is then kept); `error` says why;
//   cancelled              not signed: stop() came first, or the token failed in a way that would
//                          fail every following record (PIN locked or rejected, token removed).
// A crash loses nothing either: every record signed is in its output or in its pending file.
#pragma once
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "hocba/common/error.h"
#include "hocba/common/fileio.h"
#include "hocba/signer/key.h"
#include "hocba/signer/pades.h"
#include "hocba/signer/timestamp.h"

namespace hocba::signer {

enum class JobState {
  queued,        // not signed yet
  timestamping,  // signed, pending file written, its timestamp asked or queued
  done,
  waiting_for_timestamp,
  failed,
  cancelled,
};
const char* job_state_name(JobState s);  // "queued", "timestamping", "done", "waiting_for_timestamp", ...

struct BatchJob {
  std::string id;           // names the record in results and logs (e.g. the student's personal ID)
  Bytes pdf;                // the record; when empty, read from input_path when its turn comes
  std::string input_path;
  std::string output_path;  // the signed PDF, written atomically (unless `deliver` is set)
  std::string pending_path; // where the pending signature is kept (B-T); default: output_path + ".pending"
  // Optional: receives the signed PDF instead of output_path being written. An error makes the job
  // `failed`, with the pending file kept. Called on a timestamp worker (B-T) or on the signing
  // thread (B-B); calls for different jobs may run at the same time.
  std::function<Status(const SignOutcome&)> deliver;
};

struct JobResult {
  using Clock = std::chrono::steady_clock;
  std::string id;
  JobState state = JobState::queued;
  Error error;               // why, for waiting_for_timestamp, failed and cancelled (code ok otherwise)
  std::string output_path;   // done with a file output: where it is
  std::string pending_path;  // where the pending signature is kept (set while it exists)
  Level level = Level::B_B;  // done: what was made
  std::string field_name;    // the field that holds the signature
  std::optional<std::chrono::system_clock::time_point> timestamp_time;  // the token's genTime
  std::string tsa_name;                                                 // the TSA certificate's subject
  // When things happened (for progress displays, tests and benchmarks); unset when not reached.
  std::optional<Clock::time_point> sign_start, sign_end;            // on the token
  std::optional<Clock::time_point> timestamp_start, timestamp_end;  // asking the TSA (all its tries)
};

struct BatchProgress {
  std::size_t total = 0;
  std::size_t signed_count = 0;  // signed by the token so far (whatever happened next)
  std::size_t pending = 0;       // signed and kept, timestamp asked or queued: not final yet
  std::size_t done = 0, waiting_for_timestamp = 0, failed = 0, cancelled = 0;
  bool finished() const { return done + waiting_for_timestamp + failed + cancelled == total; }
};

struct BatchOptions {
  // Timestamp requests in flight at once. To keep up with the token the pool needs about
  // TSA latency / token time per signature (a 5 s TSA and a 0.2 s/signature token: 25); with
  // fewer, the token still never waits, but the last timestamps come later. 32 by default; lower it
  // for a TSA that limits concurrent requests.
  std::size_t timestamp_workers = 32;
  // Signed records waiting for a free worker kept in memory; beyond, a worker reads the record's
  // pending file back (it is written anyway), so a long batch with a slow TSA stays small.
  std::size_t max_queued_in_memory = 32;
  // After this many records in a row got no timestamp (the TSA failed after its retries), the rest
  // are not asked: they are waiting_for_timestamp at once, with the last failure as the reason, so
  // a TSA that is down does not hold the batch for (timeout x tries) per record. A timestamp that
  // arrives resets the count. 0: always ask.
  std::size_t tsa_failure_limit = 8;
  // Each record's /M (and visible signing time) is when the token signs it; false: the
  // PadesOptions' signing_time for every record.
  bool signing_time_per_record = true;
  unsigned output_mode = 0644;  // of the signed PDFs (pending files are 0600)

  // Callbacks. They are called from the signing thread (the caller of run()) or from a timestamp
  // worker, but never two at once (the BatchSigner serializes them, in the order of the events),
  // so they need no lock of their own against each other; they must be quick (a worker waits
  // for them), must not throw (an exception is logged and ignored) and must not call run().
  // They may call stop().
  std::function<void(const BatchProgress&)> on_progress;  // after every change
  std::function<void(const JobResult&)> on_job_end;       // once per job, in its final state
};

class BatchSigner {
 public:
  // B-T (opts.level == Level::B_T): timestamps come from `tsa` (opts.timestamps is set to it; its
  // retries, timeout and URLs apply). `key` and `tsa` are not owned and must outlive the signer.
  BatchSigner(SigningKey& key, PadesOptions opts, TimestampClient& tsa, BatchOptions bopts = {});
  // B-B only (no timestamps, no pending files): the same pipeline without the workers.
  BatchSigner(SigningKey& key, PadesOptions opts, BatchOptions bopts = {});
  ~BatchSigner();
  BatchSigner(const BatchSigner&) = delete;
  BatchSigner& operator=(const BatchSigner&) = delete;

  // Signs the jobs in their order on the calling thread while the workers timestamp and deliver;
  // returns when every job has reached its final state (and every worker has ended), one result per
  // job in the jobs' order. One run at a time per BatchSigner.
  std::vector<JobResult> run(std::vector<BatchJob> jobs);

  // Asks run() to stop, and returns at once; callable from any thread, callbacks included. No
  // further record is signed (the one on the token finishes; the rest are `cancelled`); timestamps
  // not yet asked are not asked (waiting_for_timestamp, pending files kept); those in flight finish
  // or time out (TimestampClient's timeout and retries bound them). Sticky: a stopped BatchSigner
  // signs nothing more.
  void stop();
  bool stopping() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Completes a kept pending signature: reads and checks `pending_path` (PendingSignature::parse),
// asks `tsa` for the timestamp (B-T; a pending signature made for B-B is finished as is), finishes
// it, writes `output_path` atomically and removes the pending file. On any failure the pending
// file is kept and the error says why.
Result<SignOutcome> finish_pending_file(const std::string& pending_path, const std::string& output_path,
                                        TimestampClient* tsa, unsigned output_mode = 0644);

}  // namespace hocba::signer
