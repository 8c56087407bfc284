// The blocked path: A's rows and B's columns cut into the parts packed at once (bounded by
// packed_limit), and each part shared by the threads, which pack its panels and compute its blocks
// of c (SharedProduct).
#include "gemm/blocking.hpp"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstddef>
#include <memory>
#include <thread>

#include "gemm/interrupt_poll.hpp"
#include "gemm/packing_buffer.hpp"

namespace miniflow::detail {

namespace {

// Products below this many multiply-adds per thread are not worth waking a worker.
constexpr std::size_t work_per_thread_minimum = std::size_t{96} * 96 * 96;
// A is packed whole for a part of its rows at once, and B for a part of its columns: at most
// this many bytes each (a 2048 x 2048 double matrix and its padding fit).
constexpr std::size_t packed_limit = std::size_t{48} << 20;
// Several blocks of c per thread, so that a thread slowed by another program takes fewer of them
// and the last blocks, shared out one by one, leave no thread waiting long.
constexpr std::size_t c_blocks_per_thread = 6;
// Blocks of c are no narrower than this (each reads its rows of packed A once per kc block).
constexpr std::size_t min_c_block_cols = 128;

// ---- the work sharing of one part ---------------------------------------------------------

// One product of a part of A's rows by a part of B's columns, shared by the threads that
// compute it (one thread alone runs the same code). A and B are packed whole (every kc block)
// into buffers that all threads read, the packing cut into panels that the threads take from a
// counter, kc block by kc block; then c is cut into blocks of whole micro-tiles that the threads
// take from another counter. A thread that runs out of panels to pack starts on a block of c at
// once: it waits only for the kc block it needs, so no thread idles while the last panels are
// packed. Each block of c is computed by one thread with the serial order (kc blocks in order,
// one micro-kernel): an element of c goes through the same operations whatever the blocking and
// whichever thread takes its block, so the result is bitwise identical for any thread count.
template <typename T>
struct SharedProduct {
    SharedProduct(const TunedKernels<T>& kernels, const MatrixView<T>& a_part,
                  const MatrixView<T>& b_part)
        : tuned(kernels), a(a_part), b(b_part) {}

    const TunedKernels<T>& tuned;
    const MatrixView<T>& a;
    const MatrixView<T>& b;
    T* c = nullptr;
    std::size_t ldc = 0;
    bool accumulate = false;
    const T* bias = nullptr;
    // kc block after kc block (depth0 * padded_rows or padded_cols values in), each as pack_a or
    // pack_b lays out a block.
    T* packed_a = nullptr;
    T* packed_b = nullptr;
    std::size_t padded_rows = 0;
    std::size_t padded_cols = 0;
    std::size_t kc_blocks = 0;
    std::size_t panel_rows = 0;    // rows per panel of A (a multiple of mr)
    std::size_t panel_cols = 0;    // columns per panel of B (a multiple of nr)
    std::size_t a_panels = 0;      // panels of A per kc block (0 when A is already packed)
    std::size_t b_panels = 0;      // panels of B per kc block
    std::size_t c_block_rows = 0;  // a multiple of mr
    std::size_t c_block_cols = 0;  // a multiple of nr
    std::size_t c_row_blocks = 0;
    std::size_t c_blocks = 0;
    std::unique_ptr<std::atomic<std::size_t>[]> panels_packed;  // finished panels, per kc block
    std::atomic<std::size_t> next_panel{0};
    std::atomic<std::size_t> next_c_block{0};
    // Set when a thread fails or the caller is interrupted: the others stop at their next step.
    std::atomic<bool> abandoned{false};
};

// The micro-tile sweep, the one place the micro-kernel runs: a rows x cols block of c over one kc
// block, from its packed A (micro-panels of mr rows) and packed B (of nr columns). Each
// B micro-panel stays in L1 while the A micro-panels stream past it from L2.
template <typename T>
void sweep_micro_tiles(const GemmKernels<T>& kernels, std::size_t kc, const T* packed_a,
                       const T* packed_b, T* c, std::size_t ldc, std::size_t rows, std::size_t cols,
                       bool load_c, const T* bias) {
    for (std::size_t j = 0; j < cols; j += kernels.nr) {
        const T* b_panel = packed_b + j * kc;
        const T* micro_tile_bias = bias != nullptr ? bias + j : nullptr;
        for (std::size_t i = 0; i < rows; i += kernels.mr) {
            kernels.micro_kernel(kc, packed_a + i * kc, b_panel, c + i * ldc + j, ldc,
                                 std::min(kernels.mr, rows - i), std::min(kernels.nr, cols - j),
                                 load_c, micro_tile_bias);
        }
    }
}

template <typename T>
void pack_panel(SharedProduct<T>& job, std::size_t item) {
    const BlockSizes& blocks = job.tuned.blocks;
    const std::size_t per_kc_block = job.a_panels + job.b_panels;
    const std::size_t kc_block = item / per_kc_block;
    const std::size_t depth0 = kc_block * blocks.kc;
    const std::size_t kc = std::min(blocks.kc, job.a.cols - depth0);
    const std::size_t chunk = item % per_kc_block;
    if (chunk < job.a_panels) {
        const std::size_t row0 = chunk * job.panel_rows;
        pack_a(job.a, row0, depth0, std::min(job.panel_rows, job.a.rows - row0), kc, blocks.mr,
               job.packed_a + depth0 * job.padded_rows + row0 * kc);
    } else {
        const std::size_t col0 = (chunk - job.a_panels) * job.panel_cols;
        pack_b(job.b, depth0, col0, kc, std::min(job.panel_cols, job.b.cols - col0), blocks.nr,
               job.packed_b + depth0 * job.padded_cols + col0 * kc);
    }
    job.panels_packed[kc_block].fetch_add(1, std::memory_order_release);
}

// Waits until every panel of `kc_block` is packed; false when the job was abandoned.
template <typename T>
bool kc_block_ready(const SharedProduct<T>& job, std::size_t kc_block) {
    const std::size_t per_kc_block = job.a_panels + job.b_panels;
    while (job.panels_packed[kc_block].load(std::memory_order_acquire) < per_kc_block) {
        if (job.abandoned.load(std::memory_order_relaxed)) return false;
        std::this_thread::yield();
    }
    return true;
}

// What one thread does: take panels to pack until none is left, then take blocks of c until none
// is left.
template <typename T>
void take_panels_and_blocks(SharedProduct<T>& job, InterruptPoll& poll) {
    const BlockSizes& blocks = job.tuned.blocks;
    const std::size_t k = job.a.cols;
    const std::size_t panel_count = job.kc_blocks * (job.a_panels + job.b_panels);
    for (;;) {
        if (job.abandoned.load(std::memory_order_relaxed)) return;
        poll();
        const std::size_t item = job.next_panel.fetch_add(1, std::memory_order_relaxed);
        if (item >= panel_count) break;
        pack_panel(job, item);
    }
    for (;;) {
        const std::size_t tile = job.next_c_block.fetch_add(1, std::memory_order_relaxed);
        if (tile >= job.c_blocks) return;
        const std::size_t row0 = tile % job.c_row_blocks * job.c_block_rows;
        const std::size_t col0 = tile / job.c_row_blocks * job.c_block_cols;
        const std::size_t rows = std::min(job.c_block_rows, job.a.rows - row0);
        const std::size_t cols = std::min(job.c_block_cols, job.b.cols - col0);
        for (std::size_t kc_block = 0; kc_block < job.kc_blocks; ++kc_block) {
            if (!kc_block_ready(job, kc_block)) return;
            poll();
            const std::size_t depth0 = kc_block * blocks.kc;
            const std::size_t kc = std::min(blocks.kc, k - depth0);
            // The first kc block writes c (with the bias); later kc blocks add to it.
            const bool first_kc_block = kc_block == 0;
            const T* block_bias = first_kc_block && job.bias != nullptr ? job.bias + col0 : nullptr;
            sweep_micro_tiles(
                job.tuned.kernels, kc, job.packed_a + depth0 * job.padded_rows + row0 * kc,
                job.packed_b + depth0 * job.padded_cols + col0 * kc, job.c + row0 * job.ldc + col0,
                job.ldc, rows, cols, job.accumulate || !first_kc_block, block_bias);
        }
    }
}

// What each thread of the product runs (share_work's work): panels to pack, then blocks of c,
// until none is left. The calling thread polls its interrupt check; a failure on any thread, or
// an interrupt, abandons the job for all, and the exception propagates.
template <typename T>
void share_product(SharedProduct<T>& job) {
    InterruptPoll poll;
    try {
        take_panels_and_blocks(job, poll);
    } catch (...) {
        job.abandoned.store(true, std::memory_order_relaxed);
        throw;
    }
}

// ---- the cuts -----------------------------------------------------------------------------

std::size_t round_up(std::size_t value, std::size_t multiple) {
    return (value + multiple - 1) / multiple * multiple;
}

// The length of each of about `wanted` parts of whole units (mr or nr) that cover `extent`, at
// least `smallest` and at most `largest` (both multiples of unit).
std::size_t length_for_count(std::size_t extent, std::size_t wanted, std::size_t unit,
                             std::size_t smallest, std::size_t largest) {
    const std::size_t piece = round_up((extent + wanted - 1) / wanted, unit);
    return std::clamp(piece, smallest, largest);
}

// A length near `target` (a multiple of unit, at most `largest`) such that the parts of that
// length that cover `extent` are as even as whole units allow.
std::size_t even_length_near(std::size_t extent, std::size_t target, std::size_t unit,
                             std::size_t largest) {
    const std::size_t most = std::clamp(round_up(target, unit), unit, largest);
    const std::size_t pieces = (extent + most - 1) / most;
    return round_up((extent + pieces - 1) / pieces, unit);
}

// The rows of a (few enough to pack whole) times b, in parts of cols_packed_at_once columns of b,
// on up to `team` threads.
template <typename T>
void gemm_rows(const TunedKernels<T>& tuned, std::size_t team, const MatrixView<T>& a,
               const MatrixView<T>& b, T* c, std::size_t ldc, bool accumulate, const T* bias,
               std::size_t cols_packed_at_once) {
    const BlockSizes& blocks = tuned.blocks;
    const std::size_t m = a.rows;
    const std::size_t n = b.cols;
    const std::size_t k = a.cols;
    const std::size_t kc_blocks = (k + blocks.kc - 1) / blocks.kc;
    const std::size_t padded_rows = round_up(m, blocks.mr);
    // One thread takes the largest blocks; a team, several per thread.
    const std::size_t wanted_c_blocks = team == 1 ? 1 : c_blocks_per_thread * team;
    T* packed_a = packed_a_buffer().reserve<T>(padded_rows * k);
    for (std::size_t first = 0; first < n; first += cols_packed_at_once) {
        const std::size_t cols = std::min(cols_packed_at_once, n - first);
        const MatrixView<T> b_part{&b(0, first), k, cols, b.row_stride, b.col_stride};
        const std::size_t padded_cols = round_up(cols, blocks.nr);
        // Blocks of c near square (the least of A and B read per multiply-add), rows of up to mc
        // cut evenly; then columns, up to nc, to make up the number wanted.
        const auto side =
            static_cast<std::size_t>(std::sqrt(static_cast<double>(m) * static_cast<double>(cols) /
                                               static_cast<double>(wanted_c_blocks)));
        const std::size_t c_block_rows = even_length_near(m, side, blocks.mr, blocks.mc);
        const std::size_t c_row_blocks = (m + c_block_rows - 1) / c_block_rows;
        // A whole number of blocks per thread, so that the last round leaves no thread idle.
        std::size_t col_blocks_wanted = (wanted_c_blocks + c_row_blocks - 1) / c_row_blocks;
        while (c_row_blocks * col_blocks_wanted % team != 0) ++col_blocks_wanted;
        const std::size_t c_block_cols = length_for_count(
            cols, col_blocks_wanted, blocks.nr,
            std::min(padded_cols, round_up(min_c_block_cols, blocks.nr)), blocks.nc);
        const std::size_t c_col_blocks = (cols + c_block_cols - 1) / c_block_cols;
        const std::size_t panel_rows =
            length_for_count(m, 2 * team, blocks.mr, blocks.mr, padded_rows);
        const std::size_t panel_cols =
            length_for_count(cols, 2 * team, blocks.nr, blocks.nr, padded_cols);
        // A is packed with the first part of the columns and kept for the others.
        const bool pack_a_now = first == 0;
        SharedProduct<T> job(tuned, a, b_part);
        job.c = c + first;
        job.ldc = ldc;
        job.accumulate = accumulate;
        job.bias = bias != nullptr ? bias + first : nullptr;
        job.packed_a = packed_a;
        job.packed_b = packed_b_buffer().reserve<T>(k * padded_cols);
        job.padded_rows = padded_rows;
        job.padded_cols = padded_cols;
        job.kc_blocks = kc_blocks;
        job.panel_rows = panel_rows;
        job.panel_cols = panel_cols;
        job.a_panels = pack_a_now ? (m + panel_rows - 1) / panel_rows : 0;
        job.b_panels = (cols + panel_cols - 1) / panel_cols;
        job.c_block_rows = c_block_rows;
        job.c_block_cols = c_block_cols;
        job.c_row_blocks = c_row_blocks;
        job.c_blocks = c_row_blocks * c_col_blocks;
        job.panels_packed = std::make_unique<std::atomic<std::size_t>[]>(kc_blocks);
        const auto helpers = static_cast<int>(std::min(team, job.c_blocks) - 1);
        share_work(helpers, [&job] { share_product(job); });
    }
}

}  // namespace

// The blocked product on up to `threads` threads (see SharedProduct), in parts of A's rows and
// B's columns that bound the packed buffers.
template <typename T>
void gemm_blocked(const TunedKernels<T>& tuned, int threads, const MatrixView<T>& a,
                  const MatrixView<T>& b, T* c, std::size_t ldc, bool accumulate, const T* bias) {
    const BlockSizes& blocks = tuned.blocks;
    const std::size_t m = a.rows;
    const std::size_t k = a.cols;
    const std::size_t worth = std::max<std::size_t>(1, m * b.cols * k / work_per_thread_minimum);
    const std::size_t team = std::min(static_cast<std::size_t>(std::max(threads, 1)), worth);
    const std::size_t rows_packed_at_once =
        std::max(blocks.mr, packed_limit / sizeof(T) / k / blocks.mr * blocks.mr);
    const std::size_t cols_packed_at_once =
        std::max(blocks.nr, packed_limit / sizeof(T) / k / blocks.nr * blocks.nr);
    for (std::size_t top = 0; top < m; top += rows_packed_at_once) {
        const MatrixView<T> a_part{&a(top, 0), std::min(rows_packed_at_once, m - top), k,
                                   a.row_stride, a.col_stride};
        gemm_rows(tuned, team, a_part, b, c + top * ldc, ldc, accumulate, bias,
                  cols_packed_at_once);
    }
}

template void gemm_blocked<float>(const TunedKernels<float>&, int, const MatrixView<float>&,
                                  const MatrixView<float>&, float*, std::size_t, bool,
                                  const float*);
template void gemm_blocked<double>(const TunedKernels<double>&, int, const MatrixView<double>&,
                                   const MatrixView<double>&, double*, std::size_t, bool,
                                   const double*);

}  // namespace miniflow::detail
