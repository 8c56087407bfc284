// The MSE node's functions on contiguous buffers of n elements. Both throw std::invalid_argument
// when n is 0 or a buffer that must be read or written is null.
#pragma once

#include <cstddef>
#include <stdexcept>

#include "miniflow/matrix.hpp"

namespace miniflow {

// diff = y - a; returns mean(diff^2) (accumulated in double). n must be at least 1.
template <typename T>
T mse_forward(const T* y, const T* a, T* diff, std::size_t n);

// grad_y = (2 / n) * diff and grad_a = (-2 / n) * diff (or += with accumulate).
// Either output may be null to skip it; they may alias when accumulate is true.
template <typename T>
void mse_backward(const T* diff, non_deduced_t<T>* grad_y, non_deduced_t<T>* grad_a, std::size_t n,
                  bool accumulate);

}  // namespace miniflow
