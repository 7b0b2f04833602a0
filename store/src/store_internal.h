// Shared by the store's sources (not installed).
#pragma once
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <string>

namespace hocba::store {

// Now, UTC, ISO 8601 with milliseconds: 2026-11-23T11:12:31.123Z (created_at columns, audit entries).
std::string now_utc();

// Holds an exclusive flock on a file while alive (the audit head; the image files). Each FileLock opens
// the file itself, so two FileLocks exclude each other across threads as well as across processes.
class FileLock {
 public:
  explicit FileLock(const std::string& path) {
    fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd_ >= 0) ::flock(fd_, LOCK_EX);
  }
  ~FileLock() {
    if (fd_ >= 0) ::close(fd_);  // closing releases the lock
  }
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;

 private:
  int fd_ = -1;
};

}  // namespace hocba::store
