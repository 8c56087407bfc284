"""Type stubs for MiniFlow's private native module (the kernels of the C++ core)."""

from typing import Any, Optional, Tuple

import numpy as np
import numpy.typing as npt

ArrayLike = npt.ArrayLike
Buffer = Optional[npt.NDArray[np.floating[Any]]]

def linear_forward(x: ArrayLike, w: ArrayLike, b: ArrayLike, out: Any = None) -> npt.NDArray[np.floating[Any]]:
    """X . W + b with numpy.dot's shape rules; writes into `out` when it fits."""

def linear_backward(
    x: ArrayLike, w: ArrayLike, grad: ArrayLike, grad_x: Buffer, grad_w: Buffer, grad_b: Buffer,
    accumulate: bool,
) -> None:
    """Writes (or adds) grad . W^T, X^T . grad and grad's column sums into the buffers."""

def sigmoid_forward(x: ArrayLike, out: Any = None) -> npt.NDArray[np.floating[Any]]:
    """1 / (1 + exp(-x)), overflow-free."""

def sigmoid_backward(s: ArrayLike, grad: ArrayLike, grad_x: Buffer, accumulate: bool) -> None:
    """Writes (or adds) s * (1 - s) * grad into grad_x."""

def mse_forward(y: ArrayLike, a: ArrayLike, out: Any = None) -> Tuple[float, npt.NDArray[np.floating[Any]]]:
    """Returns (mean((y - a)**2), y - a); the difference is (m, 1) for column-like inputs."""

def mse_backward(diff: ArrayLike, grad_y: Buffer, grad_a: Buffer, accumulate: bool) -> None:
    """Writes (or adds) 2/n * diff into grad_y and -2/n * diff into grad_a."""

def sgd_update(value: ArrayLike, grad: ArrayLike, learning_rate: float) -> npt.NDArray[np.floating[Any]]:
    """value -= learning_rate * grad, in place when value is a writable float array."""

def matmul(a: ArrayLike, b: ArrayLike, out: Any = None) -> npt.NDArray[np.floating[Any]]:
    """a . b for 2-D arrays."""

def set_num_threads(count: int) -> None:
    """Threads used by large matrix products (results are identical for any count)."""

def get_num_threads() -> int:
    """Threads used by large matrix products."""

def isa() -> str:
    """The vector instruction set the kernels run with on this CPU."""
