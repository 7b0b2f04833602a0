// Fixed inputs of the fuzz targets (certificates the answers are about), read once from fuzz/data/.
#pragma once
#include <string>

#include "hocba/common/fileio.h"

namespace hocba::fuzz {

// The bytes of fuzz/data/NAME; aborts if it cannot be read (a broken checkout, not a finding).
Bytes data_file(const std::string& name);

}  // namespace hocba::fuzz
