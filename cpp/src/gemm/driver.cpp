// The GEMM driver: argument checks, the choice between the direct path (tiny products) and the
// blocked path (BLIS loop nest over packed blocks), the split over threads, and the run-time
// choice of micro-kernel.
#include <algorithm>
#include <cstddef>
#include <limits>
#include <memory>
#include <new>
#include <stdexcept>
#include <string>

#include "gemm_internal.hpp"
#include "miniflow/check.hpp"
#include "miniflow/gemm.hpp"

namespace miniflow {

namespace detail {

namespace {

// Products up to this many multiply-adds skip packing, which costs more than it saves there
// (measured: the crossover is near 32^3 when b's rows are contiguous, near 16^3 when not).
constexpr std::size_t direct_limit_contiguous_b = 32 * 32 * 32;
constexpr std::size_t direct_limit_strided_b = 16 * 16 * 16;
// A product with this few rows or columns of c is bound by reading the operands once, which
// the direct path does; packing would read and write them first.
constexpr std::size_t direct_thin_limit = 4;
// Products below this many multiply-adds per thread are not worth waking a worker.
constexpr std::size_t work_per_thread_minimum = 96 * 96 * 96;

template <typename T>
Kernel<T> kernel_for(Isa isa) {
    switch (isa) {
        case Isa::avx512:
            return avx512_kernel<T>();
        case Isa::avx2_fma:
            return avx2_kernel<T>();
        case Isa::generic:
            break;
    }
    return generic_kernel<T>();
}

// A growable 64-byte-aligned scratch area; one per thread and operand, kept between calls.
class PackingBuffer {
public:
    template <typename T>
    T* reserve(std::size_t count) {
        const std::size_t bytes = count * sizeof(T);
        if (bytes > capacity_) {
            memory_.reset(static_cast<std::byte*>(::operator new(bytes, alignment)));
            capacity_ = bytes;
        }
        return reinterpret_cast<T*>(memory_.get());
    }

private:
    static constexpr std::align_val_t alignment{64};
    struct Release {
        void operator()(std::byte* memory) const { ::operator delete(memory, alignment); }
    };
    std::unique_ptr<std::byte, Release> memory_;
    std::size_t capacity_ = 0;
};

thread_local PackingBuffer packed_a_buffer;
thread_local PackingBuffer packed_b_buffer;

std::size_t round_up(std::size_t value, std::size_t multiple) {
    return (value + multiple - 1) / multiple * multiple;
}

// The BLIS loop nest on one thread: for each nc-wide block of B columns and kc-deep slice of
// the inner dimension, pack B (reused by every row block), then for each mc-tall block of A
// rows pack A and sweep the micro-kernel over the block's tiles. k > 0 here.
template <typename T>
void gemm_blocked(const Kernel<T>& kernel, const MatrixView<T>& a, const MatrixView<T>& b, T* c,
                  std::size_t ldc, bool accumulate, const T* bias) {
    const BlockSizes& blocks = kernel.blocks;
    const std::size_t m = a.rows;
    const std::size_t n = b.cols;
    const std::size_t k = a.cols;
    T* packed_a = packed_a_buffer.reserve<T>(blocks.mc * blocks.kc);
    T* packed_b =
        packed_b_buffer.reserve<T>(blocks.kc * round_up(std::min(n, blocks.nc), blocks.nr));
    for (std::size_t col0 = 0; col0 < n; col0 += blocks.nc) {
        const std::size_t nc = std::min(blocks.nc, n - col0);
        for (std::size_t depth0 = 0; depth0 < k; depth0 += blocks.kc) {
            const std::size_t kc = std::min(blocks.kc, k - depth0);
            pack_b(b, depth0, col0, kc, nc, blocks.nr, packed_b);
            // The first slice writes c (with the bias); later slices add to it.
            const bool first_slice = depth0 == 0;
            const bool load_c = accumulate || !first_slice;
            const T* slice_bias = first_slice && bias != nullptr ? bias + col0 : nullptr;
            for (std::size_t row0 = 0; row0 < m; row0 += blocks.mc) {
                const std::size_t mc = std::min(blocks.mc, m - row0);
                pack_a(a, row0, depth0, mc, kc, blocks.mr, packed_a);
                for (std::size_t j = 0; j < nc; j += blocks.nr) {
                    const T* b_panel = packed_b + j * kc;
                    const T* tile_bias = slice_bias != nullptr ? slice_bias + j : nullptr;
                    for (std::size_t i = 0; i < mc; i += blocks.mr) {
                        kernel.compute_tile(kc, packed_a + i * kc, b_panel,
                                            c + (row0 + i) * ldc + col0 + j, ldc,
                                            std::min(blocks.mr, mc - i),
                                            std::min(blocks.nr, nc - j), load_c, tile_bias);
                    }
                }
            }
        }
    }
}

// Splits c into `threads` bands of whole tiles, over its longer side, and computes each band
// with the serial loop nest: every element is computed by the same operations whatever the
// split, so the result is bitwise identical for any thread count.
template <typename T>
void gemm_blocked_parallel(const Kernel<T>& kernel, int threads, const MatrixView<T>& a,
                           const MatrixView<T>& b, T* c, std::size_t ldc, bool accumulate,
                           const T* bias) {
    const std::size_t m = a.rows;
    const std::size_t n = b.cols;
    const bool split_rows = m > n;
    const std::size_t extent = split_rows ? m : n;
    const std::size_t tile = split_rows ? kernel.blocks.mr : kernel.blocks.nr;
    const std::size_t tiles = (extent + tile - 1) / tile;
    const std::size_t work = m * n * a.cols;
    const std::size_t worth = std::max<std::size_t>(1, work / work_per_thread_minimum);
    const auto bands =
        static_cast<int>(std::min({static_cast<std::size_t>(threads), tiles, worth}));
    if (bands <= 1) {
        gemm_blocked(kernel, a, b, c, ldc, accumulate, bias);
        return;
    }
    parallel_for(bands, [&](int band) {
        const auto band_tiles = [&](int index) {
            return tiles * static_cast<std::size_t>(index) / static_cast<std::size_t>(bands);
        };
        const std::size_t first = band_tiles(band) * tile;
        const std::size_t last = std::min(extent, band_tiles(band + 1) * tile);
        if (first >= last) return;
        if (split_rows) {
            const MatrixView<T> rows{&a(first, 0), last - first, a.cols, a.row_stride,
                                     a.col_stride};
            gemm_blocked(kernel, rows, b, c + first * ldc, ldc, accumulate, bias);
        } else {
            const MatrixView<T> cols{&b(0, first), b.rows, last - first, b.row_stride,
                                     b.col_stride};
            gemm_blocked(kernel, a, cols, c + first, ldc, accumulate,
                         bias != nullptr ? bias + first : nullptr);
        }
    });
}

}  // namespace

template <typename T>
BlockSizes block_sizes(Isa isa) {
    return kernel_for<T>(isa).blocks;
}

template <typename T>
void gemm_with(Isa isa, int threads, GemmPath path, const MatrixView<T>& a, const MatrixView<T>& b,
               T* c, std::size_t ldc, bool accumulate, const T* bias) {
    const std::size_t m = a.rows;
    const std::size_t n = b.cols;
    const std::size_t k = a.cols;
    if (m == 0 || n == 0) return;
    const std::size_t direct_limit =
        b.col_stride == 1 ? direct_limit_contiguous_b : direct_limit_strided_b;
    const bool direct_pays = m * n * k <= direct_limit || std::min(m, n) <= direct_thin_limit;
    if (path == GemmPath::direct || (path == GemmPath::automatic && direct_pays) || k == 0) {
        kernel_for<T>(isa).direct_product(a, b, c, ldc, accumulate, bias);
        return;
    }
    gemm_blocked_parallel(kernel_for<T>(isa), threads, a, b, c, ldc, accumulate, bias);
}

template BlockSizes block_sizes<float>(Isa);
template BlockSizes block_sizes<double>(Isa);
template void gemm_with<float>(Isa, int, GemmPath, const MatrixView<float>&,
                               const MatrixView<float>&, float*, std::size_t, bool, const float*);
template void gemm_with<double>(Isa, int, GemmPath, const MatrixView<double>&,
                                const MatrixView<double>&, double*, std::size_t, bool,
                                const double*);

}  // namespace detail

template <typename T>
void gemm(const MatrixView<T>& a, const MatrixView<T>& b, T* c, std::size_t ldc, bool accumulate,
          const T* bias) {
    check_view("gemm: a", a);
    check_view("gemm: b", b);
    if (a.cols != b.rows) {
        throw std::invalid_argument("gemm: a is " + shape_string(a.rows, a.cols) + " and b is " +
                                    shape_string(b.rows, b.cols) +
                                    ": a's columns must equal b's rows");
    }
    if (ldc < b.cols) {
        throw std::invalid_argument("gemm: ldc " + std::to_string(ldc) + " is less than c's " +
                                    std::to_string(b.cols) + " columns");
    }
    if (a.rows != 0) {
        // The last row's end, (rows - 1) * ldc + cols elements in, must be addressable.
        const std::size_t last_row_start = checked_size("gemm: c", a.rows - 1, ldc);
        const std::size_t addressable =
            static_cast<std::size_t>(std::numeric_limits<std::ptrdiff_t>::max()) / sizeof(T);
        if (last_row_start > addressable - b.cols) {
            throw std::invalid_argument("gemm: c of shape " + shape_string(a.rows, b.cols) +
                                        " with ldc " + std::to_string(ldc) +
                                        " reaches past the addressable range");
        }
    }
    check_buffer("gemm: c", c, a.rows * b.cols);
    detail::gemm_with(best_isa(), get_num_threads(), detail::GemmPath::automatic, a, b, c, ldc,
                      accumulate, bias);
}

template void gemm<float>(const MatrixView<float>&, const MatrixView<float>&, float*, std::size_t,
                          bool, const float*);
template void gemm<double>(const MatrixView<double>&, const MatrixView<double>&, double*,
                           std::size_t, bool, const double*);

}  // namespace miniflow
