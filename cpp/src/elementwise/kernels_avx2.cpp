// The elementwise kernels for AVX2 + FMA. Only the functions carry the AVX2 + FMA target (no
// file-wide flag), so nothing inline from the standard library is compiled for it by accident.
#include "simd/target.hpp"

#if MINIFLOW_X86_64

#include <cstddef>
#include <cstdint>

#include "exp_constants.hpp"
#include "kernel_tables.hpp"
#include "simd/avx2.hpp"
#include "tanh_constants.hpp"

namespace miniflow::detail {

namespace {

template <typename T>
using Simd = Avx2<T>;

#define ELEMENTWISE_TARGET MINIFLOW_TARGET_AVX2
#define ELEMENTWISE_INLINE MINIFLOW_AVX2_OP
#include "vector_exp.inc"
// (after vector_exp.inc: the kernel bodies call vector_exp, vector_sigmoid and vector_tanh)
#include "kernel_bodies.inc"
#undef ELEMENTWISE_TARGET
#undef ELEMENTWISE_INLINE

}  // namespace

template <typename T>
const ElementwiseKernels<T>& ElementwiseKernelsByIsa<T>::avx2() {
    return kernel_table<T>();
}

template const ElementwiseKernels<float>& ElementwiseKernelsByIsa<float>::avx2();
template const ElementwiseKernels<double>& ElementwiseKernelsByIsa<double>::avx2();

}  // namespace miniflow::detail

#endif  // MINIFLOW_X86_64
