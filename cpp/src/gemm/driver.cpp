// The GEMM driver: argument checks, the choice between the direct path (tiny products) and the
// blocked path (BLIS loop nest over packed blocks, with blocks from the CPU's caches), the
// dynamic sharing of packing and tiles among threads, and the run-time choice of micro-kernel.
#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstddef>
#include <functional>
#include <limits>
#include <memory>
#include <new>
#include <stdexcept>
#include <string>
#include <thread>

#include "check.hpp"
#include "gemm/cache_sizes.hpp"
#include "gemm/interrupt_poll.hpp"
#include "gemm_internal.hpp"
#include "miniflow/gemm.hpp"
#include "miniflow/threads.hpp"

namespace miniflow {

namespace detail {

namespace {

// Products up to this many multiply-adds skip packing, which costs more than it saves there
// (measured: the crossover is near 32^3 when b's rows are contiguous, near 16^3 when not).
constexpr std::size_t direct_limit_contiguous_b = std::size_t{32} * 32 * 32;
constexpr std::size_t direct_limit_strided_b = std::size_t{16} * 16 * 16;
// A product with this few rows or columns of c is bound by reading the operands once, which
// the direct path does; packing would read and write them first.
constexpr std::size_t direct_thin_limit = 4;
// Products below this many multiply-adds per thread are not worth waking a worker.
constexpr std::size_t work_per_thread_minimum = std::size_t{96} * 96 * 96;
// A is packed whole per block of its rows, and B per block of its columns: at most this many
// bytes each (a 2048 x 2048 double matrix and its padding fit).
constexpr std::size_t packed_limit = std::size_t{48} << 20;
// Several tiles of c per thread, so that a thread slowed by another program takes fewer of them
// and the last tiles, shared out one by one, leave no thread waiting long.
constexpr std::size_t tiles_per_thread = 6;
// Column tiles are no narrower than this (each reads its rows of packed A once per slice).
constexpr std::size_t min_tile_cols = 128;

// A micro-kernel with the cache blocks this CPU's caches give it.
template <typename T>
struct BlockedKernel {
    Kernel<T> kernel;
    BlockSizes blocks;
};

template <typename T>
BlockedKernel<T> with_blocks(const Kernel<T>& kernel) {
    return {kernel, block_sizes_for(detected_cache_sizes(), kernel.mr, kernel.nr, sizeof(T))};
}

template <typename T>
const BlockedKernel<T>& blocked_kernel_for(Isa isa) {
    // Building a kernel only takes its function pointers, so every ISA's is built up front.
    static const BlockedKernel<T> generic = with_blocks(kernel_for<T>(Isa::generic));
    static const BlockedKernel<T> avx2 = with_blocks(kernel_for<T>(Isa::avx2_fma));
    static const BlockedKernel<T> avx512 = with_blocks(kernel_for<T>(Isa::avx512));
    static const BlockedKernel<T> neon = with_blocks(kernel_for<T>(Isa::neon));
    switch (isa) {
        case Isa::avx512:
            return avx512;
        case Isa::avx2_fma:
            return avx2;
        case Isa::neon:
            return neon;
        case Isa::generic:
            break;
    }
    return generic;
}

// A growable 64-byte-aligned scratch area; one per thread and operand, kept between calls.
// Over-allocated and aligned by hand: a thread_local whose destructor calls the aligned
// operator delete crashes MinGW-w64's runtime when its thread exits.
class PackingBuffer {
public:
    template <typename T>
    T* reserve(std::size_t count) {
        const std::size_t bytes = count * sizeof(T);
        if (bytes > capacity_) {
            memory_.reset(new std::byte[bytes + alignment - 1]);  // uninitialised: packing fills it
            capacity_ = bytes;
        }
        void* start = memory_.get();
        std::size_t space = capacity_ + alignment - 1;
        return static_cast<T*>(std::align(alignment, capacity_, start, space));
    }

private:
    static constexpr std::size_t alignment = 64;
    std::unique_ptr<std::byte[]> memory_;
    std::size_t capacity_ = 0;
};

thread_local PackingBuffer packed_a_buffer;
thread_local PackingBuffer packed_b_buffer;

std::size_t round_up(std::size_t value, std::size_t multiple) {
    return (value + multiple - 1) / multiple * multiple;
}

// The whole side `extent` cut into about `wanted` pieces of whole units (mr or nr), each at
// least `smallest` and at most `largest` long (both multiples of unit).
std::size_t piece_size(std::size_t extent, std::size_t wanted, std::size_t unit,
                       std::size_t smallest, std::size_t largest) {
    const std::size_t piece = round_up((extent + wanted - 1) / wanted, unit);
    return std::clamp(piece, smallest, largest);
}

// A piece of about `target` (a multiple of unit, at most `largest`) such that the pieces that
// cover `extent` are as even as whole units allow.
std::size_t even_piece(std::size_t extent, std::size_t target, std::size_t unit,
                       std::size_t largest) {
    const std::size_t most = std::clamp(round_up(target, unit), unit, largest);
    const std::size_t pieces = (extent + most - 1) / most;
    return round_up((extent + pieces - 1) / pieces, unit);
}

// The tile sweep, the one place the micro-kernel runs: a rows x cols block of c over one kc
// slice, from the slice's packed A (micro-panels of mr rows) and packed B (of nr columns). Each
// B micro-panel stays in L1 while the A micro-panels stream past it from L2.
template <typename T>
void sweep_tiles(const Kernel<T>& kernel, std::size_t kc, const T* packed_a, const T* packed_b,
                 T* c, std::size_t ldc, std::size_t rows, std::size_t cols, bool load_c,
                 const T* bias) {
    for (std::size_t j = 0; j < cols; j += kernel.nr) {
        const T* b_panel = packed_b + j * kc;
        const T* tile_bias = bias != nullptr ? bias + j : nullptr;
        for (std::size_t i = 0; i < rows; i += kernel.mr) {
            kernel.compute_tile(kc, packed_a + i * kc, b_panel, c + i * ldc + j, ldc,
                                std::min(kernel.mr, rows - i), std::min(kernel.nr, cols - j),
                                load_c, tile_bias);
        }
    }
}

// One product of a block of A's rows by a block of B's columns, shared by the threads that
// compute it (one thread alone runs the same code). A and B are packed whole (every kc slice)
// into buffers that all threads read, the packing cut into items that the threads take from a
// counter, slice by slice; then c is cut into tiles of whole micro-tiles that the threads take
// from another counter. A thread that runs out of packing items starts on a tile at once: it
// waits only for the slice it needs, so no thread idles while the last items are packed. Each
// tile is computed by one thread with the serial order (slices in order, one micro-kernel): an
// element of c goes through the same operations whatever the tiling and whichever thread takes
// its tile, so the result is bitwise identical for any thread count.
template <typename T>
struct SharedProduct {
    const BlockedKernel<T>& blocked;
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
    std::size_t pack_rows;  // rows per packing item of A (a multiple of mr)
    std::size_t pack_cols;  // columns per packing item of B (a multiple of nr)
    std::size_t a_chunks;   // packing items of A per slice (0 when A is already packed)
    std::size_t b_chunks;   // packing items of B per slice
    std::size_t tile_rows;  // a multiple of mr
    std::size_t tile_cols;  // a multiple of nr
    std::size_t row_tiles;
    std::size_t tiles;
    std::unique_ptr<std::atomic<std::size_t>[]> items_packed;  // finished items, per slice
    std::atomic<std::size_t> next_pack{0};
    std::atomic<std::size_t> next_tile{0};
    // Set when a thread fails or the caller is interrupted: the others stop at their next step.
    std::atomic<bool> abandoned{false};
};

template <typename T>
void pack_item(SharedProduct<T>& job, std::size_t item) {
    const BlockSizes& blocks = job.blocked.blocks;
    const std::size_t per_slice = job.a_chunks + job.b_chunks;
    const std::size_t slice = item / per_slice;
    const std::size_t depth0 = slice * blocks.kc;
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
    job.items_packed[slice].fetch_add(1, std::memory_order_release);
}

// Waits until every packing item of `slice` is finished; false when the job was abandoned.
template <typename T>
bool slice_ready(const SharedProduct<T>& job, std::size_t slice) {
    const std::size_t per_slice = job.a_chunks + job.b_chunks;
    while (job.items_packed[slice].load(std::memory_order_acquire) < per_slice) {
        if (job.abandoned.load(std::memory_order_relaxed)) return false;
        std::this_thread::yield();
    }
    return true;
}

// What one thread does: take packing items until none is left, then take tiles of c until none
// is left.
template <typename T>
void take_items_and_tiles(SharedProduct<T>& job, InterruptPoll& poll) {
    const BlockSizes& blocks = job.blocked.blocks;
    const std::size_t k = job.a.cols;
    const std::size_t pack_items = job.slices * (job.a_chunks + job.b_chunks);
    for (;;) {
        if (job.abandoned.load(std::memory_order_relaxed)) return;
        poll();
        const std::size_t item = job.next_pack.fetch_add(1, std::memory_order_relaxed);
        if (item >= pack_items) break;
        pack_item(job, item);
    }
    for (;;) {
        const std::size_t tile = job.next_tile.fetch_add(1, std::memory_order_relaxed);
        if (tile >= job.tiles) return;
        const std::size_t row0 = tile % job.row_tiles * job.tile_rows;
        const std::size_t col0 = tile / job.row_tiles * job.tile_cols;
        const std::size_t rows = std::min(job.tile_rows, job.a.rows - row0);
        const std::size_t cols = std::min(job.tile_cols, job.b.cols - col0);
        for (std::size_t slice = 0; slice < job.slices; ++slice) {
            if (!slice_ready(job, slice)) return;
            poll();
            const std::size_t depth0 = slice * blocks.kc;
            const std::size_t kc = std::min(blocks.kc, k - depth0);
            // The first slice writes c (with the bias); later slices add to it.
            const bool first_slice = slice == 0;
            const T* slice_bias = first_slice && job.bias != nullptr ? job.bias + col0 : nullptr;
            sweep_tiles(job.blocked.kernel, kc, job.packed_a + depth0 * job.padded_rows + row0 * kc,
                        job.packed_b + depth0 * job.padded_cols + col0 * kc,
                        job.c + row0 * job.ldc + col0, job.ldc, rows, cols,
                        job.accumulate || !first_slice, slice_bias);
        }
    }
}

template <typename T>
void share_product(SharedProduct<T>& job) {
    InterruptPoll poll;
    try {
        take_items_and_tiles(job, poll);
    } catch (...) {
        job.abandoned.store(true, std::memory_order_relaxed);
        throw;
    }
}

// The rows of a (few enough to pack whole) times b, in blocks of block_cols columns of b, on up
// to `team` threads.
template <typename T>
void gemm_rows(const BlockedKernel<T>& blocked, std::size_t team, const MatrixView<T>& a,
               const MatrixView<T>& b, T* c, std::size_t ldc, bool accumulate, const T* bias,
               std::size_t block_cols) {
    const BlockSizes& blocks = blocked.blocks;
    const std::size_t m = a.rows;
    const std::size_t n = b.cols;
    const std::size_t k = a.cols;
    const std::size_t slices = (k + blocks.kc - 1) / blocks.kc;
    const std::size_t padded_rows = round_up(m, blocks.mr);
    // One thread takes the largest tiles; a team, several per thread.
    const std::size_t wanted_tiles = team == 1 ? 1 : tiles_per_thread * team;
    T* packed_a = packed_a_buffer.reserve<T>(padded_rows * k);
    for (std::size_t first = 0; first < n; first += block_cols) {
        const std::size_t cols = std::min(block_cols, n - first);
        const MatrixView<T> b_block{&b(0, first), k, cols, b.row_stride, b.col_stride};
        const std::size_t padded_cols = round_up(cols, blocks.nr);
        // Tiles near square (the least of A and B read per multiply-add), rows of up to mc cut
        // evenly; then columns, up to nc, to make up the number wanted.
        const auto side =
            static_cast<std::size_t>(std::sqrt(static_cast<double>(m) * static_cast<double>(cols) /
                                               static_cast<double>(wanted_tiles)));
        const std::size_t tile_rows = even_piece(m, side, blocks.mr, blocks.mc);
        const std::size_t row_tiles = (m + tile_rows - 1) / tile_rows;
        // A whole number of tiles per thread, so that the last round leaves no thread idle.
        std::size_t col_pieces = (wanted_tiles + row_tiles - 1) / row_tiles;
        while (row_tiles * col_pieces % team != 0) ++col_pieces;
        const std::size_t tile_cols =
            piece_size(cols, col_pieces, blocks.nr,
                       std::min(padded_cols, round_up(min_tile_cols, blocks.nr)), blocks.nc);
        const std::size_t col_tiles = (cols + tile_cols - 1) / tile_cols;
        const std::size_t pack_rows = piece_size(m, 2 * team, blocks.mr, blocks.mr, padded_rows);
        const std::size_t pack_cols = piece_size(cols, 2 * team, blocks.nr, blocks.nr, padded_cols);
        // A is packed with the first block of columns and kept for the others.
        const bool pack_a_now = first == 0;
        SharedProduct<T> job{blocked,
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
                             slices,
                             pack_rows,
                             pack_cols,
                             pack_a_now ? (m + pack_rows - 1) / pack_rows : 0,
                             (cols + pack_cols - 1) / pack_cols,
                             tile_rows,
                             tile_cols,
                             row_tiles,
                             row_tiles * col_tiles,
                             std::make_unique<std::atomic<std::size_t>[]>(slices)};
        const auto helpers = static_cast<int>(std::min(team, job.tiles) - 1);
        share_work(helpers, [&job] { share_product(job); });
    }
}

// The blocked product on up to `threads` threads (see SharedProduct), in blocks of A's rows and
// B's columns that bound the packed buffers.
template <typename T>
void gemm_blocked(const BlockedKernel<T>& blocked, int threads, const MatrixView<T>& a,
                  const MatrixView<T>& b, T* c, std::size_t ldc, bool accumulate, const T* bias) {
    const BlockSizes& blocks = blocked.blocks;
    const std::size_t m = a.rows;
    const std::size_t k = a.cols;
    const std::size_t worth = std::max<std::size_t>(1, m * b.cols * k / work_per_thread_minimum);
    const std::size_t team = std::min(static_cast<std::size_t>(std::max(threads, 1)), worth);
    const std::size_t block_rows =
        std::max(blocks.mr, packed_limit / sizeof(T) / k / blocks.mr * blocks.mr);
    const std::size_t block_cols =
        std::max(blocks.nr, packed_limit / sizeof(T) / k / blocks.nr * blocks.nr);
    for (std::size_t top = 0; top < m; top += block_rows) {
        const MatrixView<T> a_block{&a(top, 0), std::min(block_rows, m - top), k, a.row_stride,
                                    a.col_stride};
        gemm_rows(blocked, team, a_block, b, c + top * ldc, ldc, accumulate, bias, block_cols);
    }
}

}  // namespace

template <typename T>
BlockSizes block_sizes(Isa isa) {
    return blocked_kernel_for<T>(isa).blocks;
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
        blocked_kernel_for<T>(isa).kernel.direct_product(a, b, c, ldc, accumulate, bias);
        return;
    }
    gemm_blocked(blocked_kernel_for<T>(isa), threads, a, b, c, ldc, accumulate, bias);
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
          const non_deduced_t<T>* bias) {
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
