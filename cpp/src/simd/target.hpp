// Which architecture this file is compiled for, and how a function is compiled for one
// instruction set only. Every ISA-specific source wraps itself in `#if MINIFLOW_X86_64` or
// `#if MINIFLOW_ARM64`, so it compiles to nothing on other targets; this is per file, not per
// build, because a macOS universal build compiles each file for arm64 and x86-64 in one go.
#pragma once

#if defined(__x86_64__) || defined(_M_X64)
#define MINIFLOW_X86_64 1
#else
#define MINIFLOW_X86_64 0
#endif

#if defined(__aarch64__) || defined(_M_ARM64)
#define MINIFLOW_ARM64 1
#else
#define MINIFLOW_ARM64 0
#endif

// MINIFLOW_TARGET_AVX2 and MINIFLOW_TARGET_AVX512 compile one function for that instruction set,
// so a binary for any x86-64 CPU may carry it and call it after checking the CPU (cpu.hpp).
// GCC and Clang need the target attribute for the intrinsics; MSVC compiles intrinsics of any
// x86 instruction set without a flag, so it needs nothing. The AVX-512 kernels also use AVX2 and
// FMA instructions, and best_isa() picks avx512 only where all four exist.
// MINIFLOW_ALWAYS_INLINE makes the small vector operations vanish into their callers, which is
// also what lets a GCC/Clang operation carry the target of the kernel that calls it.
#if defined(__GNUC__) || defined(__clang__)
#define MINIFLOW_TARGET_AVX2 __attribute__((target("avx2,fma")))
#define MINIFLOW_TARGET_AVX512 __attribute__((target("avx512f,avx512dq,avx2,fma")))
#define MINIFLOW_ALWAYS_INLINE __attribute__((always_inline)) inline
#define MINIFLOW_FLATTEN __attribute__((flatten))
#elif defined(_MSC_VER)
#define MINIFLOW_TARGET_AVX2
#define MINIFLOW_TARGET_AVX512
#define MINIFLOW_ALWAYS_INLINE __forceinline
#define MINIFLOW_FLATTEN
#else
#define MINIFLOW_TARGET_AVX2
#define MINIFLOW_TARGET_AVX512
#define MINIFLOW_ALWAYS_INLINE inline
#define MINIFLOW_FLATTEN
#endif

// Unrolls the loop that follows n times (GCC and Clang; other compilers decide themselves).
#if defined(__clang__)
#define MINIFLOW_UNROLL(n) _Pragma(MINIFLOW_STRINGIFY(unroll n))
#elif defined(__GNUC__)
#define MINIFLOW_UNROLL(n) _Pragma(MINIFLOW_STRINGIFY(GCC unroll n))
#else
#define MINIFLOW_UNROLL(n)
#endif
#define MINIFLOW_STRINGIFY(text) #text
