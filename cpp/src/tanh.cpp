#include "miniflow/tanh.hpp"

#include "elementwise/activation.hpp"

namespace miniflow {

template <typename T>
void tanh_forward(const T* x, T* y, std::size_t n) {
    detail::run_forward(&detail::ElementwiseKernels<T>::tanh_forward,
                        {"tanh_forward: x", "tanh_forward: y"}, x, y, n);
}

template <typename T>
void tanh_backward(const T* t, const T* grad, T* grad_x, std::size_t n, bool accumulate) {
    detail::run_backward(&detail::ElementwiseKernels<T>::tanh_backward,
                         {"tanh_backward: t", "tanh_backward: grad", "tanh_backward: grad_x"}, t,
                         grad, grad_x, n, accumulate);
}

template void tanh_forward<float>(const float*, float*, std::size_t);
template void tanh_forward<double>(const double*, double*, std::size_t);
template void tanh_backward<float>(const float*, const float*, float*, std::size_t, bool);
template void tanh_backward<double>(const double*, const double*, double*, std::size_t, bool);

}  // namespace miniflow
