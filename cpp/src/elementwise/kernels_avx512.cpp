// The elementwise kernels for AVX-512. Only the functions carry the AVX-512 target (no file-wide
// flag), so nothing inline from the standard library is compiled for it by accident.
#include "simd/target.hpp"

#if MINIFLOW_X86_64

#include <cstddef>
#include <cstdint>

#include "exp_constants.hpp"
#include "kernel_tables.hpp"
#include "simd/avx512.hpp"
#include "tanh_constants.hpp"

// GCC 12 warns inside its own AVX-512 intrinsics wherever they are inlined (their
// self-initialised _mm512_undefined_*(), GCC bug 105593); the warning says nothing about this code.
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ < 13
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

namespace miniflow::detail {

namespace {

template <typename T>
using Simd = Avx512<T>;

#define ELEMENTWISE_TARGET MINIFLOW_TARGET_AVX512
#define ELEMENTWISE_INLINE MINIFLOW_AVX512_OP
#include "vector_exp.inc"
// (after vector_exp.inc: the kernel bodies call vector_exp, vector_sigmoid and vector_tanh)
#include "kernel_bodies.inc"
#undef ELEMENTWISE_TARGET
#undef ELEMENTWISE_INLINE

}  // namespace

template <typename T>
const ElementwiseKernels<T>& ElementwiseKernelsByIsa<T>::avx512() {
    return kernel_table<T>();
}

template const ElementwiseKernels<float>& ElementwiseKernelsByIsa<float>::avx512();
template const ElementwiseKernels<double>& ElementwiseKernelsByIsa<double>::avx512();

}  // namespace miniflow::detail

#endif  // MINIFLOW_X86_64
