"""``python -m miniflow``: run the lesson's backpropagation example and print its gradients."""

from __future__ import annotations

import numpy as np

from . import MSE, Input, Linear, Sigmoid, forward_and_backward, topological_sort


def main() -> None:
    X, W, b, y = Input(name="X"), Input(name="W"), Input(name="b"), Input(name="y")
    cost = MSE(y, Sigmoid(Linear(X, W, b)))
    feed_dict = {
        X: np.array([[-1.0, -2.0], [-1, -2]]),
        y: np.array([1, 2]),
        W: np.array([[2.0], [3.0]]),
        b: np.array([-3.0]),
    }
    graph = topological_sort(feed_dict)
    forward_and_backward(graph)
    print(f"cost: {cost.value}")
    print([t.gradients[t] for t in [X, y, W, b]])


if __name__ == "__main__":
    main()
