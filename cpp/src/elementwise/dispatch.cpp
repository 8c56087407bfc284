#include "kernel_tables.hpp"
#include "simd/target.hpp"

namespace miniflow::detail {

// Only the tables of this architecture exist; any other Isa gets the generic kernels.
template <typename T>
const ElementwiseKernels<T>& elementwise_kernels(Isa isa) {
    switch (isa) {
#if MINIFLOW_X86_64
        case Isa::avx512:
            return avx512_kernels<T>();
        case Isa::avx2_fma:
            return avx2_kernels<T>();
#endif
#if MINIFLOW_ARM64
        case Isa::neon:
            return neon_kernels<T>();
#endif
        default:
            break;
    }
    return generic_kernels<T>();
}

template const ElementwiseKernels<float>& elementwise_kernels<float>(Isa);
template const ElementwiseKernels<double>& elementwise_kernels<double>(Isa);

}  // namespace miniflow::detail
