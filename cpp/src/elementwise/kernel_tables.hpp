// The elementwise kernel table of each instruction set, one source file each; a table exists
// only on the architecture of its instruction set (see isa_supported).
#pragma once

#include "elementwise/elementwise.hpp"

namespace miniflow::detail {

template <typename T>
const ElementwiseKernels<T>& generic_kernels();
template <typename T>
const ElementwiseKernels<T>& avx2_kernels();
template <typename T>
const ElementwiseKernels<T>& avx512_kernels();
template <typename T>
const ElementwiseKernels<T>& neon_kernels();

}  // namespace miniflow::detail
