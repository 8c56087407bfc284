// The lesson's two-layer network (Linear -> Sigmoid -> Linear -> MSE) trained with plain SGD on
// the MiniFlow core's kernels: what forward_and_backward and sgd_update do, written out by hand.
#include <cmath>
#include <cstddef>
#include <cstdio>
#include <random>
#include <stdexcept>
#include <vector>

#include "miniflow/miniflow.hpp"

namespace {

constexpr std::size_t kSamples = 200;
constexpr std::size_t kFeatures = 3;
constexpr std::size_t kHidden = 10;
constexpr int kEpochs = 500;
constexpr double kLearningRate = 0.5;

using miniflow::row_major;

}  // namespace

int main() {
    std::mt19937 rng(0);
    std::uniform_real_distribution<double> uniform(-1.0, 1.0);
    std::normal_distribution<double> normal(0.0, 1.0);

    // made-up data: a smooth nonlinear function of three features
    std::vector<double> x(kSamples * kFeatures);
    std::vector<double> y(kSamples);
    for (std::size_t i = 0; i < kSamples; ++i) {
        double* row = &x[i * kFeatures];
        for (std::size_t j = 0; j < kFeatures; ++j) row[j] = uniform(rng);
        y[i] = std::sin(2.0 * row[0]) + row[1] * row[2];
    }

    // as in the lesson: random normal weights, zero biases
    std::vector<double> w1(kFeatures * kHidden), b1(kHidden, 0.0);
    std::vector<double> w2(kHidden), b2(1, 0.0);
    for (double& w : w1) w = normal(rng);
    for (double& w : w2) w = normal(rng);

    // every value and gradient is allocated once and reused by each step
    std::vector<double> l1(kSamples * kHidden), s1(kSamples * kHidden), l2(kSamples);
    std::vector<double> diff(kSamples), grad_l2(kSamples);
    std::vector<double> grad_s1(kSamples * kHidden), grad_l1(kSamples * kHidden);
    std::vector<double> grad_w1(w1.size()), grad_b1(b1.size()), grad_w2(w2.size()), grad_b2(1);

    const auto x_view = row_major(x.data(), kSamples, kFeatures);
    const auto w1_view = row_major(w1.data(), kFeatures, kHidden);
    const auto s1_view = row_major(s1.data(), kSamples, kHidden);
    const auto w2_view = row_major(w2.data(), kHidden, 1);

    try {
        for (int epoch = 1; epoch <= kEpochs; ++epoch) {
            // forward: l1 = X W1 + b1, s1 = sigmoid(l1), l2 = s1 W2 + b2, cost = mean((y - l2)^2)
            miniflow::linear_forward(x_view, w1_view, b1.data(), l1.data());
            miniflow::sigmoid_forward(l1.data(), s1.data(), l1.size());
            miniflow::linear_forward(s1_view, w2_view, b2.data(), l2.data());
            const double cost = miniflow::mse_forward(y.data(), l2.data(), diff.data(), kSamples);

            // backward, last node first; a null output skips a gradient nobody reads (y's, X's)
            miniflow::mse_backward(diff.data(), nullptr, grad_l2.data(), kSamples, false);
            miniflow::linear_backward(s1_view, w2_view, row_major(grad_l2.data(), kSamples, 1),
                                      grad_s1.data(), grad_w2.data(), grad_b2.data(), false);
            miniflow::sigmoid_backward(s1.data(), grad_s1.data(), grad_l1.data(), s1.size(), false);
            miniflow::linear_backward(x_view, w1_view, row_major(grad_l1.data(), kSamples, kHidden),
                                      nullptr, grad_w1.data(), grad_b1.data(), false);

            miniflow::sgd_update(w1.data(), grad_w1.data(), w1.size(), kLearningRate);
            miniflow::sgd_update(b1.data(), grad_b1.data(), b1.size(), kLearningRate);
            miniflow::sgd_update(w2.data(), grad_w2.data(), w2.size(), kLearningRate);
            miniflow::sgd_update(b2.data(), grad_b2.data(), b2.size(), kLearningRate);

            if (epoch == 1 || epoch % 50 == 0) std::printf("Epoch: %d, Loss: %.4f\n", epoch, cost);
        }
    } catch (const std::invalid_argument& error) {
        // the core names the sizes that disagree
        std::fprintf(stderr, "%s\n", error.what());
        return 1;
    }
    return 0;
}
