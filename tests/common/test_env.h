// Shared test helpers: a throw-away folder, a provisioned SoftHSM2 token set, running commands.
#pragma once
#include <string>

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
void write_text(const std::string& path, const std::string& text);
std::string read_text(const std::string& path);

}  // namespace hocba::test
