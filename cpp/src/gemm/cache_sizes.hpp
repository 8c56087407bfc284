// The CPU's data caches, read at run time, and the GEMM block sizes derived from them. Internal:
// exposed so the tests can feed fake cache descriptions through the same code the CPU's take.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "cpuid.hpp"
#include "gemm/path_choice.hpp"

namespace miniflow::detail {

// Bytes of each data cache level as one core sees it: the L3 is the core's share of it (the
// cache divided among the cores that share it), 0 when there is none or it is unknown.
struct CacheSizes {
    std::size_t l1d;
    std::size_t l2;
    std::size_t l3_per_core;
};

// What the caches are taken to be when the platform will not say (a small, common x86 core).
inline constexpr std::size_t kibibyte = 1024;
inline constexpr CacheSizes fallback_cache_sizes{32 * kibibyte, 512 * kibibyte, 0};

// The cpuid leaf that describes the caches one subleaf per cache, for the vendor string of leaf
// 0 ("GenuineIntel": 4; "AuthenticAMD" or "HygonGenuine": 0x8000001D, which AMD lays out like
// Intel's leaf 4), or 0 for a vendor with neither.
std::uint32_t cache_leaf_for_vendor(const std::string& vendor);

// Decodes the subleaves of leaf 4 or 0x8000001D (the list ends at the first null cache type):
// size = ways x partitions x line size x sets; instruction caches are skipped. A level it does
// not find stays as in fallback_cache_sizes (the L3 as 0).
CacheSizes decode_cache_leaf(const std::vector<CpuidRegisters>& subleaves);

// The data caches of the CPU this process runs on: cpuid on x86-64 (GCC, Clang, MSVC), else
// sysconf on glibc, else sysctl on macOS, else fallback_cache_sizes. Read once.
CacheSizes detected_cache_sizes();

// Block sizes for a micro-kernel of mr x nr values of element_bytes each, from the caches:
// - kc: a kc x nr micro-panel of B fills twice L1, between 128 and 512 steps. The micro-kernels
//   load B twice per mr broadcasts of A, so B's panel can stream from L2; a deeper kc means
//   fewer passes over c (measured on Zen 4, float64 at 2048: kc 512 4% faster than 256);
// - mc: the mc x kc block of A fills L2, a multiple of mr: each micro-panel of B brought in is
//   used against mc rows (measured on Zen 4: mc 252 1-3% faster than 126 at kc 512);
// - nc: the kc x nc block of B fills half the core's share of L3 (4 x L2 when there is no L3),
//   a multiple of nr, at most 8192.
BlockSizes block_sizes_for(const CacheSizes& caches, std::size_t mr, std::size_t nr,
                           std::size_t element_bytes);

}  // namespace miniflow::detail
