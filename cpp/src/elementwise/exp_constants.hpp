// Constants of the vectorised exp (vector_exp.inc), per precision.
#pragma once

namespace miniflow::detail {

template <typename T>
struct ExpConstants;

template <>
struct ExpConstants<double> {
    static constexpr double log2e = 0x1.71547652b82fep+0;
    // ln 2 = ln2_high + ln2_low to about 107 bits; with FMA, x - n * ln2 loses nothing for |n| <= 1076.
    static constexpr double ln2_high = 0x1.62e42fefa39efp-1;
    static constexpr double ln2_low = 0x1.abc9e3b39803fp-56;
    // Adding 1.5 * 2^52 rounds to an integer and leaves it in the low mantissa bits.
    static constexpr double shifter = 0x1.8p52;
    // exp overflows above 709.78 and rounds to 0 below -745.13: clamping to just past these
    // bounds keeps the same results and keeps n in range.
    static constexpr double clamp_low = -746.0;
    static constexpr double clamp_high = 710.0;
    // Up to here |n| <= 1021, so 2^n is a normal number and one scaling suffices.
    static constexpr double one_step_limit = 708.0;
    // Taylor coefficients 1/k! of e^r: on |r| <= ln2/2 the degree-13 remainder is below 1e-17.
    static constexpr int degree = 13;
    static constexpr double coefficients[degree + 1] = {
        1.0,
        1.0,
        1.0 / 2,
        1.0 / 6,
        1.0 / 24,
        1.0 / 120,
        1.0 / 720,
        1.0 / 5040,
        1.0 / 40320,
        1.0 / 362880,
        1.0 / 3628800,
        1.0 / 39916800,
        1.0 / 479001600,
        1.0 / 6227020800,
    };
};

template <>
struct ExpConstants<float> {
    static constexpr float log2e = 0x1.715476p+0f;
    static constexpr float ln2_high = 0x1.62e430p-1f;
    static constexpr float ln2_low = -0x1.05c610p-29f;
    static constexpr float shifter = 0x1.8p23f;
    // exp overflows above 88.72 and rounds to 0 below -103.97.
    static constexpr float clamp_low = -104.0f;
    static constexpr float clamp_high = 89.0f;
    // Up to here |n| <= 126.
    static constexpr float one_step_limit = 87.0f;
    // On |r| <= ln2/2 the degree-7 Taylor remainder is below 6e-9, a twentieth of an ulp.
    static constexpr int degree = 7;
    static constexpr float coefficients[degree + 1] = {
        1.0f, 1.0f, 1.0f / 2, 1.0f / 6, 1.0f / 24, 1.0f / 120, 1.0f / 720, 1.0f / 5040,
    };
};

}  // namespace miniflow::detail
