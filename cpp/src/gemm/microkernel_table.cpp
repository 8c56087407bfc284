// The run-time choice of micro-kernel: only the kernels of this architecture exist.
#include "gemm_internal.hpp"
#include "simd/target.hpp"

namespace miniflow::detail {

template <typename T>
Kernel<T> kernel_for(Isa isa) {
    switch (isa) {
#if MINIFLOW_X86_64
        case Isa::avx512:
            return avx512_kernel<T>();
        case Isa::avx2_fma:
            return avx2_kernel<T>();
#endif
#if MINIFLOW_ARM64
        case Isa::neon:
            return neon_kernel<T>();
#endif
        default:
            break;
    }
    return generic_kernel<T>();
}

template Kernel<float> kernel_for<float>(Isa);
template Kernel<double> kernel_for<double>(Isa);

}  // namespace miniflow::detail
