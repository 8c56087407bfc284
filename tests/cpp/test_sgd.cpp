// sgd_update: the public function and the kernels of every instruction set this CPU has, against
// hand-computed values and the scalar formula at every tail length, and its argument errors.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstddef>
#include <stdexcept>
#include <string>
#include <vector>

#include "elementwise_testing.hpp"
#include "miniflow/sgd.hpp"

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
class Sgd : public ::testing::Test {};
using Precisions = ::testing::Types<float, double>;
TYPED_TEST_SUITE(Sgd, Precisions);

TYPED_TEST(Sgd, HandComputedStep) {
    using T = TypeParam;
    std::vector<T> value = {T(1), T(-2), T(3), T(0.5)};
    const std::vector<T> grad = {T(4), T(2), T(-8), T(0)};
    miniflow::sgd_update(value.data(), grad.data(), value.size(), T(0.25));
    EXPECT_EQ(value, (std::vector<T>{T(0), T(-2.5), T(5), T(0.5)}));
}

// No FMA: every instruction set rounds the product and the difference as the scalar code does.
TYPED_TEST(Sgd, ExactAtEveryTailLength) {
    using T = TypeParam;
    const T rate = T(0.01);
    for (auto isa : supported_isas()) {
        SCOPED_TRACE(isa_name(isa));
        for (std::size_t n : awkward_sizes) {
            SCOPED_TRACE(n);
            const auto before = random_values<T>(n, 1.0, 71);
            const auto grad = random_values<T>(n, 5.0, 72);
            GuardedBuffer<T> value(before);
            kernels<T>(isa).sgd_update(value.data(), grad.data(), n, rate);
            for (std::size_t i = 0; i < n; ++i) {
                EXPECT_EQ(value[i], before[i] - rate * grad[i]) << "at " << i;
            }
            EXPECT_TRUE(value.guard_intact());
        }
    }
}

TYPED_TEST(Sgd, ExactAtEveryAlignment) {
    using T = TypeParam;
    const std::size_t n = 50;
    const auto before = random_values<T>(n, 1.0, 73);
    const auto grad = random_values<T>(n, 5.0, 74);
    for (auto isa : supported_isas()) {
        SCOPED_TRACE(isa_name(isa));
        for (std::size_t offset : alignment_offsets) {
            SCOPED_TRACE(offset);
            OffsetBuffer<T> value(n, offset);
            std::copy(before.begin(), before.end(), value.data());
            kernels<T>(isa).sgd_update(value.data(), grad.data(), n, T(0.5));
            for (std::size_t i = 0; i < n; ++i) {
                EXPECT_EQ(value[i], before[i] - T(0.5) * grad[i]) << "at " << i;
            }
        }
    }
}

TYPED_TEST(Sgd, PublicFunctionMatchesTheBestKernel) {
    using T = TypeParam;
    auto value = random_values<T>(1000, 1.0, 81);
    auto expected = value;
    const auto grad = random_values<T>(1000, 1.0, 82);
    miniflow::sgd_update(value.data(), grad.data(), value.size(), T(0.1));
    const auto& best = kernels<T>(miniflow::best_isa());
    best.sgd_update(expected.data(), grad.data(), expected.size(), T(0.1));
    EXPECT_EQ(value, expected);
}

// A large update is shared out to the threads in pieces: the bits of one kernel call whatever
// the thread count (a size of many pieces and a ragged end).
TYPED_TEST(Sgd, PublicFunctionOnEveryThreadCountMatchesOneKernelCall) {
    using T = TypeParam;
    const std::size_t n = (std::size_t{1} << 18) + 37;
    const auto start = random_values<T>(n, 1.0, 83);
    const auto grad = random_values<T>(n, 1.0, 84);
    auto expected = start;
    kernels<T>(miniflow::best_isa()).sgd_update(expected.data(), grad.data(), n, T(0.1));
    elementwise_testing::on_every_thread_count([&](int threads) {
        auto value = start;
        miniflow::sgd_update(value.data(), grad.data(), n, T(0.1));
        EXPECT_EQ(value, expected) << threads << " threads";
    });
}

TYPED_TEST(Sgd, NullBuffersAreRejectedWithTheirSize) {
    using T = TypeParam;
    std::vector<T> buffer(5, T(1));
    using elementwise_testing::expect_invalid_argument;
    expect_invalid_argument([&] { miniflow::sgd_update<T>(nullptr, buffer.data(), 5, T(0.1)); },
                            {"sgd_update: value is null but should hold 5 elements"});
    expect_invalid_argument([&] { miniflow::sgd_update<T>(buffer.data(), nullptr, 5, T(0.1)); },
                            {"sgd_update: grad is null but should hold 5 elements"});
    EXPECT_NO_THROW(miniflow::sgd_update<T>(nullptr, nullptr, 0, T(0.1)));
}

}  // namespace
