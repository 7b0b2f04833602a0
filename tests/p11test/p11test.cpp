// libhocba-p11test.so: a PKCS#11 module for tests that forwards every call to a real module
// (SoftHSM2 by default) and makes it behave like a USB token, driven by a config file that tests
// may rewrite while the module is loaded:
//
//   HOCBA_P11TEST_CONF=/path/to/p11test.conf      (plain key=value lines, '#' starts a comment)
//     module=PATH               real module (default /usr/lib/softhsm/libsofthsm2.so), loaded once
//     state_file=PATH           counters shared by every process using the module (see below)
//     max_pin_tries=N           simulated PIN lock after N wrong user PINs (0/absent: none)
//     present=0|1               0: the token(s) below are "removed"
//     token_label=LABEL         which token present=0 removes (absent: every token)
//     sign_delay_ms=N           each C_Sign/C_SignFinal that produces a signature takes N ms more
//     sign_hold_file=PATH       ...and then does not return while PATH exists (polled every 5 ms):
//                               a test holds signatures on the token until it removes the file
//     always_authenticate=1     private keys need a CKU_CONTEXT_SPECIFIC login after each C_SignInit
//
//   state file (key=value lines, updated under flock("<state>.lock") via temp file + rename):
//     login_calls=N             C_Login(CKU_USER) calls that reached the token, right or wrong
//     sign_calls=N              C_Sign/C_SignFinal calls that produced a signature
//     signs_held=N              of those, how many were held by sign_hold_file (counted when held)
//     fails.<serial>=N          wrong user PINs since the last right one, per token serial
//
// Session handles given to the caller are our own (mapped to the real module's), so a handle of a
// session lost to a simulated removal can never alias a session opened after reinsertion.
//
// Only C_GetFunctionList is exported (built with -fvisibility=hidden).

// Standard headers first: p11-kit's pkcs11.h defines object-like macros such as `count` and
// `value` (for its compatibility names) that would break them.
#include <dlfcn.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <p11-kit/pkcs11.h>
#undef count
#undef value
#undef value_len
#undef parameter
#undef parameter_len
#undef params
#undef slot_id

namespace {

constexpr const char* kDefaultModule = "/usr/lib/softhsm/libsofthsm2.so";
constexpr CK_FLAGS kPinFlags = CKF_USER_PIN_COUNT_LOW | CKF_USER_PIN_FINAL_TRY | CKF_USER_PIN_LOCKED;

// ---------------------------------------------------------------------------------------------
// Small helpers

std::string trim(std::string_view s) {
  const char* ws = " \t\r\n";
  auto b = s.find_first_not_of(ws);
  if (b == std::string_view::npos) return {};
  auto e = s.find_last_not_of(ws);
  return std::string(s.substr(b, e - b + 1));
}

// A blank-padded fixed-size PKCS#11 text field, without its padding.
std::string fixed_field(const unsigned char* p, std::size_t n) {
  std::string s(reinterpret_cast<const char*>(p), n);
  auto e = s.find_last_not_of(std::string_view(" \0", 2));
  return e == std::string::npos ? std::string() : s.substr(0, e + 1);
}

void wipe(std::string& s) {
  if (!s.empty()) explicit_bzero(s.data(), s.size());
  s.clear();
}

bool same_secret(const std::string& a, const unsigned char* b, CK_ULONG n) {
  if (a.size() != n || (n > 0 && !b)) return false;
  unsigned char diff = 0;
  for (CK_ULONG i = 0; i < n; ++i) diff |= static_cast<unsigned char>(a[i]) ^ b[i];
  return diff == 0;
}

// Whole file as a string; "" if it cannot be read.
std::string read_file(const std::string& path) {
  std::string out;
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return out;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof buf)) > 0) out.append(buf, static_cast<std::size_t>(n));
  ::close(fd);
  return out;
}

// Calls `f(key, value)` for each "key=value" line, skipping blank lines and '#' comments.
template <class F>
void for_each_pair(const std::string& text, F&& f) {
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t nl = text.find('\n', pos);
    if (nl == std::string::npos) nl = text.size();
    std::string line = trim(std::string_view(text).substr(pos, nl - pos));
    pos = nl + 1;
    if (line.empty() || line[0] == '#') continue;
    auto eq = line.find('=');
    if (eq == std::string::npos) continue;
    f(trim(std::string_view(line).substr(0, eq)), trim(std::string_view(line).substr(eq + 1)));
  }
}

// ---------------------------------------------------------------------------------------------
// Configuration, re-read whenever the file changes

struct Config {
  std::string module = kDefaultModule;
  std::string state_file;          // empty: counters live in this process only
  unsigned long max_pin_tries = 0; // 0: no simulated PIN lock
  bool present = true;
  std::string token_label;         // empty: present=0 removes every token
  unsigned long sign_delay_ms = 0;
  std::string sign_hold_file;      // empty: signatures are never held
  bool always_authenticate = false;
};

Config parse_config(const std::string& text) {
  Config c;
  for_each_pair(text, [&](const std::string& k, const std::string& v) {
    unsigned long n = std::strtoul(v.c_str(), nullptr, 10);
    if (k == "module") c.module = v.empty() ? kDefaultModule : v;
    else if (k == "state_file") c.state_file = v;
    else if (k == "max_pin_tries") c.max_pin_tries = n;
    else if (k == "present") c.present = n != 0;
    else if (k == "token_label") c.token_label = v;
    else if (k == "sign_delay_ms") c.sign_delay_ms = n;
    else if (k == "sign_hold_file") c.sign_hold_file = v;
    else if (k == "always_authenticate") c.always_authenticate = n != 0;
  });
  return c;
}

// Watches the file named by HOCBA_P11TEST_CONF. Each poll is one stat(); the file is read again
// when its identity, size or times changed, and also while it was modified in the last 2 seconds:
// a rewrite of the same size within one timestamp tick is then still seen (by its content).
class ConfigWatch {
 public:
  // Returns true (and sets `out`) when the configuration differs from the last one seen.
  bool poll(Config& out) {
    const char* env = std::getenv("HOCBA_P11TEST_CONF");
    std::string path = env ? env : "";
    struct stat st {};
    bool exists = !path.empty() && ::stat(path.c_str(), &st) == 0;
    Stamp stamp{};
    if (exists)
      stamp = {st.st_dev,           st.st_ino,           st.st_size,         st.st_mtim.tv_sec,
               st.st_mtim.tv_nsec,  st.st_ctim.tv_sec,   st.st_ctim.tv_nsec};
    bool recent = exists && std::time(nullptr) - std::max(st.st_mtim.tv_sec, st.st_ctim.tv_sec) <= 2;
    if (loaded_ && path == path_ && stamp == stamp_ && !recent) return false;
    std::string text = exists ? read_file(path) : std::string();
    bool changed = !loaded_ || path != path_ || text != text_;
    loaded_ = true;
    path_ = std::move(path);
    stamp_ = stamp;
    text_ = std::move(text);
    if (changed) out = parse_config(text_);
    return changed;
  }

 private:
  struct Stamp {
    dev_t dev;
    ino_t ino;
    off_t size;
    time_t mtime;
    long mtime_ns;
    time_t ctime;
    long ctime_ns;
    bool operator==(const Stamp&) const = default;
  };
  bool loaded_ = false;
  std::string path_, text_;
  Stamp stamp_{};
};

// ---------------------------------------------------------------------------------------------
// Persistent counters (the state file)

using Counters = std::map<std::string, long long>;

Counters parse_counters(const std::string& text) {
  Counters c;
  for_each_pair(text, [&](const std::string& k, const std::string& v) { c[k] = std::atoll(v.c_str()); });
  return c;
}

std::mutex g_state_mu;    // serializes state updates inside this process (flock does it across)
Counters g_mem_counters;  // the state when no state_file is configured

// A snapshot of the counters, without locking: the file is only ever replaced by rename().
Counters read_counters(const std::string& path) {
  if (path.empty()) {
    std::lock_guard lk(g_state_mu);
    return g_mem_counters;
  }
  return parse_counters(read_file(path));
}

// Exclusive access to the counters for a read-modify-write, across threads and processes.
// Lock order: g_state_mu may be taken before Module::mu, never after it.
class StateLock {
 public:
  explicit StateLock(std::string path) : lk_(g_state_mu), path_(std::move(path)) {
    if (path_.empty()) return;
    fd_ = ::open((path_ + ".lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd_ >= 0)
      while (::flock(fd_, LOCK_EX) != 0 && errno == EINTR) {
      }
  }
  ~StateLock() {
    if (fd_ >= 0) ::close(fd_);  // releases the flock
  }
  StateLock(const StateLock&) = delete;
  StateLock& operator=(const StateLock&) = delete;

  Counters load() const { return path_.empty() ? g_mem_counters : parse_counters(read_file(path_)); }

  void store(Counters c) {
    c.try_emplace("login_calls", 0);
    c.try_emplace("sign_calls", 0);
    if (path_.empty()) {
      g_mem_counters = std::move(c);
      return;
    }
    std::string text;
    for (const auto& [k, v] : c) text += k + "=" + std::to_string(v) + "\n";
    std::string tmp = path_ + ".tmp";  // unique enough: writers hold the flock
    if (FILE* f = std::fopen(tmp.c_str(), "we")) {
      bool ok = std::fwrite(text.data(), 1, text.size(), f) == text.size();
      ok = std::fclose(f) == 0 && ok;
      if (ok && std::rename(tmp.c_str(), path_.c_str()) == 0) return;
      std::remove(tmp.c_str());
    }
    std::fprintf(stderr, "p11test: cannot write state file %s\n", path_.c_str());
  }

 private:
  std::unique_lock<std::mutex> lk_;
  std::string path_;
  int fd_ = -1;
};

// ---------------------------------------------------------------------------------------------
// Module state

struct SessionRec {
  CK_SESSION_HANDLE real = 0;    // the real module's handle
  CK_SLOT_ID slot = 0;
  std::uint64_t epoch = 0;       // slot epoch when opened; stale after a removal
  bool removal_reported = false; // CKR_DEVICE_REMOVED was returned once
  bool sign_active = false;      // C_SignInit succeeded and the operation has not ended
  bool needs_auth = false;       // ...on a private key while always_authenticate=1
  bool authorized = false;       // context-specific login done since that C_SignInit
};

struct SlotRec {
  std::uint64_t epoch = 0;  // increased each time the token is noticed removed
  bool absent = false;      // removed by the configuration, as last evaluated
  bool known = false;       // label/serial below were read from the real module
  std::string label, serial;
};

// What a wrapper needs after validating a session: a copy of the record and of the config.
struct Entered {
  CK_RV rv = CKR_OK;
  CK_FUNCTION_LIST* real = nullptr;
  SessionRec sess;
  std::string serial;
  Config cfg;
};

class Module {
 public:
  std::mutex mu;  // guards everything below; never held around the real C_Sign or a sleep
  std::atomic<CK_FUNCTION_LIST*> real{nullptr};
  CK_FUNCTION_LIST ours{};
  bool initialized = false;
  Config cfg;
  ConfigWatch watch;
  std::map<CK_SESSION_HANDLE, SessionRec> sessions;
  CK_SESSION_HANDLE next_handle = 1;
  std::map<CK_SLOT_ID, SlotRec> slots;
  std::map<std::string, std::string> pins;  // token serial -> PIN of the last good user login

  // Loads the real module named by the configuration, once per process. Caller holds mu.
  CK_RV load_locked();

  // Forgets sessions, slots and PINs (C_Initialize, C_Finalize). Caller holds mu.
  void reset_locked() {
    sessions.clear();
    slots.clear();
    for (auto& [serial, pin] : pins) wipe(pin);
    pins.clear();
  }

  // Re-reads the configuration if it changed; a token that went from present to removed gets a
  // new epoch (its sessions become stale) and its real sessions are closed, which also logs it
  // out, like a real token pulled from the reader. Caller holds mu.
  void refresh_locked() {
    if (!watch.poll(cfg)) return;
    CK_FUNCTION_LIST* r = real.load();
    for (auto& [id, s] : slots) {
      bool absent = absent_locked(id, s);
      if (absent && !s.absent) {
        ++s.epoch;
        if (r && initialized) r->C_CloseAllSessions(id);
      }
      s.absent = absent;
    }
  }

  // Label and serial of the token in a slot, read once from the real module. Caller holds mu.
  void learn_token_locked(CK_SLOT_ID id, SlotRec& s) {
    if (s.known) return;
    CK_FUNCTION_LIST* r = real.load();
    CK_TOKEN_INFO ti{};
    if (r && initialized && r->C_GetTokenInfo(id, &ti) == CKR_OK) note_token_locked(s, ti);
  }
  static void note_token_locked(SlotRec& s, const CK_TOKEN_INFO& ti) {
    s.label = fixed_field(ti.label, sizeof ti.label);
    s.serial = fixed_field(ti.serialNumber, sizeof ti.serialNumber);
    s.known = true;
  }

  // Does the configuration remove the token in this slot? Caller holds mu.
  bool absent_locked(CK_SLOT_ID id, SlotRec& s) {
    if (cfg.present) return false;
    if (cfg.token_label.empty()) return true;
    learn_token_locked(id, s);
    return s.known && s.label == cfg.token_label;
  }

  // The record of a slot, created on first sight. Caller holds mu.
  SlotRec& slot_locked(CK_SLOT_ID id) {
    auto [it, fresh] = slots.try_emplace(id);
    if (fresh) it->second.absent = absent_locked(id, it->second);
    return it->second;
  }

  // Common start of every call on a session: refresh, then check the handle is ours and still
  // valid. A session from before a removal answers CKR_DEVICE_REMOVED once while the token is
  // out, CKR_SESSION_HANDLE_INVALID otherwise.
  Entered enter(CK_SESSION_HANDLE h) {
    Entered e;
    std::lock_guard lk(mu);
    if (!initialized) {
      e.rv = CKR_CRYPTOKI_NOT_INITIALIZED;
      return e;
    }
    refresh_locked();
    auto it = sessions.find(h);
    if (it == sessions.end()) {
      e.rv = CKR_SESSION_HANDLE_INVALID;
      return e;
    }
    SlotRec& s = slot_locked(it->second.slot);
    if (it->second.epoch != s.epoch) {
      bool first = !it->second.removal_reported;
      it->second.removal_reported = true;
      e.rv = s.absent && first ? CKR_DEVICE_REMOVED : CKR_SESSION_HANDLE_INVALID;
      return e;
    }
    e.real = real.load();
    e.sess = it->second;
    e.cfg = cfg;
    learn_token_locked(it->second.slot, s);
    e.serial = s.known ? s.serial : "slot" + std::to_string(it->second.slot);
    return e;
  }

  // Updates a session record, if the session still exists.
  template <class F>
  void with_session(CK_SESSION_HANDLE h, F&& f) {
    std::lock_guard lk(mu);
    if (auto it = sessions.find(h); it != sessions.end()) f(it->second);
  }

  // Bookkeeping after C_Sign/C_SignUpdate/C_SignFinal returned `rv`. `produced` is true when a
  // signature was written; the delay and the counter apply only then (no mutex held).
  CK_RV after_sign(CK_SESSION_HANDLE h, const Entered& e, CK_RV rv, bool produced) {
    bool ended = produced || (rv != CKR_OK && rv != CKR_BUFFER_TOO_SMALL);
    if (ended)
      with_session(h, [](SessionRec& s) {
        s.sign_active = false;
        s.authorized = false;  // each signature consumes the context-specific authorization
      });
    if (produced) {
      if (e.cfg.sign_delay_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(e.cfg.sign_delay_ms));
      const std::string& hold = e.cfg.sign_hold_file;
      if (!hold.empty() && ::access(hold.c_str(), F_OK) == 0) {
        count("signs_held", e.cfg);
        while (::access(hold.c_str(), F_OK) == 0) std::this_thread::sleep_for(std::chrono::milliseconds(5));
      }
      count("sign_calls", e.cfg);
    }
    return rv;
  }

  static void count(const std::string& counter, const Config& cfg) {
    StateLock st(cfg.state_file);
    Counters c = st.load();
    ++c[counter];
    st.store(std::move(c));
  }

  // C_SignUpdate/C_Sign/C_SignFinal on an always-authenticate key need a context login first.
  static bool blocked_for_auth(const Entered& e) {
    return e.sess.sign_active && e.sess.needs_auth && !e.sess.authorized;
  }
};

// Leaked on purpose: other threads or atexit handlers may still call in during exit.
Module& M() {
  static Module* m = new Module;
  return *m;
}

// ---------------------------------------------------------------------------------------------
// Generic forwarders: calls we do not alter, apart from the session/slot checks.

// For CK_C_xxx(CK_SESSION_HANDLE, ...): validate and translate the handle, then forward.
template <auto Field>
struct SessionFwd;
template <class... A, CK_RV (*CK_FUNCTION_LIST::*Field)(CK_SESSION_HANDLE, A...)>
struct SessionFwd<Field> {
  static CK_RV call(CK_SESSION_HANDLE h, A... args) {
    Entered e = M().enter(h);
    if (e.rv != CKR_OK) return e.rv;
    auto fn = e.real->*Field;
    return fn ? fn(e.sess.real, args...) : CKR_FUNCTION_NOT_SUPPORTED;
  }
};

// For CK_C_xxx(CK_SLOT_ID, ...): a removed token answers CKR_TOKEN_NOT_PRESENT.
template <auto Field>
struct SlotFwd;
template <class... A, CK_RV (*CK_FUNCTION_LIST::*Field)(CK_SLOT_ID, A...)>
struct SlotFwd<Field> {
  static CK_RV call(CK_SLOT_ID id, A... args) {
    Module& m = M();
    CK_FUNCTION_LIST* r = nullptr;
    {
      std::lock_guard lk(m.mu);
      r = m.real.load();
      if (!r) return CKR_CRYPTOKI_NOT_INITIALIZED;
      m.refresh_locked();
      if (m.initialized && m.slot_locked(id).absent) return CKR_TOKEN_NOT_PRESENT;
    }
    auto fn = r->*Field;
    return fn ? fn(id, args...) : CKR_FUNCTION_NOT_SUPPORTED;
  }
};

// ---------------------------------------------------------------------------------------------
// Wrappers with behaviour of their own

namespace wrap {

CK_RV GetFunctionList(CK_FUNCTION_LIST_PTR_PTR list);

CK_RV Initialize(void* args) {
  Module& m = M();
  std::lock_guard lk(m.mu);
  if (CK_RV rv = m.load_locked(); rv != CKR_OK) return rv;
  CK_RV rv = m.real.load()->C_Initialize(args);
  if (rv == CKR_OK) {
    m.reset_locked();
    m.initialized = true;
    m.refresh_locked();
  }
  return rv;
}

CK_RV Finalize(void* reserved) {
  Module& m = M();
  std::lock_guard lk(m.mu);
  CK_FUNCTION_LIST* r = m.real.load();
  if (!r) return CKR_CRYPTOKI_NOT_INITIALIZED;
  CK_RV rv = r->C_Finalize(reserved);
  if (rv == CKR_OK) {
    m.reset_locked();
    m.initialized = false;
  }
  return rv;
}

CK_RV GetInfo(CK_INFO_PTR info) {
  CK_FUNCTION_LIST* r = M().real.load();
  return r ? r->C_GetInfo(info) : CKR_CRYPTOKI_NOT_INITIALIZED;
}

CK_RV WaitForSlotEvent(CK_FLAGS flags, CK_SLOT_ID_PTR slot, void* reserved) {
  CK_FUNCTION_LIST* r = M().real.load();
  return r ? r->C_WaitForSlotEvent(flags, slot, reserved) : CKR_CRYPTOKI_NOT_INITIALIZED;
}

// With tokenPresent, removed tokens are left out; without it their slots are still listed.
CK_RV GetSlotList(CK_BBOOL token_present, CK_SLOT_ID_PTR list, CK_ULONG_PTR n_out) {
  Module& m = M();
  CK_FUNCTION_LIST* r = m.real.load();
  if (!r) return CKR_CRYPTOKI_NOT_INITIALIZED;
  if (!n_out) return CKR_ARGUMENTS_BAD;
  std::vector<CK_SLOT_ID> ids;
  for (;;) {
    CK_ULONG n = 0;
    CK_RV rv = r->C_GetSlotList(token_present, nullptr, &n);
    if (rv != CKR_OK) return rv;
    ids.resize(n);
    if (n == 0) break;
    rv = r->C_GetSlotList(token_present, ids.data(), &n);
    if (rv == CKR_BUFFER_TOO_SMALL) continue;  // a slot appeared in between
    if (rv != CKR_OK) return rv;
    ids.resize(n);
    break;
  }
  {
    std::lock_guard lk(m.mu);
    m.refresh_locked();
    std::vector<CK_SLOT_ID> shown;
    for (CK_SLOT_ID id : ids)
      if (!(token_present && m.initialized && m.slot_locked(id).absent)) shown.push_back(id);
    ids.swap(shown);
  }
  CK_ULONG n = ids.size();
  if (!list) {
    *n_out = n;
    return CKR_OK;
  }
  if (*n_out < n) {
    *n_out = n;
    return CKR_BUFFER_TOO_SMALL;
  }
  std::copy(ids.begin(), ids.end(), list);
  *n_out = n;
  return CKR_OK;
}

CK_RV GetSlotInfo(CK_SLOT_ID id, CK_SLOT_INFO_PTR info) {
  Module& m = M();
  CK_FUNCTION_LIST* r = m.real.load();
  if (!r) return CKR_CRYPTOKI_NOT_INITIALIZED;
  CK_RV rv = r->C_GetSlotInfo(id, info);
  if (rv == CKR_OK && info) {
    std::lock_guard lk(m.mu);
    m.refresh_locked();
    if (m.initialized && m.slot_locked(id).absent) info->flags &= ~CKF_TOKEN_PRESENT;
  }
  return rv;
}

// Removed tokens are not present; the user-PIN flags come from our failure count.
CK_RV GetTokenInfo(CK_SLOT_ID id, CK_TOKEN_INFO_PTR info) {
  Module& m = M();
  CK_FUNCTION_LIST* r = m.real.load();
  if (!r) return CKR_CRYPTOKI_NOT_INITIALIZED;
  Config cfg;
  {
    std::lock_guard lk(m.mu);
    m.refresh_locked();
    if (m.initialized && m.slot_locked(id).absent) return CKR_TOKEN_NOT_PRESENT;
    cfg = m.cfg;
  }
  CK_RV rv = r->C_GetTokenInfo(id, info);
  if (rv != CKR_OK || !info) return rv;
  std::string serial = fixed_field(info->serialNumber, sizeof info->serialNumber);
  {
    std::lock_guard lk(m.mu);
    if (m.initialized) Module::note_token_locked(m.slot_locked(id), *info);
  }
  if (cfg.max_pin_tries > 0) {
    long long fails = read_counters(cfg.state_file)["fails." + serial];
    long long left = static_cast<long long>(cfg.max_pin_tries) - fails;
    info->flags &= ~kPinFlags;
    if (left <= 0)
      info->flags |= CKF_USER_PIN_LOCKED;
    else if (left == 1)
      info->flags |= CKF_USER_PIN_FINAL_TRY | CKF_USER_PIN_COUNT_LOW;
    else if (fails >= 1)
      info->flags |= CKF_USER_PIN_COUNT_LOW;
  }
  return rv;
}

CK_RV InitToken(CK_SLOT_ID id, CK_UTF8CHAR_PTR pin, CK_ULONG pin_len, CK_UTF8CHAR_PTR label) {
  CK_RV rv = SlotFwd<&CK_FUNCTION_LIST::C_InitToken>::call(id, pin, pin_len, label);
  Module& m = M();
  std::lock_guard lk(m.mu);
  if (auto it = m.slots.find(id); it != m.slots.end()) it->second.known = false;  // new label
  return rv;
}

CK_RV OpenSession(CK_SLOT_ID id, CK_FLAGS flags, void* app, CK_NOTIFY notify, CK_SESSION_HANDLE_PTR out) {
  Module& m = M();
  CK_FUNCTION_LIST* r = m.real.load();
  if (!r) return CKR_CRYPTOKI_NOT_INITIALIZED;
  if (!out) return CKR_ARGUMENTS_BAD;
  std::uint64_t epoch = 0;
  {
    std::lock_guard lk(m.mu);
    if (!m.initialized) return CKR_CRYPTOKI_NOT_INITIALIZED;
    m.refresh_locked();
    SlotRec& s = m.slot_locked(id);
    if (s.absent) return CKR_TOKEN_NOT_PRESENT;
    epoch = s.epoch;
  }
  CK_SESSION_HANDLE real_h = 0;
  CK_RV rv = r->C_OpenSession(id, flags, app, notify, &real_h);
  if (rv != CKR_OK) return rv;
  std::lock_guard lk(m.mu);
  SlotRec& s = m.slot_locked(id);
  if (s.epoch != epoch || s.absent) {  // removed while we were opening it
    r->C_CloseSession(real_h);
    return CKR_TOKEN_NOT_PRESENT;
  }
  SessionRec rec;
  rec.real = real_h;
  rec.slot = id;
  rec.epoch = epoch;
  CK_SESSION_HANDLE h = m.next_handle++;
  m.sessions[h] = rec;
  *out = h;
  return CKR_OK;
}

// Closing a session lost to a removal just forgets it (its real session is already closed).
CK_RV CloseSession(CK_SESSION_HANDLE h) {
  Module& m = M();
  CK_FUNCTION_LIST* r = m.real.load();
  SessionRec rec;
  bool stale = false;
  {
    std::lock_guard lk(m.mu);
    if (!m.initialized) return CKR_CRYPTOKI_NOT_INITIALIZED;
    m.refresh_locked();
    auto it = m.sessions.find(h);
    if (it == m.sessions.end()) return CKR_SESSION_HANDLE_INVALID;
    rec = it->second;
    stale = rec.epoch != m.slot_locked(rec.slot).epoch;
    m.sessions.erase(it);
  }
  return stale ? CKR_OK : r->C_CloseSession(rec.real);
}

CK_RV CloseAllSessions(CK_SLOT_ID id) {
  Module& m = M();
  CK_FUNCTION_LIST* r = m.real.load();
  if (!r) return CKR_CRYPTOKI_NOT_INITIALIZED;
  {
    std::lock_guard lk(m.mu);
    m.refresh_locked();
    std::erase_if(m.sessions, [id](const auto& kv) { return kv.second.slot == id; });
  }
  return r->C_CloseAllSessions(id);
}

// CKU_USER: counted in login_calls; with max_pin_tries the wrong ones are counted per token and a
// token at the limit answers CKR_PIN_LOCKED without asking the real module. CKU_CONTEXT_SPECIFIC
// with always_authenticate=1 is handled here, against the PIN of the last good user login.
CK_RV Login(CK_SESSION_HANDLE h, CK_USER_TYPE user, CK_UTF8CHAR_PTR pin, CK_ULONG pin_len) {
  Module& m = M();
  Entered e = m.enter(h);
  if (e.rv != CKR_OK) return e.rv;
  const unsigned long max_tries = e.cfg.max_pin_tries;
  const std::string fails_key = "fails." + e.serial;

  if (user == CKU_USER) {
    StateLock st(e.cfg.state_file);  // held across the real call: the check and the count are one step
    Counters c = st.load();
    ++c["login_calls"];
    if (max_tries > 0 && c[fails_key] >= static_cast<long long>(max_tries)) {
      st.store(std::move(c));
      return CKR_PIN_LOCKED;
    }
    CK_RV rv = e.real->C_Login(e.sess.real, user, pin, pin_len);
    if (max_tries > 0) {
      if (rv == CKR_PIN_INCORRECT) ++c[fails_key];
      else if (rv == CKR_OK) c[fails_key] = 0;
    }
    st.store(std::move(c));
    if (rv == CKR_OK) {
      std::lock_guard lk(m.mu);
      std::string& kept = m.pins[e.serial];
      wipe(kept);
      kept.assign(reinterpret_cast<const char*>(pin), pin ? pin_len : 0);
    }
    return rv;
  }

  if (user == CKU_CONTEXT_SPECIFIC && e.cfg.always_authenticate) {
    if (!e.sess.sign_active) return CKR_OPERATION_NOT_INITIALIZED;
    StateLock st(e.cfg.state_file);
    Counters c = st.load();
    if (max_tries > 0 && c[fails_key] >= static_cast<long long>(max_tries)) return CKR_PIN_LOCKED;
    bool have = false, match = false;
    {
      std::lock_guard lk(m.mu);
      if (auto it = m.pins.find(e.serial); it != m.pins.end()) {
        have = true;
        match = same_secret(it->second, pin, pin_len);
      }
    }
    if (!have) return CKR_USER_NOT_LOGGED_IN;
    if (max_tries > 0) {
      c[fails_key] = match ? 0 : c[fails_key] + 1;
      st.store(std::move(c));
    }
    if (!match) return CKR_PIN_INCORRECT;
    m.with_session(h, [](SessionRec& s) { s.authorized = true; });
    return CKR_OK;
  }

  return e.real->C_Login(e.sess.real, user, pin, pin_len);
}

// With always_authenticate=1, private keys report CKA_ALWAYS_AUTHENTICATE = CK_TRUE.
CK_RV GetAttributeValue(CK_SESSION_HANDLE h, CK_OBJECT_HANDLE obj, CK_ATTRIBUTE_PTR tmpl, CK_ULONG n) {
  Entered e = M().enter(h);
  if (e.rv != CKR_OK) return e.rv;
  CK_FUNCTION_LIST* r = e.real;
  bool asked = false;
  for (CK_ULONG i = 0; tmpl && i < n; ++i) asked = asked || tmpl[i].type == CKA_ALWAYS_AUTHENTICATE;
  if (!e.cfg.always_authenticate || !asked) return r->C_GetAttributeValue(e.sess.real, obj, tmpl, n);

  CK_OBJECT_CLASS cls = 0;
  CK_ATTRIBUTE ca{CKA_CLASS, &cls, sizeof cls};
  if (r->C_GetAttributeValue(e.sess.real, obj, &ca, 1) != CKR_OK || cls != CKO_PRIVATE_KEY)
    return r->C_GetAttributeValue(e.sess.real, obj, tmpl, n);

  // Ask the real module for the other attributes only, then answer ours.
  std::vector<CK_ATTRIBUTE> rest;
  std::vector<CK_ULONG> where;
  for (CK_ULONG i = 0; i < n; ++i)
    if (tmpl[i].type != CKA_ALWAYS_AUTHENTICATE) {
      rest.push_back(tmpl[i]);
      where.push_back(i);
    }
  CK_RV rv = CKR_OK;
  if (!rest.empty()) {
    rv = r->C_GetAttributeValue(e.sess.real, obj, rest.data(), rest.size());
    for (std::size_t j = 0; j < rest.size(); ++j) tmpl[where[j]].ulValueLen = rest[j].ulValueLen;
    if (rv != CKR_OK && rv != CKR_ATTRIBUTE_SENSITIVE && rv != CKR_ATTRIBUTE_TYPE_INVALID && rv != CKR_BUFFER_TOO_SMALL)
      return rv;
  }
  for (CK_ULONG i = 0; i < n; ++i) {
    CK_ATTRIBUTE& a = tmpl[i];
    if (a.type != CKA_ALWAYS_AUTHENTICATE) continue;
    if (!a.pValue) {
      a.ulValueLen = sizeof(CK_BBOOL);
    } else if (a.ulValueLen < sizeof(CK_BBOOL)) {
      a.ulValueLen = CK_UNAVAILABLE_INFORMATION;
      if (rv == CKR_OK) rv = CKR_BUFFER_TOO_SMALL;
    } else {
      *static_cast<CK_BBOOL*>(a.pValue) = CK_TRUE;
      a.ulValueLen = sizeof(CK_BBOOL);
    }
  }
  return rv;
}

CK_RV SignInit(CK_SESSION_HANDLE h, CK_MECHANISM_PTR mech, CK_OBJECT_HANDLE key) {
  Module& m = M();
  Entered e = m.enter(h);
  if (e.rv != CKR_OK) return e.rv;
  bool needs_auth = false;
  if (e.cfg.always_authenticate) {
    CK_OBJECT_CLASS cls = 0;
    CK_ATTRIBUTE ca{CKA_CLASS, &cls, sizeof cls};
    needs_auth = e.real->C_GetAttributeValue(e.sess.real, key, &ca, 1) == CKR_OK && cls == CKO_PRIVATE_KEY;
  }
  CK_RV rv = e.real->C_SignInit(e.sess.real, mech, key);
  if (rv == CKR_OK)
    m.with_session(h, [&](SessionRec& s) {
      s.sign_active = true;
      s.needs_auth = needs_auth;
      s.authorized = false;
    });
  return rv;
}

CK_RV Sign(CK_SESSION_HANDLE h, CK_BYTE_PTR data, CK_ULONG len, CK_BYTE_PTR sig, CK_ULONG_PTR sig_len) {
  Module& m = M();
  Entered e = m.enter(h);
  if (e.rv != CKR_OK) return e.rv;
  if (Module::blocked_for_auth(e)) return CKR_USER_NOT_LOGGED_IN;
  CK_RV rv = e.real->C_Sign(e.sess.real, data, len, sig, sig_len);
  return m.after_sign(h, e, rv, rv == CKR_OK && sig);
}

CK_RV SignUpdate(CK_SESSION_HANDLE h, CK_BYTE_PTR part, CK_ULONG len) {
  Module& m = M();
  Entered e = m.enter(h);
  if (e.rv != CKR_OK) return e.rv;
  if (Module::blocked_for_auth(e)) return CKR_USER_NOT_LOGGED_IN;
  CK_RV rv = e.real->C_SignUpdate(e.sess.real, part, len);
  return m.after_sign(h, e, rv, false);
}

CK_RV SignFinal(CK_SESSION_HANDLE h, CK_BYTE_PTR sig, CK_ULONG_PTR sig_len) {
  Module& m = M();
  Entered e = m.enter(h);
  if (e.rv != CKR_OK) return e.rv;
  if (Module::blocked_for_auth(e)) return CKR_USER_NOT_LOGGED_IN;
  CK_RV rv = e.real->C_SignFinal(e.sess.real, sig, sig_len);
  return m.after_sign(h, e, rv, rv == CKR_OK && sig);
}

}  // namespace wrap

CK_RV Module::load_locked() {
  if (real.load()) return CKR_OK;
  watch.poll(cfg);
  void* dl = ::dlopen(cfg.module.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!dl) {
    std::fprintf(stderr, "p11test: cannot load %s: %s\n", cfg.module.c_str(), ::dlerror());
    return CKR_GENERAL_ERROR;
  }
  auto get = reinterpret_cast<CK_C_GetFunctionList>(::dlsym(dl, "C_GetFunctionList"));
  CK_FUNCTION_LIST* list = nullptr;
  if (!get || get(&list) != CKR_OK || !list) {
    std::fprintf(stderr, "p11test: %s has no usable C_GetFunctionList\n", cfg.module.c_str());
    ::dlclose(dl);
    return CKR_GENERAL_ERROR;
  }
  // The module stays loaded for the life of the process (C_Finalize + C_Initialize reuse it).

  using L = CK_FUNCTION_LIST;
  CK_FUNCTION_LIST& o = ours;
  o.version = {2, 40};
  o.C_Initialize = wrap::Initialize;
  o.C_Finalize = wrap::Finalize;
  o.C_GetInfo = wrap::GetInfo;
  o.C_GetFunctionList = wrap::GetFunctionList;
  o.C_GetSlotList = wrap::GetSlotList;
  o.C_GetSlotInfo = wrap::GetSlotInfo;
  o.C_GetTokenInfo = wrap::GetTokenInfo;
  o.C_GetMechanismList = SlotFwd<&L::C_GetMechanismList>::call;
  o.C_GetMechanismInfo = SlotFwd<&L::C_GetMechanismInfo>::call;
  o.C_InitToken = wrap::InitToken;
  o.C_InitPIN = SessionFwd<&L::C_InitPIN>::call;
  o.C_SetPIN = SessionFwd<&L::C_SetPIN>::call;
  o.C_OpenSession = wrap::OpenSession;
  o.C_CloseSession = wrap::CloseSession;
  o.C_CloseAllSessions = wrap::CloseAllSessions;
  o.C_GetSessionInfo = SessionFwd<&L::C_GetSessionInfo>::call;
  o.C_GetOperationState = SessionFwd<&L::C_GetOperationState>::call;
  o.C_SetOperationState = SessionFwd<&L::C_SetOperationState>::call;
  o.C_Login = wrap::Login;
  o.C_Logout = SessionFwd<&L::C_Logout>::call;
  o.C_CreateObject = SessionFwd<&L::C_CreateObject>::call;
  o.C_CopyObject = SessionFwd<&L::C_CopyObject>::call;
  o.C_DestroyObject = SessionFwd<&L::C_DestroyObject>::call;
  o.C_GetObjectSize = SessionFwd<&L::C_GetObjectSize>::call;
  o.C_GetAttributeValue = wrap::GetAttributeValue;
  o.C_SetAttributeValue = SessionFwd<&L::C_SetAttributeValue>::call;
  o.C_FindObjectsInit = SessionFwd<&L::C_FindObjectsInit>::call;
  o.C_FindObjects = SessionFwd<&L::C_FindObjects>::call;
  o.C_FindObjectsFinal = SessionFwd<&L::C_FindObjectsFinal>::call;
  o.C_EncryptInit = SessionFwd<&L::C_EncryptInit>::call;
  o.C_Encrypt = SessionFwd<&L::C_Encrypt>::call;
  o.C_EncryptUpdate = SessionFwd<&L::C_EncryptUpdate>::call;
  o.C_EncryptFinal = SessionFwd<&L::C_EncryptFinal>::call;
  o.C_DecryptInit = SessionFwd<&L::C_DecryptInit>::call;
  o.C_Decrypt = SessionFwd<&L::C_Decrypt>::call;
  o.C_DecryptUpdate = SessionFwd<&L::C_DecryptUpdate>::call;
  o.C_DecryptFinal = SessionFwd<&L::C_DecryptFinal>::call;
  o.C_DigestInit = SessionFwd<&L::C_DigestInit>::call;
  o.C_Digest = SessionFwd<&L::C_Digest>::call;
  o.C_DigestUpdate = SessionFwd<&L::C_DigestUpdate>::call;
  o.C_DigestKey = SessionFwd<&L::C_DigestKey>::call;
  o.C_DigestFinal = SessionFwd<&L::C_DigestFinal>::call;
  o.C_SignInit = wrap::SignInit;
  o.C_Sign = wrap::Sign;
  o.C_SignUpdate = wrap::SignUpdate;
  o.C_SignFinal = wrap::SignFinal;
  o.C_SignRecoverInit = SessionFwd<&L::C_SignRecoverInit>::call;
  o.C_SignRecover = SessionFwd<&L::C_SignRecover>::call;
  o.C_VerifyInit = SessionFwd<&L::C_VerifyInit>::call;
  o.C_Verify = SessionFwd<&L::C_Verify>::call;
  o.C_VerifyUpdate = SessionFwd<&L::C_VerifyUpdate>::call;
  o.C_VerifyFinal = SessionFwd<&L::C_VerifyFinal>::call;
  o.C_VerifyRecoverInit = SessionFwd<&L::C_VerifyRecoverInit>::call;
  o.C_VerifyRecover = SessionFwd<&L::C_VerifyRecover>::call;
  o.C_DigestEncryptUpdate = SessionFwd<&L::C_DigestEncryptUpdate>::call;
  o.C_DecryptDigestUpdate = SessionFwd<&L::C_DecryptDigestUpdate>::call;
  o.C_SignEncryptUpdate = SessionFwd<&L::C_SignEncryptUpdate>::call;
  o.C_DecryptVerifyUpdate = SessionFwd<&L::C_DecryptVerifyUpdate>::call;
  o.C_GenerateKey = SessionFwd<&L::C_GenerateKey>::call;
  o.C_GenerateKeyPair = SessionFwd<&L::C_GenerateKeyPair>::call;
  o.C_WrapKey = SessionFwd<&L::C_WrapKey>::call;
  o.C_UnwrapKey = SessionFwd<&L::C_UnwrapKey>::call;
  o.C_DeriveKey = SessionFwd<&L::C_DeriveKey>::call;
  o.C_SeedRandom = SessionFwd<&L::C_SeedRandom>::call;
  o.C_GenerateRandom = SessionFwd<&L::C_GenerateRandom>::call;
  o.C_GetFunctionStatus = SessionFwd<&L::C_GetFunctionStatus>::call;
  o.C_CancelFunction = SessionFwd<&L::C_CancelFunction>::call;
  o.C_WaitForSlotEvent = wrap::WaitForSlotEvent;
  real.store(list);
  return CKR_OK;
}

CK_RV wrap::GetFunctionList(CK_FUNCTION_LIST_PTR_PTR list) {
  if (!list) return CKR_ARGUMENTS_BAD;
  Module& m = M();
  std::lock_guard lk(m.mu);
  if (CK_RV rv = m.load_locked(); rv != CKR_OK) return rv;
  *list = &m.ours;
  return CKR_OK;
}

}  // namespace

// The one exported symbol.
extern "C" __attribute__((visibility("default"))) CK_RV C_GetFunctionList(CK_FUNCTION_LIST_PTR_PTR list) {
  return wrap::GetFunctionList(list);
}
