// The Tanh node's functions on contiguous buffers of n elements. Both throw std::invalid_argument
// for a null buffer of nonzero size.
#pragma once

#include <cstddef>
#include <stdexcept>

namespace miniflow {

// y = tanh(x), within 3 ulp of std::tanh (2 of the exact tanh, as measured): exactly +-1 from
// where tanh rounds to it and at +-inf, -0 stays -0, NaN in gives NaN out. x and y may be the
// same buffer.
template <typename T>
void tanh_forward(const T* x, T* y, std::size_t n);

// grad_x = (1 - t * t) * grad (or += with accumulate), where t is the forward output.
template <typename T>
void tanh_backward(const T* t, const T* grad, T* grad_x, std::size_t n, bool accumulate);

}  // namespace miniflow
