// Cache detection and the block sizes derived from it, fed with the cpuid answers of an Intel
// Sapphire Rapids core (leaf 4) and an AMD Zen 4 core (leaf 0x8000001D), as the CPUs document
// them, so both vendors' code paths run on any machine.
#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <vector>

#include "gemm/cache_sizes.hpp"

namespace {

using miniflow::detail::BlockSizes;
using miniflow::detail::CacheSizes;
using miniflow::detail::CpuidRegisters;

enum CacheType : std::uint32_t { null_type = 0, data = 1, instruction = 2, unified = 3 };

// One subleaf of leaf 4 / 0x8000001D, encoded field by field as the vendors' manuals lay it out.
CpuidRegisters subleaf(CacheType type, std::uint32_t level, std::uint32_t threads_sharing,
                       std::uint32_t ways, std::uint32_t sets) {
    const std::uint32_t line = 64;
    const std::uint32_t partitions = 1;
    return {type | level << 5 | (threads_sharing - 1) << 14,
            (line - 1) | (partitions - 1) << 12 | (ways - 1) << 22, sets - 1, 0};
}

// Sapphire Rapids: 48 KiB 12-way L1d, 2 MiB 16-way L2 per core (2 threads), 105 MiB 15-way L3
// shared by 128 threads (64 cores).
const std::vector<CpuidRegisters> sapphire_rapids_leaf4 = {
    subleaf(data, 1, 2, 12, 64),      subleaf(instruction, 1, 2, 8, 64),
    subleaf(unified, 2, 2, 16, 2048), subleaf(unified, 3, 128, 15, 114688),
    subleaf(null_type, 0, 1, 1, 1),
};

// Zen 4: 32 KiB 8-way L1d, 1 MiB 8-way L2 per core (2 threads), 32 MiB 16-way L3 per CCD of
// 8 cores (16 threads).
const std::vector<CpuidRegisters> zen4_leaf_8000001d = {
    subleaf(data, 1, 2, 8, 64),      subleaf(instruction, 1, 2, 8, 64),
    subleaf(unified, 2, 2, 8, 2048), subleaf(unified, 3, 16, 16, 32768),
    subleaf(null_type, 0, 1, 1, 1),
};

TEST(CacheSizes, VendorPicksTheCacheLeaf) {
    EXPECT_EQ(miniflow::detail::cache_leaf_for_vendor("GenuineIntel"), 4U);
    EXPECT_EQ(miniflow::detail::cache_leaf_for_vendor("AuthenticAMD"), 0x8000001DU);
    EXPECT_EQ(miniflow::detail::cache_leaf_for_vendor("HygonGenuine"), 0x8000001DU);
    EXPECT_EQ(miniflow::detail::cache_leaf_for_vendor("CentaurHauls"), 0U);
}

TEST(CacheSizes, DecodesIntelLeaf4) {
    const CacheSizes sizes = miniflow::detail::decode_cache_leaf(sapphire_rapids_leaf4);
    EXPECT_EQ(sizes.l1d, 48U * 1024);
    EXPECT_EQ(sizes.l2, 2U * 1024 * 1024);
    EXPECT_EQ(sizes.l3_per_core, 105U * 1024 * 1024 / 64);
}

TEST(CacheSizes, DecodesAmdLeaf8000001D) {
    const CacheSizes sizes = miniflow::detail::decode_cache_leaf(zen4_leaf_8000001d);
    EXPECT_EQ(sizes.l1d, 32U * 1024);
    EXPECT_EQ(sizes.l2, 1024U * 1024);
    EXPECT_EQ(sizes.l3_per_core, 32U * 1024 * 1024 / 8);
}

TEST(CacheSizes, DecodingStopsAtTheNullEntryAndKeepsFallbacksForMissingLevels) {
    // Only an L1d, then the end of the list, then garbage that must not be read.
    const std::vector<CpuidRegisters> leaf = {subleaf(data, 1, 1, 8, 32),
                                              subleaf(null_type, 0, 1, 1, 1),
                                              subleaf(unified, 2, 1, 16, 65536)};
    const CacheSizes sizes = miniflow::detail::decode_cache_leaf(leaf);
    EXPECT_EQ(sizes.l1d, 16U * 1024);
    EXPECT_EQ(sizes.l2, miniflow::detail::fallback_cache_sizes.l2);
    EXPECT_EQ(sizes.l3_per_core, 0U);
}

// The layout promises of block_sizes_for, for any caches and micro-kernel.
void expect_blocks_fit(const CacheSizes& caches, const BlockSizes& blocks, std::size_t bytes) {
    EXPECT_EQ(blocks.mc % blocks.mr, 0U);
    EXPECT_EQ(blocks.nc % blocks.nr, 0U);
    EXPECT_LE(blocks.kc * blocks.nr * bytes, 2 * caches.l1d);  // a B micro-panel in twice L1
    EXPECT_LE(blocks.mc * blocks.kc * bytes, caches.l2);       // the A block in L2
    EXPECT_LE(blocks.kc * blocks.nc * bytes, caches.l3_per_core / 2);  // the B block in L3
}

TEST(BlockSizes, SapphireRapidsAvx512) {
    const CacheSizes caches = miniflow::detail::decode_cache_leaf(sapphire_rapids_leaf4);
    // double, 14 x 16: kc = 2 x 48 KiB / (16 x 8 bytes) = 768, capped at 512;
    // mc = 2 MiB / (512 x 8) = 512 -> 36 x 14; nc = (1.64 MiB / 2) / (512 x 8) = 210 -> 13 x 16.
    const BlockSizes f64 = miniflow::detail::block_sizes_for(caches, 14, 16, 8);
    EXPECT_EQ(f64.mr, 14U);
    EXPECT_EQ(f64.nr, 16U);
    EXPECT_EQ(f64.kc, 512U);
    EXPECT_EQ(f64.mc, 504U);
    EXPECT_EQ(f64.nc, 208U);
    expect_blocks_fit(caches, f64, 8);
    // float, 14 x 32: kc capped at 512; mc = 2 MiB / 2 KiB = 1024 -> 73 x 14; nc = 420 -> 13 x 32.
    const BlockSizes f32 = miniflow::detail::block_sizes_for(caches, 14, 32, 4);
    EXPECT_EQ(f32.kc, 512U);
    EXPECT_EQ(f32.mc, 1022U);
    EXPECT_EQ(f32.nc, 416U);
    expect_blocks_fit(caches, f32, 4);
}

TEST(BlockSizes, Zen4Avx512AndAvx2) {
    const CacheSizes caches = miniflow::detail::decode_cache_leaf(zen4_leaf_8000001d);
    // double, 14 x 16: kc = 2 x 32 KiB / 128 = 512; mc = 1 MiB / 4 KiB = 256 -> 252;
    // nc = 2 MiB / 4 KiB = 512.
    const BlockSizes f64 = miniflow::detail::block_sizes_for(caches, 14, 16, 8);
    EXPECT_EQ(f64.kc, 512U);
    EXPECT_EQ(f64.mc, 252U);
    EXPECT_EQ(f64.nc, 512U);
    expect_blocks_fit(caches, f64, 8);
    // AVX2 float, 6 x 16: kc = 2 x 32 KiB / 64 = 1024, capped at 512; mc = 1 MiB / 2 KiB = 512
    // -> 85 x 6; nc = 2 MiB / 2 KiB = 1024.
    const BlockSizes avx2 = miniflow::detail::block_sizes_for(caches, 6, 16, 4);
    EXPECT_EQ(avx2.kc, 512U);
    EXPECT_EQ(avx2.mc, 510U);
    EXPECT_EQ(avx2.nc, 1024U);
    expect_blocks_fit(caches, avx2, 4);
}

TEST(BlockSizes, StayWithinBoundsForExtremeCaches) {
    // A tiny L1 gets the smallest kc, a huge one the largest; no L3 means 4 x L2.
    const BlockSizes tiny = miniflow::detail::block_sizes_for({2048, 65536, 0}, 4, 8, 8);
    EXPECT_EQ(tiny.kc, 128U);  // 2 x 2 KiB / 64 bytes = 64, raised to 128
    EXPECT_EQ(tiny.mc, 64U);   // 64 KiB / 1 KiB
    EXPECT_EQ(tiny.nc, 128U);  // 4 x 64 KiB / 2 / 1 KiB
    const BlockSizes huge =
        miniflow::detail::block_sizes_for({1U << 30, 1U << 30, 1U << 30}, 4, 8, 8);
    EXPECT_EQ(huge.kc, 512U);
    EXPECT_EQ(huge.nc, 8192U);
    // An unknown (zero) L1 or L2 is taken as the fallback.
    const BlockSizes unknown = miniflow::detail::block_sizes_for({0, 0, 0}, 14, 16, 8);
    const BlockSizes fallback =
        miniflow::detail::block_sizes_for(miniflow::detail::fallback_cache_sizes, 14, 16, 8);
    EXPECT_EQ(unknown.kc, fallback.kc);
    EXPECT_EQ(unknown.mc, fallback.mc);
    EXPECT_EQ(unknown.nc, fallback.nc);
}

TEST(BlockSizes, RejectsAnEmptyMicroKernel) {
    const CacheSizes caches = miniflow::detail::fallback_cache_sizes;
    EXPECT_THROW(miniflow::detail::block_sizes_for(caches, 0, 16, 8), std::invalid_argument);
    EXPECT_THROW(miniflow::detail::block_sizes_for(caches, 14, 0, 8), std::invalid_argument);
    EXPECT_THROW(miniflow::detail::block_sizes_for(caches, 14, 16, 0), std::invalid_argument);
}

// Whatever this machine is, its detection path gives caches a CPU could have.
TEST(CacheSizes, ThisMachineHasPlausibleCaches) {
    const CacheSizes sizes = miniflow::detail::detected_cache_sizes();
    EXPECT_GE(sizes.l1d, 4096U);
    EXPECT_LE(sizes.l1d, 1U << 20);
    EXPECT_GT(sizes.l2, sizes.l1d);
    EXPECT_LE(sizes.l2, 1U << 30);
}

}  // namespace
