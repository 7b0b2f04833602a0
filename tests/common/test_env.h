// Shared test helpers: a throw-away folder, a provisioned SoftHSM2 token set, running commands.
#pragma once
#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "hocba/common/fileio.h"

namespace hocba::test {

constexpr const char* kSoftHsm = "/usr/lib/softhsm/libsofthsm2.so";

// A temporary folder removed at destruction (unless HOCBA_KEEP_TMP is set).
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// Runs scripts/softhsm-provision.sh in `dir` and points SOFTHSM2_CONF at it (process-wide).
// Tokens: GVCN-3A (RSA-2048, id 01, PIN 111111), HIEU-TRUONG (RSA-3072, id 02, PIN 222222),
// CON-DAU (P-256 id 03, P-384 id 04, PIN 333333). pki/root.pem is the trust anchor.
void provision_softhsm(const std::string& dir);

struct CommandResult {
  int status = -1;  // exit status, or -1 if it did not exit normally
  std::string out;  // stdout and stderr, interleaved
};
CommandResult run(const std::string& shell_command);

bool have_tool(const std::string& name);

// A server run as a child process (fork/exec, no shell) that prints its TCP port as the first line
// on stdout, e.g. hocba-test-tsa with --port 0 (or "ACCEPT host:PORT PID=…", as `openssl ocsp
// -port N` does once it listens, or "… https://HOST:PORT/", as hocbad does). Its stderr goes to `log_path` (or /dev/null).
// Throws std::runtime_error if it exits or prints no port within the startup timeout (10 s). The destructor (or stop())
// sends SIGTERM, then SIGKILL after a second, and reaps it.
class ChildServer {
 public:
  // startup_timeout_s: how long it may take to print its port (hocbad's first start makes tokens).
  explicit ChildServer(const std::vector<std::string>& argv, const std::string& log_path = "", int startup_timeout_s = 10);
  ~ChildServer();
  ChildServer(const ChildServer&) = delete;
  ChildServer& operator=(const ChildServer&) = delete;
  int port() const { return port_; }
  pid_t pid() const { return pid_; }
  std::string url(const std::string& path = "/") const { return "http://127.0.0.1:" + std::to_string(port_) + path; }
  void stop();
  // SIGTERM, then waits up to timeout_s for the exit: its exit status, or -1 (killed by a signal, or
  // SIGKILLed after the timeout).
  int terminate(int timeout_s);
  void kill_hard();  // SIGKILL, at once

 private:
  pid_t pid_ = -1;
  int port_ = 0;
};

// Makes a timestamping key and certificate issued by ca_pem/ca_key with the openssl command: writes
// PREFIX.key and PREFIX.pem. key_spec: "rsa:2048", "ec" (P-256). eku: the extendedKeyUsage line
// ("critical,timeStamping" is right; others make broken TSAs). more_extensions: further lines of
// the openssl extension file (e.g. "authorityInfoAccess=OCSP;URI:…\n"). Throws on failure.
void make_tsa_certificate(const std::string& prefix, const std::string& ca_pem, const std::string& ca_key,
                          const std::string& subject, const std::string& key_spec = "rsa:2048",
                          const std::string& eku = "critical,timeStamping", const std::string& more_extensions = "");

// A TCP port on 127.0.0.1 that nothing listens on (bound, then closed: connecting is refused).
int closed_port();
void write_text(const std::string& path, const std::string& text);
std::string read_text(const std::string& path);

// A small tmpfs mounted on `mount_point` (created if missing) for disk-full tests: mount(2) needs
// root (CAP_SYS_ADMIN). mount() returns nullptr and the reason in `why` when it is not permitted,
// for GTEST_SKIP. The destructor unmounts it (lazily, should a process still hold a file) and
// removes the folder if it created it.
class TmpFs {
 public:
  static std::unique_ptr<TmpFs> mount(const std::string& mount_point, std::size_t size_kib, std::string* why);
  ~TmpFs();
  TmpFs(const TmpFs&) = delete;
  TmpFs& operator=(const TmpFs&) = delete;
  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }
  // Fills it with the file ".filler" until at most `leave_bytes` (rounded down to pages) are free;
  // unfill() removes the filler. Both throw std::runtime_error on failure.
  void fill(std::size_t leave_bytes);
  void unfill();
  std::size_t free_bytes() const;

 private:
  TmpFs() = default;
  std::string path_;
  bool made_dir_ = false;
};

}  // namespace hocba::test
