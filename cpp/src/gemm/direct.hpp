// The direct path for tiny products: c computed straight from the views, with no packing, no
// blocking and no threads (a b with strided rows is first copied whole, row-major and padded to
// whole vectors, as one small buffer). It is written with GNU vector types (an array of lanes under
// MSVC), and each ISA's file instantiates it inside a function compiled for that ISA (flattened),
// so the same source becomes AVX-512, AVX2, NEON or baseline code.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <type_traits>
#include <vector>

#include "gemm/gemm_internal.hpp"
#include "miniflow/matrix.hpp"

namespace miniflow::detail {

#if defined(__GNUC__) || defined(__clang__)
// Bytes / sizeof(T) lanes of T in the compiler's own vector type; one lane is T itself.
template <typename T, std::size_t Bytes, bool = (Bytes == sizeof(T))>
struct LanesOf {
    typedef T type __attribute__((vector_size(Bytes)));
};
#else
// Compilers without GNU vector types (MSVC): an array of lanes with the operators the micro-tile
// uses, lane by lane, for the optimiser to vectorise. Each lane rounds as the vector type does.
template <typename T, std::size_t Count>
struct LaneArray {
    T lane[Count];

    T& operator[](std::size_t i) { return lane[i]; }
    LaneArray& operator+=(const LaneArray& other) {
        for (std::size_t i = 0; i < Count; ++i) lane[i] += other.lane[i];
        return *this;
    }
    friend LaneArray operator*(const LaneArray& x, const LaneArray& y) {
        LaneArray product;
        for (std::size_t i = 0; i < Count; ++i) product.lane[i] = x.lane[i] * y.lane[i];
        return product;
    }
    // scalar - lanes: the broadcast the micro-tile writes as `a - Vec{}`
    friend LaneArray operator-(T scalar, const LaneArray& x) {
        LaneArray difference;
        for (std::size_t i = 0; i < Count; ++i) difference.lane[i] = scalar - x.lane[i];
        return difference;
    }
};
template <typename T, std::size_t Bytes, bool = (Bytes == sizeof(T))>
struct LanesOf {
    using type = LaneArray<T, Bytes / sizeof(T)>;
};
#endif
template <typename T, std::size_t Bytes>
struct LanesOf<T, Bytes, true> {
    using type = T;
};

// Reads lanes `stride` apart (an output parameter: vectors passed by value change the ABI).
template <typename Vec, typename T>
void load_lanes(Vec& value, const T* source, std::ptrdiff_t stride) {
    if (stride == 1) {
        std::memcpy(&value, source, sizeof(Vec));
    } else if constexpr (std::is_same_v<Vec, T>) {
        value = *source;
    } else {
        value = Vec{};
        for (std::size_t lane = 0; lane < sizeof(Vec) / sizeof(T); ++lane) {
            value[lane] = source[static_cast<std::ptrdiff_t>(lane) * stride];
        }
    }
}

// One Rows x (Vectors x Bytes) micro-tile of c, from b with contiguous rows (direct_product
// copies a strided b first). In place it is whole (edges use narrower micro-tiles); on a copy of b
// padded to whole vectors (Partial) c has only its first `cols` columns, all but the last vector's
// last lanes. A small micro-tile has too few independent sums to hide the latency of the adds, so
// it keeps Sets partial sums per value, taking the steps in turn (step p into set p % Sets), and
// adds them at the end in a fixed order: the result depends on the shape only, never on the thread
// count. Every loop but the one over the steps has constant bounds and the sums are one flat local
// array, so the compiler unrolls them and keeps the sums in registers.
template <typename T, std::size_t Rows, std::size_t Vectors, std::size_t Bytes, bool Partial>
void direct_micro_tile(const MatrixView<T>& a, const MatrixView<T>& b, T* c, std::size_t ldc,
                       std::size_t row0, std::size_t col0, std::size_t cols, bool accumulate,
                       const T* bias) {
    using Vec = typename LanesOf<T, Bytes>::type;
    constexpr std::size_t lanes = Bytes / sizeof(T);
    constexpr std::size_t sums = Rows * Vectors;
    constexpr std::size_t Sets = sums >= 8 ? 1 : std::min<std::size_t>(4, (8 + sums - 1) / sums);
    Vec sum[Sets * sums];
    for (std::size_t i = 0; i < Sets * sums; ++i) sum[i] = Vec{};
    // Where each row of a and the first row of b start (a product with no inner dimension reads
    // neither, and its views may hold no data at all).
    const T* a_rows[Rows] = {};
    const T* b_row = nullptr;
    if (a.cols != 0) {
        for (std::size_t r = 0; r < Rows; ++r) a_rows[r] = &a(row0 + r, 0);
        b_row = &b(0, col0);
    }
    const std::ptrdiff_t a_step = a.col_stride;
    const std::ptrdiff_t b_step = b.row_stride;
    // step p of the sum, into set `set`: a's column p times b's row p
    const auto step = [&](std::ptrdiff_t p, std::size_t set) {
        Vec b_values[Vectors];
        for (std::size_t v = 0; v < Vectors; ++v) {
            std::memcpy(&b_values[v], b_row + p * b_step + static_cast<std::ptrdiff_t>(v * lanes),
                        sizeof(Vec));
        }
        for (std::size_t r = 0; r < Rows; ++r) {
            // x - 0 is x for every x (x + 0 is not, for -0), so this is a bare broadcast.
            const Vec a_value = a_rows[r][p * a_step] - Vec{};
            for (std::size_t v = 0; v < Vectors; ++v) {
                sum[(set * Rows + r) * Vectors + v] += a_value * b_values[v];
            }
        }
    };
    const auto depth = static_cast<std::ptrdiff_t>(a.cols);
    std::ptrdiff_t p = 0;
    for (; p + static_cast<std::ptrdiff_t>(Sets) <= depth; p += static_cast<std::ptrdiff_t>(Sets)) {
        for (std::size_t set = 0; set < Sets; ++set)
            step(p + static_cast<std::ptrdiff_t>(set), set);
    }
    // The last steps, with constant set indices so that the sums stay in registers.
    for (std::size_t set = 0; set + 1 < Sets; ++set) {
        if (p + static_cast<std::ptrdiff_t>(set) < depth) {
            step(p + static_cast<std::ptrdiff_t>(set), set);
        }
    }
    for (std::size_t set = 1; set < Sets; ++set) {
        for (std::size_t i = 0; i < sums; ++i) sum[i] += sum[set * sums + i];
    }
    // The micro-kernels' order: (a.b + bias) + old c. A whole vector is read and written at
    // once, a partial one lane by lane, only the columns c has (beyond them may be other data).
    for (std::size_t r = 0; r < Rows; ++r) {
        T* c_row = c + (row0 + r) * ldc + col0;
        for (std::size_t v = 0; v < Vectors; ++v) {
            Vec value = sum[r * Vectors + v];
            const std::size_t first = v * lanes;
            if constexpr (Partial) {
                if (first + lanes > cols) {
                    for (std::size_t lane = 0; lane < lanes; ++lane) {
                        if (first + lane < cols) {
                            T element = value[lane];
                            if (bias != nullptr) element += bias[col0 + first + lane];
                            if (accumulate) element += c_row[first + lane];
                            c_row[first + lane] = element;
                        }
                    }
                    continue;
                }
            }
            Vec addend;
            if (bias != nullptr) {
                std::memcpy(&addend, bias + col0 + first, sizeof(Vec));
                value += addend;
            }
            if (accumulate) {
                std::memcpy(&addend, c_row + first, sizeof(Vec));
                value += addend;
            }
            std::memcpy(c_row + first, &value, sizeof(Vec));
        }
    }
}

// Rows rows of c from column col0 on. In place (Padded false): whole micro-tiles of two vectors,
// then one vector, then the rest in halving vector widths down to single values. On a copy of b
// whose rows are padded to whole vectors: micro-tiles of two vectors, then one, the last vector
// partial, so that the last columns take one pass over k, not one per halving width.
template <typename T, std::size_t Rows, std::size_t Bytes, bool Padded>
void direct_row_block(const MatrixView<T>& a, const MatrixView<T>& b, T* c, std::size_t ldc,
                      std::size_t row0, std::size_t col0, bool accumulate, const T* bias) {
    constexpr std::size_t lanes = Bytes / sizeof(T);
    if constexpr (Padded) {
        for (; col0 + lanes < b.cols; col0 += 2 * lanes) {
            direct_micro_tile<T, Rows, 2, Bytes, true>(
                a, b, c, ldc, row0, col0, std::min(b.cols - col0, 2 * lanes), accumulate, bias);
        }
        if (col0 < b.cols) {
            direct_micro_tile<T, Rows, 1, Bytes, true>(a, b, c, ldc, row0, col0, b.cols - col0,
                                                       accumulate, bias);
        }
        return;
    }
    for (; col0 + 2 * lanes <= b.cols; col0 += 2 * lanes) {
        direct_micro_tile<T, Rows, 2, Bytes, false>(a, b, c, ldc, row0, col0, 2 * lanes, accumulate,
                                                    bias);
    }
    if (col0 + lanes <= b.cols) {
        direct_micro_tile<T, Rows, 1, Bytes, false>(a, b, c, ldc, row0, col0, lanes, accumulate,
                                                    bias);
        col0 += lanes;
    }
    if constexpr (lanes > 1) {
        direct_row_block<T, Rows, Bytes / 2, false>(a, b, c, ldc, row0, col0, accumulate, bias);
    }
}

// A matrix times a vector, a's columns contiguous (a transposed row-major matrix, as in the
// weight gradient Xᵀ.g of a layer with one output): rows in blocks of Vectors vectors, and each
// step adds a column of a times one value of b, so every value is summed in step order.
template <typename T, std::size_t Vectors, std::size_t Bytes>
void column_times_vector(const MatrixView<T>& a, const MatrixView<T>& b, T* c, std::size_t ldc,
                         std::size_t row0, bool accumulate, const T* bias) {
    using Vec = typename LanesOf<T, Bytes>::type;
    constexpr std::size_t lanes = Bytes / sizeof(T);
    Vec sum[Vectors] = {};
    for (std::size_t p = 0; p < a.cols; ++p) {
        const Vec b_value = b(p, 0) - Vec{};  // a bare broadcast, as in direct_micro_tile
        const T* column = &a(row0, p);
        for (std::size_t v = 0; v < Vectors; ++v) {
            Vec a_values;
            load_lanes(a_values, column + v * lanes, 1);
            sum[v] += a_values * b_value;
        }
    }
    T sums[Vectors * lanes];
    std::memcpy(sums, sum, sizeof(sum));
    write_micro_tile(sums, 1, c + row0 * ldc, ldc, Vectors * lanes, 1, accumulate, bias);
}

// Every row of c: blocks of eight vectors, then one vector, then halving widths down to one.
template <typename T, std::size_t Bytes>
void columns_times_vector(const MatrixView<T>& a, const MatrixView<T>& b, T* c, std::size_t ldc,
                          std::size_t row0, bool accumulate, const T* bias) {
    constexpr std::size_t lanes = Bytes / sizeof(T);
    for (; row0 + 8 * lanes <= a.rows; row0 += 8 * lanes) {
        column_times_vector<T, 8, Bytes>(a, b, c, ldc, row0, accumulate, bias);
    }
    for (; row0 + lanes <= a.rows; row0 += lanes) {
        column_times_vector<T, 1, Bytes>(a, b, c, ldc, row0, accumulate, bias);
    }
    if constexpr (lanes > 1) {
        columns_times_vector<T, Bytes / 2>(a, b, c, ldc, row0, accumulate, bias);
    }
}

// A matrix times a vector, a's rows contiguous (the output layer X.w of a layer with one
// output): Rows dot products at once, each summed in lanes (step p into lane p % lanes), the
// lanes then added in lane order and the last steps after them, so the order depends on the
// shape only.
template <typename T, std::size_t Rows, std::size_t Bytes>
void rows_dot_vector(const MatrixView<T>& a, const MatrixView<T>& b, T* c, std::size_t ldc,
                     std::size_t row0, bool accumulate, const T* bias) {
    using Vec = typename LanesOf<T, Bytes>::type;
    constexpr std::size_t lanes = Bytes / sizeof(T);
    Vec sum[Rows] = {};
    std::size_t p = 0;
    for (; p + lanes <= a.cols; p += lanes) {
        Vec b_values;
        load_lanes(b_values, &b(p, 0), b.row_stride);
        for (std::size_t r = 0; r < Rows; ++r) {
            Vec a_values;
            load_lanes(a_values, &a(row0 + r, p), 1);
            sum[r] += a_values * b_values;
        }
    }
    T totals[Rows];
    for (std::size_t r = 0; r < Rows; ++r) {
        T lane_sums[lanes];
        std::memcpy(lane_sums, &sum[r], sizeof(Vec));
        T total = lane_sums[0];
        for (std::size_t lane = 1; lane < lanes; ++lane) total += lane_sums[lane];
        for (std::size_t q = p; q < a.cols; ++q) total += a(row0 + r, q) * b(q, 0);
        totals[r] = total;
    }
    write_micro_tile(totals, 1, c + row0 * ldc, ldc, Rows, 1, accumulate, bias);
}

// c = a.b [+ bias] (or c += ...) for b with one column; false when a's layout has neither
// contiguous rows nor contiguous columns (the general micro-tiles take it).
template <typename T, std::size_t VectorBytes>
bool direct_matrix_vector(const MatrixView<T>& a, const MatrixView<T>& b, T* c, std::size_t ldc,
                          bool accumulate, const T* bias) {
    if (a.row_stride == 1) {
        columns_times_vector<T, VectorBytes>(a, b, c, ldc, 0, accumulate, bias);
        return true;
    }
    if (a.col_stride != 1) return false;
    constexpr std::size_t rows = 8;
    std::size_t row0 = 0;
    for (; row0 + rows <= a.rows; row0 += rows) {
        rows_dot_vector<T, rows, VectorBytes>(a, b, c, ldc, row0, accumulate, bias);
    }
    for (; row0 < a.rows; ++row0) {
        rows_dot_vector<T, 1, VectorBytes>(a, b, c, ldc, row0, accumulate, bias);
    }
    return true;
}

// c = a.b [+ bias] (or c += ...) with b's rows contiguous (and padded to whole vectors when
// Padded): 4 rows at a time, then the last 1 to 3 rows together, with vectors of VectorBytes.
template <typename T, std::size_t VectorBytes, bool Padded>
void direct_rows(const MatrixView<T>& a, const MatrixView<T>& b, T* c, std::size_t ldc,
                 bool accumulate, const T* bias) {
    constexpr std::size_t rows = 4;
    std::size_t row0 = 0;
    for (; row0 + rows <= a.rows; row0 += rows) {
        direct_row_block<T, rows, VectorBytes, Padded>(a, b, c, ldc, row0, 0, accumulate, bias);
    }
    switch (a.rows - row0) {
        case 3:
            direct_row_block<T, 3, VectorBytes, Padded>(a, b, c, ldc, row0, 0, accumulate, bias);
            break;
        case 2:
            direct_row_block<T, 2, VectorBytes, Padded>(a, b, c, ldc, row0, 0, accumulate, bias);
            break;
        case 1:
            direct_row_block<T, 1, VectorBytes, Padded>(a, b, c, ldc, row0, 0, accumulate, bias);
            break;
        default:
            break;
    }
}

// A copy of b with contiguous rows, for a b whose rows are strided (a transposed weight matrix,
// as in G.Wᵀ): the micro-tiles then load whole vectors of it instead of gathering lane by lane.
// Its rows are padded with zeros to `width` values, whole vectors, so that the last columns take
// one micro-tile, not one per halving width (the view's columns are b's). Up to stack_values
// values it lives on the stack, as the direct path's products mostly do.
template <typename T>
class RowMajorCopy {
public:
    RowMajorCopy(const MatrixView<T>& b, std::size_t width) {
        const std::size_t size = b.rows * width;
        T* values = stack_;
        if (size > stack_values) {
            heap_.resize(size);
            values = heap_.data();
        }
        for (std::size_t p = 0; p < b.rows; ++p) {
            // one loop for the values and the zeros after them (two become a memcpy and a memset
            // call per row, dearer than these few values)
            T* row = values + p * width;
            for (std::size_t j = 0; j < width; ++j) row[j] = j < b.cols ? b(p, j) : T(0);
        }
        view_ = {values, b.rows, b.cols, static_cast<std::ptrdiff_t>(width), 1};
    }
    RowMajorCopy(const RowMajorCopy&) = delete;
    RowMajorCopy& operator=(const RowMajorCopy&) = delete;
    const MatrixView<T>& view() const { return view_; }

private:
    static constexpr std::size_t stack_values = 8192 / sizeof(T);  // 8 KiB: a 32x32 float64 b
    T stack_[stack_values];
    std::vector<T> heap_;
    MatrixView<T> view_;
};

// c = a.b [+ bias] (or c += ...): a product with one column of b by rows or columns of a, else
// by micro-tiles: in place when b's rows are contiguous, else over a padded row-major copy of b
// (measured on Zen 4: padding b's rows in place too, over a copy, costs more than the narrower
// edge micro-tiles it saves).
template <typename T, std::size_t VectorBytes>
void direct_product(const MatrixView<T>& a, const MatrixView<T>& b, T* c, std::size_t ldc,
                    bool accumulate, const T* bias) {
    if (b.cols == 1 && direct_matrix_vector<T, VectorBytes>(a, b, c, ldc, accumulate, bias)) {
        return;
    }
    if (b.col_stride == 1 || b.cols == 1) {
        direct_rows<T, VectorBytes, false>(a, b, c, ldc, accumulate, bias);
        return;
    }
    constexpr std::size_t lanes = VectorBytes / sizeof(T);
    const RowMajorCopy<T> b_rows(b, (b.cols + lanes - 1) / lanes * lanes);
    direct_rows<T, VectorBytes, true>(a, b_rows.view(), c, ldc, accumulate, bias);
}

}  // namespace miniflow::detail
