// A secret (PIN, password) in memory that is locked (no swap, no core dump) and wiped on destruction.
#pragma once
#include <cstddef>
#include <string>
#include <string_view>

namespace hocba {

class Secret {
 public:
  Secret() = default;
  explicit Secret(std::string_view s);
  ~Secret();
  Secret(const Secret&) = delete;
  Secret& operator=(const Secret&) = delete;
  Secret(Secret&& o) noexcept;
  Secret& operator=(Secret&& o) noexcept;

  // NUL-terminated view for C APIs; valid while this Secret lives.
  const char* c_str() const { return data_ ? data_ : ""; }
  std::string_view view() const { return {c_str(), size_}; }
  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  void clear();

  // Reads a secret from a file: the first line, without its line ending. The file is never echoed.
  static bool from_file(const std::string& path, Secret& out, std::string& err);
  // Prompts on the controlling terminal with echo off. Fails if there is no terminal.
  static bool from_terminal(const std::string& prompt, Secret& out, std::string& err);

 private:
  char* data_ = nullptr;
  std::size_t size_ = 0;
  std::size_t cap_ = 0;
};

// Wipes a std::string's buffer (for the rare place a secret had to pass through one).
void wipe(std::string& s);

// Excludes the process from core dumps (PR_SET_DUMPABLE 0) so secrets never reach one.
void disable_core_dumps();

}  // namespace hocba
