// The choice of path for one product: the direct path for tiny or thin products, else the
// blocked path, with the micro-kernel of the chosen instruction set and its cache blocks.
#include <algorithm>
#include <array>
#include <cstddef>

#include "gemm/blocking.hpp"
#include "gemm/cache_sizes.hpp"
#include "gemm_internal.hpp"

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
