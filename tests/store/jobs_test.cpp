// store::Jobs in-process (no daemon): a job of two steps takes the records waiting for either step,
// each item at the step it is at; items move on step by step; each step's progress; a second job on
// the same steps is refused; the seal's key stays bound while a two-step job uses it.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <string>

#include "hocba/store/jobs.h"
#include "hocba/store/keys.h"
#include "hocba/store/store.h"
#include "hocba/store/users.h"
#include "store_test_util.h"
#include "test_env.h"

using namespace hocba;
using store::Jobs;
using store::Store;

using test::open_ok;
using test::raw_sql;

namespace {


// A principal "ht" with a key, the seal's key, and class 1 (primary) whose records 1..6 have made
// 1, 1, 1, 2, 2, 3 steps (the chain gvcn, hieu_truong, con_dau: 3 is final).
struct Fixture {
  test::TempDir d;
  Store s = open_ok(d.path());
  std::int64_t ht = 0, principal_key = 0, seal_key = 0;
  Fixture() {
    auto id = store::Users(s).add("cli:test", "ht", "Hiệu trưởng", store::Role::principal, Secret("mat-khau-dai-4711"));
    if (!id) throw std::runtime_error(id.error().message);
    ht = *id;
    principal_key = *store::Keys(s).bind("cli:test", "pkcs11:token=HIEU-TRUONG;object=hieu-truong", "", std::string("ht"));
    seal_key = *store::Keys(s).bind("cli:test", "pkcs11:token=CON-DAU;object=con-dau", "", std::nullopt);
    Status st = s.transaction([&](store::Tx& tx) -> Status {
      if (auto e = tx.exec("INSERT INTO classes(id, school_year, name, created_at, source_json) VALUES(1, '2026-2027', '3A', 'x', "
                           "'{\"level\":\"primary\"}')");
          !e)
        return e.error();
      const int done[] = {1, 1, 1, 2, 2, 3};
      for (int i = 0; i < 6; ++i)
        if (auto e = tx.exec("INSERT INTO records(id, class_id, personal_id, student_name, state, steps_done, student_json, created_at, updated_at) "
                             "VALUES(?, 1, ?, ?, ?, ?, '{}', 'x', 'x')",
                             {std::int64_t{i + 1}, "00" + std::to_string(i), "HS " + std::to_string(i), std::string(done[i] == 3 ? "final" : "signing"),
                              std::int64_t{done[i]}});
            !e)
          return e.error();
      return {};
    });
    if (!st) throw std::runtime_error(st.error().message);
  }
  store::NewJob night() const {
    store::NewJob j;
    j.steps = {{"hieu_truong", principal_key}, {"con_dau", seal_key}};
    j.created_by = ht;
    j.created_by_username = "ht";
    j.actor = "user:ht";
    j.levels = {{"primary", 1}};
    return j;
  }
};

store::Job get(Store& s, std::int64_t id) {
  auto j = Jobs(s).get(id);
  if (!j || !*j) throw std::runtime_error("no job");
  return **j;
}

}  // namespace

TEST(JobsRepository, ATwoStepJobTakesTheRecordsOfBothStepsEachAtItsStep) {
  Fixture f;
  Jobs jobs(f.s);
  auto id = jobs.create(f.night());
  ASSERT_TRUE(id) << id.error().message;
  store::Job j = get(f.s, *id);
  EXPECT_EQ(j.state, "running");
  EXPECT_EQ(j.total, 5);  // not the final record
  ASSERT_EQ(j.steps.size(), 2u);
  EXPECT_EQ(j.steps[1].field, "con_dau");
  EXPECT_EQ(j.steps[1].key_id, f.seal_key);
  EXPECT_EQ(j.step_counts[0].queued, 3);
  EXPECT_EQ(j.step_counts[0].done, 2);  // records 4 and 5 have the principal's signature already
  EXPECT_EQ(j.step_counts[1].queued, 5);
  EXPECT_EQ(j.signatures_left, 3 * 2 + 2);
  auto first = jobs.next_queued(*id, 0, 10), second = jobs.next_queued(*id, 1, 10);
  ASSERT_TRUE(first && second);
  ASSERT_EQ(first->size(), 3u);
  ASSERT_EQ(second->size(), 2u);
  EXPECT_EQ((*first)[0].record_id, 1);
  EXPECT_EQ((*second)[0].record_id, 4);

  // Record 1 gets the principal's signature: it moves to the seal's step; then its seal: done.
  ASSERT_TRUE(jobs.set_item(*id, 1, 1, "queued", ""));
  EXPECT_EQ(jobs.next_queued(*id, 1, 10)->size(), 3u);
  ASSERT_TRUE(jobs.set_item(*id, 1, 2, "done", ""));
  // Record 2 fails at the principal's step.
  ASSERT_TRUE(jobs.set_item(*id, 2, 0, "failed", "hieu_truong: unreadable"));
  j = get(f.s, *id);
  EXPECT_EQ(j.done, 1);
  EXPECT_EQ(j.failed, 1);
  EXPECT_EQ(j.queued, 3);
  EXPECT_EQ(j.step_counts[0].done, 3);
  EXPECT_EQ(j.step_counts[0].failed, 1);
  EXPECT_EQ(j.step_counts[0].queued, 1);
  EXPECT_EQ(j.step_counts[1].done, 1);
  EXPECT_EQ(j.step_counts[1].queued, 3);
  auto fails = jobs.failures(*id, 10);
  ASSERT_TRUE(fails);
  ASSERT_EQ(fails->size(), 1u);
  EXPECT_EQ((*fails)[0].record_id, 2);
  EXPECT_EQ((*fails)[0].step, 0);

  // The audit names both steps.
  auto last = f.s.last_audit("job.create");
  ASSERT_TRUE(last && *last);
  auto d = boost::json::parse((*last)->detail_json).as_object();
  EXPECT_EQ(d.at("steps").as_array().size(), 2u);
  EXPECT_EQ(d.at("records").as_int64(), 5);
}

TEST(JobsRepository, ASecondJobOnOneOfTheStepsIsRefusedAndTheSealKeyStaysBound) {
  Fixture f;
  Jobs jobs(f.s);
  auto id = jobs.create(f.night());
  ASSERT_TRUE(id);
  store::NewJob seal_only = f.night();
  seal_only.steps = {{"con_dau", f.seal_key}};
  seal_only.levels = {{"primary", 2}};
  auto dup = jobs.create(seal_only);
  ASSERT_FALSE(dup);
  EXPECT_EQ(dup.error().code, Errc::invalid_argument);
  EXPECT_NE(dup.error().message.find("job " + std::to_string(*id) + " (running)"), std::string::npos) << dup.error().message;
  // The seal's key (the job's second step) cannot be unbound while the job may still use it.
  auto st = store::Keys(f.s).unbind("user:admin", f.seal_key);
  ASSERT_FALSE(st);
  EXPECT_NE(st.error().message.find("job " + std::to_string(*id)), std::string::npos);
  // Cancelled, it holds nothing any more.
  ASSERT_TRUE(jobs.set_state(*id, "cancelled", "cancelled by ht", "cancelled", "user:ht", "job.cancel", "running"));
  EXPECT_EQ(jobs.set_state(*id, "paused", "", "paused", "user:ht", "job.pause", "running").error().code, Errc::invalid_argument);
  EXPECT_TRUE(jobs.create(seal_only));
  EXPECT_EQ(*jobs.state(*id), "cancelled");
}

TEST(JobsRepository, NoRecordWaitingIsNotFound) {
  Fixture f;
  store::NewJob gvcn = f.night();
  gvcn.steps = {{"gvcn", f.principal_key}};
  gvcn.levels = {{"primary", 0}};
  auto r = Jobs(f.s).create(gvcn);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::not_found);
}
