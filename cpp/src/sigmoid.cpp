#include "miniflow/sigmoid.hpp"

#include <cmath>

#include "miniflow/check.hpp"

namespace miniflow {

namespace {

// exp of a non-positive number never overflows, so each branch is safe for any finite x.
template <typename T>
T stable_sigmoid(T x) {
    if (x >= T(0)) return T(1) / (T(1) + std::exp(-x));
    const T e = std::exp(x);
    return e / (T(1) + e);  // also the NaN path: NaN >= 0 is false and exp(NaN) is NaN
}

}  // namespace

template <typename T>
void sigmoid_forward(const T* x, T* y, std::size_t n) {
    check_buffer("sigmoid_forward: x", x, n);
    check_buffer("sigmoid_forward: y", y, n);
    for (std::size_t i = 0; i < n; ++i) y[i] = stable_sigmoid(x[i]);
}

template <typename T>
void sigmoid_backward(const T* s, const T* grad, T* grad_x, std::size_t n, bool accumulate) {
    check_buffer("sigmoid_backward: s", s, n);
    check_buffer("sigmoid_backward: grad", grad, n);
    check_buffer("sigmoid_backward: grad_x", grad_x, n);
    for (std::size_t i = 0; i < n; ++i) {
        const T local = s[i] * (T(1) - s[i]) * grad[i];
        grad_x[i] = accumulate ? grad_x[i] + local : local;
    }
}

template void sigmoid_forward<float>(const float*, float*, std::size_t);
template void sigmoid_forward<double>(const double*, double*, std::size_t);
template void sigmoid_backward<float>(const float*, const float*, float*, std::size_t, bool);
template void sigmoid_backward<double>(const double*, const double*, double*, std::size_t, bool);

}  // namespace miniflow
