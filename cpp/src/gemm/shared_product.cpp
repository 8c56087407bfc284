#include "gemm/shared_product.hpp"

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <thread>

#include "gemm/interrupt_poll.hpp"

namespace miniflow::detail {

namespace {

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

}  // namespace

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

template void share_product<float>(SharedProduct<float>&);
template void share_product<double>(SharedProduct<double>&);

}  // namespace miniflow::detail
