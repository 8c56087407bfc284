#include "gemm/shared_product.hpp"

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <thread>

#include "gemm/interrupt_poll.hpp"

namespace miniflow::detail {

namespace {

// The tile sweep, the one place the micro-kernel runs: a rows x cols block of c over one kc
// slice, from the slice's packed A (micro-panels of mr rows) and packed B (of nr columns). Each
// B micro-panel stays in L1 while the A micro-panels stream past it from L2.
template <typename T>
void sweep_tiles(const GemmKernels<T>& kernels, std::size_t kc, const T* packed_a,
                 const T* packed_b, T* c, std::size_t ldc, std::size_t rows, std::size_t cols,
                 bool load_c, const T* bias) {
    for (std::size_t j = 0; j < cols; j += kernels.nr) {
        const T* b_panel = packed_b + j * kc;
        const T* tile_bias = bias != nullptr ? bias + j : nullptr;
        for (std::size_t i = 0; i < rows; i += kernels.mr) {
            kernels.micro_kernel(kc, packed_a + i * kc, b_panel, c + i * ldc + j, ldc,
                                 std::min(kernels.mr, rows - i), std::min(kernels.nr, cols - j),
                                 load_c, tile_bias);
        }
    }
}

template <typename T>
void pack_item(SharedProduct<T>& job, std::size_t item) {
    const BlockSizes& blocks = job.tuned.blocks;
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
    const BlockSizes& blocks = job.tuned.blocks;
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
            sweep_tiles(job.tuned.kernels, kc, job.packed_a + depth0 * job.padded_rows + row0 * kc,
                        job.packed_b + depth0 * job.padded_cols + col0 * kc,
                        job.c + row0 * job.ldc + col0, job.ldc, rows, cols,
                        job.accumulate || !first_slice, slice_bias);
        }
    }
}

}  // namespace

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

template void share_product<float>(SharedProduct<float>&);
template void share_product<double>(SharedProduct<double>&);

}  // namespace miniflow::detail
