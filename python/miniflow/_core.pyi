"""Type stubs for MiniFlow's private native module (the kernels of the C++ core)."""

from typing import Any

import numpy as np
import numpy.typing as npt

ArrayLike = npt.ArrayLike
Array = npt.NDArray[np.floating[Any]]

def linear_forward(x: ArrayLike, w: ArrayLike, b: ArrayLike, out: Any = None) -> Array:
    """X . W + b with numpy.dot's shape rules; writes into `out` when it fits."""

def linear_backward(
    x: ArrayLike,
    w: ArrayLike,
    grad: ArrayLike,
    buffers: tuple[Array | None, Array | None, Array | None] | None = None,
    accumulate: bool = False,
    wanted: tuple[bool, ...] | None = None,
) -> tuple[Array | None, Array | None, Array | None]:
    """Returns (grad . W^T, X^T . grad, column sums of grad), written into (or, with accumulate,
    added to) `buffers`, an earlier call's result, when they fit; then the very same tuple comes
    back. `wanted`, a tuple of 3 bools, skips outputs (None)."""

def sigmoid_forward(x: ArrayLike, out: Any = None) -> Array:
    """1 / (1 + exp(-x)), overflow-free."""

def sigmoid_backward(
    s: ArrayLike,
    grad: ArrayLike,
    buffers: tuple[Array | None] | None = None,
    accumulate: bool = False,
    wanted: tuple[bool, ...] | None = None,
) -> tuple[Array | None]:
    """Returns (s * (1 - s) * grad,), written into (or added to) `buffers`, an earlier call's
    result, when it fits; then the very same tuple comes back. `wanted`, a tuple of 1 bool,
    skips the output (None)."""

def mse_forward(y: ArrayLike, a: ArrayLike, out: Any = None) -> tuple[float, Array]:
    """Returns (mean((y - a)**2), y - a); the difference is (m, 1) for column-like inputs."""

def mse_backward(
    diff: ArrayLike,
    buffers: tuple[Array | None, Array | None] | None = None,
    accumulate: bool = False,
    wanted: tuple[bool, ...] | None = None,
) -> tuple[Array | None, Array | None]:
    """Returns (2/n * diff, -2/n * diff), written into (or added to) `buffers`, an earlier
    call's result, when they fit; then the very same tuple comes back. `wanted`, a tuple of 2
    bools, skips outputs (None)."""

def sgd_update(value: ArrayLike, grad: ArrayLike, learning_rate: float) -> Array | None:
    """value -= learning_rate * grad, in place when value is a writable C-ordered array of the
    computing dtype (else into a new array, returned); None, with nothing done, when grad's shape
    is not value's."""

def matmul(a: ArrayLike, b: ArrayLike, out: Any = None) -> Array:
    """a . b for 2-D arrays."""

def set_num_threads(count: int) -> None:
    """Threads used by large matrix products and elementwise passes, 1 to 4x the hardware
    threads (results are identical for any count)."""

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
