// The batch pipeline: the token signs on the caller's thread, timestamp workers ask the TSA,
// finish and deliver. See batch.h.
#include "hocba/signer/batch.h"

#include <spdlog/spdlog.h>

#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <exception>
#include <mutex>
#include <thread>
#include <utility>

namespace hocba::signer {

namespace {

using Clock = std::chrono::steady_clock;

// Errors about the token itself, not the record: every following record would fail the same way.
bool token_wide(Errc c) {
  switch (c) {
    case Errc::token_not_present:
    case Errc::pin_incorrect:
    case Errc::pin_locked:
    case Errc::pin_needs_confirm:
    case Errc::pin_rejected_before:
    case Errc::pin_required:
      return true;
    default:
      return false;
  }
}

std::string kept_note(const std::string& pending, const std::string& out) {
  return "; the signature is kept in " + pending + ": complete it with `hocba finish " + pending + " --out " +
         (out.empty() ? std::string("OUT.pdf") : out) + "`";
}

}  // namespace

const char* job_state_name(JobState s) {
  switch (s) {
    case JobState::queued: return "queued";
    case JobState::timestamping: return "timestamping";
    case JobState::done: return "done";
    case JobState::waiting_for_timestamp: return "waiting_for_timestamp";
    case JobState::failed: return "failed";
    case JobState::cancelled: return "cancelled";
  }
  return "?";
}

struct BatchSigner::Impl {
  Impl(SigningKey& k, PadesOptions o, TimestampClient* t, BatchOptions b)
      : key(k), opts(std::move(o)), tsa(t), bopts(std::move(b)) {
    opts.timestamps = tsa;
  }

  // A signed record waiting for its timestamp; `pending` empty: read it back from its file.
  struct Task {
    std::size_t index = 0;
    std::optional<PendingSignature> pending;
  };

  SigningKey& key;
  PadesOptions opts;
  TimestampClient* tsa;
  BatchOptions bopts;
  std::atomic<bool> stop_flag{false};

  // Held while an event is recorded and its callbacks run: callbacks one at a time, in order.
  // Lock order: cb_mu, then mu.
  std::mutex cb_mu;
  std::mutex mu;  // everything below
  std::condition_variable cv;
  std::deque<Task> queue;
  std::size_t in_memory = 0;
  bool producer_done = false;
  std::size_t consecutive_tsa_failures = 0;
  Error last_tsa_error;
  std::vector<BatchJob> jobs;
  std::vector<JobResult> results;
  BatchProgress progress;

  bool timestamped() const { return opts.level == Level::B_T; }

  std::string pending_path_of(const BatchJob& j) const {
    if (!j.pending_path.empty()) return j.pending_path;
    return j.output_path.empty() ? std::string() : j.output_path + ".pending";
  }

  // Records a change to job i under the locks (`change` runs with mu held), then runs the callbacks.
  template <typename F>
  void record(std::size_t i, F&& change) {
    std::lock_guard cb(cb_mu);
    JobResult r;
    BatchProgress p;
    bool ended = false;
    {
      std::lock_guard lock(mu);
      JobState before = results[i].state;
      change(results[i]);
      JobState after = results[i].state;
      if (before != after) {
        auto count = [&](JobState s) -> std::size_t* {
          switch (s) {
            case JobState::timestamping: return &progress.pending;
            case JobState::done: return &progress.done;
            case JobState::waiting_for_timestamp: return &progress.waiting_for_timestamp;
            case JobState::failed: return &progress.failed;
            case JobState::cancelled: return &progress.cancelled;
            default: return nullptr;
          }
        };
        if (auto* c = count(before)) --*c;
        if (auto* c = count(after)) ++*c;
        ended = after != JobState::queued && after != JobState::timestamping;
      }
      r = results[i];
      p = progress;
    }
    if (ended) {
      if (r.state == JobState::done)
        spdlog::info("BATCH_JOB_DONE id={} level={} out={}", r.id, level_name(r.level), r.output_path);
      else
        spdlog::warn("BATCH_JOB_END id={} state={} code={} error={}", r.id, job_state_name(r.state), errc_name(r.error.code),
                     r.error.message);
    }
    try {
      if (ended && bopts.on_job_end) bopts.on_job_end(r);
      if (bopts.on_progress) bopts.on_progress(p);
    } catch (const std::exception& e) {
      spdlog::warn("BATCH_CALLBACK_THREW error={}", e.what());
    } catch (...) {
      spdlog::warn("BATCH_CALLBACK_THREW error=unknown");
    }
  }

  void end(std::size_t i, JobState s, Error e = {}) {
    record(i, [&](JobResult& r) {
      r.state = s;
      r.error = std::move(e);
    });
  }

  Status deliver(const BatchJob& job, const SignOutcome& out) {
    if (job.deliver) {
      try {
        return job.deliver(out);
      } catch (const std::exception& e) {
        return make_error(Errc::io, std::string("the output sink threw: ") + e.what());
      }
    }
    return write_file_atomic(job.output_path, out.pdf, bopts.output_mode);
  }

  // The signing thread's part for one record. Returns false when the token failed in a way that
  // stops the batch (the error is in `token_error`).
  bool sign_one(std::size_t i, Error& token_error) {
    BatchJob& job = jobs[i];
    if (!job.deliver && job.output_path.empty()) {
      end(i, JobState::failed, make_error(Errc::invalid_argument, "the job has neither an output path nor an output sink"));
      return true;
    }
    const std::string pending_path = pending_path_of(job);
    if (timestamped() && pending_path.empty()) {
      end(i, JobState::failed, make_error(Errc::invalid_argument, "the job has no path to keep its pending signature in"));
      return true;
    }
    Bytes input = std::move(job.pdf);
    job.pdf = Bytes();
    if (input.empty()) {
      if (job.input_path.empty()) {
        end(i, JobState::failed, make_error(Errc::invalid_argument, "the job has no input"));
        return true;
      }
      auto r = read_file(job.input_path);
      if (!r) {
        end(i, JobState::failed, r.error());
        return true;
      }
      input = std::move(*r);
    }

    PadesOptions o = opts;
    if (bopts.signing_time_per_record) o.signing_time = std::chrono::system_clock::now();
    record(i, [&](JobResult& r) { r.sign_start = Clock::now(); });
    auto p = prepare_and_sign(input, key, o);
    input = Bytes();
    record(i, [&](JobResult& r) {
      r.sign_end = Clock::now();
      if (p) ++progress.signed_count;
    });
    if (!p) {
      end(i, JobState::failed, p.error());
      if (token_wide(p.error().code)) {
        token_error = p.error();
        return false;
      }
      return true;
    }

    if (!timestamped()) {
      auto out = finish(std::move(*p), std::nullopt);
      if (!out) {
        end(i, JobState::failed, out.error());
        return true;
      }
      if (auto st = deliver(job, *out); !st) {
        end(i, JobState::failed, st.error());
        return true;
      }
      record(i, [&](JobResult& r) {
        r.level = out->level;
        r.field_name = out->field_name;
        if (!job.deliver) r.output_path = job.output_path;
        r.state = JobState::done;
      });
      return true;
    }

    // B-T: keep the signature before anyone is asked anything.
    if (auto st = write_file_atomic(pending_path, p->serialize(), 0600); !st) {
      end(i, JobState::failed,
          make_error(st.error().code, "signed, but the signature could not be kept (" + st.error().message +
                                          "), so it was not timestamped"));
      return true;
    }
    record(i, [&](JobResult& r) {
      r.pending_path = pending_path;
      r.field_name = p->field_name;
      r.state = JobState::timestamping;
    });
    {
      std::lock_guard lock(mu);
      Task t;
      t.index = i;
      if (in_memory < bopts.max_queued_in_memory) {
        t.pending = std::move(*p);
        ++in_memory;
      }
      queue.push_back(std::move(t));
    }
    cv.notify_one();
    return true;
  }

  void worker() {
    for (;;) {
      Task t;
      bool stopped = false, tripped = false;
      Error last;
      std::size_t failures = 0;
      {
        std::unique_lock lock(mu);
        cv.wait(lock, [&] { return !queue.empty() || producer_done; });
        if (queue.empty()) return;
        t = std::move(queue.front());
        queue.pop_front();
        if (t.pending) --in_memory;
        stopped = stop_flag.load();
        tripped = bopts.tsa_failure_limit > 0 && consecutive_tsa_failures >= bopts.tsa_failure_limit;
        last = last_tsa_error;
        failures = consecutive_tsa_failures;
      }
      const BatchJob& job = jobs[t.index];
      const std::string pending_path = pending_path_of(job);
      const std::string note = kept_note(pending_path, job.output_path);
      if (stopped) {
        end(t.index, JobState::waiting_for_timestamp,
            make_error(Errc::unavailable, "the timestamp was not asked: the batch was stopped" + note));
        continue;
      }
      if (tripped) {
        end(t.index, JobState::waiting_for_timestamp,
            make_error(last.code, "the timestamp was not asked: the last " + std::to_string(failures) +
                                      " records got none (" + last.message + ")" + note));
        continue;
      }
      timestamp_one(t, job, pending_path, note);
    }
  }

  void timestamp_one(Task& t, const BatchJob& job, const std::string& pending_path, const std::string& note) {
    const std::size_t i = t.index;
    if (!t.pending) {
      auto data = read_file(pending_path);
      if (!data) {
        end(i, JobState::waiting_for_timestamp,
            make_error(data.error().code, "cannot read the pending signature back: " + data.error().message));
        return;
      }
      auto parsed = PendingSignature::parse(*data);
      if (!parsed) {
        end(i, JobState::waiting_for_timestamp,
            make_error(parsed.error().code, pending_path + ": " + parsed.error().message));
        return;
      }
      t.pending = std::move(*parsed);
    }
    record(i, [&](JobResult& r) { r.timestamp_start = Clock::now(); });
    auto token = tsa->timestamp(t.pending->signature_value);
    record(i, [&](JobResult& r) {
      r.timestamp_end = Clock::now();
      if (token) {
        consecutive_tsa_failures = 0;
      } else {
        ++consecutive_tsa_failures;
        last_tsa_error = token.error();
      }
    });
    if (!token) {
      end(i, JobState::waiting_for_timestamp, make_error(token.error().code, token.error().message + note));
      return;
    }
    auto out = finish(std::move(*t.pending), token->der);
    if (!out) {
      end(i, JobState::waiting_for_timestamp, make_error(out.error().code, out.error().message + note));
      return;
    }
    if (auto st = deliver(job, *out); !st) {
      end(i, JobState::failed, make_error(st.error().code, "signed and timestamped, but not delivered: " + st.error().message + note));
      return;
    }
    std::remove(pending_path.c_str());
    record(i, [&](JobResult& r) {
      r.level = out->level;
      r.field_name = out->field_name;
      r.timestamp_time = token->gen_time;
      r.tsa_name = token->tsa_name;
      r.pending_path.clear();
      if (!job.deliver) r.output_path = job.output_path;
      r.state = JobState::done;
    });
  }
};

BatchSigner::BatchSigner(SigningKey& key, PadesOptions opts, TimestampClient& tsa, BatchOptions bopts)
    : impl_(std::make_unique<Impl>(key, std::move(opts), &tsa, std::move(bopts))) {}

BatchSigner::BatchSigner(SigningKey& key, PadesOptions opts, BatchOptions bopts)
    : impl_(std::make_unique<Impl>(key, std::move(opts), nullptr, std::move(bopts))) {}

BatchSigner::~BatchSigner() = default;

void BatchSigner::stop() {
  impl_->stop_flag = true;
  impl_->cv.notify_all();
}

bool BatchSigner::stopping() const { return impl_->stop_flag.load(); }

std::vector<JobResult> BatchSigner::run(std::vector<BatchJob> jobs) {
  Impl& m = *impl_;
  {
    std::lock_guard lock(m.mu);
    m.jobs = std::move(jobs);
    m.results.assign(m.jobs.size(), JobResult{});
    for (std::size_t i = 0; i < m.jobs.size(); ++i) m.results[i].id = m.jobs[i].id;
    m.progress = BatchProgress{};
    m.progress.total = m.jobs.size();
    m.queue.clear();
    m.in_memory = 0;
    m.producer_done = false;
    m.consecutive_tsa_failures = 0;
    m.last_tsa_error = Error{};
  }
  const bool bt = m.timestamped();
  if (bt && !m.tsa) {
    for (std::size_t i = 0; i < m.jobs.size(); ++i)
      m.end(i, JobState::failed, make_error(Errc::invalid_argument, "PAdES B-T needs a timestamp authority"));
    return m.results;
  }
  if (m.opts.level != Level::B_B && !bt) {
    for (std::size_t i = 0; i < m.jobs.size(); ++i)
      m.end(i, JobState::failed,
            make_error(Errc::invalid_argument, std::string("the batch signs B-B or B-T, not ") + level_name(m.opts.level)));
    return m.results;
  }

  std::vector<std::thread> workers;
  // Whatever happens on this thread, the workers are told there is no more and are joined.
  struct Join {
    Impl& m;
    std::vector<std::thread>& ws;
    ~Join() {
      {
        std::lock_guard lock(m.mu);
        m.producer_done = true;
      }
      m.cv.notify_all();
      for (auto& w : ws) w.join();
    }
  } join{m, workers};
  if (bt) {
    std::size_t n = std::min(std::max<std::size_t>(m.bopts.timestamp_workers, 1), std::max<std::size_t>(m.jobs.size(), 1));
    for (std::size_t w = 0; w < n; ++w) workers.emplace_back([&m] { m.worker(); });
  }

  spdlog::info("BATCH_START jobs={} level={} workers={}", m.jobs.size(), level_name(m.opts.level), workers.size());
  std::optional<Error> token_error;
  for (std::size_t i = 0; i < m.jobs.size(); ++i) {
    if (token_error) {
      m.end(i, JobState::cancelled,
            make_error(token_error->code, "not signed: the token failed on an earlier record (" + token_error->message + ")"));
      continue;
    }
    if (m.stop_flag) {
      m.end(i, JobState::cancelled, make_error(Errc::unavailable, "not signed: the batch was stopped"));
      continue;
    }
    Error e;
    if (!m.sign_one(i, e)) token_error = e;
  }
  {
    std::lock_guard lock(m.mu);
    m.producer_done = true;
  }
  m.cv.notify_all();
  for (auto& w : workers) w.join();
  workers.clear();
  spdlog::info("BATCH_END jobs={} done={} waiting_for_timestamp={} failed={} cancelled={}", m.progress.total,
               m.progress.done, m.progress.waiting_for_timestamp, m.progress.failed, m.progress.cancelled);
  std::lock_guard lock(m.mu);
  return m.results;
}

Result<SignOutcome> finish_pending_file(const std::string& pending_path, const std::string& output_path, TimestampClient* tsa,
                                        unsigned output_mode) {
  auto data = read_file(pending_path);
  if (!data) return data.error();
  auto pending = PendingSignature::parse(*data);
  if (!pending) return make_error(pending.error().code, pending_path + ": " + pending.error().message);
  std::optional<Bytes> token;
  if (pending->level != Level::B_B) {
    if (!tsa) return make_error(Errc::invalid_argument, pending_path + " waits for a timestamp: give a timestamp authority");
    auto t = tsa->timestamp(pending->signature_value);
    if (!t) return make_error(t.error().code, t.error().message + "; " + pending_path + " is kept: try again later");
    token = std::move(t->der);
  }
  auto out = finish(std::move(*pending), token);
  if (!out) return make_error(out.error().code, out.error().message + "; " + pending_path + " is kept");
  if (auto st = write_file_atomic(output_path, out->pdf, output_mode); !st)
    return make_error(st.error().code, st.error().message + "; " + pending_path + " is kept");
  std::remove(pending_path.c_str());
  return out;
}

}  // namespace hocba::signer
