#include "miniflow/sgd.hpp"

#include "check.hpp"
#include "elementwise/elementwise.hpp"
#include "elementwise/parallel.hpp"
#include "miniflow/cpu.hpp"

namespace miniflow {

template <typename T>
void sgd_update(T* value, const T* grad, std::size_t n, T learning_rate) {
    check_buffer("sgd_update: value", value, n);
    check_buffer("sgd_update: grad", grad, n);
    const auto& kernels = detail::elementwise_kernels<T>(best_isa());
    detail::for_each_block(n, [&](std::size_t first, std::size_t count) {
        kernels.sgd_update(value + first, grad + first, count, learning_rate);
    });
}

template void sgd_update<float>(float*, const float*, std::size_t, float);
template void sgd_update<double>(double*, const double*, std::size_t, double);

}  // namespace miniflow
