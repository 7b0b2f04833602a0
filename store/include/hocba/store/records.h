// Classes and records (the classes, records and signatures tables): what the workflow reads and
// writes about a class's level and homeroom teacher and a record's place in its chain. No SQLite type
// appears here. Writes that belong with other changes take the caller's transaction (Tx&).
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "hocba/common/error.h"
#include "hocba/store/store.h"

namespace hocba::store {

// A class as its list and its page show it.
struct ClassRow {
  std::int64_t id = 0;
  std::string school_year, name;
  std::int64_t homeroom_user_id = 0;             // 0: no homeroom teacher bound
  std::string homeroom_username, homeroom_name;  // "" when none is bound
  std::int64_t records = 0, final_records = 0;   // its records not superseded; of those, the final ones
};

class Classes {
 public:
  explicit Classes(Store& store) : store_(&store) {}
  // The class `school_year`/`name` made or updated from its class file (`source`, JSON), in `tx`: a new
  // class gets the homeroom teacher `homeroom_username` when that is an active homeroom teacher; an
  // existing one keeps its teacher (or gets that one when it has none). Returns the class's id.
  static Result<std::int64_t> upsert(Tx& tx, const std::string& school_year, const std::string& name,
                                     const std::string& homeroom_username, const std::string& source, const std::string& at);
  // The class file the class was imported from (JSON); nullopt when there is no such class.
  Result<std::optional<std::string>> source(std::int64_t class_id);
  // The class's school level from its class file ("primary", "lower_secondary", "upper_secondary");
  // nullopt when there is no such class.
  Result<std::optional<std::string>> level(std::int64_t class_id);
  // The class's homeroom teacher's user id (0 when none is bound); nullopt when there is no such class.
  Result<std::optional<std::int64_t>> homeroom(std::int64_t class_id);
  // The classes, newest school year first, then by name; `homeroom_user_id` 0: every class, else
  // only that homeroom teacher's.
  Result<std::vector<ClassRow>> list(std::int64_t homeroom_user_id);
  // One class; nullopt when there is no such class.
  Result<std::optional<ClassRow>> get(std::int64_t class_id);

 private:
  Store* store_;
};

// A record as the signing step needs it.
struct RecordForSigning {
  std::int64_t class_id = 0, version = 0, steps_done = 0;
  std::string personal_id, state, pdf_path, pdf_sha256;
  std::string level;  // its class's level
};

// A new signature on a record (Records::add_signature).
struct NewSignature {
  std::int64_t record_id = 0, step = 0, user_id = 0, key_id = 0, job_id = 0;  // job_id 0: interactive
  std::string field, pdf_path, pdf_sha256, at;
  bool final = false;  // the record's last step: it becomes "final"
};

// A record of a class as it stands now (its newest version).
struct CurrentRecord {
  std::int64_t id = 0, version = 0, steps_done = 0;
  std::string personal_id, state, student_json, pdf_path, pdf_sha256;
  std::string student_name, error;  // error: why it failed ("" when it did not)
};

// One version of a record with its class, as a reader sees it (Records::detail).
struct RecordDetail {
  std::int64_t id = 0, class_id = 0, version = 0, steps_done = 0;
  std::string personal_id, student_name, state, pdf_sha256, error, updated_at;
  std::int64_t superseded_by = 0;  // the version that replaced it (0: none)
  std::string class_name, school_year, level;
  std::string student_json;  // the student it was drawn from (the class file's format, hocba.class/v2 or v1)
};

// A signature on a record (Records::signatures).
struct RecordSignature {
  std::int64_t step = 0;
  std::string field, username;  // username: who signed ("" when unknown)
  std::int64_t key_id = 0, job_id = 0;  // job_id 0: signed interactively
  std::string signed_at;
};

// A version of a student's record in a class (Records::versions).
struct RecordVersion {
  std::int64_t id = 0, version = 0;
  std::string state;
};

// The newest version of a student's record in a class (Records::newest).
struct NewestRecord {
  std::int64_t id = 0, steps_done = 0, version = 0;
  std::string state;
};

class Records {
 public:
  static Result<std::optional<NewestRecord>> newest(Tx& tx, std::int64_t class_id, const std::string& personal_id);
  // A new draft (version 1, nothing signed) in `tx`; its file comes later (set_rendered). Returns its id.
  static Result<std::int64_t> add_draft(Tx& tx, std::int64_t class_id, const std::string& personal_id, const std::string& student_name,
                                        const std::string& student_json, const std::string& pdf_path, const std::string& at);
  // A corrected version `version` of a student's record, a draft already rendered to `pdf_path`, in
  // `tx`. Returns its id.
  static Result<std::int64_t> add_version(Tx& tx, std::int64_t class_id, const std::string& personal_id, const std::string& student_name,
                                          std::int64_t version, const std::string& student_json, const std::string& pdf_path,
                                          const std::string& pdf_sha256, const std::string& at);
  // The record `record_id` is replaced by the version `new_id` (it stays, superseded), in `tx`.
  static Status supersede(Tx& tx, std::int64_t record_id, std::int64_t new_id, const std::string& at);
  // An unsigned draft takes new data (its file is drawn again: set_rendered), in `tx`.
  static Status replace_draft(Tx& tx, std::int64_t record_id, const std::string& student_name, const std::string& student_json,
                              const std::string& at);
  // A draft's file is written: its hash. Or it could not be: the record fails with the reason.
  Status set_rendered(std::int64_t record_id, const std::string& pdf_sha256);
  Status set_failed(std::int64_t record_id, const std::string& why);
  // The class's records that are not superseded, by student name.
  Result<std::vector<CurrentRecord>> current(std::int64_t class_id);
  // One record (any version) with its class; nullopt when there is no such record.
  Result<std::optional<RecordDetail>> detail(std::int64_t record_id);
  // The record's signatures, by step.
  Result<std::vector<RecordSignature>> signatures(std::int64_t record_id);
  // Every version of a student's record in a class, oldest first.
  Result<std::vector<RecordVersion>> versions(std::int64_t class_id, const std::string& personal_id);
  // A draft (nothing signed) rendered again to a new file: its path and hash. Errc::invalid_argument
  // when it has a signature by now.
  Status redraw_draft(std::int64_t record_id, const std::string& pdf_path, const std::string& pdf_sha256, const std::string& at);
  explicit Records(Store& store) : store_(&store) {}
  Result<std::optional<RecordForSigning>> for_signing(std::int64_t record_id);
  // Moves the record from step s.step to s.step + 1 with its new file and adds the signature row, in
  // `tx`. Errc::invalid_argument when the record is no longer at s.step (changed meanwhile).
  static Status add_signature(Tx& tx, const NewSignature& s);
  // The job that made the signature of `step` on the record (0 when interactive or none).
  Result<std::int64_t> signature_job(std::int64_t record_id, std::int64_t step);

 private:
  Store* store_;
};

}  // namespace hocba::store
