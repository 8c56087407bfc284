"""Random networks with fan-out and tied weights against the lesson's plain-numpy MiniFlow."""

import numpy as np
from hypothesis import example, given, settings
from hypothesis import strategies as st

import miniflow


def build(lib, sizes, tie, fan_out):
    """X -> [Linear -> Sigmoid] * layers, optionally tying every hidden layer's weights and
    feeding the first hidden layer to a side branch; the cost compares two heads."""
    X, y = lib.Input(), lib.Input()
    weights = []
    h = X
    shared_W = lib.Input()
    first_hidden = None
    for i, (fan_in, width) in enumerate(zip(sizes[:-1], sizes[1:])):
        W = shared_W if (tie and i > 0 and fan_in == width) else lib.Input()
        b = lib.Input()
        weights.append((W, (fan_in, width)))
        weights.append((b, (width,)))
        h = lib.Sigmoid(lib.Linear(h, W, b))
        first_hidden = first_hidden or h
    head_W, head_b = lib.Input(), lib.Input()
    weights += [(head_W, (sizes[-1], 1)), (head_b, (1,))]
    out = lib.Linear(h, head_W, head_b)
    if fan_out:
        side_W, side_b = lib.Input(), lib.Input()
        weights += [(side_W, (sizes[1], 1)), (side_b, (1,))]
        side = lib.Sigmoid(lib.Linear(first_hidden, side_W, side_b))
        cost = lib.MSE(side, out)  # both heads are computed: gradients flow into each
    else:
        cost = lib.MSE(y, out)
    unique = list(dict.fromkeys(node for node, _ in weights))
    shapes = dict(weights)
    return X, y, unique, shapes, cost


@given(
    batch=st.integers(1, 9),
    sizes=st.lists(st.integers(1, 6), min_size=2, max_size=4),
    tie=st.booleans(),
    fan_out=st.booleans(),
    seed=st.integers(0, 2**31),
)
@settings(max_examples=40, deadline=None)
# a cost near 0 (9.6e-10): y − a cancels, so a last-bit difference in a moves it 1.8e-12 relatively
@example(batch=1, sizes=[1, 1], tie=False, fan_out=True, seed=32070)
def test_random_networks_match_the_lesson(lesson, batch, sizes, tie, fan_out, seed):
    results = []
    for lib in (miniflow, lesson):
        rng = np.random.default_rng(seed)
        X, y, params, shapes, cost = build(lib, sizes, tie, fan_out)
        feed = {X: rng.standard_normal((batch, sizes[0])), y: rng.standard_normal(batch)}
        for node in params:
            feed[node] = rng.standard_normal(shapes[node])
        graph = lib.topological_sort(feed)
        lib.forward_and_backward(graph)
        lib.sgd_update(params, 0.5)
        lib.forward_and_backward(graph)
        results.append((cost.value, [np.asarray(p.gradients[p]) for p in [X, *params]]))
    (our_cost, ours), (their_cost, theirs) = results
    # atol: an ulp of the O(1) activations moves a cost that cancels to ~0 by ~1e-21
    np.testing.assert_allclose(our_cost, their_cost, rtol=1e-12, atol=1e-18)
    for mine, reference in zip(ours, theirs):
        np.testing.assert_allclose(mine, reference, rtol=1e-10, atol=1e-14)
