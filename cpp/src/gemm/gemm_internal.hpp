// The named parts of the BLIS-style GEMM, shared by the files under cpp/src/gemm/.
#pragma once

#include <cstddef>
#include <functional>

#include "gemm/path_choice.hpp"
#include "miniflow/matrix.hpp"

namespace miniflow::detail {

// The words for the pieces of work, BLIS's, each meaning one thing here:
// - block: a cache block. A's block is up to mc x kc, B's kc x nc, and c's up to mc x nc: what
//   one thread computes at a time. A kc block is one kc-deep range of k (one packing of A and B).
// - panel: the packed values of a kc block that one thread packs at a time, a run of
//   micro-panels (panel_rows rows of A or panel_cols columns of B).
// - micro-panel: mr rows of A (or nr columns of B) packed step by step, mr (nr) values per step.
// - micro-tile: the mr x nr part of c that a micro-kernel holds in registers.
// - part: what is packed at once when A or B is too large for one packed buffer (packed_limit).
// The elementwise kernels share their work out in blocks too (elementwise/parallel.hpp).
//
// The micro-kernel contract. Computes one micro-tile of c from a packed A micro-panel (k x mr, mr
// values per step) and a packed B micro-panel (k x nr, nr values per step); only the top-left
// rows x cols of the micro-tile exist, and nothing outside them is read or written. The
// micro-tile becomes a.b [+ bias] [+ the old c when load_c], rounded as write_micro_tile does;
// bias is null or holds cols values.
template <typename T>
using MicroKernel = void (*)(std::size_t k, const T* packed_a, const T* packed_b, T* c,
                             std::size_t ldc, std::size_t rows, std::size_t cols, bool load_c,
                             const T* bias);

// The direct path (no packing) compiled for one ISA: c = a.b [+ bias] [+ c when accumulate].
template <typename T>
using DirectProduct = void (*)(const MatrixView<T>& a, const MatrixView<T>& b, T* c,
                               std::size_t ldc, bool accumulate, const T* bias);

// The GEMM kernels of one instruction set: its micro-kernel, the shape of the micro-tile that
// computes, and its direct path. The cache blocks around them come from the CPU's caches
// (block_sizes_for in cache_sizes.hpp).
template <typename T>
struct GemmKernels {
    std::size_t mr;
    std::size_t nr;
    MicroKernel<T> micro_kernel;
    DirectProduct<T> direct_product;
};

// The GEMM kernels of each instruction set, each in its own file: the generic one compiles
// everywhere, the AVX and NEON ones to nothing on other architectures (see choose_for_isa in
// simd/isa_choice.hpp). The AVX ones are compiled for
// their ISA by function attributes only, so a caller must check the CPU first.
template <typename T>
struct GemmKernelsByIsa {
    static GemmKernels<T> generic();
    static GemmKernels<T> avx2();
    static GemmKernels<T> avx512();
    static GemmKernels<T> neon();
};

// An instruction set's GEMM kernels with the cache blocks this CPU's caches give them.
template <typename T>
struct TunedKernels {
    GemmKernels<T> kernels;
    BlockSizes blocks;
};

// The GEMM kernels of `isa`, which the CPU must support (see isa_supported); generic for an
// instruction set of another architecture.
template <typename T>
GemmKernels<T> gemm_kernels_for(Isa isa);

// Writes a finished rows x cols micro-tile held in `micro_tile` (leading dimension ld) to c the
// way every micro-kernel does, (micro-tile + bias) + old c, so edge micro-tiles round like full
// ones.
template <typename T>
void write_micro_tile(const T* micro_tile, std::size_t ld, T* c, std::size_t ldc, std::size_t rows,
                      std::size_t cols, bool load_c, const T* bias) {
    for (std::size_t r = 0; r < rows; ++r) {
        for (std::size_t j = 0; j < cols; ++j) {
            T value = micro_tile[r * ld + j];
            if (bias != nullptr) value += bias[j];
            if (load_c) value += c[r * ldc + j];
            c[r * ldc + j] = value;
        }
    }
}

// Copies rows [row0, row0 + rows) x columns [col0, col0 + depth) of a into micro-panels of mr
// rows: panel after panel, each depth steps of mr values, the last panel padded with zeros.
template <typename T>
void pack_a(const MatrixView<T>& a, std::size_t row0, std::size_t col0, std::size_t rows,
            std::size_t depth, std::size_t mr, T* packed);

// Copies rows [row0, row0 + depth) x columns [col0, col0 + cols) of b into micro-panels of nr
// columns: panel after panel, each depth steps of nr values, the last panel padded with zeros.
template <typename T>
void pack_b(const MatrixView<T>& b, std::size_t row0, std::size_t col0, std::size_t depth,
            std::size_t cols, std::size_t nr, T* packed);

// Runs work() on the caller and on up to `helpers` pool workers at once, and returns when every
// thread that started it has finished (rethrowing the first exception). work() must hand out its
// blocks itself (from shared counters) and finish all of them when it runs alone: a worker that
// arrives after the caller's call has returned does not run it, so a late or descheduled worker
// never delays the product. When another thread is already using the pool, work() runs on the
// caller alone: the results are the same.
void share_work(int helpers, const std::function<void()>& work);

}  // namespace miniflow::detail
