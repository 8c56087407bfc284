// Large elementwise kernels on the GEMM's thread pool: memory-bound passes (the SGD update of a
// big weight matrix, the sigmoid of a big batch) run on every thread set by set_num_threads.
// Each element is computed exactly as on one thread, so the bits never depend on the count.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>

#include "gemm/gemm_internal.hpp"
#include "miniflow/threads.hpp"

namespace miniflow::detail {

// Elements per block: a multiple of every vector width, so blocks start on whole vectors and
// only the last element of the buffer can fall in a tail; small enough to share 256K elements.
constexpr std::size_t elementwise_block = std::size_t{1} << 15;

// Calls pass(first, count) over [0, n) in blocks, on up to get_num_threads() threads; on the
// calling thread alone when n is under four blocks (waking a worker costs more than it saves).
template <typename Pass>
void for_each_block(std::size_t n, const Pass& pass) {
    const std::size_t pieces = (n + elementwise_block - 1) / elementwise_block;
    const auto threads = static_cast<std::size_t>(get_num_threads());
    if (threads == 1 || pieces < 4) {
        pass(std::size_t{0}, n);
        return;
    }
    std::atomic<std::size_t> next{0};
    share_work(static_cast<int>(std::min(threads, pieces) - 1), [&] {
        for (;;) {
            const std::size_t piece = next.fetch_add(1, std::memory_order_relaxed);
            if (piece >= pieces) return;
            const std::size_t first = piece * elementwise_block;
            pass(first, std::min(elementwise_block, n - first));
        }
    });
}

}  // namespace miniflow::detail
