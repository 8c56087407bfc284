// The Sigmoid node's functions on contiguous buffers of n elements. Both throw
// std::invalid_argument for a null buffer of nonzero size.
#pragma once

#include <cstddef>
#include <stdexcept>

namespace miniflow {

// y = 1 / (1 + exp(-x)), computed without overflow for every finite x, exactly 0.5 at 0,
// NaN in gives NaN out. x and y may be the same buffer.
template <typename T>
void sigmoid_forward(const T* x, T* y, std::size_t n);

// grad_x = s * (1 - s) * grad (or += with accumulate), where s is the forward output.
template <typename T>
void sigmoid_backward(const T* s, const T* grad, T* grad_x, std::size_t n, bool accumulate);

}  // namespace miniflow
