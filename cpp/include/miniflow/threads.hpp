// How many threads the core's large products and elementwise passes use.
#pragma once

#include <stdexcept>
#include <string>

namespace miniflow {

// Threads used by large products and large elementwise passes (activations, SGD), from 1 to
// max_num_threads(). The default is MINIFLOW_NUM_THREADS when it is a whole number in that range
// (above it: the maximum), else the number of hardware threads. Results are bitwise identical for
// every thread count. set_num_threads throws std::invalid_argument for a count
// outside 1..max_num_threads().
void set_num_threads(int count);
int get_num_threads();

// Four times the hardware threads: more threads than cores only slow a product down, and each
// one costs a stack; the margin leaves room to try.
int max_num_threads();

// Why MINIFLOW_NUM_THREADS was not taken as it stands (not a whole number, below 1, above the
// maximum) and what is used instead, or "" when it is unset, empty or valid.
std::string num_threads_env_problem();

}  // namespace miniflow
