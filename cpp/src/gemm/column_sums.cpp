// Column sums (the bias gradient): one pass over the rows, adding each row into the output.
// The inner loop runs along a row, so a row-major input vectorises; the sum of every column is
// taken in row order, the same order as a naive loop.
#include <algorithm>
#include <cstddef>

#include "check.hpp"
#include "miniflow/gemm.hpp"

namespace miniflow {

template <typename T>
void column_sums(const MatrixView<T>& a, T* out, bool accumulate) {
    check_view("column_sums: a", a);
    check_buffer("column_sums: out", out, a.cols);
    const std::size_t n = a.cols;
    if (!accumulate) std::fill(out, out + n, T(0));
    for (std::size_t i = 0; i < a.rows; ++i) {
        const T* row = &a(i, 0);
        if (a.col_stride == 1) {
            for (std::size_t j = 0; j < n; ++j) out[j] += row[j];
        } else {
            const std::ptrdiff_t stride = a.col_stride;
            for (std::size_t j = 0; j < n; ++j)
                out[j] += row[static_cast<std::ptrdiff_t>(j) * stride];
        }
    }
}

template void column_sums<float>(const MatrixView<float>&, float*, bool);
template void column_sums<double>(const MatrixView<double>&, double*, bool);

}  // namespace miniflow
