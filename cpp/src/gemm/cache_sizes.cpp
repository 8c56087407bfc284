// Reads the CPU's data cache sizes and derives the GEMM's block sizes from them, so that the
// blocks fit whatever CPU the library lands on instead of the one it was tuned on.
#include "gemm/cache_sizes.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "cpuid.hpp"
#include "simd/target.hpp"

#if defined(__unix__) || defined(__APPLE__)
#include <unistd.h>
#endif
#if defined(__APPLE__)
#include <sys/sysctl.h>
#include <sys/types.h>
#endif

namespace miniflow::detail {

namespace {

// A field of `bits` bits starting at bit `low` of a cpuid register.
std::size_t field(std::uint32_t reg, unsigned low, unsigned bits) {
    return static_cast<std::size_t>((reg >> low) & ((std::uint32_t{1} << bits) - 1U));
}

// The values of leaf 4 / 0x8000001D's EAX cache-type field.
constexpr std::size_t null_cache = 0;
constexpr std::size_t instruction_cache = 2;

#if MINIFLOW_X86_64

// The vendor string of leaf 0 and the highest leaf of the leaf's range (basic or extended).
std::string cpu_vendor() {
    const CpuidRegisters r = cpuid(0, 0);
    std::string vendor(12, '\0');
    for (unsigned i = 0; i < 4; ++i) {
        vendor[i] = static_cast<char>(field(r.ebx, 8U * i, 8));
        vendor[4 + i] = static_cast<char>(field(r.edx, 8U * i, 8));
        vendor[8 + i] = static_cast<char>(field(r.ecx, 8U * i, 8));
    }
    return vendor;
}

bool cpuid_cache_sizes(CacheSizes& sizes) {
    const std::uint32_t leaf = cache_leaf_for_vendor(cpu_vendor());
    if (leaf == 0) return false;
    // The leaf must exist (AMD: with the topology extensions, bit 22 of 0x80000001's ECX).
    const std::uint32_t range_top = cpuid(leaf & 0x80000000U, 0).eax;
    if (range_top < leaf) return false;
    if (leaf == 0x8000001DU && field(cpuid(0x80000001U, 0).ecx, 22, 1) == 0) return false;
    std::vector<CpuidRegisters> subleaves;
    // Real CPUs list four or five caches; the bound only guards against a broken hypervisor.
    for (std::uint32_t subleaf = 0; subleaf < 16; ++subleaf) {
        subleaves.push_back(cpuid(leaf, subleaf));
        if (field(subleaves.back().eax, 0, 5) == null_cache) break;
    }
    sizes = decode_cache_leaf(subleaves);
    return true;
}

#endif

#if defined(_SC_LEVEL1_DCACHE_SIZE) && defined(_SC_LEVEL2_CACHE_SIZE) && \
    defined(_SC_LEVEL3_CACHE_SIZE)

std::size_t sysconf_bytes(int name) {
    const long value = sysconf(name);
    return value > 0 ? static_cast<std::size_t>(value) : 0;
}

bool sysconf_cache_sizes(CacheSizes& sizes) {
    const std::size_t l1d = sysconf_bytes(_SC_LEVEL1_DCACHE_SIZE);
    const std::size_t l2 = sysconf_bytes(_SC_LEVEL2_CACHE_SIZE);
    if (l1d == 0 || l2 == 0) return false;
    // sysconf does not say how many cores share the L3: assume all of them.
    const unsigned cores = std::max(1U, std::thread::hardware_concurrency());
    sizes = {l1d, l2, sysconf_bytes(_SC_LEVEL3_CACHE_SIZE) / cores};
    return true;
}

#endif

#if defined(__APPLE__)

std::size_t sysctl_bytes(const char* name) {
    std::uint64_t value = 0;
    std::size_t length = sizeof(value);
    if (sysctlbyname(name, &value, &length, nullptr, 0) != 0) return 0;
    return static_cast<std::size_t>(value);
}

bool sysctl_cache_sizes(CacheSizes& sizes) {
    const std::size_t l1d = sysctl_bytes("hw.l1dcachesize");
    const std::size_t l2 = sysctl_bytes("hw.l2cachesize");
    if (l1d == 0 || l2 == 0) return false;
    sizes = {l1d, l2, 0};
    return true;
}

#endif

CacheSizes detect() {
    // Unused where no source below exists (WebAssembly): there the fallback is the answer.
    [[maybe_unused]] CacheSizes sizes = fallback_cache_sizes;
#if MINIFLOW_X86_64
    if (cpuid_cache_sizes(sizes)) return sizes;
#endif
#if defined(_SC_LEVEL1_DCACHE_SIZE) && defined(_SC_LEVEL2_CACHE_SIZE) && \
    defined(_SC_LEVEL3_CACHE_SIZE)
    if (sysconf_cache_sizes(sizes)) return sizes;
#endif
#if defined(__APPLE__)
    if (sysctl_cache_sizes(sizes)) return sizes;
#endif
    return fallback_cache_sizes;
}

std::size_t round_down(std::size_t value, std::size_t multiple) {
    return value / multiple * multiple;
}

// kc's bounds: below 128 steps the micro-kernel's loads and stores of c dominate; beyond 512
// nothing was gained (measured on Zen 4: 512 and 1024 alike).
constexpr std::size_t smallest_kc = 128;
constexpr std::size_t largest_kc = 512;
constexpr std::size_t largest_nc = 8192;

}  // namespace

std::uint32_t cache_leaf_for_vendor(const std::string& vendor) {
    if (vendor == "GenuineIntel") return 4;
    if (vendor == "AuthenticAMD" || vendor == "HygonGenuine") return 0x8000001DU;
    return 0;
}

CacheSizes decode_cache_leaf(const std::vector<CpuidRegisters>& subleaves) {
    CacheSizes sizes{fallback_cache_sizes.l1d, fallback_cache_sizes.l2, 0};
    std::size_t l1_sharing = 1;
    std::size_t l3 = 0;
    std::size_t l3_sharing = 1;
    for (const CpuidRegisters& r : subleaves) {
        const std::size_t type = field(r.eax, 0, 5);
        if (type == null_cache) break;
        if (type == instruction_cache) continue;
        const std::size_t level = field(r.eax, 5, 3);
        const std::size_t sharing = field(r.eax, 14, 12) + 1;
        const std::size_t bytes = (field(r.ebx, 22, 10) + 1) * (field(r.ebx, 12, 10) + 1) *
                                  (field(r.ebx, 0, 12) + 1) * (std::size_t{r.ecx} + 1);
        if (level == 1) {
            sizes.l1d = bytes;
            l1_sharing = sharing;
        } else if (level == 2) {
            sizes.l2 = bytes;
        } else if (level == 3) {
            l3 = bytes;
            l3_sharing = sharing;
        }
    }
    // The L1 is one core's, so its sharing count is the threads per core.
    const std::size_t cores_sharing_l3 = std::max<std::size_t>(1, l3_sharing / l1_sharing);
    sizes.l3_per_core = l3 / cores_sharing_l3;
    return sizes;
}

CacheSizes detected_cache_sizes() {
    static const CacheSizes sizes = detect();
    return sizes;
}

BlockSizes block_sizes_for(const CacheSizes& caches, std::size_t mr, std::size_t nr,
                           std::size_t element_bytes) {
    if (mr == 0 || nr == 0 || element_bytes == 0) {
        throw std::invalid_argument("block_sizes_for: mr (" + std::to_string(mr) + "), nr (" +
                                    std::to_string(nr) + ") and the element size (" +
                                    std::to_string(element_bytes) + ") must be positive");
    }
    const std::size_t l1d = caches.l1d != 0 ? caches.l1d : fallback_cache_sizes.l1d;
    const std::size_t l2 = caches.l2 != 0 ? caches.l2 : fallback_cache_sizes.l2;
    const std::size_t l3_share = caches.l3_per_core != 0 ? caches.l3_per_core : 4 * l2;
    const std::size_t kc =
        std::clamp(round_down(2 * l1d / (nr * element_bytes), 16), smallest_kc, largest_kc);
    const std::size_t mc = std::max(mr, round_down(l2 / (kc * element_bytes), mr));
    const std::size_t nc = std::clamp(round_down(l3_share / 2 / (kc * element_bytes), nr), nr,
                                      round_down(largest_nc, nr));
    return {mr, nr, mc, kc, nc};
}

}  // namespace miniflow::detail
