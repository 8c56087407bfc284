// The AVX2 + FMA micro-kernel: a 6 x (2 vectors) micro-tile of c held in 12 ymm registers, fed by
// one broadcast of A and two loads of B per step. Only the functions marked with the target
// (MINIFLOW_TARGET_AVX2) use AVX2, so this file is safe to link into a binary for any x86-64 CPU.
#include "simd/target.hpp"

#if MINIFLOW_X86_64

#include <cstddef>

#include "direct.hpp"
#include "gemm_internal.hpp"
#include "simd/avx2.hpp"

namespace miniflow::detail {

namespace {

constexpr std::size_t avx2_mr = 6;

template <typename V>
MINIFLOW_TARGET_AVX2 void micro_kernel_avx2(std::size_t k, const typename V::Scalar* packed_a,
                                            const typename V::Scalar* packed_b,
                                            typename V::Scalar* c, std::size_t ldc,
                                            std::size_t rows, std::size_t cols, bool load_c,
                                            const typename V::Scalar* bias) {
    using T = typename V::Scalar;
    constexpr std::size_t lanes = V::width;
    constexpr std::size_t nr = 2 * lanes;
    typename V::Vec left[avx2_mr];
    typename V::Vec right[avx2_mr];
    // The micro-tile of c is needed only at the end: start fetching it now, behind the arithmetic.
    for (std::size_t r = 0; r < rows; ++r) {
        V::prefetch(c + r * ldc);
        V::prefetch(c + r * ldc + nr - 1);
    }
    MINIFLOW_UNROLL(6)
    for (std::size_t r = 0; r < avx2_mr; ++r) left[r] = right[r] = V::zero();
    for (std::size_t step = 0; step < k; ++step) {
        const typename V::Vec b_left = V::load(packed_b);
        const typename V::Vec b_right = V::load(packed_b + lanes);
        MINIFLOW_UNROLL(6)
        for (std::size_t r = 0; r < avx2_mr; ++r) {
            const typename V::Vec a_value = V::broadcast(packed_a + r);
            left[r] = V::fmadd(a_value, b_left, left[r]);
            right[r] = V::fmadd(a_value, b_right, right[r]);
        }
        packed_a += avx2_mr;
        packed_b += nr;
    }
    if (rows == avx2_mr && cols == nr) {
        const typename V::Vec bias_left = bias != nullptr ? V::load(bias) : V::zero();
        const typename V::Vec bias_right = bias != nullptr ? V::load(bias + lanes) : V::zero();
        MINIFLOW_UNROLL(6)
        for (std::size_t r = 0; r < avx2_mr; ++r) {
            T* row = c + r * ldc;
            typename V::Vec out_left = left[r];
            typename V::Vec out_right = right[r];
            if (bias != nullptr) {
                out_left = V::add(out_left, bias_left);
                out_right = V::add(out_right, bias_right);
            }
            if (load_c) {
                out_left = V::add(out_left, V::load(row));
                out_right = V::add(out_right, V::load(row + lanes));
            }
            V::store(row, out_left);
            V::store(row + lanes, out_right);
        }
        return;
    }
    // An edge micro-tile goes through a small buffer so nothing outside c is touched.
    alignas(32) T micro_tile[avx2_mr * nr];
    MINIFLOW_UNROLL(6)
    for (std::size_t r = 0; r < avx2_mr; ++r) {
        V::store(micro_tile + r * nr, left[r]);
        V::store(micro_tile + r * nr + lanes, right[r]);
    }
    write_micro_tile(micro_tile, nr, c, ldc, rows, cols, load_c, bias);
}

// The direct path, vectorised for this ISA: flatten inlines the whole template here.
template <typename T>
MINIFLOW_TARGET_AVX2 MINIFLOW_FLATTEN void direct_product_avx2(const MatrixView<T>& a,
                                                               const MatrixView<T>& b, T* c,
                                                               std::size_t ldc, bool accumulate,
                                                               const T* bias) {
    direct_product<T, 32>(a, b, c, ldc, accumulate, bias);
}

}  // namespace

template <typename T>
GemmKernels<T> GemmKernelsByIsa<T>::avx2() {
    return {avx2_mr, 2 * Avx2<T>::width, &micro_kernel_avx2<Avx2<T>>, &direct_product_avx2<T>};
}

template GemmKernels<float> GemmKernelsByIsa<float>::avx2();
template GemmKernels<double> GemmKernelsByIsa<double>::avx2();

}  // namespace miniflow::detail

#endif  // MINIFLOW_X86_64
