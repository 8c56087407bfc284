// The elementwise kernel table of each instruction set, one source file each: the generic table
// exists everywhere, the AVX and NEON ones only on their architecture (see choose_for_isa in
// simd/isa_choice.hpp).
#pragma once

#include "elementwise/elementwise.hpp"

namespace miniflow::detail {

template <typename T>
struct ElementwiseKernelsByIsa {
    static const ElementwiseKernels<T>& generic();
    static const ElementwiseKernels<T>& avx2();
    static const ElementwiseKernels<T>& avx512();
    static const ElementwiseKernels<T>& neon();
};

}  // namespace miniflow::detail
