#include "kernel_tables.hpp"

namespace miniflow::detail {

template <typename T>
const ElementwiseKernels<T>& elementwise_kernels(Isa isa) {
    switch (isa) {
        case Isa::avx512:
            return avx512_kernels<T>();
        case Isa::avx2_fma:
            return avx2_kernels<T>();
        case Isa::generic:
            break;
    }
    return generic_kernels<T>();
}

template const ElementwiseKernels<float>& elementwise_kernels<float>(Isa);
template const ElementwiseKernels<double>& elementwise_kernels<double>(Isa);

}  // namespace miniflow::detail
