// Class import: see workflow.h ("class import").
#include <boost/json.hpp>
#include <filesystem>

#include "hocba/common/bytes.h"
#include "hocba/common/clock.h"
#include "hocba/common/fileio.h"
#include "hocba/store/records.h"
#include "hocba/workflow/workflow.h"

namespace hocba::workflow {

Result<Workflow::ImportResult> Workflow::import_class(const Actor& who, const std::string& source) {
  auto parsed = pdf::parse_class(source);
  if (!parsed) return parsed.error();
  ImportResult out;
  out.file = std::move(*parsed);
  out.class_ok = out.file.class_ok();
  if (!out.class_ok) return out;
  const pdf::ClassFile& cf = out.file;
  struct Draft {
    const pdf::Student* student;
    std::string rel;
    std::int64_t record_id = 0;
  };
  std::vector<Draft> to_render;
  std::vector<Reservation> held;  // drafts being replaced are not signed meanwhile
  Status st = store_.transaction([&](store::Tx& tx) -> Status {
    std::string at = now_iso();
    auto class_id = store::Classes::upsert(tx, cf.info.school_year, cf.info.class_name, cf.info.homeroom_teacher.username, source, at);
    if (!class_id) return class_id.error();
    out.class_id = *class_id;
    for (const pdf::Student& s : cf.students) {
      auto ex = store::Records::newest(tx, out.class_id, s.personal_id);
      if (!ex) return ex.error();
      std::string rel = record_path(out.class_id, s.personal_id, 1, 0);
      if (*ex) {
        const store::NewestRecord& r = **ex;
        auto keep = [&](const char* why) { out.kept.push_back({s.personal_id, r.id, false, why}); };
        if (r.steps_done > 0 || r.state == "final") {
          keep("already signed: change it with a correction");
          continue;
        }
        if (r.version > 1) {
          keep("a corrected version: change it with a correction");
          continue;
        }
        Reservation res(*this, r.id);
        if (!res) {
          keep("being signed right now: import again later");
          continue;
        }
        if (auto e = store::Records::replace_draft(tx, r.id, s.full_name, s.source_json, at); !e) return e;
        held.push_back(std::move(res));
        out.created.push_back({s.personal_id, r.id, true, ""});
        to_render.push_back({&s, rel, r.id});
      } else {
        auto id = store::Records::add_draft(tx, out.class_id, s.personal_id, s.full_name, s.source_json, rel, at);
        if (!id) return id.error();
        out.created.push_back({s.personal_id, *id, false, ""});
        to_render.push_back({&s, rel, *id});
      }
    }
    boost::json::object d{{"class_id", out.class_id}, {"school_year", cf.info.school_year}, {"class", cf.info.class_name},
                          {"records", out.created.size()}, {"rejected", cf.rejected.size()}};
    if (auto a = tx.audit(who.actor(), "class.import", boost::json::serialize(d)); !a) return a.error();
    return {};
  });
  if (!st) return st.error();
  // Render the drafts (outside the transaction: rendering takes a while), naming the subject
  // teachers who confirmed their scores already (a class imported again).
  const pdf::RenderOptions ro = render_options(out.class_id);
  store::Records records(store_);
  for (const Draft& d : to_render) {
    auto pdfb = pdf::render_record(cf.info, *d.student, ro);
    Status w = pdfb ? make_dirs_durable(std::filesystem::path(abs(d.rel)).parent_path().string(), 0777) : Status(pdfb.error());
    if (w) w = write_file_atomic(abs(d.rel), *pdfb, 0640);
    if (w) {
      if (auto e = records.set_rendered(d.record_id, sha256_hex(*pdfb)); !e) return e.error();
    } else {
      out.failed.push_back({d.student->personal_id, d.record_id, false, w.error().message});
      if (auto e = records.set_failed(d.record_id, w.error().message); !e) return e.error();
    }
  }
  held.clear();
  if (auto sheets = refresh_sheets(out.class_id); !sheets) out.sheets_error = sheets.error().message;
  return out;
}

}  // namespace hocba::workflow
