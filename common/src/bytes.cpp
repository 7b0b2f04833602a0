#include "hocba/common/bytes.h"

#include <openssl/sha.h>

namespace hocba {

std::string to_hex(std::span<const std::uint8_t> b, bool upper) {
  const char* digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
  std::string s;
  s.reserve(b.size() * 2);
  for (auto c : b) {
    s.push_back(digits[c >> 4]);
    s.push_back(digits[c & 15]);
  }
  return s;
}

static int hexval(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool from_hex(std::string_view hex, std::vector<std::uint8_t>& out) {
  out.clear();
  out.reserve(hex.size() / 2);
  int hi = -1;
  for (char c : hex) {
    if (c == ' ' || c == '\n' || c == '\r' || c == '\t' || c == '\f') continue;
    int v = hexval(c);
    if (v < 0) return false;
    if (hi < 0) {
      hi = v;
    } else {
      out.push_back(static_cast<std::uint8_t>(hi << 4 | v));
      hi = -1;
    }
  }
  return hi < 0;
}

bool percent_decode(std::string_view in, std::string& out) {
  out.clear();
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%') {
      out.push_back(in[i]);
      continue;
    }
    if (i + 2 >= in.size()) return false;
    int a = hexval(in[i + 1]), b = hexval(in[i + 2]);
    if (a < 0 || b < 0) return false;
    out.push_back(static_cast<char>(a << 4 | b));
    i += 2;
  }
  return true;
}

std::string percent_encode(std::span<const std::uint8_t> b) {
  std::string s;
  for (auto c : b) {
    s.push_back('%');
    s += to_hex(std::span<const std::uint8_t>(&c, 1));
  }
  return s;
}

std::string sha256_hex(std::span<const std::uint8_t> b) {
  unsigned char h[SHA256_DIGEST_LENGTH];
  SHA256(b.data(), b.size(), h);
  return to_hex(std::span<const std::uint8_t>(h, sizeof h));
}

std::string sha256_hex(std::string_view s) {
  return sha256_hex(std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(s.data()), s.size()));
}

}  // namespace hocba
