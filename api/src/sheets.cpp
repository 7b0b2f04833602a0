// Subject teachers and their score sheets: the routes parse, call workflow::Workflow and serialise;
// listing them only reads (sheets are made on the events that change them, in workflow/). The sweep
// that refreshes the classes marked dirty runs here.
#include <spdlog/spdlog.h>

#include "app_internal.h"
#include "hocba/store/sheets.h"

namespace hocba::api {
namespace {

json::object sheet_json(const store::Sheet& s) {
  return json::object{{"id", s.id},
                      {"class_id", s.class_id},
                      {"class", s.class_name},
                      {"school_year", s.school_year},
                      {"subject", s.subject},
                      {"step", s.step},
                      {"version", s.version},
                      {"state", s.state},
                      {"teacher", s.teacher_username},
                      {"teacher_name", s.teacher_name},
                      {"confirmed_by", s.confirmed_by_name},
                      {"confirmed_at", s.confirmed_at.empty() ? json::value(nullptr) : json::value(s.confirmed_at)},
                      {"pdf_sha256", s.pdf_sha256}};
}

}  // namespace

void App::Impl::add_sheet_routes() {
  // Who confirms sheets: the roles that may sign a class_subject step of the chain.
  std::vector<std::string> confirmers;
  for (std::string_view r : config::signing_roles())
    for (const config::Step& s : wf.chain().config().step_defs)
      if (s.scope == "class_subject" && s.may_sign(r)) {
        confirmers.emplace_back(r);
        break;
      }
  if (confirmers.empty()) confirmers.emplace_back("subject_teacher");  // the routes exist; nobody signs sheets

  add("GET", "/api/v1/sheets", kAllRoles, "list score sheets (a subject teacher: theirs)", [this](Ctx& c) {
    bool teacher = c.caller->role == Role::subject_teacher;
    auto rows = store::Sheets(store).of_teacher(teacher ? c.caller->user_id : 0);
    if (!rows) return from_error(rows.error());
    json::array a;
    for (const store::Sheet& s : *rows) a.push_back(sheet_json(s));
    return ok_json(json::object{{"sheets", a}});
  });

  add("GET", "/api/v1/sheets/{id}/pdf", kAllRoles, "download a score sheet's PDF", [this](Ctx& c) {
    auto s = store::Sheets(store).by_id(param_id(c));
    if (!s) return from_error(s.error());
    if (!*s) return not_found("sheet");
    if (c.caller->role == Role::subject_teacher && (*s)->teacher_user_id != c.caller->user_id) return forbidden("not your class-subject");
    auto b = read_file(wf.abs((*s)->pdf_path), 64u << 20);
    if (!b) return from_error(b.error());
    HttpResponse res = HttpResponse::text(200, std::string(b->begin(), b->end()), "application/pdf");
    res.headers.emplace_back("Content-Disposition", "attachment; filename=\"sheet-" + std::to_string((*s)->id) + ".pdf\"");
    return res;
  });

  add("POST", "/api/v1/sheets/confirm", confirmers, "confirm (sign) every score sheet waiting for the caller, with one PIN",
      [this](Ctx& c) {
        auto o = parse_object(c.req.body);
        if (!o) return bad_request("expected {\"pin\"}");
        Secret pin = take_secret(*o, "pin");
        if (pin.empty()) return bad_request("the token's PIN is required");
        bool confirm = false;
        if (auto it = o->find("confirm_pin_risk"); it != o->end() && it->value().is_bool()) confirm = it->value().as_bool();
        auto outcomes = wf.confirm_sheets(*c.caller, &pin, confirm);
        if (!outcomes) return from_error(outcomes.error());
        json::array a;
        std::int64_t ok = 0;
        for (const auto& x : *outcomes) {
          ok += x.ok;
          a.push_back(json::object{{"sheet_id", x.sheet_id}, {"class_id", x.class_id}, {"class", x.class_name}, {"subject", x.subject},
                                   {"step", x.step}, {"ok", x.ok}, {"error", x.error}});
        }
        return ok_json(json::object{{"confirmed", ok}, {"sheets", a}});
      });

  add("PUT", "/api/v1/classes/{id}/teachers", {"admin"}, "assign a subject's teacher in a class", [this](Ctx& c) {
    std::int64_t id = param_id(c);
    auto o = parse_object(c.req.body);
    if (!o) return bad_request("expected {\"subject\", \"username\"}");
    if (auto st = wf.assign_subject_teacher(*c.caller, id, str_field(*o, "subject"), str_field(*o, "username")); !st)
      return from_error(st.error());
    return ok_json(json::object{{"ok", true}});
  });
}

void App::Impl::start_sheet_sweep() {
  std::lock_guard<std::mutex> g(sheet_sweep_mu);
  if (sheet_sweeper.joinable() || sheet_sweep_stop) return;
  sheet_sweeper = std::thread([this] {
    std::unique_lock<std::mutex> lk(sheet_sweep_mu);
    while (!sheet_sweep_stop) {
      lk.unlock();
      // Once per mark: a class whose refresh fails stays marked and is tried again at the next sweep.
      if (auto st = wf.refresh_dirty_sheets(0, &sheet_sweep_stop); !st)
        spdlog::warn("SHEETS_NOT_REFRESHED error={} effect=tried_again_in_{}s", st.error().message, kSheetSweepInterval.count());
      lk.lock();
      sheet_sweep_cv.wait_for(lk, kSheetSweepInterval, [this] { return sheet_sweep_stop.load(); });
    }
  });
}

void App::Impl::stop_sheet_sweep() {
  {
    std::lock_guard<std::mutex> g(sheet_sweep_mu);
    sheet_sweep_stop = true;
  }
  sheet_sweep_cv.notify_all();
  if (sheet_sweeper.joinable()) sheet_sweeper.join();
}

}  // namespace hocba::api
