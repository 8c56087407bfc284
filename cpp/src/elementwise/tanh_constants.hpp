// Constants of the vectorised tanh (vector_exp.inc), per precision.
#pragma once

namespace miniflow::detail {

// Below `odd_limit`, tanh(x) = x (1 + x^2 P(x^2)): there 1 - 2 / (e^2|x| + 1) would subtract two
// close numbers and lose relative accuracy. From the limit on, tanh(|x|) >= 0.5, so that
// subtraction loses nothing. P interpolates (tanh(x) - x) / x^3 at Chebyshev nodes on
// [0, odd_limit^2]; |x^3 P(x^2) - (tanh(x) - x)| / tanh(x) is under 6e-18 in double and 6e-9 in
// float: a tenth of an ulp of the result or less.
template <typename T>
struct TanhPolynomial;

template <>
struct TanhPolynomial<double> {
    static constexpr double odd_limit = 0.55;
    static constexpr int degree = 10;
    static constexpr double coefficients[degree + 1] = {
        -0x1.5555555555555p-2,  0x1.1111111111032p-3,   -0x1.ba1ba1b9fec84p-5,
        0x1.664f487713373p-6,   -0x1.226e32f00cf0cp-7,  0x1.d6d339333f329p-9,
        -0x1.7d97cfd138c28p-10, 0x1.34c5a8a996cd4p-11,  -0x1.ec1091436eb2ap-13,
        0x1.64fd88e9900a5p-14,  -0x1.59a834187ce22p-16,
    };
};

template <>
struct TanhPolynomial<float> {
    static constexpr float odd_limit = 0.55f;
    static constexpr int degree = 4;
    static constexpr float coefficients[degree + 1] = {
        -0x1.555554p-2f, 0x1.110feap-3f, -0x1.b9a044p-5f, 0x1.5d220ep-6f, -0x1.b13538p-8f,
    };
};

}  // namespace miniflow::detail
