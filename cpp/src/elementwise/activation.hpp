// The public activation functions (sigmoid.hpp, tanh.hpp, relu.hpp) in one shape: check the
// buffers, then run the kernel of best_isa() over the threads in blocks (parallel.hpp).
#pragma once

#include <cstddef>

#include "check.hpp"
#include "elementwise/elementwise.hpp"
#include "elementwise/parallel.hpp"
#include "miniflow/cpu.hpp"

namespace miniflow::detail {

template <typename T>
using ForwardKernel = void (*)(const T* x, T* y, std::size_t n);
template <typename T>
using BackwardKernel = void (*)(const T* out, const T* grad, T* grad_x, std::size_t n,
                                bool accumulate);

// y = f(x) by the table's `kernel`; `names` name x and y in error messages.
template <typename T>
void run_forward(ForwardKernel<T> ElementwiseKernels<T>::*kernel, const char* const (&names)[2],
                 const T* x, T* y, std::size_t n) {
    check_buffer(names[0], x, n);
    check_buffer(names[1], y, n);
    const auto run = elementwise_kernels<T>(best_isa()).*kernel;
    for_each_block(n,
                   [&](std::size_t first, std::size_t count) { run(x + first, y + first, count); });
}

// grad_x (+)= f'(out) grad by the table's `kernel`; `names` name out, grad and grad_x.
template <typename T>
void run_backward(BackwardKernel<T> ElementwiseKernels<T>::*kernel, const char* const (&names)[3],
                  const T* out, const T* grad, T* grad_x, std::size_t n, bool accumulate) {
    check_buffer(names[0], out, n);
    check_buffer(names[1], grad, n);
    check_buffer(names[2], grad_x, n);
    const auto run = elementwise_kernels<T>(best_isa()).*kernel;
    for_each_block(n, [&](std::size_t first, std::size_t count) {
        run(out + first, grad + first, grad_x + first, count, accumulate);
    });
}

}  // namespace miniflow::detail
