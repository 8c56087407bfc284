// tanh_forward and tanh_backward: the public functions and the kernels of every instruction set
// this CPU has, against std::tanh and hand values, near 0 (where 1 - 2 / (e^2x + 1) would lose
// accuracy), around the switch between the two formulas, at large |x|, +-inf, NaN and -0, every
// tail length, aliasing, accumulation, thread counts and argument errors.
#include <gtest/gtest.h>

#include <cmath>
#include <cstddef>
#include <limits>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include "elementwise/tanh_constants.hpp"
#include "elementwise_testing.hpp"
#include "miniflow/tanh.hpp"

namespace {

using elementwise_testing::alignment_offsets;
using elementwise_testing::awkward_sizes;
using elementwise_testing::evenly_spaced;
using elementwise_testing::GuardedBuffer;
using elementwise_testing::kernels;
using elementwise_testing::OffsetBuffer;
using elementwise_testing::random_values;
using elementwise_testing::supported_isas;
using elementwise_testing::ulp_distance;
using miniflow::isa_name;

template <typename T>
class Tanh : public ::testing::Test {};
using Precisions = ::testing::Types<float, double>;
TYPED_TEST_SUITE(Tanh, Precisions);

// The vector kernels' promise; the generic kernel is std::tanh itself.
constexpr std::int64_t max_ulps = 3;

// Every value of `x` through every instruction set's kernel, within max_ulps of std::tanh.
template <typename T>
void expect_close_to_std_tanh(const std::vector<T>& x) {
    for (auto isa : supported_isas()) {
        SCOPED_TRACE(isa_name(isa));
        std::vector<T> y(x.size());
        kernels<T>(isa).tanh_forward(x.data(), y.data(), x.size());
        for (std::size_t i = 0; i < x.size(); ++i) {
            ASSERT_LE(ulp_distance(y[i], std::tanh(x[i])), max_ulps)
                << "tanh(" << x[i] << ") = " << y[i] << ", std::tanh gives " << std::tanh(x[i]);
        }
    }
}

TYPED_TEST(Tanh, HandValuesAndSpecialInputs) {
    using T = TypeParam;
    using limits = std::numeric_limits<T>;
    struct Case {
        T x;
        T expected;
    };
    const std::vector<Case> cases = {
        {T(0.5), T(0.46211715726000975850)},
        {T(-1), T(-0.76159415595576488812)},
        {T(2), T(0.96402758007581688395)},
        {T(30), T(1)},
        {T(-1000), T(-1)},
        {limits::max(), T(1)},
        {limits::lowest(), T(-1)},
        {limits::infinity(), T(1)},
        {-limits::infinity(), T(-1)},
        {limits::denorm_min(), limits::denorm_min()},
        {-limits::min(), -limits::min()},
    };
    for (auto isa : supported_isas()) {
        SCOPED_TRACE(isa_name(isa));
        const auto& kernel = kernels<T>(isa);
        for (const auto& c : cases) {
            T y = T(0);
            kernel.tanh_forward(&c.x, &y, 1);
            EXPECT_LE(ulp_distance(y, c.expected), 1) << "tanh(" << c.x << ") = " << y;
        }
        const T zeros[2] = {T(0), -T(0)};
        T y[2] = {T(1), T(1)};
        kernel.tanh_forward(zeros, y, 2);
        EXPECT_EQ(y[0], T(0));
        EXPECT_FALSE(std::signbit(y[0]));
        EXPECT_EQ(y[1], T(0));
        EXPECT_TRUE(std::signbit(y[1])) << "tanh(-0) must be -0";
        const T nan = limits::quiet_NaN();
        T y_nan = T(0);
        kernel.tanh_forward(&nan, &y_nan, 1);
        EXPECT_TRUE(std::isnan(y_nan));
    }
}

TYPED_TEST(Tanh, CloseToStdTanhFromZeroToWhereItIsOne) {
    using T = TypeParam;
    expect_close_to_std_tanh(evenly_spaced(T(-25), T(25), 100001));
}

// Near 0 the result must keep its relative accuracy: tiny, subnormal and in-between values.
TYPED_TEST(Tanh, CloseToStdTanhNearZero) {
    using T = TypeParam;
    std::vector<T> x = evenly_spaced(T(-1), T(1), 20001);
    for (T v = std::numeric_limits<T>::denorm_min(); v < T(0.1); v *= T(3)) {
        x.push_back(v);
        x.push_back(-v);
    }
    expect_close_to_std_tanh(x);
}

// Either side of the switch from the odd polynomial to 1 - 2 / (e^2|x| + 1), value by value.
TYPED_TEST(Tanh, CloseToStdTanhAroundTheSwitchOfFormulas) {
    using T = TypeParam;
    const T limit = miniflow::detail::TanhPolynomial<T>::odd_limit;
    std::vector<T> x;
    T below = limit;
    T above = limit;
    for (int i = 0; i < 2000; ++i) {
        below = std::nextafter(below, T(0));
        x.insert(x.end(), {below, -below, above, -above});
        above = std::nextafter(above, T(1));
    }
    expect_close_to_std_tanh(x);
}

TYPED_TEST(Tanh, ForwardEveryTailLengthAlignmentAndInPlace) {
    using T = TypeParam;
    for (auto isa : supported_isas()) {
        SCOPED_TRACE(isa_name(isa));
        const auto& kernel = kernels<T>(isa);
        for (std::size_t n : awkward_sizes) {
            SCOPED_TRACE(n);
            const auto x = random_values<T>(n, 2.0, 31);
            GuardedBuffer<T> y(n);
            kernel.tanh_forward(x.data(), y.data(), n);
            GuardedBuffer<T> in_place(x);
            kernel.tanh_forward(in_place.data(), in_place.data(), n);
            for (std::size_t i = 0; i < n; ++i) {
                EXPECT_LE(ulp_distance(y[i], std::tanh(x[i])), max_ulps) << "at " << i;
                EXPECT_EQ(in_place[i], y[i]) << "at " << i;
            }
            EXPECT_TRUE(y.guard_intact());
            EXPECT_TRUE(in_place.guard_intact());
            for (std::size_t offset : alignment_offsets) {
                OffsetBuffer<T> shifted(n, offset);
                kernel.tanh_forward(x.data(), shifted.data(), n);
                for (std::size_t i = 0; i < n; ++i) EXPECT_EQ(shifted[i], y[i]) << offset;
            }
        }
    }
}

// Every instruction set computes (1 - t * t) * grad in the same order, so the bits agree.
TYPED_TEST(Tanh, BackwardIsExactAtEveryTailLengthWithAndWithoutAccumulate) {
    using T = TypeParam;
    for (auto isa : supported_isas()) {
        SCOPED_TRACE(isa_name(isa));
        for (std::size_t n : awkward_sizes) {
            SCOPED_TRACE(n);
            auto t = random_values<T>(n, 1.0, 32);
            for (auto& v : t) v = std::tanh(v);
            const auto grad = random_values<T>(n, 2.0, 33);
            const auto before = random_values<T>(n, 1.0, 34);
            for (bool accumulate : {false, true}) {
                SCOPED_TRACE(accumulate ? "accumulate" : "overwrite");
                GuardedBuffer<T> grad_x(before);
                kernels<T>(isa).tanh_backward(t.data(), grad.data(), grad_x.data(), n, accumulate);
                for (std::size_t i = 0; i < n; ++i) {
                    const T local = (T(1) - t[i] * t[i]) * grad[i];
                    EXPECT_EQ(grad_x[i], accumulate ? before[i] + local : local) << "at " << i;
                }
                EXPECT_TRUE(grad_x.guard_intact());
            }
        }
    }
}

TYPED_TEST(Tanh, BackwardMatchesCentralFiniteDifferences) {
    using T = TypeParam;
    const std::vector<T> x = {T(-4), T(-1), T(-0.3), T(0), T(0.01), T(0.54), T(0.56), T(2.5)};
    const std::vector<T> grad = {T(1), T(-2), T(0.5), T(3), T(1), T(-1), T(2), T(1)};
    const T epsilon = std::numeric_limits<T>::epsilon();
    for (auto isa : supported_isas()) {
        SCOPED_TRACE(isa_name(isa));
        std::vector<T> t(x.size()), grad_x(x.size());
        kernels<T>(isa).tanh_forward(x.data(), t.data(), x.size());
        kernels<T>(isa).tanh_backward(t.data(), grad.data(), grad_x.data(), x.size(), false);
        const double h = 1e-5;
        for (std::size_t i = 0; i < x.size(); ++i) {
            const double xi = static_cast<double>(x[i]);
            const double numeric =
                (std::tanh(xi + h) - std::tanh(xi - h)) / (2 * h) * static_cast<double>(grad[i]);
            EXPECT_NEAR(static_cast<double>(grad_x[i]), numeric, 1e-9 + 16 * epsilon)
                << "at x = " << x[i];
        }
    }
}

TYPED_TEST(Tanh, PublicFunctionsOnEveryThreadCountMatchOneKernelCall) {
    using T = TypeParam;
    const auto& best = kernels<T>(miniflow::best_isa());
    elementwise_testing::expect_thread_count_free<T>(miniflow::tanh_forward<T>,
                                                     miniflow::tanh_backward<T>, best.tanh_forward,
                                                     best.tanh_backward, 2.0, 35);
    // without accumulate, every thread count overwrites grad_x with (1 - t * t) * grad
    const std::size_t n = (std::size_t{1} << 18) + 37;
    auto t = random_values<T>(n, 2.0, 35);
    const auto grad = random_values<T>(n, 1.0, 36);
    miniflow::tanh_forward(t.data(), t.data(), n);
    elementwise_testing::on_every_thread_count([&](int) {
        std::vector<T> overwritten(n, T(7));
        miniflow::tanh_backward(t.data(), grad.data(), overwritten.data(), n, false);
        for (std::size_t i = 0; i < n; i += 4099) {
            EXPECT_EQ(overwritten[i], (T(1) - t[i] * t[i]) * grad[i]) << "at " << i;
        }
    });
}

TYPED_TEST(Tanh, NullBuffersAreRejectedWithTheirSize) {
    using T = TypeParam;
    std::vector<T> buffer(3, T(0.5));
    T* data = buffer.data();
    using elementwise_testing::expect_invalid_argument;
    expect_invalid_argument([&] { miniflow::tanh_forward<T>(nullptr, data, 3); },
                            {"tanh_forward: x is null", "3 elements"});
    expect_invalid_argument([&] { miniflow::tanh_forward<T>(data, nullptr, 3); },
                            {"tanh_forward: y is null", "3 elements"});
    expect_invalid_argument([&] { miniflow::tanh_backward<T>(nullptr, data, data, 3, false); },
                            {"tanh_backward: t is null", "3 elements"});
    expect_invalid_argument([&] { miniflow::tanh_backward<T>(data, nullptr, data, 3, false); },
                            {"tanh_backward: grad is null", "3 elements"});
    expect_invalid_argument([&] { miniflow::tanh_backward<T>(data, data, nullptr, 3, true); },
                            {"tanh_backward: grad_x is null", "3 elements"});
    EXPECT_NO_THROW(miniflow::tanh_forward<T>(nullptr, nullptr, 0));
    EXPECT_NO_THROW(miniflow::tanh_backward<T>(nullptr, nullptr, nullptr, 0, true));
}

}  // namespace
