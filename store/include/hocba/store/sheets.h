// Subject teachers and their score sheets (the class_subjects, sheets and sheets_dirty tables): who
// teaches each subject of a class, the versions of each class-subject's sheet, waiting for its
// teacher's confirmation or confirmed (signed), and the classes whose sheets may be out of date
// (marked: hocbad refreshes them). No SQLite type appears here.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "hocba/common/error.h"
#include "hocba/store/store.h"

namespace hocba::store {

struct ClassSubject {
  std::int64_t class_id = 0;
  std::string subject;
  std::int64_t teacher_user_id = 0;  // 0: no teacher assigned yet
  std::string teacher_username, teacher_name;
};

struct Sheet {
  std::int64_t id = 0, class_id = 0, version = 0;
  std::string class_name, school_year, subject, step, state;  // state: waiting | confirmed | superseded
  // data_sha256: the hash of what the sheet shows (pdf::score_sheet_data), whatever its version; a
  // sheet made before schema 7 holds "pdf:" and its unsigned PDF's hash instead.
  std::string data_sha256, pdf_path, pdf_sha256;
  std::int64_t confirmed_by = 0, key_id = 0;
  std::string confirmed_by_name, confirmed_at;
  std::int64_t teacher_user_id = 0;  // the class-subject's teacher now (0: none)
  std::string teacher_username, teacher_name;
};

class Sheets {
 public:
  explicit Sheets(Store& store) : store_(&store) {}

  // The class's subjects and their teachers, by subject.
  Result<std::vector<ClassSubject>> subjects(std::int64_t class_id);
  // Sets the teacher of a class's subject (an active subject_teacher user), audited
  // "class.subject_teacher" by `actor`, and marks the class's sheets dirty in the same transaction.
  // Errc::not_found for an unknown class or subject, Errc::invalid_argument for a user who is not an
  // active subject teacher.
  Status set_teacher(const std::string& actor, std::int64_t class_id, const std::string& subject, const std::string& username);
  // Adds the subject to the class when it is not there yet (teacher: the user `username` when it is an
  // active subject teacher, else none), in `tx`; an existing subject keeps its teacher unless it has none.
  static Status ensure_subject(Tx& tx, std::int64_t class_id, const std::string& subject, const std::string& username);

  // Dirty marks: a class whose sheets may not match its data any more. Each mark of a class raises
  // its generation; clearing names the generation the refresh started from, so that a mark made
  // meanwhile (by `hocba class teacher` in another process) stays. mark_dirty returns the generation
  // (0, and no mark, when there is no such class).
  static Result<std::int64_t> mark_dirty(Tx& tx, std::int64_t class_id);
  Result<std::int64_t> mark_dirty(std::int64_t class_id);
  Status clear_dirty(std::int64_t class_id, std::int64_t generation);
  // The marked classes, oldest mark first; `teacher_user_id` != 0: only those where they teach a subject.
  Result<std::vector<std::int64_t>> dirty_classes(std::int64_t teacher_user_id = 0);
  // The newest version of each class-subject-step sheet of a class (superseded ones left out).
  Result<std::vector<Sheet>> current(std::int64_t class_id);
  // The newest sheets of every class whose subject `teacher_user_id` teaches (0: every class).
  Result<std::vector<Sheet>> of_teacher(std::int64_t teacher_user_id);
  Result<std::optional<Sheet>> by_id(std::int64_t id);
  // A new version of a class-subject-step's sheet, waiting: the version before it (if any) becomes
  // superseded. Returns the new sheet's id.
  static Result<std::int64_t> add_version(Tx& tx, std::int64_t class_id, const std::string& subject, const std::string& step,
                                          const std::string& data_sha256, const std::string& pdf_path, const std::string& pdf_sha256,
                                          const std::string& at);
  // A sheet made before schema 7 found to show `data_sha256`'s data: it takes that hash, and keeps its
  // version and state.
  Status adopt_data_sha256(std::int64_t id, const std::string& data_sha256);
  // The sheet `id` (still waiting) becomes confirmed with its signed file. Errc::invalid_argument
  // when it is no longer waiting.
  static Status confirm(Tx& tx, std::int64_t id, std::int64_t user_id, std::int64_t key_id, const std::string& pdf_path,
                        const std::string& pdf_sha256, const std::string& at);

 private:
  Store* store_;
};

}  // namespace hocba::store
