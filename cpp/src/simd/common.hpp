// What the vector-operations layers (avx2.hpp, avx512.hpp, neon.hpp) share.
#pragma once

#include "simd/target.hpp"

#if MINIFLOW_X86_64
#include <immintrin.h>
#endif

namespace miniflow::detail {

// Selects the unmasked load and store of a full vector.
struct AllLanes {};

// As AllLanes, but the store is non-temporal (to an address aligned to the vector size): it
// skips reading the line before writing it and does not keep it in cache, which pays for outputs
// too large to stay in cache anyway.
struct AllLanesStreamed {};

#if MINIFLOW_X86_64
// Cache hints and store ordering that every x86-64 CPU has (SSE); the x86 layers inherit them.
struct X86Memory {
    static MINIFLOW_ALWAYS_INLINE void prefetch(const void* p) {
        _mm_prefetch(static_cast<const char*>(p), _MM_HINT_T0);
    }
    // Orders streamed stores before whatever the caller does next (as memcpy does after its own).
    static MINIFLOW_ALWAYS_INLINE void order_streamed_stores() { _mm_sfence(); }
};
#endif

}  // namespace miniflow::detail

// Keeps the product in `value` rounded: GCC and Clang fuse a * b + c into an FMA in C++ unless
// told not to, and the kernels that promise the scalar code's bits must not be fused. The empty
// asm makes the product opaque (a vector register: "v" on x86-64, "w" on arm64). MSVC does not
// contract under its default /fp:precise.
#if (defined(__GNUC__) || defined(__clang__)) && MINIFLOW_X86_64
#define MINIFLOW_KEEP_ROUNDED(value) asm("" : "+v"(value))
#elif (defined(__GNUC__) || defined(__clang__)) && MINIFLOW_ARM64
#define MINIFLOW_KEEP_ROUNDED(value) asm("" : "+w"(value))
#else
#define MINIFLOW_KEEP_ROUNDED(value) static_cast<void>(value)
#endif
