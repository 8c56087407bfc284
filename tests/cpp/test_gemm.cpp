// GEMM and column sums against a naive reference: every micro-kernel this CPU can run plus the
// generic one, both paths, awkward sizes around every block size, every kind of strided view,
// accumulate and bias, bitwise identity over thread counts, and every argument error.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstring>
#include <limits>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "gemm/path_choice.hpp"
#include "miniflow/cpu.hpp"
#include "miniflow/gemm.hpp"
#include "miniflow/interrupt.hpp"
#include "miniflow/threads.hpp"

namespace {

using miniflow::Isa;
using miniflow::MatrixView;
using miniflow::detail::GemmPath;

// How a logical rows x cols matrix is laid out in memory.
enum class Layout { row_major, column_major, padded, reversed, repeated_row, repeated_column };

const Layout all_layouts[] = {Layout::row_major, Layout::column_major, Layout::padded,
                              Layout::reversed,  Layout::repeated_row, Layout::repeated_column};

// A matrix stored in one layout, with the logical values kept for the reference.
template <typename T>
struct Stored {
    std::size_t rows = 0;
    std::size_t cols = 0;
    std::vector<double> values;  // logical, row-major
    std::vector<T> buffer;
    MatrixView<T> view;

    double operator()(std::size_t i, std::size_t j) const { return values[i * cols + j]; }
};

template <typename T>
Stored<T> make_matrix(std::size_t rows, std::size_t cols, Layout layout, std::mt19937& rng) {
    std::uniform_int_distribution<int> digit(-8, 8);
    Stored<T> m;
    m.rows = rows;
    m.cols = cols;
    m.values.resize(rows * cols);
    for (std::size_t i = 0; i < rows; ++i) {
        for (std::size_t j = 0; j < cols; ++j) {
            // Repeated rows (columns) equal row (column) 0, so a zero stride views them.
            if (layout == Layout::repeated_row && i > 0) {
                m.values[i * cols + j] = m.values[j];
            } else if (layout == Layout::repeated_column && j > 0) {
                m.values[i * cols + j] = m.values[i * cols];
            } else {
                m.values[i * cols + j] = static_cast<T>(digit(rng)) / T(8);
            }
        }
    }
    const auto r = static_cast<std::ptrdiff_t>(rows);
    const auto c = static_cast<std::ptrdiff_t>(cols);
    switch (layout) {
        case Layout::row_major:
            m.buffer.assign(m.values.begin(), m.values.end());
            m.view = {m.buffer.data(), rows, cols, c, 1};
            break;
        case Layout::column_major:
            m.buffer.resize(rows * cols);
            for (std::size_t i = 0; i < rows; ++i) {
                for (std::size_t j = 0; j < cols; ++j) {
                    m.buffer[j * rows + i] = static_cast<T>(m(i, j));
                }
            }
            m.view = {m.buffer.data(), rows, cols, 1, r};
            break;
        case Layout::padded:
            m.buffer.assign(rows * (cols + 3), T(-99));
            for (std::size_t i = 0; i < rows; ++i) {
                for (std::size_t j = 0; j < cols; ++j) {
                    m.buffer[i * (cols + 3) + j] = static_cast<T>(m(i, j));
                }
            }
            m.view = {m.buffer.data(), rows, cols, c + 3, 1};
            break;
        case Layout::reversed:
            m.buffer.resize(rows * cols);
            for (std::size_t i = 0; i < rows; ++i) {
                for (std::size_t j = 0; j < cols; ++j) {
                    m.buffer[(rows - 1 - i) * cols + (cols - 1 - j)] = static_cast<T>(m(i, j));
                }
            }
            m.view = {m.buffer.data() + (rows * cols == 0 ? 0 : rows * cols - 1), rows, cols, -c,
                      -1};
            break;
        case Layout::repeated_row:
            m.buffer.resize(std::max<std::size_t>(cols, 1));
            for (std::size_t j = 0; j < cols && rows > 0; ++j) {
                m.buffer[j] = static_cast<T>(m.values[j]);
            }
            m.view = {m.buffer.data(), rows, cols, 0, 1};
            break;
        case Layout::repeated_column:
            m.buffer.resize(std::max<std::size_t>(rows, 1));
            for (std::size_t i = 0; i < rows && cols > 0; ++i) {
                m.buffer[i] = static_cast<T>(m.values[i * cols]);
            }
            m.view = {m.buffer.data(), rows, cols, 1, 0};
            break;
    }
    return m;
}

// The product checked element by element against a long-double reference, with a tolerance of
// (k + 2) rounding errors of the sum of magnitudes; values outside c's columns must be untouched.
template <typename T>
void expect_product(const Stored<T>& a, const Stored<T>& b, const std::vector<T>& c_before,
                    const std::vector<T>& c, std::size_t ldc, bool accumulate,
                    const std::vector<T>& bias, const std::string& context) {
    const double eps = std::numeric_limits<T>::epsilon();
    std::size_t failures = 0;
    for (std::size_t i = 0; i < a.rows; ++i) {
        for (std::size_t j = 0; j < ldc; ++j) {
            const T actual = c[i * ldc + j];
            if (j >= b.cols) {
                // bit for bit (NaN included): NOLINTNEXTLINE(bugprone-suspicious-memory-comparison)
                if (std::memcmp(&actual, &c_before[i * ldc + j], sizeof(T)) != 0) ++failures;
                continue;
            }
            long double expected = 0;
            double magnitude = 0;
            if (accumulate) {
                expected += c_before[i * ldc + j];
                magnitude += std::fabs(static_cast<double>(c_before[i * ldc + j]));
            }
            if (!bias.empty()) {
                expected += bias[j];
                magnitude += std::fabs(static_cast<double>(bias[j]));
            }
            for (std::size_t p = 0; p < a.cols; ++p) {
                expected += static_cast<long double>(a(i, p)) * b(p, j);
                magnitude += std::fabs(a(i, p) * b(p, j));
            }
            const double tolerance = static_cast<double>(a.cols + 2) * eps * magnitude;
            if (std::fabs(static_cast<double>(actual) - static_cast<double>(expected)) >
                tolerance) {
                if (failures < 5) {
                    ADD_FAILURE() << context << ": c(" << i << ", " << j << ") = " << actual
                                  << ", expected " << static_cast<double>(expected);
                }
                ++failures;
            }
        }
    }
    EXPECT_EQ(failures, 0U) << context;
}

std::vector<Isa> runnable_isas() {
    std::vector<Isa> isas;
    for (Isa isa : miniflow::built_isas()) {
        if (miniflow::isa_supported(isa)) isas.push_back(isa);
    }
    return isas;
}

std::string path_name(GemmPath path) {
    switch (path) {
        case GemmPath::automatic:
            return "automatic";
        case GemmPath::direct:
            return "direct";
        case GemmPath::blocked:
            return "blocked";
    }
    return "?";
}

struct Case {
    std::size_t m;
    std::size_t n;
    std::size_t k;
    Layout a_layout = Layout::row_major;
    Layout b_layout = Layout::row_major;
    std::size_t ldc_padding = 0;
    bool accumulate = false;
    bool with_bias = false;
    int threads = 1;
};

template <typename T>
void check_case(Isa isa, GemmPath path, const Case& test, std::mt19937& rng) {
    const Stored<T> a = make_matrix<T>(test.m, test.k, test.a_layout, rng);
    const Stored<T> b = make_matrix<T>(test.k, test.n, test.b_layout, rng);
    const std::size_t ldc = test.n + test.ldc_padding;
    std::vector<T> c(test.m * ldc);
    std::uniform_int_distribution<int> digit(-8, 8);
    for (T& value : c) value = static_cast<T>(digit(rng));
    std::vector<T> bias;
    if (test.with_bias) {
        for (std::size_t j = 0; j < test.n; ++j) bias.push_back(static_cast<T>(digit(rng)) / 4);
    }
    const std::vector<T> c_before = c;
    miniflow::detail::gemm_with(isa, test.threads, path, a.view, b.view, c.data(), ldc,
                                test.accumulate, bias.empty() ? nullptr : bias.data());
    const std::string context =
        std::string(miniflow::isa_name(isa)) + "/" + path_name(path) + " " +
        std::to_string(test.m) + "x" + std::to_string(test.k) + "." + std::to_string(test.k) + "x" +
        std::to_string(test.n) + " layouts " + std::to_string(int(test.a_layout)) + "," +
        std::to_string(int(test.b_layout)) + " ldc " + std::to_string(ldc) + " accumulate " +
        std::to_string(test.accumulate) + " bias " + std::to_string(test.with_bias) + " threads " +
        std::to_string(test.threads);
    expect_product(a, b, c_before, c, ldc, test.accumulate, bias, context);
}

template <typename T>
class GemmTyped : public ::testing::Test {};
using Scalars = ::testing::Types<float, double>;
TYPED_TEST_SUITE(GemmTyped, Scalars);

TYPED_TEST(GemmTyped, AwkwardSizesOnEveryKernelAndPath) {
    std::mt19937 rng(1);
    const std::size_t sizes[] = {1, 7, 63, 65};
    for (Isa isa : runnable_isas()) {
        for (GemmPath path : {GemmPath::direct, GemmPath::blocked}) {
            int variant = 0;
            for (std::size_t m : sizes) {
                for (std::size_t n : sizes) {
                    for (std::size_t k : sizes) {
                        Case test{m, n, k};
                        test.accumulate = variant % 2 == 1;
                        test.with_bias = variant % 3 != 0;
                        test.ldc_padding = variant % 4 == 0 ? 3 : 0;
                        ++variant;
                        check_case<TypeParam>(isa, path, test, rng);
                    }
                }
            }
            check_case<TypeParam>(isa, path, {257, 65, 257}, rng);
            check_case<TypeParam>(
                isa, path, {65, 257, 63, Layout::row_major, Layout::row_major, 1, true, true}, rng);
        }
    }
}

TYPED_TEST(GemmTyped, SizesAroundEveryBlock) {
    std::mt19937 rng(2);
    for (Isa isa : runnable_isas()) {
        const auto blocks = miniflow::detail::block_sizes<TypeParam>(isa);
        const std::vector<Case> cases = {
            // One tile, one tile less one, one tile plus one.
            {blocks.mr, blocks.nr, 5},
            {blocks.mr - 1, blocks.nr - 1, 9},
            {blocks.mr + 1, blocks.nr + 1, 3},
            // Row blocks past mc, inner dimension past two kc slices (not multiples of either).
            {blocks.mc + blocks.mr + 3, 2 * blocks.nr + 5, 2 * blocks.kc + 7},
            // Column blocks past nc.
            {blocks.mr + 2, blocks.nc + blocks.nr + 3, blocks.kc + 1},
        };
        for (const Case& base : cases) {
            for (int variant = 0; variant < 2; ++variant) {
                Case test = base;
                // The strided packing paths must also find their blocks' origins.
                if (variant == 1) {
                    test.a_layout = Layout::reversed;
                    test.b_layout = Layout::column_major;
                }
                test.accumulate = variant == 1;
                test.with_bias = true;
                test.ldc_padding = 2;
                check_case<TypeParam>(isa, GemmPath::blocked, test, rng);
            }
        }
    }
}

TYPED_TEST(GemmTyped, EveryLayoutOfBothOperands) {
    std::mt19937 rng(3);
    for (Isa isa : runnable_isas()) {
        for (GemmPath path : {GemmPath::direct, GemmPath::blocked}) {
            for (Layout a_layout : all_layouts) {
                for (Layout b_layout : all_layouts) {
                    Case test{37, 41, 29, a_layout, b_layout};
                    test.with_bias = a_layout == Layout::padded;
                    test.accumulate = b_layout == Layout::reversed;
                    check_case<TypeParam>(isa, path, test, rng);
                }
            }
        }
    }
}

// The direct path copies a b with strided rows before it starts: onto the stack when it is small,
// else onto the heap (a thin product with a deep b). Both, with the strided layouts of b.
TYPED_TEST(GemmTyped, StridedBOnTheStackAndOnTheHeap) {
    std::mt19937 rng(5);
    for (Isa isa : runnable_isas()) {
        for (Layout b_layout : {Layout::column_major, Layout::padded, Layout::reversed}) {
            check_case<TypeParam>(isa, GemmPath::direct, {11, 13, 10, Layout::row_major, b_layout},
                                  rng);
            check_case<TypeParam>(isa, GemmPath::direct,
                                  {3, 129, 67, Layout::row_major, b_layout, 0, true, true}, rng);
        }
    }
}

// The direct path's copy of a strided b is padded to whole vectors, and its micro-tiles write only
// the columns c has: every width up to two vectors of 16 lanes and one past, 11 rows (blocks of 4,
// 4 and 3), no, one and a few steps, with bias, accumulate and an ldc past the columns (which
// expect_product checks are untouched).
TYPED_TEST(GemmTyped, StridedBEveryWidthAroundTheVectors) {
    std::mt19937 rng(6);
    const std::size_t depths[] = {0, 1, 13};
    int variant = 0;
    for (Isa isa : runnable_isas()) {
        for (Layout b_layout : {Layout::column_major, Layout::reversed}) {
            for (std::size_t n = 1; n <= 33; ++n) {
                for (std::size_t k : depths) {
                    Case test{11, n, k, Layout::row_major, b_layout};
                    test.ldc_padding = 5;
                    test.accumulate = variant % 2 == 0;
                    test.with_bias = variant % 3 != 0;
                    ++variant;
                    check_case<TypeParam>(isa, GemmPath::direct, test, rng);
                }
            }
        }
    }
}

// One column of b (a layer with one output) has a direct path of its own, by a's rows or by its
// columns: every layout of both, row counts around its blocks (8 rows; 8 vectors, 1 vector and
// the narrower tails), depths around a vector, bias, accumulate and a padded ldc.
TYPED_TEST(GemmTyped, MatrixTimesVectorOnEveryLayout) {
    std::mt19937 rng(15);
    const std::size_t row_counts[] = {1, 3, 8, 9, 17, 65, 200};
    const std::size_t depths[] = {1, 5, 16, 37};
    int variant = 0;
    for (Isa isa : runnable_isas()) {
        for (Layout a_layout : all_layouts) {
            for (Layout b_layout : all_layouts) {
                for (std::size_t m : row_counts) {
                    for (std::size_t k : depths) {
                        Case test{m, 1, k, a_layout, b_layout};
                        test.with_bias = variant % 2 == 0;
                        test.accumulate = variant % 3 == 0;
                        test.ldc_padding = variant % 4 == 0 ? 2 : 0;
                        ++variant;
                        check_case<TypeParam>(isa, GemmPath::direct, test, rng);
                    }
                }
            }
        }
    }
}

TYPED_TEST(GemmTyped, EmptyInnerDimensionWritesBiasOrKeepsC) {
    std::mt19937 rng(4);
    for (Isa isa : runnable_isas()) {
        for (GemmPath path : {GemmPath::automatic, GemmPath::blocked}) {
            check_case<TypeParam>(isa, path, {5, 6, 0}, rng);
            check_case<TypeParam>(
                isa, path, {5, 6, 0, Layout::row_major, Layout::row_major, 0, true, true}, rng);
            check_case<TypeParam>(isa, path, {0, 6, 4}, rng);
            check_case<TypeParam>(isa, path, {5, 0, 4}, rng);
        }
    }
}

// The three products of a Linear, through transposed views, on the public entry point.
TYPED_TEST(GemmTyped, LinearProductsThroughTransposedViews) {
    using T = TypeParam;
    std::mt19937 rng(5);
    const std::size_t batch = 70;
    const std::size_t in = 130;
    const std::size_t out = 90;
    const Stored<T> x = make_matrix<T>(batch, in, Layout::row_major, rng);
    const Stored<T> w = make_matrix<T>(in, out, Layout::row_major, rng);
    const Stored<T> g = make_matrix<T>(batch, out, Layout::row_major, rng);
    const auto transpose = [](const Stored<T>& m) {
        Stored<T> t;
        t.rows = m.cols;
        t.cols = m.rows;
        for (std::size_t i = 0; i < t.rows; ++i) {
            for (std::size_t j = 0; j < t.cols; ++j) t.values.push_back(m(j, i));
        }
        t.view = miniflow::transposed(m.view);
        return t;
    };
    const std::vector<T> bias(out, T(0.5));

    std::vector<T> y(batch * out, T(7));
    const std::vector<T> y_before = y;
    miniflow::gemm(x.view, w.view, y.data(), out, false, bias.data());
    expect_product(x, w, y_before, y, out, false, bias, "x.w + bias");

    std::vector<T> grad_x(batch * in, T(1));
    const std::vector<T> grad_x_before = grad_x;
    miniflow::gemm(g.view, miniflow::transposed(w.view), grad_x.data(), in, true);
    expect_product(g, transpose(w), grad_x_before, grad_x, in, true, {}, "g.w^T");

    std::vector<T> grad_w(in * out, T(2));
    const std::vector<T> grad_w_before = grad_w;
    miniflow::gemm(miniflow::transposed(x.view), g.view, grad_w.data(), out, false);
    expect_product(transpose(x), g, grad_w_before, grad_w, out, false, {}, "x^T.g");
}

// Splitting over rows (a tall c) and over columns (a wide c), the results keep every bit.
TYPED_TEST(GemmTyped, BitwiseIdenticalForEveryThreadCount) {
    using T = TypeParam;
    std::mt19937 rng(6);
    struct Shape {
        std::size_t m, n, k;
    };
    for (Isa isa : runnable_isas()) {
        // Tall, wide, few rows (tiles cut across columns), few columns, one micro-panel deep.
        for (const Shape shape : {Shape{301, 167, 283}, Shape{97, 389, 271}, Shape{9, 1100, 301},
                                  Shape{700, 9, 150}, Shape{150, 130, 1}}) {
            const Stored<T> a = make_matrix<T>(shape.m, shape.k, Layout::column_major, rng);
            const Stored<T> b = make_matrix<T>(shape.k, shape.n, Layout::row_major, rng);
            std::uniform_real_distribution<T> uniform(-1, 1);
            Stored<T> noisy = a;
            for (T& value : noisy.buffer) value += uniform(rng);
            noisy.view.data = noisy.buffer.data();
            const std::vector<T> bias(shape.n, T(0.25));
            std::vector<T> first;
            // More threads than tiles, and tile counts that do not divide among the threads.
            for (int threads : {1, 2, 3, 4, 5, 7, 16}) {
                std::vector<T> c(shape.m * shape.n, T(1));
                miniflow::detail::gemm_with(isa, threads, GemmPath::blocked, noisy.view, b.view,
                                            c.data(), shape.n, true, bias.data());
                if (first.empty()) {
                    first = c;
                } else {
                    EXPECT_EQ(std::memcmp(first.data(), c.data(), c.size() * sizeof(T)), 0)
                        << miniflow::isa_name(isa) << " " << threads << " threads";
                }
            }
        }
    }
}

// A row gets the same bits whatever panel it lands in: a full one, or a short edge panel (which
// a kernel may compute with fewer rows). Rows 0..m of a product with m rows equal the same rows
// of the product with 40 rows, for every m up to 40.
TYPED_TEST(GemmTyped, RowsHaveTheSameBitsInEdgePanels) {
    using T = TypeParam;
    std::mt19937 rng(14);
    const std::size_t tall = 40, n = 70, k = 300;
    Stored<T> a = make_matrix<T>(tall, k, Layout::row_major, rng);
    std::uniform_real_distribution<T> uniform(-1, 1);
    for (T& value : a.buffer) value += uniform(rng);
    const Stored<T> b = make_matrix<T>(k, n, Layout::row_major, rng);
    for (Isa isa : runnable_isas()) {
        std::vector<T> all(tall * n);
        miniflow::detail::gemm_with(isa, 1, GemmPath::blocked, a.view, b.view, all.data(), n, false,
                                    static_cast<const T*>(nullptr));
        for (std::size_t m = 1; m < tall; ++m) {
            const MatrixView<T> top{a.buffer.data(), m, k, static_cast<std::ptrdiff_t>(k), 1};
            std::vector<T> c(m * n);
            miniflow::detail::gemm_with(isa, 1, GemmPath::blocked, top, b.view, c.data(), n, false,
                                        static_cast<const T*>(nullptr));
            EXPECT_EQ(std::memcmp(all.data(), c.data(), c.size() * sizeof(T)), 0)
                << miniflow::isa_name(isa) << " " << m << " rows";
        }
    }
}

// An A or B too large to pack whole at once is packed one block of rows or columns at a time.
TEST(Gemm, BlocksOfALargePackedAOrB) {
    struct Shape {
        std::size_t m, k, n;
    };
    std::mt19937 rng(10);
    for (const Shape shape : {Shape{20, 6200, 1030}, Shape{6200, 1100, 20}}) {
        const std::size_t m = shape.m;
        const std::size_t k = shape.k;
        const std::size_t n = shape.n;
        const Stored<double> a = make_matrix<double>(m, k, Layout::row_major, rng);
        const Stored<double> b = make_matrix<double>(k, n, Layout::row_major, rng);
        const std::vector<double> bias(n, 0.5);
        std::vector<double> first;
        for (int threads : {1, 2, 3}) {
            std::vector<double> c(m * n, 1.0);
            miniflow::detail::gemm_with(miniflow::best_isa(), threads, GemmPath::blocked, a.view,
                                        b.view, c.data(), n, true, bias.data());
            if (first.empty()) {
                first = c;
                // Spot checks against the exact sum (the values are multiples of 1/64).
                for (std::size_t i : {std::size_t{0}, m / 2, m - 1}) {
                    for (std::size_t j : {std::size_t{0}, n / 2, n - 1}) {
                        double expected = 1.5;
                        for (std::size_t p = 0; p < k; ++p) expected += a(i, p) * b(p, j);
                        EXPECT_EQ(c[i * n + j], expected) << i << ", " << j;
                    }
                }
            } else {
                EXPECT_EQ(first, c) << threads << " threads";
            }
        }
    }
}

TEST(Gemm, ThreadSettingIsUsedAndKeepsBits) {
    const int before = miniflow::get_num_threads();
    EXPECT_GE(before, 1);
    std::mt19937 rng(7);
    const Stored<double> a = make_matrix<double>(260, 250, Layout::row_major, rng);
    const Stored<double> b = make_matrix<double>(250, 240, Layout::column_major, rng);
    std::vector<double> one(std::size_t{260} * 240);
    std::vector<double> two(std::size_t{260} * 240);
    miniflow::set_num_threads(1);
    EXPECT_EQ(miniflow::get_num_threads(), 1);
    miniflow::gemm(a.view, b.view, one.data(), 240, false);
    miniflow::set_num_threads(2);
    miniflow::gemm(a.view, b.view, two.data(), 240, false);
    EXPECT_EQ(one, two);
    EXPECT_THROW(miniflow::set_num_threads(0), std::invalid_argument);
    miniflow::set_num_threads(before);
}

// A thread count beyond four per hardware thread is refused, not started.
TEST(Gemm, ThreadCountIsCapped) {
    const int before = miniflow::get_num_threads();
    const int hardware = static_cast<int>(std::max(1U, std::thread::hardware_concurrency()));
    EXPECT_EQ(miniflow::max_num_threads(), 4 * hardware);
    miniflow::set_num_threads(miniflow::max_num_threads());
    EXPECT_EQ(miniflow::get_num_threads(), miniflow::max_num_threads());
    EXPECT_THROW(miniflow::set_num_threads(miniflow::max_num_threads() + 1), std::invalid_argument);
    EXPECT_THROW(miniflow::set_num_threads(100000), std::invalid_argument);
    EXPECT_EQ(miniflow::get_num_threads(), miniflow::max_num_threads());
    miniflow::set_num_threads(before);
}

struct Interrupted {};

// An interrupt check that throws abandons a long product on every thread count; the pool is
// fine afterwards and the next product is right. (The product after the interrupt is a small
// one: under qemu a 1500-cube takes half a minute, and only the interrupted one needs the size.)
TEST(Gemm, InterruptCheckAbandonsALongProduct) {
    std::mt19937 rng(12);
    const std::size_t n = 1500;
    const Stored<double> a = make_matrix<double>(n, n, Layout::row_major, rng);
    const Stored<double> b = make_matrix<double>(n, n, Layout::row_major, rng);
    const std::size_t small = 300;
    const Stored<double> small_a = make_matrix<double>(small, small, Layout::row_major, rng);
    const Stored<double> small_b = make_matrix<double>(small, small, Layout::column_major, rng);
    std::vector<double> expected(small * small);
    miniflow::detail::gemm_with(miniflow::best_isa(), 1, GemmPath::blocked, small_a.view,
                                small_b.view, expected.data(), small, false,
                                static_cast<const double*>(nullptr));
    for (int threads : {1, 2, 3}) {
        int calls = 0;
        std::vector<double> c(n * n, 0.0);
        {
            miniflow::InterruptCheck check([&calls] {
                ++calls;
                throw Interrupted{};
            });
            // Repeated in case one product is shorter than the check interval (10 ms).
            EXPECT_THROW(
                for (int repeat = 0; repeat < 100; ++repeat) {
                    miniflow::detail::gemm_with(miniflow::best_isa(), threads, GemmPath::blocked,
                                                a.view, b.view, c.data(), n, false,
                                                static_cast<const double*>(nullptr));
                },
                Interrupted);
        }
        EXPECT_EQ(calls, 1) << threads << " threads";
        std::vector<double> small_c(small * small, 0.0);
        miniflow::detail::gemm_with(miniflow::best_isa(), threads, GemmPath::blocked, small_a.view,
                                    small_b.view, small_c.data(), small, false,
                                    static_cast<const double*>(nullptr));
        EXPECT_EQ(small_c, expected) << threads << " threads";
    }
}

// Checks that do not throw leave the product alone; scopes nest and unwind.
TEST(Gemm, InterruptChecksNestAndNeverChangeTheResult) {
    std::mt19937 rng(13);
    const std::size_t n = 1200;
    const Stored<double> a = make_matrix<double>(n, n, Layout::row_major, rng);
    const Stored<double> b = make_matrix<double>(n, n, Layout::column_major, rng);
    std::vector<double> expected(n * n);
    std::vector<double> c(n * n);
    miniflow::gemm(a.view, b.view, expected.data(), n, false);
    int outer_calls = 0;
    int inner_calls = 0;
    miniflow::InterruptCheck outer([&outer_calls] { ++outer_calls; });
    {
        miniflow::InterruptCheck inner([&inner_calls] { ++inner_calls; });
        for (int repeat = 0; repeat < 100 && inner_calls == 0; ++repeat) {
            miniflow::gemm(a.view, b.view, c.data(), n, false);
        }
        EXPECT_GT(inner_calls, 0);
        EXPECT_EQ(c, expected);
    }
    EXPECT_EQ(outer_calls, 0);
    for (int repeat = 0; repeat < 100 && outer_calls == 0; ++repeat) {
        miniflow::gemm(a.view, b.view, c.data(), n, false);
    }
    EXPECT_GT(outer_calls, 0);
    EXPECT_EQ(c, expected);
}

// Two callers at once: one drives the pool, the other runs on its own thread; both are right.
TEST(Gemm, ConcurrentCallersGetCorrectResults) {
#if defined(__EMSCRIPTEN__) && !defined(__EMSCRIPTEN_PTHREADS__)
    GTEST_SKIP() << "WebAssembly built without threads has no second caller";
#endif
    std::mt19937 rng(8);
    const Stored<float> a = make_matrix<float>(200, 180, Layout::row_major, rng);
    const Stored<float> b = make_matrix<float>(180, 190, Layout::row_major, rng);
    std::vector<float> expected(std::size_t{200} * 190);
    miniflow::detail::gemm_with(miniflow::best_isa(), 1, GemmPath::blocked, a.view, b.view,
                                expected.data(), 190, false, static_cast<const float*>(nullptr));
    std::vector<std::vector<float>> results(3, std::vector<float>(std::size_t{200} * 190));
    std::vector<std::thread> callers;
    callers.reserve(results.size());
    for (auto& result : results) {
        callers.emplace_back([&] {
            for (int repeat = 0; repeat < 5; ++repeat) {
                miniflow::detail::gemm_with(miniflow::best_isa(), 2, GemmPath::blocked, a.view,
                                            b.view, result.data(), 190, false,
                                            static_cast<const float*>(nullptr));
            }
        });
    }
    for (auto& caller : callers) caller.join();
    for (const auto& result : results) EXPECT_EQ(result, expected);
}

TEST(Gemm, RejectsBadArguments) {
    std::vector<double> a(6, 1.0);
    std::vector<double> b(6, 1.0);
    std::vector<double> c(9, 0.0);
    const auto a_view = miniflow::row_major(a.data(), 2, 3);
    const auto b_view = miniflow::row_major(b.data(), 3, 2);
    const auto expect_message = [](auto&& call, const std::string& fragment) {
        try {
            call();
            ADD_FAILURE() << "no exception; expected one mentioning " << fragment;
        } catch (const std::invalid_argument& error) {
            EXPECT_NE(std::string(error.what()).find(fragment), std::string::npos) << error.what();
        }
    };
    // Mismatched inner dimensions name both shapes.
    expect_message([&] { miniflow::gemm(a_view, a_view, c.data(), 3, false); }, "(2, 3)");
    // ldc smaller than c's columns.
    expect_message([&] { miniflow::gemm(a_view, b_view, c.data(), 1, false); }, "ldc 1");
    // Null buffers of nonzero size.
    expect_message([&] { miniflow::gemm(a_view, b_view, static_cast<double*>(nullptr), 2, false); },
                   "gemm: c");
    expect_message(
        [&] {
            miniflow::gemm(MatrixView<double>{nullptr, 2, 3, 3, 1}, b_view, c.data(), 2, false);
        },
        "gemm: a");
    expect_message(
        [&] {
            miniflow::gemm(a_view, MatrixView<double>{nullptr, 3, 2, 2, 1}, c.data(), 2, false);
        },
        "gemm: b");
    // Shapes and strides whose offsets overflow.
    const std::size_t huge = std::numeric_limits<std::size_t>::max() / 2;
    expect_message(
        [&] {
            miniflow::gemm(MatrixView<double>{a.data(), huge, 4, 4, 1}, b_view, c.data(), 2, false);
        },
        "gemm: a");
    expect_message(
        [&] {
            miniflow::gemm(
                MatrixView<double>{a.data(), 3, 2, std::numeric_limits<std::ptrdiff_t>::max(), 1},
                a_view, c.data(), 3, false);
        },
        "gemm: a");
    expect_message([&] { miniflow::gemm(a_view, b_view, c.data(), huge, false); }, "gemm: c");
    expect_message(
        [&] {
            miniflow::gemm(a_view, b_view, c.data(), std::numeric_limits<std::size_t>::max(),
                           false);
        },
        "gemm: c");
    // Empty products accept null buffers.
    EXPECT_NO_THROW(miniflow::gemm(MatrixView<double>{nullptr, 0, 3, 3, 1}, b_view,
                                   static_cast<double*>(nullptr), 2, false));
}

TYPED_TEST(GemmTyped, ColumnSumsOfEveryLayout) {
    using T = TypeParam;
    std::mt19937 rng(9);
    for (Layout layout : all_layouts) {
        for (std::size_t rows : {0U, 1U, 13U, 300U}) {
            const Stored<T> g = make_matrix<T>(rows, 37, layout, rng);
            for (bool accumulate : {false, true}) {
                std::vector<T> sums(37, T(3));
                miniflow::column_sums(g.view, sums.data(), accumulate);
                for (std::size_t j = 0; j < 37; ++j) {
                    double expected = accumulate ? 3.0 : 0.0;
                    for (std::size_t i = 0; i < rows; ++i) expected += g(i, j);
                    EXPECT_NEAR(sums[j], expected, 1e-4 * (1.0 + static_cast<double>(rows)))
                        << "layout " << int(layout) << " rows " << rows << " column " << j;
                }
            }
        }
    }
}

TEST(ColumnSums, RejectsBadArguments) {
    std::vector<float> g(6, 1.0F);
    EXPECT_THROW(miniflow::column_sums(miniflow::row_major(g.data(), 2, 3),
                                       static_cast<float*>(nullptr), false),
                 std::invalid_argument);
    std::vector<float> out(3);
    EXPECT_THROW(miniflow::column_sums(MatrixView<float>{nullptr, 2, 3, 3, 1}, out.data(), false),
                 std::invalid_argument);
}

}  // namespace

// The optional bias, like every optional buffer of the public API, takes a literal nullptr
// (T comes from the views): [1 2; 3 4] . [5 6; 7 8] by hand.
TEST(Gemm, OptionalBiasTakesALiteralNullptr) {
    const double a[] = {1, 2, 3, 4};
    const double b[] = {5, 6, 7, 8};
    double c[4] = {};
    miniflow::gemm(miniflow::row_major(a, 2, 2), miniflow::row_major(b, 2, 2), c, 2, false,
                   nullptr);
    EXPECT_EQ(std::vector<double>(c, c + 4), (std::vector<double>{19, 22, 43, 50}));
}
