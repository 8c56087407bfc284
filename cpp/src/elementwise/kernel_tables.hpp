// The elementwise kernel table of each instruction set, one source file each.
#pragma once

#include "miniflow/detail/elementwise.hpp"

namespace miniflow::detail {

template <typename T>
const ElementwiseKernels<T>& generic_kernels();
template <typename T>
const ElementwiseKernels<T>& avx2_kernels();
template <typename T>
const ElementwiseKernels<T>& avx512_kernels();

}  // namespace miniflow::detail
