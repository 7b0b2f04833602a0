// Fuzz target: the appliance configuration (TOML, docs/configuration.md) as `hocbad --check-config`,
// `hocba config check` and `--config` read it: parse, check every key, then (when it is valid) the
// completeness check and the printed effective configuration, which must parse again.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "hocba/config/config.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto c = hocba::config::parse_config(text, "fuzz.toml", hocba::config::Check::keys);
  if (!c) return 0;
  (void)hocba::config::completeness_problems(*c);
  std::string dumped = hocba::config::dump_config(*c);
  // What we print must read back: a configuration shown by `config check` is one we accept.
  auto again = hocba::config::parse_config(dumped, "dumped", hocba::config::Check::keys);
  if (!again) {
    std::fprintf(stderr, "dump_config printed a configuration parse_config refuses:\n%s\n---\n%s\n", dumped.c_str(),
                 again.error().message.c_str());
    std::abort();
  }
  return 0;
}
