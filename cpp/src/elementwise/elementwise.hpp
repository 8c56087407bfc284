// The elementwise kernels built for each instruction set, without argument checks.
// The public functions (sigmoid.hpp, tanh.hpp, relu.hpp, mse.hpp, sgd.hpp) check their arguments
// and run the kernels of best_isa(); tests run those of every instruction set the CPU supports.
#pragma once

#include <cstddef>

#include "miniflow/cpu.hpp"

namespace miniflow::detail {

template <typename T>
struct ElementwiseKernels {
    // y = e^x; x and y may be the same buffer.
    void (*exp)(const T* x, T* y, std::size_t n);
    // As sigmoid_forward and sigmoid_backward in sigmoid.hpp.
    void (*sigmoid_forward)(const T* x, T* y, std::size_t n);
    void (*sigmoid_backward)(const T* s, const T* grad, T* grad_x, std::size_t n, bool accumulate);
    // As tanh_forward and tanh_backward in tanh.hpp.
    void (*tanh_forward)(const T* x, T* y, std::size_t n);
    void (*tanh_backward)(const T* t, const T* grad, T* grad_x, std::size_t n, bool accumulate);
    // As relu_forward and relu_backward in relu.hpp.
    void (*relu_forward)(const T* x, T* y, std::size_t n);
    void (*relu_backward)(const T* y, const T* grad, T* grad_x, std::size_t n, bool accumulate);
    // diff = y - a; returns the sum of diff^2, accumulated in double.
    double (*mse_forward)(const T* y, const T* a, T* diff, std::size_t n);
    // grad_y = scale * diff and grad_a = -scale * diff (or += with accumulate; grad_y first, so
    // the two may be one buffer); a null output is skipped.
    void (*mse_backward)(const T* diff, std::size_t n, T scale, T* grad_y, T* grad_a,
                         bool accumulate);
    // value -= learning_rate * grad.
    void (*sgd_update)(T* value, const T* grad, std::size_t n, T learning_rate);
};

// The kernels built for `isa`, which the CPU must support (see isa_supported).
template <typename T>
const ElementwiseKernels<T>& elementwise_kernels(Isa isa);

}  // namespace miniflow::detail
