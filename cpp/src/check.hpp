// Argument checks shared by the public functions; each throws std::invalid_argument naming sizes.
#pragma once

#include <cstddef>
#include <string>

#include "miniflow/matrix.hpp"

namespace miniflow {

// rows * cols, or std::invalid_argument when it does not fit in std::size_t.
std::size_t checked_size(const char* what, std::size_t rows, std::size_t cols);

// A buffer of `count` elements must not be null unless it is empty.
void check_buffer(const char* what, const void* data, std::size_t count);

// A view must have a buffer unless empty, and its extreme offsets must fit in std::ptrdiff_t.
template <typename T>
void check_view(const char* what, const MatrixView<T>& m);

// "(rows, cols)", for messages.
std::string shape_string(std::size_t rows, std::size_t cols);

}  // namespace miniflow
