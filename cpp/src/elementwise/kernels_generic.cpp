// The portable elementwise kernels: plain loops for any CPU, with std::exp and std::tanh.
#include <cmath>
#include <cstddef>

#include "kernel_tables.hpp"

namespace miniflow::detail {

namespace {

// exp of a non-positive number never overflows, so each branch is safe for any finite x.
template <typename T>
T stable_sigmoid(T x) {
    if (x >= T(0)) return T(1) / (T(1) + std::exp(-x));
    const T e = std::exp(x);
    return e / (T(1) + e);  // also the NaN path: NaN >= 0 is false and exp(NaN) is NaN
}

// -0 gives +0 and NaN stays NaN (it compares false), as the vector kernels.
template <typename T>
T relu(T x) {
    return x <= T(0) ? T(0) : x;
}

template <typename T>
T exp_of(T x) {
    return std::exp(x);
}

template <typename T>
T tanh_of(T x) {
    return std::tanh(x);
}

// y = f(x) elementwise; x and y may be the same buffer.
template <typename T, T (*function)(T)>
void map_kernel(const T* x, T* y, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) y[i] = function(x[i]);
}

// The local gradient times grad, from the forward output, in the order the vector kernels use.
template <typename T>
T sigmoid_gradient(T s, T grad) {
    return s * (T(1) - s) * grad;
}

template <typename T>
T tanh_gradient(T t, T grad) {
    return (T(1) - t * t) * grad;
}

template <typename T>
T relu_gradient(T y, T grad) {
    return y > T(0) ? grad : T(0);
}

template <typename T, T (*gradient)(T, T)>
void backward_kernel(const T* out, const T* grad, T* grad_x, std::size_t n, bool accumulate) {
    for (std::size_t i = 0; i < n; ++i) {
        const T local = gradient(out[i], grad[i]);
        grad_x[i] = accumulate ? grad_x[i] + local : local;
    }
}

template <typename T>
double mse_forward_kernel(const T* y, const T* a, T* diff, std::size_t n) {
    double sum = 0.0;
    for (std::size_t i = 0; i < n; ++i) {
        diff[i] = y[i] - a[i];
        sum += static_cast<double>(diff[i]) * static_cast<double>(diff[i]);
    }
    return sum;
}

template <typename T>
void mse_backward_kernel(const T* diff, std::size_t n, T scale, T* grad_y, T* grad_a,
                         bool accumulate) {
    for (std::size_t i = 0; i < n; ++i) {
        const T g = scale * diff[i];
        if (grad_y != nullptr) grad_y[i] = accumulate ? grad_y[i] + g : g;
        if (grad_a != nullptr) grad_a[i] = accumulate ? grad_a[i] - g : -g;
    }
}

template <typename T>
void sgd_update_kernel(T* value, const T* grad, std::size_t n, T learning_rate) {
    for (std::size_t i = 0; i < n; ++i) value[i] -= learning_rate * grad[i];
}

}  // namespace

template <typename T>
const ElementwiseKernels<T>& ElementwiseKernelsByIsa<T>::generic() {
    static constexpr ElementwiseKernels<T> table{
        &map_kernel<T, exp_of<T>>,
        &map_kernel<T, stable_sigmoid<T>>,
        &backward_kernel<T, sigmoid_gradient<T>>,
        &map_kernel<T, tanh_of<T>>,
        &backward_kernel<T, tanh_gradient<T>>,
        &map_kernel<T, relu<T>>,
        &backward_kernel<T, relu_gradient<T>>,
        &mse_forward_kernel<T>,
        &mse_backward_kernel<T>,
        &sgd_update_kernel<T>,
    };
    return table;
}

template const ElementwiseKernels<float>& ElementwiseKernelsByIsa<float>::generic();
template const ElementwiseKernels<double>& ElementwiseKernelsByIsa<double>::generic();

}  // namespace miniflow::detail
