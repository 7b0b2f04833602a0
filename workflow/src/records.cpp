// What each reader sees of classes and records: see workflow.h ("what each reader sees").
#include "hocba/common/bytes.h"
#include "hocba/common/fileio.h"
#include "hocba/store/records.h"
#include "hocba/workflow/workflow.h"

namespace hocba::workflow {

bool Workflow::may_see(const Actor& who, std::int64_t class_id) {
  if (who.role != store::Role::homeroom_teacher) return true;
  auto homeroom = store::Classes(store_).homeroom(class_id);
  return homeroom && *homeroom && **homeroom == who.user_id;
}

Result<std::vector<store::ClassRow>> Workflow::classes(const Actor& who) {
  return store::Classes(store_).list(who.role == store::Role::homeroom_teacher ? who.user_id : 0);
}

Result<Workflow::ClassView> Workflow::class_view(const Actor& who, std::int64_t class_id) {
  auto info = store::Classes(store_).get(class_id);
  if (!info) return info.error();
  if (!*info) return make_error(Errc::not_found, "class not found");
  if (!may_see(who, class_id)) return make_error(Errc::forbidden, "you are not the homeroom teacher of this class");
  auto records = store::Records(store_).current(class_id);
  if (!records) return records.error();
  return ClassView{std::move(**info), std::move(*records)};
}

Result<Workflow::RecordView> Workflow::record_view(const Actor& who, std::int64_t record_id) {
  store::Records records(store_);
  auto rec = records.detail(record_id);
  if (!rec) return rec.error();
  if (!*rec) return make_error(Errc::not_found, "record not found");
  if (!may_see(who, (*rec)->class_id)) return make_error(Errc::forbidden, "this record is not in your class");
  auto sigs = records.signatures(record_id);
  if (!sigs) return sigs.error();
  auto versions = records.versions((*rec)->class_id, (*rec)->personal_id);
  if (!versions) return versions.error();
  return RecordView{std::move(**rec), std::move(*sigs), std::move(*versions)};
}

Result<Workflow::RecordPdf> Workflow::record_pdf(const Actor& who, std::int64_t record_id) {
  auto rec = record_state(record_id);
  if (!rec) return rec.error();
  if (!*rec || (*rec)->pdf_path.empty()) return make_error(Errc::not_found, "record not found");
  const store::RecordForSigning& r = **rec;
  if (!may_see(who, r.class_id)) return make_error(Errc::forbidden, "this record is not in your class");
  auto b = read_file(abs(r.pdf_path));
  if (!b) return b.error();
  if (sha256_hex(*b) != r.pdf_sha256)
    return make_error(Errc::bad_pdf, "the record's file does not match the hash in the store; restore it from a backup");
  return RecordPdf{std::move(*b), r.personal_id, r.version};
}

Result<std::optional<store::RecordForSigning>> Workflow::record_state(std::int64_t record_id) {
  return store::Records(store_).for_signing(record_id);
}

}  // namespace hocba::workflow
