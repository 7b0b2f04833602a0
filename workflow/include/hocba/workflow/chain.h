// The school's signing chain (configuration [workflow], docs/configuration.md "The signing chain"):
// which steps a record of each school level takes, in order, and who signs each. Every rule the
// appliance enforces about "who signs what, in which order" and every label the UI shows comes from
// here, so that adding a step is a change to the configuration (and the form's signature box) only.
#pragma once
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "hocba/config/config.h"

namespace hocba::workflow {

class Chain {
 public:
  explicit Chain(config::Config::Workflow w);

  const config::Config::Workflow& config() const { return w_; }
  // The step called `name`, or nullptr.
  const config::Step* step(std::string_view name) const { return w_.step(name); }
  bool is_seal(std::string_view name) const;

  // The steps signed on the record itself (scope "record"), in order, for a class of `level`
  // ("primary", "lower_secondary", "upper_secondary"); empty for an unknown level.
  const std::vector<std::string>& record_steps(std::string_view level) const;
  // The steps signed once per class and subject (scope "class_subject", e.g. gvbm) for `level`.
  const std::vector<std::string>& sheet_steps(std::string_view level) const;
  // The index of `step` in record_steps(level), or -1 when that level's records do not take it.
  int position(std::string_view level, std::string_view step) const;
  // Every record step some level uses, once, in chain order: the signature fields a record holds.
  const std::vector<std::string>& record_fields() const { return fields_; }

  // May a user of `role` (a role name) sign `step`: it is the step's role or one of its substitutes.
  bool may_sign(std::string_view role, std::string_view step) const;
  // Signs `role` in the step's place (a substitute, not the step's own role)?
  bool is_substitute(std::string_view role, std::string_view step) const;
  // The record steps `role` may sign, in chain order (each once).
  std::vector<std::string> record_steps_for(std::string_view role) const;
  // The step `role` signs by default when a request names none: the first record step it may sign.
  std::string default_step_for(std::string_view role) const;

 private:
  config::Config::Workflow w_;
  std::map<std::string, std::vector<std::string>, std::less<>> record_, sheet_;
  std::vector<std::string> fields_;
};

}  // namespace hocba::workflow
