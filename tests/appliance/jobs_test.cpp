// Batch jobs that fail, and what a school can then do (cancel them, start a new one); job threads and
// metric series that end with their job; a sealed seal PIN that no request can replace with a guess.
// hocbad on 127.0.0.1 with the SoftHSM2 test tokens.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <chrono>
#include <thread>

#include "appliance.h"

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

}  // namespace
}  // namespace hocba::test
