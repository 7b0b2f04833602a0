// Classes, records and their signing workflow: import and render drafts, sign one record, corrections.
#include <openssl/cms.h>
#include <sodium.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "app_internal.h"
#include "hocba/common/bytes.h"
#include "hocba/pdf/record.h"
#include "hocba/common/ossl.h"
#include "hocba/pdf/render.h"
#include "hocba/pdf/signing.h"
#include "hocba/signer/pades.h"
#include "hocba/signer/timestamp.h"

namespace hocba::api {
namespace {

json::array problems_json(const std::vector<pdf::Problem>& ps) {
  json::array a;
  for (auto& p : ps)
    a.push_back(json::object{{"path", p.path}, {"student_name", p.student_name}, {"personal_id", p.student_id},
                             {"message", p.message}, {"text", p.to_string()}});
  return a;
}

constexpr const char* kRecordCols =
    "r.id, r.class_id, r.personal_id, r.student_name, r.version, r.state, r.steps_done, r.pdf_sha256, r.error, "
    "r.superseded_by, r.updated_at, c.name, c.school_year, json_extract(c.source_json, '$.level')";

// The step a record waits for: its level's record steps after the `done` first; null when none.
json::value next_step_json(const workflow::Chain& chain, const std::string& level, std::int64_t done, const std::string& state) {
  const auto& steps = chain.record_steps(level);
  if (state == "failed" || state == "superseded" || done < 0 || done >= static_cast<std::int64_t>(steps.size())) return nullptr;
  return json::value(steps[static_cast<std::size_t>(done)]);
}

}  // namespace

std::vector<std::string> with_admin(std::vector<std::string> roles) {
  if (std::find(roles.begin(), roles.end(), "admin") == roles.end()) roles.insert(roles.begin(), "admin");
  return roles;
}

json::object chain_json(const workflow::Chain& chain, std::string_view role) {
  auto names = [](const std::vector<std::string>& v) {
    json::array a;
    for (const std::string& s : v) a.push_back(json::string(s));
    return a;
  };
  json::object levels, steps;
  for (std::string_view level : config::Config::Workflow::levels())
    levels[level] = json::object{{"record_steps", names(chain.record_steps(level))}, {"sheet_steps", names(chain.sheet_steps(level))}};
  for (const config::Step& s : chain.config().step_defs) {
    auto lines = [](const std::vector<std::string>& v) {
      json::array a;
      for (const std::string& l : v) a.push_back(json::string(l));
      return a;
    };
    steps[s.name] = json::object{{"role", s.role},
                                 {"substitutes", lines(s.substitutes)},
                                 {"seal", s.seal},
                                 {"scope", s.scope},
                                 {"title", lines(s.title_for(role))},
                                 {"label", s.label},
                                 {"verb", s.verb},
                                 {"done_label", s.done_label},
                                 {"waiting_label", s.waiting_label}};
  }
  std::vector<std::string> mine = chain.record_steps_for(role);
  for (const config::Step& s : chain.config().step_defs)
    if (s.scope == "class_subject" && s.may_sign(role)) mine.push_back(s.name);
  return json::object{{"levels", levels}, {"steps", steps}, {"record_fields", names(chain.record_fields())}, {"my_steps", names(mine)}};
}

std::vector<std::string> App::Impl::chain_signer_roles() const {
  std::vector<std::string> roles;
  for (std::string_view r : config::signing_roles())
    if (!wf.chain().record_steps_for(r).empty()) roles.emplace_back(r);
  return roles;
}

void App::Impl::add_workflow_routes() {
  const std::vector<std::string>& staff = kAllRoles;
  const std::vector<std::string> signers = chain_signer_roles();

  add("POST", "/api/v1/classes", {"admin"}, "import a class (hocba.class/v1) and render its drafts", [this](Ctx& c) {
    auto imp = wf.import_class(*c.caller, c.req.body);
    if (!imp) return from_error(imp.error());
    if (!imp->class_ok)
      return ok_json(json::object{{"error", json::object{{"code", "invalid_class"}, {"message", "the class file has errors"}}},
                                  {"errors", problems_json(imp->file.errors)}},
                     422);
    auto list = [](const std::vector<workflow::Workflow::ImportedRecord>& v, bool with_reason) {
      json::array a;
      for (const auto& r : v) {
        json::object o{{"personal_id", r.personal_id}, {"record_id", r.record_id}};
        if (r.replaced) o["replaced"] = true;
        if (with_reason) o["reason"] = r.reason;
        a.push_back(std::move(o));
      }
      return a;
    };
    json::object out{{"class_id", imp->class_id},
                     {"created", list(imp->created, false)},
                     {"kept", list(imp->kept, true)},
                     {"failed", list(imp->failed, true)},
                     {"errors", problems_json(imp->file.errors)},
                     {"warnings", problems_json(imp->file.warnings)}};
    if (!imp->sheets_error.empty()) out["sheets_error"] = imp->sheets_error;
    return ok_json(out, 201);
  });
  routes.back().info.max_body = static_cast<std::size_t>(opts.cfg.server.max_body_mb) << 20;  // the only large upload

  add("GET", "/api/v1/classes", staff, "list classes", [this](Ctx& c) {
    std::string sql =
        "SELECT c.id, c.school_year, c.name, u.username, u.display_name, "
        "(SELECT count(*) FROM records r WHERE r.class_id = c.id AND r.state != 'superseded'), "
        "(SELECT count(*) FROM records r WHERE r.class_id = c.id AND r.state = 'final') "
        "FROM classes c LEFT JOIN users u ON u.id = c.homeroom_user_id";
    std::vector<DbValue> params;
    if (c.caller->role == Role::homeroom_teacher) {
      sql += " WHERE c.homeroom_user_id = ?";
      params.push_back(c.caller->user_id);
    }
    auto rows = store.query(sql + " ORDER BY c.school_year DESC, c.name", params);
    if (!rows) return from_error(rows.error());
    json::array a;
    for (auto& r : *rows)
      a.push_back(json::object{{"id", as_int(r[0])},
                               {"school_year", as_text(r[1])},
                               {"name", as_text(r[2])},
                               {"homeroom", is_null(r[3]) ? json::value(nullptr) : json::value(as_text(r[3]))},
                               {"homeroom_name", as_text(r[4])},
                               {"records", as_int(r[5])},
                               {"final", as_int(r[6])}});
    return ok_json(json::object{{"classes", a}});
  });

  add("GET", "/api/v1/classes/{id}", staff, "see a class and its records", [this](Ctx& c) {
    std::int64_t id = param_id(c);
    auto cls = store.query("SELECT c.id, c.school_year, c.name, c.homeroom_user_id, u.username FROM classes c "
                           "LEFT JOIN users u ON u.id = c.homeroom_user_id WHERE c.id = ?",
                           {id});
    if (!cls) return from_error(cls.error());
    if (cls->empty()) return not_found("class");
    const DbRow& cr = cls->front();
    if (c.caller->role == Role::homeroom_teacher && as_int(cr[3]) != c.caller->user_id)
      return forbidden("you are not the homeroom teacher of this class");
    auto rows = store.query(std::string("SELECT ") + kRecordCols +
                                " FROM records r JOIN classes c ON c.id = r.class_id WHERE r.class_id = ? AND r.state != 'superseded' "
                                "ORDER BY r.student_name, r.personal_id",
                            {id});
    if (!rows) return from_error(rows.error());
    json::array recs;
    for (auto& r : *rows) {
      std::int64_t done = as_int(r[6]);
      recs.push_back(json::object{{"id", as_int(r[0])},
                                  {"personal_id", as_text(r[2])},
                                  {"student_name", as_text(r[3])},
                                  {"version", as_int(r[4])},
                                  {"state", as_text(r[5])},
                                  {"steps_done", done},
                                  {"next_step", next_step_json(wf.chain(), as_text(r[13]), done, as_text(r[5]))},
                                  {"error", as_text(r[8])}});
    }
    return ok_json(json::object{{"id", as_int(cr[0])},
                                {"school_year", as_text(cr[1])},
                                {"name", as_text(cr[2])},
                                {"homeroom", is_null(cr[4]) ? json::value(nullptr) : json::value(as_text(cr[4]))},
                                {"level", wf.class_level(id)},
                                {"sheets_waiting", wf.sheets_waiting(id)},
                                {"records", recs}});
  });

  add("PUT", "/api/v1/classes/{id}/homeroom", {"admin"}, "bind a class to its homeroom teacher", [this](Ctx& c) {
    std::int64_t id = param_id(c);
    auto o = parse_object(c.req.body);
    if (!o) return bad_request("expected {\"username\"}");
    if (auto st = store.set_homeroom(c.caller->actor(), id, str_field(*o, "username")); !st) return from_error(st.error());
    return ok_json(json::object{{"ok", true}});
  });

  auto record_json = [this](const DbRow& r) {
    std::int64_t done = as_int(r[6]);
    json::object o{{"id", as_int(r[0])},          {"class_id", as_int(r[1])},    {"personal_id", as_text(r[2])},
                   {"student_name", as_text(r[3])}, {"version", as_int(r[4])},   {"state", as_text(r[5])},
                   {"steps_done", done},           {"pdf_sha256", as_text(r[7])}, {"error", as_text(r[8])},
                   {"superseded_by", is_null(r[9]) ? json::value(nullptr) : json::value(as_int(r[9]))},
                   {"updated_at", as_text(r[10])}, {"class", as_text(r[11])},     {"school_year", as_text(r[12])}};
    o["next_step"] = next_step_json(wf.chain(), as_text(r[13]), done, as_text(r[5]));
    o["level"] = as_text(r[13]);
    return o;
  };

  // May the caller see this record? (Homeroom teachers see their classes only.)
  auto visible = [this](const Caller& c, std::int64_t class_id) {
    if (c.role != Role::homeroom_teacher) return true;
    auto rows = store.query("SELECT 1 FROM classes WHERE id = ? AND homeroom_user_id = ?", {class_id, c.user_id});
    return rows && !rows->empty();
  };

  add("GET", "/api/v1/records/{id}", staff, "see a record, its signatures and versions", [this, record_json, visible](Ctx& c) {
    std::int64_t id = param_id(c);
    auto rows = store.query(std::string("SELECT ") + kRecordCols + " FROM records r JOIN classes c ON c.id = r.class_id WHERE r.id = ?", {id});
    if (!rows) return from_error(rows.error());
    if (rows->empty()) return not_found("record");
    if (!visible(*c.caller, as_int(rows->front()[1]))) return forbidden("this record is not in your class");
    json::object o = record_json(rows->front());
    auto sigs = store.query("SELECT s.step, s.field, u.username, s.key_id, s.job_id, s.signed_at FROM signatures s "
                            "LEFT JOIN users u ON u.id = s.user_id WHERE s.record_id = ? ORDER BY s.step",
                            {id});
    json::array sa;
    if (sigs)
      for (auto& s : *sigs)
        sa.push_back(json::object{{"step", as_int(s[0])}, {"field", as_text(s[1])}, {"by", as_text(s[2])}, {"key_id", as_int(s[3])},
                                  {"job_id", is_null(s[4]) ? json::value(nullptr) : json::value(as_int(s[4]))}, {"at", as_text(s[5])}});
    o["signatures"] = std::move(sa);
    auto vers = store.query("SELECT id, version, state FROM records WHERE class_id = ? AND personal_id = ? ORDER BY version",
                            {as_int(rows->front()[1]), as_text(rows->front()[2])});
    json::array va;
    if (vers)
      for (auto& v : *vers) va.push_back(json::object{{"id", as_int(v[0])}, {"version", as_int(v[1])}, {"state", as_text(v[2])}});
    o["versions"] = std::move(va);
    auto data = store.query("SELECT student_json FROM records WHERE id = ?", {id});
    if (data && !data->empty())
      if (auto st = parse_object(as_text(data->front()[0]))) o["student"] = std::move(*st);
    return ok_json(o);
  });

  add("GET", "/api/v1/records/{id}/pdf", staff, "download a record's PDF", [this, visible](Ctx& c) {
    std::int64_t id = param_id(c);
    auto rows = store.query("SELECT class_id, personal_id, version, pdf_path, pdf_sha256 FROM records WHERE id = ?", {id});
    if (!rows) return from_error(rows.error());
    if (rows->empty() || is_null(rows->front()[3])) return not_found("record");
    if (!visible(*c.caller, as_int(rows->front()[0]))) return forbidden("this record is not in your class");
    auto b = read_file(wf.abs(as_text(rows->front()[3])));
    if (!b) return from_error(b.error());
    if (sha256_hex(*b) != as_text(rows->front()[4]))
      return HttpResponse::error(500, "integrity", "the record's file does not match the hash in the store; restore it from a backup");
    HttpResponse res = HttpResponse::text(200, std::string(b->begin(), b->end()), "application/pdf");
    res.headers.emplace_back("Content-Disposition", "inline; filename=\"" + as_text(rows->front()[1]) + "-v" +
                                                        as_text(rows->front()[2]) + ".pdf\"");
    return res;
  });

  add("POST", "/api/v1/records/{id}/sign", signers, "sign one record (its next signature)", [this](Ctx& c) {
    std::int64_t id = param_id(c);
    auto o = parse_object(c.req.body);
    if (!o) return bad_request("expected {\"pin\"[, \"field\", \"key_id\"]}");
    if (bad_int_field(*o, "key_id")) return bad_request("key_id must be a positive integer");
    auto pin = std::make_shared<Secret>(take_secret(*o, "pin"));
    auto rows = store.query("SELECT r.class_id, r.steps_done, r.state, json_extract(c.source_json, '$.level') FROM records r "
                            "JOIN classes c ON c.id = r.class_id WHERE r.id = ?",
                            {id});
    if (!rows) return from_error(rows.error());
    if (rows->empty()) return not_found("record");
    std::int64_t class_id = as_int(rows->front()[0]), done = as_int(rows->front()[1]);
    std::string field = str_field(*o, "field");
    const auto& steps = wf.chain().record_steps(as_text(rows->front()[3]));
    if (field.empty() && done < static_cast<std::int64_t>(steps.size())) field = steps[static_cast<std::size_t>(done)];
    if (field.empty()) return conflict("the record has every signature");
    if (std::string why = wf.may_sign(*c.caller, field, class_id); !why.empty()) return forbidden(why);
    auto key = wf.key_for(*c.caller, field, int_field(*o, "key_id"));
    if (!key) return from_error(key.error());
    if (std::string why = sealed_seal_refusal(field, *pin, &*o); !why.empty()) return bad_request(why);
    if (pin->empty() && wf.chain().is_seal(field) && opts.seal_pin) pin.reset();
    if (pin && pin->empty()) return bad_request("the token's PIN is required");
    Reservation held(wf, id);
    if (!held) return conflict("the record is being signed right now");
    const Secret* use_pin = pin ? pin.get() : &*opts.seal_pin;
    bool confirm = false;
    if (auto it = o->find("confirm_pin_risk"); it != o->end() && it->value().is_bool()) confirm = it->value().as_bool();
    Status st = wf.sign_record(id, field, *key, use_pin, *c.caller, 0, false, confirm);
    held = Reservation();
    if (!st) return from_error(st.error());
    auto r = store.query("SELECT state, steps_done, pdf_sha256 FROM records WHERE id = ?", {id});
    json::object out{{"record_id", id}, {"field", field}};
    if (r && !r->empty()) out["state"] = as_text(r->front()[0]), out["steps_done"] = as_int(r->front()[1]), out["pdf_sha256"] = as_text(r->front()[2]);
    return ok_json(out);
  });

  add("POST", "/api/v1/records/{id}/corrections", signers,
      "ask for a correction of a signed record (who, what, why)", [this, visible](Ctx& c) {
        std::int64_t id = param_id(c);
        auto o = parse_object(c.req.body);
        if (!o || !o->contains("student") || !(*o)["student"].is_object())
          return bad_request("expected {\"student\": {...the corrected student, hocba.class/v1...}, \"why\": \"...\"}");
        std::string why = str_field(*o, "why");
        if (why.size() < 5) return bad_request("say why the record must change (\"why\")");
        auto rows = store.query("SELECT class_id, state, steps_done FROM records WHERE id = ?", {id});
        if (!rows) return from_error(rows.error());
        if (rows->empty()) return not_found("record");
        if (!visible(*c.caller, as_int(rows->front()[0]))) return forbidden("this record is not in your class");
        if (as_text(rows->front()[1]) == "superseded") return conflict("this version is superseded; correct the newest one");
        std::int64_t cid = 0;
        Status st = store.transaction([&](Tx& tx) -> Status {
          auto pend = tx.query("SELECT id FROM corrections WHERE record_id = ? AND state = 'pending'", {id});
          if (!pend) return pend.error();
          if (!pend->empty()) return make_error(Errc::invalid_argument, "correction " + as_text(pend->front()[0]) + " is already waiting for the admin");
          auto ins = tx.exec("INSERT INTO corrections(record_id, requested_by, student_json, why, state, created_at) VALUES(?,?,?,?,'pending',?)",
                             {id, c.caller->user_id, json::serialize((*o)["student"]), why, now_iso()});
          if (!ins) return ins.error();
          cid = *ins;
          if (auto a = tx.audit(c.caller->actor(), "correction.request",
                                json::serialize(json::object{{"correction_id", cid}, {"record_id", id}, {"why", why}}));
              !a)
            return a.error();
          return {};
        });
        if (!st) return from_error(st.error());
        return ok_json(json::object{{"id", cid}, {"state", "pending"}}, 201);
      });

  add("GET", "/api/v1/corrections", with_admin(signers), "list corrections", [this](Ctx& c) {
    std::string sql =
        "SELECT k.id, k.record_id, u.username, k.why, k.state, k.note, k.new_record_id, k.created_at, r.student_name, r.personal_id, "
        "k.student_json, r.student_json FROM corrections k JOIN users u ON u.id = k.requested_by JOIN records r ON r.id = k.record_id";
    std::vector<DbValue> params;
    if (c.caller->role == Role::homeroom_teacher) {
      sql += " WHERE k.requested_by = ?";
      params.push_back(c.caller->user_id);
    }
    auto rows = store.query(sql + " ORDER BY k.id DESC", params);
    if (!rows) return from_error(rows.error());
    json::array a;
    for (auto& r : *rows)
      a.push_back(json::object{{"id", as_int(r[0])}, {"record_id", as_int(r[1])}, {"requested_by", as_text(r[2])}, {"why", as_text(r[3])},
                               {"state", as_text(r[4])}, {"note", as_text(r[5])},
                               {"new_record_id", is_null(r[6]) ? json::value(nullptr) : json::value(as_int(r[6]))},
                               {"created_at", as_text(r[7])}, {"student_name", as_text(r[8])}, {"personal_id", as_text(r[9])},
                               {"student", parse_object(as_text(r[10])).value_or(json::object{})},
                               {"current_student", parse_object(as_text(r[11])).value_or(json::object{})}});
    return ok_json(json::object{{"corrections", a}});
  });

  add("POST", "/api/v1/corrections/{id}/approve", {"admin"}, "approve a correction (a new version is rendered)", [this](Ctx& c) {
    std::int64_t id = param_id(c);
    auto o = parse_object(c.req.body.empty() ? "{}" : c.req.body);
    auto rows = store.query("SELECT k.record_id, k.student_json, k.state, r.class_id, r.personal_id, r.version, cl.source_json "
                            "FROM corrections k JOIN records r ON r.id = k.record_id JOIN classes cl ON cl.id = r.class_id WHERE k.id = ?",
                            {id});
    if (!rows) return from_error(rows.error());
    if (rows->empty()) return not_found("correction");
    const DbRow& r = rows->front();
    if (as_text(r[2]) != "pending") return conflict("this correction was already decided");
    // The corrected student in its class: the class file's header with this one student.
    auto cls = parse_object(as_text(r[6]));
    auto student = parse_object(as_text(r[1]));
    if (!cls || !student) return HttpResponse::error(500, "internal", "stored class or correction is not JSON");
    (*cls)["students"] = json::array{*student};
    auto parsed = pdf::parse_class(json::serialize(*cls));
    if (!parsed) return from_error(parsed.error());
    if (!parsed->errors.empty() || parsed->students.size() != 1)
      return ok_json(json::object{{"error", json::object{{"code", "invalid_correction"}, {"message", "the corrected record has errors"}}},
                                  {"errors", problems_json(parsed->errors)}},
                     422);
    const pdf::Student& s = parsed->students.front();
    if (s.personal_id != as_text(r[4])) return bad_request("a correction cannot change the personal ID; import the student anew");
    std::int64_t old_id = as_int(r[0]), class_id = as_int(r[3]), version = as_int(r[5]) + 1;
    Reservation held(wf, old_id);
    if (!held) return conflict("the record is being signed right now; approve after");
    std::string rel = wf.record_path(class_id, s.personal_id, version, 0);
    auto pdfb = pdf::render_record(parsed->info, s, wf.render_options(class_id));
    Status w = pdfb ? make_dirs_durable(std::filesystem::path(wf.abs(rel)).parent_path().string(), 0777) : Status(pdfb.error());
    if (w) w = write_file_atomic(wf.abs(rel), *pdfb, 0640);
    std::int64_t new_id = 0;
    bool already = false;
    if (w)
      w = store.transaction([&](Tx& tx) -> Status {
        auto ins = tx.exec("INSERT INTO records(class_id, personal_id, student_name, version, state, steps_done, student_json, pdf_path, "
                           "pdf_sha256, created_at, updated_at) VALUES(?,?,?,?,'draft',0,?,?,?,?,?)",
                           {class_id, s.personal_id, s.full_name, version, s.source_json, rel, sha256_hex(*pdfb), now_iso(), now_iso()});
        if (!ins) return ins.error();
        new_id = *ins;
        if (auto e = tx.exec("UPDATE records SET state = 'superseded', superseded_by = ?, updated_at = ? WHERE id = ?", {new_id, now_iso(), old_id}); !e)
          return e.error();
        if (auto e = tx.exec("UPDATE corrections SET state = 'approved', decided_by = ?, decided_at = ?, note = ?, new_record_id = ? "
                             "WHERE id = ? AND state = 'pending'",
                             {c.caller->user_id, now_iso(), o ? str_field(*o, "note") : std::string(), new_id, id});
            !e)
          return e.error();
        if (tx.changes() == 0) {
          already = true;  // a concurrent approval or rejection won
          return make_error(Errc::invalid_argument, "this correction was already decided");
        }
        if (auto a = tx.audit(c.caller->actor(), "correction.approve",
                              json::serialize(json::object{{"correction_id", id}, {"old_record_id", old_id}, {"new_record_id", new_id},
                                                           {"version", version}}));
            !a)
          return a.error();
        return {};
      });
    held = Reservation();
    if (already) return conflict("this correction was already decided");
    if (!w) return from_error(w.error());
    json::object out{{"id", id}, {"state", "approved"}, {"new_record_id", new_id}, {"version", version}};
    // A corrected score changes its subject's sheet: a new version for its teacher to confirm.
    if (auto sheets = wf.refresh_sheets(class_id); !sheets) out["sheets_error"] = sheets.error().message;
    return ok_json(out);
  });

  add("POST", "/api/v1/corrections/{id}/reject", {"admin"}, "reject a correction", [this](Ctx& c) {
    std::int64_t id = param_id(c);
    auto o = parse_object(c.req.body.empty() ? "{}" : c.req.body);
    std::string note = o ? str_field(*o, "note") : "";
    bool found = false;
    Status st = store.transaction([&](Tx& tx) -> Status {
      if (auto e = tx.exec("UPDATE corrections SET state = 'rejected', decided_by = ?, decided_at = ?, note = ? WHERE id = ? AND state = 'pending'",
                           {c.caller->user_id, now_iso(), note, id});
          !e)
        return e.error();
      found = tx.changes() > 0;
      if (found)
        if (auto a = tx.audit(c.caller->actor(), "correction.reject", json::serialize(json::object{{"correction_id", id}, {"note", note}})); !a)
          return a.error();
      return {};
    });
    if (!st) return from_error(st.error());
    if (!found) return not_found("pending correction");
    return ok_json(json::object{{"id", id}, {"state", "rejected"}});
  });
}

}  // namespace hocba::api
