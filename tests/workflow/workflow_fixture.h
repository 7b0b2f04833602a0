// The workflow tests' fixture: a Workflow over a throw-away store (no daemon, no token: nothing is
// signed), and users added to it.
#pragma once
#include <stdexcept>
#include <string>

#include "hocba/common/metrics.h"
#include "hocba/config/config.h"
#include "hocba/hsm/hsm.h"
#include "hocba/store/users.h"
#include "hocba/workflow/workflow.h"
#include "test_env.h"

namespace hocba::test {

// A Workflow over a throw-away store with users and keys (no token: nothing is signed here).
struct Fixture {
  TempDir tmp;
  store::Store st;
  hsm::Hsm hsm;
  Metrics metrics;
  workflow::Workflow wf;
  explicit Fixture(config::Config cfg = config::default_config())
      : st(open_store(tmp.file("state"))), wf(workflow::WorkflowOptions{cfg, tmp.file("state"), "B-B", std::nullopt}, st, hsm, nullptr, metrics) {}
  static store::Store open_store(const std::string& dir) {
    auto s = store::Store::open(dir);
    if (!s) throw std::runtime_error(s.error().message);
    return std::move(*s);
  }
  workflow::Actor add(const std::string& name, store::Role role) {
    auto id = store::Users(st).add("test", name, "", role, Secret("password-" + name));
    if (!id) throw std::runtime_error(id.error().message);
    return workflow::Actor{*id, name, "", role};
  }
};

}  // namespace hocba::test
