// Constants of the vectorised exp (vector_exp.inc), per precision and table size.
#pragma once

namespace miniflow::detail {

// The range reduction and the limits, per precision.
template <typename T>
struct ExpRange;

template <>
struct ExpRange<double> {
    static constexpr double log2e = 0x1.71547652b82fep+0;
    // ln 2 = ln2_high + ln2_low to about 107 bits; with FMA, x - k ln2 loses nothing that matters.
    static constexpr double ln2_high = 0x1.62e42fefa39efp-1;
    static constexpr double ln2_low = 0x1.abc9e3b39803fp-56;
    // Adding 1.5 * 2^52 rounds to an integer and leaves it in the low mantissa bits.
    static constexpr double shifter = 0x1.8p52;
    // exp overflows above 709.78 and rounds to 0 below -745.13: clamping to just past these
    // bounds keeps the same results and keeps the exponent small.
    static constexpr double clamp_low = -746.0;
    static constexpr double clamp_high = 710.0;
    // Up to here the power of two is a normal number and one scaling suffices.
    static constexpr double one_step_limit = 708.0;
};

template <>
struct ExpRange<float> {
    static constexpr float log2e = 0x1.715476p+0f;
    static constexpr float ln2_high = 0x1.62e430p-1f;
    static constexpr float ln2_low = -0x1.05c610p-29f;
    static constexpr float shifter = 0x1.8p23f;
    // exp overflows above 88.72 and rounds to 0 below -103.97.
    static constexpr float clamp_low = -104.0f;
    static constexpr float clamp_high = 89.0f;
    static constexpr float one_step_limit = 87.0f;
};

// With a table of 2^(j/N), N = 2^table_bits: e^x = 2^m 2^(j/N) e^r, |r| <= ln2 / 2N, and
// e^r - 1 = r P(r). P's coefficients are near-minimax (Chebyshev fits), |r P(r) - (e^r - 1)|
// under 1e-17 in double and 3e-9 in float: about a fiftieth of an ulp of the result.
template <typename T, int table_bits>
struct ExpPolynomial;

// AVX-512 double: an 8-entry table fits one register, so one permute looks it up.
template <>
struct ExpPolynomial<double, 3> {
    static constexpr int degree = 6;
    static constexpr double coefficients[degree + 1] = {
        0x1.0000000000000p+0, 0x1.00000000000a2p-1,  0x1.555555555559dp-3,  0x1.5555554ad2be1p-5,
        0x1.1111110c65418p-7, 0x1.6c1c3928d1669p-10, 0x1.a01eddd492b8ep-13,
    };
    static constexpr double table[8] = {
        0x1.0000000000000p+0, 0x1.172b83c7d517bp+0, 0x1.306fe0a31b715p+0, 0x1.4bfdad5362a27p+0,
        0x1.6a09e667f3bcdp+0, 0x1.8ace5422aa0dbp+0, 0x1.ae89f995ad3adp+0, 0x1.d5818dcfba487p+0,
    };
};

// AVX2 double: no one-instruction lookup, so no table and a longer polynomial.
template <>
struct ExpPolynomial<double, 0> {
    static constexpr int degree = 10;
    static constexpr double coefficients[degree + 1] = {
        0x1.0000000000000p+0,  0x1.0000000000005p-1,  0x1.5555555555557p-3,  0x1.55555555520a4p-5,
        0x1.11111111100dcp-7,  0x1.6c16c17f46982p-10, 0x1.a01a01abe7fe1p-13, 0x1.a019a6611cad5p-16,
        0x1.71de0231960ebp-19, 0x1.28a2ca617b969p-22, 0x1.af4de97ca4194p-26,
    };
};

// AVX-512 float: 16 entries fit one register.
template <>
struct ExpPolynomial<float, 4> {
    static constexpr int degree = 2;
    static constexpr float coefficients[degree + 1] = {0x1.000000p+0f, 0x1.0001ecp-1f,
                                                       0x1.5556e0p-3f};
    static constexpr float table[16] = {
        0x1.000000p+0f, 0x1.0b5586p+0f, 0x1.172b84p+0f, 0x1.2387a6p+0f,
        0x1.306fe0p+0f, 0x1.3dea64p+0f, 0x1.4bfdaep+0f, 0x1.5ab07ep+0f,
        0x1.6a09e6p+0f, 0x1.7a1148p+0f, 0x1.8ace54p+0f, 0x1.9c4918p+0f,
        0x1.ae89fap+0f, 0x1.c199bep+0f, 0x1.d5818ep+0f, 0x1.ea4afap+0f,
    };
};

// AVX2 float: 8 entries fit one register.
template <>
struct ExpPolynomial<float, 3> {
    static constexpr int degree = 3;
    static constexpr float coefficients[degree + 1] = {0x1.000000p+0f, 0x1.000000p-1f,
                                                       0x1.555d88p-3f, 0x1.555acep-5f};
    static constexpr float table[8] = {
        0x1.000000p+0f, 0x1.172b84p+0f, 0x1.306fe0p+0f, 0x1.4bfdaep+0f,
        0x1.6a09e6p+0f, 0x1.8ace54p+0f, 0x1.ae89fap+0f, 0x1.d5818ep+0f,
    };
};

}  // namespace miniflow::detail
