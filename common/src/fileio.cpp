#include "hocba/common/fileio.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <random>

namespace hocba {

Result<Bytes> read_file(const std::string& path, std::size_t max_size) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return make_error(Errc::io, "cannot open " + path + ": " + std::strerror(errno));
  struct stat st{};
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return make_error(Errc::io, path + " is not a regular file");
  }
  if (static_cast<std::size_t>(st.st_size) > max_size) {
    ::close(fd);
    return make_error(Errc::too_large, path + " is larger than " + std::to_string(max_size) + " bytes");
  }
  Bytes b(static_cast<std::size_t>(st.st_size));
  std::size_t off = 0;
  while (off < b.size()) {
    ssize_t n = ::read(fd, b.data() + off, b.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      ::close(fd);
      return make_error(Errc::io, "cannot read " + path + ": " + std::strerror(errno));
    }
    off += static_cast<std::size_t>(n);
  }
  ::close(fd);
  return b;
}

namespace {

std::string parent_of(const std::string& path) {
  auto slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

}  // namespace

Status sync_dir(const std::string& dir) {
  int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) return make_error(Errc::io, "cannot open the folder " + dir + " to sync it: " + std::strerror(errno));
  if (::fsync(dfd) != 0) {
    int e = errno;
    ::close(dfd);
    return make_error(Errc::io, "cannot sync the folder " + dir + ": " + std::strerror(e));
  }
  ::close(dfd);
  return {};
}

Status make_dirs_durable(const std::string& dir_in, unsigned mode) {
  std::string dir = dir_in;
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  if (dir.empty()) return make_error(Errc::invalid_argument, "no folder name given");
  std::vector<std::string> created;
  for (std::size_t pos = 1; pos <= dir.size(); ++pos) {
    if (pos != dir.size() && dir[pos] != '/') continue;
    if (dir[pos - 1] == '/') continue;  // "a//b"
    std::string part = dir.substr(0, pos);
    struct stat st{};
    if (::stat(part.c_str(), &st) == 0) {
      if (!S_ISDIR(st.st_mode)) return make_error(Errc::io, part + " exists and is not a folder");
      continue;
    }
    if (errno != ENOENT) return make_error(Errc::io, "cannot examine " + part + ": " + std::strerror(errno));
    if (::mkdir(part.c_str(), mode) == 0) {
      created.push_back(part);
      continue;
    }
    int e = errno;
    if (e == EEXIST && ::stat(part.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) continue;  // made meanwhile
    return make_error(Errc::io, "cannot create the folder " + part + ": " + std::strerror(e));
  }
  for (auto it = created.rbegin(); it != created.rend(); ++it)
    if (auto s = sync_dir(parent_of(*it)); !s) return s;
  return {};
}

Status write_file_atomic(const std::string& path, const void* data, std::size_t size, unsigned mode) {
  std::string dir = parent_of(path);
  // The folder is opened first: if it cannot be synced, nothing is written.
  int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0)
    return make_error(Errc::io, "cannot open the folder " + dir + " to write " + path + " durably: " + std::strerror(errno));
  std::random_device rd;
  std::string tmp = path + ".tmp." + std::to_string(::getpid()) + "." + std::to_string(rd());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) {
    int e = errno;
    ::close(dfd);
    return make_error(Errc::io, "cannot create " + tmp + ": " + std::strerror(e));
  }
  auto fail = [&](const char* what) {
    int e = errno;
    ::close(fd);
    ::unlink(tmp.c_str());
    ::close(dfd);
    return Status(make_error(Errc::io, std::string(what) + " " + path + ": " + std::strerror(e)));
  };
  const auto* p = static_cast<const unsigned char*>(data);
  std::size_t off = 0;
  while (off < size) {
    ssize_t n = ::write(fd, p + off, size - off);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return fail("cannot write");
    off += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0) return fail("cannot sync");
  if (::close(fd) != 0) {
    int e = errno;
    ::unlink(tmp.c_str());
    ::close(dfd);
    return make_error(Errc::io, "cannot close " + path + ": " + std::strerror(e));
  }
  struct stat st{};
  bool existed = ::lstat(path.c_str(), &st) == 0;
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    int e = errno;
    ::unlink(tmp.c_str());
    ::close(dfd);
    return make_error(Errc::io, "cannot rename into " + path + ": " + std::strerror(e));
  }
  if (::fsync(dfd) != 0) {
    int e = errno;
    if (!existed) ::unlink(path.c_str());
    ::close(dfd);
    return make_error(Errc::io, "cannot sync the folder " + dir + " after writing " + path + ": " + std::strerror(e) +
                                    (existed ? " (the new content is in place but may not survive a power loss)" : ""));
  }
  ::close(dfd);
  return {};
}

}  // namespace hocba
