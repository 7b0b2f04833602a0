#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "hocba/common/error.h"

namespace hocba {

using Bytes = std::vector<std::uint8_t>;

Result<Bytes> read_file(const std::string& path, std::size_t max_size = std::size_t(1) << 31);
// Writes atomically: a temporary file beside `path`, fsync, rename, fsync of the directory.
// On any failure there is no temporary file left, and `path` is as it was — except when only the
// final fsync of the directory fails: then the new content has replaced an earlier file (if there was
// one) but may not survive a power loss, and the error says so. A new `path` is removed in that case.
Status write_file_atomic(const std::string& path, const void* data, std::size_t size, unsigned mode = 0644);
inline Status write_file_atomic(const std::string& path, const Bytes& b, unsigned mode = 0644) {
  return write_file_atomic(path, b.data(), b.size(), mode);
}

// fsync of a folder, so that the entries created, renamed or removed in it survive a power loss.
Status sync_dir(const std::string& dir);

// mkdir -p `dir` (each missing folder with `mode`), then fsyncs the parent of every folder it
// created, deepest first, so that the new folders survive a power loss before anything is written
// into them. Folders that exist are left as they are; a path component that is not a folder is an
// error. On an error the folders created so far stay (empty).
Status make_dirs_durable(const std::string& dir, unsigned mode = 0755);

}  // namespace hocba
