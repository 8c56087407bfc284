"""Threads: the same bits from any number of threads, and setting the thread count."""

import os
import subprocess
import sys

import numpy as np
import pytest

import miniflow
from miniflow import forward_and_backward, sgd_update


def run_at(two_layer, threads, batch=300, n_in=400, hidden=300):
    miniflow.set_num_threads(threads)
    graph, trainables, X, _ = two_layer(batch, n_in, hidden, seed=3)
    for _ in range(2):
        forward_and_backward(graph)
        sgd_update(trainables, 0.1)
    return [t.value.copy() for t in trainables] + [X.gradients[X].copy(), np.array(graph[-1].value)]


def test_the_same_bits_from_one_and_two_threads(two_layer):
    default = miniflow.get_num_threads()
    try:
        one, two = run_at(two_layer, 1), run_at(two_layer, 2)
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
