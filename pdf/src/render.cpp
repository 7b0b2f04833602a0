// render_record: one student's record as an archival PDF (PDF/A-3b), see render.h and
// docs/record-rendering.md.
//
// The page content comes from the templates (templates/*.cpp) through the layout engine
// (render_layout.cpp); the document around it (fonts, fields, metadata, OutputIntent, the associated
// JSON, the file identifier) from render_document.cpp. This file checks the options, chooses what goes
// where and describes the record.
#include "hocba/pdf/render.h"
#include "hocba/pdf/record_xml.h"

#include <algorithm>
#include <set>

#include "json_text.h"
#include "render_document.h"
#include "templates/templates.h"

namespace hocba::pdf {

namespace {

// Part of the hashed input for /ID: a new template version gives new identifiers.
constexpr const char* kTemplateVersion = "hocba.render/2";
constexpr const char* kXmpNamespace = "urn:hocba-signer:xmp:record:1.0#";

std::string attachment_name(const Student& st) {
  std::string id = st.personal_id.empty() ? "record" : st.personal_id;
  for (char& c : id)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-' || c == '_')) c = '_';
  return id + ".json";
}

bool has_subject(const Student& st, const std::string& subject) {
  if (st.primary)
    for (const auto& s : st.primary->subjects)
      if (s.subject == subject) return true;
  if (st.secondary)
    for (const auto& s : st.secondary->subjects)
      if (s.subject == subject) return true;
  return false;
}

bool is_date_start(const std::string& s) {
  auto digit = [&](std::size_t i) { return s[i] >= '0' && s[i] <= '9'; };
  if (s.size() < 10 || s[4] != '-' || s[7] != '-') return false;
  for (std::size_t i : {0, 1, 2, 3, 5, 6, 8, 9})
    if (!digit(i)) return false;
  return s.size() == 10 || s[10] == 'T';
}

Status check_boxes(const std::vector<SignatureBox>& boxes) {
  std::set<std::string> kinds, fields;
  for (const SignatureBox& b : boxes) {
    if (b.box != kBoxHomeroom && b.box != kBoxPrincipal && b.box != kBoxSeal)
      return make_error(Errc::invalid_argument, "signature box \"" + b.box + "\" is not homeroom, principal or seal");
    if (!kinds.insert(b.box).second) return make_error(Errc::invalid_argument, "two signature boxes of kind " + b.box);
    if (b.field.empty()) return make_error(Errc::invalid_argument, "the " + b.box + " signature box has no field name");
    if (!fields.insert(b.field).second)
      return make_error(Errc::invalid_argument, "two signature boxes with the field name " + b.field);
  }
  return {};
}

// The confirmations for the student's own subjects, checked.
Result<std::vector<SubjectConfirmation>> confirmations_for(const Student& st, const std::vector<SubjectConfirmation>& all) {
  std::vector<SubjectConfirmation> out;
  for (const SubjectConfirmation& k : all) {
    auto bad = [&](const std::string& what) {
      return make_error(Errc::invalid_argument, "confirmation of " + k.subject + ": " + what);
    };
    if (k.teacher_name.empty()) return bad("no teacher name");
    if (!is_date_start(k.confirmed_at)) return bad("confirmed_at \"" + k.confirmed_at + "\" is not a date or ISO 8601 time");
    if (k.sheet_sha256.size() != 64 || !std::all_of(k.sheet_sha256.begin(), k.sheet_sha256.end(), [](char c) {
          return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
        }))
      return bad("sheet_sha256 is not 64 lower-case hex digits");
    if (std::any_of(out.begin(), out.end(), [&](const SubjectConfirmation& o) { return o.subject == k.subject; }))
      return bad("the subject is confirmed twice");
    if (has_subject(st, k.subject)) out.push_back(k);
  }
  return out;
}

// The student's object, with "confirmations" added as its last member when there are any.
std::string embedded_json(const Student& st, const std::vector<SubjectConfirmation>& ks) {
  if (ks.empty()) return st.source_json;
  std::string j = st.source_json.substr(0, st.source_json.rfind('}'));
  bool empty_object = j.find_last_not_of(" \t\r\n") == j.find('{');
  j += empty_object ? "\"confirmations\":[" : ",\"confirmations\":[";
  for (std::size_t i = 0; i < ks.size(); ++i) {
    if (i) j += ',';
    j += "{\"subject\":";
    detail::append_json_string(j, ks[i].subject);
    j += ",\"teacher\":";
    detail::append_json_string(j, ks[i].teacher_name);
    j += ",\"confirmed_at\":";
    detail::append_json_string(j, ks[i].confirmed_at);
    j += ",\"sheet_sha256\":";
    detail::append_json_string(j, ks[i].sheet_sha256);
    j += '}';
  }
  return j + "]}";
}

const std::vector<std::string>& principal_title() {
  static const std::vector<std::string> t = {"HIỆU TRƯỞNG"};
  return t;
}

}  // namespace

std::vector<SignatureBox> default_signature_boxes() {
  return {{kFieldHomeroom, kBoxHomeroom, {"GIÁO VIÊN CHỦ NHIỆM"}, ""},
          {kFieldPrincipal, kBoxPrincipal, principal_title(), ""},
          {kFieldSeal, kBoxSeal, {}, ""}};
}

SignatureBox deputy_principal_box(const std::string& deputy_name) {
  return {kFieldPrincipal, kBoxPrincipal, {"KT. HIỆU TRƯỞNG", "PHÓ HIỆU TRƯỞNG"}, deputy_name};
}

Result<Bytes> render_record(const ClassInfo& cls, const Student& st, const RenderOptions& opts) {
  if (auto s = check_boxes(opts.boxes); !s) return s.error();
  auto confirmations = confirmations_for(st, opts.confirmations);
  if (!confirmations) return confirmations.error();
  const std::string json = embedded_json(st, *confirmations);

  // The file identifier: the template version, the class data and the student's record (and what
  // differs from the default form: confirmations, boxes).
  std::vector<std::string> id_parts = {kTemplateVersion,   cls.school_name,  cls.school_code,
                                       cls.district,       cls.province,     cls.principal.name,
                                       cls.principal.username, cls.school_year, cls.class_name,
                                       cls.homeroom_teacher.name, cls.homeroom_teacher.username, st.personal_id,
                                       st.full_name,       level_name(cls.level), std::to_string(cls.grade),
                                       st.source_json};
  if (json != st.source_json) id_parts.push_back(json);
  const bool default_boxes = [&] {
    auto d = default_signature_boxes();
    if (d.size() != opts.boxes.size()) return false;
    for (std::size_t i = 0; i < d.size(); ++i)
      if (d[i].field != opts.boxes[i].field || d[i].box != opts.boxes[i].box || d[i].title != opts.boxes[i].title ||
          d[i].name != opts.boxes[i].name)
        return false;
    return true;
  }();
  if (!(opts.form == FormOptions{})) {
    id_parts.push_back(std::string("form:") + (opts.form.primary_homeroom_comment ? "1" : "0") +
                       (opts.form.secondary_subject_comments ? "1" : "0"));
  }
  if (!default_boxes)
    for (const SignatureBox& b : opts.boxes) {
      id_parts.insert(id_parts.end(), {b.field, b.box, b.name});
      id_parts.insert(id_parts.end(), b.title.begin(), b.title.end());
    }
  auto id = document::identifier(id_parts);
  if (!id) return id.error();

  auto opened = document::Document::open(opts);
  if (!opened) return opened.error();
  document::Document& doc = **opened;

  return document::guarded("rendering the record", [&]() -> Result<Bytes> {
    // ---- Pages.
    layout::Flow& flow = doc.flow();
    // Circular 27 puts the principal's confirmation on the left and the homeroom teacher on the right;
    // Circular 22 the homeroom teacher on the left and the principal on the right.
    const bool primary = cls.level == Level::primary;
    std::vector<templates::BlockBox> block;
    for (const SignatureBox& b : opts.boxes) {
      if (b.box == kBoxHomeroom) {
        block.push_back({primary ? templates::Place::right : templates::Place::left, false, b.title,
                         "(Ký và ghi rõ họ tên)", b.name.empty() ? cls.homeroom_teacher.name : b.name});
      } else if (b.box == kBoxPrincipal) {
        std::vector<std::string> title = b.title;
        if (primary) title.insert(title.begin(), "XÁC NHẬN CỦA HIỆU TRƯỞNG");
        if (primary && b.title == principal_title()) title.resize(1);
        block.push_back({primary ? templates::Place::left : templates::Place::right, true, title,
                         "(Ký, ghi rõ họ tên và đóng dấu)", b.name.empty() ? cls.principal.name : b.name});
      } else {
        block.push_back({templates::Place::seal, false, {}, "", ""});
      }
    }
    templates::Context ctx{cls, st, flow, *confirmations, opts.form, 10 + templates::signature_block_height(block)};
    templates::cover(ctx);
    templates::student_page(ctx);
    templates::history(ctx);
    if (st.primary) templates::primary(ctx, *st.primary);
    if (st.secondary) templates::secondary(ctx, *st.secondary);
    std::vector<layout::Box> placed =
        templates::signature_block(flow, templates::date_line(cls.province, templates::record_date(cls.school_year)), block);
    flow.finish("Học bạ – " + st.full_name + " – Mã định danh " + st.personal_id + " – Lớp " + cls.class_name +
                " – Năm học " + cls.school_year);
    doc.embed_fonts();

    // ---- Signature fields.
    for (std::size_t i = 0; i < opts.boxes.size(); ++i) {
      const SignatureBox& b = opts.boxes[i];
      if (opts.fields && std::find(opts.fields->begin(), opts.fields->end(), b.field) == opts.fields->end()) continue;
      std::string tip;
      if (b.box == kBoxSeal) {
        tip = "Con dấu: " + cls.school_name;
      } else {
        const std::string& name = block[i].name;
        bool plain = b.box == kBoxHomeroom ? b.title == std::vector<std::string>{"GIÁO VIÊN CHỦ NHIỆM"} : b.title == principal_title();
        tip = (plain ? std::string(b.box == kBoxHomeroom ? "Giáo viên chủ nhiệm" : "Hiệu trưởng") : templates::join(b.title, " ")) +
              ": " + name;
      }
      doc.signature_field(b.field, tip, placed[i]);
    }

    // ---- Metadata and the associated file.
    document::Description d;
    d.date = templates::record_date(cls.school_year);
    d.title = "Học bạ – " + st.full_name + " – " + cls.class_name + " – " + cls.school_year;
    d.subject = "Học bạ năm học " + cls.school_year + " của học sinh " + st.full_name + " (mã định danh " + st.personal_id +
                "), lớp " + cls.class_name + ", " + cls.school_name;
    d.xmp_namespace = kXmpNamespace;
    d.xmp_schema = "hocba-signer student record";
    d.properties = {
        {"StudentName", st.full_name, "Student's full name"},
        {"PersonalID", st.personal_id, "Student's 12-digit personal identification number"},
        {"School", cls.school_name, "School name"},
        {"SchoolCode", cls.school_code, "School code"},
        {"SchoolYear", cls.school_year, "School year, e.g. 2024-2025"},
        {"ClassName", cls.class_name, "Class"},
        {"Level", level_name(cls.level), "primary, lower_secondary or upper_secondary"},
    };
    // The student's object from the class file (the source), and the same record as XML (its data
    // twin, urn:hocba-signer:record:1, docs/record-xml.md) for the provinces that ask for it.
    d.attachments = {
        {attachment_name(st), "Dữ liệu học bạ (hocba.class/v" + std::to_string(cls.format_version) + ") của học sinh " + st.full_name,
         json, "Source"},
        {kRecordXmlFileName, "Học bạ dạng XML (" + std::string(kRecordXmlNamespace) + ") của học sinh " + st.full_name,
         record_xml(cls, st, *confirmations), "Data", "application/xml"}};
    d.id = *id;
    return doc.write(d);
  });
}

}  // namespace hocba::pdf
