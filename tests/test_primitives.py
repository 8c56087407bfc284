"""The core's primitives as the Python layer calls them, against numpy: the matrix product on
(transposed) views with bias, out= and accumulate=, column sums, the activations' two halves,
the MSE's halves; and their argument checks."""

import numpy as np
import pytest

from miniflow import _core

rng = np.random.default_rng(7)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_matmul_reads_transposed_views_in_place_and_adds_the_bias(dtype):
    a, b = rng.standard_normal((5, 3)).astype(dtype), rng.standard_normal((4, 3)).astype(dtype)
    bias = rng.standard_normal(4).astype(dtype)
    result = _core.matmul(a, b.T, None, False, bias)
    assert result.dtype == dtype
    tolerance = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(result, a @ b.T + bias, rtol=tolerance, atol=tolerance)


def test_matmul_writes_into_out_and_accumulates_into_it():
    a, b = rng.standard_normal((4, 6)), rng.standard_normal((6, 2))
    out = np.full((4, 2), np.nan)
    assert _core.matmul(a, b, out, False) is out
    np.testing.assert_allclose(out, a @ b, rtol=1e-12)
    assert _core.matmul(a, b, out, True) is out
    np.testing.assert_allclose(out, 2 * (a @ b), rtol=1e-12)


@pytest.mark.parametrize("reversed_a", [False, True])
def test_an_out_sharing_memory_with_an_input_is_replaced_and_one_beside_it_is_not(reversed_a):
    memory = rng.standard_normal(40)
    # a over memory[0:24]; reversed, its strides are negative and it starts at memory[23]
    a = memory[23::-1].reshape(4, 6) if reversed_a else memory[:24].reshape(4, 6)
    b = rng.standard_normal((6, 2))
    expected = a @ b
    for overlapping in (memory[20:28], memory[23:31]):  # the second shares only a's last value
        overlapping = overlapping.reshape(4, 2)
        result = _core.matmul(a, b, overlapping, False)
        assert result is not overlapping
        np.testing.assert_allclose(result, expected, rtol=1e-12)
    beside = memory[24:32].reshape(4, 2)  # starts just past a's last value
    assert _core.matmul(a, b, beside, False) is beside
    np.testing.assert_allclose(beside, expected, rtol=1e-12)


def test_an_out_that_does_not_fit_is_replaced_but_one_cannot_accumulate_into_it():
    a, b = rng.standard_normal((4, 6)), rng.standard_normal((6, 2))
    for unfit in (np.empty((2, 4)), np.empty((4, 2), np.float32), np.empty((4, 2))[::-1], a):
        result = _core.matmul(a, b, unfit, False)
        assert result is not unfit
        np.testing.assert_allclose(result, a @ b, rtol=1e-12)
    with pytest.raises(ValueError, match=r"cannot accumulate into out.*\(4, 2\)"):
        _core.matmul(a, b, np.empty((2, 4)), True)


def test_matmul_follows_numpy_dot_for_vectors():
    m, v = rng.standard_normal((3, 4)), rng.standard_normal(4)
    np.testing.assert_allclose(_core.matmul(m, v), m @ v, rtol=1e-12)
    np.testing.assert_allclose(_core.matmul(v, m.T), v @ m.T, rtol=1e-12)
    assert np.ndim(_core.matmul(v, v)) == 0
    np.testing.assert_allclose(_core.matmul(v, v), v @ v, rtol=1e-12)


def test_matmul_names_its_operands_as_the_caller_asks():
    with pytest.raises(ValueError, match=r"^X has shape \(2, 3\) and W has shape \(2, 1\): X's"):
        _core.matmul(np.ones((2, 3)), np.ones((2, 1)), None, False, None, ("X", "W", "b"))
    with pytest.raises(ValueError, match=r"^bias has shape \(3,\) but b has shape \(3, 2\)"):
        _core.matmul(np.ones((2, 3)), np.ones((3, 2)), None, False, np.ones(3))
    with pytest.raises(TypeError, match="names must be None or a tuple of 3 strings"):
        _core.matmul(np.ones((2, 3)), np.ones((3, 2)), None, False, None, ("X",))


def test_column_sums_and_their_accumulation():
    a = rng.standard_normal((7, 3))
    sums = _core.column_sums(a)
    np.testing.assert_allclose(sums, a.sum(axis=0), rtol=1e-12)
    assert _core.column_sums(a.T).shape == (7,)
    assert _core.column_sums(a, sums, True) is sums
    np.testing.assert_allclose(sums, 2 * a.sum(axis=0), rtol=1e-12)


@pytest.mark.parametrize(
    ("name", "function", "derivative"),
    [
        ("sigmoid", lambda x: 1 / (1 + np.exp(-x)), lambda y: y * (1 - y)),
        ("tanh", np.tanh, lambda y: 1 - y * y),
        ("relu", lambda x: np.maximum(x, 0), lambda y: (y > 0).astype(float)),
    ],
)
def test_an_activations_halves_against_numpy(name, function, derivative):
    forward, backward = getattr(_core, f"{name}_forward"), getattr(_core, f"{name}_backward")
    x, G = rng.standard_normal((6, 5)), rng.standard_normal((6, 5))
    y = forward(x)
    np.testing.assert_allclose(y, function(x), rtol=1e-13)
    grad = backward(y, G)
    np.testing.assert_allclose(grad, derivative(y) * G, rtol=1e-13)
    assert backward(y, G, grad, True) is grad
    np.testing.assert_allclose(grad, 2 * derivative(y) * G, rtol=1e-13)
    with pytest.raises(ValueError, match=r"gradient arriving from its consumer has shape \(5, 6\)"):
        backward(y, G.T)


def test_the_mse_halves():
    y, a = rng.standard_normal(5), rng.standard_normal((5, 1))
    cost, diff = _core.mse_forward(y, a)
    assert diff.shape == (5, 1)
    np.testing.assert_allclose(cost, np.mean((y[:, None] - a) ** 2), rtol=1e-13)
    np.testing.assert_allclose(_core.mse_backward(diff, 1), 2 / 5 * diff, rtol=1e-13)
    grad = _core.mse_backward(diff, -1)
    np.testing.assert_allclose(grad, -2 / 5 * diff, rtol=1e-13)
    assert _core.mse_backward(diff, -1, grad, True) is grad
    np.testing.assert_allclose(grad, -4 / 5 * diff, rtol=1e-13)
    with pytest.raises(ValueError, match="sign must be 1"):
        _core.mse_backward(diff, 2)
