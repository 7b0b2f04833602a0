// workflow::Chain and workflow::Workflow in-process: the chain each level's records take, who signs
// each step (a deputy for the principal), and the refusals; what each reader sees of classes and
// records; corrections from request to decision; against a throw-away store.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <filesystem>

#include "hocba/common/bytes.h"
#include "hocba/common/fileio.h"
#include "hocba/common/metrics.h"
#include "hocba/config/config.h"
#include "hocba/hsm/hsm.h"
#include "hocba/store/keys.h"
#include "hocba/store/users.h"
#include "hocba/workflow/chain.h"
#include "hocba/workflow/workflow.h"
#include "test_env.h"
#include "workflow_fixture.h"

namespace hocba::test {
namespace {

using workflow::Chain;

config::Config parse(const std::string& toml) {
  auto c = config::parse_config(toml);
  EXPECT_TRUE(c) << c.error().message;
  return c ? *c : config::default_config();
}

TEST(WorkflowChain, DefaultsPerLevel) {
  Chain c(config::default_config().workflow);
  EXPECT_EQ(c.record_steps("primary"), (std::vector<std::string>{"gvcn", "hieu_truong", "con_dau"}));
  EXPECT_TRUE(c.sheet_steps("primary").empty());
  EXPECT_EQ(c.record_steps("lower_secondary"), (std::vector<std::string>{"gvcn", "hieu_truong", "con_dau"}));
  EXPECT_EQ(c.sheet_steps("lower_secondary"), (std::vector<std::string>{"gvbm"}));
  EXPECT_EQ(c.sheet_steps("upper_secondary"), (std::vector<std::string>{"gvbm"}));
  EXPECT_TRUE(c.record_steps("kindergarten").empty());
  EXPECT_EQ(c.position("primary", "hieu_truong"), 1);
  EXPECT_EQ(c.position("primary", "gvbm"), -1);  // a sheet step is no record step
  EXPECT_EQ(c.record_fields(), (std::vector<std::string>{"gvcn", "hieu_truong", "con_dau"}));
  EXPECT_TRUE(c.is_seal("con_dau"));
  EXPECT_FALSE(c.is_seal("hieu_truong"));
}

TEST(WorkflowChain, WhoSignsWhat) {
  Chain c(config::default_config().workflow);
  EXPECT_TRUE(c.may_sign("principal", "hieu_truong"));
  EXPECT_TRUE(c.may_sign("deputy_principal", "hieu_truong"));
  EXPECT_TRUE(c.is_substitute("deputy_principal", "hieu_truong"));
  EXPECT_FALSE(c.is_substitute("principal", "hieu_truong"));
  EXPECT_FALSE(c.may_sign("homeroom_teacher", "hieu_truong"));
  EXPECT_FALSE(c.may_sign("deputy_principal", "gvcn"));
  EXPECT_TRUE(c.may_sign("subject_teacher", "gvbm"));
  EXPECT_FALSE(c.may_sign("admin", "con_dau"));
  EXPECT_EQ(c.record_steps_for("deputy_principal"), (std::vector<std::string>{"hieu_truong", "con_dau"}));
  EXPECT_EQ(c.default_step_for("homeroom_teacher"), "gvcn");
  EXPECT_EQ(c.default_step_for("viewer"), "");
}

TEST(WorkflowChain, OldStepsListSetsEveryLevelAndANewStepIsData) {
  Chain old(parse("[workflow]\nsteps = [\"con_dau\", \"gvcn\"]\n").workflow);
  for (const char* level : {"primary", "lower_secondary", "upper_secondary"}) {
    EXPECT_EQ(old.record_steps(level), (std::vector<std::string>{"con_dau", "gvcn"})) << level;
    EXPECT_TRUE(old.sheet_steps(level).empty()) << level;
  }
  // A school adds a vice-principal's check between the homeroom teacher and the principal, in upper
  // secondary only: configuration, no code.
  Chain added(parse("[workflow]\nupper_secondary = [\"gvbm\", \"gvcn\", \"kiem_tra\", \"hieu_truong\", \"con_dau\"]\n\n"
                    "[workflow.steps.kiem_tra]\nrole = \"deputy_principal\"\nlabel = \"Phó hiệu trưởng kiểm tra\"\n")
                  .workflow);
  EXPECT_EQ(added.position("upper_secondary", "kiem_tra"), 1);
  EXPECT_EQ(added.position("lower_secondary", "kiem_tra"), -1);
  EXPECT_TRUE(added.may_sign("deputy_principal", "kiem_tra"));
  EXPECT_FALSE(added.may_sign("principal", "kiem_tra"));
  EXPECT_EQ(added.record_fields(), (std::vector<std::string>{"gvcn", "kiem_tra", "hieu_truong", "con_dau"}));
}

// [forms] reaches the records the workflow renders (pdf::FormOptions); the defaults follow the forms.
TEST(WorkflowChain, FormsOptionsComeFromTheConfiguration) {
  Fixture plain;
  EXPECT_FALSE(plain.wf.render_options("primary").form.primary_homeroom_comment);
  EXPECT_FALSE(plain.wf.render_options("upper_secondary").form.secondary_subject_comments);
  Fixture f(parse("[forms]\nprimary_homeroom_comment = true\nsecondary_subject_comments = true\n"));
  EXPECT_TRUE(f.wf.render_options("primary").form.primary_homeroom_comment);
  EXPECT_TRUE(f.wf.render_options("lower_secondary").form.secondary_subject_comments);
  EXPECT_FALSE(config::parse_config("[forms]\nprimary_homeroom_comment = 1\n")) << "a boolean, not a number";
}

TEST(WorkflowRules, MaySignFollowsTheChainAndItsSubstitutes) {
  Fixture f;
  auto ht = f.add("ht", store::Role::principal);
  auto pho = f.add("pho", store::Role::deputy_principal);
  auto gv = f.add("gv", store::Role::homeroom_teacher);
  auto bm = f.add("bm", store::Role::subject_teacher);
  EXPECT_EQ(f.wf.may_sign(ht, "hieu_truong", 0), "");
  EXPECT_EQ(f.wf.may_sign(pho, "hieu_truong", 0), "");
  EXPECT_EQ(f.wf.may_sign(pho, "con_dau", 0), "");
  EXPECT_NE(f.wf.may_sign(gv, "hieu_truong", 0).find("signed by the principal or deputy_principal"), std::string::npos)
      << f.wf.may_sign(gv, "hieu_truong", 0);
  EXPECT_NE(f.wf.may_sign(bm, "gvbm", 0).find("score sheets"), std::string::npos);  // not a record step
  EXPECT_NE(f.wf.may_sign(ht, "nope", 0).find("no step nope"), std::string::npos);
  // A class that does not exist is refused for a homeroom teacher.
  EXPECT_EQ(f.wf.may_sign(gv, "gvcn", 42), "no such class");
}

TEST(WorkflowRules, KeysForAStepAndTheSealedSeal) {
  Fixture f;
  auto ht = f.add("ht", store::Role::principal);
  auto none = f.wf.key_for(ht, "hieu_truong", 0);
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().code, Errc::not_found);
  auto seal_none = f.wf.key_for(ht, "con_dau", 0);
  ASSERT_FALSE(seal_none);
  EXPECT_NE(seal_none.error().message.find("school seal"), std::string::npos);
  auto id = store::Keys(f.st).bind("test", "pkcs11:token=X;object=ht", "ht", std::optional<std::string>("ht"));
  ASSERT_TRUE(id) << id.error().message;
  auto mine = f.wf.key_for(ht, "hieu_truong", 0);
  ASSERT_TRUE(mine) << mine.error().message;
  EXPECT_EQ(mine->id, *id);
  auto other = f.wf.key_for(ht, "hieu_truong", *id + 1);
  ASSERT_FALSE(other);
  EXPECT_EQ(other.error().code, Errc::forbidden);
  // No sealed PIN configured: nothing to refuse.
  EXPECT_EQ(f.wf.sealed_seal_refusal("con_dau", true, false), "");
}

// --- readers and corrections --------------------------------------------------------------------------

namespace json = boost::json;
using Kind = workflow::Workflow::Refusal::Kind;

// The sample class 3A (primary: no score sheets) cut to its first two students, imported by the
// admin, its homeroom teacher gvcn.3a; another homeroom teacher (gvcn.3b) and the principal.
struct Class3A : Fixture {
  workflow::Actor admin = add("admin", store::Role::admin), gv = add("gvcn.3a", store::Role::homeroom_teacher),
                  other = add("gvcn.3b", store::Role::homeroom_teacher), ht = add("ht", store::Role::principal);
  json::object file = sample();
  std::int64_t class_id = 0;
  std::vector<std::int64_t> records;

  Class3A() {
    auto imp = wf.import_class(admin, json::serialize(file));
    if (!imp || !imp->class_ok || imp->created.size() != 2 || !imp->failed.empty()) throw std::runtime_error("cannot import 3A");
    class_id = imp->class_id;
    for (const auto& r : imp->created) records.push_back(r.record_id);
  }
  static json::object sample() {
    auto text = read_file(std::string(HOCBA_TEST_DATA) + "/samples/primary-3A.json");
    if (!text) throw std::runtime_error(text.error().message);
    json::object o = json::parse(std::string(text->begin(), text->end())).as_object();
    json::array& students = o.at("students").as_array();
    students.erase(students.begin() + 2, students.end());
    return o;
  }
  // The student of record `record_id` as the class file has it.
  json::object student(std::int64_t record_id) {
    auto view = wf.record_view(admin, record_id);
    if (!view) throw std::runtime_error(view.error().message);
    for (const json::value& s : file.at("students").as_array())
      if (s.at("personal_id").as_string() == view->record.personal_id) return s.as_object();
    throw std::runtime_error("no such student");
  }
  // `who` asks for a correction of `record_id` to `changed`; its id.
  std::int64_t request(const workflow::Actor& who, std::int64_t record_id, const json::object& changed) {
    auto r = wf.request_correction(who, record_id, json::serialize(changed), "nhập sai nhận xét");
    if (!r || r->refused) throw std::runtime_error(r ? r->refused.why : r.error().message);
    return r->id;
  }
  std::vector<store::AuditEntry> audit(const std::string& action) {
    auto all = st.audit_entries(0, 1000);
    if (!all) throw std::runtime_error(all.error().message);
    std::vector<store::AuditEntry> out;
    for (const store::AuditEntry& e : *all)
      if (e.action == action) out.push_back(e);
    return out;
  }
};

TEST(WorkflowReaders, AHomeroomTeacherSeesTheirOwnClassOnly) {
  Class3A f;
  EXPECT_TRUE(f.wf.may_see(f.gv, f.class_id));
  EXPECT_FALSE(f.wf.may_see(f.other, f.class_id));
  EXPECT_TRUE(f.wf.may_see(f.ht, f.class_id));
  EXPECT_FALSE(f.wf.may_see(f.gv, 4242));
  ASSERT_EQ(f.wf.classes(f.gv)->size(), 1u);
  EXPECT_TRUE(f.wf.classes(f.other)->empty());
  ASSERT_EQ(f.wf.classes(f.ht)->size(), 1u);
  EXPECT_EQ(f.wf.classes(f.ht)->front().homeroom_username, "gvcn.3a");

  auto view = f.wf.class_view(f.gv, f.class_id);
  ASSERT_TRUE(view) << view.error().message;
  EXPECT_EQ(view->info.name, "3A");
  ASSERT_EQ(view->records.size(), 2u);
  auto theirs = f.wf.class_view(f.other, f.class_id);
  ASSERT_FALSE(theirs);
  EXPECT_EQ(theirs.error().code, Errc::forbidden);
  EXPECT_EQ(theirs.error().message, "you are not the homeroom teacher of this class");
  auto none = f.wf.class_view(f.ht, 4242);
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().code, Errc::not_found);
  EXPECT_EQ(none.error().message, "class not found");

  const std::int64_t r = f.records[0];
  auto rec = f.wf.record_view(f.gv, r);
  ASSERT_TRUE(rec) << rec.error().message;
  EXPECT_EQ(rec->record.state, "draft");
  EXPECT_EQ(rec->record.level, "primary");
  EXPECT_TRUE(rec->signatures.empty());
  ASSERT_EQ(rec->versions.size(), 1u);
  EXPECT_EQ(json::parse(rec->record.student_json).as_object().at("personal_id"), json::value(rec->record.personal_id));
  auto hidden = f.wf.record_view(f.other, r);
  ASSERT_FALSE(hidden);
  EXPECT_EQ(hidden.error().code, Errc::forbidden);
  EXPECT_EQ(hidden.error().message, "this record is not in your class");
  EXPECT_EQ(f.wf.record_view(f.ht, 4242).error().code, Errc::not_found);
}

TEST(WorkflowReaders, ARecordsFileIsGivenOnlyWhenItMatchesItsHash) {
  Class3A f;
  const std::int64_t r = f.records[0];
  auto pdf = f.wf.record_pdf(f.gv, r);
  ASSERT_TRUE(pdf) << pdf.error().message;
  auto state = f.wf.record_state(r);
  ASSERT_TRUE(state && *state);
  EXPECT_EQ(sha256_hex(pdf->pdf), (*state)->pdf_sha256);
  EXPECT_EQ(pdf->personal_id, (*state)->personal_id);
  EXPECT_EQ(pdf->version, 1);
  EXPECT_EQ(f.wf.record_pdf(f.other, r).error().code, Errc::forbidden);
  EXPECT_EQ(f.wf.record_pdf(f.gv, 4242).error().code, Errc::not_found);
  // One byte changed on disk: refused, to be restored from a backup.
  Bytes changed = pdf->pdf;
  changed[changed.size() / 2] ^= 1;
  ASSERT_TRUE(write_file_atomic(f.wf.abs((*state)->pdf_path), changed, 0640));
  auto bad = f.wf.record_pdf(f.gv, r);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, Errc::bad_pdf);
  EXPECT_NE(bad.error().message.find("restore it from a backup"), std::string::npos);
}

TEST(WorkflowCorrections, OneRequestWaitsPerRecordAndIsAudited) {
  Class3A f;
  const std::int64_t r = f.records[0];
  json::object changed = f.student(r);
  changed["residence"] = "Số 7 đường Ngô Sỹ Kiện";
  EXPECT_EQ(f.wf.request_correction(f.other, r, json::serialize(changed), "sai địa chỉ").error().code, Errc::forbidden);
  auto missing = f.wf.request_correction(f.gv, 4242, json::serialize(changed), "sai địa chỉ");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().message, "record not found");
  std::int64_t k = f.request(f.gv, r, changed);
  auto again = f.wf.request_correction(f.ht, r, json::serialize(changed), "sai địa chỉ");
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, Errc::invalid_argument);
  EXPECT_EQ(again.error().message, "correction " + std::to_string(k) + " is already waiting for the admin");
  f.request(f.gv, f.records[1], f.student(f.records[1]));  // another record may have its own

  auto logged = f.audit("correction.request");
  ASSERT_EQ(logged.size(), 2u);
  EXPECT_EQ(logged[0].actor, "user:gvcn.3a");
  EXPECT_EQ(logged[0].detail_json,
            json::serialize(json::object{{"correction_id", k}, {"record_id", r}, {"why", "nhập sai nhận xét"}}));
  // A homeroom teacher sees the corrections they asked for; the admin every one.
  EXPECT_EQ(f.wf.corrections(f.gv)->size(), 2u);
  EXPECT_TRUE(f.wf.corrections(f.other)->empty());
  auto all = f.wf.corrections(f.admin);
  ASSERT_TRUE(all);
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ(all->back().id, k);
  EXPECT_EQ(all->back().state, "pending");
  EXPECT_EQ(json::parse(all->back().student_json), json::value(changed));
}

TEST(WorkflowCorrections, AnApprovalRendersANewVersionAndSupersedesTheOldOne) {
  Class3A f;
  const std::int64_t r = f.records[0];
  json::object changed = f.student(r);
  changed["residence"] = "Số 7 đường Ngô Sỹ Kiện";
  std::int64_t k = f.request(f.gv, r, changed);
  auto ok = f.wf.approve_correction(f.admin, k, "đồng ý");
  ASSERT_TRUE(ok) << ok.error().message;
  ASSERT_FALSE(ok->refused) << ok->refused.why;
  EXPECT_EQ(ok->version, 2);
  EXPECT_EQ(ok->sheets_error, "");

  auto old = f.wf.record_view(f.gv, r);
  ASSERT_TRUE(old);
  EXPECT_EQ(old->record.state, "superseded");
  EXPECT_EQ(old->record.superseded_by, ok->new_record_id);
  auto fresh = f.wf.record_view(f.gv, ok->new_record_id);
  ASSERT_TRUE(fresh);
  EXPECT_EQ(fresh->record.state, "draft");
  EXPECT_EQ(fresh->record.version, 2);
  EXPECT_EQ(json::parse(fresh->record.student_json).as_object().at("residence"), json::value("Số 7 đường Ngô Sỹ Kiện"));
  ASSERT_EQ(fresh->versions.size(), 2u);
  // Its file is written and matches the store; the old version's stays readable.
  auto pdf = f.wf.record_pdf(f.gv, ok->new_record_id);
  ASSERT_TRUE(pdf) << pdf.error().message;
  EXPECT_EQ(pdf->version, 2);
  EXPECT_TRUE(f.wf.record_pdf(f.gv, r));
  auto view = f.wf.class_view(f.gv, f.class_id);
  ASSERT_TRUE(view);
  ASSERT_EQ(view->records.size(), 2u);  // the new version in place of the old

  auto logged = f.audit("correction.approve");
  ASSERT_EQ(logged.size(), 1u);
  EXPECT_EQ(logged[0].actor, "user:admin");
  EXPECT_EQ(logged[0].detail_json, json::serialize(json::object{{"correction_id", k}, {"old_record_id", r},
                                                                {"new_record_id", ok->new_record_id}, {"version", 2}}));
  auto listed = f.wf.corrections(f.admin);
  ASSERT_TRUE(listed && listed->size() == 1u);
  EXPECT_EQ(listed->front().state, "approved");
  EXPECT_EQ(listed->front().note, "đồng ý");
  EXPECT_EQ(listed->front().new_record_id, ok->new_record_id);

  // Decided once; the superseded version takes no correction.
  auto twice = f.wf.approve_correction(f.admin, k, "");
  ASSERT_TRUE(twice);
  EXPECT_EQ(twice->refused.kind, Kind::conflict);
  EXPECT_EQ(twice->refused.why, "this correction was already decided");
  auto on_old = f.wf.request_correction(f.gv, r, json::serialize(changed), "lần nữa");
  ASSERT_TRUE(on_old);
  EXPECT_EQ(on_old->refused.kind, Kind::conflict);
  EXPECT_EQ(on_old->refused.why, "this version is superseded; correct the newest one");
  EXPECT_EQ(f.wf.approve_correction(f.admin, 4242, "").error().message, "correction not found");
}

TEST(WorkflowCorrections, AnApprovalIsRefusedForABadStudentAChangedIdOrARecordBeingSigned) {
  Class3A f;
  const std::int64_t r = f.records[0];
  auto new_versions = [&] { return f.wf.record_view(f.admin, r)->versions.size() - 1; };

  json::object moved = f.student(r);
  moved["personal_id"] = "001399999999";
  std::int64_t k = f.request(f.gv, r, moved);
  auto id_changed = f.wf.approve_correction(f.admin, k, "");
  ASSERT_TRUE(id_changed) << id_changed.error().message;
  EXPECT_EQ(id_changed->refused.kind, Kind::invalid);
  EXPECT_EQ(id_changed->refused.why, "a correction cannot change the personal ID; import the student anew");
  ASSERT_TRUE(f.wf.reject_correction(f.admin, k, "sai mã"));
  auto again = f.wf.reject_correction(f.admin, k, "");
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, Errc::not_found);
  EXPECT_EQ(again.error().message, "pending correction not found");
  auto rejected = f.audit("correction.reject");
  ASSERT_EQ(rejected.size(), 1u);
  EXPECT_EQ(rejected[0].detail_json, json::serialize(json::object{{"correction_id", k}, {"note", "sai mã"}}));
  EXPECT_EQ(f.wf.corrections(f.admin)->front().state, "rejected");

  json::object bad = f.student(r);
  bad["primary"].as_object()["subjects"].as_array()[0].as_object()["test_score"] = 11;
  k = f.request(f.gv, r, bad);
  auto invalid = f.wf.approve_correction(f.admin, k, "");
  ASSERT_TRUE(invalid) << invalid.error().message;
  EXPECT_EQ(invalid->refused.kind, Kind::bad_student);
  ASSERT_FALSE(invalid->problems.empty());
  EXPECT_NE(invalid->problems[0].path.find("test_score"), std::string::npos) << invalid->problems[0].path;
  ASSERT_TRUE(f.wf.reject_correction(f.admin, k, ""));

  json::object fine = f.student(r);
  fine["residence"] = "Số 9 đường Ngô Sỹ Kiện";
  k = f.request(f.gv, r, fine);
  {
    workflow::Workflow::Reservation signing(f.wf, r);
    ASSERT_TRUE(signing);
    auto busy = f.wf.approve_correction(f.admin, k, "");
    ASSERT_TRUE(busy);
    EXPECT_EQ(busy->refused.kind, Kind::conflict);
    EXPECT_EQ(busy->refused.why, "the record is being signed right now; approve after");
  }
  EXPECT_EQ(new_versions(), 0u);  // nothing refused made a version
  EXPECT_TRUE(f.audit("correction.approve").empty());
  auto ok = f.wf.approve_correction(f.admin, k, "");
  ASSERT_TRUE(ok) << ok.error().message;
  EXPECT_FALSE(ok->refused) << ok->refused.why;
  EXPECT_EQ(new_versions(), 1u);
}

}  // namespace
}  // namespace hocba::test
