// The run-time choice of GEMM kernels: only the kernels of this architecture exist.
#include "gemm_internal.hpp"
#include "simd/isa_choice.hpp"

namespace miniflow::detail {

template <typename T>
GemmKernels<T> gemm_kernels_for(Isa isa) {
    return choose_for_isa<GemmKernelsByIsa<T>>(isa);
}

template GemmKernels<float> gemm_kernels_for<float>(Isa);
template GemmKernels<double> gemm_kernels_for<double>(Isa);

}  // namespace miniflow::detail
