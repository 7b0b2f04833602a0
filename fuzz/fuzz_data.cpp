#include "fuzz_data.h"

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>

namespace hocba::fuzz {

Bytes data_file(const std::string& name) {
  std::string path = std::string(HOCBA_FUZZ_DATA_DIR) + "/" + name;
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "fuzz: cannot read %s\n", path.c_str());
    std::abort();
  }
  return Bytes(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

}  // namespace hocba::fuzz
