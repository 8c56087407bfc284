// relu_forward and relu_backward: the public functions and the kernels of every instruction set
// this CPU has, against hand values and the scalar definition, with -0, NaN, infinities, the
// derivative at 0, every tail length and alignment, aliasing, accumulation, thread counts and
// argument errors.
#include <gtest/gtest.h>

#include <cmath>
#include <cstddef>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include "elementwise_testing.hpp"
#include "miniflow/relu.hpp"

namespace {

using elementwise_testing::alignment_offsets;
using elementwise_testing::awkward_sizes;
using elementwise_testing::GuardedBuffer;
using elementwise_testing::kernels;
using elementwise_testing::OffsetBuffer;
using elementwise_testing::random_values;
using elementwise_testing::supported_isas;
using miniflow::isa_name;

template <typename T>
class Relu : public ::testing::Test {};
using Precisions = ::testing::Types<float, double>;
TYPED_TEST_SUITE(Relu, Precisions);

// The same bits, NaN included (NaN == NaN is false).
template <typename T>
bool same_value(T a, T b) {
    return (std::isnan(a) && std::isnan(b)) || (a == b && std::signbit(a) == std::signbit(b));
}

TYPED_TEST(Relu, HandValuesSignedZerosNanAndInfinities) {
    using T = TypeParam;
    using limits = std::numeric_limits<T>;
    const std::vector<T> x = {T(3.5),
                              T(-2),
                              T(0),
                              -T(0),
                              limits::denorm_min(),
                              -limits::denorm_min(),
                              limits::infinity(),
                              -limits::infinity(),
                              limits::quiet_NaN(),
                              limits::max(),
                              limits::lowest()};
    const std::vector<T> expected = {T(3.5),
                                     T(0),
                                     T(0),
                                     T(0),
                                     limits::denorm_min(),
                                     T(0),
                                     limits::infinity(),
                                     T(0),
                                     limits::quiet_NaN(),
                                     limits::max(),
                                     T(0)};
    for (auto isa : supported_isas()) {
        SCOPED_TRACE(isa_name(isa));
        std::vector<T> y(x.size(), T(9));
        kernels<T>(isa).relu_forward(x.data(), y.data(), x.size());
        for (std::size_t i = 0; i < x.size(); ++i) {
            EXPECT_TRUE(same_value(y[i], expected[i])) << "relu(" << x[i] << ") = " << y[i];
        }
        EXPECT_FALSE(std::signbit(y[3])) << "relu(-0) is documented as +0";
    }
}

TYPED_TEST(Relu, ForwardEveryTailLengthAlignmentAndInPlace) {
    using T = TypeParam;
    for (auto isa : supported_isas()) {
        SCOPED_TRACE(isa_name(isa));
        const auto& kernel = kernels<T>(isa);
        for (std::size_t n : awkward_sizes) {
            SCOPED_TRACE(n);
            const auto x = random_values<T>(n, 3.0, 41);
            GuardedBuffer<T> in_place(x);
            kernel.relu_forward(in_place.data(), in_place.data(), n);
            for (std::size_t i = 0; i < n; ++i) {
                EXPECT_EQ(in_place[i], x[i] > T(0) ? x[i] : T(0)) << "at " << i;
            }
            EXPECT_TRUE(in_place.guard_intact());
            for (std::size_t offset : alignment_offsets) {
                OffsetBuffer<T> y(n, offset);
                kernel.relu_forward(x.data(), y.data(), n);
                for (std::size_t i = 0; i < n; ++i) EXPECT_EQ(y[i], in_place[i]) << offset;
            }
        }
    }
}

// The derivative at 0 is 0: where y is 0 (or -0, or NaN) nothing passes back.
TYPED_TEST(Relu, BackwardPassesGradientOnlyWhereTheOutputIsPositive) {
    using T = TypeParam;
    using limits = std::numeric_limits<T>;
    const std::vector<T> y = {
        T(2), T(0), -T(0), limits::denorm_min(), limits::quiet_NaN(), limits::infinity()};
    const std::vector<T> grad = {T(1.5), T(4), T(-3), T(-2.5), T(7), T(0.25)};
    const std::vector<T> passed = {T(1.5), T(0), T(0), T(-2.5), T(0), T(0.25)};
    for (auto isa : supported_isas()) {
        SCOPED_TRACE(isa_name(isa));
        std::vector<T> grad_x(y.size(), T(9));
        kernels<T>(isa).relu_backward(y.data(), grad.data(), grad_x.data(), y.size(), false);
        EXPECT_EQ(grad_x, passed);
        std::vector<T> summed(y.size(), T(1));
        kernels<T>(isa).relu_backward(y.data(), grad.data(), summed.data(), y.size(), true);
        for (std::size_t i = 0; i < y.size(); ++i) EXPECT_EQ(summed[i], T(1) + passed[i]);
    }
}

TYPED_TEST(Relu, BackwardIsExactAtEveryTailLengthWithAndWithoutAccumulate) {
    using T = TypeParam;
    for (auto isa : supported_isas()) {
        SCOPED_TRACE(isa_name(isa));
        for (std::size_t n : awkward_sizes) {
            SCOPED_TRACE(n);
            auto y = random_values<T>(n, 1.0, 42);
            for (auto& v : y) v = v > T(0) ? v : T(0);
            const auto grad = random_values<T>(n, 2.0, 43);
            const auto before = random_values<T>(n, 1.0, 44);
            for (bool accumulate : {false, true}) {
                SCOPED_TRACE(accumulate ? "accumulate" : "overwrite");
                GuardedBuffer<T> grad_x(before);
                kernels<T>(isa).relu_backward(y.data(), grad.data(), grad_x.data(), n, accumulate);
                for (std::size_t i = 0; i < n; ++i) {
                    const T local = y[i] > T(0) ? grad[i] : T(0);
                    EXPECT_EQ(grad_x[i], accumulate ? before[i] + local : local) << "at " << i;
                }
                EXPECT_TRUE(grad_x.guard_intact());
            }
        }
    }
}

TYPED_TEST(Relu, PublicFunctionsOnEveryThreadCountMatchOneKernelCall) {
    using T = TypeParam;
    const auto& best = kernels<T>(miniflow::best_isa());
    elementwise_testing::expect_thread_count_free<T>(miniflow::relu_forward<T>,
                                                     miniflow::relu_backward<T>, best.relu_forward,
                                                     best.relu_backward, 2.0, 45);
}

TYPED_TEST(Relu, NullBuffersAreRejectedWithTheirSize) {
    using T = TypeParam;
    std::vector<T> buffer(3, T(0.5));
    T* data = buffer.data();
    using elementwise_testing::expect_invalid_argument;
    expect_invalid_argument([&] { miniflow::relu_forward<T>(nullptr, data, 3); },
                            {"relu_forward: x is null", "3 elements"});
    expect_invalid_argument([&] { miniflow::relu_forward<T>(data, nullptr, 3); },
                            {"relu_forward: y is null", "3 elements"});
    expect_invalid_argument([&] { miniflow::relu_backward<T>(nullptr, data, data, 3, false); },
                            {"relu_backward: y is null", "3 elements"});
    expect_invalid_argument([&] { miniflow::relu_backward<T>(data, nullptr, data, 3, false); },
                            {"relu_backward: grad is null", "3 elements"});
    expect_invalid_argument([&] { miniflow::relu_backward<T>(data, data, nullptr, 3, true); },
                            {"relu_backward: grad_x is null", "3 elements"});
    EXPECT_NO_THROW(miniflow::relu_forward<T>(nullptr, nullptr, 0));
    EXPECT_NO_THROW(miniflow::relu_backward<T>(nullptr, nullptr, nullptr, 0, true));
}

}  // namespace
