// HTTP Basic credentials (basic_auth.h).
#include "hocba/net/basic_auth.h"

#include <sodium.h>

#include <vector>

namespace hocba::net {

namespace {
constexpr std::size_t kMaxDecoded = 1024;
}

std::optional<BasicCredentials> parse_basic_authorization(std::string_view v) {
  if (v.size() <= 6 || !(v.substr(0, 6) == "Basic " || v.substr(0, 6) == "basic ")) return std::nullopt;
  std::string_view b64 = v.substr(6);
  if (b64.size() > (kMaxDecoded / 3 + 2) * 4) return std::nullopt;
  std::string decoded(b64.size(), '\0');
  bool ok = false;
  for (int variant : {sodium_base64_VARIANT_ORIGINAL, sodium_base64_VARIANT_ORIGINAL_NO_PADDING}) {
    std::size_t len = 0;
    const char* end = nullptr;
    if (sodium_base642bin(reinterpret_cast<unsigned char*>(decoded.data()), decoded.size(), b64.data(), b64.size(), nullptr,
                          &len, &end, variant) == 0 &&
        end == b64.data() + b64.size()) {
      ok = len <= kMaxDecoded;
      if (ok) {
        sodium_memzero(decoded.data() + len, decoded.size() - len);
        decoded.resize(len);
      }
      break;
    }
  }
  std::optional<BasicCredentials> out;
  auto colon = decoded.find(':');
  if (ok && colon != std::string::npos && colon != 0) {
    out.emplace();
    out->username = decoded.substr(0, colon);
    out->password = Secret(std::string_view(decoded).substr(colon + 1));
  }
  wipe(decoded);  // it held the password
  return out;
}

}  // namespace hocba::net
