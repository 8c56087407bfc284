// Helpers shared by the elementwise kernel tests (the activations, MSE, SGD, vectorised exp).
#pragma once

#include <gtest/gtest.h>
#include <algorithm>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <limits>
#include <random>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include "elementwise/elementwise.hpp"
#include "miniflow/cpu.hpp"
#include "miniflow/threads.hpp"

namespace elementwise_testing {

// Every instruction set this CPU can run, generic included: each has its own kernels.
inline std::vector<miniflow::Isa> supported_isas() {
    std::vector<miniflow::Isa> isas;
    for (auto isa : miniflow::built_isas()) {
        if (miniflow::isa_supported(isa)) isas.push_back(isa);
    }
    return isas;
}

template <typename T>
const miniflow::detail::ElementwiseKernels<T>& kernels(miniflow::Isa isa) {
    return miniflow::detail::elementwise_kernels<T>(isa);
}

// Sizes that run every combination of full vectors and masked tails for 4, 8 and 16 lanes.
inline const std::size_t awkward_sizes[] = {0, 1, 7, 15, 16, 17, 63, 65, 1000};

// Element offsets from a 64-byte boundary, so the kernels' masked heads take every length.
inline const std::size_t alignment_offsets[] = {0, 1, 2, 3, 5, 7, 8, 9, 15};

// From 8 MiB on the kernels write their outputs with non-temporal stores; this many elements
// (plus an awkward remainder) run that path.
template <typename T>
constexpr std::size_t streamed_size = (std::size_t{8} << 20) / sizeof(T) + 13;

// A buffer whose data() starts `offset` elements past a 64-byte boundary.
template <typename T>
struct OffsetBuffer {
    std::vector<T> storage;
    std::size_t start;

    OffsetBuffer(std::size_t n, std::size_t offset) : storage(n + offset + 64 / sizeof(T)) {
        const auto address = reinterpret_cast<std::uintptr_t>(storage.data());
        start = (64 - address % 64) % 64 / sizeof(T) + offset;
    }
    T* data() { return storage.data() + start; }
    T& operator[](std::size_t i) { return storage[start + i]; }
};

// Number of representable values between a and b (0 when equal; +inf is one past the largest
// finite value, so an overflow one step early counts as 1). NaN is far from everything but NaN.
template <typename T>
std::int64_t ulp_distance(T a, T b) {
    using Bits = std::conditional_t<sizeof(T) == 4, std::int32_t, std::int64_t>;
    if (std::isnan(a) || std::isnan(b)) {
        return std::isnan(a) && std::isnan(b) ? 0 : std::numeric_limits<std::int64_t>::max();
    }
    // Map the sign-magnitude bit patterns onto a line where consecutive values differ by 1.
    auto ordered = [](T v) {
        Bits bits;
        std::memcpy(&bits, &v, sizeof bits);
        return bits < 0 ? std::int64_t{std::numeric_limits<Bits>::min()} - std::int64_t{bits}
                        : std::int64_t{bits};
    };
    const std::int64_t difference = ordered(a) - ordered(b);
    return difference < 0 ? -difference : difference;
}

// `count` evenly spaced values from low to high.
template <typename T>
std::vector<T> evenly_spaced(T low, T high, std::size_t count) {
    std::vector<T> values(count);
    for (std::size_t i = 0; i < count; ++i) {
        const double fraction = static_cast<double>(i) / static_cast<double>(count - 1);
        values[i] = low + (high - low) * static_cast<T>(fraction);
    }
    return values;
}

// Expects call() to throw std::invalid_argument whose message contains every fragment.
template <typename Call>
void expect_invalid_argument(Call call, std::initializer_list<std::string> fragments) {
    try {
        call();
        ADD_FAILURE() << "no exception, expected one saying " << *fragments.begin();
    } catch (const std::invalid_argument& error) {
        const std::string message = error.what();
        for (const auto& fragment : fragments) {
            EXPECT_NE(message.find(fragment), std::string::npos) << message;
        }
    }
}

// n values drawn from a normal distribution with the given spread.
template <typename T>
std::vector<T> random_values(std::size_t n, double spread, unsigned seed) {
    std::mt19937 rng(seed);
    std::normal_distribution<double> normal(0.0, spread);
    std::vector<T> values(n);
    for (auto& v : values) v = static_cast<T>(normal(rng));
    return values;
}

// A buffer of n elements followed by sentinels, to catch a masked tail writing past the end.
template <typename T>
struct GuardedBuffer {
    static constexpr std::size_t guard = 32;
    static constexpr T sentinel = T(-12345.0);
    std::vector<T> storage;

    explicit GuardedBuffer(std::size_t n, T fill = T(0)) : storage(n + guard, sentinel) {
        std::fill(storage.begin(), storage.end() - guard, fill);
    }
    explicit GuardedBuffer(const std::vector<T>& values) : storage(values) {
        storage.insert(storage.end(), guard, sentinel);
    }
    T* data() { return storage.data(); }
    T& operator[](std::size_t i) { return storage[i]; }
    std::size_t size() const { return storage.size() - guard; }
    bool guard_intact() const {
        for (std::size_t i = size(); i < storage.size(); ++i) {
            if (storage[i] != sentinel) return false;
        }
        return true;
    }
};

// The thread counts the threading tests run, 8 where the machine allows it: one hardware thread
// (or wasm without threads) caps the count at 4.
inline std::vector<int> thread_counts() {
    return {1, 2, 3, std::min(8, miniflow::max_num_threads())};
}

// Runs check(threads) with each of thread_counts() set, then puts the setting back.
template <typename Check>
void on_every_thread_count(Check check) {
    const int threads_before = miniflow::get_num_threads();
    for (int threads : thread_counts()) {
        miniflow::set_num_threads(threads);
        check(threads);
    }
    miniflow::set_num_threads(threads_before);
}

template <typename T>
using Forward = void (*)(const T* x, T* y, std::size_t n);
template <typename T>
using Backward = void (*)(const T* y, const T* grad, T* grad_x, std::size_t n, bool accumulate);

// An activation's public forward (in place) and backward (accumulating) on every thread count
// give the bits of one call of the best instruction set's kernels: large buffers are shared out
// to the threads in pieces (a size of many pieces and a ragged end). x's spread and the seeds
// choose the inputs.
template <typename T>
void expect_thread_count_free(Forward<T> forward, Backward<T> backward, Forward<T> kernel_forward,
                              Backward<T> kernel_backward, double spread, unsigned seed) {
    const std::size_t n = (std::size_t{1} << 18) + 37;
    const auto x = random_values<T>(n, spread, seed);
    const auto grad = random_values<T>(n, 1.0, seed + 1);
    std::vector<T> expected_y(n), expected_grad_x(n, T(0.5));
    kernel_forward(x.data(), expected_y.data(), n);
    kernel_backward(expected_y.data(), grad.data(), expected_grad_x.data(), n, true);
    on_every_thread_count([&](int threads) {
        std::vector<T> y = x;
        forward(y.data(), y.data(), n);
        EXPECT_EQ(y, expected_y) << threads << " threads";
        std::vector<T> grad_x(n, T(0.5));
        backward(y.data(), grad.data(), grad_x.data(), n, true);
        EXPECT_EQ(grad_x, expected_grad_x) << threads << " threads";
    });
}

}  // namespace elementwise_testing
