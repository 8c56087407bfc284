// Plain stochastic gradient descent on a contiguous parameter buffer.
#pragma once

#include <cstddef>

namespace miniflow {

// value -= learning_rate * grad, in place, over n elements.
template <typename T>
void sgd_update(T* value, const T* grad, std::size_t n, T learning_rate);

}  // namespace miniflow
