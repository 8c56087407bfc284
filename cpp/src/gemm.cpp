#include "miniflow/gemm.hpp"

#include <stdexcept>
#include <string>

#include "miniflow/check.hpp"

namespace miniflow {

namespace {
int thread_count = 1;
}

template <typename T>
void gemm(const MatrixView<T>& a, const MatrixView<T>& b, T* c, std::size_t ldc, bool accumulate,
          const T* bias) {
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
    if (a.rows != 0) checked_size("gemm: c", a.rows - 1, ldc);
    check_buffer("gemm: c", c, a.rows * b.cols);
    for (std::size_t i = 0; i < a.rows; ++i) {
        T* c_row = c + i * ldc;
        for (std::size_t j = 0; j < b.cols; ++j) {
            T sum = accumulate ? c_row[j] : T(0);
            if (bias != nullptr) sum += bias[j];
            for (std::size_t p = 0; p < a.cols; ++p) sum += a(i, p) * b(p, j);
            c_row[j] = sum;
        }
    }
}

template <typename T>
void column_sums(const MatrixView<T>& a, T* out, bool accumulate) {
    check_view("column_sums: a", a);
    check_buffer("column_sums: out", out, a.cols);
    for (std::size_t j = 0; j < a.cols; ++j) {
        T sum = accumulate ? out[j] : T(0);
        for (std::size_t i = 0; i < a.rows; ++i) sum += a(i, j);
        out[j] = sum;
    }
}

void set_num_threads(int count) {
    if (count < 1) {
        throw std::invalid_argument("set_num_threads: count must be at least 1, got " +
                                    std::to_string(count));
    }
    thread_count = count;
}

int get_num_threads() { return thread_count; }

template void gemm<float>(const MatrixView<float>&, const MatrixView<float>&, float*, std::size_t,
                          bool, const float*);
template void gemm<double>(const MatrixView<double>&, const MatrixView<double>&, double*,
                           std::size_t, bool, const double*);
template void column_sums<float>(const MatrixView<float>&, float*, bool);
template void column_sums<double>(const MatrixView<double>&, double*, bool);

}  // namespace miniflow
