// The NEON micro-kernel of arm64, which has 32 128-bit registers with fused multiply-add: the
// tile of c is held in 24 of them (8 x 12 floats or 6 x 8 doubles), and each step loads a row of
// the B micro-panel and the mr values of A as whole vectors, then multiplies each B vector by
// one lane of an A vector (FMLA by element), so A needs no broadcasts. NEON is part of every
// AArch64 CPU: no target attribute and no check at run time.
#include "simd/target.hpp"

#if MINIFLOW_ARM64

#include <cstddef>
#include <utility>

#include "direct.hpp"
#include "gemm_internal.hpp"
#include "simd/neon.hpp"

namespace miniflow::detail {

namespace {

// mr rows of Vectors vectors each; mr is a multiple of the lanes, so A comes in whole vectors.
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

// Row `row` of the tile += (its value of A) * the B vectors.
template <class V, std::size_t vectors, std::size_t row>
MINIFLOW_NEON_OP void multiply_add_row(typename V::Vec (&sum)[vectors], const typename V::Vec* a,
                                       const typename V::Vec* b) {
    constexpr int lane = static_cast<int>(row % V::width);
    for (std::size_t v = 0; v < vectors; ++v) {
        sum[v] = V::template fmadd_lane<lane>(sum[v], b[v], a[row / V::width]);
    }
}

template <class V, std::size_t vectors, std::size_t... rows>
MINIFLOW_NEON_OP void multiply_add_rows(typename V::Vec (&sum)[sizeof...(rows)][vectors],
                                        const typename V::Vec* a, const typename V::Vec* b,
                                        std::index_sequence<rows...>) {
    (multiply_add_row<V, vectors, rows>(sum[rows], a, b), ...);
}

template <typename T>
void compute_tile_neon(std::size_t k, const T* packed_a, const T* packed_b, T* c,
                       std::size_t ldc, std::size_t rows, std::size_t cols, bool load_c,
                       const T* bias) {
    using V = Neon<T>;
    using Vec = typename V::Vec;
    constexpr std::size_t mr = NeonTile<T>::mr;
    constexpr std::size_t vectors = NeonTile<T>::vectors;
    constexpr std::size_t nr = vectors * V::width;
    constexpr std::size_t a_vectors = mr / V::width;
    // The tile of c is needed only at the end: start fetching it now, behind the arithmetic.
    for (std::size_t r = 0; r < rows; ++r) {
        V::prefetch(c + r * ldc);
        V::prefetch(c + r * ldc + nr - 1);
    }
    Vec sum[mr][vectors];
    for (std::size_t r = 0; r < mr; ++r) {
        for (std::size_t v = 0; v < vectors; ++v) sum[r][v] = V::zero();
    }
    for (std::size_t step = 0; step < k; ++step) {
        Vec a[a_vectors];
        Vec b[vectors];
        for (std::size_t i = 0; i < a_vectors; ++i) a[i] = V::load(packed_a + i * V::width);
        for (std::size_t v = 0; v < vectors; ++v) b[v] = V::load(packed_b + v * V::width);
        multiply_add_rows<V, vectors>(sum, a, b, std::make_index_sequence<mr>{});
        packed_a += mr;
        packed_b += nr;
    }
    if (rows == mr && cols == nr) {
        Vec bias_values[vectors];
        for (std::size_t v = 0; v < vectors; ++v) {
            bias_values[v] = bias != nullptr ? V::load(bias + v * V::width) : V::zero();
        }
        for (std::size_t r = 0; r < mr; ++r) {
            T* row = c + r * ldc;
            for (std::size_t v = 0; v < vectors; ++v) {
                Vec out = sum[r][v];
                if (bias != nullptr) out = V::add(out, bias_values[v]);
                if (load_c) out = V::add(out, V::load(row + v * V::width));
                V::store(row + v * V::width, out);
            }
        }
        return;
    }
    // An edge tile goes through a small buffer so nothing outside c is touched.
    T tile[mr * nr];
    for (std::size_t r = 0; r < mr; ++r) {
        for (std::size_t v = 0; v < vectors; ++v) V::store(tile + r * nr + v * V::width, sum[r][v]);
    }
    write_tile(tile, nr, c, ldc, rows, cols, load_c, bias);
}

}  // namespace

// Blocks as for the AVX2 kernel: the A block (mc x kc) well inside L2, mc and nc whole tiles.
template <>
Kernel<double> neon_kernel<double>() {
    return {{NeonTile<double>::mr, NeonTile<double>::vectors * Neon<double>::width, 96, 256, 2048},
            &compute_tile_neon<double>,
            &direct_product<double, 16>};
}

template <>
Kernel<float> neon_kernel<float>() {
    return {{NeonTile<float>::mr, NeonTile<float>::vectors * Neon<float>::width, 128, 256, 2040},
            &compute_tile_neon<float>,
            &direct_product<float, 16>};
}

}  // namespace miniflow::detail

#endif  // MINIFLOW_ARM64
