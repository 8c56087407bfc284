// AVX-512 vector operations, Avx512<float> and Avx512<double>, for the GEMM micro-kernel and the
// elementwise kernels alike. Every function carries the target, so this header may be included
// by any x86-64 file: nothing here is compiled for AVX-512 unless a function with the same target
// (MINIFLOW_TARGET_AVX512) calls it.
#pragma once

#include "simd/target.hpp"

#if MINIFLOW_X86_64

#include <immintrin.h>

#include <cstddef>

#include "simd/common.hpp"

#define MINIFLOW_AVX512_OP MINIFLOW_TARGET_AVX512 MINIFLOW_ALWAYS_INLINE

namespace miniflow::detail {

template <typename T>
struct Avx512;

template <>
struct Avx512<float> : X86Memory {
    using Scalar = float;
    using Vec = __m512;
    using Mask = __mmask16;  // a comparison result, and the lanes a tail touches
    static constexpr std::size_t width = 16;

    static MINIFLOW_AVX512_OP Vec load(const float* p) { return _mm512_loadu_ps(p); }
    static MINIFLOW_AVX512_OP void store(float* p, Vec v) { _mm512_storeu_ps(p, v); }
    static MINIFLOW_AVX512_OP Vec load(const float* p, AllLanes) { return load(p); }
    static MINIFLOW_AVX512_OP void store(float* p, Vec v, AllLanes) { store(p, v); }
    static MINIFLOW_AVX512_OP Vec load(const float* p, AllLanesStreamed) { return load(p); }
    static MINIFLOW_AVX512_OP void store(float* p, Vec v, AllLanesStreamed) {
        _mm512_stream_ps(p, v);
    }
    // The first `count` (<= width) lanes; the others load as 0 and are never stored.
    static MINIFLOW_AVX512_OP Mask first_lanes(std::size_t count) {
        return static_cast<Mask>((1u << count) - 1u);
    }
    static MINIFLOW_AVX512_OP Vec load(const float* p, Mask lanes) {
        return _mm512_maskz_loadu_ps(lanes, p);
    }
    static MINIFLOW_AVX512_OP void store(float* p, Vec v, Mask lanes) {
        _mm512_mask_storeu_ps(p, lanes, v);
    }

    static MINIFLOW_AVX512_OP Vec zero() { return _mm512_setzero_ps(); }
    static MINIFLOW_AVX512_OP Vec set1(float value) { return _mm512_set1_ps(value); }
    static MINIFLOW_AVX512_OP Vec broadcast(const float* p) { return _mm512_set1_ps(*p); }
    static MINIFLOW_AVX512_OP Vec add(Vec a, Vec b) { return _mm512_add_ps(a, b); }
    static MINIFLOW_AVX512_OP Vec sub(Vec a, Vec b) { return _mm512_sub_ps(a, b); }
    static MINIFLOW_AVX512_OP Vec mul(Vec a, Vec b) { return _mm512_mul_ps(a, b); }
    static MINIFLOW_AVX512_OP Vec div(Vec a, Vec b) { return _mm512_div_ps(a, b); }
    // A product that stays rounded: GCC fuses a * b + c into an FMA in C++ unless told not to,
    // and the kernels that promise the scalar code's bits must not be fused.
    static MINIFLOW_AVX512_OP Vec mul_rounded(Vec a, Vec b) {
        Vec product = mul(a, b);
        MINIFLOW_KEEP_ROUNDED(product);
        return product;
    }
    // a * b + c and c - a * b, each rounded once.
    static MINIFLOW_AVX512_OP Vec fmadd(Vec a, Vec b, Vec c) { return _mm512_fmadd_ps(a, b, c); }
    static MINIFLOW_AVX512_OP Vec fnmadd(Vec a, Vec b, Vec c) { return _mm512_fnmadd_ps(a, b, c); }
    // x86 semantics: when either operand is NaN the second one is returned.
    static MINIFLOW_AVX512_OP Vec min(Vec a, Vec b) { return _mm512_min_ps(a, b); }
    static MINIFLOW_AVX512_OP Vec max(Vec a, Vec b) { return _mm512_max_ps(a, b); }
    static MINIFLOW_AVX512_OP Vec floor(Vec a) {
        return _mm512_roundscale_ps(a, _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC);
    }
    static MINIFLOW_AVX512_OP Vec negate(Vec a) { return _mm512_xor_ps(a, _mm512_set1_ps(-0.0f)); }
    static MINIFLOW_AVX512_OP Vec abs(Vec a) { return _mm512_andnot_ps(_mm512_set1_ps(-0.0f), a); }
    static MINIFLOW_AVX512_OP Vec negative_abs(Vec a) {
        return _mm512_or_ps(a, _mm512_set1_ps(-0.0f));
    }

    static MINIFLOW_AVX512_OP Mask greater(Vec a, Vec b) {
        return _mm512_cmp_ps_mask(a, b, _CMP_GT_OQ);
    }
    static MINIFLOW_AVX512_OP Mask greater_equal(Vec a, Vec b) {
        return _mm512_cmp_ps_mask(a, b, _CMP_GE_OQ);
    }
    static MINIFLOW_AVX512_OP bool any(Mask m) { return m != 0; }
    static MINIFLOW_AVX512_OP Vec select(Mask m, Vec if_true, Vec if_false) {
        return _mm512_mask_blend_ps(m, if_false, if_true);
    }

    // 2^n from `shifted` = n + 1.5 * 2^23, whose low mantissa bits hold n; n + 127 in [1, 254].
    static MINIFLOW_AVX512_OP Vec pow2_from_shifted(Vec shifted) {
        const __m512i bits = _mm512_castps_si512(shifted);
        const __m512i biased = _mm512_add_epi32(bits, _mm512_set1_epi32(127));
        return _mm512_castsi512_ps(_mm512_slli_epi32(biased, 23));
    }

    // exp looks 2^(j/16) up in a 16-entry table by the low 4 bits of `shifted` (= k + 1.5 * 2^23,
    // k = 16 m + j), then adds m to the exponent of that value.
    static constexpr int exp_table_bits = 4;
    static MINIFLOW_AVX512_OP Vec lookup(const float* table, Vec shifted) {
        return _mm512_permutexvar_ps(_mm512_castps_si512(shifted), load(table));
    }
    static MINIFLOW_AVX512_OP Vec add_to_exponent(Vec fraction, Vec shifted) {
        const __m512i m = _mm512_andnot_si512(_mm512_set1_epi32(15), _mm512_castps_si512(shifted));
        const auto exponent = _mm512_slli_epi32(m, 23 - 4);
        return _mm512_castsi512_ps(_mm512_add_epi32(_mm512_castps_si512(fraction), exponent));
    }

    // Sums of squares in double: floats are widened before squaring, so no precision is lost.
    struct SquareSum {
        __m512d low;
        __m512d high;
    };
    static MINIFLOW_AVX512_OP SquareSum no_squares() {
        return {_mm512_setzero_pd(), _mm512_setzero_pd()};
    }
    static MINIFLOW_AVX512_OP void add_squares(SquareSum& sum, Vec v) {
        const __m512d low = _mm512_cvtps_pd(_mm512_castps512_ps256(v));
        const __m512d high = _mm512_cvtps_pd(_mm512_extractf32x8_ps(v, 1));
        sum.low = _mm512_fmadd_pd(low, low, sum.low);
        sum.high = _mm512_fmadd_pd(high, high, sum.high);
    }
    static MINIFLOW_AVX512_OP double total(const SquareSum& sum) {
        return _mm512_reduce_add_pd(_mm512_add_pd(sum.low, sum.high));
    }
};

template <>
struct Avx512<double> : X86Memory {
    using Scalar = double;
    using Vec = __m512d;
    using Mask = __mmask8;
    static constexpr std::size_t width = 8;

    static MINIFLOW_AVX512_OP Vec load(const double* p) { return _mm512_loadu_pd(p); }
    static MINIFLOW_AVX512_OP void store(double* p, Vec v) { _mm512_storeu_pd(p, v); }
    static MINIFLOW_AVX512_OP Vec load(const double* p, AllLanes) { return load(p); }
    static MINIFLOW_AVX512_OP void store(double* p, Vec v, AllLanes) { store(p, v); }
    static MINIFLOW_AVX512_OP Vec load(const double* p, AllLanesStreamed) { return load(p); }
    static MINIFLOW_AVX512_OP void store(double* p, Vec v, AllLanesStreamed) {
        _mm512_stream_pd(p, v);
    }
    static MINIFLOW_AVX512_OP Mask first_lanes(std::size_t count) {
        return static_cast<Mask>((1u << count) - 1u);
    }
    static MINIFLOW_AVX512_OP Vec load(const double* p, Mask lanes) {
        return _mm512_maskz_loadu_pd(lanes, p);
    }
    static MINIFLOW_AVX512_OP void store(double* p, Vec v, Mask lanes) {
        _mm512_mask_storeu_pd(p, lanes, v);
    }

    static MINIFLOW_AVX512_OP Vec zero() { return _mm512_setzero_pd(); }
    static MINIFLOW_AVX512_OP Vec set1(double value) { return _mm512_set1_pd(value); }
    static MINIFLOW_AVX512_OP Vec broadcast(const double* p) { return _mm512_set1_pd(*p); }
    static MINIFLOW_AVX512_OP Vec add(Vec a, Vec b) { return _mm512_add_pd(a, b); }
    static MINIFLOW_AVX512_OP Vec sub(Vec a, Vec b) { return _mm512_sub_pd(a, b); }
    static MINIFLOW_AVX512_OP Vec mul(Vec a, Vec b) { return _mm512_mul_pd(a, b); }
    static MINIFLOW_AVX512_OP Vec div(Vec a, Vec b) { return _mm512_div_pd(a, b); }
    static MINIFLOW_AVX512_OP Vec mul_rounded(Vec a, Vec b) {
        Vec product = mul(a, b);
        MINIFLOW_KEEP_ROUNDED(product);
        return product;
    }
    static MINIFLOW_AVX512_OP Vec fmadd(Vec a, Vec b, Vec c) { return _mm512_fmadd_pd(a, b, c); }
    static MINIFLOW_AVX512_OP Vec fnmadd(Vec a, Vec b, Vec c) { return _mm512_fnmadd_pd(a, b, c); }
    static MINIFLOW_AVX512_OP Vec min(Vec a, Vec b) { return _mm512_min_pd(a, b); }
    static MINIFLOW_AVX512_OP Vec max(Vec a, Vec b) { return _mm512_max_pd(a, b); }
    static MINIFLOW_AVX512_OP Vec floor(Vec a) {
        return _mm512_roundscale_pd(a, _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC);
    }
    static MINIFLOW_AVX512_OP Vec negate(Vec a) { return _mm512_xor_pd(a, _mm512_set1_pd(-0.0)); }
    static MINIFLOW_AVX512_OP Vec abs(Vec a) { return _mm512_andnot_pd(_mm512_set1_pd(-0.0), a); }
    static MINIFLOW_AVX512_OP Vec negative_abs(Vec a) {
        return _mm512_or_pd(a, _mm512_set1_pd(-0.0));
    }

    static MINIFLOW_AVX512_OP Mask greater(Vec a, Vec b) {
        return _mm512_cmp_pd_mask(a, b, _CMP_GT_OQ);
    }
    static MINIFLOW_AVX512_OP Mask greater_equal(Vec a, Vec b) {
        return _mm512_cmp_pd_mask(a, b, _CMP_GE_OQ);
    }
    static MINIFLOW_AVX512_OP bool any(Mask m) { return m != 0; }
    static MINIFLOW_AVX512_OP Vec select(Mask m, Vec if_true, Vec if_false) {
        return _mm512_mask_blend_pd(m, if_false, if_true);
    }

    // 2^n from `shifted` = n + 1.5 * 2^52, whose low mantissa bits hold n; n + 1023 in [1, 2046].
    static MINIFLOW_AVX512_OP Vec pow2_from_shifted(Vec shifted) {
        const __m512i bits = _mm512_castpd_si512(shifted);
        const __m512i biased = _mm512_add_epi64(bits, _mm512_set1_epi64(1023));
        return _mm512_castsi512_pd(_mm512_slli_epi64(biased, 52));
    }

    // As for float, with an 8-entry table.
    static constexpr int exp_table_bits = 3;
    static MINIFLOW_AVX512_OP Vec lookup(const double* table, Vec shifted) {
        return _mm512_permutexvar_pd(_mm512_castpd_si512(shifted), load(table));
    }
    static MINIFLOW_AVX512_OP Vec add_to_exponent(Vec fraction, Vec shifted) {
        const __m512i m = _mm512_andnot_si512(_mm512_set1_epi64(7), _mm512_castpd_si512(shifted));
        const auto exponent = _mm512_slli_epi64(m, 52 - 3);
        return _mm512_castsi512_pd(_mm512_add_epi64(_mm512_castpd_si512(fraction), exponent));
    }

    struct SquareSum {
        __m512d sum;
    };
    static MINIFLOW_AVX512_OP SquareSum no_squares() { return {_mm512_setzero_pd()}; }
    static MINIFLOW_AVX512_OP void add_squares(SquareSum& sum, Vec v) {
        sum.sum = _mm512_fmadd_pd(v, v, sum.sum);
    }
    static MINIFLOW_AVX512_OP double total(const SquareSum& sum) {
        return _mm512_reduce_add_pd(sum.sum);
    }
};

}  // namespace miniflow::detail

#endif  // MINIFLOW_X86_64
