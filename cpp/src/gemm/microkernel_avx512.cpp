// The AVX-512 micro-kernel: a 14 x (2 vectors) micro-tile of c held in 28 zmm registers, fed by two
// loads of B and 14 broadcasts of A per step (an 8-row version for short edge panels); edge
// micro-tiles are written with masked loads and stores. Only the functions marked with the target
// (MINIFLOW_TARGET_AVX512) use AVX-512, so this file is safe to link into a binary for any
// x86-64 CPU.
#include "simd/target.hpp"

#if MINIFLOW_X86_64

#include <algorithm>
#include <cstddef>

#include "direct.hpp"
#include "gemm_internal.hpp"
#include "simd/avx512.hpp"

namespace miniflow::detail {

namespace {

constexpr std::size_t avx512_mr = 14;

// The micro-tile's first Rows rows (of the avx512_mr that packed A holds per step): the edge panel
// of a product whose rows are not a multiple of avx512_mr computes only what it writes. Every
// element is the same chain of multiply-adds in either case, so the bits do not change.
template <typename V, std::size_t Rows>
MINIFLOW_TARGET_AVX512 void compute_rows_avx512(std::size_t k, const typename V::Scalar* packed_a,
                                                const typename V::Scalar* packed_b,
                                                typename V::Scalar* c, std::size_t ldc,
                                                std::size_t rows, std::size_t cols, bool load_c,
                                                const typename V::Scalar* bias) {
    constexpr std::size_t lanes = V::width;
    constexpr std::size_t nr = 2 * lanes;
    typename V::Vec left[Rows];
    typename V::Vec right[Rows];
    // The micro-tile of c is needed only at the end: start fetching it now, behind the arithmetic.
    for (std::size_t r = 0; r < rows; ++r) {
        V::prefetch(c + r * ldc);
        V::prefetch(c + r * ldc + nr - 1);
    }
    MINIFLOW_UNROLL(14)
    for (std::size_t r = 0; r < Rows; ++r) left[r] = right[r] = V::zero();
    // A and B both stream from L2 (a kc-deep B micro-panel is larger than L1): fetch each a few
    // steps ahead, both lines of a step (B: measured +2-3% at 2048 on Zen 4).
    constexpr std::size_t a_prefetch_distance = 16 * avx512_mr;
    constexpr std::size_t b_prefetch_distance = 16 * nr;
    constexpr std::size_t values_per_line = 64 / sizeof(typename V::Scalar);
    for (std::size_t step = 0; step < k; ++step) {
        V::prefetch(packed_a + a_prefetch_distance);
        V::prefetch(packed_a + a_prefetch_distance + values_per_line);
        V::prefetch(packed_b + b_prefetch_distance);
        V::prefetch(packed_b + b_prefetch_distance + values_per_line);
        const typename V::Vec b_left = V::load(packed_b);
        const typename V::Vec b_right = V::load(packed_b + lanes);
        MINIFLOW_UNROLL(14)
        for (std::size_t r = 0; r < Rows; ++r) {
            const typename V::Vec a_value = V::broadcast(packed_a + r);
            left[r] = V::fmadd(a_value, b_left, left[r]);
            right[r] = V::fmadd(a_value, b_right, right[r]);
        }
        packed_a += avx512_mr;
        packed_b += nr;
    }
    // Masked loads and stores touch only the columns that exist, so edge micro-tiles need no
    // buffer.
    const auto mask_left = V::first_lanes(std::min(cols, lanes));
    const auto mask_right = V::first_lanes(cols > lanes ? cols - lanes : 0);
    const typename V::Vec bias_left = bias != nullptr ? V::load(bias, mask_left) : V::zero();
    const typename V::Vec bias_right =
        bias != nullptr ? V::load(bias + lanes, mask_right) : V::zero();
    MINIFLOW_UNROLL(14)
    for (std::size_t r = 0; r < Rows; ++r) {
        if (r < rows) {
            typename V::Scalar* row = c + r * ldc;
            typename V::Vec out_left = left[r];
            typename V::Vec out_right = right[r];
            if (bias != nullptr) {
                out_left = V::add(out_left, bias_left);
                out_right = V::add(out_right, bias_right);
            }
            if (load_c) {
                out_left = V::add(out_left, V::load(row, mask_left));
                out_right = V::add(out_right, V::load(row + lanes, mask_right));
            }
            V::store(row, out_left, mask_left);
            V::store(row + lanes, out_right, mask_right);
        }
    }
}

template <typename V>
MINIFLOW_TARGET_AVX512 void micro_kernel_avx512(std::size_t k, const typename V::Scalar* packed_a,
                                                const typename V::Scalar* packed_b,
                                                typename V::Scalar* c, std::size_t ldc,
                                                std::size_t rows, std::size_t cols, bool load_c,
                                                const typename V::Scalar* bias) {
    // 64 rows are four panels of 14 and one of 8: the last would do 43% of its work for nothing.
    if (rows <= 8) {
        compute_rows_avx512<V, 8>(k, packed_a, packed_b, c, ldc, rows, cols, load_c, bias);
    } else {
        compute_rows_avx512<V, avx512_mr>(k, packed_a, packed_b, c, ldc, rows, cols, load_c, bias);
    }
}

// The direct path, vectorised for this ISA: flatten inlines the whole template here.
template <typename T>
MINIFLOW_TARGET_AVX512 MINIFLOW_FLATTEN void direct_product_avx512(const MatrixView<T>& a,
                                                                   const MatrixView<T>& b, T* c,
                                                                   std::size_t ldc, bool accumulate,
                                                                   const T* bias) {
    direct_product<T, 64>(a, b, c, ldc, accumulate, bias);
}

}  // namespace

template <typename T>
GemmKernels<T> GemmKernelsByIsa<T>::avx512() {
    return {avx512_mr, 2 * Avx512<T>::width, &micro_kernel_avx512<Avx512<T>>,
            &direct_product_avx512<T>};
}

template GemmKernels<float> GemmKernelsByIsa<float>::avx512();
template GemmKernels<double> GemmKernelsByIsa<double>::avx512();

}  // namespace miniflow::detail

#endif  // MINIFLOW_X86_64
