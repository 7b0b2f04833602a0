#include "test_env.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <thread>

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

ChildServer::ChildServer(const std::vector<std::string>& argv, const std::string& log_path, int startup_timeout_s) {
  if (argv.empty()) throw std::runtime_error("ChildServer: no command");
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  std::string err = log_path.empty() ? "/dev/null" : log_path;
  pid_ = fork();
  if (pid_ < 0) throw std::runtime_error("fork failed");
  if (pid_ == 0) {  // the child: only async-signal-safe calls until exec
    dup2(fds[1], STDOUT_FILENO);
    int e = open(err.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (e >= 0) dup2(e, STDERR_FILENO);
    execv(args[0], args.data());
    _exit(127);
  }
  close(fds[1]);
  std::string line;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(startup_timeout_s);
  while (line.find('\n') == std::string::npos) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count();
    pollfd p{fds[0], POLLIN, 0};
    if (left <= 0 || poll(&p, 1, static_cast<int>(left)) <= 0) break;
    char c[64];
    ssize_t n = read(fds[0], c, sizeof c);
    if (n <= 0) break;
    line.append(c, static_cast<std::size_t>(n));
  }
  close(fds[0]);
  try {
    // Our servers print the port; `openssl ocsp -port N` prints "ACCEPT [::]:N PID=…" once listening.
    if (line.rfind("ACCEPT ", 0) == 0) line = line.substr(line.rfind(':', line.find(" PID")) + 1);
    // hocbad prints "hocbad: listening on https://HOST:PORT/".
    if (auto u = line.find("://"); u != std::string::npos) {
      std::string authority = line.substr(u + 3, line.find('/', u + 3) - (u + 3));
      line = authority.substr(authority.rfind(':') + 1);
    }
    port_ = std::stoi(line);
  } catch (...) {
    port_ = 0;
  }
  if (port_ <= 0) {
    stop();
    throw std::runtime_error("the server " + argv[0] + " printed no port" + (log_path.empty() ? "" : ": " + read_text(log_path)));
  }
}

ChildServer::~ChildServer() { stop(); }

int ChildServer::terminate(int timeout_s) {
  if (pid_ <= 0) return -1;
  kill(pid_, SIGTERM);
  for (int i = 0; i < timeout_s * 100; ++i) {
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  kill_hard();
  return -1;
}

void ChildServer::kill_hard() {
  if (pid_ <= 0) return;
  kill(pid_, SIGKILL);
  waitpid(pid_, nullptr, 0);
  pid_ = -1;
}

void ChildServer::stop() {
  if (pid_ <= 0) return;
  kill(pid_, SIGTERM);
  for (int i = 0; i < 100; ++i) {
    if (waitpid(pid_, nullptr, WNOHANG) == pid_) {
      pid_ = -1;
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  kill(pid_, SIGKILL);
  waitpid(pid_, nullptr, 0);
  pid_ = -1;
}

void make_tsa_certificate(const std::string& prefix, const std::string& ca_pem, const std::string& ca_key,
                          const std::string& subject, const std::string& key_spec, const std::string& eku,
                          const std::string& more_extensions) {
  std::string newkey = key_spec == "ec" ? "-newkey ec -pkeyopt ec_paramgen_curve:P-256" : "-newkey " + key_spec;
  write_text(prefix + ".ext", "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\n"
                              "extendedKeyUsage=" + eku + "\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n" +
                              more_extensions);
  auto r = run("(openssl req -new -utf8 " + newkey + " -nodes -keyout '" + prefix + ".key' -out '" + prefix +
               ".csr' -subj '" + subject + "' && openssl x509 -req -in '" + prefix + ".csr' -CA '" + ca_pem +
               "' -CAkey '" + ca_key + "' -set_serial 0x$(openssl rand -hex 8) -days 30 -extfile '" + prefix +
               ".ext' -out '" + prefix + ".pem')");
  if (r.status != 0) throw std::runtime_error("making the TSA certificate failed: " + r.out);
}

int closed_port() {
  int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  if (s < 0 || bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
      getsockname(s, reinterpret_cast<sockaddr*>(&a), &len) != 0)
    throw std::runtime_error("cannot find a free port");
  close(s);
  return ntohs(a.sin_port);
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

std::unique_ptr<TmpFs> TmpFs::mount(const std::string& mount_point, std::size_t size_kib, std::string* why) {
  std::unique_ptr<TmpFs> t(new TmpFs());
  t->path_ = mount_point;
  if (::mkdir(mount_point.c_str(), 0700) == 0) {
    t->made_dir_ = true;
  } else if (errno != EEXIST) {
    if (why) *why = "cannot create " + mount_point + ": " + std::strerror(errno);
    return nullptr;
  }
  std::string opts = "size=" + std::to_string(size_kib) + "k,mode=0700";
  if (::mount("tmpfs", mount_point.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, opts.c_str()) != 0) {
    if (why) *why = "cannot mount a tmpfs on " + mount_point + " (" + std::strerror(errno) + "): run the test as root to check a full disk";
    if (t->made_dir_) ::rmdir(mount_point.c_str());
    t->made_dir_ = false;
    t->path_.clear();
    return nullptr;
  }
  return t;
}

TmpFs::~TmpFs() {
  if (path_.empty()) return;
  ::umount2(path_.c_str(), MNT_DETACH);
  if (made_dir_) ::rmdir(path_.c_str());
}

std::size_t TmpFs::free_bytes() const {
  struct statvfs v{};
  if (::statvfs(path_.c_str(), &v) != 0) return 0;
  return static_cast<std::size_t>(v.f_bavail) * v.f_frsize;
}

void TmpFs::fill(std::size_t leave_bytes) {
  std::string filler = file(".filler");
  int fd = ::open(filler.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) throw std::runtime_error("cannot create " + filler + ": " + std::strerror(errno));
  std::vector<char> chunk(4096, 'x');
  off_t written = 0;
  for (;;) {
    ssize_t n = ::write(fd, chunk.data(), chunk.size());
    if (n > 0) {
      written += n;
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno != ENOSPC) {
      int e = errno;
      ::close(fd);
      throw std::runtime_error("cannot fill " + path_ + ": " + std::strerror(e));
    }
    break;  // full
  }
  off_t keep = written > static_cast<off_t>(leave_bytes) ? written - static_cast<off_t>(leave_bytes) : 0;
  keep -= keep % 4096;
  if (::ftruncate(fd, keep) != 0) {
    int e = errno;
    ::close(fd);
    throw std::runtime_error("cannot shrink " + filler + ": " + std::strerror(e));
  }
  ::close(fd);
}

void TmpFs::unfill() {
  if (::unlink(file(".filler").c_str()) != 0 && errno != ENOENT)
    throw std::runtime_error("cannot remove the filler of " + path_ + ": " + std::strerror(errno));
}

}  // namespace hocba::test
