"""The lesson's nn.py on the diabetes data shipped with MiniFlow (its Boston data left sklearn).

Run: python examples/nn.py   (`miniflow train` is the same loop with a test split and flags)
"""

import numpy as np

from miniflow import *
from miniflow.datasets import load_diabetes

# load and standardise the data (the target too, so the loss starts near 1)
diabetes = load_diabetes()
X_, y_ = diabetes.data, diabetes.target
X_ = (X_ - np.mean(X_, axis=0)) / np.std(X_, axis=0)
y_ = (y_ - np.mean(y_)) / np.std(y_)

rng = np.random.default_rng(0)
n_features = X_.shape[1]
n_hidden = 10
W1_ = rng.standard_normal((n_features, n_hidden)) / np.sqrt(n_features)
b1_ = np.zeros(n_hidden)
W2_ = rng.standard_normal((n_hidden, 1)) / np.sqrt(n_hidden)
b2_ = np.zeros(1)

# the network: Linear -> Sigmoid -> Linear -> MSE
X, y = Input(), Input()
W1, b1 = Input(), Input()
W2, b2 = Input(), Input()
l1 = Linear(X, W1, b1)
s1 = Sigmoid(l1)
l2 = Linear(s1, W2, b2)
cost = MSE(y, l2)

feed_dict = {X: X_, y: y_, W1: W1_, b1: b1_, W2: W2_, b2: b2_}
epochs = 100
m = X_.shape[0]
batch_size = 11
steps_per_epoch = m // batch_size

graph = topological_sort(feed_dict)
trainables = [W1, b1, W2, b2]

print(f"Total number of examples = {m}")
for i in range(epochs):
    loss = 0
    for _ in range(steps_per_epoch):
        # a random batch, drawn with replacement like the lesson's sklearn resample
        rows = rng.integers(0, m, size=batch_size)
        X.value = X_[rows]
        y.value = y_[rows]

        # trainables=: only their gradients are computed (not the data's, G·Wᵀ)
        forward_and_backward(graph, trainables=trainables)
        sgd_update(trainables)
        loss += graph[-1].value

    print(f"Epoch: {i + 1}, Loss: {loss / steps_per_epoch:.3f}")
