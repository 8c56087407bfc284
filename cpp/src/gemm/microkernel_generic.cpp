// The portable micro-kernel: plain C++ that any compiler vectorises for the baseline ISA. It is
// the fallback for CPUs without AVX2 and the reference the vector kernels are tested against.
#include <cstddef>

#include "direct.hpp"
#include "gemm_internal.hpp"

namespace miniflow::detail {

namespace {

constexpr std::size_t generic_mr = 4;
constexpr std::size_t generic_nr = 8;

template <typename T>
void micro_kernel_generic(std::size_t k, const T* packed_a, const T* packed_b, T* c,
                          std::size_t ldc, std::size_t rows, std::size_t cols, bool load_c,
                          const T* bias) {
    T micro_tile[generic_mr][generic_nr] = {};
    for (std::size_t step = 0; step < k; ++step) {
        for (std::size_t r = 0; r < generic_mr; ++r) {
            for (std::size_t j = 0; j < generic_nr; ++j)
                micro_tile[r][j] += packed_a[r] * packed_b[j];
        }
        packed_a += generic_mr;
        packed_b += generic_nr;
    }
    write_micro_tile(&micro_tile[0][0], generic_nr, c, ldc, rows, cols, load_c, bias);
}

}  // namespace

template <typename T>
GemmKernels<T> GemmKernelsByIsa<T>::generic() {
    // A 4 x 8 micro-tile fits the 16 SSE registers.
    return {generic_mr, generic_nr, &micro_kernel_generic<T>, &direct_product<T, 16>};
}

template GemmKernels<float> GemmKernelsByIsa<float>::generic();
template GemmKernels<double> GemmKernelsByIsa<double>::generic();

}  // namespace miniflow::detail
