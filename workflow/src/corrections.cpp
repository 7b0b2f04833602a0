// Corrections of records: see workflow.h ("corrections").
#include <boost/json.hpp>
#include <filesystem>

#include "hocba/common/bytes.h"
#include "hocba/common/clock.h"
#include "hocba/common/fileio.h"
#include "hocba/store/corrections.h"
#include "hocba/store/records.h"
#include "hocba/workflow/workflow.h"

namespace hocba::workflow {

namespace json = boost::json;

namespace {

// `text` as a JSON object; nullopt when it is not one.
std::optional<json::object> json_object(const std::string& text) {
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec || !v.is_object()) return std::nullopt;
  return std::move(v.as_object());
}

Workflow::Refusal refusal(Workflow::Refusal::Kind kind, std::string why) { return Workflow::Refusal{kind, std::move(why)}; }

}  // namespace

Result<Workflow::CorrectionRequest> Workflow::request_correction(const Actor& who, std::int64_t record_id, const std::string& student_json,
                                                                 const std::string& why) {
  auto rec = record_state(record_id);
  if (!rec) return rec.error();
  if (!*rec) return make_error(Errc::not_found, "record not found");
  if (!may_see(who, (*rec)->class_id)) return make_error(Errc::forbidden, "this record is not in your class");
  CorrectionRequest out;
  if ((*rec)->state == "superseded") {
    out.refused = refusal(Refusal::Kind::conflict, "this version is superseded; correct the newest one");
    return out;
  }
  Status st = store_.transaction([&](store::Tx& tx) -> Status {
    auto pending = store::Corrections::pending(tx, record_id);
    if (!pending) return pending.error();
    if (*pending) return make_error(Errc::invalid_argument, "correction " + std::to_string(**pending) + " is already waiting for the admin");
    auto id = store::Corrections::add(tx, record_id, who.user_id, student_json, why, now_iso());
    if (!id) return id.error();
    out.id = *id;
    if (auto a = tx.audit(who.actor(), "correction.request",
                          json::serialize(json::object{{"correction_id", out.id}, {"record_id", record_id}, {"why", why}}));
        !a)
      return a.error();
    return {};
  });
  if (!st) return st.error();
  return out;
}

Result<std::vector<store::Correction>> Workflow::corrections(const Actor& who) {
  return store::Corrections(store_).list(who.role == store::Role::homeroom_teacher ? who.user_id : 0);
}

Result<Workflow::CorrectionApproval> Workflow::approve_correction(const Actor& who, std::int64_t id, const std::string& note) {
  auto found = store::Corrections(store_).to_decide(id);
  if (!found) return found.error();
  if (!*found) return make_error(Errc::not_found, "correction not found");
  const store::CorrectionToDecide& k = **found;
  CorrectionApproval out;
  if (k.state != "pending") {
    out.refused = refusal(Refusal::Kind::conflict, "this correction was already decided");
    return out;
  }
  // The corrected student in its class: the class file's header with this one student.
  auto cls = json_object(k.class_source_json);
  auto student = json_object(k.student_json);
  if (!cls || !student) {
    out.refused = refusal(Refusal::Kind::bad_store, "stored class or correction is not JSON");
    return out;
  }
  (*cls)["students"] = json::array{*student};
  auto parsed = pdf::parse_class(json::serialize(*cls));
  if (!parsed) return parsed.error();
  if (!parsed->errors.empty() || parsed->students.size() != 1) {
    out.refused = refusal(Refusal::Kind::bad_student, "the corrected record has errors");
    out.problems = std::move(parsed->errors);
    return out;
  }
  const pdf::Student& s = parsed->students.front();
  if (s.personal_id != k.personal_id) {
    out.refused = refusal(Refusal::Kind::invalid, "a correction cannot change the personal ID; import the student anew");
    return out;
  }
  const std::int64_t old_id = k.record_id, class_id = k.class_id, version = k.version + 1;
  Reservation held(*this, old_id);
  if (!held) {
    out.refused = refusal(Refusal::Kind::conflict, "the record is being signed right now; approve after");
    return out;
  }
  // The new version's file first (durably), then the rows that name it.
  std::string rel = record_path(class_id, s.personal_id, version, 0);
  auto pdfb = pdf::render_record(parsed->info, s, render_options(class_id));
  if (!pdfb) return pdfb.error();
  if (auto d = make_dirs_durable(std::filesystem::path(abs(rel)).parent_path().string(), 0777); !d) return d.error();
  if (auto w = write_file_atomic(abs(rel), *pdfb, 0640); !w) return w.error();
  bool decided_already = false;
  Status st = store_.transaction([&](store::Tx& tx) -> Status {
    std::string at = now_iso();
    auto new_id = store::Records::add_version(tx, class_id, s.personal_id, s.full_name, version, s.source_json, rel, sha256_hex(*pdfb), at);
    if (!new_id) return new_id.error();
    if (auto e = store::Records::supersede(tx, old_id, *new_id, at); !e) return e;
    auto approved = store::Corrections::approve(tx, id, who.user_id, note, *new_id, at);
    if (!approved) return approved.error();
    if (!*approved) {
      decided_already = true;  // a concurrent approval or rejection won: roll back
      return make_error(Errc::invalid_argument, "this correction was already decided");
    }
    if (auto a = tx.audit(who.actor(), "correction.approve",
                          json::serialize(json::object{{"correction_id", id}, {"old_record_id", old_id}, {"new_record_id", *new_id},
                                                       {"version", version}}));
        !a)
      return a.error();
    out.new_record_id = *new_id;
    return {};
  });
  held.reset();
  if (decided_already) {
    out.refused = refusal(Refusal::Kind::conflict, "this correction was already decided");
    return out;
  }
  if (!st) return st.error();
  out.version = version;
  // A corrected score changes its subject's sheet: a new version for its teacher to confirm.
  if (auto sheets = refresh_sheets(class_id); !sheets) out.sheets_error = sheets.error().message;
  return out;
}

Status Workflow::reject_correction(const Actor& who, std::int64_t id, const std::string& note) {
  return store_.transaction([&](store::Tx& tx) -> Status {
    auto rejected = store::Corrections::reject(tx, id, who.user_id, note, now_iso());
    if (!rejected) return rejected.error();
    if (!*rejected) return make_error(Errc::not_found, "pending correction not found");
    if (auto a = tx.audit(who.actor(), "correction.reject", json::serialize(json::object{{"correction_id", id}, {"note", note}})); !a)
      return a.error();
    return {};
  });
}

}  // namespace hocba::workflow
