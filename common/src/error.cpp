#include "hocba/common/error.h"

#include <openssl/err.h>

namespace hocba {

const char* errc_name(Errc c) {
  switch (c) {
    case Errc::ok: return "ok";
    case Errc::invalid_argument: return "invalid_argument";
    case Errc::not_found: return "not_found";
    case Errc::io: return "io";
    case Errc::token_not_present: return "token_not_present";
    case Errc::pin_incorrect: return "pin_incorrect";
    case Errc::pin_locked: return "pin_locked";
    case Errc::pin_needs_confirm: return "pin_needs_confirm";
    case Errc::pin_rejected_before: return "pin_rejected_before";
    case Errc::pin_required: return "pin_required";
    case Errc::token_error: return "token_error";
    case Errc::crypto: return "crypto";
    case Errc::bad_pdf: return "bad_pdf";
    case Errc::verify_failed: return "verify_failed";
    case Errc::too_large: return "too_large";
    case Errc::timeout: return "timeout";
    case Errc::unavailable: return "unavailable";
    case Errc::forbidden: return "forbidden";
  }
  return "unknown";
}

std::string drain_openssl_errors() {
  std::string out;
  unsigned long e;
  char buf[256];
  while ((e = ERR_get_error()) != 0) {
    ERR_error_string_n(e, buf, sizeof buf);
    if (!out.empty()) out += "; ";
    out += buf;
  }
  return out;
}

}  // namespace hocba
