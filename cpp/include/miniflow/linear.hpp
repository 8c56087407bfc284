// The Linear node's functions: y = x . w + b and its three gradients. Both throw
// std::invalid_argument naming the shapes when x's columns differ from w's rows, when grad does
// not have the output's shape, or for a null buffer of nonzero size.
#pragma once

#include <cstddef>
#include <stdexcept>

#include "miniflow/matrix.hpp"

namespace miniflow {

// y (x.rows x w.cols, row-major) = x . w + bias. bias holds w.cols values (or is null for none).
template <typename T>
void linear_forward(const MatrixView<T>& x, const MatrixView<T>& w, const non_deduced_t<T>* bias,
                    non_deduced_t<T>* y);

// Given grad = dCost/dy (x.rows x w.cols), writes (or, with accumulate, adds) into row-major,
// caller-owned buffers: grad_x = grad . w^T (x's shape), grad_w = x^T . grad (w's shape) and
// grad_bias = column sums of grad (w.cols values). Any output may be null to skip it.
// Outputs may alias one another (a node used in two slots) when accumulate is true.
template <typename T>
void linear_backward(const MatrixView<T>& x, const MatrixView<T>& w, const MatrixView<T>& grad,
                     non_deduced_t<T>* grad_x, non_deduced_t<T>* grad_w,
                     non_deduced_t<T>* grad_bias, bool accumulate);

}  // namespace miniflow
