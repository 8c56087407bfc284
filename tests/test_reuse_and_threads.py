"""The fast core's contracts that are not about time: buffers reused across steps, and the same
bits from any number of threads."""

import os
import subprocess
import sys

import numpy as np
import pytest

import miniflow
from miniflow import MSE, Input, Linear, Sigmoid, forward_and_backward, sgd_update, topological_sort


def two_layer(batch, n_in, hidden, seed=0):
    rng = np.random.default_rng(seed)
    X, y, W1, b1, W2, b2 = (Input() for _ in range(6))
    MSE(y, Linear(Sigmoid(Linear(X, W1, b1)), W2, b2))
    feed = {
        X: rng.standard_normal((batch, n_in)),
        y: rng.standard_normal(batch),
        W1: rng.standard_normal((n_in, hidden)) * 0.1,
        b1: np.zeros(hidden),
        W2: rng.standard_normal((hidden, 1)) * 0.1,
        b2: np.zeros(1),
    }
    return topological_sort(feed), [W1, b1, W2, b2], X, y


def computed_arrays(graph):
    """Every array the graph computed: values (but the fed ones), differences and gradients."""
    arrays = []
    for node in graph:
        value = None if isinstance(node, Input) else node.value
        arrays += [
            v
            for v in (value, getattr(node, "diff", None), *node.gradients.values())
            if isinstance(v, np.ndarray)
        ]
    return arrays


def test_steps_after_the_first_reuse_every_array():
    graph, trainables, X, y = two_layer(11, 13, 10)
    rng = np.random.default_rng(1)
    forward_and_backward(graph)
    sgd_update(trainables)
    first = computed_arrays(graph)
    assert len(first) == 19  # 13 buffers, and each Input's gradient is its consumer's buffer
    for _ in range(3):
        X.value, y.value = rng.standard_normal((11, 13)), rng.standard_normal(11)  # a new batch
        forward_and_backward(graph)
        sgd_update(trainables)
        assert all(a is b for a, b in zip(computed_arrays(graph), first))


def test_a_batch_of_another_size_gets_new_buffers_and_right_answers(lesson):
    graph, _trainables, X, y = two_layer(11, 4, 3)
    forward_and_backward(graph)
    X.value, y.value = X.value[:5].copy(), y.value[:5].copy()
    forward_and_backward(graph)
    assert graph[-1].value == pytest.approx(
        float(np.mean((y.value.reshape(-1, 1) - graph[-2].value) ** 2)), rel=1e-12
    )
    assert X.gradients[X].shape == (5, 4)


def run_at(threads, batch=300, n_in=400, hidden=300):
    miniflow.set_num_threads(threads)
    graph, trainables, X, _ = two_layer(batch, n_in, hidden, seed=3)
    for _ in range(2):
        forward_and_backward(graph)
        sgd_update(trainables, 0.1)
    return [t.value.copy() for t in trainables] + [X.gradients[X].copy(), np.array(graph[-1].value)]


def test_the_same_bits_from_one_and_two_threads():
    default = miniflow.get_num_threads()
    try:
        one, two = run_at(1), run_at(2)
    finally:
        miniflow.set_num_threads(default)
    for a, b in zip(one, two):
        assert a.tobytes() == b.tobytes()


def test_thread_count_setting():
    default = miniflow.get_num_threads()
    try:
        miniflow.set_num_threads(3)
        assert miniflow.get_num_threads() == 3
        with pytest.raises(ValueError, match="from 1 to"):
            miniflow.set_num_threads(0)
    finally:
        miniflow.set_num_threads(default)
    assert default >= 1


def test_thread_count_is_capped_at_four_per_hardware_thread():
    default = miniflow.get_num_threads()
    most = 4 * (os.cpu_count() or 1)
    try:
        miniflow.set_num_threads(most)
        assert miniflow.get_num_threads() == most
        # refused before any thread starts, naming the limit
        for count in (most + 1, 100000):
            with pytest.raises(ValueError, match=f"from 1 to {most} "):
                miniflow.set_num_threads(count)
        assert miniflow.get_num_threads() == most
    finally:
        miniflow.set_num_threads(default)


def import_with_thread_env(value):
    """get_num_threads() and the warnings of a fresh interpreter importing miniflow."""
    env = dict(os.environ, MINIFLOW_NUM_THREADS=value)
    code = (
        "import warnings\n"
        "with warnings.catch_warnings(record=True) as seen:\n"
        "    warnings.simplefilter('always')\n"
        "    import miniflow\n"
        "print(miniflow.get_num_threads())\n"
        "for w in seen: print(w.category.__name__, w.message)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    )
    count, *warned = out.stdout.splitlines()
    return int(count), warned


def test_thread_count_from_the_environment():
    assert import_with_thread_env("1") == (1, [])
    assert import_with_thread_env("") == (os.cpu_count(), [])


@pytest.mark.parametrize("value", ["abc", "-1", "0", "2.5", "1e3"])
def test_an_unusable_thread_count_in_the_environment_warns_once(value):
    count, warned = import_with_thread_env(value)
    assert count == os.cpu_count()
    assert len(warned) == 1
    assert warned[0].startswith(
        f"RuntimeWarning MINIFLOW_NUM_THREADS='{value}' is not a whole number"
    )


def test_a_thread_count_above_the_cap_in_the_environment_warns_and_is_capped():
    most = 4 * (os.cpu_count() or 1)
    count, warned = import_with_thread_env("100000")
    assert count == most
    assert len(warned) == 1
    assert f"using {most}" in warned[0]
