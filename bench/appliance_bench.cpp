// hocba-appliance-bench: how long a teacher waits for one signature while the school's batch runs on
// the same slow token, and what the interactive traffic costs the batch.
//
//   hocba-appliance-bench [--records N (500)] [--sign-delay-ms N (200)] [--think-ms N (300)]
//                         [--no-interactive] [--seed N (11)] [--json]
//
// Sets up, in a temporary directory, hocbad as the tests start it (tests/appliance: SoftHSM2 tokens of
// scripts/softhsm-provision.sh, a self-signed TLS certificate, 127.0.0.1) with our PKCS#11 test module
// (tests/p11test) in front of SoftHSM2, adding --sign-delay-ms to every signature as a USB token
// does; a school of N primary students (tests/tools/gen-school.py). The school's workflow is
// `con_dau`, then `gvcn` (workflow.steps), so that the two signers use two keys of ONE token, CON-DAU:
// the principal's seal batch (key con-dau) and the homeroom teacher's interactive signatures (key
// con-dau-p384, bound to the teacher, homeroom of every class).
//
// 1. Alone: the principal seals 10 records and the teacher signs them, one at a time (latency of
//    each HTTPS request, no batch).
// 2. The principal starts one batch job sealing the rest of the school. While it runs, the teacher
//    signs records the batch has sealed, one at a time, with a think time of 0.5-1.5 x --think-ms
//    between them (seeded). A request counts as "during the batch" when the job was still running
//    when its answer came.
// 3. Printed: the latencies (p50, p90, p99, max) alone and during the batch, the batch's wall time and
//    rate, the token time it needs at least (records x delay), and the token's busy share (every
//    signature the token made x delay / wall time of the batch).
//
// --night: the principal's night instead. The workflow is `hieu_truong`, then `con_dau`, on TWO slow
// tokens (HIEU-TRUONG and CON-DAU, --sign-delay-ms each; default 250 ms here), a school of --records
// students (default 40 here). The same school is signed twice, on two fresh appliances: as two
// one-step jobs one after the other (the principal's step, then the seal's), and as ONE two-step job
// (POST /api/v1/jobs {"steps": ["hieu_truong", "con_dau"], "pin", "seal_pin"}), where each record is
// sealed as soon as the principal's signature is on it. Printed: both wall times (from the first
// POST until the last job is not running, polled every 20 ms), their ratio, and each against
// records x delay (the time one token needs alone: the target for the two-step job is <= 1.05 x it).
//
// Needs the test tools (configure with HOCBA_BUILD_TESTS=ON, the default, and build hocbad, hocba and
// hocba_p11test): without them it says so and exits 2. Exit 3: the figures are implausible (the batch
// faster than its token time, or fewer than 5 requests during the batch).
#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <boost/json.hpp>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <map>
#include <memory>
#include <random>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "appliance.h"
#include "hocba/common/log.h"

namespace {

using namespace hocba;
using namespace hocba::test;
namespace json = boost::json;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

const char* kUsage =
    "usage: hocba-appliance-bench [--records N] [--sign-delay-ms N] [--think-ms N] [--no-interactive] [--night] [--seed N] [--json]\n"
    "  --records N        students in the school (default 500); the batch seals all but 10\n"
    "  --sign-delay-ms N  extra time per token signature, as on a USB token (default 200)\n"
    "  --think-ms N       mean pause between the teacher's signatures (default 300)\n"
    "  --no-interactive   the batch alone (its rate without interactive traffic)\n"
    "  --night            the principal's night: one two-step job (principal + seal, two tokens) against two\n"
    "                     one-step jobs one after the other (defaults then: 40 records, 250 ms)\n"
    "  --seed N           seed of the school and of the think times (default 11)\n";

constexpr int kAlone = 10;

double since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }
std::string ids(std::int64_t id) { return std::to_string(id); }

int parse_count(const char* s, const char* opt, long lo) {
  char* end = nullptr;
  long v = std::strtol(s, &end, 10);
  if (!end || *end || v < lo || v > 1000000) {
    std::fprintf(stderr, "hocba-appliance-bench: %s needs an integer of at least %ld\n%s", opt, lo, kUsage);
    std::exit(2);
  }
  return static_cast<int>(v);
}

// Nearest-rank percentile of sorted values.
double pct(const std::vector<double>& sorted, double p) {
  if (sorted.empty()) return 0;
  std::size_t rank = static_cast<std::size_t>(std::ceil(p / 100.0 * static_cast<double>(sorted.size())));
  return sorted[std::min(sorted.size(), std::max<std::size_t>(rank, 1)) - 1];
}

struct Stats {
  std::size_t n = 0;
  double p50 = 0, p90 = 0, p99 = 0, max = 0;
};
Stats stats(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return {v.size(), pct(v, 50), pct(v, 90), pct(v, 99), v.empty() ? 0 : v.back()};
}

long long sign_calls(const std::string& state) {
  struct stat st {};
  if (::stat(state.c_str(), &st) != 0) return 0;
  std::smatch m;
  std::string text = read_text(state);
  return std::regex_search(text, m, std::regex(R"((?:^|\n)sign_calls=(\d+))")) ? std::stoll(m[1]) : 0;
}

double timed_sign(Appliance& a, const std::string& token, std::int64_t record, const std::string& pin) {
  auto t0 = Clock::now();
  auto r = a.call("POST", "/api/v1/records/" + ids(record) + "/sign", token, json::serialize(json::object{{"pin", pin}}));
  double s = since(t0);
  if (r.status != 200) throw std::runtime_error("signing record " + ids(record) + ": HTTP " + std::to_string(r.status) + " " + r.body);
  return s;
}

int run_bench(int records, int delay_ms, int think_ms, bool interactive, unsigned seed, bool as_json) {
  const std::string p11test = HOCBA_P11TEST_MODULE;
  for (auto& [path, what] : {std::pair<std::string, std::string>{p11test, "libhocba-p11test.so (tests/p11test)"},
                             {HOCBAD_BIN, "hocbad"}, {HOCBA_BIN, "hocba"}})
    if (!fs::exists(path)) {
      std::fprintf(stderr, "hocba-appliance-bench: %s is not built at %s; build it first\n", what.c_str(), path.c_str());
      return 2;
    }
  if (!have_tool("python3")) {
    std::fprintf(stderr, "hocba-appliance-bench: python3 is needed for tests/tools/gen-school.py\n");
    return 2;
  }
  auto t_setup = Clock::now();
  TempDir work;
  auto gen = run("python3 " + std::string(HOCBA_SOURCE_DIR) + "/tests/tools/gen-school.py --school --students " + std::to_string(records) +
                 " --level primary --seed " + std::to_string(seed) + " --out " + work.file("school") + " 2>&1");
  if (gen.status != 0) throw std::runtime_error("gen-school.py: " + gen.out);
  std::string conf = work.file("p11test.conf"), state = work.file("p11test.state");
  write_text(conf, "sign_delay_ms=" + std::to_string(delay_ms) + "\nstate_file=" + state + "\n");
  ApplianceOptions o;
  o.config_toml = "[hsm]\nmodules = [\"" + p11test + "\"]\n\n[workflow]\nsteps = [\"con_dau\", \"gvcn\"]\n";
  o.extra_env = {"HOCBA_P11TEST_CONF=" + conf};
  Appliance a(o);
  a.add_user("admin", "admin");
  a.add_user("hieutruong", "principal");
  a.add_user("gvcn.bench", "homeroom_teacher");
  std::string admin = a.login("admin");
  a.bind_key(admin, "pkcs11:token=CON-DAU;object=con-dau", "");
  a.bind_key(admin, "pkcs11:token=CON-DAU;object=con-dau-p384", "gvcn.bench");
  std::vector<std::string> files;
  for (auto& e : fs::directory_iterator(work.file("school")))
    if (e.path().extension() == ".json") files.push_back(e.path().string());
  std::sort(files.begin(), files.end());
  std::vector<std::int64_t> classes;
  for (auto& f : files) {
    auto cid = a.json("POST", "/api/v1/classes", admin, read_text(f), 201).at("class_id").as_int64();
    a.json("PUT", "/api/v1/classes/" + ids(cid) + "/homeroom", admin, R"({"username":"gvcn.bench"})");
    classes.push_back(cid);
  }
  std::string principal = a.login("hieutruong"), teacher = a.login("gvcn.bench");
  const std::string pin = a.pin("CON-DAU");
  auto first = a.json("GET", "/api/v1/classes/" + ids(classes.front()), admin).at("records").as_array();
  if (first.size() < static_cast<std::size_t>(kAlone)) throw std::runtime_error("the first class is too small");
  double setup_s = since(t_setup);

  // 1. Alone.
  std::vector<double> seal_alone, gvcn_alone;
  for (int i = 0; i < kAlone; ++i) seal_alone.push_back(timed_sign(a, principal, first[i].at("id").as_int64(), pin));
  for (int i = 0; i < kAlone; ++i) gvcn_alone.push_back(timed_sign(a, teacher, first[i].at("id").as_int64(), pin));
  long long sigs_before = sign_calls(state);

  // 2. The batch, and the teacher meanwhile.
  auto job = a.json("POST", "/api/v1/jobs", principal, json::serialize(json::object{{"field", "con_dau"}, {"pin", pin}}), 202).as_object();
  auto t_batch = Clock::now();
  std::int64_t jid = job.at("id").as_int64(), total = job.at("total").as_int64();
  std::atomic<bool> running{true};
  std::atomic<double> batch_s{0};
  std::thread poller([&] {  // the batch's end, to 50 ms
    while (true) {
      auto j = a.json("GET", "/api/v1/jobs/" + ids(jid), principal);
      if (j.at("state").as_string() != "running") {
        batch_s = since(t_batch);
        running = false;
        if (j.at("state").as_string() != "done") std::fprintf(stderr, "hocba-appliance-bench: the batch ended %s\n", json::serialize(j).c_str());
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  });
  std::vector<double> during;
  int after_batch = 0;
  if (interactive) {
    std::mt19937 rng(seed);
    std::uniform_real_distribution<double> think(0.5 * think_ms, 1.5 * think_ms);
    std::size_t cls = 0;
    std::vector<std::int64_t> ready;  // sealed by the batch, waiting for the teacher
    std::map<std::int64_t, bool> taken;
    while (running) {
      if (ready.empty()) {
        for (std::size_t k = cls; k < classes.size() && ready.empty(); ++k) {
          auto recs = a.json("GET", "/api/v1/classes/" + ids(classes[k]), teacher).at("records").as_array();
          bool any_left = false;
          for (auto& r : recs) {
            std::int64_t id = r.at("id").as_int64();
            if (r.at("steps_done").as_int64() == 0) any_left = true;
            if (r.at("steps_done").as_int64() == 1 && !taken[id]) ready.push_back(id);
          }
          if (!any_left && ready.empty()) cls = k + 1;  // this class is sealed and signed: skip it next time
        }
        if (ready.empty()) {
          std::this_thread::sleep_for(std::chrono::milliseconds(100));
          continue;
        }
      }
      std::int64_t id = ready.front();
      ready.erase(ready.begin());
      taken[id] = true;
      double s = timed_sign(a, teacher, id, pin);
      if (running) during.push_back(s);
      else ++after_batch;
      std::this_thread::sleep_for(std::chrono::duration<double, std::milli>(think(rng)));
    }
  }
  poller.join();
  auto final_job = a.json("GET", "/api/v1/jobs/" + ids(jid), principal).as_object();
  long long token_sigs = sign_calls(state) - sigs_before;
  double wall = batch_s.load();
  double floor_s = static_cast<double>(total) * delay_ms / 1000.0;
  double busy = static_cast<double>(token_sigs) * delay_ms / 1000.0 / wall;

  Stats seal = stats(seal_alone), alone = stats(gvcn_alone), dur = stats(during);
  double pdf_work = std::max(0.0, alone.max - delay_ms / 1000.0);
  double bound = 2 * delay_ms / 1000.0 + pdf_work;
  if (as_json) {
    json::object out{{"records", records},
                     {"batch_records", total},
                     {"batch_done", final_job.at("done").as_int64()},
                     {"sign_delay_ms", delay_ms},
                     {"think_ms", think_ms},
                     {"interactive", interactive},
                     {"setup_s", setup_s},
                     {"seal_alone_s", json::object{{"n", seal.n}, {"p50", seal.p50}, {"max", seal.max}}},
                     {"interactive_alone_s", json::object{{"n", alone.n}, {"p50", alone.p50}, {"max", alone.max}}},
                     {"interactive_during_batch_s",
                      json::object{{"n", dur.n}, {"p50", dur.p50}, {"p90", dur.p90}, {"p99", dur.p99}, {"max", dur.max}}},
                     {"interactive_after_batch", after_batch},
                     {"two_signatures_plus_pdf_work_s", bound},
                     {"batch_wall_s", wall},
                     {"batch_records_per_s", static_cast<double>(total) / wall},
                     {"batch_token_floor_s", floor_s},
                     {"token_signatures", token_sigs},
                     {"token_busy_share", busy}};
    std::cout << json::serialize(out) << "\n";
  } else {
    std::printf("hocba-appliance-bench: %d records, token +%d ms per signature, workflow con_dau -> gvcn on one token (CON-DAU)\n",
                records, delay_ms);
    std::printf("  set-up (school, import, users, keys)          %8.1f s\n", setup_s);
    std::printf("  seal alone (principal, n=%zu)                  p50 %6.3f s   max %6.3f s\n", seal.n, seal.p50, seal.max);
    std::printf("  teacher's signature alone (n=%zu)              p50 %6.3f s   max %6.3f s\n", alone.n, alone.p50, alone.max);
    if (interactive)
      std::printf("  teacher's signature during the batch (n=%zu)  p50 %6.3f s   p90 %6.3f s   p99 %6.3f s   max %6.3f s\n"
                  "    (2 signature times + PDF work = %.3f s; %d more after the batch ended)\n",
                  dur.n, dur.p50, dur.p90, dur.p99, dur.max, bound, after_batch);
    std::printf("  batch: %lld of %lld records in %.1f s = %.2f records/s (token time alone %.1f s)\n",
                static_cast<long long>(final_job.at("done").as_int64()), static_cast<long long>(total), wall,
                static_cast<double>(total) / wall, floor_s);
    std::printf("  token: %lld signatures during the batch, busy %.0f %% of its wall time\n", token_sigs, busy * 100);
  }
  if (wall < floor_s || (interactive && dur.n < 5)) {
    std::fprintf(stderr, "hocba-appliance-bench: implausible figures (batch %.1f s for a token floor of %.1f s; %zu requests during it)\n",
                 wall, floor_s, dur.n);
    return 3;
  }
  return 0;
}

// The principal's night (--night): see the top of the file.
struct NightSchool {
  std::unique_ptr<Appliance> a;
  std::string admin, principal;
  std::string pin, seal_pin;
};

NightSchool night_school(const std::string& school_dir, const std::string& conf) {
  ApplianceOptions o;
  o.config_toml = std::string("[hsm]\nmodules = [\"") + HOCBA_P11TEST_MODULE + "\"]\n\n[workflow]\nsteps = [\"hieu_truong\", \"con_dau\"]\n";
  o.extra_env = {"HOCBA_P11TEST_CONF=" + conf};
  NightSchool n;
  n.a = std::make_unique<Appliance>(o);
  Appliance& a = *n.a;
  a.add_user("admin", "admin");
  a.add_user("hieutruong", "principal");
  std::string admin = n.admin = a.login("admin");
  a.bind_key(admin, "pkcs11:token=HIEU-TRUONG;object=hieu-truong", "hieutruong");
  a.bind_key(admin, "pkcs11:token=CON-DAU;object=con-dau", "");
  std::vector<std::string> files;
  for (auto& e : fs::directory_iterator(school_dir))
    if (e.path().extension() == ".json") files.push_back(e.path().string());
  std::sort(files.begin(), files.end());
  for (auto& f : files) a.json("POST", "/api/v1/classes", admin, read_text(f), 201);
  n.principal = a.login("hieutruong");
  n.pin = a.pin("HIEU-TRUONG");
  n.seal_pin = a.pin("CON-DAU");
  return n;
}

// Starts a job and waits (polling every 20 ms) until it is not running; its final JSON.
json::object run_job(Appliance& a, const std::string& token, const json::object& body) {
  auto id = a.json("POST", "/api/v1/jobs", token, json::serialize(body), 202).at("id").as_int64();
  for (;;) {
    auto j = a.json("GET", "/api/v1/jobs/" + ids(id), token).as_object();
    if (j.at("state").as_string() != "running") {
      if (j.at("state").as_string() != "done") throw std::runtime_error("a job ended " + json::serialize(j));
      return j;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

// Seconds of the day of an audit time ("2026-12-07T17:49:01.123Z").
double audit_seconds(const std::string& at) {
  if (at.size() < 23) return 0;
  return std::stoi(at.substr(11, 2)) * 3600.0 + std::stoi(at.substr(14, 2)) * 60.0 + std::stod(at.substr(17, 6));
}

// When each step's signatures were committed (the audit's record.sign entries of job `id`), in
// seconds from the job's creation: first and last per step, and the largest wait of a record between
// its principal signature and its seal.
struct Timeline {
  double principal_first = 0, principal_last = 0, seal_first = 0, seal_last = 0, max_wait = 0;
};
Timeline timeline(Appliance& a, const std::string& admin, std::int64_t id) {
  Timeline t;
  double created = 0;
  std::map<std::int64_t, double> principal_at;
  std::vector<double> principal, seal;
  auto entries = a.json("GET", "/api/v1/audit?limit=1000", admin);
  for (auto& e : entries.at("entries").as_array()) {
    auto& d = e.at("detail").as_object();
    if (!d.contains("job_id") || d.at("job_id").as_int64() != id) continue;
    double at = audit_seconds(std::string(e.at("at").as_string()));
    if (e.at("action").as_string() == "job.create") created = at;
    if (e.at("action").as_string() != "record.sign") continue;
    if (d.at("field").as_string() == "hieu_truong") {
      principal.push_back(at);
      principal_at[d.at("record_id").as_int64()] = at;
    } else {
      seal.push_back(at);
      t.max_wait = std::max(t.max_wait, at - principal_at[d.at("record_id").as_int64()]);
    }
  }
  if (principal.empty() || seal.empty()) return t;
  t.principal_first = principal.front() - created, t.principal_last = principal.back() - created;
  t.seal_first = seal.front() - created, t.seal_last = seal.back() - created;
  return t;
}

int run_night(int records, int delay_ms, unsigned seed, bool as_json) {
  for (auto& [path, what] : {std::pair<std::string, std::string>{HOCBA_P11TEST_MODULE, "libhocba-p11test.so (tests/p11test)"},
                             {HOCBAD_BIN, "hocbad"}, {HOCBA_BIN, "hocba"}})
    if (!fs::exists(path)) {
      std::fprintf(stderr, "hocba-appliance-bench: %s is not built at %s; build it first\n", what.c_str(), path.c_str());
      return 2;
    }
  TempDir work;
  auto gen = run("python3 " + std::string(HOCBA_SOURCE_DIR) + "/tests/tools/gen-school.py --school --students " + std::to_string(records) +
                 " --level primary --seed " + std::to_string(seed) + " --out " + work.file("school") + " 2>&1");
  if (gen.status != 0) throw std::runtime_error("gen-school.py: " + gen.out);
  std::string conf = work.file("p11test.conf"), state = work.file("p11test.state");
  write_text(conf, "sign_delay_ms=" + std::to_string(delay_ms) + "\nstate_file=" + state + "\n");
  const double floor_s = records * delay_ms / 1000.0;  // one token's time for the school

  // 1. Two one-step jobs, one after the other.
  double seq_s = 0;
  {
    NightSchool n = night_school(work.file("school"), conf);
    auto t0 = Clock::now();
    run_job(*n.a, n.principal, json::object{{"field", "hieu_truong"}, {"pin", n.pin}});
    run_job(*n.a, n.principal, json::object{{"field", "con_dau"}, {"pin", n.seal_pin}});
    seq_s = since(t0);
  }
  // 2. One two-step job: both tokens at once.
  double night_s = 0;
  long long sigs_before = sign_calls(state);
  json::object night;
  Timeline tl;
  {
    NightSchool n = night_school(work.file("school"), conf);
    auto t0 = Clock::now();
    night = run_job(*n.a, n.principal,
                    json::object{{"steps", json::array{"hieu_truong", "con_dau"}}, {"pin", n.pin}, {"seal_pin", n.seal_pin}});
    night_s = since(t0);
    tl = timeline(*n.a, n.admin, night.at("id").as_int64());
  }
  long long night_sigs = sign_calls(state) - sigs_before;
  if (as_json) {
    std::cout << json::serialize(json::object{{"mode", "night"},
                                              {"records", records},
                                              {"sign_delay_ms", delay_ms},
                                              {"token_floor_s", floor_s},
                                              {"two_jobs_one_after_the_other_s", seq_s},
                                              {"two_step_job_s", night_s},
                                              {"two_step_over_two_jobs", night_s / seq_s},
                                              {"two_step_over_floor", night_s / floor_s},
                                              {"two_jobs_over_floor", seq_s / floor_s},
                                              {"two_step_job_done", night.at("done").as_int64()},
                                              {"two_step_token_signatures", night_sigs},
                                              {"principal_first_s", tl.principal_first},
                                              {"principal_last_s", tl.principal_last},
                                              {"seal_first_s", tl.seal_first},
                                              {"seal_last_s", tl.seal_last},
                                              {"longest_wait_for_seal_s", tl.max_wait}})
              << "\n";
  } else {
    std::printf("hocba-appliance-bench --night: %d records, two tokens (HIEU-TRUONG, CON-DAU), +%d ms per signature each\n", records, delay_ms);
    std::printf("  records x delay (one token's time)             %7.2f s\n", floor_s);
    std::printf("  two one-step jobs, one after the other          %7.2f s  = %.3f x records x delay\n", seq_s, seq_s / floor_s);
    std::printf("  one two-step job (principal + seal at once)     %7.2f s  = %.3f x records x delay (target <= 1.05)\n", night_s,
                night_s / floor_s);
    std::printf("  two-step job / two jobs                         %7.3f\n", night_s / seq_s);
    std::printf("  two-step job: %lld records done, %lld token signatures\n", static_cast<long long>(night.at("done").as_int64()), night_sigs);
    std::printf("    principal's signatures committed from %.2f s to %.2f s, seals from %.2f s to %.2f s after the job's creation\n"
                "    (audit times); longest wait of a record between its principal signature and its seal %.2f s\n",
                tl.principal_first, tl.principal_last, tl.seal_first, tl.seal_last, tl.max_wait);
  }
  if (night.at("done").as_int64() != records || night_s < floor_s) {
    std::fprintf(stderr, "hocba-appliance-bench: implausible figures\n");
    return 3;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  hocba::log::init("warn");
  int records = 500, delay_ms = 200, think_ms = 300;
  unsigned seed = 11;
  bool interactive = true, as_json = false, night = false, records_set = false, delay_set = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> const char* {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "hocba-appliance-bench: %s needs a value\n%s", a.c_str(), kUsage);
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--records") records = parse_count(value(), "--records", kAlone + 1), records_set = true;
    else if (a == "--sign-delay-ms") delay_ms = parse_count(value(), "--sign-delay-ms", 0), delay_set = true;
    else if (a == "--night") night = true;
    else if (a == "--think-ms") think_ms = parse_count(value(), "--think-ms", 0);
    else if (a == "--seed") seed = static_cast<unsigned>(parse_count(value(), "--seed", 0));
    else if (a == "--no-interactive") interactive = false;
    else if (a == "--json") as_json = true;
    else if (a == "--help" || a == "-h") {
      std::fputs(kUsage, stdout);
      return 0;
    } else {
      std::fprintf(stderr, "hocba-appliance-bench: unknown argument %s\n%s", a.c_str(), kUsage);
      return 2;
    }
  }
  try {
    if (night) return run_night(records_set ? records : 40, delay_set ? delay_ms : 250, seed, as_json);
    return run_bench(records, delay_ms, think_ms, interactive, seed, as_json);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "hocba-appliance-bench: %s\n", e.what());
    return 1;
  }
}
