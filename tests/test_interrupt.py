"""Ctrl-C during a long product: KeyboardInterrupt arrives before the product would have
finished, and the thread pool and the process stay healthy afterwards."""

import signal
import threading

import numpy as np
import pytest

from miniflow import _core


def interrupt_main_thread_after(seconds):
    """Sends SIGINT to this (the main) thread from a timer, as Ctrl-C in a terminal would."""
    timer = threading.Timer(
        seconds, signal.pthread_kill, args=(threading.get_ident(), signal.SIGINT)
    )
    timer.start()
    return timer


def long_product(kind, n):
    """A product of n x n float64 matrices (2 n^3 flops: seconds at n = 4000) writing into a
    NaN-filled output, so that an output still holding NaN was never finished."""
    a = np.ones((n, n))
    b = np.ones((n, n))
    out = np.full((n, n), np.nan)
    if kind == "matmul":
        return out, lambda: _core.matmul(a, b, out)
    bias = np.zeros(n)
    return out, lambda: _core.matmul(a, b, out, False, bias)


@pytest.mark.skipif(not hasattr(signal, "pthread_kill"), reason="needs signal.pthread_kill (POSIX)")
@pytest.mark.parametrize("kind", ["matmul", "linear"])
@pytest.mark.parametrize("threads", [1, 2])
def test_ctrl_c_interrupts_a_long_product(kind, threads):
    before = _core.get_num_threads()
    _core.set_num_threads(threads)
    try:
        out, product = long_product(kind, 4000)
        timer = interrupt_main_thread_after(0.3)
        with pytest.raises(KeyboardInterrupt):
            product()
        timer.join()
        # interrupted before the product would have finished: part of the output is unwritten
        assert np.isnan(out).any()

        # the pool still works, with the same bits for 1 and 2 threads, and matches numpy
        rng = np.random.default_rng(0)
        a = rng.standard_normal((300, 500))
        b = rng.standard_normal((500, 400))
        _core.set_num_threads(1)
        one = _core.matmul(a, b)
        _core.set_num_threads(2)
        two = _core.matmul(a, b)
        assert np.array_equal(one, two)
        np.testing.assert_allclose(one, a @ b, rtol=1e-12, atol=1e-12)
    finally:
        _core.set_num_threads(before)


def test_a_product_without_ctrl_c_is_whole():
    # the check between blocks must never cut a product short by itself
    out, product = long_product("matmul", 1200)
    product()
    assert np.array_equal(out, np.full((1200, 1200), 1200.0))
