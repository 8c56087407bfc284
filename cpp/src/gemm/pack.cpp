// Packing: copies blocks of A and B into the contiguous micro-panel order the micro-kernels
// stream through. All stride handling lives here, so a transposed, Fortran-ordered or
// negative-stride view costs one strided copy per block and the kernels never see strides.
#include <algorithm>
#include <cstddef>
#include <stdexcept>
#include <string>
#include <type_traits>

#include "gemm_internal.hpp"

namespace miniflow::detail {

namespace {

// Packs `width`-wide micro-panels along the "across" direction (rows of A, columns of B):
// element (across, step) of the source lives at origin[across * across_stride + step *
// step_stride]. The width is a template argument so that the inner loops have constant trip counts.
template <typename T, std::ptrdiff_t Width>
void pack_panels(const T* origin, std::ptrdiff_t across_stride, std::ptrdiff_t step_stride,
                 std::size_t across_count, std::size_t depth, T* packed) {
    const auto steps = static_cast<std::ptrdiff_t>(depth);
    std::size_t start = 0;
    if (across_stride == 1) {
        // Each step is contiguous across the panels (a transposed A, a row-major B): read a
        // step's values for every full panel in one run, so the CPU's prefetchers see a stream
        // (a panel at a time reads Width values per row of a wide B: a page jump every step).
        const auto panels = static_cast<std::ptrdiff_t>(across_count / Width);
        for (std::ptrdiff_t step = 0; step < steps; ++step) {
            const T* source = origin + step * step_stride;
            for (std::ptrdiff_t panel = 0; panel < panels; ++panel) {
                T* out = packed + (panel * steps + step) * Width;
                for (std::ptrdiff_t lane = 0; lane < Width; ++lane) {
                    out[lane] = source[panel * Width + lane];
                }
            }
        }
        start = static_cast<std::size_t>(panels) * Width;
        packed += panels * steps * Width;
    }
    for (; start < across_count; start += Width) {
        const auto width = static_cast<std::ptrdiff_t>(
            std::min<std::size_t>(static_cast<std::size_t>(Width), across_count - start));
        const T* panel = origin + static_cast<std::ptrdiff_t>(start) * across_stride;
        if (width == Width && step_stride == 1) {
            // Each lane is contiguous along the steps (a row-major A, a transposed B). A cache
            // line of each lane is copied at once: lanes a power of two apart (rows of a
            // 1024-wide matrix) share a few L1 sets, so a line read one step at a time is
            // evicted before the next step reaches it (measured: 0.82x numpy at 1024 float32).
            constexpr std::ptrdiff_t line = 64 / sizeof(T);
            std::ptrdiff_t step = 0;
            for (; step + line <= steps; step += line) {
                for (std::ptrdiff_t lane = 0; lane < Width; ++lane) {
                    const T* source = panel + lane * across_stride + step;
                    for (std::ptrdiff_t offset = 0; offset < line; ++offset) {
                        packed[offset * Width + lane] = source[offset];
                    }
                }
                packed += line * Width;
            }
            for (; step < steps; ++step) {
                for (std::ptrdiff_t lane = 0; lane < Width; ++lane) {
                    packed[lane] = panel[lane * across_stride + step];
                }
                packed += Width;
            }
        } else {
            // Any strides (zero and negative included), and the zero-padded last panel.
            for (std::ptrdiff_t step = 0; step < steps; ++step) {
                const T* source = panel + step * step_stride;
                for (std::ptrdiff_t lane = 0; lane < width; ++lane) {
                    packed[lane] = source[lane * across_stride];
                }
                for (std::ptrdiff_t lane = width; lane < Width; ++lane) packed[lane] = T(0);
                packed += Width;
            }
        }
    }
}

// pack_panels for the one of `widths` that equals `width`: every micro-kernel's mr and nr.
template <typename T, std::size_t... widths>
void pack_one_of(const T* origin, std::ptrdiff_t across_stride, std::ptrdiff_t step_stride,
                 std::size_t across_count, std::size_t depth, std::size_t width, T* packed) {
    const auto pack_if_width = [&](auto panel_width) {
        if (width != panel_width) return false;
        pack_panels<T, decltype(panel_width)::value>(origin, across_stride, step_stride,
                                                     across_count, depth, packed);
        return true;
    };
    const bool found = (pack_if_width(std::integral_constant<std::size_t, widths>{}) || ...);
    if (!found) {
        throw std::logic_error("gemm: no packing routine for micro-panels of width " +
                               std::to_string(width));
    }
}

template <typename T>
void pack_any_width(const T* origin, std::ptrdiff_t across_stride, std::ptrdiff_t step_stride,
                    std::size_t across_count, std::size_t depth, std::size_t width, T* packed) {
    pack_one_of<T, 4, 6, 8, 12, 14, 16, 32>(origin, across_stride, step_stride, across_count, depth,
                                            width, packed);
}

}  // namespace

template <typename T>
void pack_a(const MatrixView<T>& a, std::size_t row0, std::size_t col0, std::size_t rows,
            std::size_t depth, std::size_t mr, T* packed) {
    if (rows == 0 || depth == 0) return;
    pack_any_width(&a(row0, col0), a.row_stride, a.col_stride, rows, depth, mr, packed);
}

template <typename T>
void pack_b(const MatrixView<T>& b, std::size_t row0, std::size_t col0, std::size_t depth,
            std::size_t cols, std::size_t nr, T* packed) {
    if (cols == 0 || depth == 0) return;
    pack_any_width(&b(row0, col0), b.col_stride, b.row_stride, cols, depth, nr, packed);
}

template void pack_a<float>(const MatrixView<float>&, std::size_t, std::size_t, std::size_t,
                            std::size_t, std::size_t, float*);
template void pack_a<double>(const MatrixView<double>&, std::size_t, std::size_t, std::size_t,
                             std::size_t, std::size_t, double*);
template void pack_b<float>(const MatrixView<float>&, std::size_t, std::size_t, std::size_t,
                            std::size_t, std::size_t, float*);
template void pack_b<double>(const MatrixView<double>&, std::size_t, std::size_t, std::size_t,
                             std::size_t, std::size_t, double*);

}  // namespace miniflow::detail
