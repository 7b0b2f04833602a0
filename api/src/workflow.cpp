// Classes, records and their signing workflow (import and render drafts, sign one record,
// corrections): the routes parse, call workflow::Workflow and serialise.
#include "app_internal.h"
#include "hocba/pdf/record.h"

namespace hocba::api {
namespace {

json::array problems_json(const std::vector<pdf::Problem>& ps) {
  json::array a;
  for (auto& p : ps)
    a.push_back(json::object{{"path", p.path}, {"student_name", p.student_name}, {"personal_id", p.student_id},
                             {"message", p.message}, {"text", p.to_string()}});
  return a;
}

// An id the store gives as 0 for none (a record's newer version, a signature's job): null then.
json::value id_or_null(std::int64_t id) { return id ? json::value(id) : json::value(nullptr); }

// A class's homeroom teacher's username; null when none is bound.
json::value homeroom_json(const store::ClassRow& c) {
  return c.homeroom_username.empty() ? json::value(nullptr) : json::value(c.homeroom_username);
}

// A correction the workflow turned down: its answer (`problems`: the corrected student's errors).
HttpResponse refusal_response(const workflow::Workflow::Refusal& r, const std::vector<pdf::Problem>& problems = {}) {
  using Kind = workflow::Workflow::Refusal::Kind;
  switch (r.kind) {
    case Kind::conflict: return conflict(r.why);
    case Kind::invalid: return bad_request(r.why);
    case Kind::bad_store: return HttpResponse::error(500, "internal", r.why);
    case Kind::bad_student:
      return ok_json(json::object{{"error", json::object{{"code", "invalid_correction"}, {"message", r.why}}}, {"errors", problems_json(problems)}},
                     422);
    case Kind::none: break;
  }
  return HttpResponse::error(500, "internal", "a refusal without a reason");
}

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

  add("POST", "/api/v1/classes", {"admin"}, "import a class (hocba.class/v2 or v1) and render its drafts", [this](Ctx& c) {
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
    auto rows = wf.classes(*c.caller);
    if (!rows) return from_error(rows.error());
    json::array a;
    for (const store::ClassRow& r : *rows)
      a.push_back(json::object{{"id", r.id},
                               {"school_year", r.school_year},
                               {"name", r.name},
                               {"homeroom", homeroom_json(r)},
                               {"homeroom_name", r.homeroom_name},
                               {"records", r.records},
                               {"final", r.final_records}});
    return ok_json(json::object{{"classes", a}});
  });

  add("GET", "/api/v1/classes/{id}", staff, "see a class and its records", [this](Ctx& c) {
    std::int64_t id = param_id(c);
    auto view = wf.class_view(*c.caller, id);
    if (!view) return from_error(view.error());
    const std::string level = wf.class_level(id);
    json::array recs;
    for (const store::CurrentRecord& r : view->records)
      recs.push_back(json::object{{"id", r.id},
                                  {"personal_id", r.personal_id},
                                  {"student_name", r.student_name},
                                  {"version", r.version},
                                  {"state", r.state},
                                  {"steps_done", r.steps_done},
                                  {"next_step", next_step_json(wf.chain(), level, r.steps_done, r.state)},
                                  {"error", r.error}});
    const store::ClassRow& cls = view->info;
    return ok_json(json::object{{"id", cls.id},
                                {"school_year", cls.school_year},
                                {"name", cls.name},
                                {"homeroom", homeroom_json(cls)},
                                {"level", level},
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

  add("GET", "/api/v1/records/{id}", staff, "see a record, its signatures and versions", [this](Ctx& c) {
    auto view = wf.record_view(*c.caller, param_id(c));
    if (!view) return from_error(view.error());
    const store::RecordDetail& r = view->record;
    json::object o{{"id", r.id},
                   {"class_id", r.class_id},
                   {"personal_id", r.personal_id},
                   {"student_name", r.student_name},
                   {"version", r.version},
                   {"state", r.state},
                   {"steps_done", r.steps_done},
                   {"pdf_sha256", r.pdf_sha256},
                   {"error", r.error},
                   {"superseded_by", id_or_null(r.superseded_by)},
                   {"updated_at", r.updated_at},
                   {"class", r.class_name},
                   {"school_year", r.school_year}};
    o["next_step"] = next_step_json(wf.chain(), r.level, r.steps_done, r.state);
    o["level"] = r.level;
    json::array sa;
    for (const store::RecordSignature& s : view->signatures)
      sa.push_back(json::object{{"step", s.step}, {"field", s.field}, {"by", s.username}, {"key_id", s.key_id},
                                {"job_id", id_or_null(s.job_id)}, {"at", s.signed_at}});
    o["signatures"] = std::move(sa);
    json::array va;
    for (const store::RecordVersion& v : view->versions) va.push_back(json::object{{"id", v.id}, {"version", v.version}, {"state", v.state}});
    o["versions"] = std::move(va);
    if (auto st = parse_object(r.student_json)) o["student"] = std::move(*st);
    return ok_json(o);
  });

  add("GET", "/api/v1/records/{id}/pdf", staff, "download a record's PDF", [this](Ctx& c) {
    auto pdf = wf.record_pdf(*c.caller, param_id(c));
    if (!pdf) return pdf.error().code == Errc::bad_pdf ? HttpResponse::error(500, "integrity", pdf.error().message) : from_error(pdf.error());
    HttpResponse res = HttpResponse::text(200, std::string(pdf->pdf.begin(), pdf->pdf.end()), "application/pdf");
    res.headers.emplace_back("Content-Disposition",
                             "inline; filename=\"" + pdf->personal_id + "-v" + std::to_string(pdf->version) + ".pdf\"");
    return res;
  });

  add("POST", "/api/v1/records/{id}/sign", signers, "sign one record (its next signature)", [this](Ctx& c) {
    std::int64_t id = param_id(c);
    auto o = parse_object(c.req.body);
    if (!o) return bad_request("expected {\"pin\"[, \"field\", \"key_id\"]}");
    if (bad_int_field(*o, "key_id")) return bad_request("key_id must be a positive integer");
    auto pin = std::make_shared<Secret>(take_secret(*o, "pin"));
    auto rec = wf.record_state(id);
    if (!rec) return from_error(rec.error());
    if (!*rec) return not_found("record");
    std::int64_t class_id = (*rec)->class_id, done = (*rec)->steps_done;
    std::string field = str_field(*o, "field");
    const auto& steps = wf.chain().record_steps((*rec)->level);
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
    auto after = wf.record_state(id);
    json::object out{{"record_id", id}, {"field", field}};
    if (after && *after) out["state"] = (*after)->state, out["steps_done"] = (*after)->steps_done, out["pdf_sha256"] = (*after)->pdf_sha256;
    return ok_json(out);
  });

  add("POST", "/api/v1/records/{id}/corrections", signers, "ask for a correction of a signed record (who, what, why)", [this](Ctx& c) {
    std::int64_t id = param_id(c);
    auto o = parse_object(c.req.body);
    if (!o || !o->contains("student") || !(*o)["student"].is_object())
      return bad_request("expected {\"student\": {...the corrected student, hocba.class/v2 or v1...}, \"why\": \"...\"}");
    std::string why = str_field(*o, "why");
    if (why.size() < 5) return bad_request("say why the record must change (\"why\")");
    auto req = wf.request_correction(*c.caller, id, json::serialize((*o)["student"]), why);
    if (!req) return from_error(req.error());
    if (req->refused) return refusal_response(req->refused);
    return ok_json(json::object{{"id", req->id}, {"state", "pending"}}, 201);
  });

  add("GET", "/api/v1/corrections", with_admin(signers), "list corrections", [this](Ctx& c) {
    auto rows = wf.corrections(*c.caller);
    if (!rows) return from_error(rows.error());
    json::array a;
    for (const store::Correction& k : *rows)
      a.push_back(json::object{{"id", k.id},
                               {"record_id", k.record_id},
                               {"requested_by", k.requested_by},
                               {"why", k.why},
                               {"state", k.state},
                               {"note", k.note},
                               {"new_record_id", id_or_null(k.new_record_id)},
                               {"created_at", k.created_at},
                               {"student_name", k.student_name},
                               {"personal_id", k.personal_id},
                               {"student", parse_object(k.student_json).value_or(json::object{})},
                               {"current_student", parse_object(k.current_student_json).value_or(json::object{})}});
    return ok_json(json::object{{"corrections", a}});
  });

  add("POST", "/api/v1/corrections/{id}/approve", {"admin"}, "approve a correction (a new version is rendered)", [this](Ctx& c) {
    std::int64_t id = param_id(c);
    auto o = parse_object(c.req.body.empty() ? "{}" : c.req.body);
    auto done = wf.approve_correction(*c.caller, id, o ? str_field(*o, "note") : std::string());
    if (!done) return from_error(done.error());
    if (done->refused) return refusal_response(done->refused, done->problems);
    json::object out{{"id", id}, {"state", "approved"}, {"new_record_id", done->new_record_id}, {"version", done->version}};
    if (!done->sheets_error.empty()) out["sheets_error"] = done->sheets_error;
    return ok_json(out);
  });

  add("POST", "/api/v1/corrections/{id}/reject", {"admin"}, "reject a correction", [this](Ctx& c) {
    std::int64_t id = param_id(c);
    auto o = parse_object(c.req.body.empty() ? "{}" : c.req.body);
    if (Status st = wf.reject_correction(*c.caller, id, o ? str_field(*o, "note") : ""); !st) return from_error(st.error());
    return ok_json(json::object{{"id", id}, {"state", "rejected"}});
  });
}

}  // namespace hocba::api
