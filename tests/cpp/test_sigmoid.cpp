// sigmoid_forward and sigmoid_backward: the public functions and the kernels of every instruction
// set this CPU has, against hand-computed values, a long double reference, central finite
// differences, extreme inputs, every tail length, aliasing, accumulation and argument errors.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include "elementwise_testing.hpp"
#include "miniflow/sigmoid.hpp"

namespace {

using elementwise_testing::alignment_offsets;
using elementwise_testing::awkward_sizes;
using elementwise_testing::GuardedBuffer;
using elementwise_testing::kernels;
using elementwise_testing::OffsetBuffer;
using elementwise_testing::random_values;
using elementwise_testing::streamed_size;
using elementwise_testing::supported_isas;
using elementwise_testing::ulp_distance;
using miniflow::isa_name;

template <typename T>
class Sigmoid : public ::testing::Test {};
using Precisions = ::testing::Types<float, double>;
TYPED_TEST_SUITE(Sigmoid, Precisions);

// exp in long double. wasm32's libc (musl) computes expl of its 128-bit long double with double's
// exp, which overflows where the sigmoid is still a subnormal: there, a series of our own.
long double reference_exp(long double x) {
#if defined(__EMSCRIPTEN__)
    const long double ln2 = 0.693147180559945309417232121458176568L;
    const long double k = std::nearbyint(x / ln2);
    const long double r = x - k * ln2;  // |r| <= ln2 / 2: the series converges fast
    long double term = 1.0L;
    long double sum = 1.0L;
    for (int n = 1; n < 40; ++n) {
        term *= r / n;
        sum += term;
    }
    return std::ldexp(sum, static_cast<int>(k));
#else
    return std::exp(x);
#endif
}

template <typename T>
T reference_sigmoid(T x) {
    return static_cast<T>(1.0L / (1.0L + reference_exp(-static_cast<long double>(x))));
}

template <typename T>
T tolerance() {
    return std::is_same_v<T, float> ? T(1e-6) : T(1e-12);
}

TYPED_TEST(Sigmoid, LessonValues) {
    using T = TypeParam;
    const std::vector<T> x = {T(-9), T(4), T(0), -T(0)};
    std::vector<T> y(x.size());
    miniflow::sigmoid_forward(x.data(), y.data(), x.size());
    // The lesson prints 9 significant digits.
    const T digits = std::is_same_v<T, float> ? T(1e-6) : T(1e-8);
    EXPECT_NEAR(y[0], T(1.23394576e-04), T(1.23394576e-04) * digits);
    EXPECT_NEAR(y[1], T(9.82013790e-01), digits);
    EXPECT_EQ(y[2], T(0.5));
    EXPECT_EQ(y[3], T(0.5));
}

TYPED_TEST(Sigmoid, ExtremeInputs) {
    using T = TypeParam;
    using limits = std::numeric_limits<T>;
    struct Case {
        T x;
        T expected;
    };
    const std::vector<Case> cases = {
        {T(1000), T(1)},
        {T(-1000), T(0)},
        {limits::infinity(), T(1)},
        {-limits::infinity(), T(0)},
        {limits::max(), T(1)},
        {limits::lowest(), T(0)},
        {limits::quiet_NaN(), limits::quiet_NaN()},
        {limits::denorm_min(), T(0.5)},
        {-limits::denorm_min(), T(0.5)},
        {limits::min(), T(0.5)},
        {T(-40), reference_sigmoid(T(-40))},
    };
    for (auto isa : supported_isas()) {
        SCOPED_TRACE(isa_name(isa));
        for (const auto& c : cases) {
            T y = T(0);
            kernels<T>(isa).sigmoid_forward(&c.x, &y, 1);
            EXPECT_LE(ulp_distance(y, c.expected), 2) << "sigmoid(" << c.x << ") = " << y;
        }
    }
}

TYPED_TEST(Sigmoid, WithinFourUlpsOfLongDoubleOverTheWholeRange) {
    using T = TypeParam;
    // From where the result is 0 to where it is 1, through the subnormal results.
    const T low = std::log(std::numeric_limits<T>::denorm_min()) - T(1);
    const T high = T(40);
    const auto x = elementwise_testing::evenly_spaced(low, high, 100001);
    for (auto isa : supported_isas()) {
        SCOPED_TRACE(isa_name(isa));
        std::vector<T> y(x.size());
        kernels<T>(isa).sigmoid_forward(x.data(), y.data(), x.size());
        for (std::size_t i = 0; i < x.size(); ++i) {
            ASSERT_LE(ulp_distance(y[i], reference_sigmoid(x[i])), 4)
                << "sigmoid(" << x[i] << ") = " << y[i];
        }
    }
}

TYPED_TEST(Sigmoid, ForwardEveryTailLengthAndInPlace) {
    using T = TypeParam;
    for (auto isa : supported_isas()) {
        SCOPED_TRACE(isa_name(isa));
        for (std::size_t n : awkward_sizes) {
            SCOPED_TRACE(n);
            const auto x = random_values<T>(n, 6.0, 11);
            GuardedBuffer<T> y(n);
            kernels<T>(isa).sigmoid_forward(x.data(), y.data(), n);
            GuardedBuffer<T> in_place(x);
            kernels<T>(isa).sigmoid_forward(in_place.data(), in_place.data(), n);
            for (std::size_t i = 0; i < n; ++i) {
                EXPECT_LE(ulp_distance(y[i], reference_sigmoid(x[i])), 4) << "at " << i;
                EXPECT_EQ(in_place[i], y[i]) << "at " << i;
            }
            EXPECT_TRUE(y.guard_intact());
            EXPECT_TRUE(in_place.guard_intact());
        }
    }
}

// Each kernel peels a masked head to align its output: every head length gives the same bits.
TYPED_TEST(Sigmoid, EveryOutputAlignmentGivesTheSameBits) {
    using T = TypeParam;
    const std::size_t n = 50;
    const auto x = random_values<T>(n, 5.0, 13);
    const auto grad = random_values<T>(n, 1.0, 14);
    for (auto isa : supported_isas()) {
        SCOPED_TRACE(isa_name(isa));
        const auto& kernel = kernels<T>(isa);
        std::vector<T> expected_s(n), expected_grad_x(n);
        kernel.sigmoid_forward(x.data(), expected_s.data(), n);
        kernel.sigmoid_backward(expected_s.data(), grad.data(), expected_grad_x.data(), n, false);
        for (std::size_t offset : alignment_offsets) {
            SCOPED_TRACE(offset);
            OffsetBuffer<T> s(n, offset), grad_x(n, offset);
            kernel.sigmoid_forward(x.data(), s.data(), n);
            kernel.sigmoid_backward(s.data(), grad.data(), grad_x.data(), n, false);
            for (std::size_t i = 0; i < n; ++i) {
                EXPECT_EQ(s[i], expected_s[i]) << "at " << i;
                EXPECT_EQ(grad_x[i], expected_grad_x[i]) << "at " << i;
            }
        }
    }
}

// Outputs from 8 MiB on are written with non-temporal stores: the same bits as pieces that are not.
TYPED_TEST(Sigmoid, StreamedOutputsMatchCachedOnes) {
    using T = TypeParam;
    const std::size_t n = streamed_size<T>;
    const auto x = random_values<T>(n, 5.0, 17);
    const auto grad = random_values<T>(n, 1.0, 18);
    const std::size_t piece = 1000;
    for (auto isa : supported_isas()) {
        SCOPED_TRACE(isa_name(isa));
        const auto& kernel = kernels<T>(isa);
        OffsetBuffer<T> s(n, 3), grad_x(n, 3);
        kernel.sigmoid_forward(x.data(), s.data(), n);
        kernel.sigmoid_backward(s.data(), grad.data(), grad_x.data(), n, false);
        std::vector<T> piece_s(piece), piece_grad_x(piece);
        std::size_t mismatches = 0;
        for (std::size_t start = 0; start < n; start += piece) {
            const std::size_t count = std::min(piece, n - start);
            kernel.sigmoid_forward(x.data() + start, piece_s.data(), count);
            kernel.sigmoid_backward(piece_s.data(), grad.data() + start, piece_grad_x.data(), count,
                                    false);
            for (std::size_t i = 0; i < count; ++i) {
                mismatches += s[start + i] != piece_s[i] || grad_x[start + i] != piece_grad_x[i];
            }
        }
        EXPECT_EQ(mismatches, 0u);
    }
}

TYPED_TEST(Sigmoid, PublicFunctionsMatchTheBestKernels) {
    using T = TypeParam;
    const auto x = random_values<T>(1000, 4.0, 3);
    const auto grad = random_values<T>(1000, 1.0, 4);
    const auto& best = kernels<T>(miniflow::best_isa());
    std::vector<T> y(x.size()), expected_y(x.size());
    miniflow::sigmoid_forward(x.data(), y.data(), x.size());
    best.sigmoid_forward(x.data(), expected_y.data(), x.size());
    EXPECT_EQ(y, expected_y);
    std::vector<T> grad_x(x.size(), T(1)), expected_grad_x(x.size(), T(1));
    miniflow::sigmoid_backward(y.data(), grad.data(), grad_x.data(), x.size(), true);
    best.sigmoid_backward(y.data(), grad.data(), expected_grad_x.data(), x.size(), true);
    EXPECT_EQ(grad_x, expected_grad_x);
}

// Large buffers are shared out to the threads in pieces: the bits of one kernel call whatever
// the thread count, in place too (a size of many pieces and a ragged end).
TYPED_TEST(Sigmoid, PublicFunctionsOnEveryThreadCountMatchOneKernelCall) {
    using T = TypeParam;
    const auto& best = kernels<T>(miniflow::best_isa());
    elementwise_testing::expect_thread_count_free<T>(
        miniflow::sigmoid_forward<T>, miniflow::sigmoid_backward<T>, best.sigmoid_forward,
        best.sigmoid_backward, 6.0, 23);
}

// Every instruction set computes s * (1 - s) * grad in the same order, so the bits agree.
TYPED_TEST(Sigmoid, BackwardIsExactAtEveryTailLengthWithAndWithoutAccumulate) {
    using T = TypeParam;
    for (auto isa : supported_isas()) {
        SCOPED_TRACE(isa_name(isa));
        for (std::size_t n : awkward_sizes) {
            SCOPED_TRACE(n);
            auto s = random_values<T>(n, 1.0, 5);
            for (auto& v : s) v = reference_sigmoid(v);
            const auto grad = random_values<T>(n, 2.0, 6);
            const auto before = random_values<T>(n, 1.0, 8);
            for (bool accumulate : {false, true}) {
                SCOPED_TRACE(accumulate ? "accumulate" : "overwrite");
                GuardedBuffer<T> grad_x(before);
                kernels<T>(isa).sigmoid_backward(s.data(), grad.data(), grad_x.data(), n,
                                                 accumulate);
                for (std::size_t i = 0; i < n; ++i) {
                    const T local = s[i] * (T(1) - s[i]) * grad[i];
                    EXPECT_EQ(grad_x[i], accumulate ? before[i] + local : local) << "at " << i;
                }
                EXPECT_TRUE(grad_x.guard_intact());
            }
        }
    }
}

TYPED_TEST(Sigmoid, BackwardMatchesCentralFiniteDifferences) {
    using T = TypeParam;
    // The derivative is computed in T; the differences in double, which is accurate enough.
    const std::vector<T> x = {T(-9), T(-3), T(-0.5), T(0), T(0.25), T(2), T(4), T(12)};
    const std::vector<T> grad = {T(1), T(-2), T(0.5), T(3), T(1), T(-1), T(2), T(1)};
    for (auto isa : supported_isas()) {
        SCOPED_TRACE(isa_name(isa));
        std::vector<T> s(x.size()), grad_x(x.size());
        kernels<T>(isa).sigmoid_forward(x.data(), s.data(), x.size());
        kernels<T>(isa).sigmoid_backward(s.data(), grad.data(), grad_x.data(), x.size(), false);
        const double h = 1e-5;
        for (std::size_t i = 0; i < x.size(); ++i) {
            const double xi = static_cast<double>(x[i]);
            const std::vector<double> around = {xi + h, xi - h};
            std::vector<double> values(2);
            kernels<double>(isa).sigmoid_forward(around.data(), values.data(), 2);
            const double numeric = (values[0] - values[1]) / (2 * h) * static_cast<double>(grad[i]);
            const double allowed = 1e-9 + 4 * static_cast<double>(tolerance<T>());
            EXPECT_NEAR(static_cast<double>(grad_x[i]), numeric, allowed) << "at x = " << x[i];
        }
    }
}

TYPED_TEST(Sigmoid, NullBuffersAreRejectedWithTheirSize) {
    using T = TypeParam;
    std::vector<T> buffer(3, T(0.5));
    T* data = buffer.data();
    using elementwise_testing::expect_invalid_argument;
    expect_invalid_argument([&] { miniflow::sigmoid_forward<T>(nullptr, data, 3); },
                            {"sigmoid_forward: x is null", "3 elements"});
    expect_invalid_argument([&] { miniflow::sigmoid_forward<T>(data, nullptr, 3); },
                            {"sigmoid_forward: y is null", "3 elements"});
    expect_invalid_argument([&] { miniflow::sigmoid_backward<T>(nullptr, data, data, 3, false); },
                            {"sigmoid_backward: s is null", "3 elements"});
    expect_invalid_argument([&] { miniflow::sigmoid_backward<T>(data, nullptr, data, 3, false); },
                            {"sigmoid_backward: grad is null", "3 elements"});
    expect_invalid_argument([&] { miniflow::sigmoid_backward<T>(data, data, nullptr, 3, true); },
                            {"sigmoid_backward: grad_x is null", "3 elements"});
    // Empty buffers may be null.
    EXPECT_NO_THROW(miniflow::sigmoid_forward<T>(nullptr, nullptr, 0));
    EXPECT_NO_THROW(miniflow::sigmoid_backward<T>(nullptr, nullptr, nullptr, 0, true));
}

}  // namespace
