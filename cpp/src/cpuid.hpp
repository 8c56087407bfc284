// The x86-64 CPU's own answers about itself, behind one function per instruction: cpuid (which
// instruction sets and caches it has) and xgetbv (which register states the OS saves).
#pragma once

#include <cstdint>

#include "simd/target.hpp"

namespace miniflow::detail {

// The four registers one cpuid subleaf returns.
struct CpuidRegisters {
    std::uint32_t eax;
    std::uint32_t ebx;
    std::uint32_t ecx;
    std::uint32_t edx;
};

#if MINIFLOW_X86_64

// cpuid of `leaf` and `subleaf` (GCC and Clang: <cpuid.h>; MSVC: <intrin.h>).
CpuidRegisters cpuid(std::uint32_t leaf, std::uint32_t subleaf);

// XCR0 (xgetbv 0): the register states the operating system saves on a context switch. Only
// valid when cpuid reports OSXSAVE.
std::uint64_t saved_register_states();

#endif  // MINIFLOW_X86_64

}  // namespace miniflow::detail
