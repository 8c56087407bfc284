// The blocked path's cuts: A's rows and B's columns into the parts packed at once (bounded by
// packed_limit), c into blocks for the threads, the packing into panels.
#include "gemm/blocking.hpp"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstddef>
#include <memory>

#include "gemm/packing_buffer.hpp"
#include "gemm/shared_product.hpp"

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
