// workflow::Chain and workflow::Workflow in-process: the chain each level's records take, who signs
// each step (a deputy for the principal), and the refusals, against a throw-away store.
#include <gtest/gtest.h>

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

}  // namespace
}  // namespace hocba::test
