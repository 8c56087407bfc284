// The public gemm(): its argument checks, then the product on best_isa() and the set threads.
#include <cstddef>
#include <limits>
#include <stdexcept>
#include <string>

#include "check.hpp"
#include "gemm/path_choice.hpp"
#include "miniflow/cpu.hpp"
#include "miniflow/gemm.hpp"
#include "miniflow/threads.hpp"

namespace miniflow {

template <typename T>
void gemm(const MatrixView<T>& a, const MatrixView<T>& b, T* c, std::size_t ldc, bool accumulate,
          const non_deduced_t<T>* bias) {
    check_view("gemm: a", a);
    check_view("gemm: b", b);
    if (a.cols != b.rows) {
        throw std::invalid_argument("gemm: a is " + shape_string(a.rows, a.cols) + " and b is " +
                                    shape_string(b.rows, b.cols) +
                                    ": a's columns must equal b's rows");
    }
    if (ldc < b.cols) {
        throw std::invalid_argument("gemm: ldc " + std::to_string(ldc) + " is less than c's " +
                                    std::to_string(b.cols) + " columns");
    }
    if (a.rows != 0) {
        // The last row's end, (rows - 1) * ldc + cols elements in, must be addressable.
        const std::size_t last_row_start = checked_size("gemm: c", a.rows - 1, ldc);
        const std::size_t addressable =
            static_cast<std::size_t>(std::numeric_limits<std::ptrdiff_t>::max()) / sizeof(T);
        if (last_row_start > addressable - b.cols) {
            throw std::invalid_argument("gemm: c of shape " + shape_string(a.rows, b.cols) +
                                        " with ldc " + std::to_string(ldc) +
                                        " reaches past the addressable range");
        }
    }
    check_buffer("gemm: c", c, a.rows * b.cols);
    detail::gemm_with(best_isa(), get_num_threads(), detail::GemmPath::automatic, a, b, c, ldc,
                      accumulate, bias);
}

template void gemm<float>(const MatrixView<float>&, const MatrixView<float>&, float*, std::size_t,
                          bool, const float*);
template void gemm<double>(const MatrixView<double>&, const MatrixView<double>&, double*,
                           std::size_t, bool, const double*);

}  // namespace miniflow
