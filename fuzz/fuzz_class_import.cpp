// Fuzz target: the class file import (hocba.class/v2 or v1 JSON, docs/record-format.md) -> the validated
// model, as `hocba render` and the appliance's class import read it. Every problem must come back as
// an Error or a Problem, never as a crash.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "hocba/pdf/record.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view json(reinterpret_cast<const char*>(data), size);
  hocba::pdf::ParseLimits limits;
  limits.max_input_bytes = 1 << 20;
  auto r = hocba::pdf::parse_class(json, limits);
  if (!r) return 0;
  // What callers do with the result: messages for every problem, names of the students kept.
  std::size_t n = 0;
  for (const auto& p : r->errors) n += p.to_string().size();
  for (const auto& p : r->warnings) n += p.to_string().size();
  for (const auto& s : r->students) n += s.source_json.size() + s.full_name.size();
  (void)r->class_ok();
  (void)hocba::pdf::level_name(r->info.level);
  return n == static_cast<std::size_t>(-1);
}
