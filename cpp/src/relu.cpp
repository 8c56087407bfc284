#include "miniflow/relu.hpp"

#include "elementwise/activation.hpp"

namespace miniflow {

template <typename T>
void relu_forward(const T* x, T* y, std::size_t n) {
    detail::run_forward(&detail::ElementwiseKernels<T>::relu_forward,
                        {"relu_forward: x", "relu_forward: y"}, x, y, n);
}

template <typename T>
void relu_backward(const T* y, const T* grad, T* grad_x, std::size_t n, bool accumulate) {
    detail::run_backward(&detail::ElementwiseKernels<T>::relu_backward,
                         {"relu_backward: y", "relu_backward: grad", "relu_backward: grad_x"}, y,
                         grad, grad_x, n, accumulate);
}

template void relu_forward<float>(const float*, float*, std::size_t);
template void relu_forward<double>(const double*, double*, std::size_t);
template void relu_backward<float>(const float*, const float*, float*, std::size_t, bool);
template void relu_backward<double>(const double*, const double*, double*, std::size_t, bool);

}  // namespace miniflow
