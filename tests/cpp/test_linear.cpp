// Linear kernels: hand-computed values, finite differences, strided views, every argument error.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <stdexcept>
#include <vector>

#include "miniflow/linear.hpp"

namespace {

using miniflow::MatrixView;
using miniflow::row_major;

template <typename T>
class LinearTest : public ::testing::Test {};
using Dtypes = ::testing::Types<float, double>;
TYPED_TEST_SUITE(LinearTest, Dtypes);

template <typename T>
std::vector<T> random_values(std::size_t count, unsigned seed) {
    std::mt19937 engine(seed);
    std::normal_distribution<double> normal;
    std::vector<T> values(count);
    for (auto& v : values) v = static_cast<T>(normal(engine));
    return values;
}

// The lesson's example: X=[[-1,-2],[-1,-2]], W=[[2,-3],[2,-3]], b=[-3,-5] gives [[-9,4],[-9,4]].
TYPED_TEST(LinearTest, ForwardMatchesTheLesson) {
    using T = TypeParam;
    const std::vector<T> x{-1, -2, -1, -2}, w{2, -3, 2, -3}, b{-3, -5};
    std::vector<T> y(4);
    miniflow::linear_forward(row_major(x.data(), 2, 2), row_major(w.data(), 2, 2), b.data(),
                             y.data());
    EXPECT_EQ(y, (std::vector<T>{-9, 4, -9, 4}));
}

// The seed's backward step, from dCost/dLinear by hand: G = [[-1.67008640e-05], [-3.34020069e-05]].
TEST(LinearBackward, SeedGradientsByHand) {
    const std::vector<double> x{-1, -2, -1, -2}, w{2, 3}, g{-1.67008640e-05, -3.34020069e-05};
    std::vector<double> dx(4), dw(2), db(1);
    miniflow::linear_backward(row_major(x.data(), 2, 2), row_major(w.data(), 2, 1),
                              row_major(g.data(), 2, 1), dx.data(), dw.data(), db.data(), false);
    EXPECT_NEAR(dx[0], -3.34017280e-05, 1e-12);
    EXPECT_NEAR(dx[3], -1.00206021e-04, 1e-12);
    EXPECT_NEAR(dw[0], 5.01028709e-05, 1e-12);
    EXPECT_NEAR(dw[1], 1.00205742e-04, 1e-12);
    EXPECT_NEAR(db[0], -5.01028709e-05, 1e-12);
}

// cost = sum(G ⊙ (X·W + b)): its central differences are the backward's outputs.
TEST(LinearBackward, MatchesFiniteDifferences) {
    const std::size_t m = 4, k = 3, n = 5;
    auto x = random_values<double>(m * k, 1), w = random_values<double>(k * n, 2);
    auto b = random_values<double>(n, 3), g = random_values<double>(m * n, 4);
    const auto cost = [&] {
        std::vector<double> y(m * n);
        miniflow::linear_forward(row_major(x.data(), m, k), row_major(w.data(), k, n), b.data(),
                                 y.data());
        double total = 0;
        for (std::size_t i = 0; i < m * n; ++i) total += g[i] * y[i];
        return total;
    };
    std::vector<double> dx(m * k), dw(k * n), db(n);
    miniflow::linear_backward(row_major(x.data(), m, k), row_major(w.data(), k, n),
                              row_major(g.data(), m, n), dx.data(), dw.data(), db.data(), false);
    const double eps = 1e-6;
    for (auto [values, analytic] : {std::pair{&x, &dx}, std::pair{&w, &dw}, std::pair{&b, &db}}) {
        for (std::size_t i = 0; i < values->size(); ++i) {
            const double saved = (*values)[i];
            (*values)[i] = saved + eps;
            const double plus = cost();
            (*values)[i] = saved - eps;
            const double minus = cost();
            (*values)[i] = saved;
            EXPECT_NEAR((*analytic)[i], (plus - minus) / (2 * eps), 1e-7);
        }
    }
}

TYPED_TEST(LinearTest, AccumulateAddsToTheBuffers) {
    using T = TypeParam;
    const std::vector<T> x{1, 2, 3, 4}, w{1, 0, 0, 1}, g{1, 1, 1, 1};
    std::vector<T> dx(4, T(10)), dw(4, T(10)), db(2, T(10));
    miniflow::linear_backward(row_major(x.data(), 2, 2), row_major(w.data(), 2, 2),
                              row_major(g.data(), 2, 2), dx.data(), dw.data(), db.data(), true);
    EXPECT_EQ(dx, (std::vector<T>{11, 11, 11, 11}));  // G·Wᵀ = ones
    EXPECT_EQ(dw, (std::vector<T>{14, 14, 16, 16}));  // Xᵀ·G = [[4, 4], [6, 6]]
    EXPECT_EQ(db, (std::vector<T>{12, 12}));
}

// A node in both the X and W slots: aliased outputs, accumulating, get the sum.
TEST(LinearBackward, AliasedOutputsAccumulate) {
    const std::vector<double> a{1, 2, 3, 4}, g{1, 0, 0, 1};
    std::vector<double> da(4, 0.0);
    miniflow::linear_backward(row_major(a.data(), 2, 2), row_major(a.data(), 2, 2),
                              row_major(g.data(), 2, 2), da.data(), da.data(), nullptr, true);
    // G·Aᵀ = Aᵀ = [[1, 3], [2, 4]] and Aᵀ·G = Aᵀ: the sum is 2·Aᵀ
    EXPECT_EQ(da, (std::vector<double>{2, 6, 4, 8}));
}

TEST(LinearBackward, NullOutputsAreSkipped) {
    const std::vector<double> x{1, 2}, w{3, 4}, g{5};
    std::vector<double> dw(2);
    miniflow::linear_backward(row_major(x.data(), 1, 2), row_major(w.data(), 2, 1),
                              row_major(g.data(), 1, 1), nullptr, dw.data(), nullptr, false);
    EXPECT_EQ(dw, (std::vector<double>{5, 10}));
}

// Fortran-ordered X and a transposed W view give the same result as contiguous copies.
TYPED_TEST(LinearTest, StridedViewsNeedNoCopies) {
    using T = TypeParam;
    const std::size_t m = 3, k = 4, n = 2;
    auto x = random_values<T>(m * k, 5);   // row-major X
    auto wt = random_values<T>(n * k, 6);  // W stored transposed: (n, k) row-major
    std::vector<T> x_fortran(m * k), w(k * n);
    for (std::size_t i = 0; i < m; ++i)
        for (std::size_t j = 0; j < k; ++j) x_fortran[j * m + i] = x[i * k + j];
    for (std::size_t i = 0; i < k; ++i)
        for (std::size_t j = 0; j < n; ++j) w[i * n + j] = wt[j * k + i];
    const std::vector<T> b{T(0.5), T(-0.5)};
    std::vector<T> expected(m * n), got(m * n);
    miniflow::linear_forward(row_major(x.data(), m, k), row_major(w.data(), k, n), b.data(),
                             expected.data());
    const MatrixView<T> x_view{x_fortran.data(), m, k, 1, static_cast<std::ptrdiff_t>(m)};
    const MatrixView<T> w_view = miniflow::transposed(row_major(wt.data(), n, k));
    miniflow::linear_forward(x_view, w_view, b.data(), got.data());
    for (std::size_t i = 0; i < m * n; ++i) EXPECT_NEAR(got[i], expected[i], 1e-5);
}

TEST(LinearErrors, InnerDimensionsMustAgree) {
    std::vector<double> x(std::size_t{11} * 12), w(std::size_t{13} * 10), y(110);
    try {
        miniflow::linear_forward(row_major(x.data(), 11, 12), row_major(w.data(), 13, 10), nullptr,
                                 y.data());
        FAIL() << "no exception";
    } catch (const std::invalid_argument& error) {
        EXPECT_STREQ(
            error.what(),
            "linear_forward: x is (11, 12) and w is (13, 10): x's columns must equal w's rows");
    }
}

TEST(LinearErrors, GradientMustHaveTheOutputShape) {
    std::vector<double> x(6), w(6), g(6), dx(6);
    EXPECT_THROW(
        miniflow::linear_backward(row_major(x.data(), 2, 3), row_major(w.data(), 3, 2),
                                  row_major(g.data(), 3, 2), dx.data(), nullptr, nullptr, false),
        std::invalid_argument);
}

TEST(LinearErrors, NullBuffersWithElements) {
    std::vector<double> w(4), y(4);
    EXPECT_THROW(miniflow::linear_forward(MatrixView<double>{nullptr, 2, 2, 2, 1},
                                          row_major(w.data(), 2, 2), nullptr, y.data()),
                 std::invalid_argument);
    EXPECT_THROW(miniflow::linear_forward(row_major(w.data(), 2, 2), row_major(w.data(), 2, 2),
                                          nullptr, static_cast<double*>(nullptr)),
                 std::invalid_argument);
}

TEST(LinearErrors, SizesThatOverflow) {
    const std::size_t huge = std::numeric_limits<std::size_t>::max() / 2;
    double dummy = 0;
    EXPECT_THROW(miniflow::linear_forward(MatrixView<double>{&dummy, huge, 4, 4, 1},
                                          MatrixView<double>{&dummy, 4, 1, 1, 1}, nullptr, &dummy),
                 std::invalid_argument);
    // offsets that no pointer arithmetic can reach: (3 - 1) * max, or max plus one more column
    const std::ptrdiff_t max_stride = std::numeric_limits<std::ptrdiff_t>::max();
    EXPECT_THROW(miniflow::linear_forward(MatrixView<double>{&dummy, 3, 2, max_stride, 1},
                                          MatrixView<double>{&dummy, 2, 1, 1, 1}, nullptr, &dummy),
                 std::invalid_argument);
    EXPECT_THROW(miniflow::linear_forward(MatrixView<double>{&dummy, 2, 2, max_stride, 1},
                                          MatrixView<double>{&dummy, 2, 1, 1, 1}, nullptr, &dummy),
                 std::invalid_argument);
}

TEST(LinearEdges, EmptyBatchIsFine) {
    std::vector<double> w{1, 2}, b{3}, y;
    miniflow::linear_forward(MatrixView<double>{nullptr, 0, 2, 2, 1}, row_major(w.data(), 2, 1),
                             b.data(), y.data());
    SUCCEED();
}

}  // namespace
