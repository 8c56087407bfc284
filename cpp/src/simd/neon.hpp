// NEON vector operations of arm64, Neon<float> and Neon<double> (128-bit vectors), for the GEMM
// micro-kernel and the elementwise kernels. NEON, with fused multiply-add, is part of every
// AArch64 CPU, so these need no target attribute and no check at run time.
#pragma once

#include "simd/target.hpp"

#if MINIFLOW_ARM64

#include <arm_neon.h>

#include <cstddef>
#include <cstring>

#include "simd/common.hpp"

#define MINIFLOW_NEON_OP MINIFLOW_ALWAYS_INLINE

namespace miniflow::detail {

// The first `count` lanes of a vector, for a tail: NEON has no masked loads and stores, so a
// partial vector goes through a small buffer (the lanes past `count` load as 0).
struct FirstLanes {
    std::size_t count;
};

// What both precisions share: memory hints, and NEON has no non-temporal store intrinsic, so a
// streamed store is a plain one and needs no ordering.
struct NeonMemory {
    static MINIFLOW_NEON_OP void prefetch(const void* p) {
#if defined(__GNUC__) || defined(__clang__)
        __builtin_prefetch(p);
#else
        static_cast<void>(p);
#endif
    }
    static MINIFLOW_NEON_OP void order_streamed_stores() {}
    static MINIFLOW_NEON_OP FirstLanes first_lanes(std::size_t count) { return {count}; }
};

template <typename T>
struct Neon;

template <>
struct Neon<float> : NeonMemory {
    using Scalar = float;
    using Vec = float32x4_t;
    using Mask = uint32x4_t;  // a comparison result: all bits set in the lanes where it holds
    static constexpr std::size_t width = 4;

    static MINIFLOW_NEON_OP Vec load(const float* p) { return vld1q_f32(p); }
    static MINIFLOW_NEON_OP void store(float* p, Vec v) { vst1q_f32(p, v); }
    static MINIFLOW_NEON_OP Vec load(const float* p, AllLanes) { return load(p); }
    static MINIFLOW_NEON_OP void store(float* p, Vec v, AllLanes) { store(p, v); }
    static MINIFLOW_NEON_OP Vec load(const float* p, AllLanesStreamed) { return load(p); }
    static MINIFLOW_NEON_OP void store(float* p, Vec v, AllLanesStreamed) { store(p, v); }
    static MINIFLOW_NEON_OP Vec load(const float* p, FirstLanes lanes) {
        float part[width] = {};
        std::memcpy(part, p, lanes.count * sizeof(float));
        return load(part);
    }
    static MINIFLOW_NEON_OP void store(float* p, Vec v, FirstLanes lanes) {
        float part[width];
        store(part, v);
        std::memcpy(p, part, lanes.count * sizeof(float));
    }

    static MINIFLOW_NEON_OP Vec zero() { return vdupq_n_f32(0.0f); }
    static MINIFLOW_NEON_OP Vec set1(float value) { return vdupq_n_f32(value); }
    static MINIFLOW_NEON_OP Vec broadcast(const float* p) { return vld1q_dup_f32(p); }
    static MINIFLOW_NEON_OP Vec add(Vec a, Vec b) { return vaddq_f32(a, b); }
    static MINIFLOW_NEON_OP Vec sub(Vec a, Vec b) { return vsubq_f32(a, b); }
    static MINIFLOW_NEON_OP Vec mul(Vec a, Vec b) { return vmulq_f32(a, b); }
    static MINIFLOW_NEON_OP Vec div(Vec a, Vec b) { return vdivq_f32(a, b); }
    // A product that stays rounded (see MINIFLOW_KEEP_ROUNDED).
    static MINIFLOW_NEON_OP Vec mul_rounded(Vec a, Vec b) {
        Vec product = mul(a, b);
        MINIFLOW_KEEP_ROUNDED(product);
        return product;
    }
    // a * b + c and c - a * b, each rounded once.
    static MINIFLOW_NEON_OP Vec fmadd(Vec a, Vec b, Vec c) { return vfmaq_f32(c, a, b); }
    static MINIFLOW_NEON_OP Vec fnmadd(Vec a, Vec b, Vec c) { return vfmsq_f32(c, a, b); }
    // sum + b * (lane `lane` of a): one FMLA by element, no broadcast needed.
    template <int lane>
    static MINIFLOW_NEON_OP Vec fmadd_lane(Vec sum, Vec b, Vec a) {
        return vfmaq_laneq_f32(sum, b, a, lane);
    }
    // x86 semantics, which the exp relies on: when either operand is NaN the second is returned
    // (NEON's own FMIN/FMAX would return NaN).
    static MINIFLOW_NEON_OP Vec min(Vec a, Vec b) { return vbslq_f32(vcltq_f32(a, b), a, b); }
    static MINIFLOW_NEON_OP Vec max(Vec a, Vec b) { return vbslq_f32(vcgtq_f32(a, b), a, b); }
    static MINIFLOW_NEON_OP Vec floor(Vec a) { return vrndmq_f32(a); }
    static MINIFLOW_NEON_OP Vec negate(Vec a) { return vnegq_f32(a); }
    static MINIFLOW_NEON_OP Vec abs(Vec a) { return vabsq_f32(a); }
    static MINIFLOW_NEON_OP Vec negative_abs(Vec a) { return vnegq_f32(vabsq_f32(a)); }

    static MINIFLOW_NEON_OP Mask greater(Vec a, Vec b) { return vcgtq_f32(a, b); }
    static MINIFLOW_NEON_OP Mask greater_equal(Vec a, Vec b) { return vcgeq_f32(a, b); }
    static MINIFLOW_NEON_OP bool any(Mask m) { return vmaxvq_u32(m) != 0; }
    static MINIFLOW_NEON_OP Vec select(Mask m, Vec if_true, Vec if_false) {
        return vbslq_f32(m, if_true, if_false);
    }

    // 2^n from `shifted` = n + 1.5 * 2^23, whose low mantissa bits hold n; n + 127 in [1, 254].
    static MINIFLOW_NEON_OP Vec pow2_from_shifted(Vec shifted) {
        const int32x4_t biased = vaddq_s32(vreinterpretq_s32_f32(shifted), vdupq_n_s32(127));
        return vreinterpretq_f32_s32(vshlq_n_s32(biased, 23));
    }

    // exp looks 2^(j/8) up in an 8-entry table by the low 3 bits of `shifted` (= k + 1.5 * 2^23,
    // k = 8 m + j), then adds m to the exponent of that value. The lookup is a byte shuffle (TBL)
    // over the table's 32 bytes: lane index j becomes the byte indices 4j .. 4j + 3.
    static constexpr int exp_table_bits = 3;
    static MINIFLOW_NEON_OP Vec lookup(const float* table, Vec shifted) {
        const uint32x4_t j = vandq_u32(vreinterpretq_u32_f32(shifted), vdupq_n_u32(7));
        const uint32x4_t bytes = vmlaq_n_u32(vdupq_n_u32(0x03020100U), j, 0x04040404U);
        uint8x16x2_t entries;
        entries.val[0] = vreinterpretq_u8_f32(load(table));
        entries.val[1] = vreinterpretq_u8_f32(load(table + width));
        return vreinterpretq_f32_u8(vqtbl2q_u8(entries, vreinterpretq_u8_u32(bytes)));
    }
    static MINIFLOW_NEON_OP Vec add_to_exponent(Vec fraction, Vec shifted) {
        const int32x4_t m = vbicq_s32(vreinterpretq_s32_f32(shifted), vdupq_n_s32(7));
        const int32x4_t exponent = vshlq_n_s32(m, 23 - 3);
        return vreinterpretq_f32_s32(vaddq_s32(vreinterpretq_s32_f32(fraction), exponent));
    }

    // Sums of squares in double: floats are widened before squaring, so no precision is lost.
    struct SquareSum {
        float64x2_t low;
        float64x2_t high;
    };
    static MINIFLOW_NEON_OP SquareSum no_squares() { return {vdupq_n_f64(0.0), vdupq_n_f64(0.0)}; }
    static MINIFLOW_NEON_OP void add_squares(SquareSum& sum, Vec v) {
        const float64x2_t low = vcvt_f64_f32(vget_low_f32(v));
        const float64x2_t high = vcvt_high_f64_f32(v);
        sum.low = vfmaq_f64(sum.low, low, low);
        sum.high = vfmaq_f64(sum.high, high, high);
    }
    static MINIFLOW_NEON_OP double total(const SquareSum& sum) {
        return vaddvq_f64(vaddq_f64(sum.low, sum.high));
    }
};

template <>
struct Neon<double> : NeonMemory {
    using Scalar = double;
    using Vec = float64x2_t;
    using Mask = uint64x2_t;
    static constexpr std::size_t width = 2;

    static MINIFLOW_NEON_OP Vec load(const double* p) { return vld1q_f64(p); }
    static MINIFLOW_NEON_OP void store(double* p, Vec v) { vst1q_f64(p, v); }
    static MINIFLOW_NEON_OP Vec load(const double* p, AllLanes) { return load(p); }
    static MINIFLOW_NEON_OP void store(double* p, Vec v, AllLanes) { store(p, v); }
    static MINIFLOW_NEON_OP Vec load(const double* p, AllLanesStreamed) { return load(p); }
    static MINIFLOW_NEON_OP void store(double* p, Vec v, AllLanesStreamed) { store(p, v); }
    static MINIFLOW_NEON_OP Vec load(const double* p, FirstLanes lanes) {
        double part[width] = {};
        std::memcpy(part, p, lanes.count * sizeof(double));
        return load(part);
    }
    static MINIFLOW_NEON_OP void store(double* p, Vec v, FirstLanes lanes) {
        double part[width];
        store(part, v);
        std::memcpy(p, part, lanes.count * sizeof(double));
    }

    static MINIFLOW_NEON_OP Vec zero() { return vdupq_n_f64(0.0); }
    static MINIFLOW_NEON_OP Vec set1(double value) { return vdupq_n_f64(value); }
    static MINIFLOW_NEON_OP Vec broadcast(const double* p) { return vld1q_dup_f64(p); }
    static MINIFLOW_NEON_OP Vec add(Vec a, Vec b) { return vaddq_f64(a, b); }
    static MINIFLOW_NEON_OP Vec sub(Vec a, Vec b) { return vsubq_f64(a, b); }
    static MINIFLOW_NEON_OP Vec mul(Vec a, Vec b) { return vmulq_f64(a, b); }
    static MINIFLOW_NEON_OP Vec div(Vec a, Vec b) { return vdivq_f64(a, b); }
    static MINIFLOW_NEON_OP Vec mul_rounded(Vec a, Vec b) {
        Vec product = mul(a, b);
        MINIFLOW_KEEP_ROUNDED(product);
        return product;
    }
    static MINIFLOW_NEON_OP Vec fmadd(Vec a, Vec b, Vec c) { return vfmaq_f64(c, a, b); }
    static MINIFLOW_NEON_OP Vec fnmadd(Vec a, Vec b, Vec c) { return vfmsq_f64(c, a, b); }
    template <int lane>
    static MINIFLOW_NEON_OP Vec fmadd_lane(Vec sum, Vec b, Vec a) {
        return vfmaq_laneq_f64(sum, b, a, lane);
    }
    static MINIFLOW_NEON_OP Vec min(Vec a, Vec b) { return vbslq_f64(vcltq_f64(a, b), a, b); }
    static MINIFLOW_NEON_OP Vec max(Vec a, Vec b) { return vbslq_f64(vcgtq_f64(a, b), a, b); }
    static MINIFLOW_NEON_OP Vec floor(Vec a) { return vrndmq_f64(a); }
    static MINIFLOW_NEON_OP Vec negate(Vec a) { return vnegq_f64(a); }
    static MINIFLOW_NEON_OP Vec abs(Vec a) { return vabsq_f64(a); }
    static MINIFLOW_NEON_OP Vec negative_abs(Vec a) { return vnegq_f64(vabsq_f64(a)); }

    static MINIFLOW_NEON_OP Mask greater(Vec a, Vec b) { return vcgtq_f64(a, b); }
    static MINIFLOW_NEON_OP Mask greater_equal(Vec a, Vec b) { return vcgeq_f64(a, b); }
    static MINIFLOW_NEON_OP bool any(Mask m) { return vmaxvq_u32(vreinterpretq_u32_u64(m)) != 0; }
    static MINIFLOW_NEON_OP Vec select(Mask m, Vec if_true, Vec if_false) {
        return vbslq_f64(m, if_true, if_false);
    }

    // 2^n from `shifted` = n + 1.5 * 2^52, whose low mantissa bits hold n; n + 1023 in [1, 2046].
    static MINIFLOW_NEON_OP Vec pow2_from_shifted(Vec shifted) {
        const int64x2_t biased = vaddq_s64(vreinterpretq_s64_f64(shifted), vdupq_n_s64(1023));
        return vreinterpretq_f64_s64(vshlq_n_s64(biased, 52));
    }

    // Two doubles per vector make a table lookup cost more than it saves: exp uses no table
    // (as AVX2 double does), and `fraction` is 1.
    static constexpr int exp_table_bits = 0;
    static MINIFLOW_NEON_OP Vec add_to_exponent(Vec fraction, Vec shifted) {
        const int64x2_t m = vshlq_n_s64(vreinterpretq_s64_f64(shifted), 52);
        return vreinterpretq_f64_s64(vaddq_s64(vreinterpretq_s64_f64(fraction), m));
    }

    struct SquareSum {
        float64x2_t sum;
    };
    static MINIFLOW_NEON_OP SquareSum no_squares() { return {vdupq_n_f64(0.0)}; }
    static MINIFLOW_NEON_OP void add_squares(SquareSum& sum, Vec v) {
        sum.sum = vfmaq_f64(sum.sum, v, v);
    }
    static MINIFLOW_NEON_OP double total(const SquareSum& sum) { return vaddvq_f64(sum.sum); }
};

}  // namespace miniflow::detail

#endif  // MINIFLOW_ARM64
