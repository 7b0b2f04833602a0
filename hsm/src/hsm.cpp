// libp11-backed implementation of hocba::hsm::Hsm.
//
// Locking: each module has a shared_mutex. Only re-enumerating the slots (which reallocates
// libp11's slot array and token structures) holds it exclusively; everything else holds it shared:
// signing, logging in, listing, and re-reading the tokens' PIN flags (kept in the module's own
// table, under a small mutex, never written into libp11's structures). So a login to one token
// never waits for a signature in progress on another token of the same module. Each token has a
// worker thread that runs its operations one at a time (interactive before batch).
#include "hocba/hsm/hsm.h"

#include <dlfcn.h>
#include <libp11.h>
#include <p11-kit/pkcs11.h>
#include <openssl/engine.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/ui.h>
#include <openssl/x509.h>
#include <sodium.h>

#include <condition_variable>
#include <deque>
#include <functional>
#include <future>
#include <map>
#include <mutex>
#include <set>
#include <shared_mutex>
#include <string_view>
#include <thread>

#include "hocba/common/bytes.h"
#include "hocba/common/ossl.h"
#include "hocba/common/log.h"

// PKCS#11 return values we act on (from the PKCS#11 v2.40 specification).
namespace {
constexpr unsigned long kCKR_DEVICE_ERROR = 0x30, kCKR_DEVICE_REMOVED = 0x32, kCKR_SESSION_CLOSED = 0xB0,
                        kCKR_SESSION_HANDLE_INVALID = 0xB3, kCKR_TOKEN_NOT_PRESENT = 0xE0,
                        kCKR_TOKEN_NOT_RECOGNIZED = 0xE1, kCKR_SLOT_ID_INVALID = 0x03, kCKR_PIN_INCORRECT = 0xA0,
                        kCKR_PIN_INVALID = 0xA1, kCKR_PIN_LEN_RANGE = 0xA2, kCKR_PIN_EXPIRED = 0xA3,
                        kCKR_PIN_LOCKED = 0xA4, kCKR_USER_NOT_LOGGED_IN = 0x101, kCKR_FUNCTION_FAILED = 0x06,
                        kCKR_GENERAL_ERROR = 0x05;
}  // namespace

namespace hocba::hsm {

const char* hash_name(HashAlg h) {
  switch (h) {
    case HashAlg::sha256: return "SHA-256";
    case HashAlg::sha384: return "SHA-384";
    case HashAlg::sha512: return "SHA-512";
  }
  return "?";
}

std::size_t hash_size(HashAlg h) {
  switch (h) {
    case HashAlg::sha256: return 32;
    case HashAlg::sha384: return 48;
    case HashAlg::sha512: return 64;
  }
  return 0;
}

namespace {


const EVP_MD* evp_md(HashAlg h) {
  switch (h) {
    case HashAlg::sha256: return EVP_sha256();
    case HashAlg::sha384: return EVP_sha384();
    case HashAlg::sha512: return EVP_sha512();
  }
  return nullptr;
}

// The one place that turns libp11/OpenSSL errors into ours: drains the queue, returns the last
// PKCS#11 return value found (0 if none) and a text for diagnostics.
struct P11Failure {
  unsigned long rv = 0;
  std::string text;
};
P11Failure drain_p11_errors() {
  P11Failure f;
  const int ckr_lib = ERR_get_CKR_code();
  unsigned long e;
  while ((e = ERR_get_error()) != 0) {
    if (ckr_lib != 0 && ERR_GET_LIB(e) == ckr_lib) f.rv = ERR_GET_REASON(e);
    char buf[200];
    ERR_error_string_n(e, buf, sizeof buf);
    if (!f.text.empty()) f.text += "; ";
    f.text += buf;
  }
  return f;
}

bool is_removal(unsigned long rv) {
  return rv == kCKR_DEVICE_REMOVED || rv == kCKR_TOKEN_NOT_PRESENT || rv == kCKR_SESSION_HANDLE_INVALID ||
         rv == kCKR_SESSION_CLOSED || rv == kCKR_DEVICE_ERROR || rv == kCKR_TOKEN_NOT_RECOGNIZED ||
         rv == kCKR_SLOT_ID_INVALID;
}

std::string hexrv(unsigned long rv) {
  char b[32];
  std::snprintf(b, sizeof b, "0x%lx", rv);
  return b;
}

std::string x509_subject(X509* x) {
  std::string out;
  BIO* bio = BIO_new(BIO_s_mem());
  if (!bio) return out;
  X509_NAME_print_ex(bio, X509_get_subject_name(x), 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB);
  char* p = nullptr;
  long n = BIO_get_mem_data(bio, &p);
  out.assign(p, static_cast<std::size_t>(n));
  BIO_free(bio);
  return out;
}

std::string token_uri(const PKCS11_TOKEN* t) {
  Pkcs11Uri u;
  u.token = t->label;
  u.serial = t->serialnr;
  return u.to_string();
}

// --- PIN bookkeeping --------------------------------------------------------------------------

// What we remember of failed PINs per token: their count and keyed hashes (never the PINs).
// Wrong PINs checked against an open token before it is logged out (its own counter then applies).
constexpr unsigned kMaxOpenTokenMismatches = 3;

class PinLedger {
 public:
  PinLedger() { randombytes_buf(key_, sizeof key_); }
  ~PinLedger() { sodium_memzero(key_, sizeof key_); }
  bool rejected_before(const std::string& token, const Secret& pin) {
    std::lock_guard lk(mu_);
    auto it = rejected_.find(token);
    return it != rejected_.end() && it->second.count(fingerprint(pin)) > 0;
  }
  void record_failure(const std::string& token, const Secret& pin) {
    std::lock_guard lk(mu_);
    rejected_[token].insert(fingerprint(pin));
    ++failures_[token];
  }
  void record_success(const std::string& token, const Secret& pin) {
    std::lock_guard lk(mu_);
    failures_[token] = 0;
    rejected_.erase(token);
    accepted_[token] = fingerprint(pin);
  }
  // The token is open with a PIN: does `pin` differ from it? (false when we do not know which PIN.)
  bool differs_from_accepted(const std::string& token, const Secret& pin) {
    std::lock_guard lk(mu_);
    auto it = accepted_.find(token);
    return it != accepted_.end() && it->second != fingerprint(pin);
  }
  void forget_accepted(const std::string& token) {
    std::lock_guard lk(mu_);
    accepted_.erase(token);
  }
  unsigned failures(const std::string& token) {
    std::lock_guard lk(mu_);
    auto it = failures_.find(token);
    return it == failures_.end() ? 0 : it->second;
  }

 private:
  std::string fingerprint(const Secret& pin) {
    unsigned char h[32];
    crypto_generichash(h, sizeof h, reinterpret_cast<const unsigned char*>(pin.c_str()), pin.size(), key_,
                       sizeof key_);
    return std::string(reinterpret_cast<char*>(h), sizeof h);
  }
  std::mutex mu_;
  unsigned char key_[32];
  std::map<std::string, std::set<std::string>> rejected_;
  std::map<std::string, unsigned> failures_;
  std::map<std::string, std::string> accepted_;  // fingerprint of the PIN that opened the token
};

// --- per-token worker -------------------------------------------------------------------------

class TokenWorker {
 public:
  TokenWorker() : thread_([this] { run(); }) {}
  ~TokenWorker() {
    {
      std::lock_guard lk(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }
  // Runs `fn` on this token's thread and waits for it.
  template <typename T>
  T run_sync(Priority p, std::function<T()> fn) {
    std::packaged_task<T()> task(std::move(fn));
    auto fut = task.get_future();
    {
      std::lock_guard lk(mu_);
      auto& q = p == Priority::interactive ? interactive_ : batch_;
      q.emplace_back([&task] { task(); });
    }
    cv_.notify_one();
    return fut.get();
  }
  std::size_t depth() {
    std::lock_guard lk(mu_);
    return interactive_.size() + batch_.size();
  }

 private:
  void run() {
    for (;;) {
      std::function<void()> job;
      {
        std::unique_lock lk(mu_);
        cv_.wait(lk, [this] { return stop_ || !interactive_.empty() || !batch_.empty(); });
        if (stop_ && interactive_.empty() && batch_.empty()) return;
        auto& q = !interactive_.empty() ? interactive_ : batch_;
        job = std::move(q.front());
        q.pop_front();
      }
      job();
    }
  }
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> interactive_, batch_;
  bool stop_ = false;
  std::thread thread_;
};

// PINs for context-specific logins (keys with CKA_ALWAYS_AUTHENTICATE). libp11 asks for them through
// an OpenSSL UI method, on the thread that signs; the token's worker sets the request's PIN here for
// the duration of the signature. Without one, the login fails (it never prompts on a terminal).
thread_local const Secret* t_context_pin = nullptr;

int ui_read(UI* ui, UI_STRING* uis) {
  switch (UI_get_string_type(uis)) {
    case UIT_PROMPT:
    case UIT_VERIFY:
      if (!t_context_pin || t_context_pin->empty()) return -1;
      return UI_set_result(ui, uis, t_context_pin->c_str()) == 0 ? 1 : -1;
    default:
      return 1;
  }
}

UI_METHOD* pin_ui() {
  static UI_METHOD* m = [] {
    UI_METHOD* u = UI_create_method("hocba context-specific PIN");
    UI_method_set_reader(u, ui_read);
    return u;
  }();
  return m;
}

struct ContextPin {
  explicit ContextPin(const Secret* s) { t_context_pin = s; }
  ~ContextPin() { t_context_pin = nullptr; }
};

// A token's PIN state (CK_TOKEN_INFO flags).
struct PinFlags {
  bool login_required = false, count_low = false, final_try = false, locked = false, to_be_changed = false;
};

PinFlags pin_flags(CK_FLAGS f) {
  return {(f & CKF_LOGIN_REQUIRED) != 0, (f & CKF_USER_PIN_COUNT_LOW) != 0, (f & CKF_USER_PIN_FINAL_TRY) != 0,
          (f & CKF_USER_PIN_LOCKED) != 0, (f & CKF_USER_PIN_TO_BE_CHANGED) != 0};
}

PinFlags pin_flags(const PKCS11_TOKEN* t) {
  return {t->loginRequired != 0, t->userPinCountLow != 0, t->userPinFinalTry != 0, t->userPinLocked != 0,
          t->userPinToBeChanged != 0};
}

// A blank-padded CK_TOKEN_INFO text field equals `s` (libp11's copies drop the padding).
bool same_field(const CK_UTF8CHAR* field, std::size_t n, const char* s) {
  std::string f(reinterpret_cast<const char*>(field), n);
  auto end = f.find_last_not_of(std::string_view(" \0", 2));
  f.resize(end == std::string::npos ? 0 : end + 1);
  return s && f == s;
}

struct Module {
  std::string path;
  PKCS11_CTX* ctx = nullptr;
  PKCS11_SLOT* slots = nullptr;
  unsigned nslots = 0;
  // The module's own function list (the same instance libp11 initialized), for C_GetTokenInfo.
  void* dl = nullptr;
  CK_FUNCTION_LIST_PTR fl = nullptr;
  std::shared_mutex mu;

  // PIN flags read from the module since the slots were enumerated, by token serial: newer than
  // libp11's copy in PKCS11_TOKEN, which libp11 writes only while `mu` is held exclusively. They
  // are written under `mu` held shared, hence their own mutex.
  std::mutex flags_mu;
  std::map<std::string, PinFlags> flags;

  // Caller holds `mu` (shared or exclusive).
  PinFlags flags_of(const PKCS11_TOKEN* t) {
    std::lock_guard lk(flags_mu);
    auto it = flags.find(t->serialnr);
    return it != flags.end() ? it->second : pin_flags(t);
  }
  // Asks the module for the token's flags and keeps them. False when the slot holds no token or
  // another one than `t` (removed, or swapped). Caller holds `mu` (shared or exclusive).
  bool refresh_flags(PKCS11_SLOT* slot, const PKCS11_TOKEN* t) {
    if (!fl) return false;
    CK_TOKEN_INFO info{};
    if (fl->C_GetTokenInfo(PKCS11_get_slotid_from_slot(slot), &info) != CKR_OK) return false;
    if (!same_field(info.serialNumber, sizeof info.serialNumber, t->serialnr)) return false;
    std::lock_guard lk(flags_mu);
    flags[t->serialnr] = pin_flags(info.flags);
    return true;
  }
};

}  // namespace

struct Hsm::Impl {
  std::mutex mu;  // guards modules and workers maps
  std::vector<std::unique_ptr<Module>> modules;
  std::map<std::string, std::unique_ptr<TokenWorker>> workers;  // key: module path + '\n' + token serial
  PinLedger pins;
  bool shut = false;

  Module* module_for(const std::string& path) {
    std::lock_guard lk(mu);
    for (auto& m : modules)
      if (m->path == path) return m.get();
    return nullptr;
  }

  TokenWorker& worker_for(const std::string& module, const std::string& serial) {
    std::lock_guard lk(mu);
    auto& w = workers[module + "\n" + serial];
    if (!w) w = std::make_unique<TokenWorker>();
    return *w;
  }

  // Re-reads every token's flags (PIN count-low/final-try/locked) straight from the module, keeping
  // libp11's slots, sessions and logins. libp11 0.4.12's PKCS11_update_slots crashes on some slot
  // lists, so the module's own C_GetTokenInfo is asked instead. The slot array is not touched, so a
  // shared lock is enough. Returns false when a token has gone, was swapped or a new one has
  // appeared: the caller then re-enumerates (reset_slots).
  static bool update_slots(Module& m, std::string& err) {
    std::shared_lock lk(m.mu);
    if (!m.fl) return false;
    CK_ULONG present = 0;
    if (m.fl->C_GetSlotList(CK_TRUE, nullptr, &present) != CKR_OK) {
      err = "C_GetSlotList failed";
      return false;
    }
    CK_ULONG known = 0;
    for (unsigned i = 0; i < m.nslots; ++i) {
      PKCS11_TOKEN* t = m.slots[i].token;
      if (!t) continue;
      ++known;
      if (!m.refresh_flags(&m.slots[i], t)) {
        err = "token \"" + std::string(t->label) + "\" gone or replaced";
        return false;
      }
    }
    return known == present;
  }

  // After a token was removed: forget every slot of the module and enumerate again. Sessions and
  // logins of the module's other tokens are dropped too; they log in again on their next request.
  static bool reset_slots(Module& m, std::string& err) {
    std::unique_lock lk(m.mu);
    if (m.slots) PKCS11_release_all_slots(m.ctx, m.slots, m.nslots);
    m.slots = nullptr;
    m.nslots = 0;
    {
      std::lock_guard fl(m.flags_mu);
      m.flags.clear();  // the enumeration reads them afresh
    }
    ERR_clear_error();
    if (PKCS11_enumerate_slots(m.ctx, &m.slots, &m.nslots) != 0) {
      err = drain_p11_errors().text;
      m.slots = nullptr;
      m.nslots = 0;
      return false;
    }
    return true;
  }

  // Caller holds m.mu (shared or exclusive).
  static PKCS11_SLOT* find_slot(Module& m, const std::string& serial) {
    for (unsigned i = 0; i < m.nslots; ++i) {
      auto* t = m.slots[i].token;
      if (t && t->initialized && serial == t->serialnr) return &m.slots[i];
    }
    return nullptr;
  }
};

namespace {

// libp11's RSA EVP_PKEY method gives tokens CKM_RSA_PKCS_PSS for PSS (rather than OpenSSL padding the
// hash and asking the token for raw RSA, which many tokens refuse). Registering it process-wide
// (EVP_PKEY_meth_add0) would also capture every other RSA key in the process (certificate and
// timestamp signing with software keys then fail), so it is offered through a private ENGINE that
// only the token's signing contexts name.
int p11_pkey_meths(ENGINE* e, EVP_PKEY_METHOD** pmeth, const int** nids, int nid) {
  return PKCS11_pkey_meths(e, pmeth, nids, nid);
}

ENGINE* token_engine() {
  static ENGINE* engine = [] {
    ENGINE* e = ENGINE_new();
    if (e && (ENGINE_set_id(e, "hocba-pkcs11") != 1 || ENGINE_set_name(e, "hocba libp11 key methods") != 1 ||
              ENGINE_set_pkey_meths(e, p11_pkey_meths) != 1 || ENGINE_init(e) != 1)) {
      ENGINE_free(e);
      e = nullptr;
    }
    ERR_clear_error();
    return e;
  }();
  return engine;
}

}  // namespace

Hsm::Hsm() : impl_(std::make_unique<Impl>()) { token_engine(); }

Hsm::~Hsm() { shutdown(); }

void Hsm::shutdown() {
  std::vector<std::unique_ptr<Module>> mods;
  std::map<std::string, std::unique_ptr<TokenWorker>> workers;
  {
    std::lock_guard lk(impl_->mu);
    if (impl_->shut) return;
    impl_->shut = true;
    mods.swap(impl_->modules);
    workers.swap(impl_->workers);
  }
  workers.clear();  // joins every worker (they finish their queued work first)
  for (auto& m : mods) {
    std::unique_lock lk(m->mu);
    if (m->slots) PKCS11_release_all_slots(m->ctx, m->slots, m->nslots);
    // PKCS11_CTX_unload calls C_Finalize: done here explicitly, before OpenSSL's atexit clean-up
    // (SoftHSM2 crashes if it is finalized after OpenSSL has gone, upstream issue #635).
    PKCS11_CTX_unload(m->ctx);
    PKCS11_CTX_free(m->ctx);
    m->fl = nullptr;
    if (m->dl) dlclose(m->dl);
  }
}

Status Hsm::load_module(const std::string& path) {
  if (impl_->module_for(path)) return {};
  auto m = std::make_unique<Module>();
  m->path = path;
  m->ctx = PKCS11_CTX_new();
  if (!m->ctx) return make_error(Errc::token_error, "out of memory creating a PKCS#11 context");
  ERR_clear_error();
  if (PKCS11_CTX_load(m->ctx, path.c_str()) != 0) {
    auto f = drain_p11_errors();
    PKCS11_CTX_free(m->ctx);
    return make_error(Errc::not_found, "cannot load PKCS#11 module " + path +
                                           " (is the token software installed?)" +
                                           (f.text.empty() ? "" : ": " + f.text));
  }
  if (PKCS11_enumerate_slots(m->ctx, &m->slots, &m->nslots) != 0) {
    auto f = drain_p11_errors();
    PKCS11_CTX_unload(m->ctx);
    PKCS11_CTX_free(m->ctx);
    return make_error(Errc::token_error, "cannot list the slots of " + path + ": " + f.text);
  }
  PKCS11_set_ui_method(m->ctx, pin_ui(), nullptr);
  // Same library, same process-wide instance: dlopen only takes another reference.
  m->dl = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (m->dl) {
    auto get = reinterpret_cast<CK_C_GetFunctionList>(dlsym(m->dl, "C_GetFunctionList"));
    if (!get || get(&m->fl) != CKR_OK) m->fl = nullptr;
  }
  spdlog::info("HSM_MODULE_LOADED path={} slots={}", path, m->nslots);
  std::lock_guard lk(impl_->mu);
  impl_->modules.push_back(std::move(m));
  return {};
}

std::vector<std::string> Hsm::modules() const {
  std::lock_guard lk(impl_->mu);
  std::vector<std::string> out;
  for (auto& m : impl_->modules) out.push_back(m->path);
  return out;
}

Result<std::vector<TokenInfo>> Hsm::tokens() {
  std::vector<Module*> mods;
  {
    std::lock_guard lk(impl_->mu);
    for (auto& m : impl_->modules) mods.push_back(m.get());
  }
  std::vector<TokenInfo> out;
  for (auto* m : mods) {
    std::string err;
    if (!Impl::update_slots(*m, err)) Impl::reset_slots(*m, err);
    std::shared_lock lk(m->mu);
    for (unsigned i = 0; i < m->nslots; ++i) {
      const auto& s = m->slots[i];
      TokenInfo ti;
      ti.module = m->path;
      ti.slot_id = PKCS11_get_slotid_from_slot(&m->slots[i]);
      ti.slot_description = s.description ? s.description : "";
      ti.removable = s.removable;
      if (s.token) {
        const auto* t = s.token;
        ti.present = true;
        ti.label = t->label;
        ti.manufacturer = t->manufacturer;
        ti.model = t->model;
        ti.serial = t->serialnr;
        ti.initialized = t->initialized;
        const PinFlags f = m->flags_of(t);
        ti.login_required = f.login_required;
        ti.pin_count_low = f.count_low;
        ti.pin_final_try = f.final_try;
        ti.pin_locked = f.locked;
        ti.pin_to_be_changed = f.to_be_changed;
        ti.hocba_failures = impl_->pins.failures(m->path + "\n" + ti.serial);
        ti.uri = token_uri(t);
      }
      out.push_back(std::move(ti));
    }
  }
  return out;
}

namespace {

void describe_key(PKCS11_KEY* k, ObjectInfo& o) {
  int type = PKCS11_get_key_type(k);
  o.algorithm = type == EVP_PKEY_RSA ? KeyAlgorithm::rsa : type == EVP_PKEY_EC ? KeyAlgorithm::ec : KeyAlgorithm::other;
}

void describe_pub(EVP_PKEY* pub, KeyAlgorithm& alg, int& bits, std::string& curve) {
  if (!pub) return;
  bits = EVP_PKEY_get_bits(pub);
  int id = EVP_PKEY_get_base_id(pub);
  if (id == EVP_PKEY_RSA) alg = KeyAlgorithm::rsa;
  if (id == EVP_PKEY_EC) {
    alg = KeyAlgorithm::ec;
    char name[64] = {0};
    std::size_t len = 0;
    if (EVP_PKEY_get_utf8_string_param(pub, "group", name, sizeof name, &len) == 1) {
      std::string n = name;
      curve = n == "prime256v1" ? "P-256" : n == "secp384r1" ? "P-384" : n == "secp521r1" ? "P-521" : n;
    }
  }
}

std::string object_uri(const PKCS11_TOKEN* t, const char* label, const unsigned char* id, std::size_t id_len,
                       const char* type) {
  Pkcs11Uri u;
  u.token = t->label;
  u.serial = t->serialnr;
  if (label && *label) u.object = label;
  if (id_len) u.id = Bytes(id, id + id_len);
  u.type = type;
  return u.to_string();
}

bool same_id(const unsigned char* a, std::size_t alen, const Bytes& b) {
  return alen == b.size() && (alen == 0 || std::memcmp(a, b.data(), alen) == 0);
}

// A token's certificates and keys (libp11 keeps them cached on the token). Private keys may only be
// visible after login; until then the public keys tell us what exists.
struct TokenObjects {
  PKCS11_CERT* certs = nullptr;
  unsigned ncerts = 0;
  PKCS11_KEY* keys = nullptr;
  unsigned nkeys = 0;
};
TokenObjects token_objects(PKCS11_TOKEN* t) {
  TokenObjects o;
  if (PKCS11_enumerate_certs(t, &o.certs, &o.ncerts) != 0) o.ncerts = 0;
  if (PKCS11_enumerate_keys(t, &o.keys, &o.nkeys) != 0 || o.nkeys == 0) {
    if (PKCS11_enumerate_public_keys(t, &o.keys, &o.nkeys) != 0) o.nkeys = 0;
  }
  ERR_clear_error();
  return o;
}

}  // namespace

Result<std::vector<ObjectInfo>> Hsm::objects() {
  std::vector<Module*> mods;
  {
    std::lock_guard lk(impl_->mu);
    for (auto& m : impl_->modules) mods.push_back(m.get());
  }
  std::vector<ObjectInfo> out;
  for (auto* m : mods) {
    std::string err;
    if (!Impl::update_slots(*m, err)) Impl::reset_slots(*m, err);
    std::vector<std::string> serials;
    {
      std::shared_lock lk(m->mu);
      for (unsigned i = 0; i < m->nslots; ++i)
        if (m->slots[i].token && m->slots[i].token->initialized) serials.push_back(m->slots[i].token->serialnr);
    }
    for (const auto& serial : serials) {
      // Enumeration touches the token: run it on the token's worker.
      auto r = impl_->worker_for(m->path, serial).run_sync<std::vector<ObjectInfo>>(Priority::interactive, [&] {
        std::vector<ObjectInfo> objs;
        std::shared_lock lk(m->mu);
        PKCS11_SLOT* slot = Impl::find_slot(*m, serial);
        if (!slot) return objs;
        PKCS11_TOKEN* t = slot->token;
        auto [certs, ncerts, keys, nkeys] = token_objects(t);
        for (unsigned k = 0; k < nkeys; ++k) {
          ObjectInfo o;
          o.kind = ObjectInfo::Kind::private_key;
          o.module = m->path;
          o.token_label = t->label;
          o.token_serial = t->serialnr;
          o.label = keys[k].label ? keys[k].label : "";
          o.id.assign(keys[k].id, keys[k].id + keys[k].id_len);
          describe_key(&keys[k], o);
          for (unsigned c = 0; c < ncerts; ++c) {
            if (certs[c].x509 && same_id(certs[c].id, certs[c].id_len, o.id)) {
              o.has_certificate = true;
              o.subject = x509_subject(certs[c].x509);
              EVP_PKEY* pub = X509_get0_pubkey(certs[c].x509);
              describe_pub(pub, o.algorithm, o.bits, o.curve);
            }
          }
          o.uri = object_uri(t, o.label.c_str(), keys[k].id, keys[k].id_len, "private");
          objs.push_back(std::move(o));
        }
        for (unsigned c = 0; c < ncerts; ++c) {
          ObjectInfo o;
          o.kind = ObjectInfo::Kind::certificate;
          o.module = m->path;
          o.token_label = t->label;
          o.token_serial = t->serialnr;
          o.label = certs[c].label ? certs[c].label : "";
          o.id.assign(certs[c].id, certs[c].id + certs[c].id_len);
          if (certs[c].x509) o.subject = x509_subject(certs[c].x509);
          o.uri = object_uri(t, o.label.c_str(), certs[c].id, certs[c].id_len, "cert");
          objs.push_back(std::move(o));
        }
        return objs;
      });
      out.insert(out.end(), r.begin(), r.end());
    }
  }
  return out;
}

Result<KeyRef> Hsm::find_key(const Pkcs11Uri& uri) {
  if (uri.module_path) {
    if (auto st = load_module(*uri.module_path); !st) return st.error();
  }
  std::vector<Module*> mods;
  {
    std::lock_guard lk(impl_->mu);
    for (auto& m : impl_->modules)
      if (!uri.module_path || m->path == *uri.module_path) mods.push_back(m.get());
  }
  if (mods.empty())
    return make_error(Errc::not_found, "no PKCS#11 module is loaded; give one with --module PATH or module-path in the URI");
  if (!uri.object && !uri.id)
    return make_error(Errc::invalid_argument, "the key URI names no key: add object=LABEL or id=%XX (" + uri.to_string() + ")");

  bool token_seen = false;
  std::vector<KeyRef> matches;
  for (auto* m : mods) {
    std::string err;
    if (!Impl::update_slots(*m, err)) Impl::reset_slots(*m, err);
    std::vector<std::string> serials;
    {
      std::shared_lock lk(m->mu);
      for (unsigned i = 0; i < m->nslots; ++i) {
        auto* t = m->slots[i].token;
        if (!t || !t->initialized) continue;
        if (uri.token && *uri.token != t->label) continue;
        if (uri.serial && *uri.serial != t->serialnr) continue;
        if (uri.manufacturer && *uri.manufacturer != t->manufacturer) continue;
        if (uri.model && *uri.model != t->model) continue;
        if (uri.slot_id && *uri.slot_id != PKCS11_get_slotid_from_slot(&m->slots[i])) continue;
        serials.push_back(t->serialnr);
      }
    }
    for (const auto& serial : serials) {
      token_seen = true;
      auto found = impl_->worker_for(m->path, serial).run_sync<std::vector<KeyRef>>(Priority::interactive, [&] {
        std::vector<KeyRef> refs;
        std::shared_lock lk(m->mu);
        PKCS11_SLOT* slot = Impl::find_slot(*m, serial);
        if (!slot) return refs;
        PKCS11_TOKEN* t = slot->token;
        auto [certs, ncerts, keys, nkeys] = token_objects(t);
        ERR_clear_error();
        // Keys named by the URI; when none is visible yet (private keys hidden before login), the
        // certificate with the same label/id stands for it.
        auto matches_obj = [&](const char* label, const unsigned char* id, std::size_t id_len) {
          if (uri.object && (!label || *uri.object != label)) return false;
          if (uri.id && !same_id(id, id_len, *uri.id)) return false;
          return true;
        };
        std::vector<std::pair<std::string, Bytes>> named;  // (label, id)
        for (unsigned k = 0; k < nkeys; ++k)
          if (matches_obj(keys[k].label, keys[k].id, keys[k].id_len))
            named.emplace_back(keys[k].label ? keys[k].label : "", Bytes(keys[k].id, keys[k].id + keys[k].id_len));
        if (named.empty())
          for (unsigned c = 0; c < ncerts; ++c)
            if (matches_obj(certs[c].label, certs[c].id, certs[c].id_len))
              named.emplace_back(certs[c].label ? certs[c].label : "",
                                 Bytes(certs[c].id, certs[c].id + certs[c].id_len));
        for (auto& [label, id] : named) {
          KeyRef r;
          r.module = m->path;
          r.token_label = t->label;
          r.token_serial = t->serialnr;
          r.label = label;
          r.id = id;
          for (unsigned c = 0; c < ncerts; ++c) {
            if (!certs[c].x509) continue;
            if (same_id(certs[c].id, certs[c].id_len, id) && r.certificate.empty()) {
              r.certificate = x509_to_der(certs[c].x509);
              describe_pub(X509_get0_pubkey(certs[c].x509), r.algorithm, r.bits, r.curve);
            } else {
              r.ca_certs.push_back(x509_to_der(certs[c].x509));
            }
          }
          Pkcs11Uri ru;
          ru.token = r.token_label;
          ru.serial = r.token_serial;
          if (!label.empty()) ru.object = label;
          if (!id.empty()) ru.id = id;
          ru.type = "private";
          ru.module_path = m->path;
          r.uri = ru.to_string();
          refs.push_back(std::move(r));
        }
        return refs;
      });
      matches.insert(matches.end(), found.begin(), found.end());
    }
  }
  if (matches.empty()) {
    if (!token_seen && uri.token)
      return make_error(Errc::token_not_present, "token \"" + *uri.token + "\" is not present: insert it and try again");
    return make_error(Errc::not_found, "no key matches " + uri.to_string() + "; list keys with `hocba key list`");
  }
  if (matches.size() > 1)
    return make_error(Errc::invalid_argument, "the key URI " + uri.to_string() + " matches " +
                                                  std::to_string(matches.size()) + " keys: add token=, object= or id=");
  if (matches[0].certificate.empty())
    return make_error(Errc::not_found, "key " + matches[0].uri + " has no certificate with the same CKA_ID on the token");
  return matches[0];
}

namespace {

// Runs on the token's worker with the module lock held shared. `retry_after_reset` tells the
// caller to reset the module's slots and try once more (token was re-inserted).
struct SignOutcome {
  Result<Bytes> result = Bytes{};
  bool removed = false;
};

}  // namespace

Result<Bytes> Hsm::sign(const KeyRef& key, const SignRequest& req) {
  Module* m = impl_->module_for(key.module);
  if (!m) {
    if (auto st = load_module(key.module); !st) return st.error();
    m = impl_->module_for(key.module);
  }
  if (req.digest.size() != hash_size(req.hash))
    return make_error(Errc::invalid_argument, "digest length does not match " + std::string(hash_name(req.hash)));
  const std::string tok = "\"" + key.token_label + "\"";
  const std::string ledger_key = key.module + "\n" + key.token_serial;
  Impl* impl = impl_.get();

  auto attempt = [&](bool after_reset) -> SignOutcome {
    SignOutcome out;
    // 1) Is the token there? Everything here holds the module's lock shared: only a token missing
    // from the slot list (removed, or inserted since the slots were read) makes the caller
    // re-enumerate the slots (reset_slots, the one exclusive step), so a login never waits for a
    // signature in progress on another token of the module.
    std::shared_lock lk(m->mu);
    PKCS11_SLOT* slot = Impl::find_slot(*m, key.token_serial);
    if (!slot) {
      out.removed = !after_reset;
      out.result = make_error(Errc::token_not_present, "token " + tok + " is not present: insert it and try again");
      return out;
    }
    PKCS11_TOKEN* t = slot->token;
    int logged_in = 0;
    PKCS11_is_logged_in(slot, 0, &logged_in);
    // Before a login, the PIN flags as the token reports them now (wrong PINs entered by another
    // program count), asked of this token only. A token that no longer answers in its slot, or
    // another token in its place, makes the caller re-enumerate.
    if (!logged_in && !m->refresh_flags(slot, t) && !after_reset) {
      out.removed = true;
      return out;
    }
    const PinFlags flags = m->flags_of(t);

    // 2) Log in, with the PIN safety rules.
    if (!logged_in && flags.login_required) {
      if (flags.locked)
        return {make_error(Errc::pin_locked, "token " + tok + " reports its PIN is locked; unlock it with the SO PIN or the issuer"), false};
      if (!req.pin || req.pin->empty())
        return {make_error(Errc::pin_required, "token " + tok + " needs its PIN"), false};
      if (impl->pins.rejected_before(ledger_key, *req.pin))
        return {make_error(Errc::pin_rejected_before, "this PIN was already rejected by token " + tok +
                                                          "; it is not sent again: check the PIN"), false};
      unsigned ours = impl->pins.failures(ledger_key);
      if ((flags.final_try || flags.count_low || ours > 0) && !req.confirm_pin_risk) {
        std::string why = flags.final_try ? "reports one PIN try is left"
                          : flags.count_low ? "reports that a wrong PIN was entered recently"
                                               : "rejected a PIN " + std::to_string(ours) + " time(s) in this session";
        return {make_error(Errc::pin_needs_confirm, "token " + tok + " " + why +
                                                        "; not trying a PIN without explicit confirmation (a wrong one may lock it)"),
                false};
      }
      ERR_clear_error();
      if (PKCS11_login(slot, 0, req.pin->c_str()) != 0) {
        auto f = drain_p11_errors();
        if (f.rv == kCKR_PIN_INCORRECT || f.rv == kCKR_PIN_INVALID) {
          impl->pins.record_failure(ledger_key, *req.pin);
          spdlog::warn("HSM_LOGIN_FAILED token={} rv={}", key.token_label, hexrv(f.rv));
          return {make_error(Errc::pin_incorrect, "token " + tok + " rejected the PIN; it will not be retried (" +
                                                      std::to_string(impl->pins.failures(ledger_key)) +
                                                      " wrong PIN(s) counted); check the PIN before trying again"),
                  false};
        }
        if (f.rv == kCKR_PIN_LOCKED)
          return {make_error(Errc::pin_locked, "token " + tok + " reports its PIN is locked; unlock it with the SO PIN or the issuer"), false};
        if (f.rv == kCKR_PIN_EXPIRED)
          return {make_error(Errc::pin_locked, "token " + tok + " reports its PIN has expired; change it with the token's tool"), false};
        if (f.rv == kCKR_PIN_LEN_RANGE)
          return {make_error(Errc::invalid_argument, "token " + tok + " says the PIN has the wrong length (it was not counted as a try)"), false};
        if (is_removal(f.rv)) {
          out.removed = !after_reset;
          out.result = make_error(Errc::token_not_present, "token " + tok + " is not present: insert it and try again");
          return out;
        }
        return {make_error(Errc::token_error, "login to token " + tok + " failed (" + hexrv(f.rv) + "): " + f.text), false};
      }
      impl->pins.record_success(ledger_key, *req.pin);
      spdlog::info("HSM_LOGIN token={}", key.token_label);
    }

    // A token already open (logged in by an earlier request) still checks the PIN of this one when
    // the caller asks: compared with the PIN that opened it, without asking the token.
    if (logged_in && req.check_pin_when_logged_in) {
      if (!req.pin || req.pin->empty())
        return {make_error(Errc::pin_required, "token " + tok + " needs its PIN"), false};
      // The same rules as a real login, so that an open token is no place to guess PINs: a PIN that
      // failed is refused again, after a failure the next try needs confirmation, and after
      // kMaxOpenTokenMismatches the token is logged out, so that its own retry counter applies.
      if (impl->pins.rejected_before(ledger_key, *req.pin))
        return {make_error(Errc::pin_rejected_before, "this PIN was already rejected for token " + tok +
                                                          "; it is not tried again: check the PIN"),
                false};
      bool differs = impl->pins.differs_from_accepted(ledger_key, *req.pin);
      unsigned ours = impl->pins.failures(ledger_key);
      if (differs && ours > 0 && !req.confirm_pin_risk)
        return {make_error(Errc::pin_needs_confirm, "token " + tok + " rejected a PIN " + std::to_string(ours) +
                                                        " time(s) in this session; not trying a PIN without explicit confirmation"),
                false};
      if (differs) {
        impl->pins.record_failure(ledger_key, *req.pin);
        spdlog::warn("HSM_PIN_MISMATCH token={} failures={}", key.token_label, impl->pins.failures(ledger_key));
        if (impl->pins.failures(ledger_key) >= kMaxOpenTokenMismatches) {
          PKCS11_logout(slot);
          ERR_clear_error();
          impl->pins.forget_accepted(ledger_key);
        }
        return {make_error(Errc::pin_incorrect, "the PIN does not match token " + tok + "'s PIN; it will not be retried"), false};
      }
      impl->pins.record_success(ledger_key, *req.pin);
    }

    // 3) Find the private key and sign.
    PKCS11_KEY* keys = nullptr;
    unsigned nkeys = 0;
    ERR_clear_error();
    if (PKCS11_enumerate_keys(t, &keys, &nkeys) != 0) {
      auto f = drain_p11_errors();
      if (is_removal(f.rv) || f.rv == kCKR_USER_NOT_LOGGED_IN) {
        out.removed = !after_reset;
        out.result = make_error(Errc::token_not_present, "token " + tok + " is not present: insert it and try again");
        return out;
      }
      return {make_error(Errc::token_error, "cannot list keys on token " + tok + ": " + f.text), false};
    }
    PKCS11_KEY* k = nullptr;
    for (unsigned i = 0; i < nkeys; ++i)
      if (keys[i].isPrivate && same_id(keys[i].id, keys[i].id_len, key.id) &&
          (key.label.empty() || (keys[i].label && key.label == keys[i].label)))
        k = &keys[i];
    if (!k) return {make_error(Errc::not_found, "private key \"" + key.label + "\" is not on token " + tok), false};
    EvpPkeyPtr pk(PKCS11_get_private_key(k), EVP_PKEY_free);
    if (!pk) {
      auto f = drain_p11_errors();
      return {make_error(Errc::token_error, "cannot use key \"" + key.label + "\" on token " + tok + ": " + f.text), false};
    }
    bool rsa = EVP_PKEY_get_base_id(pk.get()) == EVP_PKEY_RSA;
    EvpPkeyCtxPtr pctx(EVP_PKEY_CTX_new(pk.get(), rsa ? token_engine() : nullptr), EVP_PKEY_CTX_free);
    bool setup = pctx && EVP_PKEY_sign_init(pctx.get()) == 1 && EVP_PKEY_CTX_set_signature_md(pctx.get(), evp_md(req.hash)) == 1;
    if (setup && req.mechanism == Mechanism::rsa_pss)
      setup = EVP_PKEY_CTX_set_rsa_padding(pctx.get(), RSA_PKCS1_PSS_PADDING) == 1 &&
              EVP_PKEY_CTX_set_rsa_mgf1_md(pctx.get(), evp_md(req.hash)) == 1 &&
              EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx.get(), static_cast<int>(hash_size(req.hash))) == 1;
    else if (setup && req.mechanism == Mechanism::rsa_pkcs1)
      setup = EVP_PKEY_CTX_set_rsa_padding(pctx.get(), RSA_PKCS1_PADDING) == 1;
    if (!setup) return {openssl_error("cannot set up the signature on token " + tok), false};
    std::size_t siglen = 0;
    if (EVP_PKEY_sign(pctx.get(), nullptr, &siglen, req.digest.data(), req.digest.size()) != 1)
      return {openssl_error("cannot size the signature"), false};
    Bytes sig(siglen);
    ERR_clear_error();
    bool pin_usable = req.pin && !req.pin->empty() && !impl->pins.rejected_before(ledger_key, *req.pin);
    ContextPin context_pin(pin_usable ? req.pin : nullptr);
    if (EVP_PKEY_sign(pctx.get(), sig.data(), &siglen, req.digest.data(), req.digest.size()) != 1) {
      auto f = drain_p11_errors();
      spdlog::warn("HSM_SIGN_FAILED token={} rv={}", key.token_label, hexrv(f.rv));
      if (is_removal(f.rv) || f.rv == kCKR_USER_NOT_LOGGED_IN || f.rv == 0 || f.rv == kCKR_FUNCTION_FAILED ||
          f.rv == kCKR_GENERAL_ERROR) {
        out.removed = !after_reset;
        out.result = make_error(Errc::token_not_present, "token " + tok + " stopped answering (removed?): insert it and try again");
        return out;
      }
      if (f.rv == kCKR_PIN_INCORRECT || f.rv == kCKR_PIN_INVALID) {  // context-specific login refused
        impl->pins.record_failure(ledger_key, *req.pin);
        return {make_error(Errc::pin_incorrect, "token " + tok + " rejected the PIN for this signature; it will not be retried"), false};
      }
      if (f.rv == kCKR_PIN_LOCKED)
        return {make_error(Errc::pin_locked, "token " + tok + " reports its PIN is locked; unlock it with the SO PIN or the issuer"), false};
      if (!pin_usable)
        return {make_error(Errc::pin_required, "key \"" + key.label + "\" on token " + tok + " needs the PIN for every signature"), false};
      return {make_error(Errc::token_error, "token " + tok + " failed to sign (" + hexrv(f.rv) + "): " + f.text), false};
    }
    sig.resize(siglen);
    out.result = std::move(sig);
    return out;
  };

  return impl_->worker_for(key.module, key.token_serial).run_sync<Result<Bytes>>(req.priority, [&]() -> Result<Bytes> {
    SignOutcome o = attempt(false);
    if (!o.removed) return std::move(o.result);
    // The token went away (or came back with our sessions gone): start afresh with the module's
    // slots and try once more. A PIN is only ever re-sent if it was accepted before.
    std::string err;
    Impl::reset_slots(*m, err);
    SignOutcome o2 = attempt(true);
    if (o2.result.ok()) return std::move(o2.result);
    if (o2.result.error().code == Errc::token_not_present || o2.removed)
      return make_error(Errc::token_not_present, "token " + tok + " is not present: insert it and try again");
    return std::move(o2.result);
  });
}

Status Hsm::logout(const KeyRef& key) {
  Module* m = impl_->module_for(key.module);
  if (!m) return {};
  return impl_->worker_for(key.module, key.token_serial).run_sync<Status>(Priority::interactive, [&]() -> Status {
    std::shared_lock lk(m->mu);
    PKCS11_SLOT* slot = Impl::find_slot(*m, key.token_serial);
    if (!slot) return {};
    int li = 0;
    PKCS11_is_logged_in(slot, 0, &li);
    if (li) PKCS11_logout(slot);
    impl_->pins.forget_accepted(key.module + "\n" + key.token_serial);
    ERR_clear_error();
    return {};
  });
}

}  // namespace hocba::hsm
