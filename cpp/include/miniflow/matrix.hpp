// Read-only strided views of row-major (or any-strided) buffers.
#pragma once

#include <cstddef>

namespace miniflow {

// Keeps T from being deduced from an argument, so a literal nullptr can be passed for an
// optional buffer: T comes from the other arguments. The conventions of every node header:
// inputs, then outputs, then sizes (n), then flags (accumulate); every optional (nullable)
// buffer is a non_deduced_t<T>*; each header says what it throws (invalid_argument, from
// <stdexcept>, which that header includes).
template <typename T>
struct NonDeduced {
    using type = T;
};
template <typename T>
using non_deduced_t = typename NonDeduced<T>::type;

// A read-only rows x cols matrix: element (i, j) lives at data[i * row_stride + j * col_stride].
// Strides are counted in elements, not bytes, and may be zero or negative, so a transpose,
// a Fortran-ordered array or a numpy slice is a view, never a copy.
template <typename T>
struct MatrixView {
    const T* data = nullptr;
    std::size_t rows = 0;
    std::size_t cols = 0;
    std::ptrdiff_t row_stride = 0;
    std::ptrdiff_t col_stride = 0;

    const T& operator()(std::size_t i, std::size_t j) const {
        return data[static_cast<std::ptrdiff_t>(i) * row_stride +
                    static_cast<std::ptrdiff_t>(j) * col_stride];
    }
};

// A contiguous row-major view.
template <typename T>
MatrixView<T> row_major(const T* data, std::size_t rows, std::size_t cols) {
    return {data, rows, cols, static_cast<std::ptrdiff_t>(cols), 1};
}

// The transpose of a view: the same buffer with rows and columns swapped.
template <typename T>
MatrixView<T> transposed(const MatrixView<T>& m) {
    return {m.data, m.cols, m.rows, m.col_stride, m.row_stride};
}

}  // namespace miniflow
