// The choice of path for one product: the direct path for tiny or thin products, else the
// blocked path, with the micro-kernel of the chosen instruction set and its cache blocks.
#include <algorithm>
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
BlockedKernel<T> with_blocks(const Kernel<T>& kernel) {
    return {kernel, block_sizes_for(detected_cache_sizes(), kernel.mr, kernel.nr, sizeof(T))};
}

template <typename T>
const BlockedKernel<T>& blocked_kernel_for(Isa isa) {
    // Building a kernel only takes its function pointers, so every ISA's is built up front.
    static const BlockedKernel<T> generic = with_blocks(kernel_for<T>(Isa::generic));
    static const BlockedKernel<T> avx2 = with_blocks(kernel_for<T>(Isa::avx2_fma));
    static const BlockedKernel<T> avx512 = with_blocks(kernel_for<T>(Isa::avx512));
    static const BlockedKernel<T> neon = with_blocks(kernel_for<T>(Isa::neon));
    switch (isa) {
        case Isa::avx512:
            return avx512;
        case Isa::avx2_fma:
            return avx2;
        case Isa::neon:
            return neon;
        case Isa::generic:
            break;
    }
    return generic;
}

}  // namespace

template <typename T>
BlockSizes block_sizes(Isa isa) {
    return blocked_kernel_for<T>(isa).blocks;
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
        blocked_kernel_for<T>(isa).kernel.direct_product(a, b, c, ldc, accumulate, bias);
        return;
    }
    gemm_blocked(blocked_kernel_for<T>(isa), threads, a, b, c, ldc, accumulate, bias);
}

template BlockSizes block_sizes<float>(Isa);
template BlockSizes block_sizes<double>(Isa);
template void gemm_with<float>(Isa, int, GemmPath, const MatrixView<float>&,
                               const MatrixView<float>&, float*, std::size_t, bool, const float*);
template void gemm_with<double>(Isa, int, GemmPath, const MatrixView<double>&,
                                const MatrixView<double>&, double*, std::size_t, bool,
                                const double*);

}  // namespace miniflow::detail
