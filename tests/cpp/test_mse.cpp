// mse_forward and mse_backward: the public functions and the kernels of every instruction set
// this CPU has, against the lesson's values, a long double reference, central finite
// differences, every tail length, null and aliased outputs, accumulation and argument errors.
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
#include "miniflow/mse.hpp"

namespace {

using elementwise_testing::alignment_offsets;
using elementwise_testing::awkward_sizes;
using elementwise_testing::GuardedBuffer;
using elementwise_testing::kernels;
using elementwise_testing::OffsetBuffer;
using elementwise_testing::random_values;
using elementwise_testing::streamed_size;
using elementwise_testing::supported_isas;
using miniflow::isa_name;

template <typename T>
class Mse : public ::testing::Test {};
using Precisions = ::testing::Types<float, double>;
TYPED_TEST_SUITE(Mse, Precisions);

TYPED_TEST(Mse, LessonValues) {
    using T = TypeParam;
    const std::vector<T> y = {T(1), T(2), T(3)};
    const std::vector<T> a = {T(4.5), T(5), T(10)};
    std::vector<T> diff(3);
    const T cost = miniflow::mse_forward(y.data(), a.data(), diff.data(), 3);
    const T tolerance = std::is_same_v<T, float> ? T(1e-5) : T(1e-10);
    EXPECT_NEAR(cost, T(23.4166666667), tolerance);
    EXPECT_EQ(diff, (std::vector<T>{T(-3.5), T(-3), T(-7)}));

    std::vector<T> grad_y(3), grad_a(3);
    miniflow::mse_backward(diff.data(), grad_y.data(), grad_a.data(), 3, false);
    const std::vector<double> expected_y = {-7.0 / 3, -2.0, -14.0 / 3};
    const double gradient_tolerance = std::is_same_v<T, float> ? 1e-6 : 1e-14;
    for (std::size_t i = 0; i < 3; ++i) {
        EXPECT_NEAR(grad_y[i], expected_y[i], gradient_tolerance);
        EXPECT_NEAR(grad_a[i], -expected_y[i], gradient_tolerance);
    }
}

TYPED_TEST(Mse, ForwardEveryTailLength) {
    using T = TypeParam;
    for (auto isa : supported_isas()) {
        SCOPED_TRACE(isa_name(isa));
        for (std::size_t n : awkward_sizes) {
            SCOPED_TRACE(n);
            const auto y = random_values<T>(n, 3.0, 21);
            const auto a = random_values<T>(n, 3.0, 22);
            GuardedBuffer<T> diff(n);
            const double sum = kernels<T>(isa).mse_forward(y.data(), a.data(), diff.data(), n);
            long double expected = 0;
            for (std::size_t i = 0; i < n; ++i) {
                EXPECT_EQ(diff[i], y[i] - a[i]) << "at " << i;
                expected += static_cast<long double>(diff[i]) * static_cast<long double>(diff[i]);
            }
            EXPECT_NEAR(sum, static_cast<double>(expected), 1e-14 * static_cast<double>(expected));
            EXPECT_TRUE(diff.guard_intact());
        }
    }
}

TYPED_TEST(Mse, ForwardPropagatesInfAndNan) {
    using T = TypeParam;
    using limits = std::numeric_limits<T>;
    for (auto isa : supported_isas()) {
        SCOPED_TRACE(isa_name(isa));
        for (T bad : {limits::infinity(), limits::quiet_NaN()}) {
            std::vector<T> y(20, T(1)), a(20, T(2)), diff(20);
            y[17] = bad;
            const double sum = kernels<T>(isa).mse_forward(y.data(), a.data(), diff.data(), 20);
            EXPECT_TRUE(std::isinf(bad) ? std::isinf(sum) : std::isnan(sum)) << sum;
        }
        // Differences of the largest finite values overflow T, as y - a does in T.
        std::vector<T> y(9, limits::max()), a(9, limits::lowest()), diff(9);
        kernels<T>(isa).mse_forward(y.data(), a.data(), diff.data(), 9);
        EXPECT_EQ(diff[8], limits::infinity());
    }
}

// Which lane sums which element does not depend on where the buffers are: the same bits.
TYPED_TEST(Mse, ForwardSumDoesNotDependOnAlignment) {
    using T = TypeParam;
    const std::size_t n = 301;
    const auto y = random_values<T>(n, 3.0, 23);
    const auto a = random_values<T>(n, 3.0, 24);
    for (auto isa : supported_isas()) {
        SCOPED_TRACE(isa_name(isa));
        std::vector<T> diff(n);
        const double expected = kernels<T>(isa).mse_forward(y.data(), a.data(), diff.data(), n);
        for (std::size_t offset : alignment_offsets) {
            SCOPED_TRACE(offset);
            OffsetBuffer<T> y_at(n, offset), a_at(n, offset), diff_at(n, offset);
            std::copy(y.begin(), y.end(), y_at.data());
            std::copy(a.begin(), a.end(), a_at.data());
            const auto& kernel = kernels<T>(isa);
            EXPECT_EQ(kernel.mse_forward(y_at.data(), a_at.data(), diff_at.data(), n), expected);
        }
    }
}

TYPED_TEST(Mse, PublicForwardIsTheMeanOfTheBestKernel) {
    using T = TypeParam;
    const auto y = random_values<T>(1000, 2.0, 31);
    const auto a = random_values<T>(1000, 2.0, 32);
    std::vector<T> diff(1000), expected_diff(1000);
    const T cost = miniflow::mse_forward(y.data(), a.data(), diff.data(), 1000);
    const auto& best = kernels<T>(miniflow::best_isa());
    const double sum = best.mse_forward(y.data(), a.data(), expected_diff.data(), 1000);
    EXPECT_EQ(cost, static_cast<T>(sum / 1000.0));
    EXPECT_EQ(diff, expected_diff);
}

// grad_y (+)= scale * diff, then grad_a (+)= -scale * diff, as the scalar kernel computes them.
TYPED_TEST(Mse, BackwardIsExactForEveryOutputChoiceAndTailLength) {
    using T = TypeParam;
    for (auto isa : supported_isas()) {
        SCOPED_TRACE(isa_name(isa));
        for (std::size_t n : awkward_sizes) {
            SCOPED_TRACE(n);
            const auto diff = random_values<T>(n, 3.0, 41);
            const auto before_y = random_values<T>(n, 1.0, 42);
            const auto before_a = random_values<T>(n, 1.0, 43);
            const T scale = T(2) / static_cast<T>(n == 0 ? 1 : n);
            for (bool accumulate : {false, true}) {
                for (bool to_y : {false, true}) {
                    for (bool to_a : {false, true}) {
                        SCOPED_TRACE(testing::Message()
                                     << "accumulate " << accumulate << ", grad_y " << to_y
                                     << ", grad_a " << to_a);
                        GuardedBuffer<T> grad_y(before_y), grad_a(before_a);
                        kernels<T>(isa).mse_backward(diff.data(), n, scale,
                                                     to_y ? grad_y.data() : nullptr,
                                                     to_a ? grad_a.data() : nullptr, accumulate);
                        for (std::size_t i = 0; i < n; ++i) {
                            const T g = scale * diff[i];
                            const T updated_y = accumulate ? before_y[i] + g : g;
                            const T updated_a = accumulate ? before_a[i] - g : -g;
                            const T expected_y = to_y ? updated_y : before_y[i];
                            const T expected_a = to_a ? updated_a : before_a[i];
                            EXPECT_EQ(grad_y[i], expected_y) << "at " << i;
                            EXPECT_EQ(grad_a[i], expected_a) << "at " << i;
                        }
                        EXPECT_TRUE(grad_y.guard_intact());
                        EXPECT_TRUE(grad_a.guard_intact());
                    }
                }
            }
        }
    }
}

// MSE(x, x): one buffer receives both gradients in turn, which cancel.
TYPED_TEST(Mse, BackwardAccumulatesBothTermsIntoAliasedOutputs) {
    using T = TypeParam;
    for (auto isa : supported_isas()) {
        SCOPED_TRACE(isa_name(isa));
        for (std::size_t n : awkward_sizes) {
            SCOPED_TRACE(n);
            const auto diff = random_values<T>(n, 3.0, 51);
            const auto before = random_values<T>(n, 1.0, 52);
            const T scale = T(0.25);
            GuardedBuffer<T> grad(before);
            kernels<T>(isa).mse_backward(diff.data(), n, scale, grad.data(), grad.data(), true);
            for (std::size_t i = 0; i < n; ++i) {
                const T g = scale * diff[i];
                EXPECT_EQ(grad[i], (before[i] + g) - g) << "at " << i;
            }
            EXPECT_TRUE(grad.guard_intact());
        }
    }
    std::vector<T> x = {T(1), T(2), T(3)}, diff(3), grad(3, T(0));
    EXPECT_EQ(miniflow::mse_forward(x.data(), x.data(), diff.data(), 3), T(0));
    miniflow::mse_backward(diff.data(), grad.data(), grad.data(), 3, true);
    EXPECT_EQ(grad, (std::vector<T>(3, T(0))));
}

// Large outputs are streamed: in one pass when they share an alignment, else in a pass each;
// aliased accumulating outputs in one cached pass.
TYPED_TEST(Mse, BackwardOfStreamedSizes) {
    using T = TypeParam;
    const std::size_t n = streamed_size<T>;
    const auto diff = random_values<T>(n, 3.0, 53);
    const T scale = T(2) / static_cast<T>(n);
    for (auto isa : supported_isas()) {
        SCOPED_TRACE(isa_name(isa));
        std::size_t mismatches = 0;
        for (std::size_t offset_a : {1U, 6U}) {
            OffsetBuffer<T> grad_y(n, 1), grad_a(n, offset_a);
            kernels<T>(isa).mse_backward(diff.data(), n, scale, grad_y.data(), grad_a.data(),
                                         false);
            for (std::size_t i = 0; i < n; ++i) {
                const T g = scale * diff[i];
                mismatches += grad_y[i] != g || grad_a[i] != -g;
            }
        }
        EXPECT_EQ(mismatches, 0u);
        std::vector<T> grad(n, T(1));
        kernels<T>(isa).mse_backward(diff.data(), n, scale, grad.data(), grad.data(), true);
        for (std::size_t i = 0; i < n; ++i) {
            const T g = scale * diff[i];
            mismatches += grad[i] != (T(1) + g) - g;
        }
        EXPECT_EQ(mismatches, 0u);
    }
}

TEST(MseFiniteDifferences, BackwardMatchesCentralDifferencesOfForward) {
    const auto y = random_values<double>(13, 2.0, 61);
    const auto a = random_values<double>(13, 2.0, 62);
    const std::size_t n = y.size();
    std::vector<double> diff(n), grad_y(n), grad_a(n);
    miniflow::mse_forward(y.data(), a.data(), diff.data(), n);
    miniflow::mse_backward(diff.data(), grad_y.data(), grad_a.data(), n, false);
    const double h = 1e-6;
    for (std::size_t i = 0; i < n; ++i) {
        for (bool along_y : {true, false}) {
            auto plus_y = y, minus_y = y, plus_a = a, minus_a = a;
            (along_y ? plus_y : plus_a)[i] += h;
            (along_y ? minus_y : minus_a)[i] -= h;
            std::vector<double> scratch(n);
            const double up =
                miniflow::mse_forward(plus_y.data(), plus_a.data(), scratch.data(), n);
            const double down =
                miniflow::mse_forward(minus_y.data(), minus_a.data(), scratch.data(), n);
            EXPECT_NEAR((along_y ? grad_y : grad_a)[i], (up - down) / (2 * h), 1e-8)
                << (along_y ? "y" : "a") << "[" << i << "]";
        }
    }
}

TYPED_TEST(Mse, ArgumentErrorsNameTheSizes) {
    using T = TypeParam;
    std::vector<T> buffer(3, T(1));
    T* data = buffer.data();
    using elementwise_testing::expect_invalid_argument;
    expect_invalid_argument([&] { miniflow::mse_forward<T>(data, data, data, 0); },
                            {"mse_forward: n is 0"});
    expect_invalid_argument([&] { miniflow::mse_backward<T>(data, data, data, 0, false); },
                            {"mse_backward: n is 0"});
    expect_invalid_argument([&] { miniflow::mse_forward<T>(nullptr, data, data, 3); },
                            {"mse_forward: y is null but should hold 3 elements"});
    expect_invalid_argument([&] { miniflow::mse_forward<T>(data, nullptr, data, 3); },
                            {"mse_forward: a is null but should hold 3 elements"});
    expect_invalid_argument([&] { miniflow::mse_forward<T>(data, data, nullptr, 3); },
                            {"mse_forward: diff is null but should hold 3 elements"});
    expect_invalid_argument([&] { miniflow::mse_backward<T>(nullptr, data, data, 3, false); },
                            {"mse_backward: diff is null but should hold 3 elements"});
    // Null outputs are skipped, not errors.
    EXPECT_NO_THROW(miniflow::mse_backward<T>(data, nullptr, nullptr, 3, false));
}

}  // namespace
