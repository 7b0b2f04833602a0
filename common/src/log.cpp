#include "hocba/common/log.h"

#include <spdlog/sinks/stdout_color_sinks.h>

#include <cstdlib>

namespace hocba::log {

void init(const char* default_level) {
  static bool done = false;
  if (done) return;
  done = true;
  auto logger = spdlog::stderr_color_mt("hocba");
  spdlog::set_default_logger(logger);
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e%z %l %v");
  const char* lvl = std::getenv("HOCBA_LOG");
  spdlog::set_level(spdlog::level::from_str(lvl && *lvl ? lvl : default_level));
}

}  // namespace hocba::log
