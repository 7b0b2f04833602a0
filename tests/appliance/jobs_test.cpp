// Batch jobs that fail, and what a school can then do (cancel them, start a new one); job threads and
// metric series that end with their job; a sealed seal PIN that no request can replace with a guess;
// the principal's night (the principal's signature and the seal in one job, both tokens at once).
// hocbad on 127.0.0.1 with the SoftHSM2 test tokens (some behind our slow PKCS#11 test module).
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <chrono>
#include <thread>

#include <cstdint>
#include <filesystem>
#include <map>
#include <regex>

#include "appliance.h"
#include "job_kit.h"

namespace hocba::test {
namespace {

namespace json = boost::json;

std::string samples(const std::string& name) { return std::string(HOCBA_TEST_DATA) + "/samples/" + name; }

// The admin, the homeroom teacher of 3A and the principal, their keys and the seal, class 3A.
struct School {
  Appliance& a;
  std::string admin, teacher, principal;
  std::int64_t class_id = 0, teacher_key = 0, principal_key = 0, seal_key = 0;

  explicit School(Appliance& app) : a(app) {
    a.add_user("admin", "admin");
    a.add_user("gvcn.3a", "homeroom_teacher");  // the username the class file names
    a.add_user("ht", "principal");
    admin = a.login("admin");
    teacher_key = a.bind_key(admin, "pkcs11:token=GVCN-3A;object=gvcn-3a", "gvcn.3a");
    principal_key = a.bind_key(admin, "pkcs11:token=HIEU-TRUONG;object=hieu-truong", "ht");
    seal_key = a.bind_key(admin, "pkcs11:token=CON-DAU;object=con-dau", "");
    class_id = a.json("POST", "/api/v1/classes", admin, read_text(samples("primary-3A.json")), 201).at("class_id").as_int64();
    teacher = a.login("gvcn.3a");
    principal = a.login("ht");
  }

  net::HttpExchange start(const std::string& token, const std::string& field, json::object body) {
    body["field"] = field;
    if (field == "gvcn") body["class_id"] = class_id;
    return a.call("POST", "/api/v1/jobs", token, json::serialize(body));
  }
  // Starts a job and waits for its end: its final JSON.
  json::object run(const std::string& token, const std::string& field, json::object body) {
    auto r = start(token, field, std::move(body));
    if (r.status != 202) throw std::runtime_error("POST /api/v1/jobs: HTTP " + std::to_string(r.status) + ": " + r.body);
    return a.wait_job(token, json::parse(r.body).at("id").as_int64());
  }
  net::HttpExchange cancel(const std::string& token, std::int64_t job) {
    return a.call("POST", "/api/v1/jobs/" + std::to_string(job) + "/cancel", token, "{}");
  }
  std::vector<std::int64_t> record_ids() {
    std::vector<std::int64_t> ids;
    auto records_json = a.json("GET", "/api/v1/classes/" + std::to_string(class_id), admin);  // kept alive for the loop
    for (auto& r : records_json.at("records").as_array())
      ids.push_back(r.at("id").as_int64());
    return ids;
  }
};

std::string state(const json::object& job) { return std::string(job.at("state").as_string()); }

TEST(Jobs, AJobThatFailedOnAWrongPinIsCancelledByTheAdminAndANewOneSignsItsRecords) {
  Appliance a;
  School s(a);
  auto failed = s.run(s.teacher, "gvcn", {{"pin", "999999"}});
  ASSERT_EQ(state(failed), "failed") << json::serialize(failed);
  std::int64_t failed_id = failed.at("id").as_int64();

  // While it is there, it holds its records: a new job for the same class and field is refused, and
  // the answer says which job and what to do.
  auto dup = s.start(s.teacher, "gvcn", {{"pin", a.pin("GVCN-3A")}, {"confirm_pin_risk", true}});
  EXPECT_EQ(dup.status, 422) << dup.body;
  EXPECT_NE(dup.body.find("job " + std::to_string(failed_id) + " (failed)"), std::string::npos) << dup.body;

  // The admin cancels it (the answer is the job, now cancelled), once.
  auto c = s.cancel(s.admin, failed_id);
  ASSERT_EQ(c.status, 202) << c.body;
  EXPECT_EQ(json::parse(c.body).at("state").as_string(), "cancelled") << c.body;
  EXPECT_EQ(s.cancel(s.admin, failed_id).status, 409);

  // A new job for the same class and field starts and finishes (confirmed: the token saw a wrong PIN).
  auto fresh = s.run(s.teacher, "gvcn", {{"pin", a.pin("GVCN-3A")}, {"confirm_pin_risk", true}});
  EXPECT_EQ(state(fresh), "done") << json::serialize(fresh);
  EXPECT_EQ(fresh.at("done").as_int64(), 35);
  EXPECT_EQ(a.json("GET", "/api/v1/jobs/" + std::to_string(failed_id), s.admin).at("state").as_string(), "cancelled");
  // The cancellation is in the audit log, by the admin.
  bool audited = false;
  auto entries_json = a.json("GET", "/api/v1/audit?limit=1000", s.admin);  // kept alive for the loop
  for (auto& e : entries_json.at("entries").as_array())
    audited |= e.at("action").as_string() == "job.cancel" && e.at("actor").as_string() == "user:admin" &&
               e.at("detail").at("job_id").as_int64() == failed_id;
  EXPECT_TRUE(audited);
}

TEST(Jobs, FailedJobsWhoseOwnerCannotResumeThemAreCancelledAndReplaced) {
  Appliance a;
  School s(a);
  auto st = "--state-dir " + a.state_dir();

  // 1. The teacher's job fails (wrong PIN); then the class gets a new homeroom teacher, and the
  //    token's key is rebound to her. The old owner can no longer resume it; the new teacher may not
  //    cancel someone else's job; the admin may, and the new teacher's job then signs the class.
  auto j1 = s.run(s.teacher, "gvcn", {{"pin", "999999"}});
  ASSERT_EQ(state(j1), "failed");
  a.add_user("gvcn.moi", "homeroom_teacher");
  a.json("PUT", "/api/v1/classes/" + std::to_string(s.class_id) + "/homeroom", s.admin, R"({"username":"gvcn.moi"})");
  ASSERT_EQ(a.call("DELETE", "/api/v1/keys/" + std::to_string(s.teacher_key), s.admin).status / 100, 2);
  a.bind_key(s.admin, "pkcs11:token=GVCN-3A;object=gvcn-3a", "gvcn.moi");
  std::string moi = a.login("gvcn.moi");
  auto resume = a.call("POST", "/api/v1/jobs/" + std::to_string(j1.at("id").as_int64()) + "/resume", s.teacher,
                       json::serialize(json::object{{"pin", a.pin("GVCN-3A")}, {"confirm_pin_risk", true}}));
  EXPECT_EQ(resume.status, 403) << resume.body;
  auto dup = s.start(moi, "gvcn", {{"pin", a.pin("GVCN-3A")}});
  EXPECT_EQ(dup.status, 422) << dup.body;
  EXPECT_NE(dup.body.find("gvcn.3a or the admin may cancel it"), std::string::npos) << dup.body;
  EXPECT_EQ(s.cancel(moi, j1.at("id").as_int64()).status, 403);
  ASSERT_EQ(s.cancel(s.admin, j1.at("id").as_int64()).status, 202);
  auto j1b = s.run(moi, "gvcn", {{"pin", a.pin("GVCN-3A")}, {"confirm_pin_risk", true}});
  EXPECT_EQ(state(j1b), "done") << json::serialize(j1b);
  EXPECT_EQ(j1b.at("done").as_int64(), 35);

  // 2. The principal's job fails (wrong PIN), then the principal is disabled and a new one gets the
  //    key: the admin cancels the old job, the new principal signs.
  auto j2 = s.run(s.principal, "hieu_truong", {{"pin", "999999"}});
  ASSERT_EQ(state(j2), "failed");
  ASSERT_EQ(a.hocba("user disable " + st + " --username ht").status, 0);
  a.add_user("ht.moi", "principal");
  ASSERT_EQ(a.call("DELETE", "/api/v1/keys/" + std::to_string(s.principal_key), s.admin).status / 100, 2);
  a.bind_key(s.admin, "pkcs11:token=HIEU-TRUONG;object=hieu-truong", "ht.moi");
  std::string ht2 = a.login("ht.moi");
  EXPECT_EQ(s.start(ht2, "hieu_truong", {{"pin", a.pin("HIEU-TRUONG")}}).status, 422);
  ASSERT_EQ(s.cancel(s.admin, j2.at("id").as_int64()).status, 202);
  auto j2b = s.run(ht2, "hieu_truong", {{"pin", a.pin("HIEU-TRUONG")}, {"confirm_pin_risk", true}});
  EXPECT_EQ(state(j2b), "done") << json::serialize(j2b);
  EXPECT_EQ(j2b.at("done").as_int64(), 35);

  // 3. The owner cancels their own failed job (the seal, wrong PIN) and starts again.
  auto j3 = s.run(ht2, "con_dau", {{"pin", "999999"}});
  ASSERT_EQ(state(j3), "failed");
  ASSERT_EQ(s.cancel(ht2, j3.at("id").as_int64()).status, 202);
  auto j3b = s.run(ht2, "con_dau", {{"pin", a.pin("CON-DAU")}, {"confirm_pin_risk", true}});
  EXPECT_EQ(state(j3b), "done") << json::serialize(j3b);
  EXPECT_EQ(j3b.at("done").as_int64(), 35);
}

// /metrics, polled until `pred` holds (a job's thread hands itself over as its last act): the text.
template <typename Pred>
std::string metrics_when(Appliance& a, const std::string& admin, Pred pred) {
  std::string m;
  for (int i = 0; i < 100; ++i) {
    m = a.call("GET", "/metrics", admin).body;
    if (pred(m)) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return m;
}

TEST(Jobs, AnEndedJobLeavesNoThreadAndNoMetricSeriesBehind) {
  Appliance a;
  School s(a);
  auto done = s.run(s.teacher, "gvcn", {{"pin", a.pin("GVCN-3A")}});
  ASSERT_EQ(state(done), "done");
  auto failed = s.run(s.principal, "hieu_truong", {{"pin", "999999"}});
  ASSERT_EQ(state(failed), "failed");
  auto joined = [](const std::string& m) { return m.find("\nhocba_job_threads 0\n") != std::string::npos; };
  std::string m = metrics_when(a, s.admin, joined);
  // Both threads are joined (the gauge counts those started and not joined yet) ...
  EXPECT_TRUE(joined(m)) << m;
  // ... and neither job left its queue-depth series.
  for (auto id : {done.at("id").as_int64(), failed.at("id").as_int64()})
    EXPECT_EQ(m.find("hocba_queue_depth{job=\"" + std::to_string(id) + "\"}"), std::string::npos) << m;

  // A running job is counted, and its series is there while it runs (a pause stops it mid-way).
  auto r = s.start(s.principal, "hieu_truong", {{"pin", a.pin("HIEU-TRUONG")}, {"confirm_pin_risk", true}});
  ASSERT_EQ(r.status, 422) << r.body;  // the failed job still holds the records ...
  ASSERT_EQ(s.cancel(s.principal, failed.at("id").as_int64()).status, 202);  // ... until its owner cancels it
  r = s.start(s.principal, "hieu_truong", {{"pin", a.pin("HIEU-TRUONG")}, {"confirm_pin_risk", true}});
  ASSERT_EQ(r.status, 202) << r.body;
  std::int64_t id = json::parse(r.body).at("id").as_int64();
  std::string series = "hocba_queue_depth{job=\"" + std::to_string(id) + "\"}";
  std::string during = metrics_when(a, s.admin, [&](const std::string& t) {
    return t.find(series) != std::string::npos || t.find("\nhocba_job_threads 0\n") != std::string::npos;
  });
  auto end = a.wait_job(s.principal, id);
  EXPECT_EQ(state(end), "done") << json::serialize(end);
  if (during.find(series) != std::string::npos) {
    EXPECT_NE(during.find("\nhocba_job_threads 1\n"), std::string::npos) << during;
  }
  m = metrics_when(a, s.admin, joined);
  EXPECT_TRUE(joined(m)) << m;
  EXPECT_EQ(m.find(series), std::string::npos) << m;
}

// A school whose seal's PIN is sealed (the test tokens' seal PIN in a file).
ApplianceOptions sealed_seal(TempDir& pins) {
  write_text(pins.file("seal.pin"), "333333\n");
  ApplianceOptions o;
  o.config_toml = "[seal]\npin_file = \"" + pins.file("seal.pin") + "\"\n";
  return o;
}

json::object token_status(Appliance& a, const std::string& admin, const std::string& label) {
  auto tokens_json = a.json("GET", "/api/v1/tokens", admin);  // kept alive for the loop
  for (auto& t : tokens_json.at("tokens").as_array())
    if (t.at("label").as_string() == label) return t.as_object();
  throw std::runtime_error("no token " + label);
}

TEST(Jobs, PinGuessesForASealedSealAreRefusedAndTheTokenIsNeverAsked) {
  TempDir pins;
  Appliance a(sealed_seal(pins));
  School s(a);
  ASSERT_EQ(a.pin("CON-DAU"), "333333");
  auto id = std::to_string(s.record_ids()[0]);
  auto sign = [&](const std::string& token, json::object body) {
    return a.call("POST", "/api/v1/records/" + id + "/sign", token, json::serialize(body));
  };
  ASSERT_EQ(sign(s.teacher, {{"pin", a.pin("GVCN-3A")}}).status, 200);
  ASSERT_EQ(sign(s.principal, {{"pin", a.pin("HIEU-TRUONG")}}).status, 200);

  // The seal is next. Any PIN from the request (a guess, or even the right one) and any confirmation
  // of PIN risk are refused before the token is touched.
  for (json::object body : {json::object{{"pin", "000000"}}, json::object{{"pin", "000000"}, {"confirm_pin_risk", true}},
                            json::object{{"confirm_pin_risk", true}}, json::object{{"pin", "333333"}}}) {
    auto r = sign(s.principal, body);
    EXPECT_EQ(r.status, 400) << json::serialize(body) << ": " << r.body;
    EXPECT_NE(r.body.find("sealed"), std::string::npos) << r.body;
  }
  // Batch jobs too.
  for (json::object body : {json::object{{"pin", "000001"}}, json::object{{"confirm_pin_risk", true}}}) {
    auto r = s.start(s.principal, "con_dau", body);
    EXPECT_EQ(r.status, 400) << json::serialize(body) << ": " << r.body;
    EXPECT_NE(r.body.find("sealed"), std::string::npos) << r.body;
  }
  // The seal's token counted nothing: no count-low, not locked ...
  auto tok = token_status(a, s.admin, "CON-DAU");
  EXPECT_FALSE(tok.at("pin_count_low").as_bool()) << json::serialize(tok);
  EXPECT_FALSE(tok.at("pin_locked").as_bool());
  // ... and the sealed PIN signs, with no confirmation needed.
  auto r = sign(s.principal, {});
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(json::parse(r.body).at("state").as_string(), "final");
}


// --- The principal's night --------------------------------------------------------------------------

// The body of the principal's night: both steps, both PINs (`extra` may add or override).
std::string night(Appliance& a, json::object extra = {}) {
  json::object b{{"steps", json::array{"hieu_truong", "con_dau"}}, {"pin", a.pin("HIEU-TRUONG")}, {"seal_pin", a.pin("CON-DAU")}};
  for (auto& kv : extra) b[kv.key()] = kv.value();
  return json::serialize(b);
}

std::int64_t start_night(School& s, const std::string& body) {
  auto r = s.a.call("POST", "/api/v1/jobs", s.principal, body);
  if (r.status != 202) throw std::runtime_error("POST /api/v1/jobs: HTTP " + std::to_string(r.status) + ": " + r.body);
  return json::parse(r.body).at("id").as_int64();
}

// The records of the class: each one's signatures' fields in order.
std::map<std::int64_t, std::vector<std::string>> signature_fields(School& s) {
  std::map<std::int64_t, std::vector<std::string>> out;
  for (auto id : s.record_ids()) {
    auto rec = s.a.json("GET", "/api/v1/records/" + std::to_string(id), s.admin);
    auto& f = out[id];
    for (auto& sg : rec.at("signatures").as_array()) f.emplace_back(sg.at("field").as_string());
  }
  return out;
}

json::object wait_state(Appliance& a, const std::string& token, std::int64_t id, const std::string& state, int timeout_s = 60) {
  auto t0 = std::chrono::steady_clock::now();
  json::object j;
  while ((j = a.json("GET", "/api/v1/jobs/" + std::to_string(id), token).as_object()).at("state").as_string() != state &&
         std::chrono::steady_clock::now() - t0 < std::chrono::seconds(timeout_s))
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  return j;
}

const std::vector<std::string> kAllThree{"gvcn", "hieu_truong", "con_dau"};

TEST(Night, ThePrincipalSignsAndSealsEveryRecordInOneJob) {
  if (!have_tool("pdfsig") || !have_tool("qpdf")) GTEST_SKIP() << "pdfsig and qpdf are needed";
  Appliance a;
  School s(a);
  ASSERT_EQ(state(s.run(s.teacher, "gvcn", {{"pin", a.pin("GVCN-3A")}})), "done");

  std::int64_t id = start_night(s, night(a));
  auto j = a.wait_job(s.principal, id);
  ASSERT_EQ(state(j), "done") << json::serialize(j);
  EXPECT_EQ(j.at("total").as_int64(), 35);
  EXPECT_EQ(j.at("done").as_int64(), 35);
  EXPECT_EQ(j.at("failed").as_int64(), 0);
  EXPECT_EQ(j.at("field").as_string(), "hieu_truong");
  // Each step's progress.
  auto& steps = j.at("steps").as_array();
  ASSERT_EQ(steps.size(), 2u) << json::serialize(j);
  EXPECT_EQ(steps[0].at("field").as_string(), "hieu_truong");
  EXPECT_EQ(steps[0].at("key_id").as_int64(), s.principal_key);
  EXPECT_EQ(steps[1].at("field").as_string(), "con_dau");
  EXPECT_EQ(steps[1].at("key_id").as_int64(), s.seal_key);
  for (auto& st : steps) {
    EXPECT_EQ(st.at("done").as_int64(), 35) << json::serialize(j);
    EXPECT_EQ(st.at("queued").as_int64(), 0) << json::serialize(j);
  }

  // Every record is final with the three signatures in the chain's order, both of the night's by this job.
  TempDir work;
  std::vector<std::string> files;
  for (auto rid : s.record_ids()) {
    auto rec = a.json("GET", "/api/v1/records/" + std::to_string(rid), s.admin).as_object();
    EXPECT_EQ(rec.at("state").as_string(), "final") << json::serialize(rec);
    auto& sigs = rec.at("signatures").as_array();
    ASSERT_EQ(sigs.size(), 3u) << json::serialize(rec);
    for (std::size_t k = 0; k < 3; ++k) EXPECT_EQ(sigs[k].at("field").as_string(), kAllThree[k]) << json::serialize(rec);
    EXPECT_EQ(sigs[1].at("job_id").as_int64(), id);
    EXPECT_EQ(sigs[2].at("job_id").as_int64(), id);
    auto pdf = a.call("GET", "/api/v1/records/" + std::to_string(rid) + "/pdf", s.admin);
    ASSERT_EQ(pdf.status, 200);
    files.push_back(work.file(std::to_string(rid) + ".pdf"));
    write_text(files.back(), pdf.body);
  }
  // pdfsig: three valid signatures, in order; qpdf --check finds nothing.
  for (auto& [file, out] : pdfsig_all(files, work.path())) {
    auto fields = signed_fields(out);
    ASSERT_EQ(fields.size(), 3u) << file << ":\n" << out;
    for (std::size_t k = 0; k < 3; ++k) {
      EXPECT_EQ(fields[k].first, kAllThree[k]) << file << ":\n" << out;
      EXPECT_TRUE(fields[k].second) << file << " (not valid):\n" << out;
    }
  }
  EXPECT_TRUE(qpdf_check(files, work.path()).empty());

  // The audit log: job.create names both steps; one record.sign per signature, each record's seal
  // after its principal's signature; and the seal began before the principal's last signature (the
  // two tokens worked at the same time, not one step after the other).
  std::map<std::int64_t, std::int64_t> principal_at, seal_at;
  bool created = false;
  auto entries = a.json("GET", "/api/v1/audit?limit=1000", s.admin);
  for (auto& e : entries.at("entries").as_array()) {
    auto& d = e.at("detail").as_object();
    if (e.at("action").as_string() == "job.create" && d.at("job_id").as_int64() == id) {
      created = true;
      EXPECT_EQ(json::serialize(d.at("steps")),
                json::serialize(json::array{json::object{{"field", "hieu_truong"}, {"key_id", s.principal_key}},
                                            json::object{{"field", "con_dau"}, {"key_id", s.seal_key}}}));
    }
    if (e.at("action").as_string() != "record.sign" || !d.contains("job_id") || d.at("job_id").as_int64() != id) continue;
    auto& m = d.at("field").as_string() == "hieu_truong" ? principal_at : seal_at;
    EXPECT_TRUE(m.emplace(d.at("record_id").as_int64(), e.at("seq").as_int64()).second) << "two record.sign of one step: " << json::serialize(e);
  }
  EXPECT_TRUE(created);
  ASSERT_EQ(principal_at.size(), 35u);
  ASSERT_EQ(seal_at.size(), 35u);
  std::int64_t last_principal = 0, first_seal = INT64_MAX;
  for (auto& [rid, seq] : principal_at) {
    EXPECT_LT(seq, seal_at[rid]) << "record " << rid;
    last_principal = std::max(last_principal, seq);
  }
  for (auto& [rid, seq] : seal_at) first_seal = std::min(first_seal, seq);
  EXPECT_LT(first_seal, last_principal);
  EXPECT_EQ(a.hocba("audit verify --state-dir " + a.state_dir()).status, 0);
}

TEST(Night, StepsOrPinsThatDoNotFitAreRefusedAndNoJobStarts) {
  Appliance a;
  School s(a);
  auto post = [&](const std::string& token, const std::string& body) { return a.call("POST", "/api/v1/jobs", token, body); };
  auto cls = json::value(s.class_id);
  // Not the teacher's steps.
  EXPECT_EQ(post(s.teacher, night(a, {{"class_id", cls}})).status, 403);
  // Steps that are not consecutive in the chain, out of order, twice, unknown, or not a list.
  for (json::value steps : {json::value(json::array{"con_dau", "hieu_truong"}), json::value(json::array{"hieu_truong", "hieu_truong"}),
                            json::value(json::array{"hieu_truong", "dong_dau"}), json::value(json::array{}), json::value("hieu_truong")}) {
    auto r = post(s.principal, night(a, {{"steps", steps}}));
    EXPECT_EQ(r.status, 400) << json::serialize(steps) << ": " << r.body;
  }
  auto gvcn_to_seal = post(s.principal, night(a, {{"steps", json::array{"gvcn", "con_dau"}}, {"class_id", cls}}));
  EXPECT_EQ(gvcn_to_seal.status, 400) << gvcn_to_seal.body;
  EXPECT_NE(gvcn_to_seal.body.find("do not follow each other"), std::string::npos) << gvcn_to_seal.body;
  // PINs: the seal's is needed; a one-step job takes none; field and steps do not go together.
  EXPECT_EQ(post(s.principal, json::serialize(json::object{{"steps", json::array{"hieu_truong", "con_dau"}}, {"pin", a.pin("HIEU-TRUONG")}})).status, 400);
  EXPECT_EQ(post(s.principal, json::serialize(json::object{{"steps", json::array{"hieu_truong", "con_dau"}}, {"seal_pin", a.pin("CON-DAU")}})).status, 400);
  EXPECT_EQ(post(s.principal, json::serialize(json::object{{"field", "hieu_truong"}, {"pin", a.pin("HIEU-TRUONG")}, {"seal_pin", "1"}})).status, 400);
  EXPECT_EQ(post(s.principal, night(a, {{"field", "hieu_truong"}})).status, 400);
  EXPECT_EQ(a.json("GET", "/api/v1/jobs", s.admin).at("jobs").as_array().size(), 0u);
  // The records wait for the teacher: nothing to sign yet.
  EXPECT_EQ(post(s.principal, night(a)).status, 404);
}

// The largest count of wrong PINs the test module saw on one token since its last right one.
long long most_fails(const SlowToken& t) {
  std::string text = read_text(t.state);
  long long most = 0;
  std::smatch m;
  for (auto it = text.cbegin(); std::regex_search(it, text.cend(), m, std::regex(R"(fails\.[^=\n]+=(\d+))")); it = m.suffix().first)
    most = std::max(most, std::stoll(m[1]));
  return most;
}

TEST(Night, AWrongSealPinFailsTheJobOnceAndNeverLocksTheSeal) {
  ASSERT_TRUE(std::filesystem::exists(HOCBA_P11TEST_MODULE)) << "target hocba_p11test is not built";
  SlowToken token(20, "max_pin_tries=3\n");
  Appliance a(token.options(R"(["gvcn", "hieu_truong", "con_dau"])"));
  School s(a);
  ASSERT_EQ(state(s.run(s.teacher, "gvcn", {{"pin", a.pin("GVCN-3A")}})), "done");

  std::int64_t id = start_night(s, night(a, {{"seal_pin", "999999"}}));
  auto j = a.wait_job(s.principal, id);
  EXPECT_EQ(state(j), "failed") << json::serialize(j);
  EXPECT_EQ(j.at("reason_code").as_string(), "pin_incorrect") << json::serialize(j);
  EXPECT_NE(j.at("reason").as_string().find("con_dau"), std::string::npos) << json::serialize(j);
  EXPECT_EQ(j.at("failed").as_int64(), 0);  // no record is blamed for the PIN
  EXPECT_EQ(j.at("steps").as_array()[1].at("done").as_int64(), 0) << json::serialize(j);
  // One wrong PIN reached the token, and no more after the job stopped.
  EXPECT_EQ(most_fails(token), 1);
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  EXPECT_EQ(most_fails(token), 1);
  auto seal = token_status(a, s.admin, "CON-DAU");
  EXPECT_FALSE(seal.at("pin_locked").as_bool()) << json::serialize(seal);
  for (auto& [rid, f] : signature_fields(s)) EXPECT_LE(f.size(), 2u) << "record " << rid << " was sealed";

  // Resumed with the right PINs (both; the seal's risk confirmed, it saw a wrong PIN), it finishes.
  EXPECT_EQ(a.call("POST", "/api/v1/jobs/" + std::to_string(id) + "/resume", s.principal,
                   json::serialize(json::object{{"pin", a.pin("HIEU-TRUONG")}}))
                .status,
            400);
  a.json("POST", "/api/v1/jobs/" + std::to_string(id) + "/resume", s.principal, night(a, {{"seal_confirm_pin_risk", true}}), 202);
  j = a.wait_job(s.principal, id);
  EXPECT_EQ(state(j), "done") << json::serialize(j);
  EXPECT_EQ(j.at("done").as_int64(), 35);
  for (auto& [rid, f] : signature_fields(s)) EXPECT_EQ(f, kAllThree) << "record " << rid;
  EXPECT_EQ(most_fails(token), 0);  // the right PIN reset the count
}

TEST(Night, PauseResumeAndCancelThePrincipalsNight) {
  ASSERT_TRUE(std::filesystem::exists(HOCBA_P11TEST_MODULE)) << "target hocba_p11test is not built";
  SlowToken token(100);
  Appliance a(token.options(R"(["gvcn", "hieu_truong", "con_dau"])"));
  School s(a);
  ASSERT_EQ(state(s.run(s.teacher, "gvcn", {{"pin", a.pin("GVCN-3A")}})), "done");

  // Cancelled mid-way: some records sealed, some with the principal's signature only, the rest none.
  std::int64_t first = start_night(s, night(a));
  auto running = wait_state(a, s.principal, first, "running");
  std::this_thread::sleep_for(std::chrono::milliseconds(900));
  ASSERT_EQ(s.cancel(s.principal, first).status, 202);
  auto cancelled = wait_state(a, s.principal, first, "cancelled");
  ASSERT_EQ(state(cancelled), "cancelled") << json::serialize(cancelled);
  std::int64_t sealed = cancelled.at("steps").as_array()[1].at("done").as_int64();
  EXPECT_LT(sealed, 35) << json::serialize(cancelled);
  EXPECT_EQ(sealed, cancelled.at("done").as_int64());
  EXPECT_EQ(a.call("POST", "/api/v1/jobs/" + std::to_string(first) + "/resume", s.principal, night(a)).status, 409);
  std::size_t half = 0, whole = 0;
  for (auto& [rid, f] : signature_fields(s)) {
    half += f.size() == 2;
    whole += f.size() == 3;
  }
  EXPECT_EQ(static_cast<std::int64_t>(whole), sealed);

  // A new night takes the rest: the records waiting for the seal only, and those waiting for both.
  std::int64_t second = start_night(s, night(a));
  auto j = a.json("GET", "/api/v1/jobs/" + std::to_string(second), s.principal).as_object();
  EXPECT_EQ(j.at("total").as_int64(), 35 - sealed) << json::serialize(j);
  // Paused: it stops after the signatures on the tokens; nothing moves until it is resumed.
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  a.json("POST", "/api/v1/jobs/" + std::to_string(second) + "/pause", s.principal, "{}", 202);
  auto paused = wait_state(a, s.principal, second, "paused");
  ASSERT_EQ(state(paused), "paused") << json::serialize(paused);
  EXPECT_EQ(paused.at("reason_code").as_string(), "paused");
  std::this_thread::sleep_for(std::chrono::milliseconds(400));
  auto still = a.json("GET", "/api/v1/jobs/" + std::to_string(second), s.principal).as_object();
  EXPECT_EQ(json::serialize(still.at("steps")), json::serialize(paused.at("steps")));  // really stopped
  // Resuming takes both PINs again.
  EXPECT_EQ(a.call("POST", "/api/v1/jobs/" + std::to_string(second) + "/resume", s.principal,
                   json::serialize(json::object{{"pin", a.pin("HIEU-TRUONG")}}))
                .status,
            400);
  EXPECT_EQ(a.call("POST", "/api/v1/jobs/" + std::to_string(second) + "/resume", s.principal, "{}").status, 400);
  a.json("POST", "/api/v1/jobs/" + std::to_string(second) + "/resume", s.principal, night(a), 202);
  auto done = a.wait_job(s.principal, second);
  EXPECT_EQ(state(done), "done") << json::serialize(done);
  EXPECT_EQ(done.at("done").as_int64(), 35 - sealed);
  // Each record once per step, in order.
  for (auto& [rid, f] : signature_fields(s)) EXPECT_EQ(f, kAllThree) << "record " << rid;
  (void)running;
  (void)half;
}

TEST(Night, WithASealedSealPinThePrincipalGivesOnlyTheirOwnPin) {
  TempDir pins;
  Appliance a(sealed_seal(pins));
  School s(a);
  ASSERT_EQ(state(s.run(s.teacher, "gvcn", {{"pin", a.pin("GVCN-3A")}})), "done");
  // No seal PIN (not even the right one) and no confirmation of the seal's PIN risk.
  for (json::object extra : {json::object{}, json::object{{"seal_pin", "333333"}}}) {
    auto r = a.call("POST", "/api/v1/jobs", s.principal, night(a, extra));
    EXPECT_EQ(r.status, 400) << r.body;
    EXPECT_NE(r.body.find("sealed"), std::string::npos) << r.body;
  }
  json::object own_only{{"steps", json::array{"hieu_truong", "con_dau"}}, {"pin", a.pin("HIEU-TRUONG")}};
  auto confirm = own_only;
  confirm["seal_confirm_pin_risk"] = true;
  EXPECT_EQ(a.call("POST", "/api/v1/jobs", s.principal, json::serialize(confirm)).status, 400);
  std::int64_t id = start_night(s, json::serialize(own_only));
  auto j = a.wait_job(s.principal, id);
  EXPECT_EQ(state(j), "done") << json::serialize(j);
  EXPECT_EQ(j.at("done").as_int64(), 35);
  for (auto& [rid, f] : signature_fields(s)) EXPECT_EQ(f, kAllThree) << "record " << rid;
  auto tok = token_status(a, s.admin, "CON-DAU");
  EXPECT_FALSE(tok.at("pin_count_low").as_bool()) << json::serialize(tok);
}

}  // namespace
}  // namespace hocba::test
