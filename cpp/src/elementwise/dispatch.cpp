#include "kernel_tables.hpp"
#include "simd/isa_choice.hpp"

namespace miniflow::detail {

template <typename T>
const ElementwiseKernels<T>& elementwise_kernels(Isa isa) {
    return choose_for_isa<ElementwiseKernelsByIsa<T>>(isa);
}

template const ElementwiseKernels<float>& elementwise_kernels<float>(Isa);
template const ElementwiseKernels<double>& elementwise_kernels<double>(Isa);

}  // namespace miniflow::detail
