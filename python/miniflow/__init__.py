"""MiniFlow: the backpropagation lesson's tiny TensorFlow-1-style library, on a C++ core.

Build a graph of ``Input``, ``Linear``, ``Sigmoid`` (or ``Tanh``, ``ReLU``) and ``MSE``
nodes, sort it with ``topological_sort(feed_dict)``, then ``forward_and_backward(graph)`` and
``sgd_update(trainables)``. ``from miniflow import *`` gives the lesson's names plus the
teaching tools (``explain``, ``check_gradients``, ``draw``, ``to_dot``, ``to_mermaid``,
``step_through``, ``NonFiniteError``, ``health``, ``HealthMonitor``), and ``np``: the lesson's
``miniflow.py`` did ``import numpy as np`` with no ``__all__``, so learners' scripts call
``np.array`` after the star import alone.
"""

import warnings
from importlib import metadata as _metadata

import numpy as np

from . import _core
from ._core import get_num_threads, isa, set_num_threads
from .activations import ReLU, Sigmoid, Tanh
from .draw import draw, to_dot, to_mermaid
from .explain import explain
from .finite import NonFiniteError
from .gradcheck import check_gradients
from .graph import forward_and_backward, forward_pass, sgd_update, topological_sort
from .health import health
from .layers import MSE, Linear
from .monitor import HealthMonitor
from .node import Input, Node, record_creation_sites
from .quiz import Add, Mul
from .step_through import step_through

# the version lives in pyproject.toml alone; the installed metadata carries it here
__version__ = _metadata.version("miniflow-backprop")


# the core ignores a MINIFLOW_ISA it does not know and runs its best kernels: say so, once
def _warn_about_unknown_isa() -> None:
    requested, recognised = _core.isa_request()
    if not recognised:
        warnings.warn(
            f"MINIFLOW_ISA={requested!r} is not one of {', '.join(_core.isa_names())}; "
            f"ignored, the kernels use {isa()}",
            RuntimeWarning,
            stacklevel=3,
        )


_warn_about_unknown_isa()

# a MINIFLOW_NUM_THREADS the core could not use is said once, never silently ignored
if _core.num_threads_env_problem():
    warnings.warn(_core.num_threads_env_problem(), RuntimeWarning, stacklevel=2)

__all__ = [
    "np",  # the lesson's star import gave numpy too, and learners' scripts rely on it
    "Node",
    "Input",
    "Linear",
    "Sigmoid",
    "Tanh",
    "ReLU",
    "MSE",
    "Add",
    "Mul",
    "topological_sort",
    "forward_and_backward",
    "forward_pass",
    "sgd_update",
    "set_num_threads",
    "get_num_threads",
    "isa",
    "explain",
    "check_gradients",
    "draw",
    "to_dot",
    "to_mermaid",
    "step_through",
    "NonFiniteError",
    "health",
    "HealthMonitor",
    "record_creation_sites",
]
