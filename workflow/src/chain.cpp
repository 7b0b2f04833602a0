// The signing chain: see chain.h.
#include "hocba/workflow/chain.h"

#include <algorithm>

namespace hocba::workflow {

Chain::Chain(config::Config::Workflow w) : w_(std::move(w)) {
  for (std::string_view level : config::Config::Workflow::levels()) {
    auto& rec = record_[std::string(level)];
    auto& sheet = sheet_[std::string(level)];
    for (const std::string& name : w_.chain(level)) {
      const config::Step* s = w_.step(name);
      if (s && s->scope == "class_subject") sheet.push_back(name);
      else rec.push_back(name);
    }
  }
  for (const std::string& name : w_.used_steps())
    if (const config::Step* s = w_.step(name); !s || s->scope != "class_subject") fields_.push_back(name);
}

bool Chain::is_seal(std::string_view name) const {
  const config::Step* s = step(name);
  return s && s->seal;
}

const std::vector<std::string>& Chain::record_steps(std::string_view level) const {
  static const std::vector<std::string> none;
  auto it = record_.find(level);
  return it == record_.end() ? none : it->second;
}

const std::vector<std::string>& Chain::sheet_steps(std::string_view level) const {
  static const std::vector<std::string> none;
  auto it = sheet_.find(level);
  return it == sheet_.end() ? none : it->second;
}

int Chain::position(std::string_view level, std::string_view name) const {
  const auto& steps = record_steps(level);
  auto it = std::find(steps.begin(), steps.end(), name);
  return it == steps.end() ? -1 : static_cast<int>(it - steps.begin());
}

bool Chain::may_sign(std::string_view role, std::string_view name) const {
  const config::Step* s = step(name);
  return s && s->may_sign(role);
}

bool Chain::is_substitute(std::string_view role, std::string_view name) const {
  const config::Step* s = step(name);
  return s && s->role != role && s->may_sign(role);
}

std::vector<std::string> Chain::record_steps_for(std::string_view role) const {
  std::vector<std::string> out;
  for (const std::string& f : fields_)
    if (may_sign(role, f)) out.push_back(f);
  return out;
}

std::string Chain::default_step_for(std::string_view role) const {
  auto mine = record_steps_for(role);
  return mine.empty() ? std::string() : mine.front();
}

}  // namespace hocba::workflow
