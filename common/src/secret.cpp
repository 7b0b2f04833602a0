#include "hocba/common/secret.h"

#include <sodium.h>
#include <sys/prctl.h>
#include <termios.h>
#include <unistd.h>
#include <fcntl.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <new>

namespace hocba {

namespace {
struct SodiumInit {
  SodiumInit() {
    if (sodium_init() < 0) throw std::runtime_error("libsodium failed to initialise");
  }
};
void ensure_sodium() { static SodiumInit once; }
}  // namespace

Secret::Secret(std::string_view s) {
  ensure_sodium();
  cap_ = s.size() + 1;
  data_ = static_cast<char*>(sodium_malloc(cap_));  // guarded pages, mlock'ed, wiped on free
  if (!data_) throw std::bad_alloc();
  std::memcpy(data_, s.data(), s.size());
  data_[s.size()] = '\0';
  size_ = s.size();
}

Secret::~Secret() { clear(); }

void Secret::clear() {
  if (data_) {
    sodium_memzero(data_, cap_);
    sodium_free(data_);
  }
  data_ = nullptr;
  size_ = cap_ = 0;
}

Secret::Secret(Secret&& o) noexcept : data_(o.data_), size_(o.size_), cap_(o.cap_) {
  o.data_ = nullptr;
  o.size_ = o.cap_ = 0;
}

Secret& Secret::operator=(Secret&& o) noexcept {
  if (this != &o) {
    clear();
    data_ = o.data_;
    size_ = o.size_;
    cap_ = o.cap_;
    o.data_ = nullptr;
    o.size_ = o.cap_ = 0;
  }
  return *this;
}

void wipe(std::string& s) {
  if (!s.empty()) sodium_memzero(s.data(), s.size());
  s.clear();
}

void disable_core_dumps() { prctl(PR_SET_DUMPABLE, 0, 0, 0, 0); }

bool Secret::from_file(const std::string& path, Secret& out, std::string& err) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    err = "cannot open PIN file " + path + ": " + std::strerror(errno);
    return false;
  }
  char buf[256];
  ssize_t n = ::read(fd, buf, sizeof buf);
  ::close(fd);
  if (n < 0) {
    err = "cannot read PIN file " + path;
    sodium_memzero(buf, sizeof buf);
    return false;
  }
  std::size_t len = 0;
  while (len < static_cast<std::size_t>(n) && buf[len] != '\n' && buf[len] != '\r') ++len;
  if (len == 0) {
    err = "PIN file " + path + " is empty";
    sodium_memzero(buf, sizeof buf);
    return false;
  }
  out = Secret(std::string_view(buf, len));
  sodium_memzero(buf, sizeof buf);
  return true;
}

bool Secret::from_terminal(const std::string& prompt, Secret& out, std::string& err) {
  int fd = ::open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) {
    err = "no terminal to ask for the PIN; give it with --pin-file FILE or pin-source in the key URI";
    return false;
  }
  termios old{};
  if (tcgetattr(fd, &old) != 0) {
    ::close(fd);
    err = "cannot switch the terminal to no-echo mode; give the PIN with --pin-file FILE";
    return false;
  }
  termios noecho = old;
  noecho.c_lflag &= ~static_cast<tcflag_t>(ECHO);
  noecho.c_lflag |= ECHONL;
  (void)!::write(fd, prompt.data(), prompt.size());
  tcsetattr(fd, TCSAFLUSH, &noecho);
  char buf[256];
  std::size_t len = 0;
  char c;
  while (len < sizeof buf - 1 && ::read(fd, &c, 1) == 1 && c != '\n' && c != '\r') buf[len++] = c;
  tcsetattr(fd, TCSAFLUSH, &old);
  ::close(fd);
  if (len == 0) {
    err = "no PIN entered";
    sodium_memzero(buf, sizeof buf);
    return false;
  }
  out = Secret(std::string_view(buf, len));
  sodium_memzero(buf, sizeof buf);
  return true;
}

}  // namespace hocba
