// The one map from an instruction set to the code built for it.
#pragma once

#include "miniflow/cpu.hpp"
#include "simd/target.hpp"

namespace miniflow::detail {

// PerIsa::avx512() or avx2() on x86-64, PerIsa::neon() on arm64, PerIsa::generic() for generic
// and for an instruction set of another architecture. PerIsa declares the four static
// functions; each is defined in its instruction set's files, which compile to nothing on other
// architectures, and only those of this architecture are called.
template <class PerIsa>
decltype(auto) choose_for_isa(Isa isa) {
    switch (isa) {
#if MINIFLOW_X86_64
        case Isa::avx512:
            return PerIsa::avx512();
        case Isa::avx2_fma:
            return PerIsa::avx2();
#endif
#if MINIFLOW_ARM64
        case Isa::neon:
            return PerIsa::neon();
#endif
        default:
            break;
    }
    return PerIsa::generic();
}

}  // namespace miniflow::detail
