// The AVX-512 micro-kernel: a 14 x (2 vectors) tile of c held in 28 zmm registers, fed by two
// loads of B and 14 broadcasts of A per step; edge tiles are written with masked loads and
// stores. Only the functions marked with the target attribute use AVX-512, so this file is
// safe to link into a binary for any x86-64 CPU.
#include <immintrin.h>

#include <cstddef>

#include "direct.hpp"
#include "gemm_internal.hpp"

#define MINIFLOW_AVX512 __attribute__((target("avx512f,avx512dq,avx2,fma")))
#define MINIFLOW_AVX512_INLINE \
    __attribute__((target("avx512f,avx512dq,avx2,fma"), always_inline)) inline

namespace miniflow::detail {

namespace {

constexpr std::size_t avx512_mr = 14;

struct Avx512Double {
    using Scalar = double;
    using Vec = __m512d;
    using Mask = __mmask8;
    static constexpr std::size_t lanes = 8;
    static MINIFLOW_AVX512_INLINE Vec zero() { return _mm512_setzero_pd(); }
    static MINIFLOW_AVX512_INLINE Vec load(const double* p) { return _mm512_loadu_pd(p); }
    static MINIFLOW_AVX512_INLINE Vec load(Mask m, const double* p) {
        return _mm512_maskz_loadu_pd(m, p);
    }
    static MINIFLOW_AVX512_INLINE Vec broadcast(const double* p) { return _mm512_set1_pd(*p); }
    static MINIFLOW_AVX512_INLINE Vec add(Vec x, Vec y) { return _mm512_add_pd(x, y); }
    static MINIFLOW_AVX512_INLINE Vec fma(Vec x, Vec y, Vec z) { return _mm512_fmadd_pd(x, y, z); }
    static MINIFLOW_AVX512_INLINE void store(Mask m, double* p, Vec x) {
        _mm512_mask_storeu_pd(p, m, x);
    }
};

struct Avx512Float {
    using Scalar = float;
    using Vec = __m512;
    using Mask = __mmask16;
    static constexpr std::size_t lanes = 16;
    static MINIFLOW_AVX512_INLINE Vec zero() { return _mm512_setzero_ps(); }
    static MINIFLOW_AVX512_INLINE Vec load(const float* p) { return _mm512_loadu_ps(p); }
    static MINIFLOW_AVX512_INLINE Vec load(Mask m, const float* p) {
        return _mm512_maskz_loadu_ps(m, p);
    }
    static MINIFLOW_AVX512_INLINE Vec broadcast(const float* p) { return _mm512_set1_ps(*p); }
    static MINIFLOW_AVX512_INLINE Vec add(Vec x, Vec y) { return _mm512_add_ps(x, y); }
    static MINIFLOW_AVX512_INLINE Vec fma(Vec x, Vec y, Vec z) { return _mm512_fmadd_ps(x, y, z); }
    static MINIFLOW_AVX512_INLINE void store(Mask m, float* p, Vec x) {
        _mm512_mask_storeu_ps(p, m, x);
    }
};

// The lanes of a vector that hold one of the first `count` columns.
template <typename V>
MINIFLOW_AVX512_INLINE typename V::Mask first_lanes(std::size_t count) {
    if (count >= V::lanes) return static_cast<typename V::Mask>(~0U);
    return static_cast<typename V::Mask>((1U << count) - 1U);
}

template <typename V>
MINIFLOW_AVX512 void compute_tile_avx512(std::size_t k, const typename V::Scalar* packed_a,
                                         const typename V::Scalar* packed_b, typename V::Scalar* c,
                                         std::size_t ldc, std::size_t rows, std::size_t cols,
                                         bool load_c, const typename V::Scalar* bias) {
    constexpr std::size_t lanes = V::lanes;
    constexpr std::size_t nr = 2 * lanes;
    typename V::Vec left[avx512_mr];
    typename V::Vec right[avx512_mr];
    // The tile of c is needed only at the end: start fetching it now, behind the arithmetic.
    for (std::size_t r = 0; r < rows; ++r) {
        _mm_prefetch(reinterpret_cast<const char*>(c + r * ldc), _MM_HINT_T0);
        _mm_prefetch(reinterpret_cast<const char*>(c + r * ldc + nr - 1), _MM_HINT_T0);
    }
#pragma GCC unroll 14
    for (std::size_t r = 0; r < avx512_mr; ++r) left[r] = right[r] = V::zero();
    // A and B both stream from L2 (a kc-deep B micro-panel is larger than L1): fetch each a few
    // steps ahead, both lines of a step (B: measured +2-3% at 2048 on Zen 4).
    constexpr std::size_t a_prefetch_distance = 16 * avx512_mr;
    constexpr std::size_t b_prefetch_distance = 16 * nr;
    constexpr std::size_t values_per_line = 64 / sizeof(typename V::Scalar);
    for (std::size_t step = 0; step < k; ++step) {
        _mm_prefetch(reinterpret_cast<const char*>(packed_a + a_prefetch_distance), _MM_HINT_T0);
        _mm_prefetch(
            reinterpret_cast<const char*>(packed_a + a_prefetch_distance + values_per_line),
            _MM_HINT_T0);
        _mm_prefetch(reinterpret_cast<const char*>(packed_b + b_prefetch_distance), _MM_HINT_T0);
        _mm_prefetch(
            reinterpret_cast<const char*>(packed_b + b_prefetch_distance + values_per_line),
            _MM_HINT_T0);
        const typename V::Vec b_left = V::load(packed_b);
        const typename V::Vec b_right = V::load(packed_b + lanes);
#pragma GCC unroll 14
        for (std::size_t r = 0; r < avx512_mr; ++r) {
            const typename V::Vec a_value = V::broadcast(packed_a + r);
            left[r] = V::fma(a_value, b_left, left[r]);
            right[r] = V::fma(a_value, b_right, right[r]);
        }
        packed_a += avx512_mr;
        packed_b += nr;
    }
    // Masked loads and stores touch only the columns that exist, so edge tiles need no buffer.
    const typename V::Mask mask_left = first_lanes<V>(cols);
    const typename V::Mask mask_right = first_lanes<V>(cols > lanes ? cols - lanes : 0);
    const typename V::Vec bias_left = bias != nullptr ? V::load(mask_left, bias) : V::zero();
    const typename V::Vec bias_right =
        bias != nullptr ? V::load(mask_right, bias + lanes) : V::zero();
#pragma GCC unroll 14
    for (std::size_t r = 0; r < avx512_mr; ++r) {
        if (r < rows) {
            typename V::Scalar* row = c + r * ldc;
            typename V::Vec out_left = left[r];
            typename V::Vec out_right = right[r];
            if (bias != nullptr) {
                out_left = V::add(out_left, bias_left);
                out_right = V::add(out_right, bias_right);
            }
            if (load_c) {
                out_left = V::add(out_left, V::load(mask_left, row));
                out_right = V::add(out_right, V::load(mask_right, row + lanes));
            }
            V::store(mask_left, row, out_left);
            V::store(mask_right, row + lanes, out_right);
        }
    }
}

// The direct path, vectorised for this ISA: flatten inlines the whole template here.
template <typename T>
MINIFLOW_AVX512 __attribute__((flatten)) void direct_product_avx512(const MatrixView<T>& a,
                                                                    const MatrixView<T>& b, T* c,
                                                                    std::size_t ldc,
                                                                    bool accumulate,
                                                                    const T* bias) {
    direct_product<T, 64>(a, b, c, ldc, accumulate, bias);
}

}  // namespace

template <>
Kernel<double> avx512_kernel<double>() {
    return {avx512_mr, 2 * Avx512Double::lanes,
            &compute_tile_avx512<Avx512Double>,
            &direct_product_avx512<double>};
}

template <>
Kernel<float> avx512_kernel<float>() {
    return {avx512_mr, 2 * Avx512Float::lanes,
            &compute_tile_avx512<Avx512Float>,
            &direct_product_avx512<float>};
}

}  // namespace miniflow::detail
