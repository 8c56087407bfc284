#include "miniflow/sigmoid.hpp"

#include "elementwise/activation.hpp"

namespace miniflow {

template <typename T>
void sigmoid_forward(const T* x, T* y, std::size_t n) {
    detail::run_forward(&detail::ElementwiseKernels<T>::sigmoid_forward,
                        {"sigmoid_forward: x", "sigmoid_forward: y"}, x, y, n);
}

template <typename T>
void sigmoid_backward(const T* s, const T* grad, T* grad_x, std::size_t n, bool accumulate) {
    detail::run_backward(
        &detail::ElementwiseKernels<T>::sigmoid_backward,
        {"sigmoid_backward: s", "sigmoid_backward: grad", "sigmoid_backward: grad_x"}, s, grad,
        grad_x, n, accumulate);
}

template void sigmoid_forward<float>(const float*, float*, std::size_t);
template void sigmoid_forward<double>(const double*, double*, std::size_t);
template void sigmoid_backward<float>(const float*, const float*, float*, std::size_t, bool);
template void sigmoid_backward<double>(const double*, const double*, double*, std::size_t, bool);

}  // namespace miniflow
