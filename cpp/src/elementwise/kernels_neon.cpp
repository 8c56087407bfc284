// The elementwise kernels for arm64 NEON: the same bodies as the x86 ones, over Neon<T>.
#include "simd/target.hpp"

#if MINIFLOW_ARM64

#include <cstddef>
#include <cstdint>

#include "exp_constants.hpp"
#include "kernel_tables.hpp"
#include "simd/neon.hpp"
#include "tanh_constants.hpp"

namespace miniflow::detail {

namespace {

template <typename T>
using Simd = Neon<T>;

#define ELEMENTWISE_TARGET
#define ELEMENTWISE_INLINE MINIFLOW_NEON_OP
#include "vector_exp.inc"
// (after vector_exp.inc: the kernel bodies call vector_exp, vector_sigmoid and vector_tanh)
#include "kernel_bodies.inc"
#undef ELEMENTWISE_TARGET
#undef ELEMENTWISE_INLINE

}  // namespace

template <typename T>
const ElementwiseKernels<T>& ElementwiseKernelsByIsa<T>::neon() {
    return kernel_table<T>();
}

template const ElementwiseKernels<float>& ElementwiseKernelsByIsa<float>::neon();
template const ElementwiseKernels<double>& ElementwiseKernelsByIsa<double>::neon();

}  // namespace miniflow::detail

#endif  // MINIFLOW_ARM64
