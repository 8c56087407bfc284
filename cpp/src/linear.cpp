#include "miniflow/linear.hpp"

#include <stdexcept>
#include <string>

#include "check.hpp"
#include "miniflow/gemm.hpp"

namespace miniflow {

namespace {

// x (batch x in) and w (in x out) must agree on the inner dimension.
template <typename T>
void check_operands(const char* function, const MatrixView<T>& x, const MatrixView<T>& w) {
    check_view("x", x);
    check_view("w", w);
    if (x.cols != w.rows) {
        throw std::invalid_argument(
            std::string(function) + ": x is " + shape_string(x.rows, x.cols) + " and w is " +
            shape_string(w.rows, w.cols) + ": x's columns must equal w's rows");
    }
}

}  // namespace

template <typename T>
void linear_forward(const MatrixView<T>& x, const MatrixView<T>& w, const non_deduced_t<T>* bias,
                    non_deduced_t<T>* y) {
    check_operands("linear_forward", x, w);
    check_buffer("linear_forward: y", y, checked_size("linear_forward: y", x.rows, w.cols));
    gemm(x, w, y, w.cols, false, bias);
}

template <typename T>
void linear_backward(const MatrixView<T>& x, const MatrixView<T>& w, const MatrixView<T>& grad,
                     non_deduced_t<T>* grad_x, non_deduced_t<T>* grad_w,
                     non_deduced_t<T>* grad_bias, bool accumulate) {
    check_operands("linear_backward", x, w);
    check_view("grad", grad);
    if (grad.rows != x.rows || grad.cols != w.cols) {
        throw std::invalid_argument(
            "linear_backward: grad is " + shape_string(grad.rows, grad.cols) + " but x . w is " +
            shape_string(x.rows, w.cols) + ": grad must have the output's shape");
    }
    // dX = G . W^T and dW = X^T . G read the transposes through strides: no copies.
    if (grad_x != nullptr) gemm(grad, transposed(w), grad_x, x.cols, accumulate);
    if (grad_w != nullptr) gemm(transposed(x), grad, grad_w, w.cols, accumulate);
    if (grad_bias != nullptr) column_sums(grad, grad_bias, accumulate);
}

template void linear_forward<float>(const MatrixView<float>&, const MatrixView<float>&,
                                    const float*, float*);
template void linear_forward<double>(const MatrixView<double>&, const MatrixView<double>&,
                                     const double*, double*);
template void linear_backward<float>(const MatrixView<float>&, const MatrixView<float>&,
                                     const MatrixView<float>&, float*, float*, float*, bool);
template void linear_backward<double>(const MatrixView<double>&, const MatrixView<double>&,
                                      const MatrixView<double>&, double*, double*, double*, bool);

}  // namespace miniflow
