"""Type stubs for MiniFlow's private native module (the primitives of the C++ core).

Checked against the compiled module by tests/test_core_stubs.py: the same functions, the same
parameters and the same docstrings (written once, in cpp/bindings/module.cpp).
"""

from typing import Any

import numpy as np
import numpy.typing as npt

ArrayLike = npt.ArrayLike
Array = npt.NDArray[np.floating[Any]]

def matmul(
    a: ArrayLike,
    b: ArrayLike,
    out: Array | None = None,
    accumulate: bool = False,
    bias: ArrayLike | None = None,
    names: tuple[str, str, str] | None = None,
) -> Array:
    """a . b (+ bias, one value per column of b) with numpy.dot's rules for vectors, written into
    `out` when it fits (added to it with accumulate); `names` (3 strings) name a, b and bias in
    errors."""

def column_sums(a: ArrayLike, out: Array | None = None, accumulate: bool = False) -> Array:
    """The sum of each column of a (a 1-D a is one row), written into `out` when it fits (added to
    it with accumulate)."""

def sigmoid_forward(x: ArrayLike, out: Array | None = None) -> Array:
    """1 / (1 + exp(-x)), overflow-free, elementwise; written into `out` when it fits."""

def sigmoid_backward(
    value: ArrayLike, grad: ArrayLike, out: Array | None = None, accumulate: bool = False
) -> Array:
    """value * (1 - value) * grad, written into `out` when it fits (added to it with accumulate);
    value is the forward output."""

def tanh_forward(x: ArrayLike, out: Array | None = None) -> Array:
    """tanh(x), elementwise; written into `out` when it fits."""

def tanh_backward(
    value: ArrayLike, grad: ArrayLike, out: Array | None = None, accumulate: bool = False
) -> Array:
    """(1 - value**2) * grad, written into `out` when it fits (added to it with accumulate); value
    is the forward output."""

def relu_forward(x: ArrayLike, out: Array | None = None) -> Array:
    """max(x, 0) (-0 gives +0), elementwise; written into `out` when it fits."""

def relu_backward(
    value: ArrayLike, grad: ArrayLike, out: Array | None = None, accumulate: bool = False
) -> Array:
    """(value > 0) (0 at 0) * grad, written into `out` when it fits (added to it with accumulate);
    value is the forward output."""

def mse_forward(y: ArrayLike, a: ArrayLike, out: Array | None = None) -> tuple[float, Array]:
    """(mean((y - a)**2), y - a); the difference is (m, 1) for column-like inputs and is written
    into `out` when it fits."""

def mse_backward(
    diff: ArrayLike, sign: int, out: Array | None = None, accumulate: bool = False
) -> Array:
    """sign * 2/n * diff (sign 1: the target's gradient, -1: the output's), written into `out` when
    it fits (added to it with accumulate)."""

def sgd_update(value: ArrayLike, grad: ArrayLike, learning_rate: float) -> Array | None:
    """value -= learning_rate * grad, in place when value is a writable C-ordered array of the
    computing dtype (else into a new array, returned); None, with nothing done, when grad's
    shape is not value's."""

def set_num_threads(count: int) -> None:
    """Threads used by large matrix products and elementwise passes, 1 to 4x the hardware threads
    (results are identical for any count)."""

def get_num_threads() -> int:
    """Threads used by large matrix products and elementwise passes."""

def num_threads_env_problem() -> str:
    """Why MINIFLOW_NUM_THREADS was not used as it stands, or '' when it was (or is unset)."""

def isa() -> str:
    """The vector instruction set the kernels run with on this CPU."""

def isa_names() -> list[str]:
    """The values MINIFLOW_ISA accepts on this architecture, least capable first."""

def isa_request() -> tuple[str, bool]:
    """(MINIFLOW_ISA as read when the kernels were chosen, whether it was one of isa_names())."""
