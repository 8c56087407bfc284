// The blocked path's work sharing: the threads of one product pack A and B and compute the
// tiles of c, taking both from shared counters (see SharedProduct).
#pragma once

#include <atomic>
#include <cstddef>
#include <memory>

#include "gemm_internal.hpp"
#include "miniflow/matrix.hpp"

namespace miniflow::detail {

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
    SharedProduct(const TunedKernels<T>& kernels, const MatrixView<T>& a_block,
                  const MatrixView<T>& b_block)
        : tuned(kernels), a(a_block), b(b_block) {}

    const TunedKernels<T>& tuned;
    const MatrixView<T>& a;
    const MatrixView<T>& b;
    T* c = nullptr;
    std::size_t ldc = 0;
    bool accumulate = false;
    const T* bias = nullptr;
    // Slice after slice (depth0 * padded_rows or padded_cols values in), each as pack_a or
    // pack_b lays out a block.
    T* packed_a = nullptr;
    T* packed_b = nullptr;
    std::size_t padded_rows = 0;
    std::size_t padded_cols = 0;
    std::size_t slices = 0;
    std::size_t pack_rows = 0;  // rows per packing item of A (a multiple of mr)
    std::size_t pack_cols = 0;  // columns per packing item of B (a multiple of nr)
    std::size_t a_chunks = 0;   // packing items of A per slice (0 when A is already packed)
    std::size_t b_chunks = 0;   // packing items of B per slice
    std::size_t tile_rows = 0;  // a multiple of mr
    std::size_t tile_cols = 0;  // a multiple of nr
    std::size_t row_tiles = 0;
    std::size_t tiles = 0;
    std::unique_ptr<std::atomic<std::size_t>[]> items_packed;  // finished items, per slice
    std::atomic<std::size_t> next_pack{0};
    std::atomic<std::size_t> next_tile{0};
    // Set when a thread fails or the caller is interrupted: the others stop at their next step.
    std::atomic<bool> abandoned{false};
};

// What each thread of the product runs (share_work's work): packing items, then tiles, until
// none is left. The calling thread polls its interrupt check; a failure on any thread, or an
// interrupt, abandons the job for all, and the exception propagates.
template <typename T>
void share_product(SharedProduct<T>& job);

}  // namespace miniflow::detail
