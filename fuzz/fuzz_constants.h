// What the DER fuzz targets and the seed maker (make_seeds.cpp) agree on, so that the seeds in
// fuzz/corpus/ get past the first checks.
#pragma once
#include <cstdint>
#include <string_view>

namespace hocba::fuzz {

// The signature value the timestamp seeds cover, and the request's nonce.
constexpr std::string_view kSignatureValue = "hocba fuzz: the signature value a timestamp covers";
constexpr std::uint64_t kNonce = 0x1234567890abcdefull;

}  // namespace hocba::fuzz
