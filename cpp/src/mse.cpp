#include "miniflow/mse.hpp"

#include <stdexcept>

#include "check.hpp"
#include "elementwise/elementwise.hpp"
#include "miniflow/cpu.hpp"

namespace miniflow {

template <typename T>
T mse_forward(const T* y, const T* a, T* diff, std::size_t n) {
    if (n == 0) {
        throw std::invalid_argument("mse_forward: n is 0; the mean of no errors is undefined");
    }
    check_buffer("mse_forward: y", y, n);
    check_buffer("mse_forward: a", a, n);
    check_buffer("mse_forward: diff", diff, n);
    const double sum = detail::elementwise_kernels<T>(best_isa()).mse_forward(y, a, diff, n);
    return static_cast<T>(sum / static_cast<double>(n));
}

template <typename T>
void mse_backward(const T* diff, non_deduced_t<T>* grad_y, non_deduced_t<T>* grad_a, std::size_t n,
                  bool accumulate) {
    if (n == 0) throw std::invalid_argument("mse_backward: n is 0");
    check_buffer("mse_backward: diff", diff, n);
    const T scale = T(2) / static_cast<T>(n);
    const auto& kernels = detail::elementwise_kernels<T>(best_isa());
    kernels.mse_backward(diff, n, scale, grad_y, grad_a, accumulate);
}

template float mse_forward<float>(const float*, const float*, float*, std::size_t);
template double mse_forward<double>(const double*, const double*, double*, std::size_t);
template void mse_backward<float>(const float*, float*, float*, std::size_t, bool);
template void mse_backward<double>(const double*, double*, double*, std::size_t, bool);

}  // namespace miniflow
