// The GEMM driver: argument checks, the choice between the direct path (tiny products) and the
// blocked path (BLIS loop nest over packed blocks), the dynamic sharing of tiles among threads,
// and the run-time choice of micro-kernel.
#include <algorithm>
#include <atomic>
#include <cstddef>
#include <limits>
#include <memory>
#include <new>
#include <stdexcept>
#include <string>
#include <thread>

#include "gemm_internal.hpp"
#include "check.hpp"
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
// The parallel path packs all of A, and all of B's rows for a block of its columns, at once:
// at most this many bytes each (a 2048 x 2048 double matrix and its padding fit).
constexpr std::size_t packed_limit = std::size_t{48} << 20;
// The bytes of packed B that one tile sweeps per kc slice (kept in L2 while its rows pass).
constexpr std::size_t tile_b_bytes = std::size_t{1} << 20;
// Column tiles are no narrower than this (each repacks its rows of A).
constexpr std::size_t min_tile_cols = 128;

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

// One parallel product over a block of c's columns, shared by the threads that compute it. A
// and B are packed whole (every kc slice) into buffers that all threads read, the packing cut
// into items that the threads take from a counter; then c is cut into tiles of whole
// micro-tiles that the threads take from another counter, each tile computed by one thread with
// the serial loop order (slices in order, the same micro-kernel). An element of c therefore goes
// through the same operations whatever the tiling and whichever thread takes its tile, so the
// result is bitwise identical for any thread count.
template <typename T>
struct SharedProduct {
    const Kernel<T>& kernel;
    const MatrixView<T>& a;
    const MatrixView<T>& b;
    T* c;
    std::size_t ldc;
    bool accumulate;
    const T* bias;
    // Slice after slice (depth0 * padded_rows or padded_cols values in), each as pack_a or
    // pack_b lays out a block.
    T* packed_a;
    T* packed_b;
    std::size_t padded_rows;
    std::size_t padded_cols;
    std::size_t slices;
    std::size_t pack_rows;    // rows per packing item of A (a multiple of mr)
    std::size_t pack_cols;    // columns per packing item of B (a multiple of nr)
    std::size_t a_chunks;     // packing items of A per slice
    std::size_t b_chunks;     // packing items of B per slice
    std::size_t tile_rows;    // a multiple of mr
    std::size_t tile_cols;    // a multiple of nr
    std::size_t row_tiles;
    std::size_t tiles;
    std::atomic<std::size_t> next_pack{0};
    std::atomic<std::size_t> packed{0};
    std::atomic<std::size_t> next_tile{0};
};

template <typename T>
void pack_item(SharedProduct<T>& job, std::size_t item) {
    const BlockSizes& blocks = job.kernel.blocks;
    const std::size_t per_slice = job.a_chunks + job.b_chunks;
    const std::size_t depth0 = item / per_slice * blocks.kc;
    const std::size_t kc = std::min(blocks.kc, job.a.cols - depth0);
    const std::size_t chunk = item % per_slice;
    if (chunk < job.a_chunks) {
        const std::size_t row0 = chunk * job.pack_rows;
        pack_a(job.a, row0, depth0, std::min(job.pack_rows, job.a.rows - row0), kc, blocks.mr,
               job.packed_a + depth0 * job.padded_rows + row0 * kc);
    } else {
        const std::size_t col0 = (chunk - job.a_chunks) * job.pack_cols;
        pack_b(job.b, depth0, col0, kc, std::min(job.pack_cols, job.b.cols - col0), blocks.nr,
               job.packed_b + depth0 * job.padded_cols + col0 * kc);
    }
}

// What one thread does: take packing items until none is left, wait for the others' items to
// be finished, then take tiles of c until none is left.
template <typename T>
void share_product(SharedProduct<T>& job) {
    const BlockSizes& blocks = job.kernel.blocks;
    const std::size_t k = job.a.cols;
    const std::size_t pack_items = job.slices * (job.a_chunks + job.b_chunks);
    for (;;) {
        const std::size_t item = job.next_pack.fetch_add(1, std::memory_order_relaxed);
        if (item >= pack_items) break;
        try {
            pack_item(job, item);
        } catch (...) {
            // Counted all the same, so that no thread waits for it; the caller rethrows.
            job.packed.fetch_add(1, std::memory_order_release);
            throw;
        }
        job.packed.fetch_add(1, std::memory_order_release);
    }
    while (job.packed.load(std::memory_order_acquire) < pack_items) std::this_thread::yield();

    for (;;) {
        const std::size_t tile = job.next_tile.fetch_add(1, std::memory_order_relaxed);
        if (tile >= job.tiles) break;
        const std::size_t row0 = tile % job.row_tiles * job.tile_rows;
        const std::size_t col0 = tile / job.row_tiles * job.tile_cols;
        const std::size_t mc = std::min(job.tile_rows, job.a.rows - row0);
        const std::size_t nc = std::min(job.tile_cols, job.b.cols - col0);
        for (std::size_t depth0 = 0; depth0 < k; depth0 += blocks.kc) {
            const std::size_t kc = std::min(blocks.kc, k - depth0);
            const bool first_slice = depth0 == 0;
            const bool load_c = job.accumulate || !first_slice;
            const T* slice_bias = first_slice && job.bias != nullptr ? job.bias + col0 : nullptr;
            const T* slice_a = job.packed_a + depth0 * job.padded_rows + row0 * kc;
            const T* slice_b = job.packed_b + depth0 * job.padded_cols + col0 * kc;
            for (std::size_t j = 0; j < nc; j += blocks.nr) {
                const T* tile_bias = slice_bias != nullptr ? slice_bias + j : nullptr;
                for (std::size_t i = 0; i < mc; i += blocks.mr) {
                    job.kernel.compute_tile(kc, slice_a + i * kc, slice_b + j * kc,
                                            job.c + (row0 + i) * job.ldc + col0 + j, job.ldc,
                                            std::min(blocks.mr, mc - i),
                                            std::min(blocks.nr, nc - j), load_c, tile_bias);
                }
            }
        }
    }
}

// The whole side `extent` cut into about `wanted` pieces of whole units (mr or nr), each at
// least `smallest` and at most `largest` long (both multiples of unit).
std::size_t piece_size(std::size_t extent, std::size_t wanted, std::size_t unit,
                       std::size_t smallest, std::size_t largest) {
    const std::size_t piece = round_up((extent + wanted - 1) / wanted, unit);
    return std::clamp(piece, smallest, largest);
}

template <typename T>
void gemm_shared_rows(const Kernel<T>& kernel, std::size_t team, const MatrixView<T>& a,
                      const MatrixView<T>& b, T* c, std::size_t ldc, bool accumulate,
                      const T* bias, std::size_t block_cols);

// The blocked product on up to `threads` threads, scheduled dynamically (see SharedProduct).
template <typename T>
void gemm_blocked_parallel(const Kernel<T>& kernel, int threads, const MatrixView<T>& a,
                           const MatrixView<T>& b, T* c, std::size_t ldc, bool accumulate,
                           const T* bias) {
    const BlockSizes& blocks = kernel.blocks;
    const std::size_t m = a.rows;
    const std::size_t n = b.cols;
    const std::size_t k = a.cols;
    const std::size_t work = m * n * k;
    const std::size_t worth = std::max<std::size_t>(1, work / work_per_thread_minimum);
    const std::size_t team = std::min(static_cast<std::size_t>(std::max(threads, 1)), worth);
    if (team <= 1) {
        gemm_blocked(kernel, a, b, c, ldc, accumulate, bias);
        return;
    }
    // A is packed whole per block of rows, B per block of columns; blocks bound both buffers.
    const std::size_t block_rows =
        std::max(blocks.mr, packed_limit / sizeof(T) / k / blocks.mr * blocks.mr);
    const std::size_t block_cols =
        std::max(blocks.nr, packed_limit / sizeof(T) / k / blocks.nr * blocks.nr);
    for (std::size_t top = 0; top < m; top += block_rows) {
        const MatrixView<T> a_block{&a(top, 0), std::min(block_rows, m - top), k, a.row_stride,
                                    a.col_stride};
        gemm_shared_rows(kernel, team, a_block, b, c + top * ldc, ldc, accumulate, bias,
                         block_cols);
    }
}

// The rows of a (few enough to pack whole) times b, in blocks of block_cols columns of b.
template <typename T>
void gemm_shared_rows(const Kernel<T>& kernel, std::size_t team, const MatrixView<T>& a,
                      const MatrixView<T>& b, T* c, std::size_t ldc, bool accumulate,
                      const T* bias, std::size_t block_cols) {
    const BlockSizes& blocks = kernel.blocks;
    const std::size_t m = a.rows;
    const std::size_t n = b.cols;
    const std::size_t k = a.cols;
    const std::size_t padded_rows = round_up(m, blocks.mr);
    // Several tiles per thread, so a thread slowed by another program takes fewer of them.
    const std::size_t wanted_tiles = 4 * team;
    // A tile's kc x tile_cols slice of packed B stays in L2 while the tile's rows sweep it.
    const std::size_t widest_tile =
        std::max(blocks.nr,
                 std::min(blocks.nc, tile_b_bytes / sizeof(T) / blocks.kc / blocks.nr * blocks.nr));
    T* packed_a = packed_a_buffer.reserve<T>(padded_rows * k);
    for (std::size_t first = 0; first < n; first += block_cols) {
        const std::size_t cols = std::min(block_cols, n - first);
        const MatrixView<T> b_block{&b(0, first), k, cols, b.row_stride, b.col_stride};
        const std::size_t padded_cols = round_up(cols, blocks.nr);
        // Rows first, down to one micro-panel; then columns, down to a few micro-panels.
        const std::size_t tile_rows = piece_size(m, wanted_tiles, blocks.mr, blocks.mr, blocks.mc);
        const std::size_t row_tiles = (m + tile_rows - 1) / tile_rows;
        const std::size_t tile_cols =
            piece_size(cols, (wanted_tiles + row_tiles - 1) / row_tiles, blocks.nr,
                       std::min({padded_cols, round_up(min_tile_cols, blocks.nr), widest_tile}),
                       widest_tile);
        const std::size_t col_tiles = (cols + tile_cols - 1) / tile_cols;
        const std::size_t pack_rows =
            piece_size(m, 2 * team, blocks.mr, blocks.mr, std::max(padded_rows, blocks.mr));
        const std::size_t pack_cols =
            piece_size(cols, 2 * team, blocks.nr, blocks.nr, std::max(padded_cols, blocks.nr));
        // A is packed with the first block of columns and kept for the others.
        const bool pack_a_now = first == 0;
        SharedProduct<T> job{kernel,
                             a,
                             b_block,
                             c + first,
                             ldc,
                             accumulate,
                             bias != nullptr ? bias + first : nullptr,
                             packed_a,
                             packed_b_buffer.reserve<T>(k * padded_cols),
                             padded_rows,
                             padded_cols,
                             (k + blocks.kc - 1) / blocks.kc,
                             pack_rows,
                             pack_cols,
                             pack_a_now ? (m + pack_rows - 1) / pack_rows : 0,
                             (cols + pack_cols - 1) / pack_cols,
                             tile_rows,
                             tile_cols,
                             row_tiles,
                             row_tiles * col_tiles};
        const auto helpers = static_cast<int>(std::min(team, job.tiles) - 1);
        share_work(helpers, [&job] { share_product(job); });
    }
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
