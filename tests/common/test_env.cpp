#include "test_env.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace hocba::test {

TempDir::TempDir() {
  std::string tmpl = (std::filesystem::temp_directory_path() / "hocba-test-XXXXXX").string();
  if (!mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
  path_ = tmpl;
}

TempDir::~TempDir() {
  if (!std::getenv("HOCBA_KEEP_TMP")) {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
}

CommandResult run(const std::string& cmd) {
  CommandResult r;
  FILE* p = popen((cmd + " 2>&1").c_str(), "r");
  if (!p) return r;
  char buf[4096];
  std::size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
  int st = pclose(p);
  r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return r;
}

// Provisioning makes RSA-3072 keys and takes seconds: it is done once per build into a template
// (under a lock, as ctest runs tests in parallel), which each test copies. Token files hold no paths.
void provision_softhsm(const std::string& dir) {
  namespace fs = std::filesystem;
  const std::string cache = std::string(HOCBA_TEST_CACHE) + "/softhsm";
  fs::create_directories(HOCBA_TEST_CACHE);
  int lock = open((std::string(HOCBA_TEST_CACHE) + "/softhsm.lock").c_str(), O_CREAT | O_RDWR | O_CLOEXEC, 0600);
  if (lock < 0 || flock(lock, LOCK_EX) != 0) throw std::runtime_error("cannot lock the SoftHSM2 template");
  if (!fs::exists(cache + "/softhsm2.conf")) {
    std::error_code ec;
    fs::remove_all(cache + ".tmp", ec);
    auto r = run(std::string(HOCBA_SOURCE_DIR) + "/scripts/softhsm-provision.sh " + cache + ".tmp");
    if (r.status != 0) {
      close(lock);
      throw std::runtime_error("softhsm-provision.sh failed: " + r.out);
    }
    fs::rename(cache + ".tmp", cache);
  }
  close(lock);
  auto r = run("cp -a " + cache + "/. " + dir + "/");
  if (r.status != 0) throw std::runtime_error("copying the SoftHSM2 template failed: " + r.out);
  write_text(dir + "/softhsm2.conf", "directories.tokendir = " + dir + "/tokens\nobjectstore.backend = file\n"
                                     "log.level = ERROR\nslots.removable = false\n");
  setenv("SOFTHSM2_CONF", (dir + "/softhsm2.conf").c_str(), 1);
}

bool have_tool(const std::string& name) { return run("command -v " + name + " >/dev/null").status == 0; }

void write_text(const std::string& path, const std::string& text) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f << text;
}

std::string read_text(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

}  // namespace hocba::test
