// Batch job routes: parse the request, call the job engine (workflow/jobs.h), serialise the job.
//
// POST /api/v1/jobs takes one step, {"field", "pin"[, "class_id", "key_id", "confirm_pin_risk"]}, or
// several consecutive steps signed in one run, {"steps": ["hieu_truong", "con_dau"], "pin", "seal_pin"
// [, "class_id", "confirm_pin_risk", "seal_confirm_pin_risk"]}: the principal's night, the principal's
// token and the seal's working at once. A seal whose PIN is sealed takes no PIN from a request.
#include <spdlog/spdlog.h>

#include <optional>

#include "app_internal.h"

namespace hocba::api {
namespace {

bool bool_field(const json::object& o, std::string_view key) {
  auto it = o.find(key);
  return it != o.end() && it->value().is_bool() && it->value().as_bool();
}

}  // namespace

json::object App::Impl::job_json(std::int64_t id) {
  store::Jobs repo(store);
  auto got = repo.get(id);
  if (!got || !*got) return {};
  const store::Job& j = **got;
  json::object o{{"id", j.id},
                 {"kind", j.kind},
                 {"state", j.state},
                 {"field", j.steps.empty() ? std::string() : j.steps.front().field},
                 {"key_id", j.steps.empty() ? std::int64_t{0} : j.steps.front().key_id},
                 {"created_by", j.created_by_username},
                 {"total", j.total},
                 {"reason", j.reason},
                 {"created_at", j.created_at},
                 {"updated_at", j.updated_at},
                 {"done", j.done},
                 {"failed", j.failed},
                 {"skipped", j.skipped},
                 {"queued", j.queued}};
  o["class_id"] = j.class_id ? json::value(j.class_id) : json::value(nullptr);
  o["reason_code"] = j.reason_code;
  // Each step's progress: records past it, failed at it, still to pass it.
  json::array steps;
  for (std::size_t k = 0; k < j.steps.size(); ++k) {
    const store::JobStepCounts& c = j.step_counts[k];
    steps.push_back(json::object{{"field", j.steps[k].field}, {"key_id", j.steps[k].key_id}, {"done", c.done}, {"failed", c.failed}, {"queued", c.queued}});
  }
  o["steps"] = std::move(steps);
  // ETA from this run's pace (none before the first signature of the run).
  auto eta = jobs.eta_seconds(id, j.signatures_left);
  o["eta_seconds"] = eta ? json::value(*eta) : json::value(nullptr);
  json::array fa;
  if (auto fails = repo.failures(id, 100))
    for (const store::JobFailure& f : *fails) {
      json::object e{{"record_id", f.record_id}, {"personal_id", f.personal_id}, {"student_name", f.student_name}, {"error", f.error}};
      if (static_cast<std::size_t>(f.step) < j.steps.size()) e["step"] = j.steps[static_cast<std::size_t>(f.step)].field;
      fa.push_back(std::move(e));
    }
  o["failures"] = std::move(fa);
  return o;
}

std::variant<std::vector<workflow::StepPin>, HttpResponse> App::Impl::step_pins(json::object* body, const std::vector<std::string>& steps) {
  // Both are taken out of the body (and wiped there) whatever happens next.
  Secret own = body ? take_secret(*body, "pin") : Secret();
  Secret seal = body ? take_secret(*body, "seal_pin") : Secret();
  const bool confirm = body && bool_field(*body, "confirm_pin_risk");
  const bool seal_confirm = body && bool_field(*body, "seal_confirm_pin_risk");
  std::vector<workflow::StepPin> pins;
  if (steps.size() == 1) {
    // One step: "pin" is its token's, whoever holds it (the seal's too).
    if (!seal.empty() || seal_confirm) return bad_request("seal_pin is for a job of several steps, one of them the seal's; give pin");
    if (std::string why = wf.sealed_seal_refusal(steps[0], !own.empty(), confirm); !why.empty()) return bad_request(why);
    workflow::StepPin p;
    if (!wf.uses_sealed_pin(steps[0])) {
      if (own.empty()) return bad_request("the token's PIN is required");
      p.pin = std::make_shared<Secret>(std::move(own));
      p.confirm_pin_risk = confirm;
    }
    pins.push_back(std::move(p));
    return pins;
  }
  bool has_seal = false;
  for (const std::string& s : steps) has_seal |= wf.chain().is_seal(s);
  if (!has_seal && (!seal.empty() || seal_confirm)) return bad_request("seal_pin is only for a job with the seal's step");
  std::shared_ptr<Secret> own_pin, seal_pin;
  for (const std::string& s : steps) {
    workflow::StepPin p;
    if (wf.chain().is_seal(s)) {
      if (std::string why = wf.sealed_seal_refusal(s, !seal.empty(), seal_confirm); !why.empty()) return bad_request(why);
      if (!wf.uses_sealed_pin(s)) {
        if (seal.empty()) return bad_request("the seal's PIN (seal_pin) is required");
        if (!seal_pin) seal_pin = std::make_shared<Secret>(std::move(seal));
        p.pin = seal_pin;
        p.confirm_pin_risk = seal_confirm;
      }
    } else {
      if (own.empty()) return bad_request("the token's PIN (pin) is required");
      if (!own_pin) own_pin = std::make_shared<Secret>(std::move(own));
      p.pin = own_pin;
      p.confirm_pin_risk = confirm;
    }
    pins.push_back(std::move(p));
  }
  return pins;
}

void App::Impl::add_job_routes() {
  const std::vector<std::string> signers = chain_signer_roles();

  add("POST", "/api/v1/jobs", signers, "start a batch job: sign a class or the whole school with one PIN", [this](Ctx& c) {
    auto o = parse_object(c.req.body);
    if (!o) return bad_request("expected {\"field\", \"pin\"[, \"class_id\", \"key_id\"]} or {\"steps\", \"pin\", \"seal_pin\"[, \"class_id\"]}");
    for (const char* k : {"class_id", "key_id"})
      if (bad_int_field(*o, k)) return bad_request(std::string(k) + " must be a positive integer");
    std::vector<std::string> steps;
    if (auto it = o->find("steps"); it != o->end()) {
      if (o->contains("field")) return bad_request("give field or steps, not both");
      if (!it->value().is_array() || it->value().as_array().empty()) return bad_request("steps must be a list of step names");
      for (const json::value& v : it->value().as_array()) {
        if (!v.is_string()) return bad_request("steps must be a list of step names");
        steps.emplace_back(v.as_string());
      }
    } else {
      std::string field = str_field(*o, "field");
      steps.push_back(field.empty() ? wf.chain().default_step_for(role_name(c.caller->role)) : field);
    }
    auto plan = jobs.plan(*c.caller, steps, int_field(*o, "class_id", 0), int_field(*o, "key_id"));
    auto pins = step_pins(&*o, steps);  // the PINs leave the body whatever the plan says
    if (!plan) return plan.error().code == Errc::invalid_argument ? bad_request(plan.error().message) : from_error(plan.error());
    if (auto* refusal = std::get_if<HttpResponse>(&pins)) return *refusal;
    auto id = jobs.start(*c.caller, *plan, std::move(std::get<std::vector<workflow::StepPin>>(pins)));
    if (!id) return from_error(id.error());
    return ok_json(job_json(*id), 202);
  });

  add("GET", "/api/v1/jobs", {"admin", "principal", "deputy_principal", "homeroom_teacher", "viewer"}, "list batch jobs", [this](Ctx& c) {
    auto ids = store::Jobs(store).list(c.caller->role == Role::homeroom_teacher ? c.caller->user_id : 0, 100);
    if (!ids) return from_error(ids.error());
    json::array a;
    for (std::int64_t id : *ids) a.push_back(job_json(id));
    return ok_json(json::object{{"jobs", a}});
  });

  // The job's owner may do anything with it; others (but homeroom teachers) may look at it.
  auto own_job = [this](Ctx& c, std::int64_t id, bool must_own) -> std::optional<HttpResponse> {
    auto job = store::Jobs(store).get(id);
    if (!job) return from_error(job.error());
    if (!*job) return not_found("job");
    bool mine = (*job)->created_by == c.caller->user_id;
    if (must_own && !mine) return forbidden("only the person who started the job (and holds its PIN) may do this");
    if (!mine && c.caller->role == Role::homeroom_teacher) return forbidden("not your job");
    return std::nullopt;
  };

  add("GET", "/api/v1/jobs/{id}", {"admin", "principal", "deputy_principal", "homeroom_teacher", "viewer"},
      "see a job's progress (done, failed, ETA)", [this, own_job](Ctx& c) {
        std::int64_t id = param_id(c);
        if (auto e = own_job(c, id, false)) return *e;
        return ok_json(job_json(id));
      });

  auto stop = [this, own_job](Ctx& c, bool cancel) {
    std::int64_t id = param_id(c);
    if (auto e = own_job(c, id, false)) return *e;
    if (c.caller->role != Role::admin)
      if (auto e = own_job(c, id, true)) return *e;
    Status st = cancel ? jobs.cancel(*c.caller, id) : jobs.pause(*c.caller, id);
    if (!st) return st.error().code == Errc::invalid_argument ? conflict(st.error().message) : from_error(st.error());
    return ok_json(job_json(id), 202);
  };

  add("POST", "/api/v1/jobs/{id}/pause", with_admin(signers), "pause a job", [stop](Ctx& c) { return stop(c, false); });
  add("POST", "/api/v1/jobs/{id}/cancel", with_admin(signers), "cancel a job", [stop](Ctx& c) { return stop(c, true); });
  add("POST", "/api/v1/jobs/{id}/resume", signers, "resume a job with the PIN", [this, own_job](Ctx& c) {
    std::int64_t id = param_id(c);
    if (auto e = own_job(c, id, true)) return *e;
    auto o = parse_object(c.req.body);
    auto job = store::Jobs(store).get(id);
    if (!job || !*job) return job ? not_found("job") : from_error(job.error());
    std::vector<std::string> steps;
    for (const store::JobStep& s : (*job)->steps) steps.push_back(s.field);
    auto pins = step_pins(o ? &*o : nullptr, steps);
    if ((*job)->state != "paused" && (*job)->state != "failed") return conflict("the job is " + (*job)->state);
    if (auto* refusal = std::get_if<HttpResponse>(&pins)) return *refusal;
    Status st = jobs.resume(*c.caller, id, std::move(std::get<std::vector<workflow::StepPin>>(pins)));
    if (!st) return st.error().code == Errc::invalid_argument ? conflict(st.error().message) : from_error(st.error());
    return ok_json(job_json(id), 202);
  });
}

}  // namespace hocba::api
