"""What a built-in operation is: a ``Node`` whose arithmetic runs in the core's primitives.

Each op is one class (``layers.py``, ``activations.py``, ``quiz.py``) holding its ``forward()``,
its ``backward()`` (the chain rule, summed with ``GradientSum``) and what the teaching tools
read about it (see ``Node``'s class attributes). A learner's own op is a ``Node`` subclass that
may declare the same.

How an op reuses its arrays (so that once shapes settle a training step makes no new arrays):
``forward()`` passes its last ``value`` to the kernel as ``out``, which writes into it when it
still fits (same shape and dtype, writable, not overlapping an input) and otherwise returns a
new array; ``backward()`` adds its terms with its ``GradientSum``, which does the same with last
step's gradients (see ``gradients.py``). Copy a value or gradient you want to keep, since the
next step overwrites it.
"""

from __future__ import annotations

from collections.abc import Sequence

from .gradients import GradientSum
from .node import Node


class Op(Node):
    """Base class of the built-in operations.

    Its kernels' ValueError, TypeError and MemoryError are restated with the op's name and step
    by the graph functions; ``backward(needed)`` computes only the gradients in `needed`.
    """

    is_cost = False
    skips_unneeded = True

    def __init__(self, inbound_nodes: Sequence[Node], name: str | None = None) -> None:
        Node.__init__(self, inbound_nodes, name=name)
        self.gradient_sum = GradientSum(self)  # its arrays carry over from step to step


def builtin_op_named(name: str) -> type[Op] | None:
    """The built-in op class called `name` (``"Sigmoid"``), if there is one."""
    found = [Op]
    for kind in found:  # grows: every subclass, however deep
        if kind.__name__ == name and kind.__module__.startswith("miniflow."):
            return kind
        found.extend(kind.__subclasses__())
    return None
