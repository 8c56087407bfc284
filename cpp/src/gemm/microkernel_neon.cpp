// The NEON micro-kernel of arm64, which has 32 128-bit registers with fused multiply-add: the
// micro-tile of c is held in 24 of them (8 x 12 floats or 6 x 8 doubles), and each step loads a row
// of the B micro-panel and the mr values of A as whole vectors, then multiplies each B vector by
// one lane of an A vector (FMLA by element), so A needs no broadcasts. NEON is part of every
// AArch64 CPU: no target attribute and no check at run time.
#include "simd/target.hpp"

#if MINIFLOW_ARM64

#include <cstddef>
#include <type_traits>
#include <utility>

#include "direct.hpp"
#include "gemm_internal.hpp"
#include "simd/neon.hpp"

namespace miniflow::detail {

namespace {

// The micro-tile: mr rows of `vectors` vectors, 24 accumulators; the 8 registers left hold a step
// of B and A (mr is a multiple of the lanes, so A comes in whole vectors).
template <typename T>
struct NeonTile;
template <>
struct NeonTile<float> {
    static constexpr std::size_t mr = 8;
    static constexpr std::size_t vectors = 3;
};
template <>
struct NeonTile<double> {
    static constexpr std::size_t mr = 6;
    static constexpr std::size_t vectors = 4;
};

// Calls body(row) for each row of the micro-tile with the row as a constant, so that every access
// to the accumulators has constant indices and they stay in registers.
template <class Body, std::size_t... rows>
MINIFLOW_NEON_OP void for_each_row(Body&& body, std::index_sequence<rows...>) {
    (body(std::integral_constant<std::size_t, rows>{}), ...);
}

template <typename T>
void micro_kernel_neon(std::size_t k, const T* packed_a, const T* packed_b, T* c, std::size_t ldc,
                       std::size_t rows, std::size_t cols, bool load_c, const T* bias) {
    using V = Neon<T>;
    using Vec = typename V::Vec;
    constexpr std::size_t mr = NeonTile<T>::mr;
    constexpr std::size_t vectors = NeonTile<T>::vectors;
    constexpr std::size_t nr = vectors * V::width;
    constexpr std::size_t a_vectors = mr / V::width;
    constexpr auto every_row = std::make_index_sequence<mr>{};
    // The micro-tile of c is needed only at the end: start fetching it now, behind the arithmetic.
    for (std::size_t r = 0; r < rows; ++r) {
        V::prefetch(c + r * ldc);
        V::prefetch(c + r * ldc + nr - 1);
    }
    Vec sum[mr][vectors];
    for_each_row(
        [&](auto row) {
            for (std::size_t v = 0; v < vectors; ++v) sum[row][v] = V::zero();
        },
        every_row);
    for (std::size_t step = 0; step < k; ++step) {
        Vec a[a_vectors];
        Vec b[vectors];
        for (std::size_t i = 0; i < a_vectors; ++i) a[i] = V::load(packed_a + i * V::width);
        for (std::size_t v = 0; v < vectors; ++v) b[v] = V::load(packed_b + v * V::width);
        for_each_row(
            [&](auto row) {
                constexpr int lane = static_cast<int>(row % V::width);
                const Vec a_values = a[row / V::width];
                for (std::size_t v = 0; v < vectors; ++v) {
                    sum[row][v] = V::template fmadd_lane<lane>(sum[row][v], b[v], a_values);
                }
            },
            every_row);
        packed_a += mr;
        packed_b += nr;
    }
    T micro_tile[mr * nr];
    for_each_row(
        [&](auto row) {
            for (std::size_t v = 0; v < vectors; ++v) {
                V::store(micro_tile + row * nr + v * V::width, sum[row][v]);
            }
        },
        every_row);
    if (rows == mr && cols == nr) {
        for (std::size_t r = 0; r < mr; ++r) {
            T* c_row = c + r * ldc;
            for (std::size_t v = 0; v < vectors; ++v) {
                Vec out = V::load(micro_tile + r * nr + v * V::width);
                if (bias != nullptr) out = V::add(out, V::load(bias + v * V::width));
                if (load_c) out = V::add(out, V::load(c_row + v * V::width));
                V::store(c_row + v * V::width, out);
            }
        }
        return;
    }
    // An edge micro-tile is written element by element, so nothing outside c is touched.
    write_micro_tile(micro_tile, nr, c, ldc, rows, cols, load_c, bias);
}

}  // namespace

template <typename T>
GemmKernels<T> GemmKernelsByIsa<T>::neon() {
    return {NeonTile<T>::mr, NeonTile<T>::vectors * Neon<T>::width, &micro_kernel_neon<T>,
            &direct_product<T, 16>};
}

template GemmKernels<float> GemmKernelsByIsa<float>::neon();
template GemmKernels<double> GemmKernelsByIsa<double>::neon();

}  // namespace miniflow::detail

#endif  // MINIFLOW_ARM64
