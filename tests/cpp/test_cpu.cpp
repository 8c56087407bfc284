// The choice of instruction set: names, MINIFLOW_ISA, and detection against the OS's own view.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "miniflow/cpu.hpp"

namespace {

using miniflow::Isa;

bool built(Isa isa) {
    const auto isas = miniflow::built_isas();
    return std::find(isas.begin(), isas.end(), isa) != isas.end();
}

TEST(Isa, EachArchitectureBuildsItsOwnKernels) {
    const auto isas = miniflow::built_isas();
    ASSERT_FALSE(isas.empty());
    EXPECT_EQ(isas.front(), Isa::generic);
#if defined(__x86_64__) || defined(_M_X64)
    EXPECT_EQ(isas, (std::vector<Isa>{Isa::generic, Isa::avx2_fma, Isa::avx512}));
#elif defined(__aarch64__) || defined(_M_ARM64)
    EXPECT_EQ(isas, (std::vector<Isa>{Isa::generic, Isa::neon}));
    // NEON is part of every AArch64 CPU, so the vector kernels always run there.
    EXPECT_TRUE(miniflow::isa_supported(Isa::neon));
#endif
    EXPECT_TRUE(miniflow::isa_supported(Isa::generic));
    EXPECT_TRUE(miniflow::isa_supported(miniflow::best_isa()));
    EXPECT_TRUE(built(miniflow::best_isa()));
}

TEST(Isa, AnInstructionSetOfAnotherArchitectureIsNotSupported) {
    for (Isa isa : {Isa::avx2_fma, Isa::avx512, Isa::neon}) {
        if (!built(isa)) {
            EXPECT_FALSE(miniflow::isa_supported(isa)) << miniflow::isa_name(isa);
        }
    }
}

TEST(Isa, ParseReadsExactlyTheNamesOfThisArchitecture) {
    for (Isa isa : miniflow::built_isas()) {
        EXPECT_EQ(miniflow::parse_isa(miniflow::isa_name(isa)), isa) << miniflow::isa_name(isa);
    }
    EXPECT_EQ(miniflow::parse_isa("generic"), Isa::generic);
    for (const char* unknown : {"", "garbage", "AVX2", "Generic", "avx2 ", "avx", "sse2"}) {
        EXPECT_FALSE(miniflow::parse_isa(unknown).has_value()) << '"' << unknown << '"';
    }
#if defined(__x86_64__) || defined(_M_X64)
    EXPECT_EQ(miniflow::parse_isa("avx2"), Isa::avx2_fma);
    EXPECT_EQ(miniflow::parse_isa("avx512"), Isa::avx512);
    EXPECT_FALSE(miniflow::parse_isa("neon").has_value());
#elif defined(__aarch64__) || defined(_M_ARM64)
    EXPECT_EQ(miniflow::parse_isa("neon"), Isa::neon);
    EXPECT_FALSE(miniflow::parse_isa("avx2").has_value());
#endif
}

// ctest also runs this test with MINIFLOW_ISA set to several values (tests/cpp/CMakeLists.txt):
// the variable is read once per process.
TEST(IsaRequest, FollowsMiniflowIsa) {
    const char* variable = std::getenv("MINIFLOW_ISA");
    const std::string value = variable != nullptr ? variable : "";
    const auto& request = miniflow::isa_request();
    EXPECT_EQ(request.value, value);
    const auto cap = miniflow::parse_isa(value);
    EXPECT_EQ(request.recognised, value.empty() || cap.has_value());
    if (value == "generic") {
        EXPECT_EQ(miniflow::best_isa(), Isa::generic);
    }
    if (value == "garbage" || value == "AVX2") {
        EXPECT_FALSE(request.recognised);
    }
    // The most capable supported ISA up to the requested one (all of them without a request).
    Isa expected = Isa::generic;
    for (Isa isa : miniflow::built_isas()) {
        if (miniflow::isa_supported(isa)) expected = isa;
        if (cap == isa) break;
    }
    EXPECT_EQ(miniflow::best_isa(), expected);
}

#if (defined(__x86_64__) || defined(_M_X64)) && defined(__linux__)
// Linux lists in /proc/cpuinfo the features that the CPU has and the kernel enabled.
std::set<std::string> linux_cpu_flags() {
    std::ifstream cpuinfo("/proc/cpuinfo");
    std::string line;
    while (std::getline(cpuinfo, line)) {
        if (line.rfind("flags", 0) != 0) continue;
        std::istringstream words(line.substr(line.find(':') + 1));
        std::set<std::string> flags;
        for (std::string flag; words >> flag;) flags.insert(flag);
        return flags;
    }
    return {};
}

TEST(Isa, DetectionAgreesWithLinux) {
    const auto flags = linux_cpu_flags();
    if (flags.empty()) GTEST_SKIP() << "no /proc/cpuinfo flags";
    const bool avx2_fma = flags.count("avx2") != 0 && flags.count("fma") != 0;
    const bool avx512 = avx2_fma && flags.count("avx512f") != 0 && flags.count("avx512dq") != 0;
    EXPECT_EQ(miniflow::isa_supported(Isa::avx2_fma), avx2_fma);
    EXPECT_EQ(miniflow::isa_supported(Isa::avx512), avx512);
}
#endif

}  // namespace
