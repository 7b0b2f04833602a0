#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "hocba/common/error.h"

namespace hocba {

using Bytes = std::vector<std::uint8_t>;

Result<Bytes> read_file(const std::string& path, std::size_t max_size = std::size_t(1) << 31);
// Writes atomically: a temporary file beside `path`, fsync, rename, fsync of the directory.
// On any failure nothing is left at `path` (nor the temporary file).
Status write_file_atomic(const std::string& path, const void* data, std::size_t size, unsigned mode = 0644);
inline Status write_file_atomic(const std::string& path, const Bytes& b, unsigned mode = 0644) {
  return write_file_atomic(path, b.data(), b.size(), mode);
}

}  // namespace hocba
