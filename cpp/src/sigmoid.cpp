#include "miniflow/sigmoid.hpp"

#include "check.hpp"
#include "elementwise/elementwise.hpp"
#include "elementwise/parallel.hpp"
#include "miniflow/cpu.hpp"

namespace miniflow {

template <typename T>
void sigmoid_forward(const T* x, T* y, std::size_t n) {
    check_buffer("sigmoid_forward: x", x, n);
    check_buffer("sigmoid_forward: y", y, n);
    const auto& kernels = detail::elementwise_kernels<T>(best_isa());
    detail::for_each_piece(n, [&](std::size_t first, std::size_t count) {
        kernels.sigmoid_forward(x + first, y + first, count);
    });
}

template <typename T>
void sigmoid_backward(const T* s, const T* grad, T* grad_x, std::size_t n, bool accumulate) {
    check_buffer("sigmoid_backward: s", s, n);
    check_buffer("sigmoid_backward: grad", grad, n);
    check_buffer("sigmoid_backward: grad_x", grad_x, n);
    const auto& kernels = detail::elementwise_kernels<T>(best_isa());
    detail::for_each_piece(n, [&](std::size_t first, std::size_t count) {
        kernels.sigmoid_backward(s + first, grad + first, grad_x + first, count, accumulate);
    });
}

template void sigmoid_forward<float>(const float*, float*, std::size_t);
template void sigmoid_forward<double>(const double*, double*, std::size_t);
template void sigmoid_backward<float>(const float*, const float*, float*, std::size_t, bool);
template void sigmoid_backward<double>(const double*, const double*, double*, std::size_t, bool);

}  // namespace miniflow
