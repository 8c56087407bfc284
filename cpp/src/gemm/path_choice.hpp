// The GEMM's path choice (gemm_with, in gemm.cpp) and block sizes: internal entry points,
// exposed so the tests can reach every path the CPU has. gemm() in miniflow/gemm.hpp is public.
#pragma once

#include <cstddef>

#include "miniflow/cpu.hpp"
#include "miniflow/matrix.hpp"

namespace miniflow::detail {

// Which algorithm computes the product. automatic picks direct for tiny products, else blocked.
enum class GemmPath { automatic, direct, blocked };

// The micro-tile (mr x nr) of one micro-kernel and the cache blocks (mc x kc of A, kc x nc of
// B) that the blocked path packs for it.
struct BlockSizes {
    std::size_t mr;
    std::size_t nr;
    std::size_t mc;
    std::size_t kc;
    std::size_t nc;
};

template <typename T>
BlockSizes block_sizes(Isa isa);

// gemm() with the instruction set, the thread count and the path chosen by the caller. The
// arguments must already have passed gemm()'s checks, and `isa` must be supported by this CPU.
template <typename T>
void gemm_with(Isa isa, int threads, GemmPath path, const MatrixView<T>& a, const MatrixView<T>& b,
               T* c, std::size_t ldc, bool accumulate, const T* bias);

}  // namespace miniflow::detail
