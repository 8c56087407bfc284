// The ReLU node's functions on contiguous buffers of n elements. Both throw std::invalid_argument
// for a null buffer of nonzero size.
#pragma once

#include <cstddef>
#include <stdexcept>

namespace miniflow {

// y = x > 0 ? x : 0. Exactly: y = (x <= 0 ? +0 : x), so -0 gives +0 and NaN in gives NaN out.
// x and y may be the same buffer.
template <typename T>
void relu_forward(const T* x, T* y, std::size_t n);

// grad_x = (y > 0 ? grad : 0) (or += with accumulate), where y is the forward output. The
// derivative at 0 is taken to be 0: an input that gave y = 0 passes no gradient back.
template <typename T>
void relu_backward(const T* y, const T* grad, T* grad_x, std::size_t n, bool accumulate);

}  // namespace miniflow
