// The blocked path's work sharing: the threads of one product pack the panels of A and B and
// compute the blocks of c, taking both from shared counters (see SharedProduct).
#pragma once

#include <atomic>
#include <cstddef>
#include <memory>

#include "gemm_internal.hpp"
#include "miniflow/matrix.hpp"

namespace miniflow::detail {

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

// What each thread of the product runs (share_work's work): panels to pack, then blocks of c, until
// none is left. The calling thread polls its interrupt check; a failure on any thread, or an
// interrupt, abandons the job for all, and the exception propagates.
template <typename T>
void share_product(SharedProduct<T>& job);

}  // namespace miniflow::detail
