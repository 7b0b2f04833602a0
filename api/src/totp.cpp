// RFC 6238 TOTP (HMAC-SHA1) and RFC 4648 base32.
#include "hocba/api/totp.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <sodium.h>

#include <stdexcept>

namespace hocba::api {
namespace {

constexpr char kBase32Alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
constexpr std::size_t kSecretBytes = 20;
constexpr int kMaxWindow = 10;

int base32_value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a';
  if (c >= '2' && c <= '7') return c - '2' + 26;
  return -1;
}

// The decoded key, wiped when it goes out of scope.
struct Key {
  Bytes bytes;
  Key() = default;
  Key(const Key&) = delete;
  Key& operator=(const Key&) = delete;
  ~Key() { sodium_memzero(bytes.data(), bytes.size()); }
};

// RFC 4226 HOTP with dynamic truncation; `digits` is 6..9 (checked by the callers).
std::string hotp(const Bytes& key, std::uint64_t counter, int digits) {
  unsigned char msg[8];
  for (int i = 7; i >= 0; --i, counter >>= 8) msg[i] = static_cast<unsigned char>(counter & 0xff);
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (!HMAC(EVP_sha1(), key.data(), static_cast<int>(key.size()), msg, sizeof msg, mac, &len) || len != 20)
    throw std::runtime_error("HMAC-SHA1 failed");
  int off = mac[19] & 0x0f;
  std::uint32_t bin = (std::uint32_t(mac[off] & 0x7f) << 24) | (std::uint32_t(mac[off + 1]) << 16) |
                      (std::uint32_t(mac[off + 2]) << 8) | std::uint32_t(mac[off + 3]);
  sodium_memzero(mac, sizeof mac);
  std::uint32_t mod = 1;
  for (int i = 0; i < digits; ++i) mod *= 10;
  std::string code(static_cast<std::size_t>(digits), '0');
  for (std::uint32_t v = bin % mod, i = 0; i < static_cast<std::uint32_t>(digits); ++i, v /= 10)
    code[code.size() - 1 - i] = static_cast<char>('0' + v % 10);
  return code;
}

bool decode_key(std::string_view secret_base32, Key& out) {
  auto b = base32_decode(secret_base32);
  if (!b || b->empty()) return false;
  out.bytes = std::move(*b);
  return true;
}

// Percent-encoding of every byte but the RFC 3986 unreserved characters.
std::string uri_escape(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
                      c == '.' || c == '_' || c == '~';
    if (unreserved) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 0x0f];
    }
  }
  return out;
}

}  // namespace

std::string base32_encode(std::span<const std::uint8_t> bytes) {
  std::string out;
  out.reserve((bytes.size() * 8 + 4) / 5);
  std::uint32_t buf = 0;
  int bits = 0;
  for (std::uint8_t b : bytes) {
    buf = (buf << 8) | b;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      out += kBase32Alphabet[(buf >> bits) & 0x1f];
    }
  }
  if (bits > 0) out += kBase32Alphabet[(buf << (5 - bits)) & 0x1f];
  return out;
}

std::optional<Bytes> base32_decode(std::string_view text) {
  // Padding, when present, must complete the last group of 8 characters.
  std::size_t end = text.find('=');
  if (end != std::string_view::npos) {
    if (text.size() % 8 != 0 || text.find_first_not_of('=', end) != std::string_view::npos) return std::nullopt;
    text = text.substr(0, end);
  }
  // Valid lengths of the last group: 0, 2, 4, 5, 7 characters (8, 16, 24, 32 bits, ...).
  switch (text.size() % 8) {
    case 1: case 3: case 6: return std::nullopt;
    default: break;
  }
  if (end != std::string_view::npos && text.size() % 8 == 0) return std::nullopt;  // "========" alone etc.
  Bytes out;
  out.reserve(text.size() * 5 / 8);
  std::uint32_t buf = 0;
  int bits = 0;
  for (char c : text) {
    int v = base32_value(c);
    if (v < 0) return std::nullopt;
    buf = (buf << 5) | static_cast<std::uint32_t>(v);
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<std::uint8_t>((buf >> bits) & 0xff));
    }
  }
  if ((buf & ((1u << bits) - 1)) != 0) return std::nullopt;  // non-canonical trailing bits
  return out;
}

std::string totp_new_secret() {
  if (sodium_init() < 0) throw std::runtime_error("libsodium cannot be initialised");
  unsigned char b[kSecretBytes];
  randombytes_buf(b, sizeof b);
  std::string s = base32_encode(b);
  sodium_memzero(b, sizeof b);
  return s;
}

std::string totp_code(std::string_view secret_base32, std::int64_t unix_time, int digits) {
  if (digits < 6 || digits > 9 || unix_time < 0) return "";
  Key key;
  if (!decode_key(secret_base32, key)) return "";
  return hotp(key.bytes, static_cast<std::uint64_t>(unix_time / kTotpStepSeconds), digits);
}

std::optional<std::int64_t> totp_check(std::string_view secret_base32, std::string_view code, std::int64_t unix_time,
                                       int window) {
  if (window < 0 || window > kMaxWindow || unix_time < 0) return std::nullopt;
  if (code.size() != static_cast<std::size_t>(kTotpDigits)) return std::nullopt;
  for (char c : code)
    if (c < '0' || c > '9') return std::nullopt;
  Key key;
  if (!decode_key(secret_base32, key)) return std::nullopt;
  // Every step of the window is computed and compared (no early exit); the latest match wins.
  std::int64_t now = unix_time / kTotpStepSeconds;
  std::optional<std::int64_t> matched;
  for (std::int64_t step = now - window; step <= now + window; ++step) {
    if (step < 0) continue;
    std::string expected = hotp(key.bytes, static_cast<std::uint64_t>(step), kTotpDigits);
    if (sodium_memcmp(expected.data(), code.data(), expected.size()) == 0) matched = step;
  }
  return matched;
}

std::string totp_uri(std::string_view secret_base32, std::string_view account, std::string_view issuer) {
  std::string is = uri_escape(issuer);
  return "otpauth://totp/" + is + ":" + uri_escape(account) + "?secret=" + uri_escape(secret_base32) + "&issuer=" + is +
         "&algorithm=SHA1&digits=" + std::to_string(kTotpDigits) + "&period=" + std::to_string(kTotpStepSeconds);
}

}  // namespace hocba::api
