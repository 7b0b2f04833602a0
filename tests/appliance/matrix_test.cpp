// Every route App serves, called over HTTPS by every caller (anonymous and one user of each role),
// with path parameters filled with real ids of objects the caller owns and a plausible body:
// anonymous on a route that needs a login gets 401, a role the route does not list gets 403, a role it
// lists never does (whatever else it answers). The routes come from App::routes() of an App built
// in-process, so routes added later (the CSC API, the web UI) are covered without editing this file.
// Then what roles cannot express: a homeroom teacher does not reach another class's records, another
// user's key or another user's job (403).
#include <gtest/gtest.h>

#include <algorithm>
#include <boost/json.hpp>
#include <cstdlib>
#include <iomanip>
#include <iostream>
#include <map>
#include <sstream>

#include "appliance.h"
#include "hocba/api/app.h"
#include "hocba/hsm/hsm.h"

namespace hocba::test {
namespace {

namespace json = boost::json;

std::string samples(const std::string& name) { return std::string(HOCBA_TEST_DATA) + "/samples/" + name; }


std::string ids(std::int64_t id) { return std::to_string(id); }

// The student object of `personal_id` in a sample class file.
json::object student_of(const std::string& sample, const std::string& personal_id) {
  auto cls = json::parse(read_text(samples(sample))).as_object();
  for (auto& s : cls.at("students").as_array())
    if (s.at("personal_id").as_string() == personal_id) return s.as_object();
  throw std::runtime_error("no student " + personal_id + " in " + sample);
}

// The school the matrix runs against: one user per role, a second homeroom teacher, keys, classes,
// signed records, corrections and jobs, each made the way a school would make them.
struct World {
  Appliance& a;
  // Users: the username of each caller role; the second homeroom teacher.
  std::map<std::string, std::string> user = {{"admin", "admin"},
                                             {"principal", "hieutruong"},
                                             {"deputy_principal", "pho"},
                                             {"homeroom_teacher", "gvcn.3a"},
                                             {"subject_teacher", "gvbm.toan"},
                                             {"viewer", "vanthu"}};
  std::string other = "gvcn.5a";  // homeroom teacher of 5A (and of 11A)
  std::map<std::string, std::string> token;  // per caller role
  std::string admin, teacher, principal, other_token;
  std::int64_t class3a = 0, class5a = 0, class8a = 0, class11a = 0;
  std::vector<std::int64_t> r3, r5;  // record ids of 3A and 5A
  std::int64_t key_teacher = 0, key_principal = 0, key_seal = 0, key_other = 0;
  std::int64_t spare_user = 0;
  std::map<std::string, std::int64_t> user_id;  // by username
  std::int64_t corr_approve = 0, corr_reject = 0;
  std::int64_t job_teacher = 0, job_principal = 0, job_other = 0, job_deputy = 0;

  explicit World(Appliance& app) : a(app) {
    for (auto& [role, name] : user) a.add_user(name, role);
    a.add_user(other, "homeroom_teacher");
    a.add_user("spare", "viewer");
    admin = a.login("admin");
    key_teacher = a.bind_key(admin, "pkcs11:token=GVCN-3A;object=gvcn-3a", "gvcn.3a");
    key_principal = a.bind_key(admin, "pkcs11:token=HIEU-TRUONG;object=hieu-truong", "hieutruong");
    key_seal = a.bind_key(admin, "pkcs11:token=CON-DAU;object=con-dau", "");
    class3a = import("primary-3A.json");
    class5a = import("primary-5A.json");
    // 8A and 11A are where the jobs run, so that 3A and 5A keep drafts for the calls below.
    class8a = import("thcs-8A.json");
    class11a = import("thpt-11A.json");
    // They are secondary classes: the subject teacher (here one for every subject) confirms the
    // scores first, with the key the other homeroom teacher gets afterwards.
    std::int64_t key_gvbm = a.bind_key(admin, "pkcs11:token=CON-DAU;object=con-dau-p384", user["subject_teacher"]);
    for (auto [cls, sample] : {std::pair{class8a, "thcs-8A.json"}, std::pair{class11a, "thpt-11A.json"}})
      for (const std::string& subject : subjects_of(sample))
        a.json("PUT", "/api/v1/classes/" + ids(cls) + "/teachers", admin,
               json::serialize(json::object{{"subject", subject}, {"username", user["subject_teacher"]}}));
    auto confirmed = a.json("POST", "/api/v1/sheets/confirm", a.login(user["subject_teacher"]),
                            json::serialize(json::object{{"pin", a.pin("CON-DAU")}}));
    if (confirmed.at("confirmed").as_int64() < 2) throw std::runtime_error("set-up: sheets not confirmed: " + json::serialize(confirmed));
    a.json("DELETE", "/api/v1/keys/" + ids(key_gvbm), admin);
    key_other = a.bind_key(admin, "pkcs11:token=CON-DAU;object=con-dau-p384", other);
    a.json("PUT", "/api/v1/classes/" + ids(class8a) + "/homeroom", admin, R"({"username":"gvcn.3a"})");
    a.json("PUT", "/api/v1/classes/" + ids(class11a) + "/homeroom", admin, R"({"username":"gvcn.5a"})");
    r3 = records(class3a);
    r5 = records(class5a);
    auto users = a.json("GET", "/api/v1/users", admin);
    for (auto& u : users.at("users").as_array()) {
      if (u.at("username").as_string() == "spare") spare_user = u.at("id").as_int64();
      user_id[std::string(u.at("username").as_string())] = u.at("id").as_int64();
    }
    for (auto& [role, name] : user) token[role] = a.login(name);
    teacher = token["homeroom_teacher"];
    principal = token["principal"];
    other_token = a.login(other);

    // 3A records 0-5 get the homeroom teacher's signature (the principal signs next; corrections
    // are asked for signed records); 2 and 3 get corrections the admin decides in the matrix.
    for (int i = 0; i <= 5; ++i) sign(teacher, r3[i], a.pin("GVCN-3A"));
    corr_approve = correction(teacher, r3[2]);
    corr_reject = correction(teacher, r3[3]);
    // A finished job of each signer: the teacher's on 8A, the principal's on 8A, the other teacher's on 11A.
    job_teacher = job(teacher, "gvcn", class8a, a.pin("GVCN-3A"));
    job_principal = job(principal, "hieu_truong", class8a, a.pin("HIEU-TRUONG"));
    job_other = job(other_token, "gvcn", class11a, a.pin("CON-DAU"));
    // The deputy principal signs 11A in the principal's place with the principal's token for a while.
    a.json("DELETE", "/api/v1/keys/" + ids(key_principal), admin);
    std::int64_t key_deputy = a.bind_key(admin, "pkcs11:token=HIEU-TRUONG;object=hieu-truong", user["deputy_principal"]);
    job_deputy = job(token["deputy_principal"], "hieu_truong", class11a, a.pin("HIEU-TRUONG"));
    a.json("DELETE", "/api/v1/keys/" + ids(key_deputy), admin);
    key_principal = a.bind_key(admin, "pkcs11:token=HIEU-TRUONG;object=hieu-truong", "hieutruong");
  }

  // The subjects a class file's students take.
  static std::vector<std::string> subjects_of(const std::string& sample) {
    json::value cf = json::parse(read_text(samples(sample)));
    std::vector<std::string> out;
    for (auto& st : cf.at("students").as_array())
      for (auto& sub : st.at("secondary").at("subjects").as_array()) {
        std::string name(sub.at("subject").as_string());
        if (std::find(out.begin(), out.end(), name) == out.end()) out.push_back(name);
      }
    return out;
  }

  std::int64_t import(const std::string& sample) {
    return a.json("POST", "/api/v1/classes", admin, read_text(samples(sample)), 201).at("class_id").as_int64();
  }
  std::vector<std::int64_t> records(std::int64_t class_id) {
    std::vector<std::int64_t> out;
    auto cls = a.json("GET", "/api/v1/classes/" + ids(class_id), admin);
    for (auto& r : cls.at("records").as_array()) out.push_back(r.at("id").as_int64());
    return out;
  }
  void sign(const std::string& tok, std::int64_t record, const std::string& pin) {
    a.json("POST", "/api/v1/records/" + ids(record) + "/sign", tok, json::serialize(json::object{{"pin", pin}}));
  }
  std::string correction_body(std::int64_t record) {
    auto rec = a.json("GET", "/api/v1/records/" + ids(record), admin).as_object();
    std::string sample = rec.at("class").as_string() == "5A" ? "primary-5A.json" : "primary-3A.json";
    json::object student = student_of(sample, std::string(rec.at("personal_id").as_string()));
    student["primary"].as_object()["homeroom_comment"] = "Em chăm ngoan, tiến bộ trong học kỳ II.";
    return json::serialize(json::object{{"student", student}, {"why", "Sửa nhận xét cuối năm"}});
  }
  std::int64_t correction(const std::string& tok, std::int64_t record) {
    return a.json("POST", "/api/v1/records/" + ids(record) + "/corrections", tok, correction_body(record), 201).at("id").as_int64();
  }
  std::int64_t job(const std::string& tok, const std::string& field, std::int64_t class_id, const std::string& pin) {
    json::object b{{"field", field}, {"class_id", class_id}, {"pin", pin}};
    auto id = a.json("POST", "/api/v1/jobs", tok, json::serialize(b), 202).at("id").as_int64();
    auto j = a.wait_job(tok, id);
    if (j.at("state").as_string() != "done") throw std::runtime_error("set-up job did not finish: " + json::serialize(j));
    return id;
  }
};

struct Call {
  std::string path;
  std::string body;
  std::string token;         // "" for anonymous
  bool fresh_token = false;  // the call ends the session it is made with: a session of its own
  std::vector<std::pair<std::string, std::string>> headers;
};

std::string base64(const std::string& in) {
  static const char* abc = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  for (std::size_t i = 0; i < in.size(); i += 3) {
    unsigned v = static_cast<unsigned char>(in[i]) << 16;
    if (i + 1 < in.size()) v |= static_cast<unsigned char>(in[i + 1]) << 8;
    if (i + 2 < in.size()) v |= static_cast<unsigned char>(in[i + 2]);
    out += abc[(v >> 18) & 63];
    out += abc[(v >> 12) & 63];
    out += i + 1 < in.size() ? abc[(v >> 6) & 63] : '=';
    out += i + 2 < in.size() ? abc[v & 63] : '=';
  }
  return out;
}

const std::vector<std::string> kCallers = {"anonymous", "admin", "principal", "deputy_principal", "homeroom_teacher", "subject_teacher", "viewer"};

// The call `caller` makes for `route`: path parameters filled with ids of objects the caller may act
// on (their own class, record, job), and a body the route understands.
Call make_call(World& w, const api::RouteInfo& route, const std::string& caller) {
  Appliance& a = w.a;
  bool teacher = caller == "homeroom_teacher";
  std::string key = route.method + " " + route.pattern;
  Call c;
  c.token = caller == "anonymous" ? "" : w.token.at(caller);
  // Path parameters, by the collection they follow.
  std::string out;
  std::string prev;
  std::stringstream ps(route.pattern);
  for (std::string seg; std::getline(ps, seg, '/');) {
    if (seg.empty()) continue;
    std::string v = seg;
    if (seg.size() > 2 && seg.front() == '{' && seg.back() == '}') {
      if (prev == "records") {
        if (key == "POST /api/v1/records/{id}/sign") v = ids(teacher ? w.r3[10] : w.r3[1]);  // a draft / gvcn signed
        else if (key == "POST /api/v1/records/{id}/corrections") v = ids(teacher ? w.r3[4] : w.r3[5]);
        else v = ids(w.r3[0]);
      } else if (prev == "classes") {
        v = ids(w.class3a);
      } else if (prev == "jobs") {
        v = ids(teacher ? w.job_teacher : caller == "deputy_principal" ? w.job_deputy : w.job_principal);
      } else if (prev == "keys") {
        v = ids(w.key_other);
      } else if (prev == "users" && key.find("/signature-image") != std::string::npos) {
        v = ids(caller == "anonymous" ? w.spare_user : w.user_id.at(w.user.at(caller)));  // one's own image
      } else if (prev == "users") {
        v = ids(w.spare_user);
      } else if (prev == "corrections") {
        v = ids(key.find("/reject") != std::string::npos ? w.corr_reject : w.corr_approve);
      } else if (prev == "static") {
        v = "main.js";
      } else {
        v = "1";  // a route this test does not know yet: its role checks still apply
      }
    }
    out += "/" + v;
    prev = seg;
  }
  c.path = out.empty() ? "/" : out;
  // Bodies.
  std::string user = caller == "anonymous" ? "vanthu" : w.user.at(caller);
  if (key == "POST /api/v1/auth/login") c.body = R"({"username":"vanthu","password":"password-vanthu"})";
  else if (key == "POST /api/v1/auth/logout") c.fresh_token = true;
  else if (key == "POST /api/v1/me/password") {
    c.body = json::serialize(json::object{{"old_password", "password-" + user}, {"new_password", "password-" + user}});
    c.fresh_token = true;  // a new password ends every session of the account
  } else if (key == "POST /api/v1/me/totp")
    c.body = json::serialize(json::object{{"password", "password-" + user}});  // the first step: a new secret
  else if (key == "POST /api/v1/users")
    c.body = R"({"username":"new.user","display_name":"Người mới","role":"viewer","password":"password-new.user"})";
  else if (key == "PATCH /api/v1/users/{id}") c.body = R"({"display_name":"Tài khoản dự phòng"})";
  else if (key == "POST /api/v1/keys") c.body = R"({"uri":"pkcs11:token=CON-DAU;object=con-dau-p384","username":"spare"})";
  else if (key == "POST /api/v1/classes") c.body = read_text(samples("primary-5A.json"));
  else if (key == "PUT /api/v1/classes/{id}/homeroom") c.body = R"({"username":"gvcn.3a"})";
  else if (key == "POST /api/v1/records/{id}/sign")
    // The principal signs record 1 (hieu_truong); the deputy then applies the seal to it.
    c.body = json::serialize(json::object{{"pin", a.pin(teacher ? "GVCN-3A" : caller == "deputy_principal" ? "CON-DAU" : "HIEU-TRUONG")}});
  else if (key == "POST /api/v1/records/{id}/corrections") c.body = w.correction_body(teacher ? w.r3[4] : w.r3[5]);
  else if (key == "POST /api/v1/corrections/{id}/approve" || key == "POST /api/v1/corrections/{id}/reject")
    c.body = R"({"note":"đã kiểm tra"})";
  else if (key == "POST /api/v1/jobs")
    c.body = json::serialize(json::object{{"field", teacher ? "gvcn" : "hieu_truong"}, {"class_id", w.class8a},
                                          {"pin", a.pin(teacher ? "GVCN-3A" : "HIEU-TRUONG")}});
  else if (key == "POST /api/v1/jobs/{id}/resume") c.body = json::serialize(json::object{{"pin", a.pin(teacher ? "GVCN-3A" : "HIEU-TRUONG")}});
  else if (key == "PUT /api/v1/users/{id}/signature-image" || key == "PUT /api/v1/seal-image") {
    c.body = read_text(std::string(HOCBA_TEST_DATA) + (key.find("seal") != std::string::npos ? "/images/seal.png" : "/images/signature.png"));
    c.headers = {{"Content-Type", "image/png"}};
  } else if (key.starts_with("POST /csc/") && key.ends_with("/auth/login")) {
    c.token.clear();  // HTTP Basic instead of a session
    c.headers = {{"Authorization", "Basic " + base64("vanthu:password-vanthu")}};
    c.body = "{}";
  } else if (key.starts_with("POST /csc/") && key.ends_with("/auth/revoke")) {
    c.body = "{}";  // revokes the session it is made with
    c.fresh_token = true;
  } else if (key.starts_with("POST /csc/") && key.ends_with("/credentials/info") &&
             (caller == "principal" || teacher))
    c.body = json::serialize(json::object{{"credentialID", "key-" + ids(teacher ? w.key_teacher : w.key_principal)}});
  else if (route.method == "POST" || route.method == "PUT" || route.method == "PATCH")
    c.body = "{}";
  if (c.fresh_token && caller != "anonymous") c.token = a.login(user);
  return c;
}

bool lists(const api::RouteInfo& r, const std::string& role) { return std::count(r.roles.begin(), r.roles.end(), role) > 0; }

// What the caller must (not) get: "401", "403" or "ok" (anything but 401 and 403).
std::string expected(const api::RouteInfo& r, const std::string& caller) {
  if (lists(r, "anonymous")) return "ok";
  if (caller == "anonymous") return "401";
  return lists(r, caller) ? "ok" : "403";
}

bool meets(int status, const std::string& want) {
  if (want == "ok") return status != 401 && status != 403;
  return std::to_string(status) == want;
}

TEST(Matrix, EveryRouteAsEveryRole) {
  auto routes = served_routes();
  ASSERT_GE(routes.size(), 30u);
  Appliance a;
  World w(a);

  struct Cell {
    int status = 0;
    std::string want, body;
  };
  std::vector<std::vector<Cell>> cells(routes.size(), std::vector<Cell>(kCallers.size()));
  int wrong = 0, server_errors = 0;
  for (std::size_t i = 0; i < routes.size(); ++i)
    for (std::size_t j = 0; j < kCallers.size(); ++j) {
      const std::string& caller = kCallers[j];
      Call c = make_call(w, routes[i], caller);
      auto r = a.call(routes[i].method, c.path, c.token, c.body, c.headers);
      if (caller != "anonymous" && routes[i].method + " " + routes[i].pattern == "POST /api/v1/me/password") {
        w.token[caller] = a.login(w.user.at(caller));  // the password change ended the old session too
        if (caller == "admin") w.admin = w.token[caller];
      }
      Cell& cell = cells[i][j];
      cell.status = r.status;
      cell.want = expected(routes[i], caller);
      cell.body = r.body.substr(0, 160);
      if (!meets(r.status, cell.want)) {
        ++wrong;
        std::string roles;
        for (auto& role : routes[i].roles) roles += (roles.empty() ? "" : ",") + role;
        ADD_FAILURE() << caller << ": " << routes[i].method << " " << c.path << " (" << routes[i].pattern << ", roles " << roles
                      << ") got " << r.status << ", expected " << cell.want << ": " << cell.body;
      }
      server_errors += r.status >= 500;
    }

  // The table: one row per route, one column per caller; '!' marks a status that breaks the rule.
  if (HasFailure() || std::getenv("HOCBA_PRINT_MATRIX")) {
    std::ostringstream t;
    t << std::left << std::setw(46) << "route" << " ";
    for (auto& c : kCallers) t << std::setw(17) << c;
    t << "\n";
    for (std::size_t i = 0; i < routes.size(); ++i) {
      t << std::setw(46) << (routes[i].method + " " + routes[i].pattern).substr(0, 46) << " ";
      for (std::size_t j = 0; j < kCallers.size(); ++j) {
        const Cell& cell = cells[i][j];
        std::string s = std::to_string(cell.status) + (meets(cell.status, cell.want) ? "" : "!");
        t << std::setw(17) << s;
      }
      t << "\n";
    }
    std::cout << "Route x caller status matrix (" << routes.size() << " routes, " << wrong << " wrong, " << server_errors
              << " 5xx):\n"
              << t.str();
  }
  EXPECT_EQ(wrong, 0);
}

TEST(Matrix, AHomeroomTeacherStaysInTheirClassKeysAndJobs) {
  Appliance a;
  World w(a);
  struct Check {
    std::string what, method, path, token, body;
  };
  std::string foreign = ids(w.r3[20]);  // a draft of 3A: not gvcn.5a's class
  std::string own = ids(w.r5[0]);       // a draft of 5A: gvcn.5a's class
  std::string jt = ids(w.job_teacher);
  std::vector<Check> checks = {
      {"sign a record of another class", "POST", "/api/v1/records/" + foreign + "/sign", w.other_token,
       json::serialize(json::object{{"pin", a.pin("CON-DAU")}})},
      {"see a record of another class", "GET", "/api/v1/records/" + foreign, w.other_token, ""},
      {"download a record of another class", "GET", "/api/v1/records/" + foreign + "/pdf", w.other_token, ""},
      {"see another class", "GET", "/api/v1/classes/" + ids(w.class3a), w.other_token, ""},
      {"ask to correct a record of another class", "POST", "/api/v1/records/" + ids(w.r3[0]) + "/corrections", w.other_token,
       w.correction_body(w.r3[0])},
      {"sign with another user's key", "POST", "/api/v1/records/" + own + "/sign", w.other_token,
       json::serialize(json::object{{"pin", a.pin("GVCN-3A")}, {"key_id", w.key_teacher}})},
      {"start a job with another user's key", "POST", "/api/v1/jobs", w.other_token,
       json::serialize(json::object{{"field", "gvcn"}, {"class_id", w.class5a}, {"pin", a.pin("GVCN-3A")}, {"key_id", w.key_teacher}})},
      {"principal: sign with the teacher's key", "POST", "/api/v1/records/" + ids(w.r3[1]) + "/sign", w.principal,
       json::serialize(json::object{{"pin", a.pin("GVCN-3A")}, {"field", "hieu_truong"}, {"key_id", w.key_teacher}})},
      {"principal: sign the homeroom teacher's field", "POST", "/api/v1/records/" + foreign + "/sign", w.principal,
       json::serialize(json::object{{"pin", a.pin("HIEU-TRUONG")}, {"field", "gvcn"}})},
      {"resume another user's job", "POST", "/api/v1/jobs/" + jt + "/resume", w.other_token,
       json::serialize(json::object{{"pin", a.pin("GVCN-3A")}})},
      {"principal: resume the teacher's job", "POST", "/api/v1/jobs/" + jt + "/resume", w.principal,
       json::serialize(json::object{{"pin", a.pin("GVCN-3A")}})},
      {"pause another user's job", "POST", "/api/v1/jobs/" + jt + "/pause", w.other_token, "{}"},
      {"cancel another user's job", "POST", "/api/v1/jobs/" + jt + "/cancel", w.other_token, "{}"},
      {"see another user's job", "GET", "/api/v1/jobs/" + jt, w.other_token, ""},
  };
  std::ostringstream table;
  for (auto& c : checks) {
    auto r = a.call(c.method, c.path, c.token, c.body);
    table << "  " << std::left << std::setw(48) << c.what << r.status << "  " << r.body.substr(0, 140) << "\n";
    EXPECT_EQ(r.status, 403) << c.what << ": " << c.method << " " << c.path << " -> " << r.body;
  }
  // Nothing was signed by those attempts.
  for (auto id : {w.r3[20], w.r5[0], w.r3[1]}) {
    auto rec = a.json("GET", "/api/v1/records/" + ids(id), w.admin);
    EXPECT_EQ(rec.at("steps_done").as_int64(), id == w.r3[1] ? 1 : 0) << json::serialize(rec);
  }
  // The same teacher reaches their own class, key and job (the refusals above are about ownership).
  EXPECT_EQ(a.call("GET", "/api/v1/records/" + own, w.other_token).status, 200);
  EXPECT_EQ(a.call("GET", "/api/v1/records/" + own + "/pdf", w.other_token).status, 200);
  EXPECT_EQ(a.call("GET", "/api/v1/jobs/" + ids(w.job_other), w.other_token).status, 200);
  auto mine = a.call("POST", "/api/v1/records/" + own + "/sign", w.other_token,
                     json::serialize(json::object{{"pin", a.pin("CON-DAU")}, {"key_id", w.key_other}}));
  EXPECT_EQ(mine.status, 200) << mine.body;
  if (HasFailure() || std::getenv("HOCBA_PRINT_MATRIX")) std::cout << "Object-level checks (expected 403 each):\n" << table.str();
}

}  // namespace
}  // namespace hocba::test
