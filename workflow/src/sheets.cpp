// Subject teachers' score sheets: see workflow.h ("subject teachers' score sheets").
#include <boost/json.hpp>
#include <filesystem>
#include <map>

#include "hocba/common/bytes.h"
#include "hocba/common/clock.h"
#include "hocba/common/fileio.h"
#include "hocba/pdf/record.h"
#include "hocba/pdf/score_sheet.h"
#include "hocba/pdf/signing.h"
#include "hocba/store/records.h"
#include "hocba/store/sheets.h"
#include "hocba/workflow/workflow.h"

namespace hocba::workflow {

namespace json = boost::json;

namespace {

// The class as it stands: its class file's header with the students of its current records (a
// corrected student as corrected). Records are returned too, in the same order as the students.
struct ClassNow {
  pdf::ClassFile file;
  std::vector<store::CurrentRecord> records;  // records[i] is file.students[i]'s
};

Result<ClassNow> class_now(store::Store& st, std::int64_t class_id) {
  auto src = store::Classes(st).source(class_id);
  if (!src) return src.error();
  if (!*src) return make_error(Errc::not_found, "class " + std::to_string(class_id) + " does not exist");
  auto recs = store::Records(st).current(class_id);
  if (!recs) return recs.error();
  json::value cls;
  try {
    cls = json::parse(**src);
  } catch (const std::exception&) {
    return make_error(Errc::invalid_argument, "class " + std::to_string(class_id) + "'s stored class file is not JSON");
  }
  if (!cls.is_object()) return make_error(Errc::invalid_argument, "class " + std::to_string(class_id) + "'s stored class file is not an object");
  json::array students;
  ClassNow now;
  for (const store::CurrentRecord& r : *recs) {
    if (r.state == "failed") continue;
    try {
      students.push_back(json::parse(r.student_json));
      now.records.push_back(r);
    } catch (const std::exception&) {
      return make_error(Errc::invalid_argument, "record " + std::to_string(r.id) + "'s stored student is not JSON");
    }
  }
  cls.as_object()["students"] = std::move(students);
  auto parsed = pdf::parse_class(json::serialize(cls));
  if (!parsed) return parsed.error();
  if (!parsed->class_ok() || parsed->students.size() != now.records.size())
    return make_error(Errc::invalid_argument, "class " + std::to_string(class_id) + "'s stored records do not read back as a class");
  now.file = std::move(*parsed);
  return now;
}

std::string subject_key(const std::string& subject) { return sha256_hex(subject).substr(0, 12); }

std::string sheet_path(std::int64_t class_id, const std::string& step, const std::string& subject, std::int64_t version, bool signed_) {
  return "sheets/" + std::to_string(class_id) + "/" + step + "-" + subject_key(subject) + "-v" + std::to_string(version) +
         (signed_ ? "-signed" : "") + ".pdf";
}

Status write_durably(const std::string& abs_path, const Bytes& b) {
  if (auto d = make_dirs_durable(std::filesystem::path(abs_path).parent_path().string(), 0777); !d) return d;
  return write_file_atomic(abs_path, b, 0640);
}

// What data_sha256 of a sheet made before schema 7 starts with: the hash of its unsigned PDF follows.
const std::string kPdfHashPrefix = "pdf:";

// Does a sheet's file (unsigned or signed; checked against its stored hash) show the data whose hash is
// `data_sha256`? Its file identifier is that hash's first 16 bytes (pdf::score_sheet_data).
bool file_shows(const std::string& abs_path, const std::string& pdf_sha256, const std::string& data_sha256) {
  auto b = read_file(abs_path, 64u << 20);
  if (!b || sha256_hex(*b) != pdf_sha256) return false;
  auto in = pdf::inspect(*b);
  return in && in->file_id.size() == 32 && data_sha256.compare(0, 32, in->file_id) == 0;
}

// The date part of a stored time ("2026-12-07T10:15:00Z" -> "2026-12-07").
std::string date_of(const std::string& at) { return at.substr(0, 10); }

}  // namespace

Status Workflow::refresh_sheets(std::int64_t class_id) {
  std::lock_guard<std::mutex> one_at_a_time(sheets_mu_);
  store::Sheets sheets(store_);
  // Marked first, cleared once done: a refresh that fails, or that a crash cuts short, is made again by
  // refresh_dirty_sheets. A mark made meanwhile (another generation) stays.
  auto generation = sheets.mark_dirty(class_id);
  if (!generation) return generation.error();
  if (auto st = update_sheets(class_id); !st) return st;
  return *generation ? sheets.clear_dirty(class_id, *generation) : Status{};
}

Status Workflow::update_sheets(std::int64_t class_id) {
  std::string level = class_level(class_id);
  const std::vector<std::string>& sheet_steps = chain_.sheet_steps(level);
  if (sheet_steps.empty()) return {};
  auto now = class_now(store_, class_id);
  if (!now) return now.error();
  store::Sheets sheets(store_);
  // Every subject of the class is known, with the teacher the class file names (if that account is
  // a subject teacher here); an assignment made by the admin is kept.
  Status st = store_.transaction([&](store::Tx& tx) -> Status {
    for (const std::string& subject : pdf::subjects_of(now->file)) {
      const pdf::SubjectTeacher* t = pdf::subject_teacher(now->file.info, subject);
      if (auto e = store::Sheets::ensure_subject(tx, class_id, subject, t ? t->teacher.username : ""); !e) return e;
    }
    return {};
  });
  if (!st) return st;
  auto subjects = sheets.subjects(class_id);
  if (!subjects) return subjects.error();
  auto current = sheets.current(class_id);
  if (!current) return current.error();
  bool changed = false;
  for (const std::string& step : sheet_steps) {
    const config::Step* def = chain_.step(step);
    for (const store::ClassSubject& cs : *subjects) {
      if (cs.teacher_user_id == 0) continue;  // no sheet until a teacher is assigned
      pdf::ScoreSheetOptions so;
      so.field = step;
      so.title = def->title;
      so.teacher = pdf::Staff{cs.teacher_name.empty() ? cs.teacher_username : cs.teacher_name, cs.teacher_username};
      auto shown = pdf::score_sheet_data(now->file.info, now->file.students, cs.subject, so);
      if (!shown) {
        if (shown.error().code == Errc::invalid_argument) continue;  // no current student has the subject any more
        return shown.error();
      }
      std::string data = sha256_hex(*shown);
      auto it = std::find_if(current->begin(), current->end(),
                             [&](const store::Sheet& s) { return s.subject == cs.subject && s.step == step; });
      if (it != current->end() && it->data_sha256 == data) continue;  // shows the same: nothing to render or confirm again
      if (it != current->end() && it->data_sha256.rfind(kPdfHashPrefix, 0) == 0 && file_shows(abs(it->pdf_path), it->pdf_sha256, data)) {
        // Made before sheets were told apart by their data, and it shows this data: it keeps its version.
        if (auto a = sheets.adopt_data_sha256(it->id, data); !a) return a;
        continue;
      }
      auto pdfb = pdf::render_score_sheet(now->file.info, now->file.students, cs.subject, so);
      if (!pdfb) return pdfb.error();
      metrics_.counter_add("hocba_sheets_rendered_total", {});
      std::string pdf_sha = sha256_hex(*pdfb);
      std::int64_t version = it == current->end() ? 1 : it->version + 1;
      std::string rel = sheet_path(class_id, step, cs.subject, version, false);
      if (auto w = write_durably(abs(rel), *pdfb); !w) return w;
      std::string at = now_iso();
      Status added = store_.transaction([&](store::Tx& tx) -> Status {
        auto id = store::Sheets::add_version(tx, class_id, cs.subject, step, data, rel, pdf_sha, at);
        if (!id) return id.error();
        json::object d{{"sheet_id", *id}, {"class_id", class_id}, {"subject", cs.subject}, {"step", step}, {"version", version},
                       {"teacher", cs.teacher_username}};
        if (auto a = tx.audit("system", "sheet.new", json::serialize(d)); !a) return a.error();
        return {};
      });
      if (!added) return added;
      changed = true;
    }
  }
  return changed ? redraw_drafts(class_id) : Status{};
}

Status Workflow::refresh_dirty_sheets(std::int64_t teacher_user_id, const std::atomic<bool>* stop) {
  auto dirty = store::Sheets(store_).dirty_classes(teacher_user_id);
  if (!dirty) return dirty.error();
  Status first;
  for (std::int64_t class_id : *dirty) {
    if (stop && *stop) break;
    if (auto st = refresh_sheets(class_id); !st && first) first = st;
  }
  return first;
}

Status Workflow::assign_subject_teacher(const Actor& who, std::int64_t class_id, const std::string& subject, const std::string& username) {
  if (auto st = store::Sheets(store_).set_teacher(who.actor(), class_id, subject, username); !st) return st;
  return refresh_sheets(class_id);
}

std::string Workflow::sheets_waiting(std::int64_t class_id) {
  // The level is read once: it is json_extract over the whole stored class file.
  const std::vector<std::string>& sheet_steps = chain_.sheet_steps(class_level(class_id));
  if (sheet_steps.empty()) return "";
  store::Sheets sheets(store_);
  auto subjects = sheets.subjects(class_id);
  auto current = sheets.current(class_id);
  if (!subjects || !current) return "the score sheets cannot be read from the store";
  std::string waiting;
  for (const store::ClassSubject& cs : *subjects) {
    std::string who = cs.teacher_user_id ? cs.teacher_username + (cs.teacher_name.empty() ? "" : " (" + cs.teacher_name + ")") : "";
    for (const std::string& step : sheet_steps) {
      auto it = std::find_if(current->begin(), current->end(),
                             [&](const store::Sheet& s) { return s.subject == cs.subject && s.step == step; });
      std::string item;
      if (cs.teacher_user_id == 0) item = cs.subject + ": no subject teacher assigned";
      else if (it == current->end()) item = cs.subject + ": " + who + "'s score sheet is not made yet";
      else if (it->state != "confirmed") item = cs.subject + ": waiting for " + who;
      if (!item.empty()) waiting += (waiting.empty() ? "" : "; ") + item;
    }
  }
  return waiting.empty() ? "" : "the subject teachers have not confirmed every score of this class yet — " + waiting;
}

pdf::RenderOptions Workflow::render_options(std::int64_t class_id) {
  const std::string level = class_level(class_id);
  pdf::RenderOptions ro = render_options(level);
  if (chain_.sheet_steps(level).empty()) return ro;
  auto current = store::Sheets(store_).current(class_id);
  if (!current) return ro;
  for (const store::Sheet& s : *current)
    if (s.state == "confirmed") ro.confirmations.push_back({s.subject, s.confirmed_by_name, date_of(s.confirmed_at), s.pdf_sha256});
  return ro;
}

Status Workflow::redraw_drafts(std::int64_t class_id) {
  auto now = class_now(store_, class_id);
  if (!now) return now.error();
  pdf::RenderOptions ro = render_options(class_id);
  for (std::size_t i = 0; i < now->records.size(); ++i) {
    const store::CurrentRecord& r = now->records[i];
    if (r.steps_done != 0 || r.state != "draft") continue;
    Reservation held(*this, r.id);
    if (!held) continue;  // being signed or corrected right now: it is drawn again by its own step
    auto pdfb = pdf::render_record(now->file.info, now->file.students[i], ro);
    if (!pdfb) return pdfb.error();
    std::string sha = sha256_hex(*pdfb);
    if (sha == r.pdf_sha256) continue;
    // A new file beside the old one, then the record points at it: never a file that does not match.
    std::string rel = record_path(class_id, r.personal_id, r.version, 0);
    rel.insert(rel.size() - 4, "-" + sha.substr(0, 12));
    if (auto w = write_durably(abs(rel), *pdfb); !w) return w;
    if (auto st = store::Records(store_).redraw_draft(r.id, rel, sha, now_iso()); !st) return st;
    if (r.pdf_path != rel) std::filesystem::remove(abs(r.pdf_path));
  }
  return {};
}

Result<std::vector<Workflow::SheetOutcome>> Workflow::confirm_sheets(const Actor& who, const Secret* pin, bool confirm_pin_risk) {
  if (auto st = refresh_dirty_sheets(who.user_id); !st) return st.error();
  auto mine = store::Sheets(store_).of_teacher(who.user_id);
  if (!mine) return mine.error();
  std::vector<SheetOutcome> out;
  std::set<std::int64_t> classes;
  for (const store::Sheet& s : *mine) {
    if (s.state != "waiting") continue;
    SheetOutcome o{s.id, s.class_id, s.class_name, s.subject, s.step, false, ""};
    const config::Step* def = chain_.step(s.step);
    if (!def || !def->may_sign(store::role_name(who.role))) {
      o.error = "the " + s.step + " step is not yours to sign";
      out.push_back(o);
      continue;
    }
    auto key = key_for(who, s.step, 0);
    if (!key) return key.error();
    auto in = read_file(abs(s.pdf_path));
    if (!in || sha256_hex(*in) != s.pdf_sha256) {
      o.error = "the sheet's file is missing or changed; it is made again";
      out.push_back(o);
      continue;
    }
    auto signed_pdf = sign_bytes(*in, *def, true, *key, pin, who, true, confirm_pin_risk);
    if (!signed_pdf) {
      Errc c = signed_pdf.error().code;
      bool token_wide = c == Errc::pin_incorrect || c == Errc::pin_locked || c == Errc::pin_rejected_before || c == Errc::pin_required ||
                        c == Errc::pin_needs_confirm || c == Errc::token_not_present || c == Errc::token_error;
      if (token_wide) {
        if (out.empty() || std::none_of(out.begin(), out.end(), [](const SheetOutcome& x) { return x.ok; })) return signed_pdf.error();
        o.error = signed_pdf.error().message;
        out.push_back(o);
        break;
      }
      o.error = signed_pdf.error().message;
      out.push_back(o);
      continue;
    }
    std::string rel = sheet_path(s.class_id, s.step, s.subject, s.version, true);
    if (auto w = write_durably(abs(rel), *signed_pdf); !w) return w.error();
    std::string sha = sha256_hex(*signed_pdf), at = now_iso();
    Status st = store_.transaction([&](store::Tx& tx) -> Status {
      if (auto e = store::Sheets::confirm(tx, s.id, who.user_id, key->id, rel, sha, at); !e) return e;
      json::object d{{"sheet_id", s.id}, {"class_id", s.class_id}, {"subject", s.subject}, {"step", s.step},
                     {"version", s.version}, {"key_id", key->id}, {"pdf_sha256", sha}};
      if (auto a = tx.audit(who.actor(), "sheet.confirm", json::serialize(d)); !a) return a.error();
      return {};
    });
    if (!st) {
      o.error = st.error().message;
    } else {
      o.ok = true;
      classes.insert(s.class_id);
    }
    out.push_back(o);
  }
  for (std::int64_t class_id : classes)
    if (auto st = redraw_drafts(class_id); !st) return st.error();
  return out;
}

}  // namespace hocba::workflow
