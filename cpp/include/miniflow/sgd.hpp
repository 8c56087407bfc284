// Plain stochastic gradient descent on a contiguous parameter buffer.
#pragma once

#include <cstddef>
#include <stdexcept>

namespace miniflow {

// value -= learning_rate * grad, in place, over n elements. Throws std::invalid_argument for a
// null buffer of nonzero size.
template <typename T>
void sgd_update(T* value, const T* grad, std::size_t n, T learning_rate);

}  // namespace miniflow
