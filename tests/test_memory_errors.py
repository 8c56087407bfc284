"""Out of memory while converting an operand is a MemoryError naming it, not pybind11's
"Internal error" (its array_t::ensure clears numpy's error before the bindings can raise it)."""

import numpy as np
import pytest

from miniflow import Input, Linear, _core, forward_and_backward, topological_sort

# 2**40 int64 ones in no memory at all (one element, zero strides): converting them to
# float64 asks numpy for 8 TiB, which fails at once on any machine
HUGE = np.broadcast_to(np.int64(1), (2**20, 2**20))


class OutOfMemoryArray:
    """An array-like whose conversion runs out of memory."""

    def __array__(self, dtype=None, copy=None):
        raise MemoryError("no room for this array")


# the names a Linear gives its operands in the core's errors
LINEAR_SLOTS = ("X", "W", "b")


def test_a_failed_dtype_conversion_is_a_memory_error_naming_the_operand():
    with pytest.raises(MemoryError) as error:
        _core.matmul(HUGE, np.ones((2**20, 1)), None, False, np.ones(1), LINEAR_SLOTS)
    message = str(error.value)
    assert message.startswith("X: out of memory while converting its (1048576, 1048576) int64 ")
    assert "to float64" in message
    assert "8.00 TiB" in message
    assert isinstance(error.value.__cause__, MemoryError)


def test_an_array_like_out_of_memory_stays_a_memory_error():
    with pytest.raises(MemoryError, match=r"^W: out of memory .*no room for this array"):
        _core.matmul(np.ones((2, 2)), OutOfMemoryArray(), None, False, np.ones(1), LINEAR_SLOTS)


def test_other_conversion_failures_stay_value_errors():
    with pytest.raises(
        ValueError, match=r"^X cannot be read as an array of numbers: .*inhomogeneous"
    ):
        _core.matmul([[1, 2], [3]], np.ones((2, 1)), None, False, np.ones(1), LINEAR_SLOTS)


def test_in_a_graph_the_message_names_the_node_and_the_operand():
    X, W, b = Input(name="X"), Input(name="W"), Input(name="b")
    Linear(X, W, b, name="l1")
    graph = topological_sort({X: HUGE, W: np.ones((2**20, 1)), b: np.ones(1)})
    with pytest.raises(MemoryError, match=r"^Linear 'l1' forward: X: out of memory"):
        forward_and_backward(graph)
