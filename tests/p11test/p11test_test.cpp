// Tests of libhocba-p11test.so, used directly through its function list against a fresh SoftHSM2
// token (label T1, user PIN 111111, RSA-2048 key "k1" with id 01) made in a temporary folder.
#include <dlfcn.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/wait.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <p11-kit/pkcs11.h>  // after the standard headers: it defines macros like `count`
#undef count
#undef value
#undef value_len

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr const char* kSoftHsm = "/usr/lib/softhsm/libsofthsm2.so";
constexpr const char* kPin = "111111";
constexpr CK_FLAGS kPinFlags = CKF_USER_PIN_COUNT_LOW | CKF_USER_PIN_FINAL_TRY | CKF_USER_PIN_LOCKED;

struct Run {
  int status = -1;
  std::string out;
};
Run run(const std::string& cmd) {
  Run r;
  FILE* p = popen((cmd + " 2>&1").c_str(), "r");
  if (!p) return r;
  char buf[4096];
  std::size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
  int st = pclose(p);
  r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return r;
}

void write_text(const std::string& path, const std::string& text) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f << text;
}

// The module under test, loaded once per process like an application would.
CK_FUNCTION_LIST* module() {
  static CK_FUNCTION_LIST* list = [] {
    void* h = dlopen(HOCBA_P11TEST_LIB, RTLD_NOW | RTLD_LOCAL);
    if (!h) return static_cast<CK_FUNCTION_LIST*>(nullptr);
    auto get = reinterpret_cast<CK_C_GetFunctionList>(dlsym(h, "C_GetFunctionList"));
    CK_FUNCTION_LIST* l = nullptr;
    return get && get(&l) == CKR_OK ? l : nullptr;
  }();
  return list;
}

std::string trimmed(const unsigned char* p, std::size_t n) {
  std::string s(reinterpret_cast<const char*>(p), n);
  return s.substr(0, s.find_last_not_of(' ') + 1);
}

class P11Test : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "p11test-XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    fs::create_directory(dir_ + "/tokens");
    write_text(dir_ + "/softhsm2.conf", "directories.tokendir = " + dir_ +
                                            "/tokens\nobjectstore.backend = file\nlog.level = ERROR\n");
    setenv("SOFTHSM2_CONF", (dir_ + "/softhsm2.conf").c_str(), 1);
    auto r = run("softhsm2-util --init-token --free --label T1 --so-pin 1234 --pin 111111");
    ASSERT_EQ(r.status, 0) << r.out;
    r = run(std::string("pkcs11-tool --module ") + kSoftHsm +
            " --token-label T1 --login --pin 111111 --keypairgen --key-type rsa:2048 --id 01 --label k1");
    ASSERT_EQ(r.status, 0) << r.out;

    conf_ = dir_ + "/p11test.conf";
    state_ = dir_ + "/p11test.state";
    configure("");
    setenv("HOCBA_P11TEST_CONF", conf_.c_str(), 1);
    p_ = module();
    ASSERT_NE(p_, nullptr) << "cannot load " << HOCBA_P11TEST_LIB;
    initialize();
    slot_ = find_slot("T1");
    serial_ = token_serial(slot_);
    ASSERT_FALSE(serial_.empty());
  }

  void TearDown() override {
    if (p_ && initialized_) p_->C_Finalize(nullptr);
    if (!dir_.empty() && !std::getenv("HOCBA_KEEP_TMP")) fs::remove_all(dir_);
  }

  void initialize() {
    CK_C_INITIALIZE_ARGS args{};
    args.flags = CKF_OS_LOCKING_OK;
    ASSERT_EQ(p_->C_Initialize(&args), CKR_OK);
    initialized_ = true;
  }
  void finalize() {
    ASSERT_EQ(p_->C_Finalize(nullptr), CKR_OK);
    initialized_ = false;
  }

  // Rewrites the config in place (same size and timestamp is possible: the module must notice).
  void configure(const std::string& extra) {
    write_text(conf_, std::string("module=") + kSoftHsm + "\nstate_file=" + state_ + "\n" + extra);
  }

  std::map<std::string, long> state() {
    std::map<std::string, long> m;
    std::ifstream f(state_);
    std::string line;
    while (std::getline(f, line))
      if (auto eq = line.find('='); eq != std::string::npos) m[line.substr(0, eq)] = std::atol(line.c_str() + eq + 1);
    return m;
  }
  long fails() { return state()["fails." + serial_]; }

  std::vector<CK_SLOT_ID> slots(bool token_present) {
    CK_ULONG n = 0;
    EXPECT_EQ(p_->C_GetSlotList(token_present, nullptr, &n), CKR_OK);
    std::vector<CK_SLOT_ID> ids(n);
    EXPECT_EQ(p_->C_GetSlotList(token_present, ids.data(), &n), CKR_OK);
    ids.resize(n);
    return ids;
  }
  bool listed(bool token_present) {
    auto ids = slots(token_present);
    return std::find(ids.begin(), ids.end(), slot_) != ids.end();
  }

  CK_SLOT_ID find_slot(const std::string& label) {
    for (CK_SLOT_ID id : slots(true)) {
      CK_TOKEN_INFO ti{};
      if (p_->C_GetTokenInfo(id, &ti) == CKR_OK && trimmed(ti.label, sizeof ti.label) == label) return id;
    }
    ADD_FAILURE() << "no token " << label;
    return 0;
  }
  std::string token_serial(CK_SLOT_ID id) {
    CK_TOKEN_INFO ti{};
    EXPECT_EQ(p_->C_GetTokenInfo(id, &ti), CKR_OK);
    return trimmed(ti.serialNumber, sizeof ti.serialNumber);
  }
  CK_FLAGS pin_flags() {
    CK_TOKEN_INFO ti{};
    EXPECT_EQ(p_->C_GetTokenInfo(slot_, &ti), CKR_OK);
    return ti.flags & kPinFlags;
  }

  CK_SESSION_HANDLE open() {
    CK_SESSION_HANDLE s = CK_INVALID_HANDLE;
    EXPECT_EQ(p_->C_OpenSession(slot_, CKF_SERIAL_SESSION, nullptr, nullptr, &s), CKR_OK);
    return s;
  }
  CK_RV login(CK_SESSION_HANDLE s, const std::string& pin, CK_USER_TYPE user = CKU_USER) {
    return p_->C_Login(s, user, reinterpret_cast<CK_UTF8CHAR_PTR>(const_cast<char*>(pin.data())), pin.size());
  }
  CK_STATE session_state(CK_SESSION_HANDLE s) {
    CK_SESSION_INFO si{};
    EXPECT_EQ(p_->C_GetSessionInfo(s, &si), CKR_OK);
    return si.state;
  }
  CK_OBJECT_HANDLE find_key(CK_SESSION_HANDLE s) {
    CK_OBJECT_CLASS cls = CKO_PRIVATE_KEY;
    char label[] = "k1";
    CK_ATTRIBUTE tmpl[] = {{CKA_CLASS, &cls, sizeof cls}, {CKA_LABEL, label, 2}};
    CK_OBJECT_HANDLE k = CK_INVALID_HANDLE;
    CK_ULONG n = 0;
    EXPECT_EQ(p_->C_FindObjectsInit(s, tmpl, 2), CKR_OK);
    EXPECT_EQ(p_->C_FindObjects(s, &k, 1, &n), CKR_OK);
    EXPECT_EQ(p_->C_FindObjectsFinal(s), CKR_OK);
    EXPECT_EQ(n, 1u);
    return k;
  }
  CK_RV sign_init(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE k) {
    CK_MECHANISM mech{CKM_SHA256_RSA_PKCS, nullptr, 0};
    return p_->C_SignInit(s, &mech, k);
  }
  // C_Sign with an output buffer of the right size (no length query).
  CK_RV sign_only(CK_SESSION_HANDLE s) {
    unsigned char data[] = "record", sig[256];
    CK_ULONG len = sizeof sig;
    CK_RV rv = p_->C_Sign(s, data, sizeof data, sig, &len);
    if (rv == CKR_OK) {
      EXPECT_EQ(len, 256u);
    }
    return rv;
  }
  // A full signature: C_SignInit, length query, C_Sign.
  CK_RV sign(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE k) {
    if (CK_RV rv = sign_init(s, k); rv != CKR_OK) return rv;
    unsigned char data[] = "record";
    CK_ULONG len = 0;
    if (CK_RV rv = p_->C_Sign(s, data, sizeof data, nullptr, &len); rv != CKR_OK) return rv;
    EXPECT_EQ(len, 256u);
    return sign_only(s);
  }
  std::string tool(const std::string& args) {
    return std::string("pkcs11-tool --module ") + HOCBA_P11TEST_LIB + " --token-label T1 " + args;
  }

  CK_FUNCTION_LIST* p_ = nullptr;
  bool initialized_ = false;
  std::string dir_, conf_, state_, serial_;
  CK_SLOT_ID slot_ = 0;
};

}  // namespace

TEST_F(P11Test, OwnFunctionListForwardsToTheRealModule) {
  EXPECT_EQ(p_->version.major, 2);
  EXPECT_EQ(p_->version.minor, 40);
  CK_FUNCTION_LIST* again = nullptr;
  ASSERT_EQ(p_->C_GetFunctionList(&again), CKR_OK);
  EXPECT_EQ(again, p_);
  CK_INFO info{};
  ASSERT_EQ(p_->C_GetInfo(&info), CKR_OK);
  EXPECT_EQ(trimmed(info.manufacturerID, sizeof info.manufacturerID), "SoftHSM");
  // Sessions and a plain login/sign work untouched; state counts them.
  CK_SESSION_HANDLE s = open();
  EXPECT_EQ(session_state(s), CKS_RO_PUBLIC_SESSION);
  ASSERT_EQ(login(s, kPin), CKR_OK);
  EXPECT_EQ(session_state(s), CKS_RO_USER_FUNCTIONS);
  EXPECT_EQ(sign(s, find_key(s)), CKR_OK);
  EXPECT_EQ(p_->C_CloseSession(s), CKR_OK);
  EXPECT_EQ(p_->C_GetSessionInfo(s, nullptr), CKR_SESSION_HANDLE_INVALID);
  EXPECT_EQ(state()["login_calls"], 1);
  EXPECT_EQ(state()["sign_calls"], 1);
  // Without max_pin_tries the real flags are reported as they are (no failures are counted).
  EXPECT_EQ(pin_flags(), 0u);
  CK_SESSION_HANDLE s2 = open();
  EXPECT_EQ(login(s2, "000000"), CKR_PIN_INCORRECT);
  EXPECT_EQ(fails(), 0);
}

TEST_F(P11Test, WrongPinsGoCountLowFinalTryLockedAndPersistAcrossReload) {
  configure("max_pin_tries=3\n");
  EXPECT_EQ(pin_flags(), 0u);
  CK_SESSION_HANDLE s = open();
  EXPECT_EQ(login(s, "000000"), CKR_PIN_INCORRECT);
  EXPECT_EQ(pin_flags(), CKF_USER_PIN_COUNT_LOW);
  EXPECT_EQ(login(s, "000001"), CKR_PIN_INCORRECT);
  EXPECT_EQ(pin_flags(), CKF_USER_PIN_COUNT_LOW | CKF_USER_PIN_FINAL_TRY);
  EXPECT_EQ(fails(), 2);
  EXPECT_EQ(state()["login_calls"], 2);

  // Reload the module: the count lives in the state file.
  finalize();
  initialize();
  EXPECT_EQ(pin_flags(), CKF_USER_PIN_COUNT_LOW | CKF_USER_PIN_FINAL_TRY);
  s = open();
  EXPECT_EQ(login(s, "000002"), CKR_PIN_INCORRECT);
  EXPECT_EQ(pin_flags(), CKF_USER_PIN_LOCKED);
  // Locked: even the right PIN is refused (the attempt still counts as a login call).
  EXPECT_EQ(login(s, kPin), CKR_PIN_LOCKED);
  EXPECT_EQ(session_state(s), CKS_RO_PUBLIC_SESSION);
  EXPECT_EQ(fails(), 3);
  EXPECT_EQ(state()["login_calls"], 4);
}

TEST_F(P11Test, RightPinResetsTheCount) {
  configure("max_pin_tries=3\n");
  CK_SESSION_HANDLE s = open();
  EXPECT_EQ(login(s, "000000"), CKR_PIN_INCORRECT);
  EXPECT_EQ(pin_flags(), CKF_USER_PIN_COUNT_LOW);
  EXPECT_EQ(login(s, kPin), CKR_OK);
  EXPECT_EQ(pin_flags(), 0u);
  EXPECT_EQ(fails(), 0);
  EXPECT_EQ(state()["login_calls"], 2);
}

TEST_F(P11Test, OtherProcessesShareTheState) {
  configure("max_pin_tries=3\n");
  auto r = run(tool("-L"));
  EXPECT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("T1"), std::string::npos) << r.out;
  for (const char* bad : {"000001", "000002"}) {
    r = run(tool(std::string("--login --pin ") + bad + " -O"));
    EXPECT_NE(r.status, 0) << r.out;
  }
  EXPECT_EQ(state()["login_calls"], 2);
  EXPECT_EQ(pin_flags(), CKF_USER_PIN_COUNT_LOW | CKF_USER_PIN_FINAL_TRY);
  r = run(tool("--login --pin 111111 -O"));
  EXPECT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("k1"), std::string::npos) << r.out;
  EXPECT_EQ(pin_flags(), 0u);
  // This process and another one signing add up.
  CK_SESSION_HANDLE s = open();
  ASSERT_EQ(login(s, kPin), CKR_OK);
  EXPECT_EQ(sign(s, find_key(s)), CKR_OK);
  write_text(dir_ + "/data", "data");
  r = run(tool("--login --pin 111111 --sign --id 01 -m SHA256-RSA-PKCS -i " + dir_ + "/data -o " + dir_ + "/sig"));
  EXPECT_EQ(r.status, 0) << r.out;
  EXPECT_EQ(fs::file_size(dir_ + "/sig"), 256u);
  EXPECT_EQ(state()["login_calls"], 5);
  EXPECT_EQ(state()["sign_calls"], 2);
}

TEST_F(P11Test, RemovalHidesTheTokenAndDropsItsSessions) {
  CK_SESSION_HANDLE s = open();
  ASSERT_EQ(login(s, kPin), CKR_OK);
  CK_OBJECT_HANDLE k = find_key(s);
  ASSERT_EQ(sign(s, k), CKR_OK);

  // Another token's label removes nothing.
  configure("present=0\ntoken_label=OTHER\n");
  EXPECT_TRUE(listed(true));
  EXPECT_EQ(session_state(s), CKS_RO_USER_FUNCTIONS);

  configure("present=0\ntoken_label=T1\n");
  EXPECT_FALSE(listed(true));
  EXPECT_TRUE(listed(false));
  CK_SLOT_INFO si{};
  ASSERT_EQ(p_->C_GetSlotInfo(slot_, &si), CKR_OK);
  EXPECT_EQ(si.flags & CKF_TOKEN_PRESENT, 0u);
  CK_TOKEN_INFO ti{};
  EXPECT_EQ(p_->C_GetTokenInfo(slot_, &ti), CKR_TOKEN_NOT_PRESENT);
  CK_SESSION_HANDLE none = CK_INVALID_HANDLE;
  EXPECT_EQ(p_->C_OpenSession(slot_, CKF_SERIAL_SESSION, nullptr, nullptr, &none), CKR_TOKEN_NOT_PRESENT);
  CK_ULONG n = 0;
  EXPECT_EQ(p_->C_GetMechanismList(slot_, nullptr, &n), CKR_TOKEN_NOT_PRESENT);
  EXPECT_EQ(sign_init(s, k), CKR_DEVICE_REMOVED);
  CK_SESSION_INFO info{};
  EXPECT_EQ(p_->C_GetSessionInfo(s, &info), CKR_SESSION_HANDLE_INVALID);

  // Same size as the previous config, possibly the same timestamp.
  configure("present=1\ntoken_label=T1\n");
  EXPECT_TRUE(listed(true));
  ASSERT_EQ(p_->C_GetSlotInfo(slot_, &si), CKR_OK);
  EXPECT_NE(si.flags & CKF_TOKEN_PRESENT, 0u);
  EXPECT_EQ(p_->C_GetSessionInfo(s, &info), CKR_SESSION_HANDLE_INVALID);  // lost for good
  EXPECT_EQ(p_->C_CloseSession(s), CKR_OK);
  CK_SESSION_HANDLE s2 = open();
  EXPECT_NE(s2, s);
  EXPECT_EQ(session_state(s2), CKS_RO_PUBLIC_SESSION);  // the login went with the token
  ASSERT_EQ(login(s2, kPin), CKR_OK);
  EXPECT_EQ(sign(s2, find_key(s2)), CKR_OK);
  EXPECT_EQ(state()["sign_calls"], 2);

  // Without token_label every token is removed.
  configure("present=0\n");
  EXPECT_TRUE(slots(true).empty());
  EXPECT_EQ(p_->C_GetSessionInfo(s2, &info), CKR_DEVICE_REMOVED);
  EXPECT_EQ(p_->C_GetSessionInfo(s2, &info), CKR_SESSION_HANDLE_INVALID);
}

TEST_F(P11Test, SignDelaySlowsEachSignatureWithoutSerializingCallers) {
  constexpr int kDelay = 300;
  configure("sign_delay_ms=" + std::to_string(kDelay) + "\n");
  CK_SESSION_HANDLE s = open();
  ASSERT_EQ(login(s, kPin), CKR_OK);
  CK_OBJECT_HANDLE k = find_key(s);
  ASSERT_EQ(sign_init(s, k), CKR_OK);
  unsigned char data[] = "record";
  CK_ULONG len = 0;
  auto t0 = Clock::now();
  ASSERT_EQ(p_->C_Sign(s, data, sizeof data, nullptr, &len), CKR_OK);  // a length query: not delayed
  auto t1 = Clock::now();
  ASSERT_EQ(sign_only(s), CKR_OK);
  auto t2 = Clock::now();
  EXPECT_LT(t1 - t0, milliseconds(kDelay));
  EXPECT_GE(t2 - t1, milliseconds(kDelay));
  EXPECT_EQ(state()["sign_calls"], 1);

  // Two sessions signing at once overlap: the module itself does not serialize them.
  CK_SESSION_HANDLE a = open(), b = open();
  std::vector<CK_RV> rvs(2, CKR_GENERAL_ERROR);
  auto start = Clock::now();
  std::thread ta([&] { rvs[0] = sign(a, k); });
  std::thread tb([&] { rvs[1] = sign(b, k); });
  ta.join();
  tb.join();
  auto elapsed = Clock::now() - start;
  EXPECT_EQ(rvs[0], CKR_OK);
  EXPECT_EQ(rvs[1], CKR_OK);
  EXPECT_GE(elapsed, milliseconds(kDelay));
  EXPECT_LT(elapsed, milliseconds(2 * kDelay - 50));
  EXPECT_EQ(state()["sign_calls"], 3);
}

TEST_F(P11Test, AlwaysAuthenticateNeedsAContextLoginForEachSignature) {
  CK_SESSION_HANDLE s = open();
  ASSERT_EQ(login(s, kPin), CKR_OK);
  CK_OBJECT_HANDLE k = find_key(s);
  CK_BBOOL aa = CK_TRUE;
  CK_ATTRIBUTE one{CKA_ALWAYS_AUTHENTICATE, &aa, sizeof aa};
  ASSERT_EQ(p_->C_GetAttributeValue(s, k, &one, 1), CKR_OK);
  EXPECT_EQ(aa, CK_FALSE);  // SoftHSM's own value

  configure("always_authenticate=1\nmax_pin_tries=3\n");
  char label[8] = {};
  CK_ATTRIBUTE two[] = {{CKA_LABEL, label, sizeof label}, {CKA_ALWAYS_AUTHENTICATE, &aa, sizeof aa}};
  ASSERT_EQ(p_->C_GetAttributeValue(s, k, two, 2), CKR_OK);
  EXPECT_EQ(aa, CK_TRUE);
  EXPECT_EQ(two[0].ulValueLen, 2u);
  EXPECT_EQ(std::string(label, 2), "k1");
  EXPECT_EQ(two[1].ulValueLen, sizeof(CK_BBOOL));

  // No signing operation: nothing to authorize.
  EXPECT_EQ(login(s, kPin, CKU_CONTEXT_SPECIFIC), CKR_OPERATION_NOT_INITIALIZED);
  ASSERT_EQ(sign_init(s, k), CKR_OK);
  EXPECT_EQ(sign_only(s), CKR_USER_NOT_LOGGED_IN);
  EXPECT_EQ(login(s, "000000", CKU_CONTEXT_SPECIFIC), CKR_PIN_INCORRECT);
  EXPECT_EQ(fails(), 1);
  EXPECT_EQ(pin_flags(), CKF_USER_PIN_COUNT_LOW);
  EXPECT_EQ(sign_only(s), CKR_USER_NOT_LOGGED_IN);
  ASSERT_EQ(login(s, kPin, CKU_CONTEXT_SPECIFIC), CKR_OK);
  EXPECT_EQ(fails(), 0);
  EXPECT_EQ(sign_only(s), CKR_OK);

  // The authorization was used up by that signature.
  ASSERT_EQ(sign_init(s, k), CKR_OK);
  EXPECT_EQ(sign_only(s), CKR_USER_NOT_LOGGED_IN);
  ASSERT_EQ(login(s, kPin, CKU_CONTEXT_SPECIFIC), CKR_OK);
  EXPECT_EQ(sign_only(s), CKR_OK);

  EXPECT_EQ(state()["sign_calls"], 2);
  EXPECT_EQ(state()["login_calls"], 1);  // context-specific logins are not user logins
}
