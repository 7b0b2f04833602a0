// The appliance's signing workflow below the API: who may sign which step of which record, the keys
// they sign with, and signing one record's next step (read, sign on the token, write the file
// atomically, commit the record, the signature and its audit entry together). The API's handlers and
// the job engine call this; it knows no HTTP and holds no SQL (store/ repositories do).
#pragma once
#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <utility>

#include "hocba/common/error.h"
#include "hocba/common/metrics.h"
#include "hocba/common/secret.h"
#include "hocba/config/config.h"
#include "hocba/hsm/hsm.h"
#include "hocba/pdf/render.h"
#include "hocba/store/corrections.h"
#include "hocba/store/keys.h"
#include "hocba/store/records.h"
#include "hocba/store/roles.h"
#include "hocba/store/store.h"
#include "hocba/workflow/chain.h"

namespace hocba::signer {
class TimestampClient;
}

namespace hocba::workflow {

// Who acts (after authentication).
struct Actor {
  std::int64_t user_id = 0;
  std::string username, display_name;
  store::Role role = store::Role::viewer;
  std::string actor() const { return "user:" + username; }  // as the audit trail names them
};

// A PKCS#11 key bound in the store.
using BoundKey = store::Key;

struct WorkflowOptions {
  config::Config cfg;              // effective configuration ([workflow] is the chain)
  std::string state_dir;           // records/ and images/ live here
  std::string level;               // effective PAdES level ("B-B" when no TSA is configured)
  std::optional<Secret> seal_pin;  // the sealed PIN of the seal's token, when the school configured one
};

class Workflow {
 public:
  // `store`, `hsm`, `tsa` (may be null: B-B) and `metrics` are not owned and must outlive this.
  Workflow(WorkflowOptions opts, store::Store& store, hsm::Hsm& hsm, signer::TimestampClient* tsa, Metrics& metrics);
  Workflow(const Workflow&) = delete;
  Workflow& operator=(const Workflow&) = delete;

  const Chain& chain() const { return chain_; }
  const WorkflowOptions& options() const { return opts_; }
  // The sealed PIN of the seal's token, if any.
  const Secret* sealed_pin() const { return opts_.seal_pin ? &*opts_.seal_pin : nullptr; }
  // A seal step with a sealed PIN: no PIN (nor a PIN-risk confirmation) is ever sent for it.
  bool uses_sealed_pin(const std::string& step) const { return chain_.is_seal(step) && opts_.seal_pin.has_value(); }

  // A class's school level ("primary", "lower_secondary", "upper_secondary"); "" when no such class.
  std::string class_level(std::int64_t class_id);
  // May `who` sign `step` on records of class `class_id` (0: any class)? "" if yes, else why not.
  std::string may_sign(const Actor& who, const std::string& step, std::int64_t class_id);
  // A seal request that gives a PIN (`pin_given`) or confirm_pin_risk while the seal's PIN is sealed:
  // why it is refused (nobody may send guesses of the seal's PIN to its token); "" if fine.
  std::string sealed_seal_refusal(const std::string& step, bool pin_given, bool confirm_pin_risk) const;

  // Which key signs `step` for `who`: their own key, or the seal's for a seal step (`wanted` 0: the first).
  Result<BoundKey> key_for(const Actor& who, const std::string& step, std::int64_t wanted);
  Result<BoundKey> key_by_id(std::int64_t id);
  // The key on its token, resolved once and kept (forgotten when the token goes away).
  Result<hsm::KeyRef> key_ref(const BoundKey& bk);
  void forget_key_ref(std::int64_t key_id);

  // Signs one record's next step `step` with `key`. `job_id` 0 for an interactive request. The record
  // must be reserved by the caller (Reservation).
  Status sign_record(std::int64_t record_id, const std::string& step, const BoundKey& key, const Secret* pin, const Actor& who,
                     std::int64_t job_id, bool batch, bool confirm_pin_risk = false);

  // --- class import (import.cpp) ------------------------------------------------------------------
  struct ImportedRecord {
    std::string personal_id;
    std::int64_t record_id = 0;
    bool replaced = false;   // an unsigned draft drawn again from new data
    std::string reason;      // kept or failed: why
  };
  struct ImportResult {
    pdf::ClassFile file;     // the parsed class file (its errors and warnings)
    bool class_ok = false;   // false: nothing was stored (the class-level errors say why)
    std::int64_t class_id = 0;
    std::vector<ImportedRecord> created, kept, failed;
    std::string sheets_error;  // the score sheets could not be brought up to date ("" when they were)
  };
  // Imports a class file (hocba.class/v2 or v1, `source` as received): the class, a draft per valid student
  // (an unsigned draft of version 1 is drawn again from new data; a signed or corrected record is kept:
  // it changes by a correction), each rendered with the chain's fields and the confirmed sheets, the
  // audit entry "class.import" by `who`, then the class's score sheets.
  Result<ImportResult> import_class(const Actor& who, const std::string& source);

  // --- subject teachers' score sheets (sheets.cpp) -----------------------------------------------
  // Sheets are made on the events that change them (an import, an approved correction, a teacher
  // assigned), never when someone lists them.
  // Brings a class's score sheets up to date with its records: for each sheet step of its level
  // (e.g. gvbm) and each subject with a known teacher, a new version waits for confirmation when the
  // sheet's data (pdf::score_sheet_data: its scores, teacher, class) hashes differently from its
  // newest version's, and the class's drafts are drawn again; a sheet whose data is unchanged is not
  // rendered. A subject without a teacher gets its sheet once one is assigned. The class is marked
  // dirty in the store first and the mark cleared once done, so that a refresh that fails is made
  // again by refresh_dirty_sheets. One refresh at a time.
  Status refresh_sheets(std::int64_t class_id);
  // refresh_sheets for each class marked dirty (`hocba class teacher`, which cannot render, marks
  // it; teacher_user_id != 0: only the classes where they teach), each once per mark: hocbad's sweep
  // at its start and every 30 s. Stops between two classes once `*stop` is set. Every class is tried;
  // the first error is returned (its class stays marked).
  Status refresh_dirty_sheets(std::int64_t teacher_user_id = 0, const std::atomic<bool>* stop = nullptr);
  // `who` (the admin) makes `username` the teacher of the class's subject (store::Sheets::set_teacher),
  // then the class's sheets are brought up to date.
  Status assign_subject_teacher(const Actor& who, std::int64_t class_id, const std::string& subject, const std::string& username);
  struct SheetOutcome {
    std::int64_t sheet_id = 0, class_id = 0;
    std::string class_name, subject, step;
    bool ok = false;
    std::string error;  // when not ok
  };
  // Confirms every sheet waiting for `who` (their class-subjects; the classes of theirs marked dirty are
  // refreshed first, so that an assignment just made is there) with one PIN entry: each is signed
  // PAdES with their key. Stops at the first error that every next sheet would meet too (the PIN,
  // the token); the outcomes say which were confirmed. Then the drafts of those classes are drawn
  // again, naming each subject's teacher and date.
  Result<std::vector<SheetOutcome>> confirm_sheets(const Actor& who, const Secret* pin, bool confirm_pin_risk = false);
  // Why the class's records cannot take their first record step yet: the subjects whose sheets are
  // not confirmed, with their teachers; "" when none wait (or the level has no sheet step).
  std::string sheets_waiting(std::int64_t class_id);
  // The record's render options for a class: the chain's fields and the confirmed sheets.
  pdf::RenderOptions render_options(std::int64_t class_id);

  // --- what each reader sees of classes and records (records.cpp) ---------------------------------
  // May `who` see class `class_id` and its records? Homeroom teachers see their own classes only;
  // every other role sees every class.
  bool may_see(const Actor& who, std::int64_t class_id);
  // The classes `who` sees.
  Result<std::vector<store::ClassRow>> classes(const Actor& who);
  struct ClassView {
    store::ClassRow info;
    std::vector<store::CurrentRecord> records;  // not superseded, by student name
  };
  // A class and its records. Errc::not_found ("class not found"); Errc::forbidden when `who` may
  // not see it.
  Result<ClassView> class_view(const Actor& who, std::int64_t class_id);
  struct RecordView {
    store::RecordDetail record;
    std::vector<store::RecordSignature> signatures;
    std::vector<store::RecordVersion> versions;  // every version of the student's record, oldest first
  };
  // A record (any version), its signatures and its student's versions. Errc::not_found ("record not
  // found"); Errc::forbidden when `who` may not see it.
  Result<RecordView> record_view(const Actor& who, std::int64_t record_id);
  struct RecordPdf {
    Bytes pdf;
    std::string personal_id;
    std::int64_t version = 0;
  };
  // A record's current file, checked against the hash the store holds. Errc::not_found ("record not
  // found", also when it has no file); Errc::forbidden when `who` may not see it; Errc::bad_pdf when
  // the file does not match its hash (restore it from a backup); read errors as they come.
  Result<RecordPdf> record_pdf(const Actor& who, std::int64_t record_id);
  // Where a record stands in its chain (class, state, steps done, level, file); nullopt when there is
  // no such record.
  Result<std::optional<store::RecordForSigning>> record_state(std::int64_t record_id);

  // --- corrections (corrections.cpp) -------------------------------------------------------------
  // A correction request or decision turned down for what it asks: nothing was changed. (Failures of
  // the appliance, and the refusals that say which record or who, are Errors instead.)
  struct Refusal {
    enum class Kind {
      none,
      conflict,     // the record or correction is in a state that does not allow it now (superseded, decided, being signed)
      invalid,      // a correction cannot do what it asks (change the student's personal ID)
      bad_student,  // the corrected student has errors (CorrectionApproval::problems)
      bad_store,    // the stored class file or correction does not read back as JSON
    };
    Kind kind = Kind::none;
    std::string why;
    explicit operator bool() const { return kind != Kind::none; }
  };
  struct CorrectionRequest {
    std::int64_t id = 0;  // the new correction's
    Refusal refused;      // conflict: the record's version is superseded
  };
  // `who` asks for a correction of the record: `student_json` the corrected student (the class file's format),
  // `why` the reason. The correction waits for the admin, audited "correction.request".
  // Errc::not_found ("record not found"); Errc::forbidden when `who` may not see the record;
  // Errc::invalid_argument when a correction of the record waits already.
  Result<CorrectionRequest> request_correction(const Actor& who, std::int64_t record_id, const std::string& student_json,
                                               const std::string& why);
  // The corrections `who` sees, newest first: a homeroom teacher those they asked for, everyone else all.
  Result<std::vector<store::Correction>> corrections(const Actor& who);
  struct CorrectionApproval {
    Refusal refused;
    std::vector<pdf::Problem> problems;        // bad_student: the corrected student's errors
    std::int64_t new_record_id = 0, version = 0;
    std::string sheets_error;  // the class's score sheets could not be brought up to date ("" when they were)
  };
  // `who` (the admin) approves a pending correction: the corrected student is read in its class's
  // file, a new version of the record is rendered and written durably, the old one superseded (kept),
  // audited "correction.approve"; then the class's score sheets are brought up to date.
  // Errc::not_found ("correction not found"). Refused: conflict when it was decided already or the
  // record is being signed right now; invalid when it changes the personal ID; bad_student, bad_store.
  Result<CorrectionApproval> approve_correction(const Actor& who, std::int64_t id, const std::string& note);
  // `who` (the admin) rejects a pending correction, audited "correction.reject". Errc::not_found
  // ("pending correction not found") when there is no such correction or it was decided already.
  Status reject_correction(const Actor& who, std::int64_t id, const std::string& note);

  // Records being signed right now (by a request or a job): nobody else touches them meanwhile.
  bool reserve(std::int64_t record_id);
  void release(std::int64_t record_id);
  // Holds a record reserved while alive; false when it was busy.
  class Reservation {
   public:
    Reservation() = default;
    Reservation(Workflow& wf, std::int64_t record_id) : wf_(wf.reserve(record_id) ? &wf : nullptr), id_(record_id) {}
    ~Reservation() { reset(); }
    Reservation(Reservation&& o) noexcept : wf_(std::exchange(o.wf_, nullptr)), id_(o.id_) {}
    Reservation& operator=(Reservation&& o) noexcept {
      if (this != &o) {
        reset();
        wf_ = std::exchange(o.wf_, nullptr);
        id_ = o.id_;
      }
      return *this;
    }
    explicit operator bool() const { return wf_ != nullptr; }
    void reset() {
      if (wf_) wf_->release(id_);
      wf_ = nullptr;
    }

   private:
    Workflow* wf_ = nullptr;
    std::int64_t id_ = 0;
  };

  // records/CLASS/PERSONAL_ID/vVERSION-STEP.pdf, relative to the state folder.
  std::string record_path(std::int64_t class_id, const std::string& personal_id, std::int64_t version, std::size_t step) const;
  std::string abs(const std::string& rel) const { return opts_.state_dir + "/" + rel; }
  pdf::RenderOptions render_options(const std::string& level) const;

 private:
  // Signs `in` on the token for `step_def` (its field, reason, title block, seal image).
  Result<Bytes> sign_bytes(const Bytes& in, const config::Step& step_def, bool first, const BoundKey& key, const Secret* pin,
                           const Actor& who, bool batch, bool confirm_pin_risk);
  // Draws the class's drafts (no signature yet) again with render_options(class_id).
  Status redraw_drafts(std::int64_t class_id);
  // refresh_sheets' work, under sheets_mu_.
  Status update_sheets(std::int64_t class_id);
  std::mutex sheets_mu_;
  WorkflowOptions opts_;
  store::Store& store_;
  hsm::Hsm& hsm_;
  signer::TimestampClient* tsa_;
  Metrics& metrics_;
  Chain chain_;
  std::mutex busy_mu_;
  std::set<std::int64_t> busy_;
  std::mutex key_refs_mu_;
  std::map<std::int64_t, hsm::KeyRef> key_refs_;
};

}  // namespace hocba::workflow
