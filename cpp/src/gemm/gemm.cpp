// The public gemm(): its argument checks, then the path for the product: the direct path for
// tiny or thin products, else the blocked path, with the micro-kernel of best_isa() and its cache
// blocks, on the set threads.
#include <algorithm>
#include <array>
#include <cstddef>
#include <limits>
#include <stdexcept>
#include <string>

#include "check.hpp"
#include "gemm/blocking.hpp"
#include "gemm/cache_sizes.hpp"
#include "gemm_internal.hpp"
#include "miniflow/cpu.hpp"
#include "miniflow/gemm.hpp"
#include "miniflow/threads.hpp"

namespace miniflow::detail {

namespace {

// Products up to this many multiply-adds skip packing, which costs more than it saves there
// (measured: the crossover is near 32^3 when b's rows are contiguous, near 16^3 when not).
constexpr std::size_t direct_limit_contiguous_b = std::size_t{32} * 32 * 32;
constexpr std::size_t direct_limit_strided_b = std::size_t{16} * 16 * 16;
// A product with this few rows or columns of c is bound by reading the operands once, which
// the direct path does; packing would read and write them first.
constexpr std::size_t direct_thin_limit = 4;

template <typename T>
TunedKernels<T> with_blocks(const GemmKernels<T>& kernels) {
    return {kernels, block_sizes_for(detected_cache_sizes(), kernels.mr, kernels.nr, sizeof(T))};
}

// Building an ISA's entry only takes its function pointers and the caches (read once), so every
// ISA's is built up front, indexed by the Isa.
template <typename T>
const TunedKernels<T>& tuned_kernels_for(Isa isa) {
    static const auto table = [] {
        std::array<TunedKernels<T>, 4> entries{};
        for (Isa each : {Isa::generic, Isa::avx2_fma, Isa::avx512, Isa::neon}) {
            entries.at(static_cast<std::size_t>(each)) = with_blocks(gemm_kernels_for<T>(each));
        }
        return entries;
    }();
    return table.at(static_cast<std::size_t>(isa));
}

}  // namespace

template <typename T>
BlockSizes block_sizes(Isa isa) {
    return tuned_kernels_for<T>(isa).blocks;
}

template <typename T>
void gemm_with(Isa isa, int threads, GemmPath path, const MatrixView<T>& a, const MatrixView<T>& b,
               T* c, std::size_t ldc, bool accumulate, const T* bias) {
    const std::size_t m = a.rows;
    const std::size_t n = b.cols;
    const std::size_t k = a.cols;
    if (m == 0 || n == 0) return;
    const std::size_t direct_limit =
        b.col_stride == 1 ? direct_limit_contiguous_b : direct_limit_strided_b;
    const bool direct_pays = m * n * k <= direct_limit || std::min(m, n) <= direct_thin_limit;
    if (path == GemmPath::direct || (path == GemmPath::automatic && direct_pays) || k == 0) {
        tuned_kernels_for<T>(isa).kernels.direct_product(a, b, c, ldc, accumulate, bias);
        return;
    }
    gemm_blocked(tuned_kernels_for<T>(isa), threads, a, b, c, ldc, accumulate, bias);
}

template BlockSizes block_sizes<float>(Isa);
template BlockSizes block_sizes<double>(Isa);
template void gemm_with<float>(Isa, int, GemmPath, const MatrixView<float>&,
                               const MatrixView<float>&, float*, std::size_t, bool, const float*);
template void gemm_with<double>(Isa, int, GemmPath, const MatrixView<double>&,
                                const MatrixView<double>&, double*, std::size_t, bool,
                                const double*);

}  // namespace miniflow::detail

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
