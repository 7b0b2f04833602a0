// Errors as values: expected outcomes (wrong PIN, token removed, bad input) are returned as an
// Error the caller must handle; broken invariants throw.
#pragma once
#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace hocba {

enum class Errc {
  ok = 0,
  invalid_argument,   // the caller's input is malformed
  not_found,          // a named key, token, field or file does not exist
  io,                 // reading or writing a file failed
  token_not_present,  // the token was removed (or never inserted)
  pin_incorrect,      // the token rejected the PIN
  pin_locked,         // the token's PIN is locked
  pin_needs_confirm,  // the token reports count-low/final-try: refusing without explicit confirmation
  pin_rejected_before,// this exact PIN already failed on this token: never retried
  pin_required,       // no PIN was supplied but the token needs one
  token_error,        // any other PKCS#11 failure
  crypto,             // OpenSSL failure
  bad_pdf,            // the PDF cannot be parsed or is unsupported (e.g. encrypted)
  verify_failed,      // a signature does not verify
  too_large,          // a placeholder is too small, a body too big
  timeout,
  unavailable,        // a remote service did not answer
  forbidden,          // the caller may not do this (someone else's key, record, job)
};

const char* errc_name(Errc c);

struct Error {
  Errc code = Errc::ok;
  std::string message;  // one line: what went wrong and what to do
};

template <typename T>
class Result {
 public:
  Result(T value) : v_(std::move(value)) {}                 // NOLINT(implicit)
  Result(Error e) : v_(std::move(e)) {}                     // NOLINT(implicit)
  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  const Error& error() const { return std::get<1>(v_); }

 private:
  std::variant<T, Error> v_;
};

// Status: a Result with no value.
class Status {
 public:
  Status() = default;
  Status(Error e) : e_(std::move(e)) {}  // NOLINT(implicit)
  static Status success() { return {}; }
  bool ok() const { return !e_.has_value(); }
  explicit operator bool() const { return ok(); }
  const Error& error() const { return *e_; }

 private:
  std::optional<Error> e_;
};

inline Error make_error(Errc c, std::string msg) { return Error{c, std::move(msg)}; }

// Drains OpenSSL's error queue into one line (the only place that reads the queue).
std::string drain_openssl_errors();
inline Error openssl_error(const std::string& what) {
  std::string d = drain_openssl_errors();
  return Error{Errc::crypto, d.empty() ? what : what + ": " + d};
}

}  // namespace hocba
