// The blocked path: the BLIS loop nest over packed blocks, on the pool's threads.
#pragma once

#include <cstddef>

#include "gemm_internal.hpp"
#include "miniflow/matrix.hpp"

namespace miniflow::detail {

// c = a.b [+ bias] [+ c when accumulate] on up to `threads` threads (see SharedProduct), in
// parts of A's rows and B's columns that bound the packed buffers.
template <typename T>
void gemm_blocked(const TunedKernels<T>& tuned, int threads, const MatrixView<T>& a,
                  const MatrixView<T>& b, T* c, std::size_t ldc, bool accumulate, const T* bias);

}  // namespace miniflow::detail
