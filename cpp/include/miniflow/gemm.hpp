// General matrix product on strided views: the workhorse behind every Linear node.
#pragma once

#include <cstddef>
#include <stdexcept>

#include "miniflow/matrix.hpp"

namespace miniflow {

// c (a.rows x b.cols, row-major with leading dimension ldc) = a . b [+ bias broadcast over rows]
// when accumulate is false, or c += a . b [+ bias] when it is true. bias may be null (no bias) or
// point to b.cols contiguous values. Throws std::invalid_argument when a.cols != b.rows, when
// ldc < b.cols, or for a null buffer of nonzero size.
// Safe to call from several threads at once (on different outputs): one call at a time uses the
// worker threads, and a call that finds them busy computes on its own thread, with the same bits.
// c must not overlap a, b or bias.
template <typename T>
void gemm(const MatrixView<T>& a, const MatrixView<T>& b, T* c, std::size_t ldc, bool accumulate,
          const non_deduced_t<T>* bias = nullptr);

// out[j] = sum_i a(i, j) (or out[j] += ... when accumulate): the bias gradient of a Linear.
// out holds a.cols values. Throws std::invalid_argument for a null buffer of nonzero size.
template <typename T>
void column_sums(const MatrixView<T>& a, T* out, bool accumulate);

}  // namespace miniflow
