// The vectorised exp of every instruction set this CPU has (and the generic std::exp path):
// ulp error against std::exp over the whole range, overflow, underflow, NaN, and every tail.
#include <gtest/gtest.h>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <vector>

#include "elementwise_testing.hpp"

namespace {

using elementwise_testing::awkward_sizes;
using elementwise_testing::GuardedBuffer;
using elementwise_testing::kernels;
using elementwise_testing::OffsetBuffer;
using elementwise_testing::streamed_size;
using elementwise_testing::supported_isas;
using elementwise_testing::ulp_distance;
using miniflow::isa_name;

template <typename T>
class VectorExp : public ::testing::Test {};
using Precisions = ::testing::Types<float, double>;
TYPED_TEST_SUITE(VectorExp, Precisions);

// Every one of `count` evenly spaced points of [low, high] within 2 ulp of std::exp.
template <typename T>
void expect_close_to_std_exp(miniflow::Isa isa, T low, T high, std::size_t count) {
    const auto x = elementwise_testing::evenly_spaced(low, high, count);
    std::vector<T> y(count);
    kernels<T>(isa).exp(x.data(), y.data(), count);
    for (std::size_t i = 0; i < count; ++i) {
        EXPECT_LE(ulp_distance(y[i], std::exp(x[i])), 2)
            << "exp(" << x[i] << ") = " << y[i] << ", std::exp gives " << std::exp(x[i]);
    }
}

TYPED_TEST(VectorExp, WithinTwoUlpsOfStdExpOverTheWholeRange) {
    using T = TypeParam;
    // The result is 0 below `lowest` and inf above `highest`.
    const T lowest = std::log(std::numeric_limits<T>::denorm_min()) - T(1);
    const T highest = std::log(std::numeric_limits<T>::max()) + T(1);
    for (auto isa : supported_isas()) {
        SCOPED_TRACE(isa_name(isa));
        expect_close_to_std_exp<T>(isa, lowest, highest, 200001);
        // Near 0, where the reduction leaves r = x, and across the underflow and overflow edges.
        expect_close_to_std_exp<T>(isa, T(-1), T(1), 20001);
        expect_close_to_std_exp<T>(isa, lowest, lowest + T(30), 20001);
        expect_close_to_std_exp<T>(isa, highest - T(3), highest, 20001);
    }
}

TYPED_TEST(VectorExp, SpecialValuesAreExact) {
    using T = TypeParam;
    using limits = std::numeric_limits<T>;
    struct Case {
        T x;
        T expected;
    };
    const std::vector<Case> cases = {
        {T(0), T(1)},
        {-T(0), T(1)},
        {limits::infinity(), limits::infinity()},
        {-limits::infinity(), T(0)},
        {T(1000), limits::infinity()},
        {T(-1000), T(0)},
        {limits::max(), limits::infinity()},
        {limits::lowest(), T(0)},
        {limits::denorm_min(), T(1)},
        {-limits::denorm_min(), T(1)},
        {limits::min(), T(1)},
        {limits::quiet_NaN(), limits::quiet_NaN()},
    };
    for (auto isa : supported_isas()) {
        SCOPED_TRACE(isa_name(isa));
        for (const auto& c : cases) {
            T y = T(-1);
            kernels<T>(isa).exp(&c.x, &y, 1);
            EXPECT_EQ(ulp_distance(y, c.expected), 0) << "exp(" << c.x << ") = " << y;
            EXPECT_FALSE(std::signbit(y)) << "exp(" << c.x << ") = " << y;
        }
    }
}

TYPED_TEST(VectorExp, EveryTailLengthAndInPlace) {
    using T = TypeParam;
    for (auto isa : supported_isas()) {
        SCOPED_TRACE(isa_name(isa));
        for (std::size_t n : awkward_sizes) {
            SCOPED_TRACE(n);
            const auto x = elementwise_testing::random_values<T>(n, 5.0, 7);
            GuardedBuffer<T> y(n);
            kernels<T>(isa).exp(x.data(), y.data(), n);
            GuardedBuffer<T> in_place(x);
            kernels<T>(isa).exp(in_place.data(), in_place.data(), n);
            for (std::size_t i = 0; i < n; ++i) {
                EXPECT_LE(ulp_distance(y[i], std::exp(x[i])), 2) << "at " << i;
                EXPECT_EQ(in_place[i], y[i]) << "at " << i;
            }
            EXPECT_TRUE(y.guard_intact());
            EXPECT_TRUE(in_place.guard_intact());
        }
    }
}

// Outputs from 8 MiB on are written with non-temporal stores, not in place: the same bits.
TYPED_TEST(VectorExp, StreamedOutputMatchesInPlace) {
    using T = TypeParam;
    const std::size_t n = streamed_size<T>;
    const auto x = elementwise_testing::random_values<T>(n, 20.0, 9);
    for (auto isa : supported_isas()) {
        SCOPED_TRACE(isa_name(isa));
        OffsetBuffer<T> y(n, 5);
        kernels<T>(isa).exp(x.data(), y.data(), n);
        auto in_place = x;
        kernels<T>(isa).exp(in_place.data(), in_place.data(), n);
        std::size_t mismatches = 0;
        for (std::size_t i = 0; i < n; ++i) mismatches += ulp_distance(y[i], in_place[i]) != 0;
        EXPECT_EQ(mismatches, 0u);
    }
}

}  // namespace
