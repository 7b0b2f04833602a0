// Diagnostics log (spdlog). Events have a stable NAME and key=value fields:
//   HOCBA_LOG_INFO("HSM_LOGIN_FAILED token={} rv=0x{:x}", label, rv);
// Never log secrets. The legal audit trail is kept apart (api/).
#pragma once
#include <spdlog/spdlog.h>

namespace hocba::log {
// Sets up the default logger once: stderr, level from HOCBA_LOG (trace..off; the CLI defaults to off).
void init(const char* default_level = "warn");
}  // namespace hocba::log
