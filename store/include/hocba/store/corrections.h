// Corrections of records (the corrections table): a changed student asked for by a signer, waiting
// for the admin, then approved (a new version of the record) or rejected. No SQLite type appears here.
// Writes that belong with other changes take the caller's transaction (Tx&).
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "hocba/common/error.h"
#include "hocba/store/store.h"

namespace hocba::store {

// A correction as its list shows it, with its record.
struct Correction {
  std::int64_t id = 0, record_id = 0;
  std::string requested_by;  // the username of who asked
  std::string why, state, note;  // state: pending | approved | rejected; note: the admin's
  std::int64_t new_record_id = 0;  // the version it made (0: not approved)
  std::string created_at;
  std::string student_name, personal_id;  // the record's
  std::string student_json;               // the corrected student (the class file's format, hocba.class/v2 or v1)
  std::string current_student_json;       // the record's student
};

// A correction with what deciding it needs: its record and the record's class file.
struct CorrectionToDecide {
  std::int64_t id = 0, record_id = 0, class_id = 0, version = 0;  // version: the record's
  std::string state, student_json, personal_id;
  std::string class_source_json;
};

class Corrections {
 public:
  explicit Corrections(Store& store) : store_(&store) {}
  // The corrections, newest first; `requested_by` 0: everyone's, else only those that user asked for.
  Result<std::vector<Correction>> list(std::int64_t requested_by);
  // nullopt when there is no such correction.
  Result<std::optional<CorrectionToDecide>> to_decide(std::int64_t id);
  // The correction of the record waiting for the admin, in `tx`; nullopt when none waits.
  static Result<std::optional<std::int64_t>> pending(Tx& tx, std::int64_t record_id);
  // A new correction, pending, in `tx`: its id.
  static Result<std::int64_t> add(Tx& tx, std::int64_t record_id, std::int64_t requested_by, const std::string& student_json,
                                  const std::string& why, const std::string& at);
  // The pending correction `id` is approved (the record's new version `new_record_id`) or rejected by
  // `decided_by`, in `tx`. False, and nothing changed, when it is not pending (no such correction, or
  // decided already).
  static Result<bool> approve(Tx& tx, std::int64_t id, std::int64_t decided_by, const std::string& note, std::int64_t new_record_id,
                              const std::string& at);
  static Result<bool> reject(Tx& tx, std::int64_t id, std::int64_t decided_by, const std::string& note, const std::string& at);

 private:
  Store* store_;
};

}  // namespace hocba::store
