// The signing chain as data (issue 11): [workflow] primary / lower_secondary / upper_secondary and the
// [workflow.steps.NAME] tables: defaults, the old `steps = [...]`, overrides, new steps, every check
// with its line, the printed configuration reading back, and the deputy principal as a substitute.
#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <vector>

#include "hocba/config/config.h"

using namespace hocba;
using namespace hocba::config;

namespace {

using Strings = std::vector<std::string>;

bool has(const std::string& hay, const std::string& needle) { return hay.find(needle) != std::string::npos; }

// The error message of a text that must be refused.
std::string problems(const std::string& toml, Check check = Check::keys) {
  auto c = parse_config(toml, "", check);
  if (c) return "(accepted)";
  return c.error().message;
}

Strings names(const Config::Workflow& w) {
  Strings out;
  for (const auto& s : w.step_defs) out.push_back(s.name);
  return out;
}

}  // namespace

TEST(ConfigChain, DefaultsHaveFourStepsAndPrimaryHasNoSubjectTeacher) {
  auto c = parse_config("");
  ASSERT_TRUE(c) << c.error().message;
  const auto& w = c->workflow;
  EXPECT_EQ(names(w), (Strings{"gvbm", "gvcn", "hieu_truong", "con_dau"}));
  EXPECT_EQ(w.primary, (Strings{"gvcn", "hieu_truong", "con_dau"}));
  EXPECT_EQ(w.lower_secondary, (Strings{"gvbm", "gvcn", "hieu_truong", "con_dau"}));
  EXPECT_EQ(w.upper_secondary, (Strings{"gvbm", "gvcn", "hieu_truong", "con_dau"}));
  EXPECT_EQ(&w.chain("primary"), &w.primary);
  EXPECT_EQ(&w.chain("lower_secondary"), &w.lower_secondary);
  EXPECT_EQ(&w.chain("upper_secondary"), &w.upper_secondary);
  EXPECT_THROW(w.chain("college"), std::invalid_argument);
  EXPECT_TRUE(Config::Workflow::is_level("upper_secondary"));
  EXPECT_FALSE(Config::Workflow::is_level("steps"));
  EXPECT_EQ(w.used_steps(), (Strings{"gvbm", "gvcn", "hieu_truong", "con_dau"}));
  EXPECT_EQ(w.step("nope"), nullptr);
  EXPECT_EQ(c->workflow, default_config().workflow);

  const Step* gvbm = w.step("gvbm");
  ASSERT_NE(gvbm, nullptr);
  EXPECT_EQ(gvbm->role, "subject_teacher");
  EXPECT_EQ(gvbm->scope, "class_subject");
  EXPECT_EQ(gvbm->box, "");
  EXPECT_FALSE(gvbm->seal);
  const Step* gvcn = w.step("gvcn");
  ASSERT_NE(gvcn, nullptr);
  EXPECT_EQ(gvcn->role, "homeroom_teacher");
  EXPECT_EQ(gvcn->scope, "record");
  EXPECT_EQ(gvcn->box, "homeroom");
  EXPECT_EQ(gvcn->title, Strings{"GIÁO VIÊN CHỦ NHIỆM"});
  // The texts the signatures and the web UI used before the chain was data.
  EXPECT_EQ(gvcn->reason, "Giáo viên chủ nhiệm ký xác nhận học bạ");
  EXPECT_EQ(gvcn->label, "Giáo viên chủ nhiệm");
  EXPECT_EQ(gvcn->done_label, "GVCN đã ký");
  EXPECT_EQ(gvcn->waiting_label, "Chờ GVCN ký");
  const Step* ht = w.step("hieu_truong");
  ASSERT_NE(ht, nullptr);
  EXPECT_EQ(ht->role, "principal");
  EXPECT_EQ(ht->reason, "Hiệu trưởng ký duyệt học bạ");
  EXPECT_EQ(ht->box, "principal");
  EXPECT_EQ(ht->done_label, "HT đã ký");
  EXPECT_EQ(ht->waiting_label, "Chờ hiệu trưởng ký");
  EXPECT_FALSE(ht->seal);
  const Step* dau = w.step("con_dau");
  ASSERT_NE(dau, nullptr);
  EXPECT_TRUE(dau->seal);
  EXPECT_EQ(dau->box, "seal");
  EXPECT_EQ(dau->reason, "Đóng dấu của nhà trường");
  EXPECT_EQ(dau->label, "Con dấu nhà trường");
  EXPECT_EQ(dau->done_label, "Đã đóng dấu");
  EXPECT_EQ(dau->waiting_label, "Chờ đóng dấu");
  EXPECT_EQ(get(*c, "workflow.primary"), Value(w.primary));
  EXPECT_EQ(get(*c, "workflow.lower_secondary"), Value(w.lower_secondary));
  EXPECT_EQ(find_key("workflow.steps"), nullptr);  // the old flat list is no key of the table any more
}

TEST(ConfigChain, TheDeputyPrincipalSubstitutesForThePrincipal) {
  Config d = default_config();
  const Step* ht = d.workflow.step("hieu_truong");
  ASSERT_NE(ht, nullptr);
  EXPECT_EQ(ht->substitutes, Strings{"deputy_principal"});
  EXPECT_TRUE(ht->may_sign("principal"));
  EXPECT_TRUE(ht->may_sign("deputy_principal"));
  EXPECT_FALSE(ht->may_sign("homeroom_teacher"));
  EXPECT_EQ(ht->title_for("principal"), Strings{"HIỆU TRƯỞNG"});
  EXPECT_EQ(ht->title_for("deputy_principal"), (Strings{"KT. HIỆU TRƯỞNG", "PHÓ HIỆU TRƯỞNG"}));
  const Step* dau = d.workflow.step("con_dau");
  ASSERT_NE(dau, nullptr);
  EXPECT_TRUE(dau->may_sign("deputy_principal"));
  EXPECT_EQ(dau->title_for("deputy_principal"), dau->title);  // no substitute title: the step's own
  const Step* gvcn = d.workflow.step("gvcn");
  ASSERT_NE(gvcn, nullptr);
  EXPECT_FALSE(gvcn->may_sign("deputy_principal"));

  // A school where only the principal signs.
  auto c = parse_config("[workflow.steps.hieu_truong]\nsubstitutes = []\n");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_FALSE(c->workflow.step("hieu_truong")->may_sign("deputy_principal"));
  EXPECT_TRUE(c->workflow.step("con_dau")->may_sign("deputy_principal"));
  // A role is not its own substitute; substitutes are roles.
  std::string m = problems("[workflow.steps.gvcn]\nsubstitutes = [\"homeroom_teacher\"]\n"
                           "[workflow.steps.gvbm]\nsubstitutes = [\"deputy_principle\"]\n");
  EXPECT_TRUE(has(m, "workflow.steps.gvcn.substitutes (line 2): \"homeroom_teacher\" is the step's own role, not a substitute"))
      << m;
  EXPECT_TRUE(has(m, "workflow.steps.gvbm.substitutes[0] (line 4): \"deputy_principle\" is not one of \"homeroom_teacher\", "
                     "\"subject_teacher\", \"principal\", \"deputy_principal\"; did you mean deputy_principal?"))
      << m;
}

TEST(ConfigChain, TheOldStepsListSetsEveryLevel) {
  auto c = parse_config("[workflow]\nsteps = [\"con_dau\", \"gvcn\"]\n");
  ASSERT_TRUE(c) << c.error().message;
  for (auto level : Config::Workflow::levels()) {
    EXPECT_EQ(c->workflow.chain(level), (Strings{"con_dau", "gvcn"})) << level;
    EXPECT_TRUE(c->is_given("workflow." + std::string(level))) << level;
  }
  EXPECT_EQ(names(c->workflow), (Strings{"gvbm", "gvcn", "hieu_truong", "con_dau"}));  // the steps are the built-in ones
  // Printed in the new form, which reads back the same.
  std::string d = dump_config(*c);
  EXPECT_TRUE(has(d, "\nprimary = [\"con_dau\", \"gvcn\"]\n")) << d;
  EXPECT_TRUE(has(d, "\nupper_secondary = [\"con_dau\", \"gvcn\"]\n")) << d;
  EXPECT_FALSE(has(d, "\nsteps = ")) << d;
  auto back = parse_config(d);
  ASSERT_TRUE(back) << back.error().message << "\n" << d;
  EXPECT_EQ(back->workflow, c->workflow);
  // Every file of earlier versions: the old default list, and a list with the subject teacher.
  auto old = parse_config("[workflow]\nsteps = [\"gvcn\", \"hieu_truong\", \"con_dau\"]\n");
  ASSERT_TRUE(old) << old.error().message;
  EXPECT_EQ(old->workflow.primary, default_config().workflow.primary);
  EXPECT_EQ(old->workflow.lower_secondary, old->workflow.primary);
  EXPECT_TRUE(parse_config("[workflow]\nsteps = [\"gvbm\", \"gvcn\"]\n"));

  // Its names must be defined steps.
  std::string m = problems("[workflow]\nsteps = [\"gvcn\", \"hieu_truong\", \"con_dauu\"]\n");
  EXPECT_TRUE(has(m, "1 problem in the configuration:\n  workflow.steps[2] (line 2): \"con_dauu\" is not a defined step "
                     "(no [workflow.steps.con_dauu]); did you mean con_dau?"))
      << m;
  // Not with the level keys.
  m = problems("[workflow]\nprimary = [\"gvcn\"]\nsteps = [\"gvcn\"]\nupper_secondary = [\"gvcn\"]\n");
  EXPECT_TRUE(has(m, "1 problem in the configuration:\n  workflow.steps (line 3): the old form steps = [...] sets the chain "
                     "of every level; write either it or the levels (primary, upper_secondary), not both"))
      << m;
  // An empty old list leaves every level without a signature.
  ASSERT_TRUE(parse_config("[signing]\nlevel = \"B-B\"\n[workflow]\nsteps = []\n"));
  m = problems("[signing]\nlevel = \"B-B\"\n[workflow]\nsteps = []\n", Check::complete);
  EXPECT_TRUE(has(m, "3 problems")) << m;
  EXPECT_TRUE(has(m, "workflow.lower_secondary: a record needs at least one signature")) << m;
  // Neither a table nor an array.
  m = problems("[workflow]\nsteps = \"gvcn\"\n");
  EXPECT_TRUE(has(m, "workflow.steps (line 2): expected tables [workflow.steps.NAME] (or, in the old form, an array of "
                     "step names), got a string"))
      << m;
}

TEST(ConfigChain, ATableOverridesOnlyThePropertiesItGives) {
  auto c = parse_config(R"([workflow.steps.gvcn]
reason = "Giáo viên chủ nhiệm ký học bạ"
title = ["GIÁO VIÊN", "CHỦ NHIỆM"]
[workflow.steps.gvbm]
scope = "record"
)");
  ASSERT_TRUE(c) << c.error().message;
  Config d = default_config();
  const Step* gvcn = c->workflow.step("gvcn");
  ASSERT_NE(gvcn, nullptr);
  EXPECT_EQ(gvcn->reason, "Giáo viên chủ nhiệm ký học bạ");
  EXPECT_EQ(gvcn->title, (Strings{"GIÁO VIÊN", "CHỦ NHIỆM"}));
  Step expected = *d.workflow.step("gvcn");
  expected.reason = gvcn->reason;
  expected.title = gvcn->title;
  EXPECT_EQ(*gvcn, expected);  // nothing else changed
  EXPECT_EQ(c->workflow.step("gvbm")->scope, "record");
  EXPECT_EQ(c->workflow.step("gvbm")->role, "subject_teacher");
  EXPECT_EQ(*c->workflow.step("hieu_truong"), *d.workflow.step("hieu_truong"));
  EXPECT_EQ(names(c->workflow), names(d.workflow));
  EXPECT_EQ(c->workflow.primary, d.workflow.primary);
  EXPECT_TRUE(c->is_given("workflow.steps.gvcn.reason"));
  EXPECT_FALSE(c->is_given("workflow.steps.gvcn.role"));
  EXPECT_FALSE(c->is_given("workflow.primary"));
  std::string dump = dump_config(*c);
  EXPECT_TRUE(has(dump, "\nreason = \"Giáo viên chủ nhiệm ký học bạ\"\n")) << dump;
  EXPECT_TRUE(has(dump, "[workflow.steps.gvcn]\nrole = \"homeroom_teacher\"  # default\n")) << dump;
}

TEST(ConfigChain, ANewStepInOneLevel) {
  auto c = parse_config(R"([workflow]
primary = ["gvcn", "pho_hieu_truong", "hieu_truong", "con_dau"]

[workflow.steps.pho_hieu_truong]
role = "deputy_principal"
label = "Phó hiệu trưởng"
title = ["PHÓ HIỆU TRƯỞNG"]
)");
  ASSERT_TRUE(c) << c.error().message;
  const auto& w = c->workflow;
  EXPECT_EQ(names(w), (Strings{"gvbm", "gvcn", "hieu_truong", "con_dau", "pho_hieu_truong"}));
  EXPECT_EQ(w.primary, (Strings{"gvcn", "pho_hieu_truong", "hieu_truong", "con_dau"}));
  EXPECT_EQ(w.lower_secondary, default_config().workflow.lower_secondary);
  EXPECT_EQ(w.used_steps(), (Strings{"gvbm", "gvcn", "pho_hieu_truong", "hieu_truong", "con_dau"}));
  const Step* s = w.step("pho_hieu_truong");
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->role, "deputy_principal");
  EXPECT_EQ(s->label, "Phó hiệu trưởng");
  EXPECT_EQ(s->scope, "record");  // the properties' defaults
  EXPECT_FALSE(s->seal);
  EXPECT_TRUE(s->substitutes.empty());
  EXPECT_EQ(s->box, "");
  EXPECT_EQ(s->reason, "");
  EXPECT_TRUE(s->may_sign("deputy_principal"));
  EXPECT_FALSE(s->may_sign("principal"));

  // Every property reaches its field.
  auto all = parse_config(R"([workflow]
primary = ["kiem_tra", "gvcn"]
[workflow.steps.kiem_tra]
role = "subject_teacher"
substitutes = ["homeroom_teacher", "deputy_principal"]
seal = true
scope = "class_subject"
title = ["A", "B"]
substitute_title = ["C"]
reason = "R"
box = "seal"
label = "L"
verb = "V"
done_label = "D"
waiting_label = "W"
)");
  ASSERT_TRUE(all) << all.error().message;
  Step e;
  e.name = "kiem_tra";
  e.role = "subject_teacher";
  e.substitutes = {"homeroom_teacher", "deputy_principal"};
  e.seal = true;
  e.scope = "class_subject";
  e.title = {"A", "B"};
  e.substitute_title = {"C"};
  e.reason = "R";
  e.box = "seal";
  e.label = "L";
  e.verb = "V";
  e.done_label = "D";
  e.waiting_label = "W";
  ASSERT_NE(all->workflow.step("kiem_tra"), nullptr);
  EXPECT_EQ(*all->workflow.step("kiem_tra"), e);
  EXPECT_EQ(step_properties().size(), 12u) << "a new property: add it to this test";
}

TEST(ConfigChain, EveryStepProblemAtOnceWithKeyAndLine) {
  std::string m = problems(R"([workflow.steps.gvcn]
rol = "homeroom_teacher"
box = "left"
scope = "class"
seal = "yes"
title = ["1", "2", "3", "4", "5"]
substitute_title = ["ĐĐĐĐĐĐĐĐĐĐĐĐĐĐĐĐĐĐĐĐĐĐĐĐĐĐĐĐĐĐĐĐĐĐĐĐĐĐĐĐĐĐĐĐĐĐĐĐĐĐĐĐĐĐĐĐĐĐĐĐĐĐĐĐĐĐĐĐĐĐĐĐĐĐĐĐĐĐĐĐĐ"]
label = ""
verb = "Ký\nngay"
role = "teacher"
[workflow.steps.Pho-HT]
role = "principal"
label = "x"
[workflow.steps.moi]
verb = "Ký"
[workflow.steps.thu_ky]
role = "principal"
reason = 5
[workflow.steps]
la = 1
)");
  EXPECT_TRUE(has(m, "14 problems in the configuration:")) << m;
  EXPECT_TRUE(has(m, "workflow.steps.gvcn.rol (line 2): unknown step property; did you mean role?")) << m;
  EXPECT_TRUE(has(m, "workflow.steps.gvcn.box (line 3): \"left\" is not one of \"homeroom\", \"principal\", \"seal\", \"\"")) << m;
  EXPECT_TRUE(has(m, "workflow.steps.gvcn.scope (line 4): \"class\" is not one of \"record\", \"class_subject\"")) << m;
  EXPECT_TRUE(has(m, "workflow.steps.gvcn.seal (line 5): expected true or false, got a string")) << m;
  EXPECT_TRUE(has(m, "workflow.steps.gvcn.title (line 6): holds 5 items; at most 4")) << m;
  EXPECT_TRUE(has(m, "workflow.steps.gvcn.substitute_title[0] (line 7): is 81 characters long; at most 80")) << m;
  EXPECT_TRUE(has(m, "workflow.steps.gvcn.label (line 8): is empty")) << m;
  EXPECT_TRUE(has(m, "workflow.steps.gvcn.verb (line 9): holds a control character")) << m;
  EXPECT_TRUE(has(m, "workflow.steps.gvcn.role (line 10): \"teacher\" is not one of \"homeroom_teacher\", \"subject_teacher\", "
                     "\"principal\", \"deputy_principal\""))
      << m;
  EXPECT_TRUE(has(m, "workflow.steps.Pho-HT (line 11): a step's name is a lower-case letter and up to 31 more lower-case "
                     "letters, digits or _"))
      << m;
  EXPECT_TRUE(has(m, "workflow.steps.moi (line 14): a new step needs role and label")) << m;
  EXPECT_TRUE(has(m, "workflow.steps.thu_ky (line 16): a new step needs label")) << m;
  EXPECT_TRUE(has(m, "workflow.steps.thu_ky.reason (line 18): expected a string, got an integer")) << m;
  EXPECT_TRUE(has(m, "workflow.steps.la (line 20): expected a table [workflow.steps.la] of the step's properties, got an integer"))
      << m;
  EXPECT_LT(m.find("line 2)"), m.find("line 20)"));  // in line order

  // Names: 32 characters at most; titles of exactly 4 lines of 80 characters are fine.
  std::string name32 = "a" + std::string(31, 'b');
  EXPECT_TRUE(parse_config("[workflow.steps." + name32 + "]\nrole = \"principal\"\nlabel = \"x\"\n"));
  m = problems("[workflow.steps." + name32 + "c]\nrole = \"principal\"\nlabel = \"x\"\n");
  EXPECT_TRUE(has(m, "workflow.steps." + name32 + "c (line 1): a step's name is")) << m;
  m = problems("[workflow.steps.9a]\nrole = \"principal\"\nlabel = \"x\"\n");
  EXPECT_TRUE(has(m, "workflow.steps.9a (line 1): a step's name is")) << m;
  std::string line80;
  for (int i = 0; i < 80; ++i) line80 += "Đ";
  EXPECT_TRUE(parse_config("[workflow.steps.gvcn]\ntitle = [\"" + line80 + "\", \"a\", \"b\", \"c\"]\nlabel = \"" + line80 + "\"\n"));
  m = problems("[workflow.steps.gvcn]\nlabel = \"" + line80 + "x\"\nreason = \"" + std::string(201, 'r') + "\"\n");
  EXPECT_TRUE(has(m, "workflow.steps.gvcn.label (line 2): is 81 characters long; at most 80")) << m;
  EXPECT_TRUE(has(m, "workflow.steps.gvcn.reason (line 3): is 201 characters long; at most 200")) << m;
}

TEST(ConfigChain, AtMostSixteenSteps) {
  std::string twelve, thirteen;
  for (int i = 0; i < 13; ++i) {
    std::string t = "[workflow.steps.s" + std::to_string(i) + "]\nrole = \"principal\"\nlabel = \"x\"\n";
    if (i < 12) twelve += t;
    thirteen += t;
  }
  auto c = parse_config(twelve);
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->workflow.step_defs.size(), 16u);
  std::string m = problems(thirteen);
  EXPECT_TRUE(has(m, "1 problem in the configuration:\n  workflow.steps (line 1): 17 steps are defined (the 4 built-in ones "
                     "included); at most 16"))
      << m;
}

TEST(ConfigChain, EveryChainProblemWithKeyAndLine) {
  std::string m = problems(R"([workflow]
primary = ["gvcn", "gvbb", "con_dau"]
lower_secondary = ["gvcn", "gvbm", "hieu_truong", "gvcn"]
upper_secondary = ["gvbm", "gvcn", "con_dau", "dau_moi"]
[workflow.steps.dau_moi]
role = "principal"
seal = true
label = "Dấu mới"
)");
  EXPECT_TRUE(has(m, "3 problems in the configuration:")) << m;
  EXPECT_TRUE(has(m, "workflow.primary[1] (line 2): \"gvbb\" is not a defined step (no [workflow.steps.gvbb]); did you mean "))
      << m;
  EXPECT_TRUE(has(m, "workflow.lower_secondary[3] (line 3): \"gvcn\" is listed twice")) << m;
  EXPECT_TRUE(has(m, "workflow.upper_secondary[3] (line 4): \"dau_moi\" is a second seal step after \"con_dau\"; a record "
                     "carries the school seal once"))
      << m;
  // The subject teacher's score sheets come before the record is signed.
  m = problems("[workflow]\nlower_secondary = [\"gvcn\", \"gvbm\", \"hieu_truong\"]\n");
  EXPECT_TRUE(has(m, "workflow.lower_secondary[1] (line 2): \"gvbm\" signs per class and subject (scope = \"class_subject\") "
                     "and must come before every step that signs the record; \"gvcn\" comes before it"))
      << m;
  // Two record steps of one chain cannot fill the same box of the form.
  m = problems("[workflow]\nprimary = [\"gvcn\", \"pho_ht\", \"hieu_truong\"]\n[workflow.steps.pho_ht]\nrole = "
               "\"deputy_principal\"\nlabel = \"P\"\nbox = \"principal\"\n");
  EXPECT_TRUE(has(m, "workflow.primary[2] (line 2): \"hieu_truong\" fills the principal box (box = \"principal\") that "
                     "\"pho_ht\" fills already; a box on the form holds one signature"))
      << m;
  // A step changed so that a default chain no longer holds: reported on that chain.
  m = problems("[workflow.steps.hieu_truong]\nseal = true\n");
  EXPECT_TRUE(has(m, "workflow.primary (the default, [\"gvcn\", \"hieu_truong\", \"con_dau\"]): \"con_dau\" is a second seal "
                     "step after \"hieu_truong\""))
      << m;
  // An empty chain is a completeness problem (a record needs at least one signature).
  ASSERT_TRUE(parse_config("[signing]\nlevel = \"B-B\"\n[workflow]\nprimary = []\n"));
  m = problems("[signing]\nlevel = \"B-B\"\n[workflow]\nprimary = []\n", Check::complete);
  EXPECT_TRUE(has(m, "1 problem in the configuration:\n  workflow.primary: a record needs at least one signature")) << m;
  // A step used by no chain, and a chain of one step, are fine.
  EXPECT_TRUE(parse_config("[signing]\nlevel = \"B-B\"\n[workflow]\nprimary = [\"con_dau\"]\nlower_secondary = [\"gvcn\"]\n"
                           "upper_secondary = [\"hieu_truong\"]\n",
                           "", Check::complete));
  // Unknown keys of [workflow].
  m = problems("[workflow]\nstep = [\"gvcn\"]\nprimery = [\"gvcn\"]\n");
  EXPECT_TRUE(has(m, "workflow.step (line 2): unknown key; did you mean workflow.steps?")) << m;
  EXPECT_TRUE(has(m, "workflow.primery (line 3): unknown key; did you mean workflow.primary?")) << m;
}

TEST(ConfigChain, ThePrintedChainReadsBackTheSame) {
  auto c = parse_config(R"([signing]
level = "B-B"
[workflow]
primary = ["gvcn", "pho_hieu_truong", "hieu_truong", "con_dau"]
upper_secondary = ["gvbm", "gvcn", "con_dau"]
[workflow.steps.hieu_truong]
substitutes = []
substitute_title = []
box = ""
reason = "Hiệu trưởng \"duyệt\" \\ học bạ"
[workflow.steps.gvbm]
verb = ""
[workflow.steps.pho_hieu_truong]
role = "deputy_principal"
label = "Phó hiệu trưởng"
box = "principal"
)", "", Check::complete);
  ASSERT_TRUE(c) << c.error().message;
  std::string d = dump_config(*c);
  EXPECT_TRUE(has(d, "[workflow.steps.pho_hieu_truong]\nrole = \"deputy_principal\"\n")) << d;
  EXPECT_TRUE(has(d, "\nlower_secondary = [\"gvbm\", \"gvcn\", \"hieu_truong\", \"con_dau\"]  # default\n")) << d;
  EXPECT_LT(d.find("[workflow]"), d.find("[workflow.steps.gvbm]"));
  EXPECT_LT(d.find("[workflow.steps.con_dau]"), d.find("[workflow.steps.pho_hieu_truong]"));
  auto back = parse_config(d, "dump", Check::complete);
  ASSERT_TRUE(back) << back.error().message << "\n" << d;
  EXPECT_EQ(back->workflow, c->workflow);
  for (const auto& k : keys()) EXPECT_EQ(get(*back, k.name), get(*c, k.name)) << k.name;
  // And the defaults.
  Config def = default_config();
  auto again = parse_config(dump_config(def));
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_EQ(again->workflow, def.workflow);
}
