"""The graph's building blocks: the lesson's ``Node`` base class and ``Input``, and how a node
is named in errors."""

from __future__ import annotations

import itertools
import os
import sys
from collections.abc import Collection, Iterable, Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any, ClassVar

import numpy as np

from .gradients import GradientSum, consumers, skipped_gradients

__all__ = ["Node", "Input", "consumers", "inbound_names", "record_creation_sites"]

_creation_order = itertools.count()

# where each node was made, for check_finite's messages: on unless switched off
_recording_sites = True
_PACKAGE = os.path.dirname(os.path.abspath(__file__)) + os.sep


def record_creation_sites(enabled: bool) -> None:
    """Switch on (the default) or off the recording of where in your code each node is made
    (file and line, shown by ``check_finite``'s errors as ``made at script.py:12``). It costs
    one or two microseconds per node built, and nothing per training step."""
    global _recording_sites
    if not isinstance(enabled, (bool, np.bool_)):  # "no" or None would silently mean on/off
        raise TypeError(
            f"record_creation_sites(enabled) takes True or False, not {type(enabled).__name__} "
            f"{enabled!r:.40}"
        )
    _recording_sites = bool(enabled)


def _creation_site(node: Node) -> tuple[str, int] | None:
    """The file and line of the code outside MiniFlow that is making `node`: the package's
    frames are walked out of, and so is a learner's subclass's ``__init__`` (which calls
    ``Node.__init__``); a node MiniFlow makes for itself (the ``miniflow train`` network, run
    as ``python -m miniflow``) is placed at the package's line."""
    frame: FrameType | None = sys._getframe(2)  # the caller of Node.__init__
    inside = None
    while frame is not None:
        code = frame.f_code
        if code.co_filename.startswith(_PACKAGE):
            inside = frame
        elif code.co_name != "__init__" or frame.f_locals.get("self") is not node:
            if code.co_filename.startswith("<frozen") and inside is not None:
                break
            return code.co_filename, frame.f_lineno
        frame = frame.f_back
    return None if inside is None else (inside.f_code.co_filename, inside.f_lineno)


class Node:
    """Base class for nodes in the network.

    Args:
        inbound_nodes: the nodes with edges into this node.
        name: an optional name, used in error messages and ``repr``.

    Attributes:
        inbound_nodes: the nodes this node reads.
        outbound_nodes: the nodes that read this node (filled in as they are created).
        value: the node's output, ``None`` until ``forward()`` runs.
        gradients: after ``backward()``, the partial of the cost with respect to each inbound
            node, keyed by node (an Input keys its own gradient by itself).
        creation_site: ``(file, line)`` of the code that made it, outside MiniFlow (None when
            ``record_creation_sites(False)``); ``check_finite``'s errors name it.

    What the teaching tools (``explain``, ``check_gradients``, ``draw``, ``check_finite``) read
    about a kind of node is declared on its class; a learner's own subclass may declare the same
    and is treated like a built-in op (the defaults below describe a node that declares nothing):

    Class attributes:
        short_name: the lesson's letter for it in the tools' names (``l`` gives ``l1``, ``l2``);
            by default the class name in lower case.
        slot_names: the lesson's names of its inbound slots (``("X", "W", "b")``); an unnamed
            Input takes the name of the slot it fills.
        trainable_slots: the slots that hold trainable parameters (a Linear's W and b).
        is_cost: whether it is the cost, where backpropagation starts (G = 1); None (not
            declared): a node nobody reads is taken for the cost.
        kinks: the inputs where its derivative jumps (ReLU's 0), which finite differences must
            not straddle.
        skips_unneeded: whether ``backward(needed)`` takes the set of inbound nodes whose
            gradients are needed and computes only those (see ``forward_and_backward``'s
            ``trainables``); a node without it is run whole or not at all.
        zero_start_slots: the trainable slots whose parameters start at zero (a Linear's b):
            ``health`` judges them by the size of their updates, since an update:data ratio
            means nothing until they have moved.

    An activation may also declare ``saturated(value)``, a static method giving the boolean
    mask of its units that pass (almost) no gradient, with ``saturation_word`` (``"dead"``
    for a ReLU; ``"saturated"`` by default) and ``saturation_advice``: ``health`` reports
    the share of such units.
    """

    short_name: ClassVar[str | None] = None
    slot_names: ClassVar[tuple[str, ...]] = ()
    trainable_slots: ClassVar[tuple[int, ...]] = ()
    is_cost: ClassVar[bool | None] = None
    kinks: ClassVar[tuple[float, ...]] = ()
    skips_unneeded: ClassVar[bool] = False
    zero_start_slots: ClassVar[tuple[int, ...]] = ()

    def __init__(self, inbound_nodes: Iterable[Node] = (), name: str | None = None) -> None:
        self.inbound_nodes: list[Node] = list(inbound_nodes)
        self.outbound_nodes: list[Node] = []
        self.value: Any = None
        self.gradients: dict[Node, Any] = {}
        self.name = name
        self._index = next(_creation_order)
        self.creation_site = _creation_site(self) if _recording_sites else None
        for node in self.inbound_nodes:
            node.outbound_nodes.append(self)

    def forward(self) -> None:
        """Compute ``self.value`` from the inbound nodes' values."""
        raise NotImplementedError

    def backward(self) -> None:
        """Fill ``self.gradients`` from the consumers' gradients (the chain rule)."""
        raise NotImplementedError

    def local_derivatives(self, names: dict[Node, str], cost: str) -> list[str]:
        """Its local derivatives in the lesson's notation, one line each (``∂s1/∂l1 =
        s1·(1 − s1)``), with the nodes called by `names` and the cost by `cost`; [] when the
        class does not say (a learner's own node)."""
        return []

    @property
    def label(self) -> str:
        """How errors name this node: its type and its name (or creation number)."""
        kind = type(self).__name__
        name = getattr(self, "name", None)
        return f"{kind} '{name}'" if name else f"{kind} #{getattr(self, '_index', '?')}"

    def __repr__(self) -> str:
        parts = [f"<{self.label}", f"value {_shape_text(self.value)}"]
        if self.gradients:
            grads = ", ".join(
                f"{getattr(node, 'label', node)}: {_shape_text(grad)}"
                for node, grad in self.gradients.items()
            )
            parts.append(f"gradients {{{grads}}}")
        return " ".join(parts) + ">"


def _shape_text(value: Any) -> str:
    if value is None:
        return "None"
    shape = np.shape(value)
    return "scalar" if shape == () else str(shape)


# what a kernel raises for bad operands (or no memory to convert them): restated with the node
KERNEL_ERRORS = (ValueError, TypeError, MemoryError)


def _restated(node: Node, step: str, error: Exception) -> Exception:
    """A kernel's ValueError, TypeError or MemoryError, restated with the node and step that
    failed; an inbound node that never got a value is named instead, since that is the cause."""
    for inbound in node.inbound_nodes:
        if inbound.value is None:
            return ValueError(
                f"{inbound.label} has no value when {node.label} runs {step}(): "
                "add it to feed_dict (or set its .value) before running the graph"
            )
    kind = next(kind for kind in KERNEL_ERRORS if isinstance(error, kind))  # not a subclass
    if str(error).startswith(node.label):
        return error  # it names the node already
    return kind(f"{node.label} {step}: {error}")


@contextmanager
def _errors_restated(node: Node, step: str) -> Iterator[None]:
    """Restate a kernel's error raised inside the block with `_restated`."""
    try:
        yield
    except KERNEL_ERRORS as error:
        raise _restated(node, step, error) from None


def inbound_names(node: Node, names: dict[Node, str]) -> list[str]:
    """What `names` calls each of a node's inbound nodes (its label when unnamed), in slot
    order: the arguments in the teaching tools' formulas."""
    return [names.get(n, n.label) for n in node.inbound_nodes]


def _inbound_values(node: Node) -> list[Any]:
    """The inbound values, or an error naming the Input that was never given one."""
    values = [inbound.value for inbound in node.inbound_nodes]
    if any(value is None for value in values):
        raise _restated(node, "forward", ValueError())
    return values


class Input(Node):
    """A value fed from outside: data, a target, or a trainable weight.

    Its value is set by ``topological_sort(feed_dict)`` or by ``node.value = ...``; its gradient
    ``node.gradients[node]`` is the sum of what every consumer sends back (0 with no consumer).
    """

    is_cost = False
    skips_unneeded = True

    def __init__(self, name: str | None = None) -> None:
        Node.__init__(self, name=name)
        self.gradient_sum = GradientSum(self)  # its arrays carry over from step to step
        self._passed_on: dict[Node, Any] = {}  # its gradients when one consumer's G is passed on

    def forward(self) -> None:
        # nothing to compute: the value was fed
        pass

    def backward(self, needed: Collection[Node] | None = None) -> None:
        # ∂self/∂self = 1: its gradient is the sum of what every consumer sent back
        outbound = self.outbound_nodes
        if needed is not None and self not in needed:  # data or a target: nothing to sum
            self.gradients = skipped_gradients((self,))
        elif len(outbound) == 1 and (G := outbound[0].gradients.get(self)) is not None:
            # one term, passed on as it is, in the same dict every step (no new one per step)
            self._passed_on[self] = G
            self.gradients = self._passed_on
        else:
            d = self.gradient_sum
            for G in d.upstream(needed):
                d.add_array(self, G)
            self.gradients = d.gradients()

    def local_derivatives(self, names: dict[Node, str], cost: str) -> list[str]:
        me = names.get(self, self.label)
        if len(consumers(self)) > 1:
            return [f"∂{cost}/∂{me} = sum of what its consumers sent"]
        return [f"∂{me}/∂{me} = 1, so ∂{cost}/∂{me} = G"]
