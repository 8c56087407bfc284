// The blocked path's cuts: A's rows and B's columns into blocks that bound the packed buffers,
// c into tiles for the threads, the packing into items.
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
// A is packed whole per block of its rows, and B per block of its columns: at most this many
// bytes each (a 2048 x 2048 double matrix and its padding fit).
constexpr std::size_t packed_limit = std::size_t{48} << 20;
// Several tiles of c per thread, so that a thread slowed by another program takes fewer of them
// and the last tiles, shared out one by one, leave no thread waiting long.
constexpr std::size_t tiles_per_thread = 6;
// Column tiles are no narrower than this (each reads its rows of packed A once per slice).
constexpr std::size_t min_tile_cols = 128;

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

// The rows of a (few enough to pack whole) times b, in blocks of block_cols columns of b, on up
// to `team` threads.
template <typename T>
void gemm_rows(const TunedKernels<T>& tuned, std::size_t team, const MatrixView<T>& a,
               const MatrixView<T>& b, T* c, std::size_t ldc, bool accumulate, const T* bias,
               std::size_t block_cols) {
    const BlockSizes& blocks = tuned.blocks;
    const std::size_t m = a.rows;
    const std::size_t n = b.cols;
    const std::size_t k = a.cols;
    const std::size_t slices = (k + blocks.kc - 1) / blocks.kc;
    const std::size_t padded_rows = round_up(m, blocks.mr);
    // One thread takes the largest tiles; a team, several per thread.
    const std::size_t wanted_tiles = team == 1 ? 1 : tiles_per_thread * team;
    T* packed_a = packed_a_buffer().reserve<T>(padded_rows * k);
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
        SharedProduct<T> job(tuned, a, b_block);
        job.c = c + first;
        job.ldc = ldc;
        job.accumulate = accumulate;
        job.bias = bias != nullptr ? bias + first : nullptr;
        job.packed_a = packed_a;
        job.packed_b = packed_b_buffer().reserve<T>(k * padded_cols);
        job.padded_rows = padded_rows;
        job.padded_cols = padded_cols;
        job.slices = slices;
        job.pack_rows = pack_rows;
        job.pack_cols = pack_cols;
        job.a_chunks = pack_a_now ? (m + pack_rows - 1) / pack_rows : 0;
        job.b_chunks = (cols + pack_cols - 1) / pack_cols;
        job.tile_rows = tile_rows;
        job.tile_cols = tile_cols;
        job.row_tiles = row_tiles;
        job.tiles = row_tiles * col_tiles;
        job.items_packed = std::make_unique<std::atomic<std::size_t>[]>(slices);
        const auto helpers = static_cast<int>(std::min(team, job.tiles) - 1);
        share_work(helpers, [&job] { share_product(job); });
    }
}

}  // namespace

// The blocked product on up to `threads` threads (see SharedProduct), in blocks of A's rows and
// B's columns that bound the packed buffers.
template <typename T>
void gemm_blocked(const TunedKernels<T>& tuned, int threads, const MatrixView<T>& a,
                  const MatrixView<T>& b, T* c, std::size_t ldc, bool accumulate, const T* bias) {
    const BlockSizes& blocks = tuned.blocks;
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
        gemm_rows(tuned, team, a_block, b, c + top * ldc, ldc, accumulate, bias, block_cols);
    }
}

template void gemm_blocked<float>(const TunedKernels<float>&, int, const MatrixView<float>&,
                                  const MatrixView<float>&, float*, std::size_t, bool,
                                  const float*);
template void gemm_blocked<double>(const TunedKernels<double>&, int, const MatrixView<double>&,
                                   const MatrixView<double>&, double*, std::size_t, bool,
                                   const double*);

}  // namespace miniflow::detail
