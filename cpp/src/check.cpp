#include "check.hpp"

#include <cstdint>
#include <limits>
#include <stdexcept>

namespace miniflow {

std::string shape_string(std::size_t rows, std::size_t cols) {
    return "(" + std::to_string(rows) + ", " + std::to_string(cols) + ")";
}

std::size_t checked_size(const char* what, std::size_t rows, std::size_t cols) {
    if (cols != 0 && rows > std::numeric_limits<std::size_t>::max() / cols) {
        throw std::invalid_argument(std::string(what) + " of shape " + shape_string(rows, cols) +
                                    " has more elements than fit in std::size_t");
    }
    return rows * cols;
}

void check_buffer(const char* what, const void* data, std::size_t count) {
    if (data == nullptr && count != 0) {
        throw std::invalid_argument(std::string(what) + " is null but should hold " +
                                    std::to_string(count) + " elements");
    }
}

namespace {

// |(extent - 1) * stride|, or std::invalid_argument when it does not fit in std::ptrdiff_t.
std::size_t reach(const char* what, std::size_t extent, std::ptrdiff_t stride, std::size_t rows,
                  std::size_t cols) {
    if (extent < 2 || stride == 0) return 0;
    const auto limit = static_cast<std::size_t>(std::numeric_limits<std::ptrdiff_t>::max());
    const std::size_t magnitude =
        stride < 0 ? static_cast<std::size_t>(-(stride + 1)) + 1 : static_cast<std::size_t>(stride);
    if (extent - 1 > limit / magnitude) {
        throw std::invalid_argument(std::string(what) + " of shape " + shape_string(rows, cols) +
                                    " with stride " + std::to_string(stride) +
                                    " reaches past the addressable range");
    }
    return (extent - 1) * magnitude;
}

}  // namespace

template <typename T>
void check_view(const char* what, const MatrixView<T>& m) {
    const std::size_t count = checked_size(what, m.rows, m.cols);
    check_buffer(what, m.data, count);
    if (count == 0) return;
    // the farthest element from data must be addressable: both axes' reaches together
    const std::size_t row_reach = reach(what, m.rows, m.row_stride, m.rows, m.cols);
    const std::size_t col_reach = reach(what, m.cols, m.col_stride, m.rows, m.cols);
    const auto limit = static_cast<std::size_t>(std::numeric_limits<std::ptrdiff_t>::max());
    if (row_reach > limit - col_reach) {
        throw std::invalid_argument(
            std::string(what) + " of shape " + shape_string(m.rows, m.cols) + " with strides (" +
            std::to_string(m.row_stride) + ", " + std::to_string(m.col_stride) +
            ") reaches past the addressable range");
    }
}

template void check_view<float>(const char*, const MatrixView<float>&);
template void check_view<double>(const char*, const MatrixView<double>&);

}  // namespace miniflow
