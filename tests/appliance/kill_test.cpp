// hocbad killed with SIGKILL in the middle of a 200-record batch, again and again: after each restart
// no record file is truncated and the job resumes; at the end every record is signed exactly once.
// And interactive signatures on the token a batch is using wait for at most the signature in
// progress, not for the batch.
//
// Both use our PKCS#11 test module (tests/p11test) over SoftHSM2 with a delay per signature, as a USB
// token has: for the kill test so that the batch lasts long enough for most kills to land in it, for
// the latency test so that queueing behind the batch would show as seconds.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <boost/json.hpp>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <map>
#include <random>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include "appliance.h"
#include "job_kit.h"

namespace hocba::test {
namespace {

namespace json = boost::json;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

std::string samples(const std::string& name) { return std::string(HOCBA_TEST_DATA) + "/samples/" + name; }
std::string ids(std::int64_t id) { return std::to_string(id); }
double since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

std::string pin_body(const std::string& pin, json::object extra = {}) {
  extra["pin"] = pin;
  return json::serialize(extra);
}

// --- record files on disk --------------------------------------------------------------------------

// "" if `path` is a whole PDF: it starts with the header, ends with %%EOF (and end-of-line), and, when
// signed, its last signature's /ByteRange covers the file to its last byte. Else what is wrong.
std::string pdf_problem(const std::string& path) {
  std::string b = read_text(path);
  if (b.size() < 64) return "only " + std::to_string(b.size()) + " bytes";
  if (b.compare(0, 5, "%PDF-") != 0) return "no %PDF- header";
  std::size_t end = b.find_last_not_of("\r\n \t");
  if (end == std::string::npos || end < 4 || b.compare(end - 4, 5, "%%EOF") != 0) return "does not end with %%EOF";
  std::size_t br = b.rfind("/ByteRange");
  if (br != std::string::npos) {
    std::smatch m;
    std::string tail = b.substr(br, 120);
    if (!std::regex_search(tail, m, std::regex(R"(^/ByteRange\s*\[\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*\])")))
      return "unreadable /ByteRange";
    unsigned long long c = std::stoull(m[3]), d = std::stoull(m[4]);
    if (std::stoull(m[1]) != 0 || c + d != b.size())
      return "last /ByteRange [" + std::string(m[1]) + " " + std::string(m[2]) + " " + std::string(m[3]) + " " +
             std::string(m[4]) + "] does not cover its " + std::to_string(b.size()) + " bytes";
  }
  return "";
}

struct DiskScan {
  int drafts = 0, signed_files = 0;
  std::vector<std::string> temps;     // leftovers of write_file_atomic (".tmp.PID.N")
  std::vector<std::string> problems;  // a record file that is not whole, or a file that should not be there
  std::vector<std::string> files;     // every record file
};

// Every file under STATE/records: "records/CLASS/PERSONAL_ID/vVERSION-STEP.pdf" (STEP 0 is the draft).
DiskScan scan_records(const std::string& state_dir) {
  DiskScan s;
  static const std::regex record_name(R"(v\d+-(\d+)\.pdf)");
  static const std::regex temp_name(R"(v\d+-\d+\.pdf\.tmp\.\d+\.\d+)");
  for (auto& e : fs::recursive_directory_iterator(state_dir + "/records")) {
    if (!e.is_regular_file()) continue;
    std::string name = e.path().filename().string(), path = e.path().string();
    std::smatch m;
    if (std::regex_match(name, m, record_name)) {
      (m[1] == "0" ? s.drafts : s.signed_files)++;
      s.files.push_back(path);
      if (std::string p = pdf_problem(path); !p.empty()) s.problems.push_back(path + ": " + p);
    } else if (std::regex_match(name, temp_name)) {
      s.temps.push_back(path);
    } else {
      s.problems.push_back(path + ": not a record file");
    }
  }
  return s;
}

// Imports every class file of `dir` (sorted by name) as `admin`; the class ids.
std::vector<std::int64_t> import_all(Appliance& a, const std::string& admin, const std::string& dir) {
  std::vector<std::string> files;
  for (auto& e : fs::directory_iterator(dir))
    if (e.path().extension() == ".json") files.push_back(e.path().string());
  std::sort(files.begin(), files.end());
  std::vector<std::int64_t> out;
  for (auto& f : files) out.push_back(a.json("POST", "/api/v1/classes", admin, read_text(f), 201).at("class_id").as_int64());
  return out;
}

std::vector<std::int64_t> class_records(Appliance& a, const std::string& token, std::int64_t class_id) {
  std::vector<std::int64_t> out;
  auto cls = a.json("GET", "/api/v1/classes/" + ids(class_id), token);
  for (auto& r : cls.at("records").as_array()) out.push_back(r.at("id").as_int64());
  return out;
}

// --- Kill --------------------------------------------------------------------------------------------

// `two_step`: the principal's night, one job signing the principal's step and the seal's (two tokens
// at once); else one job of the principal's step alone.
void kill_during_batch(bool two_step) {
  constexpr int kStudents = 200, kRounds = 12, kDelayMs = 30;
  const std::size_t kSteps = two_step ? 2 : 1;
  auto t_start = Clock::now();
  TempDir work;
  auto gen = run("python3 " + std::string(HOCBA_SOURCE_DIR) + "/tests/tools/gen-school.py --school --students " +
                 std::to_string(kStudents) + " --level primary --seed 7 --out " + work.file("school") + " 2>&1");
  ASSERT_EQ(gen.status, 0) << gen.out;

  // The school's own order: the principal first, then the seal (workflow.steps), on a token that
  // takes kDelayMs per signature.
  ASSERT_TRUE(fs::exists(HOCBA_P11TEST_MODULE)) << HOCBA_P11TEST_MODULE << " is not built (target hocba_p11test)";
  SlowToken token(kDelayMs);
  Appliance a(token.options(R"(["hieu_truong", "con_dau"])"));
  a.add_user("admin", "admin");
  a.add_user("hieutruong", "principal");
  std::string admin = a.login("admin");
  a.bind_key(admin, "pkcs11:token=HIEU-TRUONG;object=hieu-truong", "hieutruong");
  if (two_step) a.bind_key(admin, "pkcs11:token=CON-DAU;object=con-dau", "");
  std::vector<std::int64_t> records;
  for (auto cid : import_all(a, admin, work.file("school")))
    for (auto id : class_records(a, admin, cid)) records.push_back(id);
  ASSERT_EQ(records.size(), static_cast<std::size_t>(kStudents));
  std::string principal = a.login("hieutruong");
  auto me = a.json("GET", "/api/v1/me", principal);
  // The chain as the server gives it (GET /api/v1/me "chain"): the principal, then the seal.
  ASSERT_EQ(json::serialize(me.at("chain").at("levels").at("primary").at("record_steps")), R"(["hieu_truong","con_dau"])");
  const std::string pin = a.pin("HIEU-TRUONG");
  // The resume's body: the PIN again, and the seal's for the two-step job.
  const std::string resume_body = two_step ? pin_body(pin, {{"seal_pin", a.pin("CON-DAU")}}) : pin_body(pin);
  const std::string start_body = two_step ? pin_body(pin, {{"steps", json::array{"hieu_truong", "con_dau"}}, {"seal_pin", a.pin("CON-DAU")}})
                                          : pin_body(pin, {{"field", "hieu_truong"}});
  double setup_s = since(t_start);

  std::uint32_t seed = 20241123;
  if (const char* e = std::getenv("HOCBA_KILL_SEED")) seed = static_cast<std::uint32_t>(std::strtoul(e, nullptr, 10));
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> delay_ms(50, 800);
  std::cout << "Kill: " << (two_step ? "two-step job (principal and seal), " : "") << "seed " << seed << " (HOCBA_KILL_SEED), " << kStudents << " records, token " << kDelayMs
            << " ms per signature, set-up " << std::fixed << std::setprecision(1) << setup_s << " s\n";

  std::int64_t job = 0;
  int mid_batch = 0, rounds = 0;
  std::set<std::string> checked;  // files already given to qpdf (a file never changes once renamed in)
  auto t_rounds = Clock::now();
  for (int round = 1; round <= kRounds; ++round) {
    if (job == 0) {
      job = a.json("POST", "/api/v1/jobs", principal, start_body, 202).at("id").as_int64();
    } else {
      auto j = a.json("GET", "/api/v1/jobs/" + ids(job), principal);
      if (j.at("state").as_string() == "done") break;
      a.json("POST", "/api/v1/jobs/" + ids(job) + "/resume", principal, resume_body, 202);
    }
    int ms = delay_ms(rng);
    std::this_thread::sleep_for(std::chrono::milliseconds(ms));
    a.kill9();
    ++rounds;
    DiskScan disk = scan_records(a.state_dir());  // as the kill left it
    auto t_restart = Clock::now();
    a.start();
    double restart_s = since(t_restart);
    auto j = a.json("GET", "/api/v1/jobs/" + ids(job), principal).as_object();
    std::string state(j.at("state").as_string());
    std::int64_t done = j.at("done").as_int64();
    bool mid = state == "paused" && done < kStudents;
    mid_batch += mid;
    std::cout << "  round " << std::setw(2) << round << ": killed after " << std::setw(3) << ms << " ms with " << std::setw(3)
              << disk.signed_files << " signed files on disk; after restart (" << std::setprecision(2) << restart_s
              << " s) the job is " << state << " with " << done << " done" << (disk.temps.empty() ? "" : ", leftover temp files: ")
              << (disk.temps.empty() ? "" : std::to_string(disk.temps.size())) << "\n";
    EXPECT_TRUE(state == "paused" || state == "done") << json::serialize(j);
    EXPECT_TRUE(disk.problems.empty()) << "round " << round << ":\n" << [&] {
      std::string s;
      for (auto& p : disk.problems) s += "  " + p + "\n";
      return s;
    }();
    // Every record the store calls done has its signed file; more files than done records only by
    // those signed (or written) just before the kill, which the resume takes over.
    EXPECT_GE(disk.signed_files, done) << "round " << round;
    EXPECT_EQ(disk.drafts, kStudents) << "round " << round;
    std::vector<std::string> fresh;
    for (auto& f : disk.files)
      if (checked.insert(f).second) fresh.push_back(f);
    auto bad = qpdf_check(fresh, work.path());
    EXPECT_TRUE(bad.empty()) << "round " << round << ": qpdf --check fails on " << bad.size() << " file(s), first " << bad.front();
    if (::testing::Test::HasFailure()) break;
  }
  double rounds_s = since(t_rounds);
  ASSERT_FALSE(::testing::Test::HasFailure());
  ASSERT_NE(job, 0);
  EXPECT_GE(rounds, 10);
  // Most kills must land in the batch, or this test would not be testing much.
  EXPECT_GE(mid_batch, rounds * 2 / 3) << mid_batch << " of " << rounds << " kills landed mid-batch";

  auto t_finish = Clock::now();
  auto j = a.json("GET", "/api/v1/jobs/" + ids(job), principal).as_object();
  if (j.at("state").as_string() != "done") {
    a.json("POST", "/api/v1/jobs/" + ids(job) + "/resume", principal, resume_body, 202);
    j = a.wait_job(principal, job, 600);
  }
  double finish_s = since(t_finish);
  EXPECT_EQ(j.at("state").as_string(), "done") << json::serialize(j);
  EXPECT_EQ(j.at("total").as_int64(), kStudents);
  EXPECT_EQ(j.at("done").as_int64(), kStudents) << json::serialize(j);
  EXPECT_EQ(j.at("failed").as_int64(), 0) << json::serialize(j);
  EXPECT_EQ(j.at("skipped").as_int64(), 0) << json::serialize(j);

  if (two_step) {
    auto& steps = j.at("steps").as_array();
    ASSERT_EQ(steps.size(), 2u) << json::serialize(j);
    for (auto& st : steps) EXPECT_EQ(st.at("done").as_int64(), kStudents) << json::serialize(j);
  }

  // Through the API: one signature row per step, the principal's (and the seal's), by this job.
  auto t_verify = Clock::now();
  std::string pdfs = work.file("pdfs");
  fs::create_directories(pdfs);
  for (auto id : records) {
    auto rec = a.json("GET", "/api/v1/records/" + ids(id), admin).as_object();
    EXPECT_EQ(rec.at("steps_done").as_int64(), static_cast<std::int64_t>(kSteps)) << json::serialize(rec);
    if (two_step) {
      EXPECT_EQ(rec.at("state").as_string(), "final") << json::serialize(rec);
    } else {
      EXPECT_EQ(rec.at("next_step").as_string(), "con_dau") << json::serialize(rec);
    }
    auto& sigs = rec.at("signatures").as_array();
    ASSERT_EQ(sigs.size(), kSteps) << json::serialize(rec);
    EXPECT_EQ(sigs[0].at("field").as_string(), "hieu_truong");
    EXPECT_EQ(sigs[0].at("by").as_string(), "hieutruong");
    for (auto& sg : sigs) EXPECT_EQ(sg.at("job_id").as_int64(), job) << json::serialize(rec);
    if (two_step) {
      EXPECT_EQ(sigs[1].at("field").as_string(), "con_dau");
    }
    auto pdf = a.call("GET", "/api/v1/records/" + ids(id) + "/pdf", admin);  // also checks the file against its hash
    ASSERT_EQ(pdf.status, 200) << "record " << id << ": " << pdf.body.substr(0, 200);
    write_text(pdfs + "/" + ids(id) + ".pdf", pdf.body);
  }
  // With pdfsig: exactly the job's signatures, the principal's (then the seal's), valid.
  auto sig = run("cd " + pdfs + " && for f in *.pdf; do echo \"=== $f\"; pdfsig \"$f\" 2>&1; done");
  std::map<std::string, std::string> per_file;
  {
    std::istringstream in(sig.out);
    std::string cur;
    for (std::string line; std::getline(in, line);) {
      if (line.rfind("=== ", 0) == 0) cur = line.substr(4);
      else per_file[cur] += line + "\n";
    }
  }
  EXPECT_EQ(per_file.size(), static_cast<std::size_t>(kStudents));
  for (auto& [file, out] : per_file) {
    // The record's form has a field per signature of the default workflow; only one is signed.
    auto fields = signed_fields(out);
    ASSERT_EQ(fields.size(), kSteps) << file << ":\n" << out;
    EXPECT_EQ(fields[0].first, "hieu_truong") << file << ":\n" << out;
    if (two_step) {
      EXPECT_EQ(fields[1].first, "con_dau") << file << ":\n" << out;
    }
    for (auto& f : fields) EXPECT_TRUE(f.second) << file << " (not valid):\n" << out;
  }
  // On disk: one draft and one signed file per record, all whole.
  DiskScan disk = scan_records(a.state_dir());
  EXPECT_EQ(disk.drafts, kStudents);
  EXPECT_EQ(disk.signed_files, kStudents * static_cast<int>(kSteps));
  EXPECT_TRUE(disk.problems.empty()) << disk.problems.size() << " problem(s), first: " << disk.problems.front();
  // The check above does see a cut file: a signed record cut short anywhere fails it.
  {
    auto signed_file = std::find_if(disk.files.begin(), disk.files.end(), [](const std::string& f) { return f.ends_with("-1.pdf"); });
    ASSERT_NE(signed_file, disk.files.end());
    std::string whole = read_text(*signed_file);
    ASSERT_EQ(pdf_problem(*signed_file), "");
    for (std::size_t cut : {whole.size() - 1, whole.size() - 7, whole.size() / 2, std::size_t(100)}) {
      write_text(work.file("cut.pdf"), whole.substr(0, cut));
      EXPECT_NE(pdf_problem(work.file("cut.pdf")), "") << "cut at " << cut << " of " << whole.size();
    }
  }
  // The audit log has one record.sign per record, and its chain is intact.
  std::map<std::int64_t, int> signs;
  int recovered = 0;
  for (std::int64_t after = 0;;) {
    auto page = a.json("GET", "/api/v1/audit?limit=1000&after=" + ids(after), admin).at("entries").as_array();
    if (page.empty()) break;
    for (auto& e : page) {
      after = e.at("seq").as_int64();
      if (e.at("action").as_string() != "record.sign") continue;
      ++signs[e.at("detail").at("record_id").as_int64()];
      recovered += e.at("detail").as_object().contains("recovered");
    }
  }
  EXPECT_EQ(signs.size(), static_cast<std::size_t>(kStudents));
  for (auto& [rec, n] : signs) EXPECT_EQ(n, static_cast<int>(kSteps)) << "record " << rec << " has " << n << " record.sign entries";
  auto v = a.hocba("audit verify --state-dir " + a.state_dir());
  EXPECT_EQ(v.status, 0) << v.out;
  long long token_sigs = token.sign_calls();
  const long long needed = kStudents * static_cast<long long>(kSteps);
  EXPECT_GE(token_sigs, needed);
  std::cout << "Kill: " << rounds << " kills (" << mid_batch << " mid-batch) in " << std::setprecision(1) << rounds_s
            << " s; finishing the job " << finish_s << " s; verifying " << since(t_verify) << " s; total " << since(t_start)
            << " s. Token signatures " << token_sigs << " for " << needed << " signatures (" << token_sigs - needed
            << " lost to kills and signed again); " << recovered << " signed file(s) adopted after a kill; "
            << disk.temps.size() << " leftover temp file(s)\n";
}

TEST(Kill, SigkillDuringASchoolBatchLosesNothingAndSignsEachRecordOnce) {
  if (!have_tool("pdfsig") || !have_tool("qpdf")) GTEST_SKIP() << "pdfsig and qpdf are needed";
  kill_during_batch(false);
}

// The principal's night: the principal's signature and the seal in one job, both tokens at once.
TEST(Kill, SigkillDuringThePrincipalsNightLosesNothingAndSignsEachStepOnce) {
  if (!have_tool("pdfsig") || !have_tool("qpdf")) GTEST_SKIP() << "pdfsig and qpdf are needed";
  kill_during_batch(true);
}

// --- Latency -----------------------------------------------------------------------------------------

// One interactive signature: its latency (seconds) as the client sees it, and the answer's status.
std::pair<double, int> timed_sign(Appliance& a, const std::string& token, std::int64_t record, const std::string& pin) {
  auto t0 = Clock::now();
  auto r = a.call("POST", "/api/v1/records/" + ids(record) + "/sign", token, pin_body(pin));
  return {since(t0), r.status};
}

// The school seals first and the homeroom teacher signs after it (workflow.steps = con_dau, gvcn),
// so the principal's seal batch (key con-dau) and the teacher's interactive signatures (key
// con-dau-p384, bound to the teacher) use two keys of ONE token, CON-DAU, at the same time: one token,
// one queue, one signature at a time (hsm::Hsm's worker per token).
TEST(Latency, InteractiveSignaturesDoNotQueueBehindABatchOnTheSameToken) {
  constexpr int kDelayMs = 200;
  constexpr double kSig = kDelayMs / 1000.0;
  ASSERT_TRUE(fs::exists(HOCBA_P11TEST_MODULE)) << HOCBA_P11TEST_MODULE << " is not built (target hocba_p11test)";
  SlowToken token(kDelayMs);
  Appliance a(token.options(R"(["con_dau", "gvcn"])"));
  a.add_user("admin", "admin");
  a.add_user("hieutruong", "principal");
  a.add_user("gvcn.3a", "homeroom_teacher");
  std::string admin = a.login("admin");
  a.bind_key(admin, "pkcs11:token=CON-DAU;object=con-dau", "");
  a.bind_key(admin, "pkcs11:token=CON-DAU;object=con-dau-p384", "gvcn.3a");
  std::int64_t c3a = a.json("POST", "/api/v1/classes", admin, read_text(samples("primary-3A.json")), 201).at("class_id").as_int64();
  a.json("POST", "/api/v1/classes", admin, read_text(samples("primary-5A.json")), 201);
  std::string principal = a.login("hieutruong"), teacher = a.login("gvcn.3a");
  const std::string pin = a.pin("CON-DAU");
  auto r3 = class_records(a, admin, c3a);
  constexpr int kBaseline = 3, kDuring = 8;
  ASSERT_GE(r3.size(), static_cast<std::size_t>(kBaseline + kDuring));

  // Without a batch: the seal on the records the teacher will sign, then the teacher's signature on
  // three of them. What a signature costs beyond the token's time is the PDF work (and HTTPS).
  std::vector<double> seal_alone, gvcn_alone;
  for (int i = 0; i < kBaseline + kDuring; ++i) {
    auto [s, status] = timed_sign(a, principal, r3[i], pin);
    ASSERT_EQ(status, 200);
    seal_alone.push_back(s);
  }
  for (int i = 0; i < kBaseline; ++i) {
    auto [s, status] = timed_sign(a, teacher, r3[i], pin);
    ASSERT_EQ(status, 200);
    gvcn_alone.push_back(s);
  }
  double alone = *std::max_element(gvcn_alone.begin(), gvcn_alone.end());
  double pdf_work = std::max(0.0, alone - kSig);
  // The bound: the batch's signature in progress plus our own (two signature times), the PDF work
  // measured above with room for a busy machine (twice it, plus 0.5 s; the 0.5 s also covers a
  // second wait behind a batch signature: today a request goes to the token twice, to look the key
  // up and to sign). Behind the whole batch (57 records) it would be more than 10 s, and the job would
  // no longer be running when the answer came (checked too).
  double bound = 2 * kSig + 2 * pdf_work + 0.5;

  // The batch: the principal seals the rest of the school (57 records, > 11 s on this token).
  auto job = a.json("POST", "/api/v1/jobs", principal, pin_body(pin, {{"field", "con_dau"}}), 202).as_object();
  std::int64_t jid = job.at("id").as_int64(), total = job.at("total").as_int64();
  auto t_batch = Clock::now();
  ASSERT_EQ(total, 68 - kBaseline - kDuring);
  auto progress = [&] { return a.json("GET", "/api/v1/jobs/" + ids(jid), principal).as_object(); };
  while (progress().at("done").as_int64() < 2 && since(t_batch) < 30) std::this_thread::sleep_for(std::chrono::milliseconds(50));

  std::vector<double> during;
  std::ostringstream log;
  log << std::fixed << std::setprecision(3);
  for (int i = kBaseline; i < kBaseline + kDuring; ++i) {
    std::int64_t before = progress().at("done").as_int64();
    auto [s, status] = timed_sign(a, teacher, r3[i], pin);
    auto after = progress();
    EXPECT_EQ(status, 200) << "record " << r3[i];
    // The batch ran all along: still running when our signature was back.
    ASSERT_EQ(after.at("state").as_string(), "running") << "the batch ended before interactive signature " << i - kBaseline + 1
                                                        << " was measured: " << json::serialize(after);
    during.push_back(s);
    log << "  interactive " << i - kBaseline + 1 << ": " << s << " s (batch at " << before << " -> " << after.at("done").as_int64()
        << " of " << total << ")\n";
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  auto done = a.wait_job(principal, jid, 300);
  double batch_s = since(t_batch);
  EXPECT_EQ(done.at("state").as_string(), "done") << json::serialize(done);
  EXPECT_EQ(done.at("done").as_int64(), total) << json::serialize(done);

  std::sort(during.begin(), during.end());
  std::cout << std::fixed << std::setprecision(3) << "Latency: token " << kSig << " s per signature; seal alone (max) "
            << *std::max_element(seal_alone.begin(), seal_alone.end()) << " s; teacher's signature alone:";
  for (double s : gvcn_alone) std::cout << " " << s;
  std::cout << " s (PDF work ~" << pdf_work << " s); bound " << bound << " s\n"
            << log.str() << "  during the batch: median " << during[during.size() / 2] << " s, max " << during.back()
            << " s; batch of " << total << " in " << batch_s << " s (" << total / batch_s << " records/s); token signatures "
            << token.sign_calls() << "\n";
  for (double s : during) EXPECT_LE(s, bound) << "an interactive signature waited behind the batch";
}

// Pause, resume and cancel on a job that is really running (a token at 100 ms per signature).
TEST(Jobs, PauseResumeAndCancelARunningJob) {
  ASSERT_TRUE(fs::exists(HOCBA_P11TEST_MODULE)) << HOCBA_P11TEST_MODULE << " is not built (target hocba_p11test)";
  SlowToken token(100);
  Appliance a(token.options("[\"gvcn\", \"hieu_truong\"]"));
  a.add_user("admin", "admin");
  a.add_user("gvcn.3a", "homeroom_teacher");
  a.add_user("ht", "principal");
  auto admin = a.login("admin");
  a.bind_key(admin, "pkcs11:token=GVCN-3A;object=gvcn-3a", "gvcn.3a");
  a.bind_key(admin, "pkcs11:token=HIEU-TRUONG;object=hieu-truong", "ht");
  auto cls = a.json("POST", "/api/v1/classes", admin, read_text(samples("primary-3A.json")), 201).at("class_id").as_int64();
  auto teacher = a.login("gvcn.3a"), principal = a.login("ht");

  auto start = [&](const std::string& tok, const std::string& body) { return a.json("POST", "/api/v1/jobs", tok, body, 202).at("id").as_int64(); };
  auto get = [&](const std::string& tok, std::int64_t id) { return a.json("GET", "/api/v1/jobs/" + ids(id), tok).as_object(); };
  auto wait_for = [&](const std::string& tok, std::int64_t id, const std::string& state) {
    auto t0 = Clock::now();
    json::object j;
    while (since(t0) < 60 && (j = get(tok, id)).at("state").as_string() != state) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    return j;
  };

  // Pause: the job stops after the record on the token; nothing is lost; resume needs the PIN again.
  auto jid = start(teacher, pin_body(a.pin("GVCN-3A"), {{"field", "gvcn"}, {"class_id", cls}}));
  std::this_thread::sleep_for(std::chrono::milliseconds(800));
  auto running = get(teacher, jid);
  EXPECT_EQ(running.at("state").as_string(), "running");
  EXPECT_TRUE(running.at("eta_seconds").is_number()) << json::serialize(running);  // after the first records
  EXPECT_EQ(a.call("POST", "/api/v1/jobs/" + ids(jid) + "/pause", principal, "{}").status, 403);  // not the principal's job
  a.json("POST", "/api/v1/jobs/" + ids(jid) + "/pause", teacher, "{}", 202);
  auto paused = wait_for(teacher, jid, "paused");
  ASSERT_EQ(paused.at("state").as_string(), "paused") << json::serialize(paused);
  EXPECT_EQ(paused.at("reason_code").as_string(), "paused");
  std::int64_t done_at_pause = paused.at("done").as_int64();
  EXPECT_GT(done_at_pause, 0);
  EXPECT_LT(done_at_pause, 35);
  std::this_thread::sleep_for(std::chrono::milliseconds(400));
  EXPECT_EQ(get(teacher, jid).at("done").as_int64(), done_at_pause);  // really stopped
  EXPECT_EQ(a.call("POST", "/api/v1/jobs/" + ids(jid) + "/resume", teacher, "{}").status, 400);  // no PIN
  a.json("POST", "/api/v1/jobs/" + ids(jid) + "/resume", teacher, pin_body(a.pin("GVCN-3A")), 202);
  auto done = a.wait_job(teacher, jid);
  EXPECT_EQ(done.at("state").as_string(), "done") << json::serialize(done);
  EXPECT_EQ(done.at("done").as_int64(), 35);

  // Cancel: the rest is not signed; a new job signs it later.
  auto pid = start(principal, pin_body(a.pin("HIEU-TRUONG"), {{"field", "hieu_truong"}}));
  std::this_thread::sleep_for(std::chrono::milliseconds(600));
  a.json("POST", "/api/v1/jobs/" + ids(pid) + "/cancel", principal, "{}", 202);
  auto cancelled = wait_for(principal, pid, "cancelled");
  ASSERT_EQ(cancelled.at("state").as_string(), "cancelled") << json::serialize(cancelled);
  std::int64_t signed_before = cancelled.at("done").as_int64();
  EXPECT_LT(signed_before, 35);
  EXPECT_EQ(a.call("POST", "/api/v1/jobs/" + ids(pid) + "/resume", principal, pin_body(a.pin("HIEU-TRUONG"))).status, 409);
  auto rest = a.wait_job(principal, start(principal, pin_body(a.pin("HIEU-TRUONG"), {{"field", "hieu_truong"}})));
  EXPECT_EQ(rest.at("done").as_int64(), 35 - signed_before) << json::serialize(rest);
  auto cls_json = a.json("GET", "/api/v1/classes/" + ids(cls), admin);
  for (auto& r : cls_json.at("records").as_array()) EXPECT_EQ(r.at("state").as_string(), "final") << r;
}

// A token pulled out in the middle of a job: the job pauses and says why; plugged back in, it resumes
// (with the PIN) and finishes, each record signed once.
TEST(Jobs, ATokenPulledOutPausesTheJobAndItResumesWhenBack) {
  ASSERT_TRUE(fs::exists(HOCBA_P11TEST_MODULE)) << HOCBA_P11TEST_MODULE << " is not built (target hocba_p11test)";
  SlowToken token(100);
  Appliance a(token.options("[\"gvcn\"]"));
  a.add_user("admin", "admin");
  a.add_user("gvcn.3a", "homeroom_teacher");
  auto admin = a.login("admin");
  a.bind_key(admin, "pkcs11:token=GVCN-3A;object=gvcn-3a", "gvcn.3a");
  auto cls = a.json("POST", "/api/v1/classes", admin, read_text(samples("primary-3A.json")), 201).at("class_id").as_int64();
  auto teacher = a.login("gvcn.3a");
  auto jid = a.json("POST", "/api/v1/jobs", teacher, pin_body(a.pin("GVCN-3A"), {{"field", "gvcn"}, {"class_id", cls}}), 202)
                 .at("id")
                 .as_int64();
  std::this_thread::sleep_for(std::chrono::milliseconds(700));
  write_text(token.conf, "sign_delay_ms=100\nstate_file=" + token.state + "\npresent=0\ntoken_label=GVCN-3A\n");  // pulled out
  auto j = a.wait_job(teacher, jid, 60);
  EXPECT_EQ(j.at("state").as_string(), "paused") << json::serialize(j);
  EXPECT_EQ(j.at("reason_code").as_string(), "token_not_present") << json::serialize(j);
  EXPECT_EQ(j.at("failed").as_int64(), 0);  // no record is blamed for the token
  std::int64_t done = j.at("done").as_int64();
  EXPECT_GT(done, 0);
  EXPECT_LT(done, 35);
  write_text(token.conf, "sign_delay_ms=100\nstate_file=" + token.state + "\n");  // plugged back in
  a.json("POST", "/api/v1/jobs/" + ids(jid) + "/resume", teacher, pin_body(a.pin("GVCN-3A")), 202);
  j = a.wait_job(teacher, jid, 120);
  EXPECT_EQ(j.at("state").as_string(), "done") << json::serialize(j);
  EXPECT_EQ(j.at("done").as_int64(), 35);
  auto c = a.json("GET", "/api/v1/classes/" + ids(cls), admin);
  for (auto& r : c.at("records").as_array()) EXPECT_EQ(r.at("steps_done").as_int64(), 1) << r;
}

// CSC: a token pulled out during signatures/signHash leaves the SAD's unsigned hashes usable, so the
// client retries with the same SAD once the token is back (no new PIN entry).
TEST(Jobs, CscHashesNotSignedBecauseTheTokenWasPulledOutCanBeSignedLater) {
  ASSERT_TRUE(fs::exists(HOCBA_P11TEST_MODULE)) << HOCBA_P11TEST_MODULE << " is not built (target hocba_p11test)";
  SlowToken token(0);
  Appliance a(token.options("[\"gvcn\"]"));
  a.add_user("admin", "admin");
  a.add_user("gvcn.3a", "homeroom_teacher");
  auto admin = a.login("admin");
  auto key = a.bind_key(admin, "pkcs11:token=GVCN-3A;object=gvcn-3a", "gvcn.3a");
  auto teacher = a.login("gvcn.3a");
  const json::array hashes{"AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=", "AgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgI=",
                           "AwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwM="};
  const std::string cred = "key-" + std::to_string(key), sha256 = "2.16.840.1.101.3.4.2.1";
  json::object auth{{"credentialID", cred}, {"numSignatures", 3}, {"hashes", hashes}, {"hashAlgorithmOID", sha256},
                    {"authData", json::array{json::object{{"id", "PIN"}, {"value", a.pin("GVCN-3A")}}}}};
  auto sad = std::string(a.json("POST", "/csc/v2/credentials/authorize", teacher, json::serialize(auth)).at("SAD").as_string());
  json::object sign{{"credentialID", cred}, {"SAD", sad}, {"hashes", hashes}, {"hashAlgorithmOID", sha256},
                    {"signAlgo", "1.2.840.113549.1.1.1"}};
  write_text(token.conf, "state_file=" + token.state + "\npresent=0\ntoken_label=GVCN-3A\n");  // pulled out
  auto r = a.call("POST", "/csc/v2/signatures/signHash", teacher, json::serialize(sign));
  EXPECT_EQ(r.status, 503) << r.body;
  write_text(token.conf, "state_file=" + token.state + "\n");  // back
  r = a.call("POST", "/csc/v2/signatures/signHash", teacher, json::serialize(sign));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(json::parse(r.body).at("signatures").as_array().size(), 3u);
  // Signed now: the SAD is used up.
  EXPECT_EQ(a.call("POST", "/csc/v2/signatures/signHash", teacher, json::serialize(sign)).status, 400);
}

}  // namespace
}  // namespace hocba::test
