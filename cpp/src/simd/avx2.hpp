// AVX2 + FMA vector operations, Avx2<float> and Avx2<double>: the one layer over the intrinsics
// that the GEMM micro-kernel and the elementwise kernels are written in. Every function carries
// the target, so this header may be included by any x86-64 file: nothing here is compiled for
// AVX2 unless a function with the same target (MINIFLOW_TARGET_AVX2) calls it.
#pragma once

#include "simd/target.hpp"

#if MINIFLOW_X86_64

#include <immintrin.h>

#include <cstddef>

#include "simd/common.hpp"

#define MINIFLOW_AVX2_OP MINIFLOW_TARGET_AVX2 MINIFLOW_ALWAYS_INLINE

namespace miniflow::detail {

template <typename T>
struct Avx2;

template <>
struct Avx2<float> : X86Memory {
    using Scalar = float;
    using Vec = __m256;
    using Mask = __m256;    // a comparison result: all bits set in the lanes where it holds
    using Lanes = __m256i;  // the lanes a tail touches
    static constexpr std::size_t width = 8;

    static MINIFLOW_AVX2_OP Vec load(const float* p) { return _mm256_loadu_ps(p); }
    static MINIFLOW_AVX2_OP void store(float* p, Vec v) { _mm256_storeu_ps(p, v); }
    static MINIFLOW_AVX2_OP Vec load(const float* p, AllLanes) { return load(p); }
    static MINIFLOW_AVX2_OP void store(float* p, Vec v, AllLanes) { store(p, v); }
    static MINIFLOW_AVX2_OP Vec load(const float* p, AllLanesStreamed) { return load(p); }
    static MINIFLOW_AVX2_OP void store(float* p, Vec v, AllLanesStreamed) {
        _mm256_stream_ps(p, v);
    }
    // The first `count` (<= width) lanes; the others load as 0 and are never stored.
    static MINIFLOW_AVX2_OP Lanes first_lanes(std::size_t count) {
        return _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(count)),
                                  _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
    }
    static MINIFLOW_AVX2_OP Vec load(const float* p, Lanes lanes) {
        return _mm256_maskload_ps(p, lanes);
    }
    static MINIFLOW_AVX2_OP void store(float* p, Vec v, Lanes lanes) {
        _mm256_maskstore_ps(p, lanes, v);
    }

    static MINIFLOW_AVX2_OP Vec zero() { return _mm256_setzero_ps(); }
    static MINIFLOW_AVX2_OP Vec set1(float value) { return _mm256_set1_ps(value); }
    static MINIFLOW_AVX2_OP Vec broadcast(const float* p) { return _mm256_broadcast_ss(p); }
    static MINIFLOW_AVX2_OP Vec add(Vec a, Vec b) { return _mm256_add_ps(a, b); }
    static MINIFLOW_AVX2_OP Vec sub(Vec a, Vec b) { return _mm256_sub_ps(a, b); }
    static MINIFLOW_AVX2_OP Vec mul(Vec a, Vec b) { return _mm256_mul_ps(a, b); }
    static MINIFLOW_AVX2_OP Vec div(Vec a, Vec b) { return _mm256_div_ps(a, b); }
    // A product that stays rounded: GCC fuses a * b + c into an FMA in C++ unless told not to,
    // and the kernels that promise the scalar code's bits must not be fused.
    static MINIFLOW_AVX2_OP Vec mul_rounded(Vec a, Vec b) {
        Vec product = mul(a, b);
        MINIFLOW_KEEP_ROUNDED(product);
        return product;
    }
    // a * b + c and c - a * b, each rounded once.
    static MINIFLOW_AVX2_OP Vec fmadd(Vec a, Vec b, Vec c) { return _mm256_fmadd_ps(a, b, c); }
    static MINIFLOW_AVX2_OP Vec fnmadd(Vec a, Vec b, Vec c) { return _mm256_fnmadd_ps(a, b, c); }
    // x86 semantics: when either operand is NaN the second one is returned.
    static MINIFLOW_AVX2_OP Vec min(Vec a, Vec b) { return _mm256_min_ps(a, b); }
    static MINIFLOW_AVX2_OP Vec max(Vec a, Vec b) { return _mm256_max_ps(a, b); }
    static MINIFLOW_AVX2_OP Vec floor(Vec a) { return _mm256_floor_ps(a); }
    static MINIFLOW_AVX2_OP Vec negate(Vec a) { return _mm256_xor_ps(a, _mm256_set1_ps(-0.0f)); }
    static MINIFLOW_AVX2_OP Vec abs(Vec a) { return _mm256_andnot_ps(_mm256_set1_ps(-0.0f), a); }
    static MINIFLOW_AVX2_OP Vec negative_abs(Vec a) {
        return _mm256_or_ps(a, _mm256_set1_ps(-0.0f));
    }

    static MINIFLOW_AVX2_OP Mask greater(Vec a, Vec b) { return _mm256_cmp_ps(a, b, _CMP_GT_OQ); }
    static MINIFLOW_AVX2_OP Mask greater_equal(Vec a, Vec b) {
        return _mm256_cmp_ps(a, b, _CMP_GE_OQ);
    }
    static MINIFLOW_AVX2_OP bool any(Mask m) { return _mm256_movemask_ps(m) != 0; }
    static MINIFLOW_AVX2_OP Vec select(Mask m, Vec if_true, Vec if_false) {
        return _mm256_blendv_ps(if_false, if_true, m);
    }

    // 2^n from `shifted` = n + 1.5 * 2^23, whose low mantissa bits hold n; n + 127 in [1, 254].
    static MINIFLOW_AVX2_OP Vec pow2_from_shifted(Vec shifted) {
        const __m256i bits = _mm256_castps_si256(shifted);
        const __m256i biased = _mm256_add_epi32(bits, _mm256_set1_epi32(127));
        return _mm256_castsi256_ps(_mm256_slli_epi32(biased, 23));
    }

    // exp looks 2^(j/8) up in an 8-entry table by the low 3 bits of `shifted` (= k + 1.5 * 2^23,
    // k = 8 m + j), then adds m to the exponent of that value.
    static constexpr int exp_table_bits = 3;
    static MINIFLOW_AVX2_OP Vec lookup(const float* table, Vec shifted) {
        return _mm256_permutevar8x32_ps(load(table), _mm256_castps_si256(shifted));
    }
    static MINIFLOW_AVX2_OP Vec add_to_exponent(Vec fraction, Vec shifted) {
        const __m256i m = _mm256_andnot_si256(_mm256_set1_epi32(7), _mm256_castps_si256(shifted));
        const auto exponent = _mm256_slli_epi32(m, 23 - 3);
        return _mm256_castsi256_ps(_mm256_add_epi32(_mm256_castps_si256(fraction), exponent));
    }

    // Sums of squares in double: floats are widened before squaring, so no precision is lost.
    struct SquareSum {
        __m256d low;
        __m256d high;
    };
    static MINIFLOW_AVX2_OP SquareSum no_squares() {
        return {_mm256_setzero_pd(), _mm256_setzero_pd()};
    }
    static MINIFLOW_AVX2_OP void add_squares(SquareSum& sum, Vec v) {
        const __m256d low = _mm256_cvtps_pd(_mm256_castps256_ps128(v));
        const __m256d high = _mm256_cvtps_pd(_mm256_extractf128_ps(v, 1));
        sum.low = _mm256_fmadd_pd(low, low, sum.low);
        sum.high = _mm256_fmadd_pd(high, high, sum.high);
    }
    static MINIFLOW_AVX2_OP double total(const SquareSum& sum) {
        return horizontal_sum(_mm256_add_pd(sum.low, sum.high));
    }
    static MINIFLOW_AVX2_OP double horizontal_sum(__m256d v) {
        const __m128d pair = _mm_add_pd(_mm256_castpd256_pd128(v), _mm256_extractf128_pd(v, 1));
        return _mm_cvtsd_f64(_mm_add_sd(pair, _mm_unpackhi_pd(pair, pair)));
    }
};

template <>
struct Avx2<double> : X86Memory {
    using Scalar = double;
    using Vec = __m256d;
    using Mask = __m256d;
    using Lanes = __m256i;
    static constexpr std::size_t width = 4;

    static MINIFLOW_AVX2_OP Vec load(const double* p) { return _mm256_loadu_pd(p); }
    static MINIFLOW_AVX2_OP void store(double* p, Vec v) { _mm256_storeu_pd(p, v); }
    static MINIFLOW_AVX2_OP Vec load(const double* p, AllLanes) { return load(p); }
    static MINIFLOW_AVX2_OP void store(double* p, Vec v, AllLanes) { store(p, v); }
    static MINIFLOW_AVX2_OP Vec load(const double* p, AllLanesStreamed) { return load(p); }
    static MINIFLOW_AVX2_OP void store(double* p, Vec v, AllLanesStreamed) {
        _mm256_stream_pd(p, v);
    }
    static MINIFLOW_AVX2_OP Lanes first_lanes(std::size_t count) {
        return _mm256_cmpgt_epi64(_mm256_set1_epi64x(static_cast<long long>(count)),
                                  _mm256_setr_epi64x(0, 1, 2, 3));
    }
    static MINIFLOW_AVX2_OP Vec load(const double* p, Lanes lanes) {
        return _mm256_maskload_pd(p, lanes);
    }
    static MINIFLOW_AVX2_OP void store(double* p, Vec v, Lanes lanes) {
        _mm256_maskstore_pd(p, lanes, v);
    }

    static MINIFLOW_AVX2_OP Vec zero() { return _mm256_setzero_pd(); }
    static MINIFLOW_AVX2_OP Vec set1(double value) { return _mm256_set1_pd(value); }
    static MINIFLOW_AVX2_OP Vec broadcast(const double* p) { return _mm256_broadcast_sd(p); }
    static MINIFLOW_AVX2_OP Vec add(Vec a, Vec b) { return _mm256_add_pd(a, b); }
    static MINIFLOW_AVX2_OP Vec sub(Vec a, Vec b) { return _mm256_sub_pd(a, b); }
    static MINIFLOW_AVX2_OP Vec mul(Vec a, Vec b) { return _mm256_mul_pd(a, b); }
    static MINIFLOW_AVX2_OP Vec div(Vec a, Vec b) { return _mm256_div_pd(a, b); }
    static MINIFLOW_AVX2_OP Vec mul_rounded(Vec a, Vec b) {
        Vec product = mul(a, b);
        MINIFLOW_KEEP_ROUNDED(product);
        return product;
    }
    static MINIFLOW_AVX2_OP Vec fmadd(Vec a, Vec b, Vec c) { return _mm256_fmadd_pd(a, b, c); }
    static MINIFLOW_AVX2_OP Vec fnmadd(Vec a, Vec b, Vec c) { return _mm256_fnmadd_pd(a, b, c); }
    static MINIFLOW_AVX2_OP Vec min(Vec a, Vec b) { return _mm256_min_pd(a, b); }
    static MINIFLOW_AVX2_OP Vec max(Vec a, Vec b) { return _mm256_max_pd(a, b); }
    static MINIFLOW_AVX2_OP Vec floor(Vec a) { return _mm256_floor_pd(a); }
    static MINIFLOW_AVX2_OP Vec negate(Vec a) { return _mm256_xor_pd(a, _mm256_set1_pd(-0.0)); }
    static MINIFLOW_AVX2_OP Vec abs(Vec a) { return _mm256_andnot_pd(_mm256_set1_pd(-0.0), a); }
    static MINIFLOW_AVX2_OP Vec negative_abs(Vec a) {
        return _mm256_or_pd(a, _mm256_set1_pd(-0.0));
    }

    static MINIFLOW_AVX2_OP Mask greater(Vec a, Vec b) { return _mm256_cmp_pd(a, b, _CMP_GT_OQ); }
    static MINIFLOW_AVX2_OP Mask greater_equal(Vec a, Vec b) {
        return _mm256_cmp_pd(a, b, _CMP_GE_OQ);
    }
    static MINIFLOW_AVX2_OP bool any(Mask m) { return _mm256_movemask_pd(m) != 0; }
    static MINIFLOW_AVX2_OP Vec select(Mask m, Vec if_true, Vec if_false) {
        return _mm256_blendv_pd(if_false, if_true, m);
    }

    // 2^n from `shifted` = n + 1.5 * 2^52, whose low mantissa bits hold n; n + 1023 in [1, 2046].
    static MINIFLOW_AVX2_OP Vec pow2_from_shifted(Vec shifted) {
        const __m256i bits = _mm256_castpd_si256(shifted);
        const __m256i biased = _mm256_add_epi64(bits, _mm256_set1_epi64x(1023));
        return _mm256_castsi256_pd(_mm256_slli_epi64(biased, 52));
    }

    // No one-instruction lookup of four doubles: exp uses no table, and `fraction` is 1.
    static constexpr int exp_table_bits = 0;
    static MINIFLOW_AVX2_OP Vec add_to_exponent(Vec fraction, Vec shifted) {
        const __m256i m = _mm256_slli_epi64(_mm256_castpd_si256(shifted), 52);
        return _mm256_castsi256_pd(_mm256_add_epi64(_mm256_castpd_si256(fraction), m));
    }

    struct SquareSum {
        __m256d sum;
    };
    static MINIFLOW_AVX2_OP SquareSum no_squares() { return {_mm256_setzero_pd()}; }
    static MINIFLOW_AVX2_OP void add_squares(SquareSum& sum, Vec v) {
        sum.sum = _mm256_fmadd_pd(v, v, sum.sum);
    }
    static MINIFLOW_AVX2_OP double total(const SquareSum& sum) {
        return Avx2<float>::horizontal_sum(sum.sum);
    }
};

}  // namespace miniflow::detail

#endif  // MINIFLOW_X86_64
