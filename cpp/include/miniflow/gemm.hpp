// General matrix product on strided views: the workhorse behind every Linear node.
#pragma once

#include <cstddef>
#include <functional>
#include <stdexcept>
#include <string>

#include "miniflow/matrix.hpp"

namespace miniflow {

// c (a.rows x b.cols, row-major with leading dimension ldc) = a . b [+ bias broadcast over rows]
// when accumulate is false, or c += a . b [+ bias] when it is true. bias may be null (no bias) or
// point to b.cols contiguous values. Throws std::invalid_argument when a.cols != b.rows, when
// ldc < b.cols, or for a null buffer of nonzero size.
// Safe to call from several threads at once (on different outputs): one call at a time uses the
// worker threads, and a call that finds them busy computes on its own thread, with the same bits.
// c must not overlap a, b or bias.
template <typename T>
void gemm(const MatrixView<T>& a, const MatrixView<T>& b, T* c, std::size_t ldc, bool accumulate,
          const non_deduced_t<T>* bias = nullptr);

// out[j] = sum_i a(i, j) (or out[j] += ... when accumulate): the bias gradient of a Linear.
// out holds a.cols values. Throws std::invalid_argument for a null buffer of nonzero size.
template <typename T>
void column_sums(const MatrixView<T>& a, T* out, bool accumulate);

// Lets the caller abandon a long product (Ctrl-C in Python). While an InterruptCheck lives on a
// thread, every blocked product that thread starts (gemm(), and the Linear kernels through it)
// calls `check` on that thread between blocks, at most every 10 ms; pool workers never call it.
// When `check` throws, the product stops (each worker finishes the block it is on), c is left
// partly written, and the exception propagates out of gemm(). The innermost check is the one
// called.
class InterruptCheck {
public:
    explicit InterruptCheck(std::function<void()> check);
    ~InterruptCheck();
    InterruptCheck(const InterruptCheck&) = delete;
    InterruptCheck& operator=(const InterruptCheck&) = delete;

private:
    std::function<void()> check_;
    const std::function<void()>* outer_;
};

// Threads used by large products and large sigmoid and SGD passes, from 1 to max_num_threads().
// The default is MINIFLOW_NUM_THREADS when it is a whole number in that range (above it: the
// maximum), else the number of hardware threads. Results are bitwise identical for every thread
// count. set_num_threads throws std::invalid_argument for a count outside 1..max_num_threads().
void set_num_threads(int count);
int get_num_threads();

// Four times the hardware threads: more threads than cores only slow a product down, and each
// one costs a stack; the margin leaves room to try.
int max_num_threads();

// Why MINIFLOW_NUM_THREADS was not taken as it stands (not a whole number, below 1, above the
// maximum) and what is used instead, or "" when it is unset, empty or valid.
std::string num_threads_env_problem();

}  // namespace miniflow
